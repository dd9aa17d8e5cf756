"""One style for every figure: the bundled CJK font, sizes, a colour-blind-safe palette,
stable region colours, and saving as PNG + SVG (+ the CSV behind the figure).

Plot functions take ``ax=None`` and return the axes; they never parse text.

>>> ax = bar_chart(pd.Series({"行政复议": 3, "普法": 5}))
>>> ax.get_yticklabels()[0].get_text() in {"行政复议", "普法"}
True
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in {"", "agg"} else None
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

from helpers.store import atomic_path

# Okabe & Ito (2008) colour-blind-safe palette, black moved last.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# PIL reads face 0 of the collection (Japanese) unless told otherwise; face 2 is Simplified Chinese.
SC_FACE_INDEX = 2
PNG_DPI = 200


def cjk_font_path() -> Path:
    """Path of the bundled Noto Sans CJK collection (PyPI package ``noto-cjk-sans-otc``, OFL-1.1)."""
    from noto_cjk_sans_otc import FONT_PATH

    return Path(str(FONT_PATH))


def cjk_font_name() -> str:
    """Family name matplotlib registers for the bundled font."""
    return font_manager.FontProperties(fname=str(cjk_font_path())).get_name()


_STYLED = False


def setup_style() -> str:
    """Register the CJK font with matplotlib and apply the house style; return the family name.

    Safe to call many times. Also raises jieba's log level so its start-up chatter stays out of
    notebooks.
    """
    global _STYLED
    name = cjk_font_name()
    if not _STYLED:
        font_manager.fontManager.addfont(str(cjk_font_path()))
        logging.getLogger("jieba").setLevel(logging.WARNING)
        _STYLED = True
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [name, "DejaVu Sans"],
        "axes.unicode_minus": False,  # the CJK font has no U+2212 minus glyph
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "figure.dpi": 100,
        "savefig.dpi": PNG_DPI,
        "savefig.bbox": "tight",
        "svg.fonttype": "path",  # SVGs show Chinese without the font installed
        "pdf.fonttype": 42,
    })
    return name


def region_colors(regions: Iterable[str]) -> dict[str, str]:
    """Stable colour per region: sorted names take the palette in turn, so every figure agrees."""
    names = sorted({str(r) for r in regions})
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def save_figure(fig: plt.Figure, name: str, folder: str | Path, *, data: pd.DataFrame | None = None) -> list[Path]:
    """Save ``fig`` as ``folder/name.png`` (200 dpi) and ``.svg``, plus ``name.csv`` with the data
    behind it when given; atomically. Returns the written paths."""
    folder = Path(folder)
    written = []
    for ext in ("png", "svg"):
        target = folder / f"{name}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, dpi=PNG_DPI)
        written.append(target)
    if data is not None:
        target = folder / f"{name}.csv"
        with atomic_path(target) as tmp:
            data.to_csv(tmp, encoding="utf-8-sig")
        written.append(target)
    return written


def bar_chart(values: pd.Series, *, ax: plt.Axes | None = None, title: str | None = None,
              color: str | None = None, xlabel: str | None = None) -> plt.Axes:
    """Horizontal bars, largest on top."""
    setup_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, max(2.0, 0.3 * len(values) + 1)))
    ordered = values.sort_values()
    ax.barh([str(i) for i in ordered.index], ordered.to_numpy(), color=color or PALETTE[0])
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


def word_cloud(frequencies: dict[str, float] | pd.Series, *, ax: plt.Axes | None = None,
               title: str | None = None, max_words: int = 100, width: int = 800, height: int = 500,
               colormap: str = "cividis", random_state: int = 0) -> plt.Axes:
    """Word cloud drawn from a frequency table (not from raw text, so nothing is re-segmented or
    dropped), in the bundled Simplified Chinese face."""
    from wordcloud import WordCloud

    setup_style()
    freqs = {str(k): float(v) for k, v in dict(frequencies).items() if v > 0}
    if ax is None:
        _, ax = plt.subplots(figsize=(width / 100, height / 100))
    cloud = WordCloud(
        font_path=str(cjk_font_path()), width=width, height=height, max_words=max_words,
        background_color="white", colormap=colormap, random_state=random_state,
        collocations=False, prefer_horizontal=0.95,
    )
    # WordCloud passes font_path straight to PIL, which opens face 0 (Japanese); ask for the SC face.
    from PIL import ImageFont

    original = ImageFont.truetype

    def truetype_sc(font=None, size=10, index=0, *args, **kwargs):
        if str(font) == str(cjk_font_path()):
            index = SC_FACE_INDEX
        return original(font, size, index, *args, **kwargs)

    ImageFont.truetype = truetype_sc
    try:
        cloud.generate_from_frequencies(freqs)
    finally:
        ImageFont.truetype = original
    ax.imshow(cloud.to_array(), interpolation="bilinear")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
