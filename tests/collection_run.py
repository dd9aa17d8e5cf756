"""One full run of the notebook collection per test session, shared by test_notebooks.py and
test_browser.py: ``python -m helpers run --raw <copy of data/raw> --out <tmp>`` in a subprocess,
exactly as a researcher would type it.

The run sees the project root as a decoy folder (FAZHI_ROOT) holding only links to notebooks/ and
tests/: anything written outside --out (a cache, a table, a figure) lands there and is caught."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import config


@dataclass(frozen=True)
class CollectionRun:
    raw: Path
    out: Path
    returncode: int
    output: str
    seconds: float
    raw_before: dict[str, str]
    raw_after: dict[str, str]
    copy_before: dict[str, str]
    copy_after: dict[str, str]
    stray: list[str]  # files written under the (decoy) project root


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@functools.cache
def run_once(root: Path) -> CollectionRun:
    """Copy data/raw under ``root`` and run the whole collection on it (once per process)."""
    raw, out, decoy = root / "raw", root / "out", root / "project"
    raw_before = tree_digest(config.RAW)
    shutil.copytree(config.RAW, raw)
    copy_before = tree_digest(raw)
    decoy.mkdir(parents=True)
    for name in ("notebooks", "tests"):  # what the notebooks read from the project itself
        (decoy / name).symlink_to(config.ROOT / name, target_is_directory=True)
    tick = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "run", "--raw", str(raw), "--out", str(out)],
        capture_output=True, text=True, timeout=1800, cwd=root, env={**os.environ, "FAZHI_ROOT": str(decoy)},
    )
    stray = sorted(str(p.relative_to(decoy)) for top in decoy.iterdir() if not top.is_symlink()
                   for p in [top, *(top.rglob("*") if top.is_dir() else [])])
    return CollectionRun(raw=raw, out=out, returncode=done.returncode, output=done.stdout + done.stderr,
                         seconds=time.perf_counter() - tick, raw_before=raw_before,
                         raw_after=tree_digest(config.RAW), copy_before=copy_before, copy_after=tree_digest(raw),
                         stray=stray)
