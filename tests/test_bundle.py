"""The report bundle: reports/ self-contained after a run, one zip that opens elsewhere with every link
resolving and no folder of this machine named, and a gallery that never mixes two runs of a notebook."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from collection_run import run_once
from helpers import bundle, config


@pytest.fixture(scope="session")
def full_run(tmp_path_factory):
    return run_once(tmp_path_factory.getbasetemp() / "collection")  # the same run as test_notebooks


def _links(page: Path) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [tag.get(attr) for tag in soup.find_all(["a", "img", "link", "script"])
            for attr in ("href", "src") if tag.get(attr)]


@pytest.mark.slow
def test_the_shared_zip_opens_elsewhere_with_every_link_inside_it(full_run, tmp_path):
    assert full_run.returncode == 0, full_run.output
    paths = config.project_paths(out=full_run.out)
    archive = bundle.share(paths, target=tmp_path / "report.zip")
    elsewhere = tmp_path / "elsewhere"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(elsewhere)
    reports = elsewhere / "reports"
    index = reports / "index.html"
    links = _links(index)
    images = [link for link in links if link.endswith(".png")]
    tables = [link for link in links if link.startswith("tables/")]
    assert len(images) >= 8 and len(tables) >= 10  # the gallery and the processed tables
    for page in [index, *sorted((reports / "html").glob("*.html"))]:
        for link in _links(page):
            parsed = urlparse(link)
            if parsed.scheme in ("data", "http", "https", "mailto") or link.startswith("#"):
                continue
            assert not parsed.scheme and not link.startswith("/"), f"{page.name}: {link}"
            target = (page.parent / unquote(parsed.path)).resolve()
            assert target.is_file() and reports.resolve() in target.parents, f"{page.name}: {link} does not resolve"
    local = [str(full_run.out), str(config.ROOT), str(Path.home()), str(config.RAW)]
    for path in reports.rglob("*"):
        if path.suffix in bundle.TEXT_FILES:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [folder for folder in local if folder in text], path


def test_a_run_moves_aside_the_figures_an_earlier_run_of_its_notebook_left(tmp_path):
    folder = tmp_path / "figures"
    folder.mkdir()
    for stem in ("04_top_terms", "04_top_terms_en", "section_lengths"):
        for suffix in (".png", ".svg", ".csv"):
            (folder / f"{stem}{suffix}").write_text("x", encoding="utf-8")
    started = time.time()
    os.utime(folder / "04_top_terms_en.png", (started + 5, started + 5))  # written by this run
    figures = [{"name": p.stem, "png": p, "stale": p.stat().st_mtime < started,
                "source": "01_cleaning" if p.stem == "section_lengths" else "04_visualization"}
               for p in sorted(folder.glob("*.png"))]
    moved = bundle.retire_stale_figures(figures, notebooks={"04_visualization"}, folder=folder,
                                        started="2026-12-04T20:00:00+00:00")
    assert [p.name for p in moved] == ["04_top_terms.png"]
    assert sorted(p.name for p in folder.glob("*.png")) == ["04_top_terms_en.png", "section_lengths.png"]
    earlier = folder / "earlier" / "2026-12-04T20-00-00+00-00"
    assert sorted(p.name for p in earlier.iterdir()) == ["04_top_terms.csv", "04_top_terms.png", "04_top_terms.svg"]


def test_sharing_before_any_run_is_one_line(tmp_path, capsys):
    from helpers import __main__ as cli

    assert cli.main(["share", "--out", str(tmp_path)]) == 2
    assert "no report to share yet" in capsys.readouterr().err
