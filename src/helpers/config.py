"""Every path and project-wide default in one place.

>>> from helpers import config
>>> paths = config.project_paths()
>>> paths.raw.name
'raw'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_DATA = PACKAGE_DIR / "data"
# src/helpers/config.py -> project root; FAZHI_ROOT overrides it for an installed copy.
ROOT = Path(os.environ.get("FAZHI_ROOT", PACKAGE_DIR.parents[1])).resolve()
NOTEBOOKS = ROOT / "notebooks"
RAW = ROOT / "data" / "raw"
PROCESSED = ROOT / "data" / "processed"
FIGURES = ROOT / "figures"
REPORTS = ROOT / "reports"
CACHE = ROOT / ".cache"
MANIFEST_NAME = "manifest.csv"
# A researcher's decisions on comparison cells (helpers/overrides.py); optional.
OVERRIDES = ROOT / "data" / "overrides.csv"
# Hand-annotated references (tests/data/ANNOTATION.md): every mention, and every comparison cell.
GOLD_QUANTITIES = ROOT / "tests" / "data" / "gold_quantities.csv"
GOLD_CELLS = ROOT / "tests" / "data" / "gold_cells.csv"

# Notebooks in execution order; the runner and the tests read this list.
NOTEBOOK_ORDER = ("01_cleaning", "02_term_frequency", "03_indicators", "04_visualization", "05_report_quality", "06_explore")


@dataclass(frozen=True)
class Paths:
    """Where one run reads raw reports and writes everything it makes."""

    raw: Path
    processed: Path
    figures: Path
    reports: Path
    cache: Path

    @property
    def manifest(self) -> Path:
        return self.raw / MANIFEST_NAME

    def makedirs(self) -> "Paths":
        """Create the output folders (never the raw one)."""
        for folder in (self.processed, self.figures, self.reports, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def project_paths(*, raw: str | Path | None = None, out: str | Path | None = None) -> Paths:
    """Paths for a run: the project's own folders, or ``out/{data/processed,figures,reports}``.

    Empty strings count as "not given", so notebook parameters can default to ``""``.

    >>> p = project_paths(out="/tmp/run")
    >>> str(p.figures)
    '/tmp/run/figures'
    """
    raw_dir = Path(raw).expanduser().resolve() if raw else RAW
    if not out:
        return Paths(raw=raw_dir, processed=PROCESSED, figures=FIGURES, reports=REPORTS, cache=CACHE)
    root = Path(out).expanduser().resolve()
    return Paths(
        raw=raw_dir,
        processed=root / "data" / "processed",
        figures=root / "figures",
        reports=root / "reports",
        cache=root / ".cache",
    )


def read_yaml(path: str | Path):
    """A YAML data file of the project, read safely: with libyaml's parser when PyYAML has it
    (five times as fast; the same objects), else PyYAML's own."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)
