"""The explorer (helpers.explore, notebook 06_explore): the term-in-context, indicator and report
views on the five sample reports, the widgets driven by setting their values, and the notebook
executed with papermill on a processed folder."""

from __future__ import annotations

import html

import nbformat
import pandas as pd
import pytest

from helpers import config, explore, indicators, quantities, report, segment, store, terms

KUANGQU = "2022-shanxi-yangquan-kuangqu"
ASEAN = "2024-guangxi-nanning-asean-zone"


@pytest.fixture(scope="module")
def tables(corpus) -> dict[str, pd.DataFrame]:
    """The processed tables the explorer reads, built from the sample corpus as notebooks 01-03 do."""
    found = indicators.assign_indicators(quantities.extract_quantities(corpus.sentences, documents=corpus.documents))
    values, candidates = indicators.indicator_cells(found, corpus.documents, sentences=corpus.sentences)
    seg = segment.Segmenter()
    tokens = segment.segment_sentences(corpus.sentences, segmenter=seg)
    kept = terms.filter_tokens(tokens, keep=seg.lexicon)
    return {
        "documents": corpus.documents, "sentences": corpus.sentences,
        "indicators": values, "indicator_candidates": candidates,
        "term_frequencies": terms.frequency_table(kept, corpus.sentences, by="doc_id"),
        "theme_profile": terms.theme_profile(tokens, corpus.sentences),
    }


# ---- term in context -----------------------------------------------------------------------------------

def test_kwic_filtered_to_one_region_returns_only_its_sentences(tables):
    docs, sentences = tables["documents"], tables["sentences"]
    everywhere = explore.kwic_view(sentences, docs, "行政复议")
    found = explore.kwic_view(sentences, docs, "行政复议", regions="矿区", window=10)
    assert 0 < len(found) < len(everywhere)
    assert set(found["region"]) == {"矿区"} and set(found["doc_id"]) == {KUANGQU}
    texts = dict(zip(sentences["sentence_id"], sentences["text"]))
    for row in found.itertuples():
        assert row.term == "行政复议" and "行政复议" in row.sentence and row.sentence == texts[row.sentence_id]
        assert row.sentence[row.start:row.start + len("行政复议")] == "行政复议"
        assert row.left == row.sentence[max(0, row.start - 10):row.start]
    # the uses of one region are those of the whole corpus in that region (reuses terms.kwic)
    assert len(found) == (everywhere["region"] == "矿区").sum()
    assert len(everywhere) == len(terms.kwic(sentences, "行政复议"))


def test_kwic_by_section_type_and_bad_filters(tables):
    docs, sentences = tables["documents"], tables["sentences"]
    plans = explore.kwic_view(sentences, docs, "法治", section_types=["plans"])
    assert len(plans) and set(plans["section_type"]) == {"plans"}
    both = explore.kwic_view(sentences, docs, "法治", regions=["矿区", "武江区"], section_types="plans")
    assert set(both["region"]) <= {"矿区", "武江区"} and len(both) < len(plans)
    assert explore.kwic_view(sentences, docs, "不存在的词语").empty
    with pytest.raises(ValueError, match="regions not in the documents table"):
        explore.kwic_view(sentences, docs, "法治", regions="某某县")
    with pytest.raises(ValueError, match="section types"):
        explore.kwic_view(sentences, docs, "法治", section_types="preface")
    with pytest.raises(ValueError, match="needs a term"):
        explore.kwic_view(sentences, docs, "  ")


# ---- indicator -------------------------------------------------------------------------------------------

def test_indicator_view_shows_every_report_and_keeps_not_reported_apart(tables):
    docs = tables["documents"]
    cells = explore.indicator_view(tables["indicators"], docs, "hotline_work_orders")
    assert cells["doc_id"].tolist() == docs["doc_id"].tolist()  # one row per report, in order
    hotline = cells.set_index("doc_id").loc[KUANGQU]
    assert (hotline["status"], hotline["value"], hotline["unit"]) == ("stated", 6308.0, "件")
    assert "12345" in hotline["quote"] and hotline["report"] == "矿区 2022"
    others = cells[cells["doc_id"] != KUANGQU]
    assert (others["status"] == explore.NOT_REPORTED).all() and others["value"].isna().all()
    # the mailbox and 随手拍 of the same sentence are other channels, not candidates for the hotline
    evidence = explore.indicator_evidence(tables["indicator_candidates"], docs, "hotline_work_orders")
    assert evidence[["doc_id", "value", "verdict"]].values.tolist() == [[KUANGQU, 6308.0, "chosen"]]


