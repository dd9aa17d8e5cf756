"""One style for every figure: the bundled Simplified Chinese font, sizes, a colour-blind-safe
palette, stable region colours, labels in Chinese or English, and saving as PNG + SVG (+ the CSV
behind the figure).

Plot functions take a DataFrame or Series first, options keyword-only, ``ax=None`` (or ``axes=None``
for a grid) and return the axes; they never parse text and never write files (``save_figure`` does).

>>> ax = bar_chart(pd.Series({"行政复议": 3, "普法": 5}))
>>> ax.get_yticklabels()[0].get_text() in {"行政复议", "普法"}
True
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import weakref
from pathlib import Path
from typing import Iterable, Mapping

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import font_manager

from helpers import config, groups, metadata
from helpers import store
from helpers.store import atomic_path

# Okabe & Ito (2008) colour-blind-safe palette, black moved last; Paul Tol's "muted" set extends it
# for corpora with more than eight regions.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
PALETTE_EXTENDED = PALETTE + [
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
]
SEQUENTIAL_CMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiencies
DIVERGING_CMAP = "PuOr_r"
MISSING_COLOR = "#EEEEEE"
# Section types keep one colour everywhere, taken from Paul Tol's "muted" set so they are not
# mistaken for the regions (which take the Okabe-Ito colours first).
SECTION_COLORS = {
    "results": "#332288", "shortcomings": "#CC6677", "leadership": "#44AA99",
    "plans": "#DDCC77", "other": "#BBBBBB",
}
SC_FAMILY = "Noto Sans CJK SC"
# Face 2 of the collection is Simplified Chinese (0 is Japanese, which PIL would pick by default);
# the face is looked up by name and this index is only the fallback.
SC_FACE_INDEX = 2
PNG_DPI = 200
LANGUAGES = ("zh", "en")
LABELS_FILE = config.PACKAGE_DATA / "plot_labels.yaml"
_FIGURE_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]*")

_state = {"lang": "zh", "region_order": None, "styled": False}


# --------------------------------------------------------------------------- font

def font_collection_path() -> Path:
    """The bundled Noto Sans CJK collection (PyPI package ``noto-cjk-sans-otc``, OFL-1.1)."""
    from noto_cjk_sans_otc import FONT_PATH

    return Path(str(FONT_PATH))


def font_cache_dir() -> Path:
    """Where the standalone Simplified Chinese face is kept: beside matplotlib's own font cache
    (a per-user folder, so a run with ``--out`` writes nothing inside the project)."""
    return Path(matplotlib.get_cachedir()) / "fazhi-fonts"


@functools.cache
def cjk_font_path() -> Path:
    """Standalone OpenType file of the Simplified Chinese face, extracted once from the collection.

    matplotlib and PIL (hence wordcloud) open face 0 of a ``.ttc``; a single-face file makes every
    renderer use the SC glyphs without patching either library.

    >>> cjk_font_path().suffix
    '.otf'
    """
    from fontTools.ttLib import TTCollection, TTFont

    source = font_collection_path()
    stat = source.stat()
    target = font_cache_dir() / f"NotoSansCJKsc-Regular-{stat.st_size}-{stat.st_mtime_ns}.otf"
    if target.exists():
        return target
    collection = TTCollection(str(source), lazy=True)
    names = [face["name"].getDebugName(1) for face in collection.fonts]
    index = names.index(SC_FAMILY) if SC_FAMILY in names else SC_FACE_INDEX
    face = TTFont(str(source), fontNumber=index, lazy=True)
    if face["name"].getDebugName(1) != SC_FAMILY:
        raise RuntimeError(f"{source} has no '{SC_FAMILY}' face (faces: {names})")
    # Several kernels may start at once: each writes its own temporary file and renames it.
    with atomic_path(target) as tmp:
        face.save(str(tmp))
        tmp.chmod(0o644)
    return target


def cjk_font_name() -> str:
    """Family name matplotlib registers for the bundled font ('Noto Sans CJK SC')."""
    return font_manager.FontProperties(fname=str(cjk_font_path())).get_name()


def setup_style(*, lang: str | None = None) -> str:
    """Register the SC font with matplotlib, apply the house style and (optionally) the label
    language; return the font family name. Safe to call many times.

    Also raises jieba's log level so its start-up chatter stays out of notebooks.
    """
    if lang is not None:
        set_language(lang)
    name = SC_FAMILY
    if not _state["styled"]:
        font_manager.fontManager.addfont(str(cjk_font_path()))
        name = cjk_font_name()
        logging.getLogger("jieba").setLevel(logging.WARNING)
        _state["styled"] = True
    plt.rcParams.update({
        "font.family": "sans-serif",
        # DejaVu stays last so a symbol missing from Noto still shows; tests check it is never needed.
        "font.sans-serif": [name, "DejaVu Sans"],
        "font.size": 10,
        "axes.unicode_minus": False,  # the CJK font has no U+2212 minus glyph
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        # Titles sit just above their axes (no plot here puts ticks on top). Left automatic,
        # matplotlib measures every tick label of every panel again for each title, about a fifth
        # of the drawing time of a grid of bar charts; radar() clears its spoke labels itself.
        "axes.titley": 1.0,
        "axes.titleweight": "normal",  # the bundled face has one weight
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "figure.titlesize": 13,
        "figure.titleweight": "normal",
        "figure.dpi": 100,
        "image.cmap": SEQUENTIAL_CMAP,
        "savefig.dpi": PNG_DPI,
        "savefig.bbox": "tight",
        "savefig.facecolor": "white",
        "svg.fonttype": "path",  # SVGs show Chinese without the font installed
        "svg.hashsalt": "fazhi",  # stable element ids, so an unchanged figure gives an unchanged file
        "pdf.fonttype": 42,
    })
    return name


# --------------------------------------------------------------------------- labels

def set_language(lang: str) -> None:
    """Choose the language of axis titles, legends and category names: 'zh' or 'en'."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    _state["lang"] = lang


