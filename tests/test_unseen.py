"""Reports the rules were not written on: other provinces, levels, years, formats and web garbage
(tests/data/unseen, expectations in expected.yaml), processed with no manifest."""

from __future__ import annotations

import re

import pytest
import yaml

from helpers import schema, segment

from conftest import UNSEEN, file_name

EXPECTED = yaml.safe_load((UNSEEN / "expected.yaml").read_text(encoding="utf-8"))
# Lines of web pages and PDF layouts that are never part of a report (written independently of
# helpers/data/chrome.yaml, so that the test checks it).
CHROME_LINE = re.compile(
    r"^(当前位置|您的位置|首页\s*[>＞]|发布(时间|日期)|信息来源|来源[:：]|【?字[号体]|打印|关闭|分享到|相关附件|"
    r"相关信息|扫一扫|主办单位|承办单位|网站标识码|联系我们)|浏览次数|ICP备|打印本页|关闭窗口|"
    r"^[-—\s]*\d{1,3}[-—\s]*$"
)


@pytest.fixture(scope="module")
def unseen(unseen_corpus):
    return unseen_corpus


@pytest.fixture(scope="module")
def docs(unseen):
    return unseen.documents.set_index("file")


def test_every_report_is_read(unseen):
    assert sorted(unseen.documents["file"]) == sorted(file_name(k) for k in EXPECTED)
    assert set(unseen.warnings["severity"]) <= {"info"}, unseen.warnings
    assert unseen.documents.loc[unseen.documents["file"].str.contains("traditional"), "converted_traditional"].all()
    for column in schema.DOCUMENTS:
        assert column in unseen.documents.columns


@pytest.mark.parametrize("key", list(EXPECTED))
def test_metadata(docs, key):
    row = docs.loc[file_name(key)]
    wanted = EXPECTED[key]["metadata"]
    got = {field: row[field] for field in wanted}
    assert got == {field: str(value) for field, value in wanted.items()}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_top_level_section_types(unseen, key):
    doc_id = unseen.documents.set_index("file").loc[file_name(key), "doc_id"]
    top = unseen.sections[(unseen.sections["doc_id"] == doc_id) & (unseen.sections["level"] == 1)]
    assert top["section_type"].tolist() == EXPECTED[key]["sections"], top[["heading", "section_type"]]


@pytest.mark.parametrize("key", list(EXPECTED))
def test_passages_survive_cleaning_intact(docs, key):
    text = docs.loc[file_name(key), "text"]
    lines = set(text.split("\n"))
    missing = [p for p in EXPECTED[key].get("contains", []) if p not in text]
    missing += [f"line: {line}" for line in EXPECTED[key].get("lines", []) if line not in lines]
    assert not missing


@pytest.mark.parametrize("key", list(EXPECTED))
def test_no_chrome_or_odd_spaces_left(docs, key):
    text = docs.loc[file_name(key), "text"]
    assert not [line for line in text.split("\n") if CHROME_LINE.search(line)]
    assert not re.search("[\u00a0\u3000\u200b\r\t]", text)
    assert "\n\n" not in text


def test_spans_index_the_cleaned_text(unseen):
    texts = dict(zip(unseen.documents["doc_id"], unseen.documents["text"]))
    for table in (unseen.sections, unseen.sentences):
        for row in table.itertuples():
            assert texts[row.doc_id][row.start:row.end] == row.text


def test_segmentation_keeps_lexicon_terms_whole(unseen):
    seg = segment.default_segmenter()
    tokens = segment.segment_sentences(unseen.sentences, segmenter=seg)
    boundaries = {sid: set(group["start"]) for sid, group in tokens.groupby("sentence_id")}
    terms = sorted(seg.protected, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, terms)))
    checked, split = 0, []
    for sent in unseen.sentences.itertuples():
        # Leftmost-longest occurrences; a term overlapping another one cannot be whole.
        for match in pattern.finditer(sent.text):
            checked += 1
            inside = {b for b in boundaries[sent.sentence_id] if match.start() < b < match.end()}
            if inside:
                split.append((match.group(0), sent.text))
    assert checked > 100
    assert not split


# ----- the general rules the reports above exposed, one case each
@pytest.mark.parametrize("raw, expected", [
    # Web text with equal-length headings is not a fixed-width layout: headings stay apart.
    ("青海省人民政府关于2023年度法治政府建设情况的报告\n" + "\n".join(
        f"{n}、推进依法行政制度建设\n全省各级行政机关严格依法行政，持续推进法治政府建设，取得明显成效并获得群众好评。"
        for n in "一二三四五六"), None),
    # Cells of a table row are never joined to the next row.
    ("统计事项 2023年 2024年\n行政复议收案 156件 203件", "统计事项 2023年 2024年\n行政复议收案 156件 203件"),
    # A paragraph opening with a run-in heading is prose: a word broken at its end is rejoined.
    ("（四）依法化解社会矛盾纠纷。全县人民调解组织调处矛盾纠\n纷2,318件。", "（四）依法化解社会矛盾纠纷。全县人民调解组织调处矛盾纠纷2,318件。"),
])
def test_line_join_rules(raw, expected):
    from helpers import clean

    joined = clean.join_broken_lines(raw)[0]
    assert joined == (raw if expected is None else expected)


def test_pdf_title_and_full_width_heading_do_not_swallow_the_next_paragraph():
    from helpers import clean

    body = "区委、区政府主要负责同志认真履行推进法治建设第一责任人职责，主持召开会议两次并听取汇报。" * 3
    wrapped = [body[i:i + 30] for i in range(0, len(body), 30)]
    title, heading = "遵义市汇川区人民政府关于2022年法治政府建设情况的报告", "三、党政主要负责人履行推进法治建设第一责任人职责情况"
    lines = clean.join_broken_lines("\n".join([title, *wrapped, heading, *wrapped]))[0].split("\n")
    assert lines[0] == title and heading in lines


@pytest.mark.parametrize("text, expected", [
    ("字号：大中小打印本页关闭窗口", ""),
    ("发布时间：2024-03-22 10:15 来源：青神县司法局 浏览次数：1,268 打印本页", ""),
    ("《纲要（2015－2020年）》", "《纲要（2015-2020年）》"),
    ("罚没金额1,286.5万元；组织行政执法人员培训5期，培训1,3\n20人次。", "罚没金额1,286.5万元；组织行政执法人员培训5期，培训1,320人次。"),
])
def test_cleaning_rules(text, expected):
    from helpers import clean

    assert clean.clean_text(text).text == expected


def test_taiwan_usage_is_made_mainland():
    from helpers import corpus

    assert corpus.to_simplified("加強政務資訊公開，稽核規範性檔案")[0] == "加强政务信息公开，审核规范性文件"
    # Mainland usage in traditional characters: words stay (档案 is archives there).
    assert corpus.to_simplified("嚴格執行檔案管理制度")[0] == "严格执行档案管理制度"


def test_region_drops_province_and_city_prefix():
    from helpers import metadata

    got = metadata.infer_metadata("遵义市汇川区人民政府关于2022年法治政府建设情况的报告\n2022年，汇川区坚持依法行政。")
    assert (got["region"], got["city"], got["level"]) == ("汇川区", "遵义市", "district")
    assert metadata.infer_metadata("广州市司法局2022年法治政府建设年度报告\n2022年，市司法局坚持依法行政。")["region"] == "广州市司法局"
