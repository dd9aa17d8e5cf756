"""helpers.segment: the domain lexicon, protected terms, the token table, split-term candidates."""

from __future__ import annotations

import jieba
import pandas as pd
import pytest
import yaml

from helpers import config, schema, segment

# Sentences of the five sample reports (as notebook 01 cleans them) and a lexicon term each must
# yield as one token.
REAL_SENTENCES = [
    ("二、深入学习宣传贯彻习近平法治思想", "习近平法治思想"),
    ("建立行政复议审理机制。", "行政复议"),
    ("（六）强化和规范行政应诉工作。", "行政应诉"),
    ("一是强化规范性文件管理。", "规范性文件"),
    ("严格执行重大行政决策合法性审查程序，建立健全法律顾问制度。", "合法性审查"),
    ("二是落实重大行政决策法定程序。", "重大行政决策"),
    ("一是全面落实“谁执法谁普法”工作制度。", "谁执法谁普法"),
    ("二是深化“放管服”改革。", "放管服"),
    ("跨部门联合执法，开展市场监管领域部门联合“双随机、一公开”监管。", "双随机、一公开"),
    ("督促各执法单位落实行政执法三项制度。", "行政执法三项制度"),
    ("全面推行行政执法“三项制度”，进一步明确执法部门职责", "三项制度"),
    ("三是推进包容审慎监管，助力优化营商环境。", "包容审慎"),
    ("坚持发展新时代“枫桥经验”，深化矛盾纠纷多元化解", "枫桥经验"),
    ("村（社区）建立起“法律明白人”队伍，目前已有法律明白人407人；", "法律明白人"),
    ("推进“一件事一次办”，聚焦个人、企业全生命周期关联事项", "一件事一次办"),
    ("健全以“双随机、一公开”监管和“互联网+监管”为基本手段的监管机制", "互联网+监管"),
    ("落实负责人出庭应诉制度，进一步提高行政机关负责人出庭应诉率和质量；", "出庭应诉率"),
    ("办理首违不罚案件251件。", "首违不罚"),
    ("一、2022年法治政府建设开展情况", "法治政府"),
    ("搭建好联系群众、为民服务的“12345”政民连心桥", "12345"),
    ("在人民调解工作中，积极发挥人民调解员作用", "人民调解"),
]


@pytest.fixture(scope="module")
def seg() -> segment.Segmenter:
    return segment.default_segmenter()


@pytest.fixture(scope="module")
def tokens(corpus, seg) -> pd.DataFrame:
    return segment.segment_sentences(corpus.sentences, segmenter=seg)


def test_lexicon_is_large_and_covers_every_theme_term():
    lexicon = segment.read_lexicon()
    assert len(lexicon) >= 150
    assert lexicon["word"].is_unique
    themes = yaml.safe_load((config.PACKAGE_DATA / "themes.yaml").read_text(encoding="utf-8"))
    theme_terms = {str(t) for chapter in themes["chapters"] for t in chapter["terms"]}
    assert theme_terms - set(lexicon["word"]) == set()
    for term in ["习近平法治思想", "法治政府", "行政复议", "行政应诉", "规范性文件", "合法性审查",
                 "重大行政决策", "谁执法谁普法", "放管服", "双随机、一公开", "三项制度", "包容审慎",
                 "枫桥经验", "法律明白人", "一件事一次办"]:
        assert term in set(lexicon["word"]), term


def test_read_lexicon_names_file_and_line_of_a_bad_entry(tmp_path):
    bad = tmp_path / "lex.txt"
    bad.write_text("# comment\n行政复议 5 vn\n放管服 nz extra\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lex\.txt:3"):
        segment.read_lexicon(bad)
    good = tmp_path / "ok.txt"
    good.write_text("行政复议 5 vn\n放管服\n", encoding="utf-8")
    table = segment.read_lexicon(good)
    assert table["word"].tolist() == ["行政复议", "放管服"]
    assert table["freq"].tolist()[0] == 5 and pd.isna(table["freq"].tolist()[1])


@pytest.mark.parametrize(("sentence", "term"), REAL_SENTENCES)
def test_lexicon_term_is_one_token_in_real_sentence(seg, sentence, term):
    tokens = seg.cut(sentence)
    assert term in tokens, tokens
    assert "".join(tokens) == sentence


def test_protection_is_needed_where_jieba_alone_splits(corpus, seg):
    # The same dictionary without protection: jieba splits lexicon terms of the reports ...
    unprotected = segment.Segmenter(protect_min_len=1000)
    jieba_splits = segment.split_terms(corpus.sentences, candidates=seg.lexicon, segmenter=unprotected)
    assert "双随机、一公开" in set(jieba_splits["term"])
    assert jieba_splits["n_by_lexicon"].sum() == 0
    # ... and with protection none of them is split by jieba any more (only where a longer,
    # overlapping lexicon term took the characters, as in 重大行政决策/程序).
    protected = segment.split_terms(corpus.sentences, candidates=seg.lexicon, segmenter=seg)
    long_terms = protected[protected["term"].str.len() >= segment.PROTECT_MIN_LEN]
    assert (long_terms["n_split"] == long_terms["n_by_lexicon"]).all(), long_terms


