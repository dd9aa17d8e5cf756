"""The report bundle: ``reports/`` made self-contained after a run, and one zip of it to send.

A run leaves its figures in ``figures/`` and its tables in ``data/processed/``; the index page and
the notebooks' HTML are in ``reports/``. :func:`retire_stale_figures` moves aside the figures an
earlier run of a notebook left (another language, other parameters), so a gallery never mixes two
runs of one notebook; :func:`collect` copies the figures and the CSV of every table into
``reports/figures/`` and ``reports/tables/``, so every link of the index stays inside ``reports/``;
:func:`share` zips ``reports/`` with this machine's folders replaced by neutral names.

>>> scrub_text("read from /home/ana/study/raw", {"/home/ana/study/raw": "<reports folder>"})
'read from <reports folder>'
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from helpers import config

FIGURE_FILES = (".png", ".svg", ".csv")
TEXT_FILES = (".html", ".json", ".ipynb", ".csv", ".txt", ".md", ".svg")
EARLIER = "earlier"  # figures/earlier/<date>/: figures a later run of their notebook replaced


def retire_stale_figures(figures: list[dict], *, notebooks: set[str], folder: Path, started: str) -> list[Path]:
    """Move each stale figure (``figures_in`` rows older than the run) whose notebook ran now into
    ``folder/earlier/<started>/``; a figure of a notebook not run this time stays. Returns the PNGs moved."""
    moved = []
    target = folder / EARLIER / started.replace(":", "-")
    for fig in figures:
        if not fig["stale"] or fig.get("source") not in notebooks:
            continue
        target.mkdir(parents=True, exist_ok=True)
        for suffix in FIGURE_FILES:
            path = fig["png"].with_suffix(suffix)
            if path.exists():
                shutil.move(str(path), target / path.name)
        moved.append(target / fig["png"].name)
    return moved


def _replace_folder(source_files: list[Path], target: Path) -> list[Path]:
    """``target`` holding exactly copies of ``source_files`` (what an earlier run put there goes)."""
    staging = target.with_name(f".{target.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path in source_files:
        shutil.copy2(path, staging / path.name)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return [target / path.name for path in source_files]


def collect(paths: config.Paths, *, figures: list[dict]) -> dict[str, list[Path]]:
    """Copy the gallery's figures (PNG, SVG and the CSV behind each) into ``reports/figures/`` and the
    CSV of every processed table into ``reports/tables/``. Returns the copies by folder."""
    figure_files = [fig["png"].with_suffix(s) for fig in figures for s in FIGURE_FILES
                    if fig["png"].with_suffix(s).exists()]
    tables = sorted(p for p in paths.processed.glob("*.csv") if p.is_file()) if paths.processed.is_dir() else []
    return {"figures": _replace_folder(figure_files, paths.reports / "figures"),
            "tables": _replace_folder([p.resolve() for p in tables], paths.reports / "tables")}


def local_folders(paths: config.Paths) -> dict[str, str]:
    """This machine's folders that a shared page must not show, longest first, with their neutral names."""
    names = {str(paths.reports.parent): "<output folder>", str(paths.raw): "<reports folder>",
             str(config.ROOT): "<project>", str(Path.home()): "~"}
    return dict(sorted(((k, v) for k, v in names.items() if len(k) > 1), key=lambda kv: -len(kv[0])))


def scrub_text(text: str, folders: dict[str, str]) -> str:
    """``text`` with every local folder replaced by its neutral name (longest first)."""
    for folder, name in folders.items():
        text = text.replace(folder, name)
    return text


def share(paths: config.Paths, *, target: str | Path | None = None) -> Path:
    """One zip of ``reports/`` (default ``<output folder>/fazhi-report-<date>.zip``) that opens offline:
    its pages link only inside it, and no page names a folder of this machine."""
    reports = paths.reports
    if not (reports / "index.html").exists():
        raise FileNotFoundError(f"{reports / 'index.html'}: no report to share yet; run `python -m helpers run` first")
    target = Path(target) if target else reports.parent / f"fazhi-report-{datetime.now():%Y%m%d-%H%M}.zip"
    folders = local_folders(paths)
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(reports.rglob("*")):
            if not path.is_file() or any(part.startswith(".") for part in path.relative_to(reports).parts):
                continue
            name = (Path("reports") / path.relative_to(reports)).as_posix()
            if path.suffix in TEXT_FILES:
                archive.writestr(name, scrub_text(path.read_text(encoding="utf-8", errors="replace"), folders))
            else:
                archive.write(path, name)
    partial.replace(target)
    return target
