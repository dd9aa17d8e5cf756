"""Writing and reading the processed tables: every set of tables is switched in whole.

What notebooks, commands and spreadsheets open is unchanged: ``FOLDER/NAME.parquet`` and its
spreadsheet twin ``FOLDER/NAME.csv``. Behind those names a folder written here looks like this::

    FOLDER/documents.parquet  -> .fazhi_store/current/documents.parquet   (relative symbolic links)
    FOLDER/documents.csv      -> .fazhi_store/current/documents.csv
    FOLDER/.fazhi_tables.json -> .fazhi_store/current/.fazhi_tables.json  (helpers.pipeline's stamp)
    FOLDER/.fazhi_store/current -> v-000000007-4242    the one pointer every public name goes through
    FOLDER/.fazhi_store/v-000000007-4242/              every file of the folder's current set
    FOLDER/.fazhi_store/staging-<pid>-<token>/         a run still writing (invisible to readers)

**Why a set is old or new, never a mix.** A :class:`TableSet` (``write_table``, ``write_tables``,
``pipeline.process_corpus``) writes every file of its set into its own staging folder, where no
reader looks, and ``fsync``\\ s them. Its commit then, under the folder's lock (``flock``):

1. gives every name of the set its public link to ``.fazhi_store/current/NAME``, before the
   switch, so that it still resolves into the old version (to the old table, or to nothing where
   the old set had no such table);
2. builds a new version folder: a hard link to every file of the current version (the tables this
   set does not rewrite, unchanged; no data copied) and the staged files renamed in; ``fsync``;
3. replaces ``current`` by one ``rename()`` of a new symbolic link: this single atomic step
   switches every public name of the folder at once, and is the commit;
4. deletes the versions older than the one it replaced, and what dead runs left behind.

A ``kill -9`` (or a power cut: the files and folders were ``fsync``\\ ed first) before step 3
leaves the old set, whole, plus a staging folder; after it, the new set. At no instant does a
table's parquet disagree with its CSV, or one table of a set come from another set than the rest.
A public name that is a plain file (a folder written before this layout, or by hand) is first taken
into a version as it is, by a hard link to the same bytes, and its file replaced by a link that
shows those same bytes, so nothing visible changes before the switch. What one reader opens at one
time is from one set; a reader opening several tables while a commit happens can still open one
before and one after it: :func:`read_tables` reads them all from one version. (Renaming each
file into place and writing the stamp last would not do: a crash between two renames leaves a mix
that only a reader checking the stamp notices, and spreadsheets and pandas open the files directly.)
To copy such a folder, keep its links (``cp -a``, ``rsync -a``) or follow them (``cp -rL``).

**Leftovers.** Staging folders, unfinished versions and ``.NAME.<pid>-xxxx.tmp`` files whose
process is gone (and the ``.NAME.xxxxxxxx.tmp`` files of older code) are removed by the next commit
or :func:`sweep` (``process_corpus`` calls it first, also when its tables are up to date).

Where symbolic links cannot be made (some Windows set-ups, FAT or SMB mounts), a set falls back to
renaming each file into place on its own: each file whole, but no guarantee across files. Single
files (HTML pages, figures, the run record) are written by :func:`atomic_path`: a temporary file
beside the target, renamed onto it.

Every CSV written here is **neutralised for spreadsheets** (:func:`csv_safe`): a text cell that
Excel or LibreOffice would run as a formula gets a leading apostrophe; numbers and the parquet copy
are untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd


# The process umask can only be read by setting it; restore it at once.
_UMASK = os.umask(0o022)
os.umask(_UMASK)

STORE_DIR = ".fazhi_store"
CURRENT = "current"
_LOCK = "lock"
_VERSION = re.compile(r"v-(\d{9})-\d+")
_STAGING = re.compile(r"staging-(\d+)-[A-Za-z0-9_]+")
# atomic_path's temporary files, and the temporary links of a commit: .NAME.<pid>-<token>.tmp
_TEMP = re.compile(r"\.(.+)\.(\d+)-[A-Za-z0-9_]+\.tmp")
# what atomic_path made before it named the process (tempfile.mkstemp's eight characters)
_OLD_TEMP = re.compile(r"\.(.+\.(?:parquet|csv|json))\.[a-z0-9_]{8}\.tmp")

# Test hooks: at a named point of writing (see checkpoint) the process kills itself with SIGKILL,
# or pauses (writing the point's name into FAZHI_PAUSE_FILE) until something kills it.
KILL_ENV = "FAZHI_KILL_AT"
PAUSE_ENV = "FAZHI_PAUSE_AT"
PAUSE_FILE_ENV = "FAZHI_PAUSE_FILE"


def checkpoint(point: str) -> None:
    """A named point of writing a set, for crash tests: ``chunk:NAME`` (a chunk of a streamed table
    written), ``staged:FILE`` and ``synced:FILE`` (a file complete, then on disk), ``synced`` (every
    file), ``adopting``/``adopted`` (before/after plain files are taken into a version made current),
    ``linked:FILE`` (a public link made), ``built`` (the new version complete), ``switched`` (the
    commit), ``committed`` (all done).

    ``$FAZHI_KILL_AT`` (comma-separated points) makes the process SIGKILL itself there;
    ``$FAZHI_PAUSE_AT`` makes it write the point into ``$FAZHI_PAUSE_FILE`` and wait to be killed.
    """
    kill, pause = os.environ.get(KILL_ENV), os.environ.get(PAUSE_ENV)
    if kill and point in kill.split(","):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    if pause and point in pause.split(","):
        marker = os.environ.get(PAUSE_FILE_ENV)
        if marker:
            Path(marker).write_text(point, encoding="utf-8")
        while True:
            time.sleep(3600)


# --------------------------------------------------------------------------- single files
@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    The temporary name (``.NAME.<pid>-xxxxxxxx.tmp``) names the process, so a run can tell the
    leftovers of a dead one (:func:`sweep`) from a live writer's.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(text: str, target: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


# --------------------------------------------------------------------------- CSV for spreadsheets
# OWASP, CSV injection: a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number in a text cell (-12, +3.5, -1,200, 18.3%) is read as that number, never run.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")


def safe_cell(value):
    """``value`` as a spreadsheet shows it without running it: text starting with ``= + - @``, a
    tab or a carriage return gets a leading apostrophe, unless it is a plain number; anything
    else is returned as it is.

    >>> safe_cell('=HYPERLINK("http://x","y")'), safe_cell("+86 10"), safe_cell("-12.5"), safe_cell(-3)
    ('\\'=HYPERLINK("http://x","y")', "'+86 10", '-12.5', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _safe_labels(index: pd.Index) -> pd.Index:
    """Column or index labels with :func:`safe_cell` applied; ``index`` itself when none changes."""
    if isinstance(index, pd.MultiIndex):
        labels = [tuple(safe_cell(v) for v in entry) for entry in index]
        return index if labels == list(index) else pd.MultiIndex.from_tuples(labels, names=index.names)
    if not (index.dtype == object or isinstance(index.dtype, pd.StringDtype)):
        return index
    labels = [safe_cell(v) for v in index]
    return index if labels == list(index) else pd.Index(labels, name=index.name, dtype=object)


def csv_safe(df: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """``df`` ready for a spreadsheet: every text cell (and column label, and with ``index=True``
    index label) that a spreadsheet would run as a formula prefixed with ``'`` (see
    :func:`safe_cell`). Number columns are left alone, so negative numbers stay numbers; ``df``
    itself is not changed (the same object comes back when nothing needs it).

    >>> csv_safe(pd.DataFrame({"region": ["=1+1", "武江区"], "n": [-2, 3]}))["region"].tolist()
    ["'=1+1", '武江区']
    """
    changed: dict[int, np.ndarray] = {}
    for position in range(df.shape[1]):
        column = df.iloc[:, position]
        if not (column.dtype == object or isinstance(column.dtype, (pd.StringDtype, pd.CategoricalDtype))):
            continue
        try:
            flagged = column.str.startswith(FORMULA_START, na=False).to_numpy(dtype=bool)
        except (AttributeError, TypeError):  # an object column without text
            continue
        if not flagged.any():
            continue
        values = column.to_numpy(dtype=object, copy=True)
        for row in np.flatnonzero(flagged):
            values[row] = safe_cell(values[row])
        changed[position] = values
    columns = _safe_labels(df.columns)
    labels = _safe_labels(df.index) if index else df.index
    if not changed and columns is df.columns and labels is df.index:
        return df
    out = df.copy(deep=False)
    for position, values in changed.items():
        out.isetitem(position, values)
    out.columns = columns
    out.index = labels
    return out


# Rows end in CRLF (RFC 4180, as spreadsheets write them): a cell holding a carriage return or a
# line break is then quoted, and stays one cell.
CSV_LINE_END = "\r\n"


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (so spreadsheets show Chinese), formulas neutralised."""
    csv_safe(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator=CSV_LINE_END)


def write_csv(df: pd.DataFrame, target: str | Path) -> Path:
    """One CSV file for spreadsheets, written atomically (``indicators`` command), as
    :func:`write_table` writes its CSV twin."""
    with atomic_path(target) as tmp:
        _write_csv(df, tmp)
    return Path(target)


# --------------------------------------------------------------------------- table sets
def _fsync(path: Path) -> None:
    """Flush a file's or a folder's data and entry to disk (folders: where the system allows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some systems cannot fsync a folder
        pass
    finally:
        os.close(fd)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """The folder's lock: one commit or sweep at a time (notebooks 02 and 03 write side by side).
    The system drops it when its process dies."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock (and, most often, no symbolic links either)
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / _LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


_LINKS_WORK: dict[int, bool] = {}


def _links_work(root: Path) -> bool:
    """Whether symbolic links can be made in ``root`` (asked once per file system)."""
    device = root.stat().st_dev
    if device not in _LINKS_WORK:
        probe = root / f".probe.{os.getpid()}-link.tmp"
        try:
            probe.unlink(missing_ok=True)
            os.symlink(CURRENT, probe)
            probe.unlink()
            _LINKS_WORK[device] = True
        except (OSError, NotImplementedError):
            _LINKS_WORK[device] = False
    return _LINKS_WORK[device]


def _public_target(name: str) -> str:
    return os.path.join(STORE_DIR, CURRENT, name)


def _is_store_link(path: Path, name: str) -> bool:
    try:
        return os.readlink(path) == _public_target(name)
    except OSError:  # absent, or not a link
        return False


def _current(root: Path) -> str | None:
    try:
        name = os.readlink(root / CURRENT)
    except OSError:
        return None
    return name if _VERSION.fullmatch(name) else None


def _version_files(root: Path, version: str | None) -> list[str]:
    if version is None:
        return []
    try:
        return sorted(os.listdir(root / version))
    except OSError:
        return []


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # no hard links here: the bytes themselves
        shutil.copy2(source, target)


def _replace_link(link_target: str, path: Path) -> None:
    """Make ``path`` a symbolic link to ``link_target`` in one rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-link.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(link_target, tmp)
    os.replace(tmp, path)


def _dead(pid: int, mtime: float) -> bool:
    """Whether the process that made a leftover (``pid``, last changed at ``mtime``) is gone: no
    such process, a zombie, or a newer process under the same number."""
    if pid == os.getpid():
        return False
    import psutil

    try:
        process = psutil.Process(pid)
        return process.status() == psutil.STATUS_ZOMBIE or process.create_time() > mtime + 1
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # another user's process: alive
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _leftovers(folder: Path, *, versions: bool) -> list[Path]:
    """What dead runs left in ``folder`` and its store; with ``versions`` (only under the lock)
    also every version but the current one and the one before it."""
    found = []
    for place in (folder, folder / STORE_DIR):
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if place == folder and _OLD_TEMP.fullmatch(name):
                found.append(Path(entry.path))
                continue
            match = _TEMP.fullmatch(name) or (place != folder and _STAGING.fullmatch(name))
            if not match:
                continue
            pid = int(match.group(2) if match.re is _TEMP else match.group(1))
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if _dead(pid, mtime):
                found.append(Path(entry.path))
    root = folder / STORE_DIR
    if versions and root.is_dir():
        current = _current(root)
        numbers = sorted((int(_VERSION.fullmatch(p.name).group(1)), p.name) for p in root.iterdir()
                         if _VERSION.fullmatch(p.name) and p.is_dir())
        keep = {current}
        if current is not None:
            older = [name for number, name in numbers if number < int(_VERSION.fullmatch(current).group(1))]
            keep.update(older[-1:])  # a reader may just have resolved the link to it
        found.extend(root / name for _, name in numbers if name not in keep)
    return found


def sweep(folder: str | Path) -> int:
    """Remove what dead runs left in a table folder (staging folders, unfinished versions,
    temporary files) and the versions no reader can reach any more; return how many went.
    Cheap when there is nothing to do (the folder is only listed; nothing is written)."""
    folder = Path(folder)
    if not _leftovers(folder, versions=False) and not _stale_versions(folder):
        return 0
    with _locked(folder / STORE_DIR):
        found = _leftovers(folder, versions=True)
        for path in found:
            _remove(path)
    return len(found)


def _stale_versions(folder: Path) -> bool:
    root = folder / STORE_DIR
    try:
        names = [n for n in os.listdir(root) if _VERSION.fullmatch(n)]
    except OSError:
        return False
    return len(names) > 2 or (len(names) > 0 and _current(root) not in names)


class TableSet:
    """Files written together into ``folder`` and switched in at once by :meth:`commit` (see the
    module's docstring). Used as a context manager, it commits on success and drops everything
    on an error:

    >>> with TableSet("/tmp/fazhi_tables") as tables:                 # doctest: +SKIP
    ...     tables.write_table(documents, "documents")
    ...     tables.write_table(sentences, "sentences")
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.root = self.folder / STORE_DIR
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f"staging-{os.getpid()}-", dir=self.root))
        self._files: dict[str, None] = {}
        self.done = False

    def __repr__(self) -> str:
        return f"TableSet({str(self.folder)!r}, files={list(self._files)})"

    def __enter__(self) -> "TableSet":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    # ---- writing into the staging folder
    def path(self, filename: str) -> Path:
        """Where to write ``filename`` (a plain file name) of the set."""
        if self.done:
            raise RuntimeError("this table set is already committed or dropped")
        if not filename or filename != Path(filename).name or filename in (STORE_DIR, CURRENT):
            raise ValueError(f"not a file name for a table folder: {filename!r}")
        self._files[filename] = None
        return self.staging / filename

    def staged(self, filename: str) -> Path:
        """The staged file ``filename`` (for its size and time: they stay the same once committed)."""
        return self.staging / filename

    def write_table(self, df: pd.DataFrame, name: str, *, csv: bool = True) -> Path:
        """Stage ``name.parquet`` (and ``name.csv``, see :func:`write_table`); return the public path."""
        df.to_parquet(self.path(f"{name}.parquet"), index=False)
        checkpoint(f"staged:{name}.parquet")
        if csv:
            _write_csv(df, self.path(f"{name}.csv"))
            checkpoint(f"staged:{name}.csv")
        return self.folder / f"{name}.parquet"

    def write_text(self, text: str, filename: str) -> Path:
        self.path(filename).write_text(text, encoding="utf-8")
        checkpoint(f"staged:{filename}")
        return self.folder / filename

    def abort(self) -> None:
        """Drop the staged files; the folder keeps what it had."""
        self.done = True
        shutil.rmtree(self.staging, ignore_errors=True)

    # ---- the commit
    def commit(self) -> list[Path]:
        """Switch the staged files in, all at once; return their public paths."""
        if self.done:
            raise RuntimeError("this table set is already committed or dropped")
        files = [name for name in self._files if (self.staging / name).exists()]
        for name in files:
            _fsync(self.staging / name)
            checkpoint(f"synced:{name}")
        _fsync(self.staging)
        checkpoint("synced")
        try:
            with _locked(self.root):
                if _links_work(self.root):
                    self._switch_in(files)
                else:
                    self._rename_each(files)
                for path in _leftovers(self.folder, versions=True):
                    _remove(path)
        finally:
            self.abort()
        checkpoint("committed")
        return [self.folder / name for name in files]

    def _rename_each(self, files: list[str]) -> None:
        """No symbolic links here: each file renamed into place on its own."""
        for name in files:
            os.replace(self.staging / name, self.folder / name)
        _fsync(self.folder)

    def _switch_in(self, files: list[str]) -> None:
        current = _current(self.root)
        present = _version_files(self.root, current)
        # Public names of the set that do not go through `current` yet: a plain file (or a link
        # elsewhere) is taken into a version as it is; a name absent while the current version
        # has it is left out of it; then each gets its link, showing what it showed before.
        adopt: dict[str, Path | None] = {}
        for name in files:
            public = self.folder / name
            if _is_store_link(public, name):
                continue
            if public.exists():
                if public.is_dir():
                    raise IsADirectoryError(f"{public} is a folder: cannot write the table there")
                adopt[name] = Path(os.path.realpath(public))
            elif name in present:
                adopt[name] = None
        if adopt:
            current = self._new_version(current, present, add={n: p for n, p in adopt.items() if p is not None},
                                        drop={n for n, p in adopt.items() if p is None}, move={})
            present = _version_files(self.root, current)
            checkpoint("adopted")
        for name in files:
            public = self.folder / name
            if not _is_store_link(public, name):
                _replace_link(_public_target(name), public)
                checkpoint(f"linked:{name}")
        _fsync(self.folder)
        self._new_version(current, present, add={}, drop=set(), move={n: self.staging / n for n in files})

    def _new_version(self, base: str | None, present: list[str], *, add: dict[str, Path], drop: set[str],
                     move: dict[str, Path]) -> str:
        """A version folder of ``base``'s files (hard links) with ``add`` linked in, ``drop``
        left out and ``move`` renamed in, made current in one rename; its name."""
        numbers = [int(m.group(1)) for m in map(_VERSION.fullmatch, os.listdir(self.root)) if m]
        name = f"v-{max(numbers, default=0) + 1:09d}-{os.getpid()}"
        folder = self.root / name
        folder.mkdir()
        for file in present:
            if file not in add and file not in drop and file not in move:
                _link_or_copy(self.root / base / file, folder / file)
        for file, source in add.items():
            _link_or_copy(source, folder / file)
        for file, source in move.items():
            os.replace(source, folder / file)
        _fsync(folder)
        checkpoint("built" if move else "adopting")
        _replace_link(name, self.root / CURRENT)
        _fsync(self.root)
        if move:
            checkpoint("switched")
        return name


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame], *, csv: bool = True) -> list[Path]:
    """Write several tables as one set (:class:`TableSet`): a reader, or a crash at any moment,
    sees either all of them as they were or all of them new. ``csv``: also ``NAME.csv``."""
    with TableSet(folder) as staged:
        paths = [staged.write_table(df, name, csv=csv) for name, df in tables.items()]
    return paths


def write_table(df: pd.DataFrame, folder: str | Path, name: str, *, csv: bool = True) -> Path:
    """Write ``df`` as ``folder/name.parquet`` (and ``name.csv``, UTF-8 with BOM so spreadsheets
    show Chinese, formulas neutralised: :func:`csv_safe`) as one set: the parquet file and its CSV
    change together; return the parquet path."""
    return write_tables(folder, {name: df}, csv=csv)[0]


def read_table(folder: str | Path, name: str) -> pd.DataFrame:
    """Read ``folder/name.parquet``; a missing table names the notebook that makes it."""
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: run the notebook that writes '{name}' first "
            "(python -m helpers run, or make report)"
        )
    return pd.read_parquet(path)


def read_tables(folder: str | Path, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Several tables of ``folder`` from one version, even while another run commits a new set.

    >>> tables = read_tables(paths.processed, ["documents", "sentences"])   # doctest: +SKIP
    """
    folder = Path(folder)
    names = list(names)
    for attempt in range(3):
        version = _current(folder / STORE_DIR)
        try:
            tables = {}
            for name in names:
                public = folder / f"{name}.parquet"
                if version is not None and _is_store_link(public, public.name):
                    pinned = folder / STORE_DIR / version / public.name
                    if pinned.exists():
                        tables[name] = pd.read_parquet(pinned)
                        continue
                tables[name] = read_table(folder, name)
            return tables
        except FileNotFoundError:
            if attempt == 2 or _current(folder / STORE_DIR) == version:
                raise
    raise AssertionError("unreachable")
