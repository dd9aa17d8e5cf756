"""Per-document result cache on disk.

An entry is keyed by the hash of a document's raw bytes (plus any options that change its result)
and filed under a *version*: a hash of the pipeline's code, of every data file in ``helpers/data/``
(lexicon, stopword lists, indicator catalogue, cleaning tables) and of the libraries that shape
results. Editing the lexicon changes the version, so every document is recomputed; changing nothing
recomputes nothing. Entries live in one SQLite file per version, each written in its own
transaction, and carry a checksum: a damaged entry (or database) is reported and recomputed, never
fatal. A cache that cannot be used at all (a read-only folder, a file where its folder should be, a
folder where its database should be) is reported in one warning line and the run goes on without
it: :func:`open_cache` gives None, and a cache that fails later stops storing and finds nothing.

Entries are pickles, but every DataFrame in them is stored as a :class:`FrameEntry`: an Arrow
table (repeated strings such as ids dictionary-encoded; the entry LZ4-compressed) plus the pandas dtype of
each column, from which the same DataFrame is rebuilt. A warm run can also take the Arrow tables
as they are (``decode(blob, frames="arrow")``) and write output files from them without pandas.

>>> import tempfile
>>> cache = DocumentCache(tempfile.mkdtemp(), version="demo")
>>> key = cache.key("二〇二二年法治政府建设情况".encode())
>>> cache.get(key) is MISSING
True
>>> cache.put(key, {"n_sentences": 3})
>>> cache.get(key)
{'n_sentences': 3}
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import logging
import os
import pickle
import shutil
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers import config

log = logging.getLogger(__name__)

# Modules whose code decides a document's cached result; editing any of them starts a new version.
VERSIONED_MODULES = (
    "corpus", "clean", "structure", "metadata", "segment", "terms", "quantities", "indicators",
    "pipeline", "schema", "cache",
)
# Installed libraries whose upgrade may change results (tokens, conversions) or the stored format.
VERSIONED_LIBRARIES = ("jieba", "jieba_fast", "jieba-next", "opencc", "cn2an", "charset-normalizer", "pandas", "numpy",
                       "pyarrow")
# Entry layout: magic, CRC-32 of the body (catches damage, not tampering; fast), body: the size of
# the pickled payload (8 bytes) and the payload compressed with LZ4 in one call (compressing each
# Arrow buffer apart, or with zstd, costs a warm run more time to read than it saves on disk).
_MAGIC = b"FZC3"
_SIZE_BYTES = 8
_DIGEST_SIZE = 4
ENTRIES_DIR = "documents"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by :meth:`DocumentCache.get` when there is no usable entry (``None`` is a valid value)."""


class CorruptEntry(ValueError):
    """A cache entry that cannot be read back."""