def get_language() -> str:
    return _state["lang"]


@functools.cache
def _labels() -> dict[str, dict[str, str]]:
    raw = config.read_yaml(LABELS_FILE) or {}
    return {f"{group}.{key}": texts for group, entries in raw.items() for key, texts in entries.items()}


def label(key: str, *, lang: str | None = None, default: str | None = None) -> str:
    """Figure text for ``key`` ('group.name', see data/plot_labels.yaml) in the current language.

    >>> label("section_type.plans", lang="en")
    'Plans for next year'
    >>> label("theme.新主题")
    '新主题'
    """
    texts = _labels().get(key)
    if not texts:
        return default if default is not None else key.split(".", 1)[-1]
    return texts.get(lang or _state["lang"]) or texts.get("zh") or key


# --------------------------------------------------------------------------- colours

def set_region_order(regions: Iterable[str]) -> None:
    """Fix the colour of every region of the corpus, so a figure showing only some of them keeps
    the colours of the others (call once per notebook with all regions)."""
    _state["region_order"] = sorted({str(r) for r in regions})


def region_colors(regions: Iterable[str], *, order: Iterable[str] | None = None) -> dict[str, str]:
    """Stable colour per region: the sorted regions of ``order`` (default: the corpus order set with
    ``set_region_order``, else ``regions`` themselves) take the palette in turn.

    >>> region_colors(["b", "a"], order=["a", "b", "c"])
    {'b': '#E69F00', 'a': '#0072B2'}
    """
    wanted = [str(r) for r in regions]
    universe = sorted({str(r) for r in order}) if order is not None else _state["region_order"]
    universe = list(universe or [])
    universe += sorted(set(wanted) - set(universe))
    index = {name: i for i, name in enumerate(universe)}
    return {name: PALETTE_EXTENDED[index[name] % len(PALETTE_EXTENDED)] for name in dict.fromkeys(wanted)}


