"""Shared fixtures: the five sample reports, raw and processed once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import config

DATA = Path(__file__).parent / "data"
UNSEEN = DATA / "unseen"        # reports the rules were not written on (expectations: expected.yaml)
HELDOUT = DATA / "heldout"      # more such reports, annotated for cell accuracy only
BLIND = DATA / "blind"          # annotated after the cell rules were written; never tuned on
DOCX_SOURCE = ".docx.txt"       # the text of a Word file: the folder fixtures build the .docx from it
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


def file_name(key: str) -> str:
    """The name a fixture report has in its folder (a Word source becomes .docx)."""
    return key[: -len(DOCX_SOURCE)] + ".docx" if key.endswith(DOCX_SOURCE) else key


def build_docx(source: Path, target: Path) -> None:
    """A Word file from a text source: one paragraph a line, "|a|b|" lines as table rows."""
    import docx

    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, cells in enumerate(rows):
                for j, cell in enumerate(cells):
                    table.cell(i, j).text = cell
            rows.clear()

    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            rows.append(line.strip("|").split("|"))
            continue
        flush()
        document.add_paragraph(line)
    flush()
    document.save(target)


def fixture_folder(source: Path, target: Path) -> Path:
    """Copy a fixture folder's reports into ``target`` as a researcher would have them (Word
    sources built as .docx; expected.yaml left out)."""
    import shutil

    for path in sorted(source.iterdir()):
        if path.name == "expected.yaml" or not path.is_file():
            continue
        if path.name.endswith(DOCX_SOURCE):
            build_docx(path, target / file_name(path.name))
        else:
            shutil.copyfile(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def unseen_corpus(tmp_path_factory):
    """The unseen reports read, cleaned and structured once, with no manifest."""
    from helpers import pipeline

    return pipeline.build_corpus(fixture_folder(UNSEEN, tmp_path_factory.mktemp("unseen")), manifest=False)
