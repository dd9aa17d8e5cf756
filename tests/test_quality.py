"""Report quality (helpers.quality): completeness, timeliness, specificity, candour, originality.

Every expected value here was written by hand from reading the reports in data/raw/ and
tests/data/unseen/ before the code was run; the phrase rules are checked on real sentences of those
reports."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from helpers import indicators as ind
from helpers import pipeline, quality, terms

HUOJU = "2022-guangdong-zhongshan-huoju"      # 000
KUANGQU = "2022-shanxi-yangquan-kuangqu"      # 001
WUJIANG = "2024-guangdong-shaoguan-wujiang"   # 002
TIESHAN = "2022-hubei-huangshi-tieshan"       # 003
ASEAN = "2024-guangxi-nanning-asean-zone"     # 004


def _tables(corpus):
    mentions = pipeline.corpus_quantities(corpus.sentences, documents=corpus.documents)
    values, _ = ind.indicator_cells(mentions, corpus.documents, sentences=corpus.sentences)
    copies = terms.boilerplate(corpus.sentences, unit="clause")
    args = (corpus.documents, corpus.sections, corpus.sentences, mentions, values, copies)
    return SimpleNamespace(table=quality.report_quality(*args).set_index("doc_id"),
                           evidence=quality.quality_evidence(*args),
                           shortcomings=quality.shortcoming_matches(corpus.sections, corpus.sentences,
                                                                    documents=corpus.documents),
                           mentions=mentions, values=values, corpus=corpus)


@pytest.fixture(scope="module")
def samples(corpus):
    return _tables(corpus)


@pytest.fixture(scope="module")
def unseen(unseen_corpus):
    out = _tables(unseen_corpus)
    out.by_file = dict(zip(unseen_corpus.documents["file"].str.replace(".docx", "").str.rsplit(".", n=1).str[0],
                           unseen_corpus.documents["doc_id"]))
    return out


# --------------------------------------------------------------------------- completeness

# doc_id -> part -> (source, text the evidence holds); None = the part is absent.
COMPLETENESS = {
    HUOJU: {"results": ("section", "2022年推进法治政府建设的主要举措和成效"),
            "shortcomings": ("section", "2022年推进法治政府建设存在的不足"),
            "leadership": ("section", "2022年党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况"),
            "plans": ("section", "2023年推进法治政府建设的工作思路"),
            "other": None},
    KUANGQU: {"results": ("section", "2022年法治政府建设开展情况"),
              "shortcomings": ("section", "存在的问题"),
              # merged into part 一: 2.履行法治职责 … 主要领导坚持以身作则
              "leadership": ("phrasing", "区政府主要领导带头履行法治建设第一责任人职责"),
              "plans": ("section", "下一步工作打算"),
              "other": None},
    WUJIANG: {"results": ("section", "旗帜鲜明讲政治，全面贯彻落实习近平法治思想"),
              "shortcomings": ("section", "2024年度推进法治政府建设存在的不足"),
              "leadership": ("section", "紧抓“关键少数”，切实履行党政主要负责人推进法治建设第一责任人职责"),
              "plans": ("section", "下一年度推进法治政府建设的主要安排"),
              "other": None},
    # stops after 不足; its 第一责任人 content is one sentence inside part 一 (the 第一责任人 of
    # part 二 is a shortcoming, not the part)
    TIESHAN: {"results": ("section", "2022年工作开展情况"),
              "shortcomings": ("section", "存在的不足及原因"),
              "leadership": ("phrasing", "围绕党政主要负责人履行推进法治建设第一责任人职责，进一步规范各项工作机制"),
              "plans": None,
              "other": None},
    # 第一责任人 as a sub-section (二) of part 一
    ASEAN: {"results": ("section", "主要举措和成效"),
            "shortcomings": ("section", "存在的不足和原因"),
            "leadership": ("phrasing", "压紧压实法治建设第一责任人职责，筑牢法治国家根基"),
            "plans": ("section", "2025年度推进法治政府建设的主要安排"),
            "other": None},
}


@pytest.mark.parametrize("doc_id, part", [(d, p) for d, parts in COMPLETENESS.items() for p in parts])
def test_completeness_of_the_samples(samples, doc_id, part):
    row = samples.table.loc[doc_id]
    wanted = COMPLETENESS[doc_id][part]
    if wanted is None:
        assert not row[f"has_{part}"], row[f"{part}_evidence"]
        assert row[f"{part}_source"] == "" and row[f"{part}_evidence"] == ""
        return
    source, text = wanted
    assert row[f"has_{part}"]
    assert row[f"{part}_source"] == source
    assert text in row[f"{part}_evidence"]


def test_completeness_counts(samples):
    table = samples.table
    assert table.loc[TIESHAN, "n_parts"] == 3 and table.loc[TIESHAN, "missing_parts"] == "plans"
    assert table.loc[TIESHAN, "completeness"] == pytest.approx(0.75)
    for doc_id in (HUOJU, KUANGQU, WUJIANG, ASEAN):
        assert table.loc[doc_id, "n_parts"] == 4 and table.loc[doc_id, "completeness"] == 1.0
        assert table.loc[doc_id, "missing_parts"] == ""


def test_evidence_names_the_heading_or_sentence(samples):
    ev = samples.evidence
    lead = ev[(ev["doc_id"] == TIESHAN) & (ev["measure"] == "leadership")]
    assert len(lead) == 1
    row = lead.iloc[0]
    assert row["section_type"] == "results" and row["sentence_id"].startswith(TIESHAN)
    sentence = samples.corpus.sentences.set_index("sentence_id").loc[row["sentence_id"], "text"]
    assert sentence == row["text"]


# --------------------------------------------------------------------------- timeliness

TIMELINESS = {
    HUOJU: (None, "unknown"),         # no date in the manifest, none on the page
    KUANGQU: (-92, "on time"),        # signed and published 2022-12-30 for 2022
    WUJIANG: (-43, "on time"),        # 2025-02-17 for 2024
    TIESHAN: (-18, "on time"),        # 2023-03-14 for 2022
    ASEAN: (None, "unknown"),
}


@pytest.mark.parametrize("doc_id", list(TIMELINESS))
def test_timeliness_of_the_samples(samples, doc_id):
    days, status = TIMELINESS[doc_id]
    row = samples.table.loc[doc_id]
    assert row["timeliness"] == status
    assert (pd.isna(row["days_from_deadline"]) if days is None else row["days_from_deadline"] == days)


def test_timeliness_rules():
    docs = pd.DataFrame({
        "doc_id": ["late", "on_day", "day_after", "none", "old", "bad"],
        "report_year": ["2022", "2022", "2022", "2022", "2017", "2022"],
        "published": ["2023-04-20", "2023-04-01", "2023-04-02", "", "2018-01-25", "二〇二三年"],
    })
    out = quality.timeliness(docs).set_index("doc_id")
    assert out.loc["late", "days_from_deadline"] == 19 and out.loc["late", "timeliness"] == "late"
    assert out.loc["on_day", "days_from_deadline"] == 0 and out.loc["on_day", "timeliness"] == "on time"
    assert out.loc["day_after", "timeliness"] == "late"
    assert out.loc["none", "timeliness"] == "unknown" and pd.isna(out.loc["none", "days_from_deadline"])
    assert out.loc["old", "timeliness"] == "before the rule"  # the 2019 rule did not yet exist
    assert out.loc["old", "days_from_deadline"] == -66
    assert out.loc["bad", "timeliness"] == "unknown"
    assert str(out.loc["late", "deadline"]) == "2023-04-01"


# --------------------------------------------------------------------------- unseen-style reports

UNSEEN_EXPECTED = {
    # file stem: (parts present, leadership source, days from the deadline)
    "jiangxi_ecoenv_department_2022": ({"results", "shortcomings", "leadership", "plans"}, "phrasing", -45),
    "neimenggu_yijinhuoluo_banner_2019": ({"results", "shortcomings", "plans"}, "", -43),
    "qinghai_province_2023": ({"results", "shortcomings", "leadership", "plans"}, "section", -3),
    "sichuan_qingshen_county_2023": ({"results", "shortcomings", "leadership", "plans"}, "section", -10),
    "zhejiang_huzhou_city_2024": ({"results", "shortcomings", "leadership", "plans"}, "section", -4),
    "hunan_youxian_county_2021_traditional": ({"results", "shortcomings", "leadership", "plans"}, "section", -17),
    "shandong_shouguang_countycity_2024": ({"results", "shortcomings", "leadership", "plans"}, "section", -34),
    "guizhou_huichuan_district_2022_pdfcopy": ({"results", "shortcomings", "leadership", "plans"}, "section", -32),
}


@pytest.mark.parametrize("stem", list(UNSEEN_EXPECTED))
def test_unseen_completeness_and_timeliness(unseen, stem):
    parts, leadership_source, days = UNSEEN_EXPECTED[stem]
    row = unseen.table.loc[unseen.by_file[stem]]
    assert {p for p in quality.PARTS if row[f"has_{p}"]} == parts
    assert row["leadership_source"] == leadership_source
    assert row["days_from_deadline"] == days and row["timeliness"] == "on time"


def test_unseen_merged_leadership_sentence(unseen):
    row = unseen.table.loc[unseen.by_file["jiangxi_ecoenv_department_2022"]]
    assert "厅党组书记、厅长切实履行推进法治建设第一责任人职责" in row["leadership_evidence"]


# --------------------------------------------------------------------------- phrase rules on real sentences

@pytest.mark.parametrize("sentence, part, report_year, expected", [
    ("围绕党政主要负责人履行推进法治建设第一责任人职责，进一步规范各项工作机制，推动党政“一把手”知责明责、履职尽责。",
     "leadership", 2022, True),
    ("区政府主要领导带头履行法治建设第一责任人职责，定期听取汇报，亲自研究、推动解决重大问题。", "leadership", 2022, True),
    ("要求政府系统主要负责同志带头尊崇宪法，带头学法用法，坚决执行区人大及其常委会决议决定。", "leadership", 2022, False),
    ("开展2023年度述法工作专题会议，建设局、行政审批局、城管执法队、市政环卫站、财政局等5个部门主要负责人分别就履行推进法治建设责任情况进行了现场述法。",
     "leadership", 2024, True),
    ("三、下一步工作打算", "plans", 2022, True),
    ("2025年，武江区将坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻习近平法治思想。", "plans", 2024, True),
    ("2025年，武江区将坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻习近平法治思想。", "plans", 2022, False),
    ("采取“一述一评”方式，逐一对述法对象履职情况进行点评，并将点评意见整改工作纳入广西-东盟经开区下一年度述法内容。",
     "plans", 2024, False),
    ("将学习宣传贯彻党的二十届三中全会精神作为今后一个时期的重点工作。", "plans", 2024, False),
    ("我区法治建设工作在全区上下的共同努力下，取得了一定的成效，但是工作中还存在一些问题和不足：一是学习宣传习近平法治思想还不够深入；",
     "shortcomings", 2022, True),
    ("协调解决改革中遇到的堵点问题。", "shortcomings", 2024, False),
])
def test_part_phrasings(sentence, part, report_year, expected):
    assert bool(quality.part_phrasings(sentence, part, report_year=report_year)) is expected


@pytest.mark.parametrize("sentence, n_quantities, expected", [
    ("（一）政府信息公开工作有待进一步加强。", 0, True),
    ("今年，我区政府性公开申请业务数量剧增，区内各部门对政府信息公开工作的重视程度不足，信息沟通不畅，导致部分回复不及时。", 0, False),
    ("（二）普法宣传活动有待进一步拓展。", 0, True),
    ("因疫情反复，在区内开展线下的普法宣传活动存在较多困难，多场线下活动取消。", 0, False),
    ("我区法治建设工作在全区上下的共同努力下，取得了一定的成效，但是工作中还存在一些问题和不足：一是学习宣传习近平法治思想还不够深入，多渠道、多层次开展学习宣传工作有待进一步提高；",
     0, True),
    ("二是部门对法治建设认识还不够全面，重视程度有待进一步提高；", 0, True),
    ("三是推进综合行政执法体制改革还不够全面，运用法治思维和法治方式破解改革难题的能力和水平有待进一步提高等等，这些工作都需要我们在今后的工作不断的改进和提升。",
     0, True),
    ("一是落实重大行政决策程序仍有差距。", 0, True),
    ("部分单位对重大行政决策制定程序不了解，未按重大行政决策程序落实，没有发挥风险评估、合法性审查等程序的实质作用。", 0, False),
    ("二是落实行政规范性文件制发程序仍有不足。", 0, True),
    ("部分单位对规范性文件工作的重要性、必要性认识不足，行政规范性文件制定程序落实不到位，未经评估论证、公开征求意见、公开发布等程序制定。",
     0, False),
    ("三是基层法治建设力量还需要进一步提升。", 0, True),
    ("镇（街）综合执法“接不住，管不好”问题依然存在；", 0, False),
    ("执法人员业务能力和执法要求不匹配，专业水平不足。", 0, True),
    ("我区法治政府建设工作虽然取得了一定成效，但与全面依法治国总要求和建设法治政府目标还有一定差距，主要表现在有些单位第一责任人对法治建设重视程度不够，进展不平衡；",
     0, True),
    ("部分工作人员的法治意识仍需进一步提升，运用法治思维解决问题的能力仍需进一步加强；", 0, True),
    ("行政执法工作还要进一步的规范，程序意识不强。", 0, True),
    ("2024年以来，广西-东盟经开区法治建设取得了一定成效，但与上级要求和群众的期盼相比还存在一定差距，主要表现在：", 0, True),
    ("（一）因广西-东盟经开区体制机制改革，社会事务管理职能和机构编制、人员划转武鸣区管理，广西-东盟经开区司法局原有干部职工5名全部移交武鸣，导致法治工作人员不足。",
     1, False),
    ("（二）因广西-东盟经开区体制机制改革，社会事务职能划归南宁市武鸣区管理，职能权责清单有待进一步理顺明晰。", 0, False),
    ("（三）法治宣传的覆盖面不够广，宣传方式不够丰富等问题。", 0, True),
    ("二是重大行政决策公众参与的方式还比较单一，专家论证质量不高；", 0, True),
    ("三是普法宣传形式单一，针对性和实效性不强。", 0, True),
    ("究其原因，主要是基层法治队伍专业化程度不高，培训考核机制还不够完善。", 0, True),
])
def test_generic_statements(sentence, n_quantities, expected):
    assert quality.is_generic(sentence, n_quantities=n_quantities) is expected


@pytest.mark.parametrize("sentence, kinds", [
    ("重阳镇大夫前村、惠民街道武江北社区、新华街道武江南社区3个村（社区）获评省“民主法治示范村（社区）。", {"place"}),
    ("2024年，采取现场述法、书面述法相结合形式，选取西联镇、重阳镇、区农业农村局、区统计局等单位主要负责人开展现场述职述法，其他单位开展书面述法。",
     {"place"}),
    ("在韶关市武江区乡村振兴培训实践中心设置习近平法治思想学习宣传阵地，引导各镇（街）、各单位结合党建、团建、工会等活动到阵地参观学习；", set()),
    ("10月16日早上，组织全区工作人员通过央视新闻频道、人民网、新华社客户端等方式观看中国共产党第二十次全国代表大会转播。", {"date"}),
    ("今年5月，警调联动项目小引派出所人民调解工作室调解了一宗涉及未成年人在校期间发生的纠纷，经过调解员一个多月的调解、劝导，双方家长达成和解。",
     {"date", "case"}),
    ("规范开展社区矫正，4个社区矫正典型案例入选“12348中国法网”案例库，累计接受社区矫正对象1246人，解除矫正1162人。", {"case"}),
    ("组织开展送法进社区、进乡村、进学校、进企业等“法律六进+”活动526场次，派发宣传资料15万余份，帮助群众解答法律法规咨询5200余人次。", set()),
    ("打造胜利路社区“我爱我楼”楼栋自治联盟的社会治理新模式，设立社区议事协商平台20个、成员379名；", {"place"}),
    ("新建村（社区）法治教育基地2处，村（社区）建有法治宣传栏（橱窗）、长廊、图书室、文化墙等实体阵地。", set()),
    ("一体化推进网格化管理，实现121个村（社区）共218个网格全覆盖，配备网格员206人，共调处矛盾纠纷1010件。", set()),
    ("推进党组织向居民小区（网格）、楼栋延伸，调整优化社区网格设置，建立网格党支部97个、“红色驿站”10个；", set()),
    ("2024年，区委、区政府开展专题学法9次。", set()),
    ("11月8日至10日，区党校举办学习贯彻党的二十大精神专题班暨科级及以下公务员线上培训班。", {"date"}),
])
def test_concrete_examples(sentence, kinds):
    assert set(quality.concrete_examples(sentence)) == kinds


# --------------------------------------------------------------------------- candour

# stated shortcomings, in order, and whether a reader finds a measure for each in the plans part
# (None: not asserted, a reader could go either way)
MATCHES = {
    HUOJU: [False, True],          # 信息公开: no plan; 普法宣传 -> (四)创新普法宣传方式
    KUANGQU: [True, None, True],   # 学习宣传 -> (一); 认识不够全面: ?; 综合行政执法 -> (二)
    WUJIANG: [True, True, True],   # 重大行政决策, 规范性文件 -> 二是; 基层综合执法 -> 三
    TIESHAN: [False, False, False],  # no plans part
    ASEAN: [True, True, True],     # 人员 -> (三)法治队伍; 权责清单 -> (二)理顺清单; 法治宣传 -> (五)
}


@pytest.mark.parametrize("doc_id", list(MATCHES))
def test_shortcomings_matched_by_plans(samples, doc_id):
    rows = samples.shortcomings[samples.shortcomings["doc_id"] == doc_id]
    assert len(rows) == len(MATCHES[doc_id]), rows[["text", "matched"]]
    for wanted, (_, row) in zip(MATCHES[doc_id], rows.iterrows()):
        if wanted is not None:
            assert bool(row["matched"]) is wanted, (row["text"], row["plan_text"], row["shared_terms"])
        if row["matched"]:
            assert row["plan_text"] and row["shared_terms"]


def test_the_intro_of_a_list_is_not_a_shortcoming(samples):
    rows = samples.shortcomings[samples.shortcomings["doc_id"] == KUANGQU]
    assert rows.iloc[0]["text"].startswith("一是学习宣传习近平法治思想")
    rows = samples.shortcomings[samples.shortcomings["doc_id"] == TIESHAN]
    assert rows.iloc[0]["text"].startswith("有些单位第一责任人对法治建设重视程度不够")


UNSEEN_MATCHES = {
    "jiangxi_ecoenv_department_2022": [True, False, True],  # 执法力量 -> 执法改革/队伍; 决策参与: none; 普法 -> 八五普法
    "neimenggu_yijinhuoluo_banner_2019": [None, True, None],  # 基层执法力量 -> 苏木乡镇综合执法
    "sichuan_qingshen_county_2023": [None, True, None],  # 行政执法规范化 -> 加强行政执法监督; the cause is not counted
}


@pytest.mark.parametrize("stem", list(UNSEEN_MATCHES))
def test_unseen_shortcomings_matched(unseen, stem):
    rows = unseen.shortcomings[unseen.shortcomings["doc_id"] == unseen.by_file[stem]]
    assert len(rows) == len(UNSEEN_MATCHES[stem]), rows[["text", "matched"]]
    for wanted, (_, row) in zip(UNSEEN_MATCHES[stem], rows.iterrows()):
        if wanted is not None:
            assert bool(row["matched"]) is wanted, (row["text"], row["plan_text"], row["shared_terms"])


def test_candour_measures(samples):
    table = samples.table
    # generic statements of the 不足 part, by the labels of test_generic_statements
    assert table.loc[HUOJU, "generic_share"] == pytest.approx(2 / 4)
    assert table.loc[KUANGQU, "generic_share"] == pytest.approx(1.0)
    assert table.loc[WUJIANG, "generic_share"] == pytest.approx(4 / 7)
    assert table.loc[TIESHAN, "generic_share"] == pytest.approx(1.0)
    assert table.loc[ASEAN, "generic_share"] == pytest.approx(2 / 4)
    assert table.loc[TIESHAN, "matched_share"] == 0.0 and table.loc[WUJIANG, "matched_share"] == 1.0
    # the 不足 part of 000 runs from 四、 to 五、
    sections = samples.corpus.sections
    part = sections[(sections["doc_id"] == HUOJU) & (sections["section_type"] == "shortcomings") & (sections["level"] == 1)]
    assert table.loc[HUOJU, "shortcomings_chars"] == int((part["end"] - part["start"]).sum())
    n_chars = samples.corpus.documents.set_index("doc_id").loc[HUOJU, "n_chars"]
    assert table.loc[HUOJU, "shortcomings_share"] == pytest.approx(table.loc[HUOJU, "shortcomings_chars"] / n_chars)


# --------------------------------------------------------------------------- specificity

def test_specificity_measures(samples):
    table, mentions = samples.table, samples.mentions
    docs = samples.corpus.documents.set_index("doc_id")
    for doc_id in COMPLETENESS:
        n = int((mentions["doc_id"] == doc_id).sum())
        assert table.loc[doc_id, "n_quantities"] == n
        assert table.loc[doc_id, "quantities_per_1k"] == pytest.approx(n / docs.loc[doc_id, "n_chars"] * 1000)
        stated = samples.values[(samples.values["doc_id"] == doc_id) & (samples.values["status"] == "stated")]
        assert table.loc[doc_id, "n_indicators_stated"] == len(stated)
        assert table.loc[doc_id, "indicator_share"] == pytest.approx(len(stated) / len(ind.load_catalogue()))
        assert 0 < table.loc[doc_id, "number_sentence_share"] < 1
    # 武江区 names 西联镇 and 重阳镇 in its 第一责任人 part; 000 dates its results (10月16日 …)
    assert table.loc[WUJIANG, "examples_leadership"] >= 1
    assert table.loc[HUOJU, "examples_results"] >= 3
    assert table.loc[TIESHAN, "examples_plans"] == 0


# --------------------------------------------------------------------------- originality

def test_reuse_between_two_reports():
    shared = "坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想。"
    sentences = pd.DataFrame({
        "doc_id": ["a", "a", "b", "b"], "sentence_id": ["a:0", "a:1", "b:0", "b:1"],
        "section_id": ["a:s0", "a:s0", "b:s0", "b:s0"], "section_type": ["results"] * 4,
        "text": [shared, "全年办理行政复议案件14件，其中维持9件。", shared, "组织开展普法活动46场次，受众超过30万人次。"],
        "start": [0, 40, 0, 40], "end": [40, 60, 40, 62], "is_heading": [False] * 4,
    })
    flags = quality.reuse_flags(sentences, unit="sentence")
    assert flags.set_index("sentence_id")["reused"].to_dict() == {"a:0": True, "a:1": False, "b:0": True, "b:1": False}
    one = quality.reuse_flags(sentences[sentences["doc_id"] == "a"], unit="sentence")
    assert one["reused"].isna().all()  # one report: nothing to compare with


def test_originality_of_the_samples(samples):
    table = samples.table
    assert ((table["reused_share"] >= 0) & (table["reused_share"] < 0.5)).all()
    assert (table["originality"] == 1 - table["reused_share"]).all()
    reused = samples.evidence[samples.evidence["measure"] == "reused"]
    assert set(reused["doc_id"]) <= set(table.index) and (reused["text"] != "").all()


def test_one_report_alone(corpus):
    docs = corpus.documents[corpus.documents["doc_id"] == WUJIANG]
    keep = lambda t: t[t["doc_id"] == WUJIANG]  # noqa: E731
    table = quality.report_quality(docs, keep(corpus.sections), keep(corpus.sentences), None, None)
    row = table.iloc[0]
    assert row["n_parts"] == 4 and row["days_from_deadline"] == -43
    assert pd.isna(row["reused_share"]) and pd.isna(row["quantities_per_1k"])


def test_rules_are_checked(tmp_path):
    rules = quality.load_rules()
    assert [p["id"] for p in rules["parts"]] == list(quality.PARTS)
    bad = tmp_path / "rules.yaml"
    bad.write_text("parts: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rules.yaml"):
        quality.load_rules(bad)


def test_the_figure_compares_every_report(samples):
    import matplotlib.pyplot as plt

    from helpers import figures

    result = figures.report_quality(samples.table.reset_index(), samples.corpus.documents)
    assert result.name == "05_report_quality" and len(result.data) == 5
    assert [ax.get_title() for ax in result.figure.axes][:2] == ["必备内容（五项中具备几项）", "公开日期距4月1日（天，负数为提前）"]
    assert "4 of 5 reports hold all required parts" in result.reading and "2 carry no date" in result.reading
    plt.close(result.figure)