def content_hash(data: bytes | str) -> str:
    """SHA-256 hex digest of raw bytes (text is encoded as UTF-8).

    >>> content_hash(b"abc")[:12]
    'ba7816bf8f01'
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _hash_files(paths: Iterable[Path], *, root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def data_files(data_dir: str | Path | None = None) -> list[Path]:
    """Every file under ``data_dir`` (default ``helpers/data/``), hidden files and caches left out."""
    root = Path(data_dir) if data_dir is not None else config.PACKAGE_DATA
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
    )


def data_version(data_dir: str | Path | None = None) -> str:
    """Hash of the names and contents of the data files (lexicon, stopwords, catalogue, cleaning tables)."""
    root = Path(data_dir) if data_dir is not None else config.PACKAGE_DATA
    return _hash_files(data_files(root), root=root)


def code_version(modules: Iterable[str] = VERSIONED_MODULES) -> str:
    """Hash of the source of the pipeline modules that exist."""
    paths = [config.PACKAGE_DIR / f"{name}.py" for name in modules]
    return _hash_files([p for p in paths if p.is_file()], root=config.PACKAGE_DIR)


def library_versions(names: Iterable[str] = VERSIONED_LIBRARIES) -> dict[str, str]:
    """Installed version of each library ("absent" when it is not installed)."""
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def pipeline_version(*, data_dir: str | Path | None = None, extra: str = "") -> str:
    """One short hash of code, data files and library versions; ``extra`` folds in run options.

    >>> len(pipeline_version())
    16
    """
    libs = ";".join(f"{k}={v}" for k, v in sorted(library_versions().items()))
    parts = [code_version(), data_version(data_dir), libs, extra]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- compact DataFrames
# A string column of a table with at least DICTIONARY_MIN_ROWS rows is dictionary-encoded when
# it has at most DICTIONARY_MAX_SHARE distinct values (ids repeated on every token row); smaller
# tables are not worth the time (compression takes care of their repeats).
DICTIONARY_MIN_ROWS = 256
DICTIONARY_MAX_SHARE = 0.5
_CODEC = None


def _codec() -> "pa.Codec":
    global _CODEC
    if _CODEC is None:
        _CODEC = pa.Codec("lz4")
    return _CODEC


def _storable_dtype(dtype) -> bool:
    """Whether a column of this dtype can go through Arrow and back unchanged: numbers, booleans,
    pandas strings, and object columns (when they hold only text and None, see ``from_frame``)."""
    return isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind in "iufbO")


def _text_or_none(array: np.ndarray, arrow_type) -> bool:
    """An object column Arrow read as text holds only str and None: its missing values must be
    None (Arrow would bring NaN back as None)."""
    if not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
            or pa.types.is_null(arrow_type)):
        return False
    missing = pd.isna(array)
    return not missing.any() or all(v is None for v in array[missing])


def _column_arrays(frame: pd.DataFrame):
    """The arrays behind ``frame``'s columns, in order. pandas' own iterator skips building a
    Series per column (half of converting a report's tables); public column access otherwise."""
    own = getattr(frame, "_iter_column_arrays", None)
    return own() if own is not None else (frame.iloc[:, i].array for i in range(frame.shape[1]))


class FrameEntry:
    """A DataFrame as the cache stores it: an Arrow ``table`` and the pandas ``dtypes`` of its
    columns (``to_frame`` rebuilds the same DataFrame), or, for a DataFrame Arrow cannot carry
    unchanged, the ``frame`` itself.

    >>> entry = FrameEntry.from_frame(pd.DataFrame({"doc_id": ["d", "d"], "n": [1, 2]}))
    >>> entry.num_rows, entry.to_frame()["n"].tolist()
    (2, [1, 2])
    """

    __slots__ = ("table", "dtypes", "frame")

    def __init__(self, table: pa.Table | None, dtypes: tuple | None, frame: pd.DataFrame | None = None) -> None:
        self.table, self.dtypes, self.frame = table, dtypes, frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "FrameEntry":
        """The Arrow form of ``frame`` when it round-trips exactly (a default index, unique text
        column names, storable dtypes), else an entry that holds ``frame`` as it is."""
        index = frame.index
        plain_index = (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
                       and index.name is None)
        columns = list(frame.columns)
        dtypes = tuple(zip(columns, frame.dtypes))
        if (type(frame) is not pd.DataFrame or not plain_index or frame.attrs
                or not all(type(c) is str for c in columns) or len(set(columns)) != len(columns)
                or not all(_storable_dtype(dtype) for _, dtype in dtypes)):
            return cls(None, None, frame)
        arrays = []
        try:
            for (name, dtype), values in zip(dtypes, _column_arrays(frame)):
                if isinstance(dtype, pd.StringDtype):
                    array = pa.array(values)  # the column's own Arrow data, as pyarrow would convert it
                else:
                    # As pyarrow converts pandas data: NaN and None become nulls.
                    values = np.asarray(values)
                    array = pa.array(values, from_pandas=True)
                    if dtype == object and not _text_or_none(values, array.type):
                        return cls(None, None, frame)
                arrays.append(array)
        except (pa.ArrowException, TypeError, ValueError):
            return cls(None, None, frame)
        return cls(pa.table(arrays, names=columns), dtypes)

    @property
    def num_rows(self) -> int:
        return len(self.frame) if self.table is None else self.table.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns) if self.table is None else [c for c, _ in self.dtypes]

    def to_frame(self) -> pd.DataFrame:
        """The DataFrame, with the dtypes it was stored with."""
        if self.table is None:
            return self.frame
        data = {}
        for (name, dtype), column in zip(self.dtypes, self.table.columns):
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            if isinstance(dtype, pd.StringDtype):
                data[name] = dtype.__from_arrow__(column)
            elif dtype.kind == "O":
                values = column.to_numpy(zero_copy_only=False)
                if values.dtype != object:  # an all-null column comes back as floats
                    values = np.full(len(column), None, dtype=object)
                # A Series, or pandas would infer its strings as the str dtype.
                data[name] = pd.Series(values, dtype=object, copy=False)
            else:
                data[name] = column.to_numpy().astype(dtype, copy=False)
        frame = pd.DataFrame(data, columns=[c for c, _ in self.dtypes], copy=False)
        if not data:
            frame.index = pd.RangeIndex(self.table.num_rows)
        return frame

    def to_bytes(self) -> bytes:
        """Arrow IPC stream of the table, repeated strings dictionary-encoded."""
        table, rows = self.table, self.table.num_rows
        columns = []
        for column in table.columns:
            text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            if text and rows >= DICTIONARY_MIN_ROWS:
                encoded = column.combine_chunks().dictionary_encode()
                if len(encoded.dictionary) <= DICTIONARY_MAX_SHARE * rows:
                    column = encoded
            columns.append(column)
        table = pa.table(columns, names=table.column_names)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue()


