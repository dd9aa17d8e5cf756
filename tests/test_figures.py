"""helpers.figures: the tables behind the figure set of notebook 04, on the five sample reports."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import figures, indicators, plots


@pytest.fixture(autouse=True)
def _close_and_reset():
    yield
    plots.set_language("zh")
    plt.close("all")


@pytest.fixture(scope="module")
def values(corpus) -> pd.DataFrame:
    """Indicator values of the five reports, extracted as notebook 03 does."""
    from helpers import indicators, quantities

    mentions = indicators.assign_indicators(quantities.extract_quantities(corpus.sentences, documents=corpus.documents))
    return indicators.indicator_values(mentions, corpus.documents)


@pytest.mark.parametrize("rows, expected", [
    ([("a", "矿区", 2022), ("b", "武江区", 2024)], ["矿区", "武江区"]),
    ([("a", "矿区", 2022), ("b", "矿区", 2023)], ["矿区 2022", "矿区 2023"]),
    ([("a", "矿区", 2022.0), ("b", "矿区", 2023.0)], ["矿区 2022", "矿区 2023"]),
    ([("a", "矿区", 2022), ("b", "矿区", 2022)], ["矿区 2022 · a", "矿区 2022 · b"]),
    ([("x-doc", None, 2022), ("b", "武江区", 2024)], ["x-doc", "武江区"]),
])
def test_document_labels(rows, expected):
    docs = pd.DataFrame(rows, columns=["doc_id", "region", "report_year"])
    assert figures.document_labels(docs).tolist() == expected


def test_corpus_overview_table_adds_up(corpus):
    table = figures.corpus_overview_table(corpus.documents, corpus.sections)
    assert table["doc_id"].tolist() == corpus.documents["doc_id"].tolist()
    assert table["n_chars"].tolist() == corpus.documents["n_chars"].tolist()
    shares = table[[c for c in table.columns if c.startswith("share_")]]
    assert np.allclose(shares.sum(axis=1), 1.0, atol=1e-3)  # shares are rounded to 4 places
    top = corpus.sections[corpus.sections["level"] == 1]
    for row in table.itertuples():
        sections = top[top["doc_id"] == row.doc_id]
        assert row.chars_results == (sections["end"] - sections["start"])[sections["section_type"] == "results"].sum()
        assert row.chars_results > 0  # every sample report has a measures-and-results section


def test_corpus_overview_reading_names_the_shortest_and_longest(corpus):
    result = figures.corpus_overview(corpus.documents, corpus.sections)
    docs = corpus.documents.set_index("region")["n_chars"]
    assert result.name == "04_corpus_overview"
    assert f"from {docs.min():,} characters ({docs.idxmin()})" in result.reading
    assert f"to {docs.max():,} ({docs.idxmax()})" in result.reading


def test_group_term_rates_per_10000_characters(corpus):
    docs = corpus.documents
    text = dict(zip(docs["doc_id"], docs["text"]))
    tf = pd.DataFrame([(d, term, text[d].count(term)) for d in docs["doc_id"] for term in ("行政复议", "普法")],
                      columns=["doc_id", "term", "count"])
    rates = figures.group_term_rates(tf, docs)
    row = rates[(rates["region"] == docs["region"].iloc[1]) & (rates["term"] == "普法")].iloc[0]
    expected = text[docs["doc_id"].iloc[1]].count("普法") / docs["n_chars"].iloc[1] * 1e4
    assert row["rate_per_10k"] == pytest.approx(expected)


def test_indicator_bars_pick_the_most_stated_indicators(values):
    result = figures.indicator_bars(values, max_indicators=4)
    # reach counts the reports that state a value (cells waiting for review earn no panel)
    reach = indicators.stated(values).groupby("indicator_name")["doc_id"].nunique()
    shown = set(result.data["indicator_name"])
    assert len(shown) == 4 and min(reach[list(shown)]) >= 2
    assert min(reach[list(shown)]) >= reach.drop(list(shown)).max()  # none left out is stated more often
    plots.set_language("en")
    english = figures.indicator_bars(values, max_indicators=4)
    titles = {ax.get_title().rsplit(" (", 1)[0] for ax in english.figure.axes if ax.get_visible()}
    assert titles == set(values.loc[values["indicator_name"].isin(shown), "indicator_name_en"])


def test_year_comparison_only_where_a_region_has_several_years(values):
    assert figures.year_comparison(values) is None  # the sample has one report per region
    # the same region a year later, every value doubled
    region = values["region"].value_counts().index[0]
    later = values[values["region"] == region].assign(
        doc_id=lambda d: d["doc_id"] + "-next", report_year=lambda d: d["report_year"].astype(int) + 1,
        value=lambda d: d["value"] * 2)
    result = figures.year_comparison(pd.concat([values, later], ignore_index=True))
    assert result.name == "04_year_comparison"
    assert set(result.data["region"]) == {region}
    year = int(values.loc[values["region"] == region, "report_year"].astype(int).iloc[0])
    assert {str(year), str(year + 1)} <= set(result.data.columns)
    rose = int((later["value"] > 0).sum())
    assert f"{rose} rose and 0 fell" in result.reading