def test_every_protected_term_of_the_reports_survives_segmentation(corpus, seg):
    texts = corpus.sentences["text"].tolist()
    present = {t for t in seg.protected if any(t in text for text in texts)}
    assert len(present) >= 60
    whole = cut_by_another_term = 0
    for text in texts:
        tokens = seg.cut(text)
        spans, pos = [], 0
        for token in tokens:
            spans.append((pos, pos + len(token), token))
            pos += len(token)
        for term in present:
            start = text.find(term)
            while start >= 0:
                stop = start + len(term)
                covering = [t for a, b, t in spans if a < stop and b > start]
                if len(covering) == 1:
                    whole += 1  # the term itself, or inside a longer token
                else:
                    # Only another protected term overlapping this one may cut it.
                    assert any(t in seg.protected and t != term for t in covering), (term, covering, text)
                    cut_by_another_term += 1
                start = text.find(term, start + 1)
    assert whole > 500
    assert cut_by_another_term < whole / 20


def test_segmenter_uses_its_own_tokenizer(seg):
    assert seg.tokenizer is not jieba.dt
    assert "谁执法谁普法" not in jieba.dt.FREQ or jieba.dt.FREQ["谁执法谁普法"] == 0
    assert seg.tokenizer.FREQ.get("谁执法谁普法", 0) > 0


def test_private_tokenizers_share_the_dictionary_load_but_not_their_words(corpus):
    one, other = segment.new_tokenizer(), segment.new_tokenizer()
    assert one.FREQ is not other.FREQ and one.FREQ == other.FREQ and one.total == other.total
    one.add_word("首违免罚")
    assert one.lcut("推行首违免罚清单") == ["推行", "首违免罚", "清单"]
    assert other.lcut("推行首违免罚清单") != one.lcut("推行首违免罚清单")
    # a copy segments like a tokenizer that loaded the dictionary itself
    loaded = segment.jieba.Tokenizer()
    for text in corpus.sentences["text"].head(200):
        assert other.lcut(text) == loaded.lcut(text)


def test_jieba_start_up_log_stays_off_stderr(capfd):
    segment.Segmenter(["法律明白人"]).cut("法律明白人")
    assert "prefix dict" not in capfd.readouterr().err


def test_cut_is_a_partition_of_every_sentence(corpus, seg):
    for text in corpus.sentences["text"]:
        assert "".join(seg.cut(text)) == text


def test_segment_sentences_table(corpus, tokens):
    schema.check_columns(tokens, schema.TOKENS + segment.TOKEN_SPAN_COLUMNS, table="tokens")
    sentences = corpus.sentences.set_index(["doc_id", "sentence_id"])["text"]
    sample = tokens.sample(500, random_state=0)
    for doc_id, sentence_id, token, start, end in sample[["doc_id", "sentence_id", "token", "start", "end"]].itertuples(index=False):
        assert sentences[(doc_id, sentence_id)][start:end] == token
    first = tokens.groupby(["doc_id", "sentence_id"])["position"].min()
    assert (first == 0).all()
    assert set(tokens["doc_id"]) == set(corpus.sentences["doc_id"])


def test_segment_sentences_of_a_hand_made_text():
    sentences = pd.DataFrame({"doc_id": ["d", "d"], "sentence_id": [0, 1],
                              "text": ["深化“放管服”改革。", ""]})
    table = segment.segment_sentences(sentences)
    assert table["token"].tolist() == ["深化", "“", "放管服", "”", "改革", "。"]
    assert table["position"].tolist() == [0, 1, 2, 3, 4, 5]
    assert table["start"].tolist() == [0, 2, 3, 6, 7, 9]


def test_tokenize_single_text():
    assert segment.tokenize("严格落实“谁执法谁普法”普法责任制") == [
        "严格", "落实", "“", "谁执法谁普法", "”", "普法责任制"]


@pytest.mark.parametrize(("quoted", "expected"), [
    (["深化“放管服”改革", "推进“放管服”", "“1310”具体部署"], {"放管服": 2}),
    (["做到“两个维护”、“四个意识”"], {"两个维护": 1, "四个意识": 1}),
])
def test_quoted_terms(quoted, expected):
    assert segment.quoted_terms(quoted).to_dict() == expected


def test_split_terms_lists_candidates_to_add(corpus):
    sentences = pd.DataFrame({"doc_id": ["d"], "sentence_id": [0], "text": ["推行“首违免罚”清单"]})
    found = segment.split_terms(sentences)
    assert found[["term", "n_split", "example"]].to_dict("records") == [
        {"term": "首违免罚", "n_split": 1, "example": "首违/免罚"}]
    grown = segment.Segmenter(list(segment.default_segmenter().lexicon) + ["首违免罚"])
    assert segment.split_terms(sentences, segmenter=grown).empty
    # On the reports: quoted slogans not yet in the lexicon come out as candidates.
    report_candidates = segment.split_terms(corpus.sentences)
    assert {"source", "example", "sentence"} <= set(report_candidates.columns)
    assert (report_candidates["source"] == "quoted").any()
    assert (report_candidates["n_split"] >= 1).all()
