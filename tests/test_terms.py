"""helpers.terms: exact counts on a hand-made text, keyness against a worked example, filtering on
the five reports, collocations, co-occurrence, kwic, boilerplate and theme profiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import segment, terms

HAND_MADE = pd.DataFrame({
    "doc_id": ["a", "a", "b", "b", "b"],
    "sentence_id": [0, 1, 0, 1, 2],
    "section_type": ["results", "shortcomings", "results", "plans", "plans"],
    "text": ["推进行政复议工作，办结行政复议案件3件。", "行政复议纠错率18.3%，高于全市。",
             "开展普法宣传活动20场，群众满意。", "普法宣传进社区，普法宣传进企业。", "落实合法性审查。"],
})


@pytest.fixture(scope="module")
def seg() -> segment.Segmenter:
    return segment.default_segmenter()


@pytest.fixture(scope="module")
def hand_tokens(seg) -> pd.DataFrame:
    return segment.segment_sentences(HAND_MADE, segmenter=seg)


@pytest.fixture(scope="module")
def hand_terms(hand_tokens, seg) -> pd.DataFrame:
    return terms.filter_tokens(hand_tokens, keep=seg.lexicon)


@pytest.fixture(scope="module")
def corpus_tokens(corpus, seg) -> pd.DataFrame:
    return segment.segment_sentences(corpus.sentences, segmenter=seg)


@pytest.fixture(scope="module")
def corpus_terms(corpus, corpus_tokens, seg) -> pd.DataFrame:
    kept = terms.filter_tokens(corpus_tokens, keep=seg.lexicon)
    return terms.annotate(kept, sentences=corpus.sentences, documents=corpus.documents)


def test_exact_counts_on_hand_made_text(hand_terms):
    counts = terms.term_counts(hand_terms)
    by_doc = {d: dict(zip(g["term"], g["count"])) for d, g in counts.groupby("doc_id")}
    # 推进/工作 are filler, 3, 18.3%, 件 and punctuation are dropped; 群众满意 and 进社区 are
    # jieba's HMM words.
    assert by_doc["a"] == {"行政复议": 3, "办结": 1, "案件": 1, "纠错率": 1, "高于": 1}
    assert by_doc["b"] == {"普法": 3, "宣传": 3, "活动": 1, "群众满意": 1, "进社区": 1, "企业": 1,
                           "合法性审查": 1}


def test_rates_per_10k_characters_and_section_types(hand_terms):
    table = terms.frequency_table(hand_terms, HAND_MADE, by="doc_id")
    row = table[(table.doc_id == "a") & (table.term == "行政复议")].iloc[0]
    chars_a = len("推进行政复议工作，办结行政复议案件3件。") + len("行政复议纠错率18.3%，高于全市。")
    assert row["n_chars"] == chars_a == 20 + 18
    assert row["rate_per_10k"] == pytest.approx(3 / 38 * 10_000)
    assert row["n_tokens"] == 7 and row["share"] == pytest.approx(3 / 7)
    annotated = terms.annotate(hand_terms, sentences=HAND_MADE)
    by_type = terms.frequency_table(annotated, HAND_MADE, by=["doc_id", "section_type"])
    plans = by_type[(by_type.doc_id == "b") & (by_type.section_type == "plans")]
    assert dict(zip(plans["term"], plans["count"])) == {"普法": 2, "宣传": 2, "进社区": 1, "企业": 1,
                                                        "合法性审查": 1}
    assert set(plans["n_chars"]) == {len("普法宣传进社区，普法宣传进企业。") + len("落实合法性审查。")}


def test_document_frequency_and_tfidf(hand_terms):
    df = terms.document_frequency(hand_terms).set_index("term")
    assert df.loc["行政复议", "df"] == 1 and df.loc["普法", "n_units"] == 2
    tfidf = terms.tfidf(hand_terms).set_index(["doc_id", "term"])
    # tf = 3/7; idf = ln((1 + 2) / (1 + 1)) + 1 (smoothed)
    assert tfidf.loc[("a", "行政复议"), "tfidf"] == pytest.approx(3 / 7 * (math.log(3 / 2) + 1))
    plain = terms.tfidf(hand_terms, smooth=False).set_index(["doc_id", "term"])
    # b holds 11 terms: tf(普法) = 3/11; idf = ln(2/1)
    assert plain.loc[("b", "普法"), "tfidf"] == pytest.approx(3 / 11 * math.log(2 / 1))


def _tokens_from_counts(counts: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = [(doc, 0, i, term) for doc, terms_ in counts.items()
            for i, term in enumerate(t for t, n in terms_.items() for _ in range(n))]
    return pd.DataFrame(rows, columns=["doc_id", "sentence_id", "position", "token"])


def test_keyness_matches_worked_example():
    tokens = _tokens_from_counts({"A": {"行政复议": 10, "普法": 5}, "B": {"行政复议": 2, "普法": 5, "调解": 8}})
    table = terms.keyness(tokens, alpha0=10).set_index(["group", "term"])
    # n = 30 tokens; n_A = n_B = 15. Prior a_w = 10 * y_w / 30: a(行政复议) = 10*12/30 = 4,
    # a(调解) = 10*8/30 = 8/3. a0 = 10.
    # 行政复议 in A: ln((10+4)/(15+10-10-4)) - ln((2+4)/(15+10-2-4)) = ln(14/11) - ln(6/19)
    delta = math.log(14 / 11) - math.log(6 / 19)  # = 1.3939...
    se = math.sqrt(1 / 14 + 1 / 6)  # = 0.4880...
    row = table.loc[("A", "行政复议")]
    assert row["log_odds"] == pytest.approx(delta)
    assert row["se"] == pytest.approx(se)
    assert row["z"] == pytest.approx(delta / se) == pytest.approx(2.8565, abs=1e-4)
    assert (row["count"], row["count_rest"], row["prior"]) == (10, 2, pytest.approx(4))
    # 调解 in A (never used there): ln((0+8/3)/(25-8/3)) - ln((8+8/3)/(25-8-8/3)) = ln(8/67) - ln(32/43)
    delta = math.log(8 / 67) - math.log(32 / 43)
    assert table.loc[("A", "调解"), "z"] == pytest.approx(delta / math.sqrt(3 / 8 + 3 / 32))
    # Two groups: B against the rest is A against B turned round.
    assert table.loc[("B", "行政复议"), "z"] == pytest.approx(-table.loc[("A", "行政复议"), "z"])
    # Default prior = the corpus counts (a0 = 30, a(行政复议) = 12):
    # ln((10+12)/(15+30-10-12)) - ln((2+12)/(15+30-2-12)) = ln(22/23) - ln(14/31)
    default = terms.keyness(tokens).set_index(["group", "term"])
    assert default.loc[("A", "行政复议"), "log_odds"] == pytest.approx(math.log(22 / 23) - math.log(14 / 31))


def test_keyness_for_all_groups_at_once(corpus_terms):
    table = terms.keyness(corpus_terms, by="region", min_count=3)
    regions = set(corpus_terms["region"])
    assert set(table["group"]) == regions
    matrix = terms.keyness_matrix(table)
    assert matrix.shape == (len(regions), table["term"].nunique())
    counts = terms.keyness_matrix(table, value="count")
    assert (counts.sum(axis=0) >= 3).all()
    assert np.isfinite(matrix.to_numpy()).all()
    # The raw counts beside the z-scores are the term counts of each group.
    direct = corpus_terms.groupby(["region", "token"]).size()
    sample = table[table["count"] > 0].head(50)
    for group, term, count in sample[["group", "term", "count"]].itertuples(index=False):
        assert direct[(group, term)] == count


def test_keyness_excluding_spans(hand_tokens, hand_terms):
    spans = pd.DataFrame({"doc_id": ["b"], "sentence_id": [1], "start": [0], "end": [7]})  # 普法宣传进社区
    kept = terms.drop_spans(hand_terms, spans)
    assert len(hand_terms) - len(kept) == 3
    with_all = terms.keyness(hand_terms).set_index(["group", "term"])
    without = terms.keyness(hand_terms, exclude=spans).set_index(["group", "term"])
    assert with_all.loc[("b", "普法"), "count"] == 3 and without.loc[("b", "普法"), "count"] == 2
    whole_sentence = terms.keyness(hand_terms, exclude=spans[["doc_id", "sentence_id"]]).set_index(["group", "term"])
    assert whole_sentence.loc[("b", "普法"), "count"] == 1


def test_filler_and_stopwords_never_reach_the_tables(corpus, corpus_terms):
    stop = terms.stopword_set()
    assert {"进一步", "深入", "全面", "持续", "扎实", "有效"} <= terms.domain_stopwords()
    assert {"的", "和", "在"} <= terms.general_stopwords()
    sentences = terms.annotate(corpus.sentences, documents=corpus.documents)
    tables = {
        "frequency": terms.frequency_table(corpus_terms, sentences, by="region")["term"],
        "tfidf": terms.tfidf(corpus_terms)["term"],
        "keyness": terms.keyness(corpus_terms, by="region")["term"],
        "collocations": pd.concat([terms.collocations(corpus_terms, min_count=2)[c] for c in ("first", "second")]),
        "cooccurrence": terms.cooccurrence(corpus_terms, top_n=40)["term_a"],
    }
    lexicon = segment.default_segmenter().lexicon
    for name, column in tables.items():
        words = set(column.astype(str))
        assert words, name
        assert not words & stop, (name, sorted(words & stop)[:10])
        shape_breakers = {w for w in words if w not in lexicon and (
            len(w) == 1 or w.strip() != w or w.replace(".", "").replace("%", "").isdigit()
            or not any(ch.isalnum() for ch in w))}
        assert not shape_breakers, (name, sorted(shape_breakers)[:10])


@pytest.mark.parametrize(("option", "token", "kept_by_default"), [
    ("drop_digits", "2022", False), ("drop_digits", "18.3%", False), ("drop_punctuation", "——", False),
    ("drop_punctuation", "……", False), ("drop_single", "案", False), ("drop_single", "普法", True),
])
def test_each_filter_is_an_option(option, token, kept_by_default):
    tokens = pd.DataFrame({"doc_id": ["a"], "sentence_id": [0], "position": [0], "token": [token]})
    assert (len(terms.filter_tokens(tokens, stopwords=())) == 1) is kept_by_default
    assert len(terms.filter_tokens(tokens, stopwords=(), **{option: False})) == 1


def test_lexicon_terms_escape_shape_rules_but_not_stopwords():
    tokens = pd.DataFrame({"doc_id": ["a"] * 2, "sentence_id": [0] * 2, "position": [0, 1], "token": ["12345", "普法"]})
    assert terms.filter_tokens(tokens, keep={"12345"})["token"].tolist() == ["12345", "普法"]
    assert terms.filter_tokens(tokens, stopwords={"普法"}, keep={"12345", "普法"})["token"].tolist() == ["12345"]


def test_segmentation_is_reused_not_repeated(monkeypatch, corpus, corpus_terms, corpus_tokens):
    def no_cut(self, text):
        raise AssertionError("tables must not segment again")

    monkeypatch.setattr(segment.Segmenter, "cut", no_cut)
    terms.frequency_table(corpus_terms, corpus.sentences, by="doc_id")
    terms.keyness(corpus_terms)
    terms.collocations(corpus_terms)
    terms.cooccurrence(corpus_terms)
    terms.theme_profile(corpus_tokens, corpus.sentences)
    terms.kwic(corpus.sentences, "行政复议", tokens=corpus_tokens)


def test_collocations_pmi_on_hand_made_text(hand_terms):
    table = terms.collocations(hand_terms, min_count=2).set_index("bigram")
    # 普法 then 宣传: once in b0, twice in b1. N = 18 terms (7 in a, 11 in b),
    # c(普法) = c(宣传) = 3 -> pmi = log2(3 * 18 / (3 * 3)) = log2(6).
    row = table.loc["普法宣传"]
    assert row["count"] == 3
    assert row["pmi"] == pytest.approx(math.log2(6))
    assert row["npmi"] == pytest.approx(math.log2(6) / -math.log2(3 / 18))
    # 行政复议 and 案件 are adjacent once only (办结 and 3 sit between the others).
    assert "行政复议案件" not in table.index


def test_cooccurrence_counts_sentences(hand_terms):
    table = terms.cooccurrence(hand_terms, terms=["普法", "宣传", "企业", "行政复议"])
    pairs = {(a, b): n for a, b, n in table[["term_a", "term_b", "n_sentences"]].itertuples(index=False)}
    assert pairs == {("宣传", "普法"): 2, ("企业", "宣传"): 1, ("企业", "普法"): 1}
    row = table[(table.term_a == "企业") & (table.term_b == "普法")].iloc[0]
    assert row["jaccard"] == pytest.approx(1 / 2)


def test_kwic_on_the_reports(corpus, corpus_tokens):
    rows = terms.kwic(corpus.sentences, "行政复议", window=8)
    assert len(rows) == sum(t.count("行政复议") for t in corpus.sentences["text"])
    for r in rows.itertuples():
        assert r.sentence[r.start:r.start + 4] == "行政复议"
        assert r.sentence[:r.start].endswith(r.left) and len(r.left) <= 8 and len(r.right) <= 8
    assert {"doc_id", "sentence_id", "section_type"} <= set(rows.columns)
    assert terms.kwic(corpus.sentences, "复议", tokens=corpus_tokens).empty  # always inside 行政复议
    assert len(terms.kwic(corpus.sentences, "复议")) >= len(rows)


def test_boilerplate_flags_copies_across_reports(corpus):
    text = corpus.sentences["text"]
    slogan = text[text.str.contains("坚持以习近平新时代中国特色社会主义思想为指导")].iloc[0]
    own = text[text.str.len() > 30].iloc[-1]
    sentences = pd.DataFrame({
        "doc_id": ["a", "b", "b", "c", "c"],
        "sentence_id": [0, 0, 1, 0, 1],
        # b copies a's sentence with another list marker and year; c repeats its own sentence.
        "text": [slogan, "（二）" + slogan.replace("202", "201"), "组织旁听庭审活动3次。", own, own],
    })
    flagged = terms.boilerplate(sentences, threshold=0.8)
    assert flagged["boilerplate"].tolist() == [True, True, False, False, False]
    assert flagged["n_documents"].tolist()[:2] == [2, 2]
    assert flagged["cluster"].iloc[0] == flagged["cluster"].iloc[1] >= 0


@pytest.mark.parametrize("unit", ["sentence", "clause"])
def test_boilerplate_finds_every_near_duplicate_pair_of_the_reports(corpus, unit):
    units = terms.text_units(corpus.sentences, unit=unit)
    flagged = terms.boilerplate(corpus.sentences, unit=unit, threshold=0.8)
    norm = [terms._normalise_for_shingles(t) for t in units["text"]]
    grams = [{t[i:i + 4] for i in range(len(t) - 3)} if len(t) >= 10 else set() for t in norm]
    docs = units["doc_id"].tolist()
    # Exhaustive check, skipping only pairs whose sizes alone rule out a Jaccard of 0.8.
    order = sorted((i for i in range(len(units)) if grams[i]), key=lambda i: len(grams[i]))
    expected = set()
    for a, i in enumerate(order):
        for j in order[a + 1:]:
            if len(grams[i]) < 0.8 * len(grams[j]):
                break
            if docs[i] != docs[j] and len(grams[i] & grams[j]) >= 0.8 * len(grams[i] | grams[j]):
                expected |= {i, j}
    assert set(np.flatnonzero(flagged["boilerplate"].to_numpy())) >= expected
    if unit == "clause":
        assert len(expected) >= 10  # the reports share slogans clause by clause


def test_themes_file_has_ten_chapters_of_fifteen_terms():
    themes = terms.read_themes()
    per_chapter = themes.groupby("chapter")["term"].nunique()
    assert list(per_chapter.index) == list(range(1, 11))
    assert (per_chapter >= 15).all()
    assert themes["name_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    assert themes["name_en"].str.contains(r"[A-Za-z]").all()


def test_read_themes_refuses_a_term_in_two_chapters(tmp_path):
    bad = tmp_path / "themes.yaml"
    bad.write_text("chapters:\n  - {number: 1, name_zh: 甲, name_en: A, terms: [普法]}\n"
                   "  - {number: 2, name_zh: 乙, name_en: B, terms: [普法]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="themes.yaml.*普法"):
        terms.read_themes(bad)


def test_theme_profile_on_hand_made_text(hand_tokens):
    profile = terms.theme_profile(hand_tokens, HAND_MADE).set_index(["doc_id", "chapter"])
    assert len(profile) == 2 * 10
    # a: 行政复议 x3 and 纠错率 (chapter 7) in both of its sentences.
    assert profile.loc[("a", 7), ["n_tokens", "token_share", "n_sentences", "sentence_share"]].tolist() == [4, 1.0, 2, 1.0]
    # b: 普法 x3 (chapter 1) in 2 of 3 sentences; 合法性审查 (chapter 4) once.
    assert profile.loc[("b", 1), "token_share"] == pytest.approx(3 / 4)
    assert profile.loc[("b", 1), "sentence_share"] == pytest.approx(2 / 3)
    assert profile.loc[("b", 4), "token_share"] == pytest.approx(1 / 4)
    assert profile.loc[("b", 6), "n_tokens"] == 0


def test_theme_profile_of_the_reports(corpus, corpus_tokens):
    profile = terms.theme_profile(corpus_tokens, corpus.sentences)
    shares = profile.groupby("doc_id")["token_share"].sum()
    assert np.allclose(shares, 1.0)
    assert profile["sentence_share"].between(0, 1).all()
    # Every report talks about enforcement (5) and disputes (7).
    assert (profile[profile.chapter.isin([5, 7])]["n_tokens"] > 0).all()


def test_side_by_side_ranks_each_group_in_its_column(hand_terms, corpus_terms):
    table = terms.side_by_side(terms.frequency_table(hand_terms, HAND_MADE, by="doc_id"), by="doc_id", n=3)
    # ties (宣传 and 普法 both 3) go alphabetically by term, as the frequency tables sort them
    assert table.to_dict("list") == {"a": ["行政复议 (3)", "办结 (1)", "案件 (1)"],
                                     "b": ["宣传 (3)", "普法 (3)", "企业 (1)"]}
    assert table.index.tolist() == [1, 2, 3] and table.index.name == "rank"
    key = terms.keyness(corpus_terms, by="region", min_count=3)
    top = terms.top_distinctive(key, n=5, min_count=2)
    wide = terms.side_by_side(top, by="group", n=5, value="z", fmt="{:.1f}")
    assert list(wide.columns) == sorted(corpus_terms["region"].unique())
    for region, cells in wide.items():  # each column is the region's own five highest z, in order
        best = top[top["group"] == region].sort_values(["z", "term"], ascending=[False, True])
        assert cells.tolist() == [f"{t} ({z:.1f})" for t, z in zip(best["term"], best["z"])]
