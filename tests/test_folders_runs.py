"""The folders researchers really have, run through the whole collection and the commands: one report,
one region over several years, a report and its revised version; and the mistakes of calling the
commands (an output folder inside the input, bad option values, a full disk, Ctrl-C), each ending in one
line and a non-zero exit. Every folder is built from the sample reports and hashed before and after."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from collection_run import tree_digest
from helpers import __main__ as cli
from helpers import config

SAMPLE = config.RAW / "002_85a6f3b4405b5e46.txt"  # 武江区 2024


def _another_year(text: str, year: int, bump: int) -> str:
    """The report as another year's would be written: its years moved, its figures changed."""
    moved = text.replace("2024", str(year)).replace("2025", str(year + 1))
    return re.sub(r"(?<![\d.])(\d{2,5})(?=[件宗人次场项个名份])", lambda m: str(int(m.group(1)) + bump), moved)


def build(kind: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    text = SAMPLE.read_text(encoding="utf-8")
    if kind == "one":
        shutil.copyfile(config.RAW / "001_e39e1493065be82e.txt", folder / "kuangqu_2022.txt")
    elif kind == "years":
        for year, bump in ((2022, 3), (2023, 1), (2024, 0)):
            (folder / f"wujiang_{year}.txt").write_text(_another_year(text, year, bump) if bump else text,
                                                        encoding="utf-8")
    elif kind == "revised":
        (folder / "wujiang_2024.txt").write_text(text, encoding="utf-8")
        (folder / "wujiang_2024_revised.txt").write_text(_another_year(text, 2024, 2), encoding="utf-8")
    return folder


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=config.ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("kind, compared_by, groups", [
    ("one", None, []),
    ("years", "years", ["2022", "2023", "2024"]),
    ("revised", "reports", ["wujiang_2024", "wujiang_2024_revised"]),
])
def test_every_notebook_runs_on_the_folders_researchers_have(tmp_path, kind, compared_by, groups):
    raw = build(kind, tmp_path / "raw")
    before = tree_digest(raw)
    done = run("run", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert tree_digest(raw) == before
    processed = tmp_path / "out" / "data" / "processed"
    keyness = pd.read_parquet(processed / "keyness.parquet")
    assert sorted(keyness["group"].astype(str).unique()) == groups
    page = (tmp_path / "out" / "reports" / "html" / "02_term_frequency.results.html").read_text(encoding="utf-8")
    expected = {None: "one report: nothing to compare", "years": "report years are compared instead",
                "reports": "each report is compared with the others"}[compared_by]
    assert expected in page
    # reports of one region and year stay apart in the comparison table and the evidence
    wide = pd.read_parquet(processed / "indicators_wide.parquet")
    assert wide["region_year"].is_unique and len(wide) == len(before)
    figures = tmp_path / "out" / "figures"
    assert (figures / "04_indicator_bars.png").exists()
    assert (figures / "04_year_comparison.png").exists() == (kind == "years")


def test_output_inside_the_input_is_refused(tmp_path):
    raw = build("one", tmp_path / "raw")
    before = tree_digest(raw)
    for args in (("run", "--raw", str(raw), "--out", str(raw / "out")),
                 ("run", "--raw", str(raw), "--out", str(raw)),
                 ("clean", str(raw), "--out", str(raw / "tables")),
                 ("run", "--raw", str(raw), "--out", str(tmp_path))):  # the input inside the output
        done = run(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "outputs would be read as reports" in done.stderr
    assert tree_digest(raw) == before


@pytest.mark.parametrize("args, message", [
    (("clean", "{raw}", "--out", "{tmp}/t", "--workers", "0"), "give a positive number of workers"),
    (("clean", "{raw}", "--out", "{tmp}/t", "--workers", "two"), "not a whole number"),
    (("run", "--raw", "{tmp}/missing", "--out", "{tmp}/o"), "no such folder of reports"),
    (("run", "--raw", "{raw}", "--out", "{tmp}/a_file"), "is a file; name a folder"),
    (("indicators", "{raw}", "--out", "{tmp}"), "is a folder; name the CSV file"),
])
def test_bad_option_values_end_in_one_line(tmp_path, args, message):
    raw = build("one", tmp_path / "raw")
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    done = run(*(a.format(raw=raw, tmp=tmp_path) for a in args))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("error, line", [
    (OSError(errno.ENOSPC, "No space left on device", "/data/out/tokens.parquet"),
     "error: the disk is full: /data/out/tokens.parquet"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/out"), "error: permission denied: /data/out"),
])
def test_disk_and_permission_errors_end_in_one_line(monkeypatch, capsys, tmp_path, error, line):
    from helpers import pipeline

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(pipeline, "clean_command", fail)
    raw = build("one", tmp_path / "raw")
    assert cli.main(["clean", str(raw), "--out", str(tmp_path / "t")]) == 1
    assert capsys.readouterr().err.strip() == line
    with pytest.raises(OSError):  # --debug shows the traceback
        cli.main(["--debug", "clean", str(raw), "--out", str(tmp_path / "t")])


@pytest.mark.slow
def test_ctrl_c_ends_in_one_line_and_leaves_no_kernel(tmp_path):
    import psutil

    raw = build("one", tmp_path / "raw")
    process = subprocess.Popen([sys.executable, "-m", "helpers", "run", "--raw", str(raw), "--out",
                                str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=config.ROOT)
    time.sleep(6)  # inside the notebooks
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted (Ctrl-C)"
    _, alive = psutil.wait_procs(children, timeout=20)
    assert alive == []
    # the run is recorded as interrupted, the notebook that was running as partial
    import json

    record = json.loads((tmp_path / "out" / "reports" / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "interrupted"
    assert "interrupted" in {entry["status"] for entry in record["notebooks"]}
    assert "interrupted" in (tmp_path / "out" / "reports" / "index.html").read_text(encoding="utf-8")


def test_links_and_texts_that_are_not_reports_are_named(tmp_path):
    from helpers import pipeline

    raw = build("one", tmp_path / "raw")
    (raw / "missing.txt").symlink_to(tmp_path / "nowhere.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(config.RAW / "000_d902d7a4c29cde5a.txt", elsewhere / "huoju.txt")
    (raw / "linked").symlink_to(elsewhere, target_is_directory=True)
    (raw / "english.txt").write_text("Annual report on building a law-based government. " * 8, encoding="utf-8")
    (raw / "title.txt").write_text("某县人民政府2023年法治政府建设年度报告\n", encoding="utf-8")
    before = tree_digest(raw)
    result = pipeline.build_corpus(raw, cache=False)
    assert tree_digest(raw) == before
    reasons = dict(zip(result.warnings["file"] + " " + result.warnings["severity"], result.warnings["reason"]))
    assert reasons["missing.txt warning"] == "a link to a file that does not exist: not read"
    assert reasons["linked info"].startswith("a linked folder")
    assert "linked/huoju.txt" in set(result.documents["file"])  # a linked folder is read
    assert "mostly not Chinese" in " ".join(result.warnings.loc[result.warnings["file"] == "english.txt", "reason"])
    assert "a title or a stub" in " ".join(result.warnings.loc[result.warnings["file"] == "title.txt", "reason"])
    assert not result.warnings["reason"].str.contains("stub|not Chinese")[
        result.warnings["file"].isin(["kuangqu_2022.txt", "linked/huoju.txt"])].any()


def test_a_folder_with_nothing_readable_says_why(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "scan.txt").write_bytes(b"\x00\x01\x02binary")
    done = run("run", "--raw", str(raw), "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    error = [line for line in done.stdout.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "no readable report" in error[0] and "scan.txt: binary" in error[0]


@pytest.mark.slow
def test_the_readme_parameter_example_draws_non_empty_figures(tmp_path):
    import json

    raw = tmp_path / "raw"
    shutil.copytree(config.RAW, raw)
    done = run("run", "-p", "top_n", "20", "-p", "group_by", "province", "--raw", str(raw),
               "--out", str(tmp_path / "out"), "--only", "02", "--only", "04", "--only", "01", "--only", "03")
    assert done.returncode == 0, done.stdout + done.stderr
    figures = tmp_path / "out" / "figures"
    distinctive = pd.read_csv(figures / "04_distinctive_terms.csv")
    assert len(distinctive) and set(distinctive["group"]) == {"广东省", "山西省", "湖北省", "广西壮族自治区"}
    record = json.loads((tmp_path / "out" / "reports" / "run.json").read_text(encoding="utf-8"))
    parameters = {entry["name"]: entry["parameters"] for entry in record["notebooks"]}
    assert parameters["04_visualization"]["group_by"] == "province" == parameters["02_term_frequency"]["group_by"]


@pytest.mark.slow
def test_make_lab_starts_as_root_with_options_passed(tmp_path):
    import urllib.request

    port = 8000 + os.getpid() % 1000
    process = subprocess.Popen(["make", "lab", f"LAB_ARGS=--no-browser --port {port} --IdentityProvider.token=t"],
                               cwd=config.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        deadline, status = time.time() + 60, None
        while time.time() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t", timeout=2) as answer:
                    status = answer.status
            except OSError:
                time.sleep(1)
        assert status == 200, process.stdout.read() if process.poll() is not None else "no answer"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
