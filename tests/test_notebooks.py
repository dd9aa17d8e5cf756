"""The whole collection, run once on a copy of the sample reports (python -m helpers run --raw --out):
every expected table and figure exists and holds data, the report bundle is complete and inert, and
data/raw is untouched. Notebook 04 also runs alone on a partial pipeline."""

from __future__ import annotations

import json
import shutil

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from collection_run import run_once
from helpers import config, report

pytestmark = pytest.mark.slow

# What each notebook writes (tables in data/processed, figures in figures/).
EXPECTED_TABLES = {
    "01_cleaning": ["documents", "sections", "sentences", "cleaning_log", "warnings"],
    "02_term_frequency": ["tokens", "term_frequencies", "keyness", "collocations", "theme_profile"],
    "03_indicators": ["quantities", "indicators", "indicators_wide", "indicator_candidates"],
    "05_report_quality": ["report_quality", "quality_evidence"],
}
MAY_BE_EMPTY = {"warnings"}  # the five sample reports read without a warning
EXPECTED_FIGURES = {
    "01_cleaning": ["section_lengths"],
    # the figures per region of the tables of 02 and 03 are drawn once, by 04
    "02_term_frequency": ["terms_wordcloud_corpus", "terms_by_section_type"],
    # the sample has one report per region, so no year comparison
    "04_visualization": ["04_corpus_overview", "04_top_terms", "04_word_clouds", "04_distinctive_terms",
                         "04_theme_heatmap", "04_theme_radar", "04_indicator_bars", "04_indicator_coverage"],
    "05_report_quality": ["05_report_quality"],
}


@pytest.fixture(scope="session")
def full_run(tmp_path_factory):
    return run_once(tmp_path_factory.getbasetemp() / "collection")


def test_collection_runs_to_the_end(full_run):
    assert full_run.returncode == 0, full_run.output
    for name in config.NOTEBOOK_ORDER:
        assert f"{name} …" in full_run.output
    print(f"full run: {full_run.seconds:.1f} s")


def test_raw_data_is_byte_identical(full_run):
    assert full_run.raw_after == full_run.raw_before  # data/raw itself
    assert full_run.copy_after == full_run.copy_before  # and the copy the run read


def test_run_writes_nothing_outside_out(full_run):
    assert full_run.stray == []


@pytest.mark.parametrize("notebook, table", [(nb, t) for nb, tables in EXPECTED_TABLES.items() for t in tables])
def test_every_expected_table_exists_and_holds_rows(full_run, notebook, table):
    folder = full_run.out / "data" / "processed"
    frame = pd.read_parquet(folder / f"{table}.parquet")
    if table not in MAY_BE_EMPTY:
        assert len(frame) > 0, f"{notebook} wrote an empty {table}"


