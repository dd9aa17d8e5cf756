"""helpers.plots: Chinese renders in the bundled Simplified Chinese face everywhere, with no
missing glyph and no fallback font; one stable style, palette and region colours; saved files."""

from __future__ import annotations

import io
import logging
import math
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from PIL import Image, ImageChops, ImageDraw, ImageFont

from helpers import config, plots

MANIFEST = pd.read_csv(config.RAW / config.MANIFEST_NAME, dtype=str)
# Domain terms whose counts in the sample reports feed the figures below (counted, not typed in).
TERMS = ["行政复议", "行政应诉", "规范性文件", "合法性审查", "法律顾问", "普法", "执法", "营商环境",
         "矛盾纠纷", "法律援助", "人民调解", "法治政府", "案"]


@pytest.fixture(scope="module")
def term_counts(raw_texts) -> pd.DataFrame:
    """Long table region × term × count from the raw text of the five reports."""
    region_of = dict(zip(MANIFEST["file"], MANIFEST["region"]))
    rows = [(region_of[name], term, text.count(term)) for name, text in raw_texts.items() for term in TERMS]
    return pd.DataFrame(rows, columns=["region", "term", "count"])


@pytest.fixture(autouse=True)
def _fresh_state():
    plots.set_language("zh")
    plots._state["region_order"] = None
    yield
    plots.set_language("zh")
    plots._state["region_order"] = None
    plt.close("all")


@pytest.fixture(scope="module")
def sc_cmap() -> set[int]:
    return set(TTFont(str(plots.cjk_font_path()), lazy=True).getBestCmap())


