"""The explorer of notebook ``06_explore``: a term in context, the evidence behind an indicator and
one report's profile, as DataFrames computed from the processed tables, and a thin ipywidgets layer
over them for JupyterLab.

Every function takes processed tables (``documents``, ``sentences``, ``indicators``,
``indicator_candidates``, ``term_frequencies``, ``theme_profile``, as notebooks 01-03 write them)
and returns a DataFrame; nothing here reads or writes a file. :func:`explorer` builds the widgets;
its callbacks only call the functions below and show their tables, HTML-escaped (the text comes
from the reports). ipywidgets is imported inside :func:`explorer`, so this module imports without it.

>>> docs = pd.DataFrame({"doc_id": ["a", "b"], "region": ["矿区", "武江区"], "report_year": ["2022", "2024"]})
>>> sents = pd.DataFrame({"doc_id": ["a", "b"], "sentence_id": ["a:0", "b:0"],
...                       "section_type": ["results", "plans"],
...                       "text": ["办结行政复议案件12件。", "推进行政复议体制改革。"]})
>>> found = kwic_view(sents, docs, "行政复议", regions=["矿区"], window=2)
>>> found[["region", "left", "term", "right"]].to_dict("records")
[{'region': '矿区', 'left': '办结', 'term': '行政复议', 'right': '案件'}]
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping

import pandas as pd

from helpers import groups, metadata, schema, terms

# Processed table -> the notebook that writes it (a view whose tables are missing is skipped).
TABLE_SOURCES = {
    "documents": "01_cleaning", "sentences": "01_cleaning", "term_frequencies": "02_term_frequency",
    "theme_profile": "02_term_frequency", "indicators": "03_indicators", "indicator_candidates": "03_indicators",
}
# View -> the tables it needs; the report profile shows each of its parts whose table is there.
VIEWS = {
    "kwic": ("documents", "sentences"),
    "indicator": ("documents", "indicators", "indicator_candidates"),
    "report": ("documents",),
}
DEFAULT_TERM = "行政复议"
NOT_REPORTED = "not reported"  # a report without a cell for the indicator: never the same as a stated 0
VERDICT_ORDER = ("chosen", "agrees", "competing", "below", "rejected")
STATUS_ORDER = ("stated", "override", "review", NOT_REPORTED)

KWIC = ["doc_id", "report", "region", "report_year", "section_type", "left", "term", "right",
        "sentence_id", "start", "sentence"]
INDICATOR_OPTIONS = ["indicator_id", "indicator_name", "n_stated", "n_override", "n_review", "n_candidates"]
INDICATOR_CELLS = ["doc_id", "report", "region", "report_year", "status", "value", "unit", "approx_marker",
                   "quote", "n_candidates", "candidates", "reason"]
INDICATOR_EVIDENCE = ["doc_id", "report", "value", "unit", "approx_marker", "verdict", "reject", "quote",
                      "section_type", "sentence"]
REPORT_FIELDS = ["doc_id", "file", "format", "encoding", *schema.METADATA_FIELDS, "source", "signature",
                 "n_chars", "n_sections", "n_sentences", "garbled_share", "converted_traditional",
                 "duplicate_files"]
SECTION_LENGTHS = ["section_type", "n_sentences", "n_chars", "char_share"]
TOP_TERMS = ["term", "count", "share", "rate_per_10k"]
THEME_SHARES = ["chapter", "label", "name_zh", "n_tokens", "token_share", "n_sentences", "sentence_share"]
STATED_INDICATORS = ["indicator_id", "indicator_name", "status", "value", "unit", "approx_marker", "quote"]


def missing_tables(view: str, available: Iterable[str] | Mapping) -> list[str]:
    """The tables ``view`` (kwic, indicator, report) needs that are not in ``available``.

    >>> missing_tables("indicator", {"documents": None, "indicators": None})
    ['indicator_candidates']
    """
    return [name for name in VIEWS[view] if name not in available]


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None or (isinstance(value, str) and not value):
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _labels(documents: pd.DataFrame) -> dict[str, str]:
    """doc_id -> the report's label (region and year, its doc_id where two share both)."""
    docs = documents.drop_duplicates("doc_id").reset_index(drop=True)
    return dict(zip(docs["doc_id"].astype(str), groups.report_labels(docs)))