@pytest.mark.parametrize("notebook, figure", [(nb, f) for nb, figs in EXPECTED_FIGURES.items() for f in figs])
def test_every_expected_figure_exists_as_png_and_svg(full_run, notebook, figure):
    folder = full_run.out / "figures"
    with Image.open(folder / f"{figure}.png") as png:
        png.load()
        assert round(png.info["dpi"][0]) == 200
        assert min(png.size) > 300
        # not a blank canvas
        assert len(png.convert("L").getcolors(maxcolors=1 << 20) or []) > 20
    svg = (folder / f"{figure}.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<path" in svg


def test_indicator_cells_carry_a_status_and_their_evidence(full_run):
    folder = full_run.out / "data" / "processed"
    values = pd.read_parquet(folder / "indicators.parquet")
    candidates = pd.read_parquet(folder / "indicator_candidates.parquet")
    assert set(values["status"]) == {"stated", "review"}
    review = values[values["status"] == "review"]
    assert review["value"].isna().all() and review["candidates"].str.contains("「").all()
    hotline = values[(values["doc_id"] == "2022-shanxi-yangquan-kuangqu") & (values["indicator_id"] == "hotline_work_orders")]
    assert hotline["value"].tolist() == [6308.0]
    # every candidate of every cell is in the evidence table, the rejected ones with a reason
    assert candidates.groupby(["doc_id", "indicator_id"]).size().reindex(
        pd.MultiIndex.from_frame(values[["doc_id", "indicator_id"]])).ge(1).all()
    assert (candidates.loc[candidates["verdict"] == "rejected", "reject"] != "").all()
    page = (full_run.out / "reports" / "html" / "03_indicators.results.html").read_text(encoding="utf-8")
    assert "cell precision" in page and "wait for review" in page


def test_visualization_figures_carry_their_data_and_reading(full_run):
    folder = full_run.out / "figures"
    for figure in EXPECTED_FIGURES["04_visualization"]:
        data = pd.read_csv(folder / f"{figure}.csv", encoding="utf-8-sig")
        assert len(data) > 0, figure
        with Image.open(folder / f"{figure}.png") as png:
            assert len(png.text.get("Description", "")) > 20, figure  # the one-line reading


def test_overview_data_matches_the_documents_table(full_run):
    processed = full_run.out / "data" / "processed"
    documents = pd.read_parquet(processed / "documents.parquet")
    overview = pd.read_csv(full_run.out / "figures" / "04_corpus_overview.csv", encoding="utf-8-sig")
    assert dict(zip(overview["doc_id"], overview["n_chars"])) == dict(zip(documents["doc_id"], documents["n_chars"]))
    shares = overview[[c for c in overview.columns if c.startswith("share_")]].sum(axis=1)
    assert shares.round(3).eq(1.0).all()


def test_report_bundle_is_complete(full_run):
    reports = full_run.out / "reports"
    record = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    assert [(n["name"], n["status"]) for n in record["notebooks"]] == [(n, "ok") for n in config.NOTEBOOK_ORDER]
    for name in config.NOTEBOOK_ORDER:
        for suffix in (".html", ".results.html"):
            page = reports / "html" / f"{name}{suffix}"
            assert page.stat().st_size > 10_000, page
        assert (reports / "executed" / f"{name}.ipynb").exists()
    index = BeautifulSoup((reports / "index.html").read_text(encoding="utf-8"), "html.parser")
    gallery = {fig["id"] for fig in index.find_all("figure")}
    on_disk = {p.stem for p in (full_run.out / "figures").glob("*.png")}
    assert gallery == on_disk
    assert {f for figs in EXPECTED_FIGURES.values() for f in figs} <= gallery
    inputs = {f["file"]: f["sha256"] for f in record["inputs"]["files"]}
    assert inputs == full_run.copy_before


def test_no_html_file_has_any_script(full_run):
    for page in (full_run.out / "reports").rglob("*.html"):
        assert report.active_content(page.read_text(encoding="utf-8")) == [], page.name


def test_visualization_alone_on_a_partial_pipeline(full_run, tmp_path):
    """Only the tables of 01: the figures that need them are drawn (in English), the others are
    skipped with a note instead of failing."""
    processed = tmp_path / "out" / "data" / "processed"
    processed.mkdir(parents=True)
    for table in ("documents", "sections"):
        shutil.copy2(full_run.out / "data" / "processed" / f"{table}.parquet", processed)
    lines: list[str] = []
    status = report.run_collection(only=["04"], raw=full_run.raw, out=tmp_path / "out", log=lines.append,
                                   parameters={"lang": "en", "figures": ["corpus_overview", "top_terms"]})
    assert status == 0, "\n".join(lines)
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "04_corpus_overview_en.csv", "04_corpus_overview_en.png", "04_corpus_overview_en.svg"]
    executed = nbformat.read(tmp_path / "out" / "reports" / "executed" / "04_visualization.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "term_frequencies.parquet is missing" in printed
    assert "skipped top_terms: needs term_frequencies (run 02_term_frequency first)" in printed
    assert "skipped theme_radar" not in printed  # not asked for: no note either


def test_markup_in_a_report_stays_inert_through_the_cleaning_notebook(tmp_path):
    """A report whose title, heading and body carry a script and an event handler goes through
    01_cleaning and the report build: the markup shows as text, never as live HTML."""
    raw = tmp_path / "raw"
    raw.mkdir()
    source = (config.RAW / "001_e39e1493065be82e.txt").read_text(encoding="utf-8")
    hostile = ("<script>alert('xss')</script>某区2022年法治政府建设年度报告\n"
               + source.replace("一、2022年法治政府建设开展情况",
                                "一、2022年法治政府建设<img src=x onerror=alert(1)>开展情况", 1)
                       .replace("坚持法治引领。", "坚持法治引领<script>document.title='x'</script>。", 1))
    (raw / "hostile.txt").write_text(hostile, encoding="utf-8")
    lines: list[str] = []
    status = report.run_collection(only=["01"], raw=raw, out=tmp_path / "out", log=lines.append)
    assert status == 0, "\n".join(lines)
    pages = sorted((tmp_path / "out" / "reports").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        soup = BeautifulSoup(text, "lxml")
        assert not soup.find_all(["script", "iframe", "object", "embed"]), page.name
        assert not [(t.name, a) for t in soup.find_all(True) for a in t.attrs if a.lower().startswith("on")], page.name
    cleaning = (tmp_path / "out" / "reports" / "html" / "01_cleaning.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in cleaning or "&lt;script&gt;" in cleaning  # shown, as text


def test_unknown_region_and_garbled_reports_through_the_collection(tmp_path):
    """A report whose region cannot be inferred is a group of its own (labelled by its doc_id,
    not merged with other unknowns into a blank group); a report still garbled after repair is
    left out of the analyses with a note, and kept in the documents table."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("000_d902d7a4c29cde5a.txt", "002_85a6f3b4405b5e46.txt"):
        shutil.copy(config.RAW / name, raw / name)
    lines = (config.RAW / "001_e39e1493065be82e.txt").read_text(encoding="utf-8").splitlines()
    # no subject in the title, no opening sentence, no signature: nothing names the region
    (raw / "unnamed.txt").write_text("关于2022年法治政府建设情况的报告\n" + "\n".join(lines[2:-3]), encoding="utf-8")
    text = (config.RAW / "003_2cdd6b3c9939285b.txt").read_text(encoding="utf-8")
    (raw / "garbled.txt").write_text(text.encode("utf-8").decode("gbk", errors="replace"), encoding="utf-8")
    out = tmp_path / "out"
    log: list[str] = []
    assert report.run_collection(raw=raw, out=out, log=log.append) == 0, "\n".join(log)

    processed = out / "data" / "processed"
    docs = pd.read_parquet(processed / "documents.parquet").set_index("doc_id")
    assert docs.loc["unnamed", "region"] == "" and docs.loc["unnamed", "city"] == "阳泉市"
    assert docs.loc["garbled", "garbled_share"] > 0.2
    tf = pd.read_parquet(processed / "term_frequencies.parquet")
    assert "garbled" not in set(tf["doc_id"])
    assert set(tf.loc[tf["doc_id"] == "unnamed", "region"]) == {"unnamed"}
    assert "garbled" not in set(pd.read_parquet(processed / "indicators.parquet")["doc_id"])
    top = pd.read_csv(out / "figures" / "04_top_terms.csv", encoding="utf-8-sig")
    assert "unnamed" in set(top["region"]) and not top["region"].isna().any()
    for name in ("02_term_frequency", "03_indicators", "04_visualization"):
        executed = nbformat.read(out / "reports" / "executed" / f"{name}.ipynb", as_version=4)
        printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
        assert "left out garbled: 5" in printed, name  # "… 5x% of its characters garbled"
