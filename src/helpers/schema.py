"""Column contracts of the processed tables: the one place that says what each table holds.

Notebooks and tests import these lists rather than spelling columns out again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SECTION_TYPES = ("results", "shortcomings", "leadership", "plans", "other")

# data/processed/documents: one row per kept report.
DOCUMENTS = [
    "doc_id", "file", "format", "encoding", "title", "region", "city", "province", "level",
    "report_year", "published", "publisher", "source", "n_chars", "n_sections", "n_sentences",
    "sha256", "converted_traditional", "garbled_share", "duplicate_files", "text",
]
# garbled_share: share of characters left garbled after mojibake repair (helpers.corpus.garbled_share).
# <field>_origin columns say where each metadata field came from: manifest / inferred / missing.
METADATA_FIELDS = ["title", "region", "city", "province", "level", "report_year", "published", "publisher"]

# data/processed/sections: every heading at every level; spans index documents.text.
SECTIONS = [
    "doc_id", "section_id", "parent_id", "level", "number", "heading", "section_type",
    "text", "start", "end",
]
# data/processed/sentences: spans index documents.text; section_type is that of the top-level section.
SENTENCES = ["doc_id", "sentence_id", "section_id", "section_type", "text", "start", "end"]
# data/processed/cleaning_log: how often each cleaning step changed each document.
CLEANING_LOG = ["doc_id", "file", "step", "count"]
# data/processed/warnings: files that could not be read, duplicates, and other notices.
WARNINGS = ["file", "severity", "reason"]
# tokens (cached per document, written by 02): one row per token kept by segmentation.
TOKENS = ["doc_id", "sentence_id", "position", "token"]
# data/processed/quantities: one row per quantity mention (see helpers.quantities).
QUANTITIES = [
    "doc_id", "file", "sentence_id", "indicator_id", "indicator_name", "value", "low", "high",
    "unit", "approx", "kind", "object", "quote", "sentence", "start", "end",
]


def check_columns(df: pd.DataFrame, columns: list[str], *, table: str) -> pd.DataFrame:
    """Raise ``ValueError`` naming the table and the missing columns; return ``df`` unchanged."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"table '{table}' lacks columns {missing}")
    return df


# Whole-number and true/false columns of the tables built from column lists (frame_from_columns).
INTEGER_COLUMNS = frozenset({"level", "start", "end", "count"})
BOOLEAN_COLUMNS = frozenset({"is_heading"})


def frame_from_columns(columns: dict[str, list]) -> pd.DataFrame:
    """A table from its columns as lists (one report's, or several reports' joined): the columns
    of INTEGER_COLUMNS as int64, of BOOLEAN_COLUMNS as bool, others as pandas infers them; no
    row: the columns, untyped.

    >>> frame_from_columns({"doc_id": ["d"], "start": [0], "is_heading": [True]}).dtypes.astype(str).tolist()[1:]
    ['int64', 'bool']
    """
    if not next(iter(columns.values()), []):
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame({
        name: (np.array(values, dtype=np.int64) if name in INTEGER_COLUMNS
               else np.array(values, dtype=bool) if name in BOOLEAN_COLUMNS else values)
        for name, values in columns.items()})
