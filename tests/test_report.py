"""The runner (python -m helpers run) on small fixture notebooks, and the safety of every HTML file
it writes. The whole collection on the sample reports runs once, in test_notebooks.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from helpers import __main__ as cli
from helpers import config, report

MANIFEST = pd.read_csv(config.RAW / config.MANIFEST_NAME, dtype=str)

PARAMETERS = '''raw_dir: str = ""  # folder of reports; "" = data/raw
out_dir: str = ""  # output root; "" = the project
documents: list = []  # files to include; [] = all
top_n: int = 5  # terms per region'''

# Reads the reports of raw_dir, shows their first lines as a table, saves a figure and its CSV.
READ_AND_PLOT = '''
import pandas as pd
from helpers import config, plots
paths = config.project_paths(raw=raw_dir, out=out_dir).makedirs()
files = sorted(p for p in paths.raw.glob("*.txt") if not documents or p.name in documents)
first = pd.DataFrame({"file": [p.name for p in files],
                      "first_line": [p.read_text(encoding="utf-8").strip().splitlines()[0] for p in files]})
first
'''
PLOT = '''
counts = pd.Series({p.name[:3]: len(p.read_text(encoding="utf-8")) for p in files})
ax = plots.bar_chart(counts, title=first["first_line"].iloc[-1][:30], xlabel=plots.label("axis.n_chars"))
plots.save_figure(ax.figure, "fixture_lengths", paths.figures, data=counts.rename("n_chars"),
                  caption="篇幅：" + first["first_line"].iloc[-1][:40])
'''
# Every way a notebook can put document text into its output.
SHOW_EVERYWHERE = '''
from IPython.display import HTML, Markdown, display
title = first.loc[first.file == "hostile.txt", "first_line"].item()
display(first.style.highlight_max(subset=["file"]))  # a Styler does not escape cell text
display(Markdown("**标题**：" + title))
display(HTML("<p>" + title + "</p>"))
print(title)
'''


def _notebook(*sources: str, parameters: str | None = PARAMETERS) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cells = [nbformat.v4.new_markdown_cell("# Fixture\n\nA notebook for the runner tests.")]
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(source.strip()) for source in sources]
    nb.cells = cells
    return nb


def _write(folder: Path, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _raw_copy(tmp: Path, files: list[str]) -> Path:
    raw = tmp / "raw"
    raw.mkdir()
    for name in files:
        shutil.copy2(config.RAW / name, raw / name)
    return raw


@pytest.fixture(scope="module")
def decoy_root(tmp_path_factory):
    """Point the project root (in this process and, through FAZHI_ROOT, in every kernel) at an
    empty folder: anything a run writes outside --out lands there and is caught."""
    root = tmp_path_factory.mktemp("decoy_root")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAZHI_ROOT", str(root))
        for name, path in (("ROOT", root), ("PROCESSED", root / "data" / "processed"),
                           ("FIGURES", root / "figures"), ("REPORTS", root / "reports"), ("CACHE", root / ".cache")):
            mp.setattr(config, name, path)
        yield root


def _run(**kwargs) -> tuple[int, str]:
    lines: list[str] = []
    status = report.run_collection(log=lines.append, **kwargs)
    return status, "\n".join(lines)


# --------------------------------------------------------------------------- helpers

@pytest.mark.parametrize("only, expected", [
    (None, list(config.NOTEBOOK_ORDER)),
    (["02"], ["02_term_frequency"]),
    (["04_visualization", "01"], ["01_cleaning", "04_visualization"]),
    (["notebooks/03_indicators.ipynb"], ["03_indicators"]),
])
def test_select_notebooks(only, expected):
    assert report.select_notebooks(config.NOTEBOOK_ORDER, only) == expected


def test_unknown_notebook_is_a_usage_error(capsys):
    assert cli.main(["run", "--only", "07_maps"]) == 2
    assert "no notebook called '07_maps'" in capsys.readouterr().out


def test_missing_raw_folder_is_a_usage_error(tmp_path):
    status, out = _run(raw=tmp_path / "nowhere", out=tmp_path / "out")
    assert status == 2 and "does not exist" in out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("declared, given, expected", [
    ({"top_n": "int"}, {"top_n": 7, "theme": "5"}, {"top_n": 7}),
    ({"documents": "list"}, {"documents": "2022-shanxi-yangquan-kuangqu"}, {"documents": ["2022-shanxi-yangquan-kuangqu"]}),
    ({"documents": "list"}, {"documents": ["a", "b"]}, {"documents": ["a", "b"]}),
    ({"theme": "str"}, {"theme": 5}, {"theme": "5"}),
    ({"min_share": "float"}, {"min_share": 1}, {"min_share": 1.0}),
    ({}, {"top_n": 7}, {}),
])
def test_parameters_reach_only_notebooks_declaring_them(declared, given, expected):
    assert report.parameters_for(declared, given) == expected


@pytest.mark.parametrize("fragment, visible", [
    ('<td>中山火炬<script>alert(1)</script></td>', "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('<p>矿区<img src=x onerror="alert(2)"></p>', '&lt;img src=x onerror="alert(2)"&gt;'),
    ('<a href="javascript:alert(3)">武江区</a>', "<a>武江区</a>"),
    ('<div onclick="steal()">开发区·铁山区</div>', "<div>开发区·铁山区</div>"),
    ('<svg><script>alert(4)</script></svg>', "&lt;svg&gt;&lt;script&gt;"),
    ('<iframe src="https://example.org"></iframe>', "&lt;iframe"),
])
def test_sanitizer_leaves_markup_visible_but_inert(fragment, visible):
    cleaned = report.sanitize_html(fragment)
    assert visible in cleaned
    assert report.active_content(f"<html><body>{cleaned}</body></html>") == []


def test_sanitizer_keeps_pandas_tables():
    table = MANIFEST[["region", "report_year"]].head(2)
    for page in (table.to_html(), table.style.highlight_max(subset=["report_year"]).to_html()):
        cleaned = report.sanitize_html(page)
        assert "<table" in cleaned and "<th" in cleaned and MANIFEST["region"].iloc[0] in cleaned
    assert "<style>" in report.sanitize_html(table.style.to_html())


@pytest.mark.parametrize("page, found", [
    ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", []),
    ("<script src='x.js'></script>", ["<script>"]),
    ('<body onload="f()">', ["<body onload=…>"]),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>', ["<a href=javascript:alert(1)…>"]),
    ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', ["<img src=data:image/svg+xml;base64,phn2…>"]),
    ('<img src="data:image/png;base64,iVBORw0KGgo=">', []),
])
def test_active_content_finder(page, found):
    assert report.active_content(page) == found


def test_embedded_font_holds_exactly_the_chinese_of_the_page():
    import base64
    import io

    from fontTools.ttLib import TTFont

    region = MANIFEST["region"].iloc[2]
    page = f"<html><head><title>报告</title><style>p{{}}</style></head><body><p>{region} 2024 report</p></body></html>"
    css = report.embedded_font_css(page)
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\)", css).group(1)
    font = TTFont(io.BytesIO(base64.b64decode(data)))
    covered = {chr(c) for c in font.getBestCmap()}
    assert set(region + "报告") <= covered
    assert not covered & set("矿铁普")  # nothing beyond the page (and no Latin: the page's own fonts)
    assert "unicode-range:U+2E80" in css
    assert report.embedded_font_css("<html><body><p>only ASCII</p></body></html>") == ""
    embedded = report.with_embedded_font(page)
    assert embedded.index("@font-face") < embedded.index("</head>")
    assert report.active_content(embedded) == []


# --------------------------------------------------------------------------- the runner

@pytest.fixture(scope="module")
def success_run(tmp_path_factory, decoy_root):
    """Two fixture notebooks (one declaring parameters, one declaring none) on two real reports."""
    tmp = tmp_path_factory.mktemp("success")
    raw = _raw_copy(tmp, MANIFEST["file"].iloc[:2].tolist())
    notebooks = _write(tmp / "notebooks", {
        "01_read": _notebook(READ_AND_PLOT, PLOT),
        "02_plain": _notebook("print('no parameters here')", parameters=None),
    })
    before = {p: p.stat().st_mtime_ns for p in [*raw.iterdir(), *notebooks.iterdir()]}
    status, log = _run(raw=raw, out=tmp / "out", notebooks_dir=notebooks, order=["01_read", "02_plain"],
                       parameters={"top_n": 7, "documents": MANIFEST["file"].iloc[1]})
    after = {p: p.stat().st_mtime_ns for p in [*raw.iterdir(), *notebooks.iterdir()]}
    return {"status": status, "log": log, "out": tmp / "out", "raw": raw,
            "inputs_unchanged": before == after, "stray": sorted(map(str, decoy_root.rglob("*")))}


@pytest.mark.parametrize("parameters, line", [
    ({"theme": "5"}, "error: parameter theme: no notebook declares it"),
    ({"top_n": 3}, "error: parameter top_n: declared only by 01_read, not run here"),
])
def test_a_parameter_no_notebook_of_the_run_takes_is_refused_before_it(tmp_path, parameters, line):
    raw = _raw_copy(tmp_path, MANIFEST["file"].iloc[:1].tolist())
    notebooks = _write(tmp_path / "notebooks", {
        "01_read": _notebook(READ_AND_PLOT, PLOT),
        "02_plain": _notebook("print('no parameters here')", parameters=None),
    })
    status, log = _run(raw=raw, out=tmp_path / "out", notebooks_dir=notebooks, order=["01_read", "02_plain"],
                       parameters=parameters, only=["02_plain"])
    assert status == 2 and line in log
    assert not (tmp_path / "out" / "reports" / "executed" / "02_plain.ipynb").exists()


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_success_writes_executed_notebooks_html_and_index(success_run):
    assert success_run["status"] == 0, success_run["log"]
    reports = success_run["out"] / "reports"
    for name in ("01_read", "02_plain"):
        assert (reports / "executed" / f"{name}.ipynb").stat().st_size > 0
        assert (reports / "html" / f"{name}.html").stat().st_size > 0
        assert (reports / "html" / f"{name}.results.html").stat().st_size > 0
    assert (reports / "index.html").exists() and (reports / "run.json").exists()


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_run_writes_only_under_out(success_run):
    out = success_run["out"]
    assert success_run["stray"] == []  # nothing under the (decoy) project root
    assert success_run["inputs_unchanged"]  # raw reports and notebooks untouched
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "fixture_lengths.csv", "fixture_lengths.png", "fixture_lengths.svg"]


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_parameters_given_with_p_reach_only_declaring_notebooks(success_run):
    executed = success_run["out"] / "reports" / "executed"
    injected = [c for c in nbformat.read(executed / "01_read.ipynb", as_version=4).cells
                if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    source = injected[0].source
    assert "top_n = 7" in source
    assert f'documents = ["{MANIFEST["file"].iloc[1]}"]' in source  # a single value became a list
    assert f'raw_dir = "{success_run["raw"]}"' in source
    plain = nbformat.read(executed / "02_plain.ipynb", as_version=4)
    assert not [c for c in plain.cells if "injected-parameters" in c.metadata.get("tags", [])]
    # documents=[one file] really filtered what the notebook read
    cells = nbformat.read(executed / "01_read.ipynb", as_version=4).cells
    table = next(c for c in cells if c.source.startswith("import pandas")).outputs[0]["data"]["text/plain"]
    assert MANIFEST["file"].iloc[1] in table and MANIFEST["file"].iloc[0] not in table


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_html_is_self_contained_with_figures_embedded(success_run):
    html_dir = success_run["out"] / "reports" / "html"
    full = (html_dir / "01_read.html").read_text(encoding="utf-8")
    results = (html_dir / "01_read.results.html").read_text(encoding="utf-8")
    for page in (full, results):
        soup = BeautifulSoup(page, "html.parser")
        images = soup.find_all("img")
        assert images and all(img["src"].startswith("data:image/png;base64,") for img in images)
        assert not soup.find_all("script")
        assert not soup.find_all("link", rel="stylesheet")  # CSS inline too
    full_text = BeautifulSoup(full, "html.parser").get_text()
    results_text = BeautifulSoup(results, "html.parser").get_text()
    assert "plots.bar_chart(" in full_text and "plots.bar_chart(" not in results_text  # code only in one
    assert MANIFEST["file"].iloc[1] in results_text  # outputs in both


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_index_records_the_run(success_run):
    reports = success_run["out"] / "reports"
    page = (reports / "index.html").read_text(encoding="utf-8")
    record = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    assert [n["name"] for n in record["notebooks"]] == ["01_read", "02_plain"]
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in record["notebooks"])
    assert record["notebooks"][0]["parameters"]["top_n"] == 7
    assert record["notebooks"][1]["parameters"] == {}
    # input hashes: every raw file, as sha256 of its bytes
    raw_file = success_run["raw"] / MANIFEST["file"].iloc[0]
    assert report.file_digest(raw_file) in page
    assert {f["file"] for f in record["inputs"]["files"]} == {p.name for p in success_run["raw"].iterdir()}
    # configuration files of helpers/data with their hashes, and package versions
    labels = next(f for f in record["configuration"] if f["file"] == "plot_labels.yaml")
    assert labels["sha256"] == report.file_digest(config.PACKAGE_DATA / "plot_labels.yaml")
    assert labels["sha256"][:16] in page
    assert record["packages"]["pandas"] == pd.__version__ and "papermill" in page
    from helpers import cache

    assert record["pipeline_version"] == cache.pipeline_version()  # the pipeline cache key of these results
    soup = BeautifulSoup(page, "html.parser")
    hrefs = {a["href"] for a in soup.find_all("a")}
    assert {"html/01_read.html", "html/01_read.results.html", "executed/01_read.ipynb"} <= hrefs
    # the bundle: figures copied inside reports/, every link relative to it
    assert {"figures/fixture_lengths.png", "figures/fixture_lengths.svg", "figures/fixture_lengths.csv"} <= hrefs
    assert all(not h.startswith(("/", "..")) for h in hrefs)
    figure = soup.find("figure", id="fixture_lengths")
    assert figure.img["src"] == "figures/fixture_lengths.png"
    assert "篇幅：" in figure.figcaption.get_text()  # the caption saved in the PNG
    for href in hrefs:
        assert (reports / href).exists(), href


# --------------------------------------------------------------------------- kernels started ahead

def test_import_statements_of_a_notebook(tmp_path):
    nb = _notebook("import json\nfrom pathlib import Path\nx = 1", "%matplotlib inline\nimport os",
                   "def f():\n    import csv\n    return csv\nfrom __future__ import annotations\nimport wave",
                   "from os import (\n    path,\n    sep,\n)")
    nbformat.write(nb, tmp_path / "n.ipynb")
    # top-level imports only, one line each; a cell with a magic is not Python and is skipped
    assert report.import_statements(tmp_path / "n.ipynb") == [
        "import json", "from pathlib import Path", "import wave", "from os import path, sep"]
    code = report.warm_up_code(["import json"], calls=False)
    namespace: dict = {}
    exec(code, namespace)  # runs the imports in a function, and leaves no name behind
    assert set(namespace) == {"__builtins__"}


# What the kernel's namespace and history look like to the notebook, and whether the module the
# notebook imports later was loaded before its first cell ran.
NAMESPACE = "import sys\nprint('wave' in sys.modules, len(In), sorted(n for n in dir() if n != 'sys'))"


@pytest.fixture(scope="module")
def warmed_run(tmp_path_factory, decoy_root):
    """Two notebooks, the second waiting for the first: its kernel starts and warms up meanwhile."""
    tmp = tmp_path_factory.mktemp("warmed")
    raw = _raw_copy(tmp, MANIFEST["file"].iloc[:1].tolist())
    notebooks = _write(tmp / "notebooks", {
        "01_first": _notebook("import time\ntime.sleep(2)"),
        "02_waits": _notebook(NAMESPACE, "import wave\nprint(wave.__name__)", parameters=None),
    })
    status, log = _run(raw=raw, out=tmp / "out", notebooks_dir=notebooks, order=["01_first", "02_waits"])
    plain = tmp / "plain.ipynb"  # the same notebook, run by papermill alone
    report.load_papermill().execute_notebook(str(notebooks / "02_waits.ipynb"), str(plain), kernel_name="python3",
                                             progress_bar=False, cwd=str(notebooks))
    return {"status": status, "log": log, "executed": tmp / "out" / "reports" / "executed" / "02_waits.ipynb",
            "plain": plain}


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_warm_kernel_leaves_the_notebook_as_papermill_makes_it(warmed_run):
    assert warmed_run["status"] == 0, warmed_run["log"]
    warm, plain = (nbformat.read(warmed_run[key], as_version=4) for key in ("executed", "plain"))
    for nb in (warm, plain):
        assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2]
    printed = [[o["text"] for o in c.outputs] for nb in (warm, plain) for c in nb.cells if c.cell_type == "code"]
    warm_first, warm_second, plain_first, plain_second = printed
    assert warm_first[0].startswith("True 2 ")  # the imports ran before the notebook: 'wave' was loaded
    assert plain_first[0].startswith("False 2 ")
    # … and nothing else differs: the same names, the same history, the same outputs
    assert warm_first[0].removeprefix("True") == plain_first[0].removeprefix("False")
    assert warm_second == plain_second == ["wave\n"]


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@pytest.mark.slow  # starts kernels
def test_closing_now_kills_kernels_still_warming_up(tmp_path):
    kernels = report.Kernels("python3", cwd=tmp_path)
    kernels.start("a", warm_up="import time\ntime.sleep(60)")
    deadline = time.monotonic() + 30
    while not (kernels._managers.get("a") and kernels._managers["a"].has_kernel) and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = kernels._managers["a"].provisioner.pid
    time.sleep(1)  # the warm-up is under way
    tick = time.monotonic()
    kernels.close(now=True)
    assert time.monotonic() - tick < 10
    assert _process_gone(pid)


@pytest.mark.slow  # starts a kernel
def test_a_notebook_deaf_to_the_interrupt_is_stopped_by_killing_its_kernel(tmp_path):
    deaf = "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass"
    notebooks = _write(tmp_path / "notebooks", {"01_deaf": _notebook(deaf, parameters=None)})
    kernels = report.Kernels("python3", cwd=notebooks)
    stopper = report.Stopper()
    future = kernels.run("01_deaf", lambda manager: report.execute(
        notebooks / "01_deaf.ipynb", tmp_path / "01_deaf.ipynb", {}, cwd=notebooks, stopper=stopper, manager=manager))
    try:
        time.sleep(6)  # kernel started, the endless cell running
        tick = time.monotonic()
        stopper.stop(grace=1)
        with pytest.raises(report.NotebookStopped, match="01_deaf: stopped"):
            future.result(timeout=30)
        assert time.monotonic() - tick < 15
    finally:
        kernels.close(now=True)
    assert (tmp_path / "01_deaf.ipynb").exists()  # the partial notebook, as far as it went


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("failing")
    raw = _raw_copy(tmp, MANIFEST["file"].iloc[:1].tolist())
    notebooks = _write(tmp / "notebooks", {
        "01_read": _notebook(READ_AND_PLOT),
        "02_breaks": _notebook(READ_AND_PLOT, "print('before the error')",
                               "counts = first.set_index('file')['n_chars']", "print('never reached')"),
        "03_after": _notebook("print('not run')"),
    })
    status, log = _run(raw=raw, out=tmp / "out", notebooks_dir=notebooks,
                       order=["01_read", "02_breaks", "03_after"])
    return {"status": status, "log": log, "out": tmp / "out", "notebooks": notebooks}


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_failing_cell_stops_the_run_naming_notebook_cell_and_error(failing_run):
    assert failing_run["status"] == 1
    log = failing_run["log"]
    executed = failing_run["out"] / "reports" / "executed"
    written = nbformat.read(failing_run["notebooks"] / "02_breaks.ipynb", as_version=4).cells
    number = next(i for i, c in enumerate(written, start=1) if c.source.startswith("counts ="))
    ran = nbformat.read(executed / "02_breaks.ipynb", as_version=4).cells
    count = next(c.execution_count for c in ran if c.source.startswith("counts ="))
    assert (f"02_breaks: cell {number} (In [{count}] of the executed copy) "
            "`counts = first.set_index('file')['n_chars']` raised KeyError: 'n_chars'") in log, log
    assert "[3/3]" not in log  # 03_after never started
    assert not (executed / "03_after.ipynb").exists()


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_failing_run_keeps_the_partial_notebook_and_reports_it(failing_run):
    reports = failing_run["out"] / "reports"
    partial = nbformat.read(reports / "executed" / "02_breaks.ipynb", as_version=4)
    outputs = {c.source.splitlines()[0]: c.get("outputs", []) for c in partial.cells if c.cell_type == "code"}
    assert outputs["print('before the error')"][0]["text"] == "before the error\n"
    assert outputs["counts = first.set_index('file')['n_chars']"][0]["ename"] == "KeyError"
    assert outputs["print('never reached')"] == []
    record = json.loads((reports / "run.json").read_text(encoding="utf-8"))
    assert [(n["name"], n["status"]) for n in record["notebooks"]] == [
        ("01_read", "ok"), ("02_breaks", "failed"), ("03_after", "not run")]
    assert record["status"] == "failed"
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert "KeyError" in page and "02_breaks.ipynb" in page
    assert (reports / "html" / "02_breaks.html").exists()  # the partial run can be read in a browser


def test_cli_run_exit_status_and_message(tmp_path, capsys):
    raw = _raw_copy(tmp_path, MANIFEST["file"].iloc[:1].tolist())
    # the real command line, on the collection's own notebooks, asking for one that does not exist
    assert cli.main(["run", "--only", "99", "--raw", str(raw), "--out", str(tmp_path / "out")]) == 2
    assert "choose from 01_cleaning" in capsys.readouterr().out


# --------------------------------------------------------------------------- safety

HOSTILE_TITLE = '<script>alert("xss")</script>某某区2023年法治政府建设年度报告<img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A temporary corpus holding a real report and one whose title and body carry markup."""
    tmp = tmp_path_factory.mktemp("hostile")
    raw = _raw_copy(tmp, MANIFEST["file"].iloc[:1].tolist())
    body = (config.RAW / MANIFEST["file"].iloc[1]).read_text(encoding="utf-8")
    (raw / "hostile.txt").write_text(
        f"{HOSTILE_TITLE}\n{body[:400]}<a href=\"javascript:alert(2)\" onclick=\"alert(3)\">详情</a>\n",
        encoding="utf-8")
    notebooks = _write(tmp / "notebooks", {"01_hostile": _notebook(READ_AND_PLOT, SHOW_EVERYWHERE, PLOT)})
    status, log = _run(raw=raw, out=tmp / "out", notebooks_dir=notebooks, order=["01_hostile"])
    return {"status": status, "log": log, "out": tmp / "out"}