def _frame_entry(data: bytes, dtypes: tuple) -> FrameEntry:
    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    return FrameEntry(table, dtypes)


def _frame_from_arrow(data: bytes, dtypes: tuple) -> pd.DataFrame:
    """Unpickling: a stored DataFrame back as the same DataFrame."""
    return _frame_entry(data, dtypes).to_frame()


# Column dtypes by their pickle: every entry names the same few dtypes, and rebuilding a pandas
# string dtype for every column of every entry was a tenth of reading a warm cache.
_DTYPES: dict[bytes, Any] = {}


class _Pickler(pickle.Pickler):
    """Pickles every DataFrame that Arrow carries unchanged as its compact Arrow form, and each
    dtype by reference to one shared object (see ``_Unpickler``)."""

    def persistent_id(self, obj):
        if isinstance(obj, (np.dtype, pd.api.extensions.ExtensionDtype)):
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        return None

    def reducer_override(self, obj):
        if type(obj) is pd.DataFrame:
            entry = FrameEntry.from_frame(obj)
            if entry.table is not None:
                return _frame_from_arrow, (entry.to_bytes(), entry.dtypes)
        elif type(obj) is FrameEntry and obj.table is not None:
            return _frame_from_arrow, (obj.to_bytes(), obj.dtypes)
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    """Reads what ``_Pickler`` wrote: equal dtypes come back as one object."""

    def persistent_load(self, pid):
        dtype = _DTYPES.get(pid)
        if dtype is None:
            dtype = pickle.loads(pid)
            if len(_DTYPES) < 256:  # a handful in practice; categoricals could be many
                _DTYPES[pid] = dtype
        return dtype


class _ArrowUnpickler(_Unpickler):
    """Unpickles stored DataFrames as :class:`FrameEntry` (Arrow tables) instead."""

    def find_class(self, module: str, name: str):
        if module == __name__ and name == "_frame_from_arrow":
            return _frame_entry
        return super().find_class(module, name)


