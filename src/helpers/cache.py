"""Per-document result cache on disk.

An entry is keyed by the hash of a document's raw bytes (plus any options that change its result)
and filed under a *version*: a hash of the pipeline's code, of every data file in ``helpers/data/``
(lexicon, stopword lists, indicator catalogue, cleaning tables) and of the libraries that shape
results. Editing the lexicon changes the version, so every document is recomputed; changing nothing
recomputes nothing. Entries are written atomically and carry a checksum: a damaged entry is
reported, deleted and recomputed, never fatal.

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
import logging
import os
import pickle
import shutil
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable

from helpers import config
from helpers.store import atomic_path

log = logging.getLogger(__name__)

# Modules whose code decides a document's cached result; editing any of them starts a new version.
VERSIONED_MODULES = (
    "corpus", "clean", "structure", "metadata", "segment", "terms", "quantities", "indicators",
    "pipeline", "schema", "cache",
)
# Installed libraries whose upgrade may change results (tokens, conversions) or the stored format.
VERSIONED_LIBRARIES = ("jieba", "jieba_fast", "opencc", "cn2an", "charset-normalizer", "pandas", "numpy")
# Entry layout: magic, CRC-32 of the payload (catches damage, not tampering; fast), pickled payload.
_MAGIC = b"FZC2"
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


def encode(value: Any) -> bytes:
    """Serialise ``value`` as a cache entry (checksummed pickle)."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _MAGIC + zlib.crc32(payload).to_bytes(_DIGEST_SIZE, "big") + payload


def decode(blob: bytes) -> Any:
    """Read an entry made by :func:`encode`; raise :class:`CorruptEntry` when it is damaged."""
    head = len(_MAGIC) + _DIGEST_SIZE
    if len(blob) < head or not blob.startswith(_MAGIC):
        raise CorruptEntry("not a cache entry (bad header)")
    payload = blob[head:]
    if zlib.crc32(payload).to_bytes(_DIGEST_SIZE, "big") != blob[len(_MAGIC):head]:
        raise CorruptEntry("checksum mismatch")
    try:
        return pickle.loads(payload)
    except Exception as exc:  # a version-skewed pickle fails in many ways; all mean "recompute"
        raise CorruptEntry(f"cannot unpickle: {exc!r}") from exc


class DocumentCache:
    """Results of per-document work, stored under ``folder/documents/<version>/``.

    ``version`` defaults to :func:`pipeline_version` (of ``data_dir`` when given). ``hits``,
    ``misses`` and ``corrupt`` count this instance's look-ups.
    """

    def __init__(self, folder: str | Path, *, version: str | None = None,
                 data_dir: str | Path | None = None) -> None:
        self.folder = Path(folder)
        self.version = version or pipeline_version(data_dir=data_dir)
        self.root = self.folder / ENTRIES_DIR / self.version
        self.hits = self.misses = self.corrupt = 0

    def __repr__(self) -> str:
        return f"DocumentCache({str(self.folder)!r}, version={self.version!r})"

    @staticmethod
    def key(content: bytes | str, *options: Any) -> str:
        """Entry key: the content hash, extended by the ``repr`` of any options that change the result."""
        key = content_hash(content)
        if options:
            key = content_hash(key + "\0" + "\0".join(repr(o) for o in options))
        return key

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pkl"

    def get(self, key: str) -> Any:
        """The stored value, or :data:`MISSING` (a damaged entry is logged and deleted)."""
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return MISSING
        try:
            value = decode(blob)
        except CorruptEntry as exc:
            log.warning("cache entry %s is damaged (%s); recomputing it", path, exc)
            path.unlink(missing_ok=True)
            self.corrupt += 1
            self.misses += 1
            return MISSING
        self.hits += 1
        return value

    def put_encoded(self, key: str, blob: bytes) -> None:
        """Store an entry already made by :func:`encode` (e.g. in a worker process), atomically."""
        with atomic_path(self.path(key)) as tmp:
            tmp.write_bytes(blob)

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` atomically: a reader sees the old entry or the new one, never half of it."""
        self.put_encoded(key, encode(value))

    def get_or_compute(self, key: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``get(key)``, or ``func(*args, **kwargs)`` stored under ``key``."""
        value = self.get(key)
        if value is MISSING:
            value = func(*args, **kwargs)
            self.put(key, value)
        return value

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.pkl")) if self.root.is_dir() else 0

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
    a path = that folder; a :class:`DocumentCache` as it is."""
    if cache is False:
        return None
    if isinstance(cache, DocumentCache):
        return cache
    if cache is None or cache is True:
        return DocumentCache(default_folder, data_dir=data_dir)
    return DocumentCache(cache, data_dir=data_dir)
