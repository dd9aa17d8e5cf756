"""Shared fixtures: the five sample reports, raw and processed once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import config

RAW = config.RAW
MANIFEST = pd.read_csv(RAW / config.MANIFEST_NAME, dtype=str)
REPORT_FILES = sorted(p.name for p in RAW.glob("*.txt"))


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The committed sample corpus (read-only: copy it before changing anything)."""
    return RAW


@pytest.fixture(scope="session")
def raw_texts() -> dict[str, str]:
    """File name -> raw text of each sample report."""
    return {name: (RAW / name).read_text(encoding="utf-8") for name in REPORT_FILES}


@pytest.fixture(scope="session")
def corpus():
    """The sample corpus read, cleaned and structured once (helpers.pipeline.build_corpus)."""
    from helpers import pipeline

    return pipeline.build_corpus(RAW)
