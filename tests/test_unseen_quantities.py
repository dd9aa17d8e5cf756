"""Quantity extraction and indicator matching on sentences of the unseen reports
(tests/data/unseen: other provinces, levels and formats, cleaned text). Each case is a general
rule those reports exposed; the sentences are quoted from the fixtures as cleaning leaves them."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import indicators, quantities


def mentions(text: str) -> list[tuple]:
    return [(m.value, m.unit, m.kind, m.approx, m.object) for m in quantities.find_quantities(text)]


def indicator_ids(text: str) -> list[tuple]:
    """(mention, indicator id) for every mention of one sentence, as the pipeline assigns them."""
    found = quantities.extract_quantities(pd.DataFrame(
        {"doc_id": ["d"], "sentence_id": [0], "text": [text], "start": [0], "end": [len(text)]}))
    found = indicators.assign_indicators(found)
    return list(zip(found["mention"], found["indicator_id"].fillna("")))


@pytest.mark.parametrize("text, expected", [
    # a rate or share named by its whole phrase (占比, a rate named by a short verb: 可办率)
    ("将法治政府建设纳入实绩考核，分值占比达到5%。", [(5.0, "%", "percentage", False, "分值占比")]),
    ("全市行政执法部门办理行政处罚案件3.2万件，适用简易程序办理案件占比41.5%。",
     [(32000.0, "件", "count", False, "行政处罚案件"), (41.5, "%", "percentage", False, "简易程序办理案件占比")]),
    ("深化“放管服”改革，全县政务服务事项网上可办率达到100%，“一件事一次办”事项达到156项。",
     [(100.0, "%", "percentage", False, "全县政务服务事项网上可办率"),
      (156.0, "项", "count", False, "“一件事一次办”事项")]),
    ("迭代升级“浙政钉·掌上执法”系统，全市行政执法人员掌上执法率达到98.2%；",
     [(98.2, "%", "percentage", False, "全市行政执法人员掌上执法率")]),
    # a noun jieba glues to its verb (调解纠纷) is still the counted thing
    ("深入推进扫黑除恶专项斗争，全旗人民调解组织调解纠纷1,862件，调解成功率97.6%；",
     [(1862.0, "件", "count", False, "纠纷"), (97.6, "%", "percentage", False, "调解成功率")]),
    # a scope word (全旗) is not what is counted; regional village names (嘎查) are nouns
    ("发放蒙汉双语宣传资料8万余份，全旗144个嘎查村（社区）实现法律顾问全覆盖。",
     [(80000.0, "份", "count", True, "蒙汉双语宣传资料"), (144.0, "个", "count", False, "嘎查村（社区）")]),
    # the verb before 至/到 says what became of the counted thing
    ("梳理公布县级行政许可事项清单238项，“一件事一次办”事项扩展至32个，政务服务事项网上可办率达98.6%。",
     [(238.0, "项", "count", False, "县级行政许可事项清单"), (32.0, "个", "count", False, "“一件事一次办”事项"),
      (98.6, "%", "percentage", False, "政务服务事项网上可办率")]),
    ("推进“青松办”政务服务平台建设，全省政务服务事项网上可办率达到96.8%，“跨省通办”事项扩大到182项；",
     [(96.8, "%", "percentage", False, "全省政务服务事项网上可办率"), (182.0, "项", "count", False, "“跨省通办”事项")]),
    # the hotline number is a name, the object is what the hotline handled
    ("12345政务服务热线办理工单6.8万余件，群众满意率94.5%。",
     [(68000.0, "件", "count", True, "工单"), (94.5, "%", "percentage", False, "群众满意率")]),
    ("全市法律援助机构办理法律援助案件5,237件，受援群众6,100余人次；",
     [(5237.0, "件", "count", False, "法律援助案件"), (6100.0, "人次", "count", True, "群众")]),
    # a long object is cut at a word boundary, never inside a quoted name
    ("“浙里办”湖州频道上线高频政务服务事项1,362项，“一网通办”率达90%以上。",
     [(1362.0, "项", "count", False, "高频政务服务事项"), (90.0, "%", "percentage", True, "“一网通办”率")]),
    # 以内 bounds a value from above: not exact
    ("政务服务事项网上可办率达到99.3%，平均办理时限压缩至法定时限的40%以内。",
     [(99.3, "%", "percentage", False, "政务服务事项网上可办率"), (40.0, "%", "percentage", True, "法定时限")]),
    # a change verb, its short object, then the percentage: a change, not a level
    ("开展“综合查一次”联合检查2,863次，减少对企业干扰60%以上。",
     [(2863.0, "次", "count", False, "检查"), (60.0, "%", "change", True, "企业干扰")]),
    ("全年新增市场主体3,412户，同比增长11.4%。",
     [(3412.0, "户", "count", False, "市场主体"), (11.4, "%", "change", False, "市场主体")]),
    ("收到行政复议申请1,082件，同比增长63.2%，纠错率12.6%。",
     [(1082.0, "件", "count", False, "行政复议申请"), (63.2, "%", "change", False, "行政复议申请"),
      (12.6, "%", "percentage", False, "纠错率")]),
])
def test_unseen_sentences(text, expected):
    assert mentions(text) == expected


@pytest.mark.parametrize("text", [
    "开展“12·4”国家宪法日、“蒙古语普法宣讲”等活动",
    "印发《伊金霍洛旗2019年法治政府建设工作要点》",
    "深入学习贯彻党的二十大精神，全面启动“八五”普法",
    "2023年12月，省政府印发《青海省法治政府建设实施纲要（2021-2025年）》",
    "畅通12345政务服务便民热线和12348公共法律服务热线",
    "统计事项 2023年 2024年",
    "一是健全依法决策机制；二是推行“一件事一次办”",
    "发布时间：2024-03-22 10:15",
])
def test_unseen_traps_yield_nothing(text):
    assert quantities.find_quantities(text) == []


def test_table_cells_carry_their_column_header():
    rows = ["统计事项 2023年 2024年", "行政复议收案 156件 203件", "法律援助案件 1,127件 1,342件"]
    sentences = pd.DataFrame({"doc_id": ["d"] * 3, "sentence_id": [0, 1, 2], "text": rows,
                              "start": [0, 15, 31], "end": [14, 30, 50]})
    found = quantities.extract_quantities(sentences)
    assert list(zip(found["value"], found["object"], found["column"])) == [
        (156.0, "行政复议收案", "2023年"), (203.0, "行政复议收案", "2024年"),
        (1127.0, "法律援助案件", "2023年"), (1342.0, "法律援助案件", "2024年")]
    # prose with spaces and thousands commas is no table
    prose = sentences.assign(text=["法律援助 中心办理法律援助案件412件", "受援人 挽回经济损失约560万元", "共 3 项"])
    assert (quantities.extract_quantities(prose)["column"] == "").all()


def test_a_report_states_its_own_years_table_column_first():
    found = pd.DataFrame({
        "doc_id": ["d"] * 2, "indicator_id": ["legal_aid_cases"] * 2, "value": [1127.0, 1342.0],
        "unit": ["件"] * 2, "approx": [False] * 2, "approx_marker": [""] * 2, "quote": ["a", "b"],
        "sentence": ["s"] * 2, "start": [10, 20], "end": [15, 25], "column": ["2023年", "2024年"]})
    docs = pd.DataFrame({"doc_id": ["d"], "file": ["f"], "region": ["寿光市"], "report_year": ["2024"]})
    row = indicators.indicator_values(found, docs).iloc[0]
    assert (row["value"], row["other_values"]) == (1342.0, "1127")


@pytest.mark.parametrize("text, expected", [
    # an elliptical clause (受理/审结/纠错 + number) counts the sentence's topic, its verb picks the sibling
    ("全年共收到行政复议申请22件，受理20件，办结20件；",
     [("22件", "reconsideration_received"), ("20件", "reconsideration_received"), ("20件", "reconsideration_closed")]),
    ("全县行政复议机构收到行政复议申请46件，受理39件，审结37件，其中调解和解12件，纠错5件，纠错率13.5%；",
     [("46件", "reconsideration_received"), ("39件", "reconsideration_received"), ("37件", "reconsideration_closed"),
      ("12件", "reconsideration_mediated"), ("5件", "reconsideration_corrected"),
      ("13.5%", "reconsideration_correction_rate")]),
    # 议案 inside 复议案件 is no deputies' motion; 办理 is the year's caseload
    ("全年办理行政复议案件14件，其中维持9件、驳回2件、申请人撤回申请3件；",
     [("14件", "reconsideration_received"), ("9件", ""), ("2件", ""), ("3件", "")]),
    # 新增 vs 总数: a bracketed note is read with the clause it explains
    ("截至目前，全年新增市场主体7500余户（企业主体近3100户），总数突破4.4万户（企业主体近2.1万户），同比增长8.4%。",
     [("7500余户", "market_entities_new"), ("近3100户", "market_entities_new"),
      ("突破4.4万户", "market_entities_total"), ("近2.1万户", "market_entities_total"), ("8.4%", "")]),
    # plans are made or revised; a filing clause with plans only in the sentence is no plan count
    ("健全突发事件应急体系，修订应急预案48部，备案29部，开展应急演练30余次。",
     [("48部", "emergency_plans"), ("29部", ""), ("30余次", "emergency_drills")]),
    # a breakdown in brackets is named by its own items, not by the list it breaks down
    ("24个部门462项权责清单事项及时公布（行政许可95项、行政处罚92项，行政强制13项）。",
     [("24个", ""), ("462项", "power_list_items"), ("95项", ""), ("92项", ""), ("13项", "")]),
    # audit reports (份) are not audit findings; a deputies' satisfaction rate is no hotline rate
    ("审计查出问题116个，向纪检、巡察部门提供24份审计报告作为问题线索。", [("116个", "audit_findings"), ("24份", "")]),
    ("完成办理区人大代表议案建议7件、区政协委员提案103件，办复率和代表委员满意率均为100%。",
     [("7件", "deputy_suggestions_handled"), ("103件", "cppcc_proposals_handled"), ("100%", "")]),
])
def test_unseen_indicators(text, expected):
    assert indicator_ids(text) == expected


@pytest.mark.parametrize("text, expected", [
    # a digit group after a thousands comma is part of the number, never the 120 emergency line
    ("全市累计培育“法律明白人”3,120名，其中2021年新培育480名", [3120.0, 480.0]),
    ("全年办理行政处罚案件5,120件。", [5120.0]),
    # the emergency line itself stays a name
    ("畅通110、120等应急热线，全年接处警1.2万起。", [12000.0]),
])
def test_digit_groups_are_not_service_numbers(text, expected):
    assert [m.value for m in quantities.find_quantities(text)] == expected