def _render_checked(fig: plt.Figure, caplog) -> list[str]:
    """Draw ``fig``; return every missing-glyph warning or findfont fallback message."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG, "matplotlib.font_manager"):
        warnings.simplefilter("always")
        fig.canvas.draw()
    messages = [str(w.message) for w in caught if "glyph" in str(w.message).lower() or "font" in str(w.message).lower()]
    messages += [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return messages


def _texts(fig: plt.Figure) -> list[matplotlib.text.Text]:
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]


# --------------------------------------------------------------------------- the font

def test_sc_face_is_extracted_once_as_a_standalone_font():
    path = plots.cjk_font_path()
    assert path.suffix == ".otf" and path.parent == plots.font_cache_dir()
    font = TTFont(str(path), lazy=True)
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
    assert ImageFont.truetype(str(path), 20).getname() == ("Noto Sans CJK SC", "Regular")
    assert plots.cjk_font_name() == "Noto Sans CJK SC"
    # nothing half-written left beside it
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_extraction_is_atomic_and_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(plots, "font_cache_dir", lambda: tmp_path)
    plots.cjk_font_path.cache_clear()
    try:
        first = plots.cjk_font_path()
        stamp = first.stat().st_mtime_ns
        plots.cjk_font_path.cache_clear()
        second = plots.cjk_font_path()
    finally:
        plots.cjk_font_path.cache_clear()
    assert first == second and second.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def _draw(font: ImageFont.FreeTypeFont, text: str) -> Image.Image:
    image = Image.new("L", (220, 110), 255)
    ImageDraw.Draw(image).text((5, 5), text, font=font, fill=0)
    return image


def test_extracted_face_draws_chinese_not_japanese_glyph_shapes():
    # 直 and 骨 are drawn differently in the Japanese and Chinese standards.
    collection = str(plots.font_collection_path())
    extracted = _draw(ImageFont.truetype(str(plots.cjk_font_path()), 80), "直骨")
    sc = _draw(ImageFont.truetype(collection, 80, index=2), "直骨")
    jp = _draw(ImageFont.truetype(collection, 80, index=0), "直骨")
    assert ImageChops.difference(extracted, sc).getbbox() is None
    assert ImageChops.difference(extracted, jp).getbbox() is not None


# --------------------------------------------------------------------------- rendering

def test_chart_with_chinese_has_no_missing_glyph_and_no_fallback(term_counts, caplog, sc_cmap):
    plots.setup_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    region = MANIFEST["region"].iloc[1]
    plots.bar_chart(term_counts[term_counts.region == region].set_index("term")["count"], ax=left,
                    title=f"{region}：高频词", xlabel=plots.label("axis.count"))
    change = term_counts.pivot(index="region", columns="term", values="count").astype(float)
    change = change - change.mean()  # negative numbers: the minus sign must render too
    plots.heatmap(change.iloc[:, :5], ax=right, fmt="{:+.1f}", center=0, colorbar_label="较均值差（次）")
    fig.suptitle("法治政府建设年度报告 −1")
    assert _render_checked(fig, caplog) == []
    sc_path = str(plots.cjk_font_path())
    texts = _texts(fig)
    assert any("行政复议" in t.get_text() for t in texts)
    for text in texts:
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert used == sc_path, f"{text.get_text()!r} drawn with {used}"
        missing = {ch for ch in text.get_text() if ch.strip() and ord(ch) not in sc_cmap}
        assert not missing, f"{text.get_text()!r}: no glyph for {missing}"


def test_word_cloud_uses_sc_face_and_keeps_single_characters(term_counts, sc_cmap, caplog):
    freqs = term_counts.groupby("term")["count"].sum()
    assert freqs["案"] > 0  # the reports use 案 on its own
    cloud = plots.make_word_cloud(freqs, width=600, height=400)
    assert cloud.font_path == str(plots.cjk_font_path())
    assert ImageFont.truetype(cloud.font_path, 10).getname()[0] == "Noto Sans CJK SC"
    placed = {word for (word, _), *_ in cloud.layout_}
    assert placed == set(freqs[freqs > 0].index)
    assert all(ord(ch) in sc_cmap for word in placed for ch in word)
    image = np.asarray(cloud.to_image().convert("L"))
    assert (image < 128).mean() > 0.01  # ink on the canvas, not a blank image
    ax = plots.word_cloud(freqs, title=MANIFEST["region"].iloc[0])
    assert _render_checked(ax.figure, caplog) == []


def test_word_cloud_of_nothing_draws_an_empty_panel():
    assert plots.make_word_cloud({"普法": 0}) is None
    ax = plots.word_cloud(pd.Series(dtype=float))
    assert len(ax.images) == 0


# --------------------------------------------------------------------------- style and colours

def test_style_is_one_and_stable():
    name = plots.setup_style()
    first = {k: plt.rcParams[k] for k in ("font.sans-serif", "axes.prop_cycle", "savefig.dpi", "axes.unicode_minus")}
    plots.setup_style()
    assert {k: plt.rcParams[k] for k in first} == first
    assert name == "Noto Sans CJK SC" and plt.rcParams["font.sans-serif"][0] == name
    assert plt.rcParams["axes.unicode_minus"] is False
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == [c.lower() for c in plots.PALETTE] or \
        plt.rcParams["axes.prop_cycle"].by_key()["color"] == plots.PALETTE
    assert plt.rcParams["savefig.dpi"] == 200


def test_region_colours_stay_when_a_figure_shows_only_some_regions():
    regions = MANIFEST["region"].tolist()
    plots.set_region_order(regions)
    full = plots.region_colors(regions)
    part = plots.region_colors(regions[3:])
    assert all(part[r] == full[r] for r in part)
    assert len(set(full.values())) == len(regions)
    # same answer with the order given explicitly and no corpus order set
    plots._state["region_order"] = None
    assert plots.region_colors(regions[3:], order=regions) == part


def test_region_colours_are_distinct_for_a_larger_corpus():
    names = [f"区{i:02d}" for i in range(17)]
    assert len(set(plots.region_colors(names).values())) == 17


@pytest.mark.parametrize("key, zh, en", [
    ("section_type.results", "主要举措和成效", "Measures and results"),
    ("section_type.shortcomings", "存在的不足", "Shortcomings"),
    ("axis.rate_per_10k", "每万字频次", "Occurrences per 10,000 characters"),
    ("legend.not_reported", "未报告", "not reported"),
])
def test_labels_in_both_languages(key, zh, en):
    assert plots.label(key) == zh
    plots.set_language("en")
    assert plots.label(key) == en
    assert plots.label(key, lang="zh") == zh


def test_every_label_has_both_languages_and_unknown_keys_fall_back():
    for key, texts in plots._labels().items():
        assert texts.get("zh") and texts.get("en"), key
    assert plots.label("theme.99") == "99"
    assert plots.label("section_type.preface", default="前言") == "前言"
    with pytest.raises(ValueError, match="language"):
        plots.set_language("fr")


def test_section_colours_cover_every_section_type():
    from helpers import schema

    assert set(plots.SECTION_COLORS) == set(schema.SECTION_TYPES)


# --------------------------------------------------------------------------- saving

def test_save_figure_writes_png_svg_csv_with_stable_names(tmp_path, term_counts):
    ax = plots.bar_chart(term_counts.groupby("term")["count"].sum())
    written = plots.save_figure(ax.figure, "02_top_terms_corpus", tmp_path, data=term_counts,
                                caption="全部报告的高频词")
    assert [p.name for p in written] == ["02_top_terms_corpus.png", "02_top_terms_corpus.svg",
                                         "02_top_terms_corpus.csv"]
    with Image.open(written[0]) as png:
        assert round(png.info["dpi"][0]) == 200
        assert png.text["Description"] == "全部报告的高频词"
    back = pd.read_csv(written[2], encoding="utf-8-sig")
    assert back.columns.tolist() == ["region", "term", "count"]  # no bare row-number column
    assert back["term"].tolist() == term_counts["term"].tolist()
    svg_once = written[1].read_bytes()
    plots.save_figure(ax.figure, "02_top_terms_corpus", tmp_path, caption="全部报告的高频词")
    assert written[1].read_bytes() == svg_once  # an unchanged figure gives an unchanged file
    assert not list(tmp_path.glob("*.tmp"))


def test_saved_png_is_matplotlibs_own_drawing_and_the_screen_image_half_of_it(tmp_path, term_counts):
    plots.set_region_order(MANIFEST["region"])
    axes = plots.small_multiple_bars(term_counts, facet="region", label_col="term", value="count", top_n=4)
    fig = axes[0].figure
    fig.suptitle("各区高频词")
    png, _ = plots.save_figure(fig, "x_terms", tmp_path)
    reference = io.BytesIO()
    fig.savefig(reference, format="png", dpi=plots.PNG_DPI)  # the usual way, layout and tight box included
    with Image.open(png) as saved, Image.open(reference) as drawn:
        assert saved.mode == "RGB" and saved.size == drawn.size
        assert ImageChops.difference(saved, drawn.convert("RGB")).getbbox() is None  # the same pixels
        width, height = saved.size
    with Image.open(io.BytesIO(plots._screen_images[fig])) as screen:
        assert screen.size == (math.ceil(width / 2), math.ceil(height / 2))
        assert round(screen.info["dpi"][0]) == plots.SCREEN_DPI


def test_english_figures_get_their_own_name(tmp_path):
    plots.set_language("en")
    ax = plots.bar_chart(pd.Series({"普法": 2}))
    assert [p.name for p in plots.save_figure(ax.figure, "x_terms", tmp_path)] == ["x_terms_en.png", "x_terms_en.svg"]
    with pytest.raises(ValueError, match="figure name"):
        plots.save_figure(ax.figure, "高频词 figure", tmp_path)


# --------------------------------------------------------------------------- plot functions

def test_small_multiples_one_panel_per_region_with_its_top_terms(term_counts):
    plots.set_region_order(MANIFEST["region"])
    axes = plots.small_multiple_bars(term_counts, facet="region", label_col="term", value="count", top_n=4)
    assert [ax.get_title() for ax in axes] == sorted(MANIFEST["region"])
    colours = plots.region_colors(MANIFEST["region"])
    for ax in axes:
        rows = term_counts[term_counts.region == ax.get_title()].nlargest(4, "count")
        shown = {t.get_text() for t in ax.get_yticklabels()}
        assert shown == set(rows["term"])
        assert matplotlib.colors.to_hex(ax.patches[0].get_facecolor()) == colours[ax.get_title()].lower()


def test_heatmap_keeps_not_reported_apart_from_zero():
    matrix = pd.DataFrame({"行政复议案件": [12.0, 0.0], "法律援助": [np.nan, 3.0]}, index=["矿区", "武江区"])
    ax = plots.heatmap(matrix, missing_text="未报告")
    cells = ax.collections[0].get_array()
    assert cells.mask.tolist() == [[False, True], [False, False]]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["12", "未报告", "0", "3"]


def test_radar_title_stays_clear_of_the_spoke_labels():
    profile = pd.DataFrame({"1 学习贯彻": [30.0, 20.0], "2 政府职能": [10.0, 15.0], "3 制度体系": [5.0, 8.0]},
                           index=["矿区", "武江区"])
    ax = plots.radar(profile, title="十大主题雷达图")
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.canvas.draw()
    top_label = max(ax.get_xticklabels(), key=lambda t: t.get_window_extent(renderer).y1)
    assert ax.title.get_window_extent(renderer).y0 > top_label.get_window_extent(renderer).y1


def test_grouped_bars_draw_no_bar_for_a_missing_value():
    data = pd.DataFrame({"矿区": [5.0, np.nan], "武江区": [7.0, 2.0]}, index=["行政复议", "法律援助"])
    ax = plots.grouped_bars(data)
    assert sorted(p.get_width() for p in ax.patches) == [2.0, 5.0, 7.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["矿区", "武江区"]


def test_composition_bars_are_shares_of_each_report():
    data = pd.DataFrame({"results": [600, 90], "shortcomings": [200, 10], "plans": [200, 0]},
                        index=["矿区", "武江区"])
    ax = plots.composition_bars(data)
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, 2)
    assert np.allclose(widths.sum(axis=0), 1.0)
    assert np.allclose(widths[:, 0], [0.6, 0.2, 0.2])
    assert matplotlib.colors.to_hex(ax.patches[0].get_facecolor()) == plots.SECTION_COLORS["results"].lower()


def test_radar_needs_polar_axes_and_draws_one_line_per_row():
    profile = pd.DataFrame(np.array([[0.2, 0.5, 0.3], [0.4, 0.1, 0.5]]), index=["矿区", "武江区"],
                           columns=["执法", "复议", "普法"])
    ax = plots.radar(profile)
    assert [line.get_label() for line in ax.lines] == ["矿区", "武江区"]
    assert len(ax.lines[0].get_xdata()) == 4  # closed polygon
    _, flat = plt.subplots()
    with pytest.raises(ValueError, match="polar"):
        plots.radar(profile, ax=flat)


def test_word_cloud_grid_one_panel_per_region(term_counts):
    axes = plots.word_cloud_grid(term_counts, group="region", term="term", value="count", ncols=3)
    assert [ax.get_title() for ax in axes] == sorted(MANIFEST["region"])
    assert all(len(ax.images) == 1 for ax in axes)
    assert len(axes[0].figure.axes) == 6  # 2 × 3 grid, the spare panel hidden
    assert sum(ax.get_visible() for ax in axes[0].figure.axes) == 5