def _text_color_on(color) -> str:
    """Black or white, whichever reads better on ``color`` (WCAG relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(color))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 else "white"


# --------------------------------------------------------------------------- saving

def figure_name(name: str) -> str:
    """File stem for a figure in the current language: ``name`` for Chinese, ``name_en`` for
    English, so both versions can sit side by side."""
    if not _FIGURE_NAME.fullmatch(name):
        raise ValueError(f"figure name {name!r}: use lower-case ASCII letters, digits, '_' or '-'")
    return name if _state["lang"] == "zh" else f"{name}_{_state['lang']}"


def save_figure(fig: plt.Figure, name: str, folder: str | Path, *, data: pd.DataFrame | pd.Series | None = None,
                caption: str | None = None) -> list[Path]:
    """Save ``fig`` as ``folder/name.png`` (200 dpi) and ``.svg``, plus ``name.csv`` with the data
    behind it when given, each written atomically. ``caption`` (one line saying what the figure
    shows) goes into the PNG/SVG metadata, where the report gallery reads it. Returns the paths.

    The figure is laid out and rasterized once: the pixels give the PNG and the screen-size image
    that :func:`show_figure` displays, and the SVG reuses the layout."""
    import io

    from PIL import PngImagePlugin

    folder = Path(folder)
    stem = figure_name(name)
    title = caption or (fig._suptitle.get_text() if fig._suptitle else stem)
    image = _rasterize(fig)
    info = PngImagePlugin.PngInfo()
    # Source: the notebook drawing it (the runner names each kernel's notebook), so that a run can
    # tell its own figures from those an earlier run of the same notebook left
    for key, value in {"Software": f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/",
                       "Title": title, "Description": caption or "",
                       "Source": os.environ.get("FAZHI_NOTEBOOK", "")}.items():
        info.add_text(key, value)
    written = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    with atomic_path(written[0]) as tmp:
        image.save(tmp, format="png", dpi=(PNG_DPI, PNG_DPI), pnginfo=info, compress_level=PNG_COMPRESSION)
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.set_layout_engine("none")  # keep the positions the PNG's layout found
    try:
        with atomic_path(written[1]) as tmp:
            fig.savefig(tmp, format="svg", metadata={"Title": title, "Description": caption or "", "Date": None})
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    screen = io.BytesIO()
    _screen_size(image).save(screen, format="png", dpi=(SCREEN_DPI, SCREEN_DPI), compress_level=1)
    _screen_images[fig] = screen.getvalue()
    if data is not None:
        frame = data.to_frame() if isinstance(data, pd.Series) else data
        target = folder / f"{stem}.csv"
        keep_index = not isinstance(frame.index, pd.RangeIndex)  # a bare row number is not data
        if keep_index:  # an index kept is a column: it gets a header
            frame = frame.rename_axis([name or ("label" if i == 0 else f"label_{i}")
                                       for i, name in enumerate(frame.index.names)])
        with atomic_path(target) as tmp:
            # UTF-8 with BOM so spreadsheets show Chinese; text a spreadsheet would run is neutralised
            store.csv_safe(frame, index=keep_index).to_csv(tmp, encoding="utf-8-sig", index=keep_index,
                                                           lineterminator=store.CSV_LINE_END)
        written.append(target)
    return written


# figure -> PNG bytes at screen resolution, made by save_figure for show_figure
_screen_images: "weakref.WeakKeyDictionary[plt.Figure, bytes]" = weakref.WeakKeyDictionary()
SCREEN_DPI = 100  # what the notebook's inline backend would draw (rcParams figure.dpi)
# zlib level of the saved PNGs: 3 writes about a third faster than the default 6, for files a few
# percent larger (the screen images, embedded in notebooks, take 1: they are about as small)
PNG_COMPRESSION = 3


def _rasterize(fig: plt.Figure):
    """``fig`` drawn as the PNG would be (PNG_DPI, ``savefig`` options, tight bounding box), as a
    PIL image: RGB when every pixel is opaque (the house style saves on white), else RGBA."""
    import io

    from PIL import Image

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=PNG_DPI)
    # Raw RGBA carries no size: take it from the Agg renderer that drew it, and check it against
    # the byte count (a canvas other than Agg draws on a renderer of its own: then decode a PNG).
    renderer = getattr(fig.canvas, "renderer", None) if isinstance(fig.canvas, FigureCanvasAgg) else None
    size = (int(getattr(renderer, "width", 0)), int(getattr(renderer, "height", 0)))
    if size[0] * size[1] * 4 == len(raw.getbuffer()) > 0:
        image = Image.frombuffer("RGBA", size, raw.getvalue(), "raw", "RGBA", 0, 1)
    else:
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI)
        png.seek(0)
        image = Image.open(png).convert("RGBA")
    return image.convert("RGB") if image.getextrema()[3][0] == 255 else image


def _screen_size(image):
    """``image`` scaled from PNG_DPI to SCREEN_DPI (an exact 2:1 reduction averages pixel blocks)."""
    from PIL import Image

    if PNG_DPI % SCREEN_DPI == 0:
        return image.reduce(PNG_DPI // SCREEN_DPI)
    scale = SCREEN_DPI / PNG_DPI
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                        Image.Resampling.LANCZOS)


def show_figure(fig: plt.Figure) -> None:
    """Show ``fig`` in the notebook and close it. A figure just saved with :func:`save_figure` is
    shown from the image saved, not drawn again; any other figure the usual way (``plt.show``)."""
    image = _screen_images.pop(fig, None)
    if image is None:
        plt.show()
        return
    from IPython.display import Image, display

    display(Image(data=image, format="png"))
    plt.close(fig)


# --------------------------------------------------------------------------- layout

def facet_grid(n: int, *, ncols: int = 3, panel_size: tuple[float, float] = (3.6, 3.0),
               subplot_kw: dict | None = None) -> tuple[plt.Figure, np.ndarray]:
    """A figure with ``n`` panels on a grid of ``ncols`` columns; spare panels are hidden.
    Returns the figure and the flat array of the ``n`` panels in use."""
    setup_style()
    n = max(1, n)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             squeeze=False, subplot_kw=subplot_kw, layout="constrained")
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


# --------------------------------------------------------------------------- plots

def bar_chart(values: pd.Series, *, ax: plt.Axes | None = None, title: str | None = None,
              color: str | Mapping[str, str] | None = None, xlabel: str | None = None,
              annotate: bool = False, fmt: str = "{:,.0f}") -> plt.Axes:
    """Horizontal bars, largest on top. ``color`` is one colour or a colour per index label.

    >>> bar_chart(pd.Series({"矿区": 9000, "武江区": 12000}), xlabel="字数").get_xlabel()
    '字数'
    """
    setup_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, max(2.0, 0.3 * len(values) + 1)))
    ordered = values.sort_values()
    labels = [str(i) for i in ordered.index]
    if isinstance(color, Mapping):
        bar_colors = [color.get(lab, PALETTE[0]) for lab in labels]
    else:
        bar_colors = color or PALETTE[0]
    bars = ax.barh(labels, ordered.to_numpy(dtype=float), color=bar_colors)
    if annotate:
        ax.bar_label(bars, labels=[fmt.format(v) for v in ordered], padding=2, fontsize=8)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    return ax


def small_multiple_bars(data: pd.DataFrame, *, facet: str, label_col: str, value: str, top_n: int = 10,
                        ncols: int = 3, colors: Mapping[str, str] | None = None, xlabel: str | None = None,
                        facet_order: Iterable[str] | None = None, sharex: bool = False,
                        axes: Iterable[plt.Axes] | None = None) -> np.ndarray:
    """One horizontal bar chart per ``facet`` value (e.g. region) with its ``top_n`` rows by
    ``value``; panels share one colour per facet. Returns the panels.

    >>> df = pd.DataFrame({"region": ["矿区", "矿区", "武江区"], "term": ["普法", "复议", "执法"], "n": [5, 3, 4]})
    >>> [ax.get_title() for ax in small_multiple_bars(df, facet="region", label_col="term", value="n")]
    ['武江区', '矿区']
    """
    setup_style()
    groups = list(facet_order) if facet_order is not None else sorted(data[facet].astype(str).unique())
    colors = colors or region_colors(groups)
    if axes is None:
        _, axes = facet_grid(len(groups), ncols=ncols, panel_size=(3.4, 0.26 * top_n + 1.0))
    axes = np.asarray(list(axes) if not isinstance(axes, np.ndarray) else axes).ravel()
    xmax = data[value].max() if sharex and len(data) else None
    for ax, group in zip(axes, groups):
        rows = data[data[facet].astype(str) == group].nlargest(top_n, value)
        bar_chart(rows.set_index(label_col)[value], ax=ax, color=colors.get(group, PALETTE[0]))
        ax.set_title(group, fontsize=11)
        if xlabel:
            ax.set_xlabel(xlabel)
        if xmax:
            ax.set_xlim(0, xmax * 1.05)
    return axes


def _cells(ax: plt.Axes, values: np.ndarray, **kwargs):
    """One coloured cell per value, row 0 at the top and cell (i, j) centred on x = j, y = i (the
    layout of ``imshow``), as vector rectangles: a table-sized grid drawn as an image is resampled
    to the full output resolution, which costs more than the rest of the figure at 200 dpi, and
    gives a raster inside the SVG. Returns the mesh (``get_array()`` holds the values)."""
    nrows, ncols = values.shape
    mesh = ax.pcolormesh(np.arange(ncols + 1) - 0.5, np.arange(nrows + 1) - 0.5, values, **kwargs)
    ax.set_xlim(-0.5, ncols - 0.5)
    ax.set_ylim(nrows - 0.5, -0.5)
    return mesh


def heatmap(matrix: pd.DataFrame, *, ax: plt.Axes | None = None, cmap: str = SEQUENTIAL_CMAP,
            annotate: bool = True, fmt: str = "{:.0f}", vmin: float | None = None, vmax: float | None = None,
            colorbar_label: str | None = None, missing_text: str = "", title: str | None = None,
            center: float | None = None) -> plt.Axes:
    """Heatmap of a rows × columns table; missing cells (NaN, e.g. "not reported") are drawn in
    light grey with ``missing_text``, apart from any stated value including zero. ``center`` gives a
    diverging scale around that value.

    >>> heatmap(pd.DataFrame({"普法": [1.0, None]}, index=["矿区", "武江区"])).get_yticklabels()[1].get_text()
    '武江区'
    """
    setup_style()
    values = matrix.to_numpy(dtype=float)
    if ax is None:
        nrows, ncols = values.shape
        _, ax = plt.subplots(figsize=(max(4.0, 0.55 * ncols + 2.5), max(2.5, 0.42 * nrows + 1.5)))
    finite = values[np.isfinite(values)]
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    if center is not None:
        span = max(abs(vmax - center), abs(center - vmin)) or 1.0
        vmin, vmax = center - span, center + span
        cmap = cmap if cmap != SEQUENTIAL_CMAP else DIVERGING_CMAP
    if vmin == vmax:
        vmax = vmin + 1.0
    colormap = matplotlib.colormaps[cmap].with_extremes(bad=MISSING_COLOR)
    mesh = _cells(ax, np.ma.masked_invalid(values), cmap=colormap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in matrix.columns], rotation=45, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in matrix.index])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate:
        norm = mcolors.Normalize(vmin=vmin, vmax=vmax)
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                        color=_text_color_on(colormap(norm(v))))
            elif missing_text:
                ax.text(j, i, missing_text, ha="center", va="center", fontsize=7, color="#666666")
    bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.8)
    bar.outline.set_visible(False)
    if colorbar_label:
        bar.set_label(colorbar_label)
    if title:
        ax.set_title(title)
    return ax


def radar(profile: pd.DataFrame, *, ax: plt.Axes | None = None, colors: Mapping[str, str] | None = None,
          fill_alpha: float = 0.08, title: str | None = None, legend: bool = True) -> plt.Axes:
    """Radar (spider) chart: one closed line per row of ``profile``, one spoke per column.

    >>> prof = pd.DataFrame({"执法": [0.3, 0.1], "复议": [0.2, 0.4], "普法": [0.5, 0.5]}, index=["矿区", "武江区"])
    >>> radar(prof).name
    'polar'
    """
    setup_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6.5), subplot_kw={"projection": "polar"})
    elif ax.name != "polar":
        raise ValueError("radar() needs polar axes: plt.subplots(subplot_kw={'projection': 'polar'})")
    spokes = [str(c) for c in profile.columns]
    angles = np.linspace(0, 2 * np.pi, len(spokes), endpoint=False)
    closed = np.append(angles, angles[0])
    colors = colors or region_colors(profile.index)
    for name, row in profile.iterrows():
        values = row.to_numpy(dtype=float)
        values = np.append(values, values[0])
        color = colors.get(str(name), PALETTE[0])
        ax.plot(closed, values, color=color, linewidth=1.6, label=str(name))
        ax.fill(closed, values, color=color, alpha=fill_alpha)
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles, spokes)
    ax.tick_params(axis="y", labelsize=7, colors="#555555")
    ax.spines["polar"].set_visible(False)
    if title:
        # clear of the spoke label at the top (its distance from the circle, about two lines of
        # its text), then the usual gap
        spoke = ax.xaxis.get_major_ticks()[0]
        ax.set_title(title, pad=spoke.get_pad() + 2 * spoke.label1.get_fontsize() + 12)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.05, 1.0))
    return ax


def grouped_bars(data: pd.DataFrame, *, ax: plt.Axes | None = None, colors: Mapping[str, str] | None = None,
                 horizontal: bool = True, xlabel: str | None = None, title: str | None = None,
                 log: bool = False, annotate: bool = False, fmt: str = "{:,.0f}",
                 legend_title: str | None = None) -> plt.Axes:
    """Bars for each category (rows) side by side for each group (columns, e.g. regions or years).
    A missing value draws no bar, so "not reported" never looks like zero.

    >>> df = pd.DataFrame({"矿区": [3, None], "武江区": [5, 2]}, index=["复议案件", "普法活动"])
    >>> len(grouped_bars(df).patches)
    3
    """
    setup_style()
    categories = [str(i) for i in data.index]
    groups = [str(c) for c in data.columns]
    if ax is None:
        size = (7.0, max(2.5, 0.22 * len(categories) * max(1, len(groups)) + 1.2))
        _, ax = plt.subplots(figsize=size if horizontal else size[::-1])
    colors = colors or region_colors(groups)
    width = 0.8 / max(1, len(groups))
    positions = np.arange(len(categories))
    for k, group in enumerate(groups):
        values = data.iloc[:, k].to_numpy(dtype=float)
        keep = np.isfinite(values)
        offset = positions[keep] + (k - (len(groups) - 1) / 2) * width
        draw = ax.barh if horizontal else ax.bar
        bars = draw(offset, values[keep], width * 0.95, color=colors.get(group, PALETTE[k % len(PALETTE)]),
                    label=group)
        if annotate:
            ax.bar_label(bars, labels=[fmt.format(v) for v in values[keep]], padding=2, fontsize=7)
    if horizontal:
        ax.set_yticks(positions, categories)
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        if xlabel:
            ax.set_xlabel(xlabel)
    else:
        ax.set_xticks(positions, categories, rotation=30, ha="right", rotation_mode="anchor")
        if log:
            ax.set_yscale("log")
        if xlabel:
            ax.set_ylabel(xlabel)
    value_axis = ax.xaxis if horizontal else ax.yaxis
    if log:
        value_axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    if title:
        ax.set_title(title)
    ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def composition_bars(data: pd.DataFrame, *, ax: plt.Axes | None = None, colors: Mapping[str, str] | None = None,
                     normalize: bool = True, xlabel: str | None = None, title: str | None = None,
                     legend_title: str | None = None, component_labels: Mapping[str, str] | None = None) -> plt.Axes:
    """Stacked horizontal bars: one bar per row (e.g. report), one segment per column (e.g. section
    type), as shares of the row total when ``normalize``.

    >>> df = pd.DataFrame({"results": [800, 600], "plans": [200, 100]}, index=["矿区", "武江区"])
    >>> ax = composition_bars(df)
    >>> float(round(ax.patches[0].get_width(), 2))
    0.8
    """
    setup_style()
    table = data.fillna(0).astype(float)
    if normalize:
        totals = table.sum(axis=1).replace(0, np.nan)
        table = table.div(totals, axis=0).fillna(0)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, max(2.0, 0.45 * len(table) + 1.2)))
    colors = colors or SECTION_COLORS
    left = np.zeros(len(table))
    rows = [str(i) for i in table.index]
    for k, column in enumerate(table.columns):
        values = table[column].to_numpy()
        shown = (component_labels or {}).get(column, str(column))
        ax.barh(rows, values, left=left, color=colors.get(column, PALETTE[k % len(PALETTE)]), label=shown,
                edgecolor="white", linewidth=0.5)
        left += values
    ax.invert_yaxis()
    if normalize:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15 if xlabel else -0.08), ncol=min(5, len(table.columns)),
              title=legend_title)
    return ax


def _single_hue(color: str):
    """Colour function for wordcloud: the given hue, darker for larger words."""
    rgb = np.array(mcolors.to_rgb(color))

    def color_func(word, font_size, position, orientation, random_state=None, **kwargs):
        # font sizes run from about 10 to 200 px; small words are lighter but stay readable
        weight = min(1.0, 0.45 + font_size / 120)
        r, g, b = (255 * (1 - weight + weight * rgb)).astype(int)
        return f"rgb({r}, {g}, {b})"

    return color_func


def word_cloud(frequencies: Mapping[str, float] | pd.Series, *, ax: plt.Axes | None = None,
               title: str | None = None, max_words: int = 100, width: int = 800, height: int = 500,
               color: str | None = None, colormap: str = SEQUENTIAL_CMAP, random_state: int = 0,
               scale: float = 1) -> plt.Axes:
    """Word cloud drawn from a frequency table (not from raw text, so nothing is re-segmented and
    single characters such as 案 are kept), in the bundled Simplified Chinese face. ``color`` draws
    every word in one hue (e.g. the region's colour); otherwise ``colormap``. ``scale`` lays the
    words out on a ``width`` x ``height`` grid and draws them ``scale`` times larger (faster for
    small panels).

    >>> word_cloud({"行政复议": 5, "案": 2}).axison
    False
    """
    setup_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(width / 100, height / 100))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    cloud = make_word_cloud(frequencies, max_words=max_words, width=width, height=height, color=color,
                            colormap=colormap, random_state=random_state, scale=scale)
    if cloud is not None:
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    return ax


def make_word_cloud(frequencies: Mapping[str, float] | pd.Series, *, max_words: int = 100, width: int = 800,
                    height: int = 500, color: str | None = None, colormap: str = SEQUENTIAL_CMAP,
                    random_state: int = 0, scale: float = 1):
    """The laid-out ``wordcloud.WordCloud`` behind ``word_cloud`` (None when no frequency is
    positive); its ``layout_`` lists every word placed.

    >>> "案" in {word for (word, _), *_ in make_word_cloud({"行政复议": 5, "案": 2}).layout_}
    True
    """
    from wordcloud import WordCloud

    freqs = {str(k): float(v) for k, v in dict(frequencies).items() if pd.notna(v) and v > 0}
    if not freqs:
        return None
    cloud = WordCloud(
        font_path=str(cjk_font_path()), width=width, height=height, max_words=max_words,
        background_color="white", colormap=colormap, random_state=random_state,
        collocations=False, prefer_horizontal=0.95, color_func=_single_hue(color) if color else None,
        scale=scale,
    )
    return cloud.generate_from_frequencies(freqs)


def word_cloud_grid(frequencies: pd.DataFrame, *, group: str, term: str, value: str, ncols: int = 3,
                    max_words: int = 60, colors: Mapping[str, str] | None = None,
                    group_order: Iterable[str] | None = None, axes: Iterable[plt.Axes] | None = None) -> np.ndarray:
    """One word cloud per ``group`` (e.g. region) from a long frequency table, each in its group's
    colour. Returns the panels.

    >>> df = pd.DataFrame({"region": ["矿区", "武江区"], "term": ["普法", "执法"], "n": [5, 4]})
    >>> len(word_cloud_grid(df, group="region", term="term", value="n"))
    2
    """
    setup_style()
    groups = list(group_order) if group_order is not None else sorted(frequencies[group].astype(str).unique())
    colors = colors or region_colors(groups)
    if axes is None:
        _, axes = facet_grid(len(groups), ncols=ncols, panel_size=(4.0, 2.8))
    axes = np.asarray(list(axes) if not isinstance(axes, np.ndarray) else axes).ravel()
    for ax, name in zip(axes, groups):
        rows = frequencies[frequencies[group].astype(str) == name]
        # a panel is about 4 inches wide: laid out on 300 x 200 and drawn at 600 x 400, which
        # looks the same there at a quarter of the layout work
        word_cloud(rows.groupby(term)[value].sum(), ax=ax, title=name, max_words=max_words,
                   width=300, height=200, scale=2, color=colors.get(name))
    return axes


SECTION_TYPE_ORDER = ("results", "leadership", "shortcomings", "plans", "other")


def section_lengths(lengths: pd.DataFrame, *, ax: plt.Axes | None = None,
                    title: str | None = None) -> plt.Axes:
    """Stacked horizontal bars: characters per section type (columns) for each region (rows), in
    the shared section-type colours of :func:`composition_bars`.

    ``lengths`` is a region x section_type table of character counts (e.g. a pivot of the
    top-level sections table).

    >>> ax = section_lengths(pd.DataFrame({"plans": [100], "results": [900]}, index=["矿区"]))
    >>> [float(p.get_width()) for p in ax.patches]
    [900.0, 100.0]
    """
    columns = [c for c in SECTION_TYPE_ORDER if c in lengths.columns] + \
        [c for c in lengths.columns if c not in SECTION_TYPE_ORDER]
    return composition_bars(lengths.reindex(columns=columns), ax=ax, normalize=False,
                            xlabel=label("axis.characters"), title=title)


# --------------------------------------------------------------------------- indicators

def coverage_heatmap(coverage: pd.DataFrame, *, ax: plt.Axes | None = None, top_n: int | None = 40,
                     title: str | None = None) -> plt.Axes:
    """Which report states which indicator: indicators (rows, most-reported first) × reports
    (columns) from ``indicators.coverage_table``; a filled cell is a stated value.

    >>> cov = pd.DataFrame({"甲区 2022": [1, 0], "乙区 2024": [1, 1], "n_reports": [2, 1]}, index=["普法", "复议"])
    >>> coverage_heatmap(cov).get_yticklabels()[0].get_text()
    '普法'
    """
    setup_style()
    table = coverage.drop(columns=["n_reports"], errors="ignore")
    if "n_reports" in coverage.columns:
        table = table.loc[coverage["n_reports"] > 0]
    if top_n:
        table = table.head(top_n)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * len(table.columns) + 3, 0.28 * len(table) + 1.5))
    from matplotlib.colors import ListedColormap

    # two colours: not stated (light grey) and stated; white grid lines between cells
    _cells(ax, table.to_numpy(dtype=float), cmap=ListedColormap(["#eeeeee", PALETTE[0]]), vmin=0, vmax=1)
    ax.set_xticks(np.arange(-0.5, len(table.columns)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(table.index)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def indicator_bars(values: pd.DataFrame, *, indicators: Iterable[str] | None = None, ncols: int = 3,
                   colors: Mapping[str, str] | None = None) -> np.ndarray:
    """One bar panel per indicator (rows of ``indicators.indicator_values``): each report's stated
    value with its unit, approximate values hatched, a cell waiting for review drawn as "?" with no
    bar, reports that do not state it left out. Every panel's title names its unit; one indicator
    holds one measure (catalogue ``units``), so no axis mixes two. Returns the panels."""
    setup_style()
    names = list(indicators) if indicators is not None else list(dict.fromkeys(values["indicator_name"]))
    colors = colors or region_colors(metadata.group_key(values, "region"))
    _, axes = facet_grid(len(names), ncols=ncols, panel_size=(3.8, 0.45 * values["doc_id"].nunique() + 1.2))
    status = values["status"] if "status" in values else pd.Series("stated", index=values.index)
    reports = values.drop_duplicates("doc_id")
    report_label = dict(zip(reports["doc_id"], groups.report_labels(reports, year="when_needed")))
    for ax, name in zip(axes, names):
        rows = values[values["indicator_name"] == name].assign(_review=status == "review")
        rows = rows.assign(_v=rows["value"].fillna(0.0)).sort_values(["_review", "_v"], ascending=[False, True])
        # one bar per report: its region, with the year or doc_id where the region has several reports
        labels = rows["doc_id"].map(report_label).tolist()
        regions = metadata.group_key(rows, "region").tolist()  # a report of unknown region by its doc_id
        heights = np.where(rows["_review"], 0.0, rows["_v"].to_numpy(dtype=float))
        bars = ax.barh(labels, heights, color=[colors.get(region, PALETTE[0]) for region in regions])
        for bar, approx in zip(bars, rows["approx"].fillna(False)):
            if approx:
                bar.set_hatch("///")
        shown = []
        for v, marker, review in zip(rows["value"], rows["approx_marker"].fillna(""), rows["_review"]):
            if review:
                shown.append("?")
                continue
            number = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
            before = next((m for m in ("约", "近", "超", "逾", "突破") if marker.startswith(m)), "")
            shown.append(f"{before}{number}{marker[len(before):]}")
        ax.bar_label(bars, labels=shown, padding=2, fontsize=8)
        units = "/".join(dict.fromkeys(rows.loc[~rows["_review"], "unit"].dropna().astype(str)))
        ax.set_title(f"{name} ({units})" if units else name, fontsize=10)
        ax.margins(x=0.25)
        if rows["_review"].all():  # nothing but "?": no scale to show
            ax.set_xlim(0, 1)
            ax.set_xticks([])
    return axes



# --------------------------------------------------------------------------- one value per row, several measures

def metric_panels(table: pd.DataFrame, *, metrics: Mapping[str, str], colors: Mapping[str, str] | None = None,
                  formats: Mapping[str, str] | None = None, missing: str | Mapping[str, str] = "?",
                  reference: Mapping[str, float] | None = None, limits: Mapping[str, tuple] | None = None,
                  panel_size: tuple[float, float] | None = None) -> np.ndarray:
    """One horizontal bar panel per measure: ``metrics`` maps a column of ``table`` to its panel
    title, rows (the index, e.g. reports) in the same order in every panel and only the first panel
    naming them. Each bar takes its row's colour from ``colors``, is labelled with ``formats[column]``
    (default ``{:,.2f}``), and a missing value draws no bar but the ``missing`` text (one for all, or
    per column), so "unknown" never looks like zero. ``reference`` draws a vertical line (a deadline
    at 0); ``limits`` fixes a panel's value range. Returns the panels.

    >>> t = pd.DataFrame({"parts": [4, 3], "days": [-43, None]}, index=["武江区", "开发区·铁山区"])
    >>> axes = metric_panels(t, metrics={"parts": "必备内容", "days": "距截止日（天）"})
    >>> [ax.get_title() for ax in axes], axes[1].texts[-1].get_text()
    (['必备内容', '距截止日（天）'], ' ?')
    """
    setup_style()
    columns = list(metrics)
    rows = [str(i) for i in table.index]
    width, height = panel_size or (3.1, 0.42 * len(rows) + 1.3)
    fig, axes = plt.subplots(1, len(columns), figsize=(width * len(columns) + 1.2, height), sharey=True,
                             squeeze=False, layout="constrained")
    axes = axes.ravel()
    colors = colors or region_colors(rows)
    positions = np.arange(len(rows))
    for ax, column in zip(axes, columns):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        known = np.isfinite(values)
        fmt = (formats or {}).get(column, "{:,.2f}")
        bars = ax.barh(positions[known], values[known], color=[colors.get(r, PALETTE[0]) for r, k in zip(rows, known) if k],
                       height=0.7)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values[known]], padding=2, fontsize=8)
        text = missing.get(column, "?") if isinstance(missing, Mapping) else missing
        for y in positions[~known]:
            ax.text(0, y, f" {text}", va="center", ha="left", fontsize=8, color="#666666")
        if reference and column in reference:
            ax.axvline(reference[column], color="#555555", linewidth=0.8, linestyle="--")
        if limits and column in limits:
            ax.set_xlim(*limits[column])
        else:
            low, high = (min(0.0, np.nanmin(values[known])), max(0.0, np.nanmax(values[known]))) if known.any() else (0.0, 1.0)
            span = (high - low) or 1.0
            ax.set_xlim(low - 0.22 * span * (low < 0), high + 0.22 * span)
        ax.set_title(metrics[column], fontsize=10)
        ax.set_yticks(positions, rows)
        ax.tick_params(axis="y", length=0)
    axes[0].invert_yaxis()
    return axes