def _live_content(page: str) -> list[str]:
    """Scripts, event handlers and script URLs, found with a parser independent of the runner's."""
    soup = BeautifulSoup(page, "lxml")
    found = [f"<{t.name}>" for t in soup.find_all(["script", "iframe", "object", "embed", "base"])]
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            if name.lower().startswith("on"):
                found.append(f"<{tag.name} {name}>")
            if isinstance(value, str) and re.match(r"\s*(javascript|vbscript):", value, re.I):
                found.append(f"<{tag.name} {name}={value}>")
    return found


@pytest.mark.slow  # runs fixture notebooks in a kernel
def test_document_markup_never_becomes_live_html(hostile_run):
    assert hostile_run["status"] == 0, hostile_run["log"]
    pages = sorted((hostile_run["out"] / "reports").rglob("*.html"))
    assert [p.name for p in pages] == ["01_hostile.html", "01_hostile.results.html", "index.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert _live_content(text) == [], page.name
        assert "alert(1)" not in text or "&lt;img src=x onerror=alert(1)&gt;" in text
    notebook_page = (hostile_run["out"] / "reports" / "html" / "01_hostile.html").read_text(encoding="utf-8")
    # the markup reached the page as text (table, Styler, Markdown, HTML and print output) …
    assert notebook_page.count("&lt;script&gt;alert(") >= 4
    # … and the reader sees it as written
    shown = BeautifulSoup(notebook_page, "lxml").get_text()
    assert HOSTILE_TITLE in shown
    index_page = (hostile_run["out"] / "reports" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in index_page  # the figure caption


def test_missing_values_in_rendered_tables_show_as_a_dash(tmp_path):
    import nbformat
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"region": ["矿区", "武江区"], "value": [6308.0, np.nan], "quote": ["热线6308件", None]})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("frame", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/html": frame.to_html(), "text/plain": str(frame)},
                               execution_count=1)])])
    executed = tmp_path / "t.ipynb"
    nbformat.write(notebook, executed)
    full, results = report.export_pages(executed, tmp_path / "t.html", tmp_path / "t.results.html")
    page = results.read_text(encoding="utf-8")
    assert ">NaN<" not in page and ">None<" not in page
    assert page.count("<td>—</td>") == 2 and "no value (not reported" in page