def test_indicator_evidence_lists_below_and_rejected_candidates(tables):
    docs = tables["documents"]
    cells = explore.indicator_view(tables["indicators"], docs, "labor_dispute_cases").set_index("doc_id")
    assert cells.loc[KUANGQU, "value"] == 4.0 and "劳动争议4件" in cells.loc[KUANGQU, "quote"]
    assert cells.loc[ASEAN, "status"] == explore.NOT_REPORTED  # its only candidate was rejected
    evidence = explore.indicator_evidence(tables["indicator_candidates"], docs, "labor_dispute_cases")
    rows = {(r.doc_id, r.value): (r.verdict, r.reject) for r in evidence.itertuples()}
    assert rows == {(KUANGQU, 4.0): ("chosen", ""), (KUANGQU, 16.0): ("below", ""),
                    (ASEAN, 65.0): ("rejected", "subunit")}
    assert evidence["verdict"].tolist()[:2] == ["chosen", "below"]  # chosen first within a report
    assert all(q in s for q, s in zip(evidence["quote"], evidence["sentence"]))


def test_a_cell_in_review_lists_its_candidates(tables):
    docs, values = tables["documents"], tables["indicators"]
    review = values[values["status"] == "review"].iloc[0]
    cells = explore.indicator_view(values, docs, review.indicator_id).set_index("doc_id")
    assert cells.loc[review.doc_id, "status"] == "review" and pd.isna(cells.loc[review.doc_id, "value"])
    assert "「" in cells.loc[review.doc_id, "candidates"]
    evidence = explore.indicator_evidence(tables["indicator_candidates"], docs, review.indicator_id)
    assert "competing" in set(evidence.loc[evidence["doc_id"] == review.doc_id, "verdict"])


def test_the_default_indicator_is_the_most_stated(tables):
    values, candidates = tables["indicators"], tables["indicator_candidates"]
    options = explore.indicator_options(values, candidates)
    stated = values[values["status"] == "stated"]["indicator_id"].value_counts()
    assert options["n_stated"].iloc[0] == stated.max()
    assert explore.resolve_indicator(values, candidates=candidates) == options["indicator_id"].iloc[0]
    assert explore.resolve_indicator(values, "出具法律意见数") == "legal_opinions"
    # an indicator only rejected mentions name is still listed (its candidates can be read)
    assert "mediation_success_rate" in set(options["indicator_id"])
    with pytest.raises(ValueError, match="no cell or candidate"):
        explore.resolve_indicator(values, "no_such_indicator")


# ---- report profile --------------------------------------------------------------------------------------

def test_report_profile_lists_the_reports_section_types_terms_and_indicators(tables):
    profile = explore.report_profile(tables, "001_e39e1493065be82e.txt")  # a file name names the report
    assert set(profile) == {"metadata", "sections", "terms", "themes", "indicators"}
    meta = profile["metadata"].set_index("field")
    assert meta.loc["doc_id", "value"] == KUANGQU and meta.loc["region", "value"] == "矿区"
    assert meta.loc["region", "origin"] == "manifest"
    own = tables["sentences"][tables["sentences"]["doc_id"] == KUANGQU]
    sections = profile["sections"]
    assert set(sections["section_type"]) == set(own["section_type"])
    assert sections["n_chars"].sum() == own["text"].str.len().sum()
    assert sections["char_share"].sum() == pytest.approx(1.0)
    assert sections.set_index("section_type").loc["results", "n_sentences"] == (own["section_type"] == "results").sum()
    tf = tables["term_frequencies"]
    assert profile["terms"]["term"].iloc[0] == tf[tf["doc_id"] == KUANGQU].sort_values("count").iloc[-1]["term"]
    assert profile["themes"]["chapter"].tolist() == list(range(1, 11))
    stated = profile["indicators"].set_index("indicator_id")
    assert stated.loc["hotline_work_orders", "value"] == 6308.0
    assert set(stated["status"]) <= {"stated", "override"}


def test_report_is_resolved_by_id_label_or_first(tables):
    docs = tables["documents"]
    assert explore.resolve_report(docs) == docs["doc_id"].iloc[0]
    assert explore.resolve_report(docs, "矿区 2022") == KUANGQU
    with pytest.raises(ValueError, match="choose from"):
        explore.resolve_report(docs, "nowhere")
    # only the documents table: the profile has the parts that table gives
    assert set(explore.report_profile({"documents": docs}, KUANGQU)) == {"metadata"}


def test_html_tables_escape_report_text():
    frame = pd.DataFrame({"quote <i>": ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "普法"]})
    page = explore.html_table(frame, caption="<b>term</b>", max_rows=2)
    assert "<script>" not in page and "<img" not in page and "<i>" not in page
    assert "quote &lt;i&gt;" in page and "&lt;script&gt;" in page and "&lt;img src=x" in page
    assert "&lt;b&gt;term&lt;/b&gt;" in page and "3 rows, the first 2 shown" in page and "普法" not in page


# ---- widgets ---------------------------------------------------------------------------------------------

