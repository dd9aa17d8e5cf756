"""The figure set a paper would use (notebook ``04_visualization``): each builder takes processed
tables, draws with ``helpers.plots`` and returns a ``Figure`` holding the matplotlib figure, the table
it draws (saved as CSV beside it) and a one-line reading computed from that table.

Builders never read or write files; the notebook reads the tables and saves the figures.

>>> sorted(FIGURE_SET)[:3]
['corpus_overview', 'distinctive_terms', 'indicator_bars']
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import groups, metadata, plots, schema

# Figure key -> processed tables it needs (the notebook skips a figure whose tables are missing).
FIGURE_SET = {
    "corpus_overview": ("documents", "sections"),
    "top_terms": ("term_frequencies", "documents"),
    "word_clouds": ("term_frequencies", "documents"),
    "distinctive_terms": ("keyness",),
    "theme_heatmap": ("theme_profile", "documents"),
    "theme_radar": ("theme_profile", "documents"),
    "indicator_bars": ("indicators",),
    "indicator_coverage": ("indicators", "documents"),
    "year_comparison": ("indicators",),
}
# Which notebook writes each table, for the note printed when one is missing.
TABLE_SOURCES = {
    "documents": "01_cleaning", "sections": "01_cleaning", "term_frequencies": "02_term_frequency",
    "keyness": "02_term_frequency", "theme_profile": "02_term_frequency", "indicators": "03_indicators",
}


@dataclass
class Figure:
    """One figure of the set: ``save_figure(figure, name, folder, data=data, caption=reading)``."""

    name: str
    figure: plt.Figure
    data: pd.DataFrame
    reading: str


def missing_inputs(key: str, available: set[str] | dict) -> list[str]:
    """The tables figure ``key`` needs that are not in ``available``.

    >>> missing_inputs("top_terms", {"documents"})
    ['term_frequencies']
    """
    return [name for name in FIGURE_SET[key] if name not in available]


def document_labels(documents: pd.DataFrame) -> pd.Series:
    """doc_id -> label for figures: the region, with the report year when the region has several
    reports, and the doc_id when two reports share both (``groups.report_labels``).

    >>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["矿区", "矿区", "武江区"],
    ...                      "report_year": [2022, 2023, 2024]})
    >>> document_labels(docs).tolist()
    ['矿区 2022', '矿区 2023', '武江区']
    """
    labels = groups.report_labels(documents, year="when_needed")
    return pd.Series(labels.to_numpy(), index=documents["doc_id"].to_numpy(), name="label")


def _regions_of(labels: pd.Series, documents: pd.DataFrame) -> dict[str, str]:
    """Label -> colour of its region (years of one region share the region's colour)."""
    region = pd.Series(metadata.group_key(documents).to_numpy(), index=documents["doc_id"])
    colours = plots.region_colors(region.unique())
    return {labels[d]: colours[region[d]] for d in labels.index if d in region.index}


# --------------------------------------------------------------------------- corpus

def corpus_overview_table(documents: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """One row per report: characters, sentences, and the characters of its top-level sections
    by type (columns ``chars_<type>``) and their shares (``share_<type>``)."""
    labels = document_labels(documents)
    top_level = sections[sections["level"] == sections.loc[sections["level"] > 0, "level"].min()]
    chars = (top_level.assign(chars=top_level["end"] - top_level["start"])
             .pivot_table(index="doc_id", columns="section_type", values="chars", aggfunc="sum", fill_value=0))
    types = [t for t in schema.SECTION_TYPES if t in chars.columns] + \
        [t for t in chars.columns if t not in schema.SECTION_TYPES]
    chars = chars.reindex(columns=types).reindex(documents["doc_id"]).fillna(0)
    shares = chars.div(chars.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    table = documents.set_index("doc_id")[["region", "report_year", "n_chars", "n_sentences"]].copy()
    table.insert(0, "label", labels)
    table = table.join(chars.add_prefix("chars_")).join(shares.round(4).add_prefix("share_"))
    return table.reset_index()


def corpus_overview(documents: pd.DataFrame, sections: pd.DataFrame) -> Figure:
    """Length of each report and the share of its text in each section type."""
    table = corpus_overview_table(documents, sections).sort_values("n_chars", ascending=False)
    colours = _regions_of(document_labels(documents), documents)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, max(3.0, 0.5 * len(table) + 1.8)),
                                      gridspec_kw={"width_ratios": [1, 1.4]}, layout="constrained")
    plots.bar_chart(table.set_index("label")["n_chars"], ax=left, color=colours, annotate=True,
                    xlabel=plots.label("axis.n_chars"), title=plots.label("title.corpus_length"))
    left.margins(x=0.18)
    types = [c.removeprefix("chars_") for c in table.columns if c.startswith("chars_")]
    composition = table.set_index("label")[[f"chars_{t}" for t in types]]
    composition.columns = types
    plots.composition_bars(composition, ax=right, xlabel=plots.label("axis.share_chars"),
                           title=plots.label("title.section_composition"),
                           component_labels={t: plots.label(f"section_type.{t}") for t in types})
    longest, shortest = table.iloc[0], table.iloc[-1]
    results = table["share_results"] if "share_results" in table else pd.Series([0.0])
    reading = (f"Reports run from {shortest['n_chars']:,} characters ({shortest['label']}) to "
               f"{longest['n_chars']:,} ({longest['label']}); measures and results take "
               f"{results.min():.0%}–{results.max():.0%} of the text under top-level headings.")
    return Figure("04_corpus_overview", fig, table, reading)


# --------------------------------------------------------------------------- terms

def group_term_rates(term_frequencies: pd.DataFrame, documents: pd.DataFrame, *, group: str = "region") -> pd.DataFrame:
    """Counts of each term per group (summed over its reports) and the rate per 10,000
    characters of the group's reports, so long and short reports compare fairly."""
    tf = term_frequencies.drop(columns=[group], errors="ignore").merge(documents[["doc_id", group]], on="doc_id")
    tf[group] = metadata.group_key(tf, group)
    chars = documents.assign(**{group: metadata.group_key(documents, group)}).groupby(group)["n_chars"].sum()
    counts = tf.groupby([group, "term"], as_index=False)["count"].sum()
    counts["rate_per_10k"] = counts["count"] / counts[group].map(chars) * 1e4
    return counts.sort_values([group, "count", "term"], ascending=[True, False, True], ignore_index=True)


def top_terms(term_frequencies: pd.DataFrame, documents: pd.DataFrame, *, top_n: int = 10,
              group: str = "region") -> Figure:
    """The ``top_n`` terms of each region, as occurrences per 10,000 characters."""
    rates = group_term_rates(term_frequencies, documents, group=group)
    top = rates.groupby(group, sort=True).head(top_n)
    axes = plots.small_multiple_bars(top, facet=group, label_col="term", value="rate_per_10k", top_n=top_n,
                                     xlabel=plots.label("axis.rate_per_10k"))
    fig = axes[0].figure
    fig.suptitle(plots.label("title.top_terms"))
    shared = sorted(set.intersection(*(set(g["term"]) for _, g in top.groupby(group))))
    overall = rates.groupby("term")["count"].sum().idxmax()
    reading = (f"{len(shared)} term{'s are' if len(shared) != 1 else ' is'} in the top {top_n} of every {group}"
               f"{' (' + '、'.join(shared[:6]) + ')' if shared else ''}; the most frequent term overall is {overall}.")
    return Figure("04_top_terms", fig, top, reading)


def word_clouds(term_frequencies: pd.DataFrame, documents: pd.DataFrame, *, max_words: int = 60,
                group: str = "region") -> Figure:
    """One word cloud per region, sized by the same counts as the bar charts."""
    rates = group_term_rates(term_frequencies, documents, group=group)
    axes = plots.word_cloud_grid(rates, group=group, term="term", value="count", max_words=max_words)
    fig = axes[0].figure
    fig.suptitle(plots.label("title.word_clouds"))
    data = rates.groupby(group, sort=True).head(max_words)
    reading = (f"Word size follows each {group}'s term counts (the {max_words} most frequent terms; "
               "the same table as the bar charts, single characters included).")
    return Figure("04_word_clouds", fig, data, reading)


def distinctive_terms(keyness: pd.DataFrame, *, top_n: int = 10, min_count: int = 2) -> Figure:
    """Terms each group uses more than the others: z-scores of the weighted log-odds ratio
    (Monroe, Colaresi & Quinn 2008), from the keyness table of notebook 02."""
    rows = keyness[(keyness["z"] > 0) & (keyness["count"] >= min_count)]
    top = (rows.sort_values(["group", "z"], ascending=[True, False]).groupby("group", sort=True).head(top_n)
           .reset_index(drop=True))
    axes = plots.small_multiple_bars(top, facet="group", label_col="term", value="z", top_n=top_n,
                                     xlabel=plots.label("axis.z_score"))
    fig = axes[0].figure
    fig.suptitle(plots.label("title.distinctive_terms"))
    leaders = top.groupby("group", sort=True).head(1)
    reading = "Most distinctive term of each group: " + "; ".join(
        f"{r.group} — {r.term} (z = {r.z:.1f})" for r in leaders.itertuples()) + "."
    return Figure("04_distinctive_terms", fig, top, reading)


# --------------------------------------------------------------------------- themes

def theme_matrix(theme_profile: pd.DataFrame, documents: pd.DataFrame, *, lang: str | None = None) -> pd.DataFrame:
    """Report (label) × chapter table of the share (%) of theme-term tokens in each of the ten
    chapters; chapters named in the figure language."""
    lang = lang or plots.get_language()
    labels = document_labels(documents)
    profile = theme_profile[theme_profile["doc_id"].isin(labels.index)]
    names = profile.drop_duplicates("chapter").set_index("chapter")
    if lang == "en":
        column = {c: plots.label(f"theme.{c}", lang="en", default=str(names.loc[c, "name_en"])) for c in names.index}
    else:
        column = {c: str(names.loc[c, "label"]) for c in names.index}
    matrix = profile.pivot_table(index="doc_id", columns="chapter", values="token_share", aggfunc="sum")
    matrix = matrix.reindex(labels.index).sort_index(axis=1) * 100
    matrix.index = labels.reindex(matrix.index).to_numpy()
    matrix.columns = [column[c] for c in matrix.columns]
    return matrix


def theme_heatmap(theme_profile: pd.DataFrame, documents: pd.DataFrame) -> Figure:
    """Heatmap of the theme profile: share of each chapter among a report's theme terms."""
    matrix = theme_matrix(theme_profile, documents)
    fig, ax = plt.subplots(figsize=(0.9 * matrix.shape[1] + 4, 0.55 * len(matrix) + 2.2), layout="constrained")
    plots.heatmap(matrix, ax=ax, fmt="{:.0f}", colorbar_label=plots.label("axis.theme_share") + " (%)",
                  title=plots.label("title.theme_heatmap"))
    top = matrix.idxmax(axis=1)
    common = top.mode().iloc[0]
    reading = (f"{common} leads the theme profile of {int((top == common).sum())} of {len(matrix)} reports; "
               f"the widest spread between reports is in {(matrix.max() - matrix.min()).idxmax()}.")
    return Figure("04_theme_heatmap", fig, matrix.round(2), reading)


def theme_radar(theme_profile: pd.DataFrame, documents: pd.DataFrame) -> Figure:
    """The same profile as a radar chart, one line per report in its region's colour."""
    matrix = theme_matrix(theme_profile, documents)
    colours = _regions_of(document_labels(documents), documents)
    fig, ax = plt.subplots(figsize=(8, 6.5), subplot_kw={"projection": "polar"}, layout="constrained")
    plots.radar(matrix, ax=ax, colors=colours, title=plots.label("title.theme_radar"))
    spread = (matrix.max() - matrix.min()).sort_values(ascending=False)
    reading = (f"Reports differ most on {spread.index[0]} ({matrix[spread.index[0]].min():.0f}–"
               f"{matrix[spread.index[0]].max():.0f}% of theme terms) and least on {spread.index[-1]}.")
    return Figure("04_theme_radar", fig, matrix.round(2), reading)


# --------------------------------------------------------------------------- indicators

def _indicator_names(values: pd.DataFrame, lang: str) -> pd.DataFrame:
    if lang == "en" and "indicator_name_en" in values:
        return values.assign(indicator_name=values["indicator_name_en"].fillna(values["indicator_name"]))
    return values


def indicator_bars(values: pd.DataFrame, *, max_indicators: int = 9, min_reports: int = 2) -> Figure:
    """The stated values of the indicators most reports state, one panel per indicator with its
    unit (approximate values hatched, cells waiting for review drawn as "?", a report that does not
    state it has no bar)."""
    from matplotlib.patches import Patch

    from helpers import indicators as ind

    # chosen by id, so the Chinese and the English figure show the same indicators; by the reports
    # that state a value (a cell waiting for review is drawn, but does not earn a panel)
    reach = ind.stated(values).groupby("indicator_id")["doc_id"].nunique().reset_index(name="n")
    reach = reach.sort_values(["n", "indicator_id"], ascending=[False, True]).set_index("indicator_id")["n"]
    ids = reach[reach >= min_reports].head(max_indicators).index.tolist() or reach.head(max_indicators).index.tolist()
    values = _indicator_names(values, plots.get_language())
    names = values.drop_duplicates("indicator_id").set_index("indicator_id")["indicator_name"]
    chosen = [names[i] for i in ids]
    shown = values[values["indicator_id"].isin(ids)]
    axes = plots.indicator_bars(shown, indicators=chosen)
    fig = axes[0].figure
    fig.suptitle(plots.label("title.indicator_bars"))
    fig.legend(handles=[Patch(facecolor="white", edgecolor="#555555", hatch="///", label=plots.label("legend.approx")),
                        Patch(facecolor="none", edgecolor="none", label=plots.label("legend.review"))],
               loc="outside lower center", ncol=2, fontsize=8)
    columns = ["region", "report_year", "indicator_name", "status", "value", "unit", "approx", "approx_marker",
               "quote", "candidates"]
    data = shown[[c for c in columns if c in shown.columns]].reset_index(drop=True)
    status = shown["status"] if "status" in shown else pd.Series("stated", index=shown.index)
    n_review = int((status == "review").sum())
    reading = (f"The {len(chosen)} indicators stated by the most reports ({reach.iloc[0]} of "
               f"{values['doc_id'].nunique()} for {names[reach.index[0]]}), each on its own scale and in its own "
               f"unit; {int(shown['approx'].fillna(False).sum())} of the {len(shown) - n_review} values drawn are "
               f"approximate (hatched) and {n_review} cell(s) await review (\"?\", no bar).")
    return Figure("04_indicator_bars", fig, data, reading)


def indicator_coverage(values: pd.DataFrame, documents: pd.DataFrame, *, top_n: int = 40) -> Figure:
    """Which report states which indicator (rows: indicators, most-stated first; at most ``top_n``,
    and the reading says how many more are stated)."""
    from helpers import indicators as ind

    values = _indicator_names(values, plots.get_language())
    coverage = ind.coverage_table(values, documents=documents)
    n_stated = int((coverage["n_reports"] > 0).sum())
    height = 0.28 * min(top_n, n_stated) + 2
    fig, ax = plt.subplots(figsize=(1.1 * len(documents) + 4, height), layout="constrained")
    plots.coverage_heatmap(coverage, ax=ax, top_n=top_n, title=plots.label("title.indicator_coverage"))
    n = len(documents)
    everywhere = int((coverage["n_reports"] == n).sum())
    once = int((coverage["n_reports"] == 1).sum())
    drawn = min(top_n, n_stated)
    left = (f"all {n_stated} are drawn" if drawn == n_stated
            else f"the {drawn} most stated are drawn and {n_stated - drawn} stated less often are left out")
    reading = (f"{n_stated} indicators are stated at least once ({left}); {everywhere} by all "
               f"{n} reports and {once} by a single report, so most comparisons cover only some regions.")
    return Figure("04_indicator_coverage", fig, coverage, reading)


def year_comparison(values: pd.DataFrame) -> Figure | None:
    """For each region with reports from several years: the indicators stated in two or more of
    them, one bar per year (log scale, values written on the bars). None when no region has
    several years."""
    from helpers import indicators as ind

    values = _indicator_names(values, plots.get_language())
    # only regions with reports from several years can pair up (and most corpora have none)
    years = values.dropna(subset=["region"]).groupby("region")["report_year"].nunique()
    values = values[values["region"].isin(years[years > 1].index)]
    pairs = ind.year_over_year(values) if len(values) else pd.DataFrame()
    if pairs.empty:
        return None
    regions = sorted(pairs["region"].unique())
    fig, axes = plots.facet_grid(len(regions), ncols=2, panel_size=(6.0, 0.5 * pairs["indicator_name"].nunique() + 2))
    tables = []
    for ax, region in zip(axes, regions):
        keep = pairs.loc[pairs["region"] == region, "indicator_id"].unique()
        rows = values[(values["region"] == region) & values["indicator_id"].isin(keep)]
        table = rows.pivot_table(index="indicator_name", columns="report_year", values="value", aggfunc="first")
        table.columns = [str(c).removesuffix(".0") for c in table.columns]
        years = list(table.columns)
        shades = dict(zip(years, plots.PALETTE[:len(years)]))
        plots.grouped_bars(table, ax=ax, colors=shades, log=True, annotate=True,
                           legend_title=plots.label("axis.year"), title=region)
        tables.append(table.assign(region=region).reset_index())
    fig.suptitle(plots.label("title.year_comparison"))
    data = pd.concat(tables, ignore_index=True)
    up = int((pairs["change"] > 0).sum())
    reading = (f"{len(pairs)} indicator values can be followed from one report year to the next in "
               f"{len(regions)} region(s); {up} rose and {int((pairs['change'] < 0).sum())} fell.")
    return Figure("04_year_comparison", fig, data, reading)


# --------------------------------------------------------------------------- report quality (notebook 05)

QUALITY_DIMENSIONS = {  # dimension -> column of quality.report_quality drawn for it
    "completeness": "n_parts", "timeliness": "days_from_deadline", "specificity": "quantities_per_1k",
    "candour": "matched_share", "originality": "originality",
}


def report_quality(quality_table: pd.DataFrame, documents: pd.DataFrame) -> Figure:
    """Each report on the five dimensions of ``quality.report_quality``, one panel each: required
    parts present (of 5), days from the 1 April deadline (negative = early; "?" without a date),
    quantities per 1,000 characters, share of stated shortcomings matched by a plan, share of
    statements not reused from other reports. Panel titles come from ``quality_rules.yaml``."""
    from helpers import quality

    lang = plots.get_language()
    text = {key: value.get(lang) or value.get("zh") for key, value in quality.load_rules()["labels"].items()}
    labels = document_labels(documents)
    table = quality_table.assign(label=quality_table["doc_id"].map(labels)).sort_values("label", kind="stable")
    columns = list(QUALITY_DIMENSIONS.values())
    data = table[["doc_id", "label", *columns, "timeliness"]].reset_index(drop=True)
    shown = data.set_index("label")[columns].astype(float)
    colours = _regions_of(labels, documents)
    axes = plots.metric_panels(
        shown, metrics={column: text[dim] for dim, column in QUALITY_DIMENSIONS.items()}, colors=colours,
        formats={"n_parts": "{:.0f}", "days_from_deadline": "{:+.0f}", "quantities_per_1k": "{:.1f}",
                 "matched_share": "{:.0%}", "originality": "{:.0%}"},
        missing={"days_from_deadline": text["unknown"], "matched_share": text["none"],
                 "originality": text["none"], "quantities_per_1k": text["none"], "n_parts": text["none"]},
        reference={"days_from_deadline": 0},
        limits={"n_parts": (0, 5.9), "matched_share": (0, 1.25), "originality": (0, 1.25)})
    fig = axes[0].figure
    fig.suptitle(text["title"])
    n = len(data)
    complete = int((quality_table["missing_parts"].fillna("") == "").sum())
    on_time = int((quality_table["timeliness"] == "on time").sum())
    unknown = int((quality_table["timeliness"] == "unknown").sum())
    per_1k = quality_table["quantities_per_1k"].dropna()
    matched, stated = int(quality_table["n_matched"].sum()), int(quality_table["n_shortcomings"].sum())
    reused = quality_table["reused_share"].dropna()
    reading = (f"{complete} of {n} reports hold all required parts; {on_time} were published by the deadline and "
               f"{unknown} carry no date" +
               (f"; {per_1k.min():.1f}–{per_1k.max():.1f} quantities per 1,000 characters" if len(per_1k) else "") +
               f"; {matched} of {stated} stated shortcomings are matched by a plan" +
               (f"; {reused.min():.0%}–{reused.max():.0%} of statements are reused from other reports." if len(reused)
                else "; reuse is not measured with a single report."))
    return Figure("05_report_quality", fig, data, reading)