def _regions(documents: pd.DataFrame) -> dict[str, str]:
    """doc_id -> region, or the doc_id for a report whose region is unknown (metadata.group_key)."""
    docs = documents.drop_duplicates("doc_id").reset_index(drop=True)
    return dict(zip(docs["doc_id"].astype(str), metadata.group_key(docs, "region")))


def _with_report(table: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the report's label, region and year beside its doc_id."""
    docs = documents.drop_duplicates("doc_id")
    ids = table["doc_id"].astype(str)
    years = dict(zip(docs["doc_id"].astype(str), docs["report_year"].fillna("").astype(str)))
    return table.assign(report=ids.map(_labels(docs)).fillna(ids), region=ids.map(_regions(docs)).fillna(ids),
                        report_year=ids.map(years).fillna(""))


# --------------------------------------------------------------------------- options


def region_options(documents: pd.DataFrame) -> list[str]:
    """The regions a KWIC can be filtered to, sorted (a report of unknown region by its doc_id).

    >>> region_options(pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["武江区", "", "矿区"]}))
    ['b', '武江区', '矿区']
    """
    return sorted(set(metadata.group_key(documents, "region")))


def section_type_options(sentences: pd.DataFrame) -> list[str]:
    """The section types present, in the order of ``schema.SECTION_TYPES`` (others after, sorted)."""
    present = set(sentences["section_type"].dropna().astype(str))
    return [t for t in schema.SECTION_TYPES if t in present] + sorted(present - set(schema.SECTION_TYPES))


def report_options(documents: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, doc_id) of every report, in the documents' order: what a report menu lists.

    >>> report_options(pd.DataFrame({"doc_id": ["a"], "region": ["矿区"], "report_year": ["2022"]}))
    [('矿区 2022', 'a')]
    """
    return [(label, doc_id) for doc_id, label in _labels(documents).items()]


def indicator_options(indicators: pd.DataFrame, candidates: pd.DataFrame | None = None, *,
                      catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every indicator with a cell or a candidate, with how many reports state it (``n_stated``),
    decide it by an override, wait for review, and its number of candidate mentions; the most
    stated first (then the most cells, then the id). Names come from ``indicators`` or, for an
    indicator only rejected mentions name, from ``catalogue`` (columns id, name_zh).

    >>> cells = pd.DataFrame({"doc_id": ["a", "b", "a"], "indicator_id": ["x", "x", "y"],
    ...                       "indicator_name": ["甲", "甲", "乙"], "status": ["stated", "stated", "review"]})
    >>> indicator_options(cells)[["indicator_id", "n_stated", "n_review"]].values.tolist()
    [['x', 2, 0], ['y', 0, 1]]
    """
    schema.check_columns(indicators, ["indicator_id", "status"], table="indicators")
    counts = pd.crosstab(indicators["indicator_id"].astype(str), indicators["status"].astype(str))
    out = pd.DataFrame(index=pd.Index(sorted(set(counts.index)), name="indicator_id"))
    for status in ("stated", "override", "review"):
        out[f"n_{status}"] = counts[status] if status in counts.columns else 0
    if candidates is not None and len(candidates):
        n_candidates = candidates.groupby(candidates["indicator_id"].astype(str)).size()
        out = out.reindex(out.index.union(n_candidates.index))
        out["n_candidates"] = n_candidates
    else:
        out["n_candidates"] = 0
    out = out.fillna(0).astype("int64").reset_index()
    names = {}
    if catalogue is not None:
        names.update(zip(catalogue["id"].astype(str), catalogue["name_zh"].astype(str)))
    if "indicator_name" in indicators.columns:
        names.update(zip(indicators["indicator_id"].astype(str), indicators["indicator_name"].fillna("").astype(str)))
    out["indicator_name"] = out["indicator_id"].map(names).fillna("")
    cells = out["n_stated"] + out["n_override"] + out["n_review"]
    out = out.assign(_cells=cells).sort_values(["n_stated", "_cells", "indicator_id"], ascending=[False, False, True])
    return out[INDICATOR_OPTIONS].reset_index(drop=True)


# --------------------------------------------------------------------------- choosing


def resolve_report(documents: pd.DataFrame, report: str = "") -> str:
    """The doc_id ``report`` names: a doc_id, a file name or a report label; empty for the first
    report. An unknown one raises ``ValueError`` listing the reports.

    >>> docs = pd.DataFrame({"doc_id": ["a", "b"], "file": ["1.txt", "2.txt"], "region": ["矿区", "武江区"],
    ...                      "report_year": ["2022", "2024"]})
    >>> resolve_report(docs), resolve_report(docs, "2.txt"), resolve_report(docs, "武江区 2024")
    ('a', 'b', 'b')
    """
    if documents.empty:
        raise ValueError("no reports in the documents table")
    ids = documents["doc_id"].astype(str).tolist()
    if not report:
        return ids[0]
    if report in ids:
        return report
    if "file" in documents.columns:
        files = dict(zip(documents["file"].astype(str), ids))
        if report in files:
            return files[report]
    by_label = {label: doc_id for doc_id, label in _labels(documents).items()}
    if report in by_label:
        return by_label[report]
    raise ValueError(f"report {report!r} is not a doc_id, file or label of the documents table; "
                     f"choose from {ids}")


def resolve_indicator(indicators: pd.DataFrame, indicator: str = "", *,
                      candidates: pd.DataFrame | None = None) -> str:
    """The indicator id ``indicator`` names: an id or a Chinese name (``indicator_name``); empty
    for the indicator most reports state. An unknown one raises ``ValueError``.

    >>> cells = pd.DataFrame({"doc_id": ["a", "b"], "indicator_id": ["x", "y"], "indicator_name": ["甲", "乙"],
    ...                       "status": ["review", "stated"]})
    >>> resolve_indicator(cells), resolve_indicator(cells, "甲")
    ('y', 'x')
    """
    options = indicator_options(indicators, candidates)
    if options.empty:
        raise ValueError("no indicator has a cell or a candidate: run 03_indicators on reports that state numbers")
    if not indicator:
        return str(options["indicator_id"].iloc[0])
    if indicator in set(options["indicator_id"]):
        return indicator
    named = options.loc[options["indicator_name"] == indicator, "indicator_id"]
    if len(named):
        return str(named.iloc[0])
    raise ValueError(f"indicator {indicator!r} has no cell or candidate in these reports; "
                     f"choose from {options['indicator_id'].tolist()}")


# --------------------------------------------------------------------------- views


def kwic_view(sentences: pd.DataFrame, documents: pd.DataFrame, term: str, *,
              regions: str | Iterable[str] | None = None, section_types: str | Iterable[str] | None = None,
              window: int = 20, tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every use of ``term`` in the reports (:func:`helpers.terms.kwic`) with ``window`` characters
    either side, each row with its report's label, region and year: ``KWIC`` columns, in the
    documents' order and the text's. ``regions`` and ``section_types`` (one or several; empty for
    all) keep only those reports and sections; a region or type not in the tables raises
    ``ValueError``. With ``tokens`` only whole-token uses count (复议 not inside 行政复议).
    """
    schema.check_columns(sentences, ["doc_id", "sentence_id", "section_type", "text"], table="sentences")
    term = (term or "").strip()
    if not term:
        raise ValueError("kwic_view needs a term")
    wanted_regions, wanted_types = _as_list(regions), _as_list(section_types)
    region_of = _regions(documents)
    unknown = sorted(set(wanted_regions) - set(region_of.values()))
    if unknown:
        raise ValueError(f"regions not in the documents table: {unknown}; choose from {region_options(documents)}")
    unknown = sorted(set(wanted_types) - set(section_type_options(sentences)))
    if unknown:
        raise ValueError(f"section types not in the sentences table: {unknown}; "
                         f"choose from {section_type_options(sentences)}")
    keep = sentences["doc_id"].astype(str).isin(region_of)
    if wanted_regions:
        keep &= sentences["doc_id"].astype(str).map(region_of).isin(wanted_regions)
    if wanted_types:
        keep &= sentences["section_type"].astype(str).isin(wanted_types)
    found = terms.kwic(sentences[keep], term, window=window, tokens=tokens)
    if found.empty:
        return pd.DataFrame(columns=KWIC)
    order = {doc_id: i for i, doc_id in enumerate(region_of)}
    found = _with_report(found, documents)
    found = found.assign(_doc=found["doc_id"].astype(str).map(order))  # kwic keeps the text's order
    return found.sort_values("_doc", kind="stable")[KWIC].reset_index(drop=True)


def indicator_view(indicators: pd.DataFrame, documents: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """One indicator across every report of ``documents``: its comparison cell (status stated,
    review or override, value, unit, approximation marker, quote; for a cell in review the
    competing candidates with their quotes) or ``status`` "not reported" with no value, which is
    never a stated 0. ``INDICATOR_CELLS`` columns, one row per report in the documents' order."""
    schema.check_columns(indicators, ["doc_id", "indicator_id", "status", "value", "unit", "quote"],
                         table="indicators")
    cells = indicators[indicators["indicator_id"].astype(str) == indicator].drop_duplicates("doc_id")
    docs = documents.drop_duplicates("doc_id")[["doc_id"]].astype({"doc_id": str})
    table = docs.merge(cells.drop(columns=[c for c in ("region", "report_year") if c in cells.columns])
                       .astype({"doc_id": str}), on="doc_id", how="left")
    table["status"] = table["status"].fillna(NOT_REPORTED)
    for column in INDICATOR_CELLS:
        if column not in table.columns:
            table[column] = pd.NA
    text = ["unit", "approx_marker", "quote", "candidates", "reason"]
    table[text] = table[text].astype(object).where(table[text].notna(), "")
    table["n_candidates"] = pd.to_numeric(table["n_candidates"], errors="coerce").fillna(0).astype("int64")
    table["value"] = pd.to_numeric(table["value"], errors="coerce").astype("float64")
    return _with_report(table, documents)[INDICATOR_CELLS].reset_index(drop=True)


def indicator_evidence(candidates: pd.DataFrame, documents: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Every mention that could hold ``indicator``'s cell in each report, with the verdict on it
    (chosen, agrees, competing, below, rejected) and, for a rejected one, why (``reject``: target,
    other_year, multi_year, subunit): ``INDICATOR_EVIDENCE`` columns, by report (documents'
    order), then verdict, then position in the text."""
    schema.check_columns(candidates, ["doc_id", "indicator_id", "value", "unit", "quote", "verdict"],
                         table="indicator_candidates")
    rows = candidates[candidates["indicator_id"].astype(str) == indicator]
    rows = rows[rows["doc_id"].astype(str).isin(set(documents["doc_id"].astype(str)))]
    if rows.empty:
        return pd.DataFrame(columns=INDICATOR_EVIDENCE)
    order = {doc_id: i for i, doc_id in enumerate(documents["doc_id"].astype(str))}
    rank = {verdict: i for i, verdict in enumerate(VERDICT_ORDER)}
    rows = _with_report(rows.astype({"doc_id": str}), documents)
    for column in ("approx_marker", "reject", "section_type", "sentence"):
        rows[column] = rows[column].fillna("") if column in rows.columns else ""
    rows = rows.assign(_doc=rows["doc_id"].map(order), _verdict=rows["verdict"].map(rank).fillna(len(rank)),
                       _start=rows["start"] if "start" in rows.columns else 0)
    return (rows.sort_values(["_doc", "_verdict", "_start"], kind="stable")[INDICATOR_EVIDENCE]
            .reset_index(drop=True))


def report_metadata(documents: pd.DataFrame, report: str) -> pd.DataFrame:
    """One report's metadata as rows of ``field, value, origin`` (origin: manifest, inferred or
    missing, for the fields that record it), for the ``REPORT_FIELDS`` the table holds."""
    row = documents[documents["doc_id"].astype(str) == report]
    if row.empty:
        raise ValueError(f"report {report!r} is not in the documents table")
    record = row.iloc[0]
    rows = []
    for field in [f for f in REPORT_FIELDS if f in documents.columns]:
        value = record[field]
        origin = record.get(f"{field}_origin", "")
        rows.append((field, "" if pd.isna(value) else str(value), "" if pd.isna(origin) else str(origin)))
    return pd.DataFrame(rows, columns=["field", "value", "origin"])


def section_lengths(sentences: pd.DataFrame, report: str) -> pd.DataFrame:
    """How long each type of section of one report is: sentences, characters and the share of the
    report's characters, for the types the report has (in ``schema.SECTION_TYPES`` order).

    >>> s = pd.DataFrame({"doc_id": ["a"] * 3, "section_type": ["results", "plans", "results"],
    ...                   "text": ["一二三", "四", "五六七八"]})
    >>> section_lengths(s, "a")[["section_type", "n_sentences", "n_chars"]].values.tolist()
    [['results', 2, 7], ['plans', 1, 1]]
    """
    schema.check_columns(sentences, ["doc_id", "section_type", "text"], table="sentences")
    own = sentences[sentences["doc_id"].astype(str) == report]
    own = own.assign(section_type=own["section_type"].fillna("other").astype(str),
                     _n=own["text"].fillna("").astype(str).str.len())
    table = (own.groupby("section_type").agg(n_sentences=("_n", "size"), n_chars=("_n", "sum"))
             .reindex(section_type_options(own)).reset_index())
    total = table["n_chars"].sum()
    table["char_share"] = table["n_chars"] / total if total else 0.0
    return table.astype({"n_sentences": "int64", "n_chars": "int64"})[SECTION_LENGTHS]


def top_terms(term_frequencies: pd.DataFrame, report: str, *, n: int = 15) -> pd.DataFrame:
    """The ``n`` most frequent terms of one report (after notebook 02's stopwords and filters), with
    their share of its terms and their rate per 10,000 characters."""
    schema.check_columns(term_frequencies, ["doc_id", "term", "count"], table="term_frequencies")
    own = term_frequencies[term_frequencies["doc_id"].astype(str) == report]
    own = own.sort_values(["count", "term"], ascending=[False, True]).head(n)
    return own[[c for c in TOP_TERMS if c in own.columns]].reset_index(drop=True)


def theme_shares(theme_profile: pd.DataFrame, report: str) -> pd.DataFrame:
    """One report's profile over the ten chapters of the national plan (notebook 02's
    ``theme_profile``): theme-term tokens and sentences per chapter and their shares."""
    schema.check_columns(theme_profile, ["doc_id", "chapter"], table="theme_profile")
    own = theme_profile[theme_profile["doc_id"].astype(str) == report].sort_values("chapter")
    return own[[c for c in THEME_SHARES if c in own.columns]].reset_index(drop=True)


def stated_indicators(indicators: pd.DataFrame, report: str, *,
                      statuses: Iterable[str] = ("stated", "override")) -> pd.DataFrame:
    """The comparison cells one report fills (status in ``statuses``; add "review" for the cells
    waiting for a decision), with value, unit and quote, in catalogue-id order."""
    schema.check_columns(indicators, ["doc_id", "indicator_id", "status"], table="indicators")
    own = indicators[(indicators["doc_id"].astype(str) == report) & indicators["status"].isin(list(statuses))]
    own = own.sort_values("indicator_id")
    return own[[c for c in STATED_INDICATORS if c in own.columns]].reset_index(drop=True)


def report_profile(tables: Mapping[str, pd.DataFrame], report: str = "", *, n_terms: int = 15
                   ) -> dict[str, pd.DataFrame]:
    """One report's profile from whichever tables are given: ``metadata`` (documents),
    ``sections`` (sentences), ``terms`` (term_frequencies), ``themes`` (theme_profile) and
    ``indicators`` (indicators: the cells it states). ``report`` as in :func:`resolve_report`."""
    documents = tables["documents"]
    doc_id = resolve_report(documents, report)
    parts = {"metadata": report_metadata(documents, doc_id)}
    if "sentences" in tables:
        parts["sections"] = section_lengths(tables["sentences"], doc_id)
    if "term_frequencies" in tables:
        parts["terms"] = top_terms(tables["term_frequencies"], doc_id, n=n_terms)
    if "theme_profile" in tables:
        parts["themes"] = theme_shares(tables["theme_profile"], doc_id)
    if "indicators" in tables:
        parts["indicators"] = stated_indicators(tables["indicators"], doc_id)
    return parts


# --------------------------------------------------------------------------- widgets

PROFILE_TITLES = {
    "metadata": "Metadata (origin: manifest, inferred or missing)",
    "sections": "Section lengths by type",
    "terms": "Most frequent terms",
    "themes": "Theme profile: the ten chapters of the national plan",
    "indicators": "Indicators the report states",
}


def html_table(frame: pd.DataFrame, *, max_rows: int = 50, caption: str = "") -> str:
    """``frame`` as an HTML table with every cell, header and the caption escaped (the text comes
    from the reports), at most ``max_rows`` rows, and a line saying how many there are.

    >>> "&lt;script&gt;" in html_table(pd.DataFrame({"quote": ["<script>x</script>"]}))
    True
    """
    shown = frame.head(max_rows)
    count = (f"{len(frame)} rows" if len(frame) <= max_rows else f"{len(frame)} rows, the first {max_rows} shown")
    head = f"<b>{html.escape(caption)}</b> · " if caption else ""
    body = (shown.to_html(index=False, escape=True, na_rep="", border=0, float_format=lambda v: f"{v:,.4g}")
            if len(shown) else "")
    return f'<div class="fazhi-explore">{head}<span>{html.escape(count)}</span>{body}</div>'


def html_message(text: str) -> str:
    """A line of text for an output pane, escaped."""
    return f'<div class="fazhi-explore"><i>{html.escape(text)}</i></div>'


def explorer(tables: Mapping[str, pd.DataFrame], *, term: str = DEFAULT_TERM, indicator: str = "",
             report: str = "", window: int = 20, max_rows: int = 50, n_terms: int = 15):
    """The explorer for JupyterLab: a tab per view, each redrawn when a control changes.

    - *Term in context*: a term box and region and section-type menus → :func:`kwic_view`;
    - *Indicator*: an indicator menu → :func:`indicator_view` and :func:`indicator_evidence`;
    - *Report*: a report menu → :func:`report_profile`.

    ``tables`` maps table names to DataFrames (a view whose tables are missing says which notebook
    writes them); ``term``, ``indicator`` and ``report`` are the starting values. Returns an
    ``ipywidgets.Tab`` whose ``controls`` and ``outputs`` (dicts of widgets) a test or a notebook
    can drive: setting ``controls["term"].value`` redraws ``outputs["kwic"]``.
    """
    import ipywidgets as widgets

    class Explorer(widgets.Tab):
        """A Tab that names itself in plain text (what an HTML export without widgets shows)."""

        def __repr__(self) -> str:
            return "Explorer (term in context · indicator · report): interactive in JupyterLab"

    def pane() -> "widgets.HTML":
        return widgets.HTML(layout=widgets.Layout(max_height="480px", overflow="auto"))

    def guarded(draw, key: str):
        """Run a redraw; a bad value (an empty term) shows as a message in pane ``key``."""
        def callback(change=None):
            try:
                draw()
            except ValueError as err:
                outputs[key].value = html_message(str(err))
        return callback

    def missing_note(view: str) -> str:
        missing = missing_tables(view, tables)
        sources = sorted({TABLE_SOURCES.get(m, "?") for m in missing})
        return f"needs {', '.join(missing)} (run {', '.join(sources)} first)"

    documents = tables.get("documents", pd.DataFrame(columns=["doc_id", "region", "report_year"]))
    controls: dict[str, widgets.Widget] = {}
    outputs: dict[str, widgets.HTML] = {"kwic": pane(), "cells": pane(), "evidence": pane(), "report": pane()}
    pages, titles = [], []

    # term in context
    if missing_tables("kwic", tables):
        outputs["kwic"].value = html_message(missing_note("kwic"))
        pages.append(outputs["kwic"])
    else:
        sentences = tables["sentences"]
        controls["term"] = widgets.Text(value=term or DEFAULT_TERM, description="term", continuous_update=False)
        controls["region"] = widgets.Dropdown(
            options=[("all regions", ""), *[(r, r) for r in region_options(documents)]], value="", description="region")
        controls["section_type"] = widgets.Dropdown(
            options=[("all sections", ""), *[(t, t) for t in section_type_options(sentences)]], value="",
            description="section")

        def kwic():
            found = kwic_view(sentences, documents, controls["term"].value, regions=controls["region"].value,
                              section_types=controls["section_type"].value, window=window)
            outputs["kwic"].value = html_table(found.drop(columns=["sentence_id", "start", "sentence"]),
                                               max_rows=max_rows, caption=f"{controls['term'].value} in context")

        redraw = guarded(kwic, "kwic")
        for key in ("term", "region", "section_type"):
            controls[key].observe(redraw, names="value")
        redraw()
        pages.append(widgets.VBox([widgets.HBox([controls["term"], controls["region"], controls["section_type"]]),
                                   outputs["kwic"]]))
    titles.append("Term in context")

    # indicator
    if missing_tables("indicator", tables):
        outputs["cells"].value = html_message(missing_note("indicator"))
        pages.append(outputs["cells"])
    else:
        cells, candidates = tables["indicators"], tables["indicator_candidates"]
        options = indicator_options(cells, candidates)
        labels = [(f"{name or ind} · {ind} ({stated} stated)", ind) for ind, name, stated in
                  zip(options["indicator_id"], options["indicator_name"], options["n_stated"])]
        start = resolve_indicator(cells, indicator, candidates=candidates) if len(options) else None
        controls["indicator"] = widgets.Dropdown(options=labels, value=start, description="indicator",
                                                 layout=widgets.Layout(width="640px"))

        def cells_pane():
            chosen = controls["indicator"].value
            outputs["cells"].value = html_table(indicator_view(cells, documents, chosen), max_rows=max_rows,
                                                caption=f"{chosen}: every report's cell")
            outputs["evidence"].value = html_table(indicator_evidence(candidates, documents, chosen),
                                                   max_rows=max_rows, caption=f"{chosen}: candidates and verdicts")

        redraw = guarded(cells_pane, "cells")
        controls["indicator"].observe(redraw, names="value")
        if start is not None:
            redraw()
        pages.append(widgets.VBox([controls["indicator"], outputs["cells"], outputs["evidence"]]))
    titles.append("Indicator")

    # report profile
    if missing_tables("report", tables) or documents.empty:
        outputs["report"].value = html_message(missing_note("report") if missing_tables("report", tables)
                                               else "no reports in the documents table")
        pages.append(outputs["report"])
    else:
        controls["report"] = widgets.Dropdown(options=report_options(documents),
                                              value=resolve_report(documents, report), description="report",
                                              layout=widgets.Layout(width="480px"))

        def report_pane():
            parts = report_profile(tables, controls["report"].value, n_terms=n_terms)
            outputs["report"].value = "".join(html_table(frame, max_rows=max_rows, caption=PROFILE_TITLES[key])
                                              for key, frame in parts.items())

        redraw = guarded(report_pane, "report")
        controls["report"].observe(redraw, names="value")
        redraw()
        pages.append(widgets.VBox([controls["report"], outputs["report"]]))
    titles.append("Report")

    tab = Explorer(children=pages, titles=titles)
    tab.controls, tab.outputs = controls, outputs
    return tab