def test_the_explorer_redraws_each_view_when_a_value_changes(tables):
    pytest.importorskip("ipywidgets")
    widget = explore.explorer(tables)
    assert [widget.get_title(i) for i in range(3)] == ["Term in context", "Indicator", "Report"]
    controls, outputs = widget.controls, widget.outputs
    assert controls["term"].value == "行政复议"
    start = outputs["kwic"].value
    assert "武江区 2024" in start and "矿区 2022" in start

    controls["region"].value = "武江区"  # a callback driven by setting the value
    one_region = outputs["kwic"].value
    assert one_region != start and "武江区 2024" in one_region and "矿区 2022" not in one_region
    uses = len(explore.kwic_view(tables["sentences"], tables["documents"], "行政复议", regions="武江区"))
    assert f"{uses} rows" in one_region

    controls["term"].value = "<b>普法</b>"  # text typed into the box is shown escaped
    assert "&lt;b&gt;普法&lt;/b&gt;" in outputs["kwic"].value and "<b>普法</b>" not in outputs["kwic"].value
    controls["term"].value = ""
    assert "needs a term" in outputs["kwic"].value

    assert controls["indicator"].value == explore.resolve_indicator(tables["indicators"])
    controls["indicator"].value = "labor_dispute_cases"
    assert "劳动争议4件" in outputs["cells"].value and "subunit" in outputs["evidence"].value

    first = outputs["report"].value
    controls["report"].value = KUANGQU
    assert outputs["report"].value != first and html.escape(KUANGQU) in outputs["report"].value
    assert "shortcomings" in outputs["report"].value
    assert "interactive in JupyterLab" in widget._repr_mimebundle_()["text/plain"]


def test_the_explorer_names_the_notebooks_of_missing_tables(tables):
    pytest.importorskip("ipywidgets")
    widget = explore.explorer({"documents": tables["documents"], "sentences": tables["sentences"]},
                              report=KUANGQU)
    assert "run 03_indicators first" in widget.outputs["cells"].value
    assert "indicator" not in widget.controls and widget.controls["report"].value == KUANGQU
    assert "Section lengths by type" in widget.outputs["report"].value


# ---- the notebook ----------------------------------------------------------------------------------------

def _execute(folder, tables: dict[str, pd.DataFrame], **parameters):
    """Write ``tables`` as a processed folder under ``folder`` and execute the notebook on it with
    papermill; return the executed notebook's path."""
    import papermill

    out = folder / "out"
    store.write_tables(out / "data" / "processed", tables)
    target = folder / "06_explore.ipynb"
    papermill.execute_notebook(str(config.NOTEBOOKS / "06_explore.ipynb"), str(target),
                               parameters={"out_dir": str(out), **parameters}, kernel_name=report.KERNEL,
                               cwd=str(config.NOTEBOOKS), progress_bar=False)
    return target


def _printed(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/html", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
            parts.append(output.get("data", {}).get("text/markdown", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory, tables):
    return _execute(tmp_path_factory.mktemp("explore"), tables, report="矿区 2022", indicator="labor_dispute_cases")


@pytest.mark.slow
def test_the_notebook_runs_with_papermill_on_a_processed_folder(executed):
    notebook = nbformat.read(executed, as_version=4)
    printed = _printed(notebook)
    assert "行政复议: " in printed and " uses, in 4 of 5 reports" in printed
    assert "劳动争议4件" in printed and "subunit" in printed  # the indicator's cells and candidates
    assert f"矿区 2022 ({KUANGQU})" in printed and "Section lengths by type" in printed
    assert "interactive in JupyterLab" in printed  # the explorer, in its starting state
    assert "application/vnd.jupyter.widget-state+json" in notebook.metadata.get("widgets", {})
    assert not [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_the_executed_notebook_exports_to_pages_without_script(executed, tmp_path):
    full, results = report.export_pages(executed, tmp_path / "06_explore.html", tmp_path / "06_explore.results.html")
    for page in (full, results):
        text = page.read_text(encoding="utf-8")
        assert report.active_content(text) == [] and "interactive in JupyterLab" in text


@pytest.mark.slow
def test_the_notebook_skips_views_whose_tables_are_missing(tmp_path, tables):
    notebook = nbformat.read(_execute(tmp_path, {"documents": tables["documents"],
                                                 "sentences": tables["sentences"]}), as_version=4)
    printed = _printed(notebook)
    assert "indicators.parquet is missing (written by 03_indicators)" in printed
    assert "skipped: needs indicators, indicator_candidates (run 03_indicators first)" in printed
    assert "行政复议: " in printed and "Section lengths by type" in printed


def test_the_notebook_is_committed_in_the_house_form():
    import papermill

    notebook = nbformat.read(config.NOTEBOOKS / "06_explore.ipynb", as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# 06 ")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code)
    assert all(c.get("id") for c in notebook.cells)
    assert [c for c in code if "parameters" in c.metadata.get("tags", [])] == [code[0]]
    params = papermill.inspect_notebook(str(config.NOTEBOOKS / "06_explore.ipynb"))
    assert {"raw_dir", "out_dir", "documents", "term", "indicator", "report"} <= set(params)
    assert params["term"]["default"] == '"行政复议"'
    assert all(p["inferred_type_name"] != "None" and p["help"] for p in params.values())
