"""Overrides: a researcher's own decision on a comparison cell, kept in an editable CSV file
(``data/overrides.csv``) and applied after the cells are chosen.

One row per cell: the report (``doc_id`` or ``file``), ``indicator_id``, the ``value`` it should hold
(empty: the cell stays empty), optionally ``unit`` and ``quote`` (where the value is stated) and a
``note`` saying why. Rows naming an unknown report or indicator, or holding a value that is not a
number, are refused one by one with a message naming the row; the other rows still apply.

>>> import io
>>> docs = pd.DataFrame({"doc_id": ["a"], "file": ["a.txt"]})
>>> cat = pd.DataFrame({"id": ["x"]})
>>> rows, problems = read_overrides(io.StringIO("doc_id,indicator_id,value,note\\na,x,6308,12345 only\\nb,x,1,\\n"),
...                                 documents=docs, catalogue=cat, name="overrides.csv")
>>> rows["value"].tolist(), problems
([6308.0], ["overrides.csv row 3: unknown report 'b'"])
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

COLUMNS = ["doc_id", "indicator_id", "value", "unit", "quote", "note"]


def _text(source) -> str:
    if isinstance(source, io.StringIO):
        return source.getvalue()
    data = Path(source).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # a spreadsheet on a Chinese system saves GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{source}: not UTF-8 or GBK text")


def read_overrides(source, *, documents: pd.DataFrame, catalogue: pd.DataFrame,
                   name: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The valid rows of an overrides file (COLUMNS, ``doc_id`` resolved from ``file`` where given
    that way) and one message per refused row. A file that cannot be read as a table, or lacks
    the report or indicator column, gives no rows and one message."""
    name = name or str(source)
    try:
        table = pd.read_csv(io.StringIO(_text(source)), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, OSError) as error:
        return pd.DataFrame(columns=COLUMNS), [f"{name}: not read ({str(error).splitlines()[0]})"]
    table.columns = [str(c).strip() for c in table.columns]
    if "indicator_id" not in table or not ({"doc_id", "file"} & set(table.columns)):
        return pd.DataFrame(columns=COLUMNS), [f"{name}: needs the columns doc_id (or file), indicator_id and value"]
    by_file = dict(zip(documents["file"], documents["doc_id"])) if "file" in documents else {}
    known_docs, known_ids = set(documents["doc_id"]), set(catalogue["id"])
    rows, problems = [], []
    for i, row in enumerate(table.to_dict("records"), start=2):  # row 1 is the header
        doc = str(row.get("doc_id", "")).strip() or by_file.get(str(row.get("file", "")).strip(), "")
        report = str(row.get("doc_id", "") or row.get("file", "")).strip()
        indicator = str(row.get("indicator_id", "")).strip()
        value = str(row.get("value", "")).strip().replace(",", "")
        if doc not in known_docs:
            problems.append(f"{name} row {i}: unknown report '{report}'")
            continue
        if indicator not in known_ids:
            problems.append(f"{name} row {i}: unknown indicator '{indicator}'")
            continue
        try:
            number = float(value) if value else float("nan")
        except ValueError:
            problems.append(f"{name} row {i}: value '{value}' is not a number")
            continue
        rows.append({"doc_id": doc, "indicator_id": indicator, "value": number,
                     "unit": str(row.get("unit", "")).strip(), "quote": str(row.get("quote", "")).strip(),
                     "note": str(row.get("note", "")).strip()})
    out = pd.DataFrame(rows, columns=COLUMNS)
    duplicated = out.duplicated(["doc_id", "indicator_id"], keep="last")
    for doc, ind in out.loc[duplicated, ["doc_id", "indicator_id"]].itertuples(index=False):
        problems.append(f"{name}: {doc} × {ind} is overridden twice; the last row applies")
    return out[~duplicated].reset_index(drop=True), problems


def apply_overrides(values: pd.DataFrame, overrides: pd.DataFrame, *, documents: pd.DataFrame,
                    catalogue: pd.DataFrame) -> pd.DataFrame:
    """``values`` (the long indicator table) with each overridden cell replaced: status
    ``override``, the researcher's value, unit and quote, the note in ``reason``; an empty value
    removes the cell. The candidates the pipeline found stay listed."""
    if overrides.empty:
        return values
    out = values.copy()
    meta = documents.drop_duplicates("doc_id").set_index("doc_id")
    cat = catalogue.set_index("id")
    for o in overrides.itertuples(index=False):
        where = (out["doc_id"] == o.doc_id) & (out["indicator_id"] == o.indicator_id)
        before = out[where]
        out = out[~where]
        if pd.isna(o.value):
            continue
        entry = cat.loc[o.indicator_id]
        doc = meta.loc[o.doc_id]
        row = {column: None for column in out.columns}
        row.update({
            "doc_id": o.doc_id, "file": doc.get("file"), "region": doc.get("region"),
            "report_year": doc.get("report_year"), "indicator_id": o.indicator_id,
            "indicator_name": entry["name_zh"], "indicator_name_en": entry.get("name_en"), "theme": entry.get("theme"),
            "value": float(o.value), "unit": o.unit or (before["unit"].iloc[0] if len(before) else entry.get("unit")),
            "approx": False, "approx_marker": "", "n_mentions": int(before["n_mentions"].iloc[0]) if len(before) else 0,
            "other_values": "", "quote": o.quote, "sentence": "", "start": -1, "end": -1,
            "status": "override", "n_candidates": int(before["n_candidates"].iloc[0]) if len(before) else 0,
            "candidates": before["candidates"].iloc[0] if len(before) else "",
            "reason": f"override: {o.note}" if o.note else "override",
        })
        out = pd.concat([out, pd.DataFrame([row], columns=out.columns)], ignore_index=True)
    return out.sort_values(["doc_id", "indicator_id"], kind="stable").reset_index(drop=True)
