"""The hand-annotated gold quantities stay consistent with the raw reports and the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from helpers import config

GOLD = pd.read_csv(config.ROOT / "tests" / "data" / "gold_quantities.csv", dtype={"indicator": str})
CATALOGUE_IDS = {entry["id"] for entry in yaml.safe_load((config.PACKAGE_DATA / "indicators.yaml").read_text(encoding="utf-8"))}


@pytest.mark.parametrize("row", list(GOLD.itertuples(index=False)), ids=lambda r: f"{r.file[:3]}:{r.quote}")
def test_gold_quote_is_verbatim_and_unique_in_its_raw_file(row, raw_texts):
    assert raw_texts[row.file].count(row.quote) == 1


def test_gold_indicators_are_catalogue_ids():
    used = set(GOLD["indicator"].dropna())
    assert used <= CATALOGUE_IDS, used - CATALOGUE_IDS


def test_gold_ranges_hold_their_value():
    assert (GOLD["low"] <= GOLD["value"]).all() and (GOLD["value"] <= GOLD["high"]).all()
    assert set(GOLD["kind"]) <= {"count", "amount", "percentage", "change", "duration", "other"}


def test_gold_covers_every_sample_report(raw_texts):
    assert set(GOLD["file"]) == set(raw_texts)
