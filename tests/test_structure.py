"""Headings, sections and sentences of the five reports; section types against a reading of them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import schema, structure

EXPECTED = pd.read_csv(Path(__file__).parent / "data" / "expected_sections.csv", dtype=str)


@pytest.mark.parametrize("line, family, number, heading", [
    ("一、2022年工作开展情况", "cn", 1, "2022年工作开展情况"),
    ("（一）抓实理论武装，筑牢法治思想根基。一是强化党的二十届三中全会精神的学习。", "cn_paren", 1, "抓实理论武装，筑牢法治思想根基"),
    ("1.健全完善司法体制改革，进一步彰显公正司法权威。一是深入推进公安执法体制改革。", "arabic", 1, "健全完善司法体制改革，进一步彰显公正司法权威"),
    ("十二、其他需要报告的情况", "cn", 12, "其他需要报告的情况"),
    ("第二部分 存在的问题", "part", 2, "存在的问题"),
    ("（3）规范执法行为", "arabic_paren", 3, "规范执法行为"),
])
def test_line_headings(line, family, number, heading):
    found = structure.find_headings(line)[0]
    assert (found.family, structure.to_int(found.number), found.heading) == (family, number, heading)


@pytest.mark.parametrize("line", [
    "2022年，我区坚持以习近平新时代中国特色社会主义思想为指导。",
    "10月16日早上，组织全区工作人员观看转播。",
    "3.2万户市场主体注册资本579亿元。",
    "一年来，全区各部门1000余名干部职工参加在线无纸化学法活动。",
    "一网通办改革持续深化。",
])
def test_not_headings(line):
    assert structure.find_headings(line) == []


def test_inline_ordinals_are_sub_sections():
    text = ("（三）严格规范执法，提升行政执法水平。一是深化行政执法体制改革。开展专项整治。"
            "二是加强队伍素质建设。组织开展行政执法专题培训4场次。三是创新执法方式。推广使用非现场执法。")
    table = structure.sections(text, doc_id="d")
    inline = table[table["marker"].str.endswith("是")]
    assert inline["heading"].tolist() == ["深化行政执法体制改革", "加强队伍素质建设", "创新执法方式"]
    assert inline["number"].tolist() == ["1", "2", "3"]
    assert (inline["level"] == 2).all()
    assert all(text[s:e] == t for s, e, t in zip(table["start"], table["end"], table["text"]))
    # A lone 一是 with no 二是 after it is prose, not a list.
    assert structure.find_headings("我们始终认为，一是关键。") == []


def test_levels_follow_the_order_markers_first_appear():
    text = "第一部分 工作成效\n一、健全制度\n（一）完善规则\n第二部分 存在的问题\n一、学习不够深入"
    table = structure.sections(text, doc_id="d")
    assert table["level"].tolist() == [0, 1, 2, 3, 1, 2]
    assert table.loc[table["level"] == 1, "section_type"].tolist() == ["results", "shortcomings"]


@pytest.mark.parametrize("heading, expected", [
    ("主要举措和成效", "results"),
    ("2022年推进法治政府建设的主要举措和成效", "results"),
    ("存在的不足和原因", "shortcomings"),
    ("存在的问题", "shortcomings"),
    ("党政主要负责人履行推进法治建设第一责任人职责情况", "leadership"),
    ("下一年度推进法治政府建设的主要安排", "plans"),
    ("2023年推进法治政府建设的工作思路", "plans"),
    ("下一步工作打算", "plans"),
])
def test_classify_heading(heading, expected):
    assert structure.classify_heading(heading) == expected


def test_top_level_section_types_match_the_reading(corpus):
    docs = corpus.documents.set_index("doc_id")["file"]
    top = corpus.sections[corpus.sections["level"] == 1].copy()
    top["file"] = top["doc_id"].map(docs)
    merged = EXPECTED.merge(top, left_on=["file", "number"], right_on=["file", "number"], how="outer",
                            indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][["file", "number", "heading"]]
    assert all(h.startswith(s) for h, s in zip(merged["heading"], merged["heading_start"]))
    wrong = merged[merged["section_type"] != merged["expected_type"]]
    assert wrong.empty, wrong[["file", "heading", "section_type", "expected_type"]]


def test_section_and_sentence_tables(corpus):
    docs = corpus.documents.set_index("doc_id")["text"]
    sections, sentences = corpus.sections, corpus.sentences
    schema.check_columns(sections, schema.SECTIONS, table="sections")
    schema.check_columns(sentences, schema.SENTENCES, table="sentences")
    assert set(sections["section_type"]) <= set(schema.SECTION_TYPES)
    for row in sections.itertuples():
        assert docs[row.doc_id][row.start:row.end] == row.text
    for row in sentences.itertuples():
        assert docs[row.doc_id][row.start:row.end] == row.text
    # Sections nest: a child lies inside its parent.
    by_id = sections.set_index("section_id")
    for row in sections[sections["parent_id"] != ""].itertuples():
        parent = by_id.loc[row.parent_id]
        assert parent["start"] <= row.start and row.end <= parent["end"] and parent["level"] < row.level
    # Every sentence of the shortcomings section of 003 is typed so.
    tieshan = sentences[sentences["doc_id"] == "2022-hubei-huangshi-tieshan"]
    last = tieshan.iloc[-1]
    assert last["section_type"] == "shortcomings" and last["text"].endswith("程序意识不强。")


@pytest.mark.parametrize("text, expected", [
    ("共受理案件397件。纠错率18.3%！是否到位？", ["共受理案件397件。", "纠错率18.3%！", "是否到位？"]),
    ("提高站位，全面提升法治思维。利用理论中心学习", ["提高站位，全面提升法治思维。", "利用理论中心学习"]),
    ("全面提升“法治是中国式现代化的重要保障。”认识；同时开展", ["全面提升“法治是中国式现代化的重要保障。”", "认识；", "同时开展"]),
    ("一、存在的不足\n人员不足。", ["一、存在的不足", "人员不足。"]),
])
def test_split_sentences(text, expected):
    assert [text[s:e] for s, e in structure.split_sentences(text)] == expected


def test_heading_sentences_are_marked(corpus):
    sentences, sections = corpus.sentences, corpus.sections
    # Inline ordinals: 一是, 二要, and 三 where the report dropped the 是 (002: 三深化乡镇…).
    inline = sections["marker"].str.fullmatch(r"[一二三四五六七八九十]{1,3}[是要]?")
    line_headings = sections[(sections["level"] > 0) & ~inline]
    assert sentences["is_heading"].sum() == len(line_headings)
    marked = sentences[sentences["is_heading"]]["text"]
    assert "一、2022年工作开展情况" in set(marked)
    assert not marked.str.startswith("一是").any()
