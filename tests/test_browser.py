"""The report in a real browser: headless Chromium opens reports/index.html and a notebook page
from the session's full run, takes screenshots, and checks that every image decoded.

Needs Debian's ``chromium`` (``sudo apt-get install chromium``); skipped with that reason otherwise."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from collection_run import run_once

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and Path(p).exists()), None)
if CHROMIUM is None:
    pytest.skip("no Chromium found (install Debian's package: sudo apt-get install chromium)", allow_module_level=True)

# Appended to a copy of the page (same folder, so relative image paths hold): after load, record how
# many images there are and which did not decode.
CHECK_SCRIPT = """<script>
window.addEventListener("load", () => document.fonts.ready.then(() => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120));
  const cjk = Array.from(document.fonts).filter(f => f.family.replace(/["']/g, "") === "fazhi-cjk").map(f => f.status);
  document.body.setAttribute("data-image-check", JSON.stringify({images: images.length, broken: broken, cjk_font: cjk}));
}));
</script>"""


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--hide-scrollbars", "--window-size=1280,2400", "--virtual-time-budget=15000", *args],
        capture_output=True, text=True, timeout=120,
    )


def _image_check(page: Path, profile: Path) -> dict:
    probe = page.with_name(f".browser-check-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    try:
        done = _chromium(profile, "--dump-dom", probe.as_uri())
    finally:
        probe.unlink()
    match = re.search(r'data-image-check="([^"]*)"', done.stdout)
    assert match, f"page did not finish loading: {done.stderr[-800:]}"
    return json.loads(match.group(1).replace("&quot;", '"'))


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    run = run_once(tmp_path_factory.getbasetemp() / "collection")
    assert run.returncode == 0, run.output
    return run.out / "reports"


@pytest.mark.parametrize("page, min_images", [("index.html", None), ("html/04_visualization.html", 8)])
def test_page_loads_with_every_image_decoded(bundle, tmp_path, page, min_images):
    result = _image_check(bundle / page, tmp_path / "profile")
    assert result["broken"] == [], result
    # the index shows every figure of the run; the figure notebook at least its eight
    assert result["images"] >= (min_images or len(list((bundle.parent / "figures").glob("*.png"))))
    assert result["cjk_font"] == ["loaded"]  # Chinese text drawn with the embedded face


@pytest.mark.parametrize("page", ["index.html", "html/04_visualization.results.html"])
def test_screenshot_shows_a_rendered_page(bundle, tmp_path, page):
    shot = tmp_path / "page.png"
    done = _chromium(tmp_path / "profile", f"--screenshot={shot}", (bundle / page).as_uri())
    assert shot.exists(), done.stderr[-800:]
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        grey = image.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 10  # text and figures, not a blank page
        assert len(grey.getcolors(maxcolors=1 << 16) or []) > 50