def encode(value: Any) -> bytes:
    """Serialise ``value`` as a cache entry (checksummed pickle; DataFrames in Arrow form)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    payload = buffer.getvalue()
    body = len(payload).to_bytes(_SIZE_BYTES, "big") + _codec().compress(payload, asbytes=True)
    return _MAGIC + zlib.crc32(body).to_bytes(_DIGEST_SIZE, "big") + body


def decode(blob: bytes, *, frames: str = "pandas") -> Any:
    """Read an entry made by :func:`encode`; raise :class:`CorruptEntry` when it is damaged.

    ``frames="arrow"`` gives each stored DataFrame as a :class:`FrameEntry` (no pandas work).
    """
    head = len(_MAGIC) + _DIGEST_SIZE
    if len(blob) < head + _SIZE_BYTES or not blob.startswith(_MAGIC):
        raise CorruptEntry("not a cache entry (bad header)")
    body = memoryview(blob)[head:]
    if zlib.crc32(body).to_bytes(_DIGEST_SIZE, "big") != blob[len(_MAGIC):head]:
        raise CorruptEntry("checksum mismatch")
    try:
        size = int.from_bytes(body[:_SIZE_BYTES], "big")
        payload = _codec().decompress(body[_SIZE_BYTES:], decompressed_size=size, asbytes=True)
    except (pa.ArrowException, ValueError) as exc:
        raise CorruptEntry(f"cannot decompress: {exc!r}") from exc
    try:
        if frames == "arrow":
            return _ArrowUnpickler(io.BytesIO(payload)).load()
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception as exc:  # a version-skewed pickle fails in many ways; all mean "recompute"
        raise CorruptEntry(f"cannot unpickle: {exc!r}") from exc


class DocumentCache:
    """Results of per-document work, in one SQLite file per version:
    ``folder/documents/<version>/entries.sqlite``.

    One table row per entry rather than one file: creating a file costs more than writing 100 KB
    into it on common file systems (about 0.7 ms against 0.1 ms here), a report has four entries,
    and a national corpus would mean hundreds of thousands of files. Each ``put`` is its own
    transaction (SQLite's write-ahead log: atomic, several processes may read and write at once).
    A damaged entry is logged, deleted and recomputed; a damaged database file is set aside
    (``entries.sqlite.damaged``) and started afresh. ``version`` defaults to
    :func:`pipeline_version` (of ``data_dir`` when given); ``hits``, ``misses`` and ``corrupt``
    count this instance's look-ups.
    """

    DB_NAME = "entries.sqlite"

    def __init__(self, folder: str | Path, *, version: str | None = None,
                 data_dir: str | Path | None = None) -> None:
        self.folder = Path(folder)
        self.version = version or pipeline_version(data_dir=data_dir)
        self.root = self.folder / ENTRIES_DIR / self.version
        self.db_path = self.root / self.DB_NAME
        self.hits = self.misses = self.corrupt = 0
        self.unavailable: str | None = None  # why the cache cannot be used, once it cannot
        self._connection = None
        self._pid = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DocumentCache({str(self.folder)!r}, version={self.version!r})"

    def __getstate__(self) -> dict:  # a connection never crosses a process boundary
        state = dict(self.__dict__)
        state.update(_connection=None, _pid=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @staticmethod
    def key(content: bytes | str, *options: Any) -> str:
        """Entry key: the content hash, extended by the ``repr`` of any options that change the result."""
        key = content_hash(content)
        if options:
            key = content_hash(key + "\0" + "\0".join(repr(o) for o in options))
        return key

    # ---- the database
    def _connect(self):
        self.root.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.db_path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose entries, never corrupt
            connection.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    def _set_aside(self, exc: Exception) -> None:
        """The database file cannot be read: keep it for inspection, start an empty one."""
        log.warning("cache database %s is damaged (%s); set aside, entries will be recomputed", self.db_path, exc)
        self._close()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        if self.db_path.exists():
            os.replace(self.db_path, self.db_path.with_name(self.DB_NAME + ".damaged"))

    def _execute(self, sql: str, parameters: tuple = ()) -> list:
        """Run one statement (connecting first, again after a fork) and fetch its rows; a damaged
        database is set aside and the statement run on a fresh one. A cache that cannot be used
        (see :meth:`usable`) returns no rows."""
        with self._lock:
            for attempt in (1, 2):
                if self.unavailable is not None:
                    return []
                try:
                    if self._connection is None or self._pid != os.getpid():
                        self._connection, self._pid = self._connect(), os.getpid()
                    return self._connection.execute(sql, parameters).fetchall()
                except sqlite3.DatabaseError as exc:
                    # "file is not a database", "disk image is malformed": damage, set aside once;
                    # a locked, read-only or unopenable file (OperationalError) is not
                    if attempt == 1 and type(exc) is sqlite3.DatabaseError:
                        try:
                            self._set_aside(exc)
                        except OSError as failed:
                            self._give_up(failed)
                        continue
                    self._give_up(exc)
                except (sqlite3.Error, OSError) as exc:
                    self._give_up(exc)
            return []

    def _give_up(self, exc: Exception) -> None:
        """The cache cannot be used: one warning, then no entry is stored or found."""
        self.unavailable = f"{type(exc).__name__}: {exc}"
        log.warning("cache %s cannot be used (%s); continuing without a cache", self.folder, self.unavailable)
        try:
            self._close()
        except sqlite3.Error:
            self._connection = self._pid = None

    def usable(self) -> bool:
        """Open the database now and check it can be written (a read-only folder fails here);
        False, after one warning, when it cannot be used."""
        self._execute("BEGIN IMMEDIATE")
        if self.unavailable is None:
            self._execute("ROLLBACK")
        return self.unavailable is None

    def _close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = self._pid = None

    def _absent(self) -> bool:
        """No database yet (nothing stored): look-ups need not create one. While connected the
        file is not looked for again (a stat per look-up)."""
        return self.unavailable is not None or (self._connection is None and not self.db_path.exists())

    def close(self) -> None:
        """Close the database (it is reopened on the next call)."""
        with self._lock:
            self._close()

    # ---- entries
    def raw(self, key: str) -> bytes | None:
        """The stored bytes of an entry as :func:`encode` made them, or None."""
        if self._absent():
            return None
        rows = self._execute("SELECT value FROM entries WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def get(self, key: str, *, frames: str = "pandas") -> Any:
        """The stored value, or :data:`MISSING` (a damaged entry is logged and deleted).
        ``frames="arrow"``: stored DataFrames come back as :class:`FrameEntry`."""
        return self._value(key, self.raw(key), frames=frames)

    def get_many(self, keys: list[str], *, frames: str = "pandas") -> dict[str, Any]:
        """:meth:`get` of each key, with one query for all."""
        rows = []
        if keys and not self._absent():
            marks = ",".join("?" * len(keys))
            rows = self._execute(f"SELECT key, value FROM entries WHERE key IN ({marks})", tuple(keys))
        blobs = {key: bytes(value) for key, value in rows}
        return {key: self._value(key, blobs.get(key), frames=frames) for key in keys}

    def _value(self, key: str, blob: bytes | None, *, frames: str) -> Any:
        if blob is None:
            self.misses += 1
            return MISSING
        try:
            value = decode(blob, frames=frames)
        except CorruptEntry as exc:
            log.warning("cache entry %s in %s is damaged (%s); recomputing it", key, self.db_path, exc)
            self._execute("DELETE FROM entries WHERE key = ?", (key,))
            self.corrupt += 1
            self.misses += 1
            return MISSING
        self.hits += 1
        return value

    def put_encoded(self, key: str, blob: bytes) -> None:
        """Store an entry already made by :func:`encode` (e.g. in a worker process), atomically:
        a reader sees the old entry or the new one, never half of it."""
        self._execute("INSERT OR REPLACE INTO entries (key, value) VALUES (?, ?)", (key, blob))

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (see :meth:`put_encoded`)."""
        self.put_encoded(key, encode(value))

    def get_or_compute(self, key: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``get(key)``, or ``func(*args, **kwargs)`` stored under ``key``."""
        value = self.get(key)
        if value is MISSING:
            value = func(*args, **kwargs)
            self.put(key, value)
        return value

    def __contains__(self, key: str) -> bool:
        if self._absent():
            return False
        return bool(self._execute("SELECT 1 FROM entries WHERE key = ?", (key,)))

    def present(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are stored (one query for all)."""
        if not keys or self._absent():
            return set()
        marks = ",".join("?" * len(keys))
        return {row[0] for row in self._execute(f"SELECT key FROM entries WHERE key IN ({marks})", tuple(keys))}

    def keys(self) -> list[str]:
        """Every key stored under this version."""
        return [row[0] for row in self._execute("SELECT key FROM entries")] if self.db_path.exists() else []

    def __len__(self) -> int:
        rows = self._execute("SELECT COUNT(*) FROM entries") if self.db_path.exists() else []
        return rows[0][0] if rows else 0

    def prune(self) -> int:
        """Delete the entries of every other version; return how many version folders went."""
        parent = self.folder / ENTRIES_DIR
        if not parent.is_dir():
            return 0
        stale = [p for p in parent.iterdir() if p.is_dir() and p.name != self.version]
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        return len(stale)


def open_cache(cache: "DocumentCache | str | os.PathLike | bool | None", *, default_folder: str | Path,
               data_dir: str | Path | None = None) -> DocumentCache | None:
    """Normalise a ``cache=`` option: ``True``/``None`` = ``default_folder``; ``False`` = no cache;
    a path = that folder; a :class:`DocumentCache` as it is. A cache that cannot be opened for
    writing (a read-only folder, a file or folder in the way) gives None after one warning line:
    the run goes on without a cache."""
    if cache is False:
        return None
    if not isinstance(cache, DocumentCache):
        folder = default_folder if cache is None or cache is True else cache
        cache = DocumentCache(folder, data_dir=data_dir)
    return cache if cache.usable() else None
