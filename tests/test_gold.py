"""Extraction accuracy against the hand-annotated mentions of the five reports
(tests/data/gold_quantities.csv; how it was made: tests/data/ANNOTATION.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import indicators, quantities

GOLD = Path(__file__).parent / "data" / "gold_quantities.csv"
THRESHOLD = 0.95


@pytest.fixture(scope="module")
def scores(corpus):
    gold = pd.read_csv(GOLD)
    found = quantities.extract_quantities(corpus.sentences, documents=corpus.documents)
    found = indicators.assign_indicators(found)
    return indicators.evaluate_against_gold(found, gold, corpus.documents).set_index("file")


def test_gold_covers_every_report(scores, corpus):
    assert set(corpus.documents["file"]) <= set(scores.index)


@pytest.mark.parametrize("metric", ["recall", "precision", "value_accuracy"])
def test_accuracy_at_least_95_percent(scores, metric):
    total = scores.loc["all", metric]
    assert total >= THRESHOLD, f"{metric} {total:.3f} < {THRESHOLD}\n{scores.to_string()}"


# Measured on the five reports: object quality 96.4% (85.8% before the Num-CL-N, bridging and
# subset rules), indicator agreement 90.3% (85.4% before the sentence-frame, bracketed-note and
# breakdown rules; 88.0% before one measure per indicator and the channel rules, against the
# annotation as revised for them: ANNOTATION.md); the floors leave a small margin.
OBJECT_QUALITY_FLOOR = 0.95
INDICATOR_AGREEMENT_FLOOR = 0.895


def test_object_quality_and_indicator_agreement(scores):
    """Objects agree with the annotated object (``indicators.object_agrees``: same head noun or
    two thirds of the character pairs) on 96.4% of paired mentions, indicator ids (no indicator
    on both sides counting as agreement) on 90.3%."""
    total = scores.loc["all"]
    assert total["object_quality"] >= OBJECT_QUALITY_FLOOR, scores.to_string()
    assert total["indicator_agreement"] >= INDICATOR_AGREEMENT_FLOOR, scores.to_string()


def test_object_quality_falls_when_objects_are_lost(corpus):
    gold = pd.read_csv(GOLD)
    found = quantities.extract_quantities(corpus.sentences, documents=corpus.documents)
    full = indicators.evaluate_against_gold(found, gold, corpus.documents).set_index("file").loc["all"]
    blanked = indicators.evaluate_against_gold(found.assign(object=""), gold, corpus.documents)
    assert blanked.set_index("file").loc["all", "object_quality"] == 0 < full["object_quality"]


def test_every_gold_quote_is_found_in_the_cleaned_text(corpus):
    gold = pd.read_csv(GOLD)
    pairs = indicators.match_gold(gold.iloc[:0].assign(doc_id=[], start=[], end=[], value=[]), gold, corpus.documents)
    assert (pairs["status"] != "unlocated").all()


def test_the_matcher_counts_misses_and_spurious_rows(corpus):
    gold = pd.read_csv(GOLD)
    found = quantities.extract_quantities(corpus.sentences, documents=corpus.documents)
    dropped = found.iloc[10:]  # ten mentions fewer
    shifted = found.assign(value=found["value"] + 1)
    full = indicators.evaluate_against_gold(found, gold, corpus.documents).set_index("file").loc["all"]
    fewer = indicators.evaluate_against_gold(dropped, gold, corpus.documents).set_index("file").loc["all"]
    wrong = indicators.evaluate_against_gold(shifted, gold, corpus.documents).set_index("file").loc["all"]
    assert fewer["matched"] == full["matched"] - 10
    assert wrong["value_accuracy"] < 0.05 and wrong["recall"] == full["recall"]
