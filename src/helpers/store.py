"""Atomic writing and reading of the processed tables.

Every output is written to a temporary file beside its target and renamed into place, so an
interrupted run never leaves a half-written table, and a reader never sees one.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd


# The process umask can only be read by setting it; restore it at once.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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


def write_table(df: pd.DataFrame, folder: str | Path, name: str, *, csv: bool = True) -> Path:
    """Write ``df`` as ``folder/name.parquet`` (and ``name.csv``, UTF-8 with BOM so spreadsheets
    show Chinese) atomically; return the parquet path."""
    folder = Path(folder)
    parquet = folder / f"{name}.parquet"
    with atomic_path(parquet) as tmp:
        df.to_parquet(tmp, index=False)
    if csv:
        with atomic_path(folder / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
    return parquet


def read_table(folder: str | Path, name: str) -> pd.DataFrame:
    """Read ``folder/name.parquet``; a missing table names the notebook that makes it."""
    path = Path(folder) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: run the notebook that writes '{name}' first "
            "(python -m helpers run, or make report)"
        )
    return pd.read_parquet(path)
