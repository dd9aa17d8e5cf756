"""Quantity rules that hold for every reporting body (townships, departments, counties, cities,
provinces): enumerated ordinals, frequencies, distributive counts, ranks and units of measurement."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import indicators, quantities
from helpers.quantities import find_quantities, find_ranks


def _rows(sentence):
    return [(m.value, m.unit, m.kind) for m in find_quantities(sentence)]


# 1. ordinals of plenums, sessions and batches, also in lists, are never counts
@pytest.mark.parametrize("sentence", [
    "镇党委理论学习中心组专题学习贯彻县委十四届七次、八次全会精神。",
    "厅党组第一时间传达学习省委十一届五次全会精神，研究贯彻落实措施。",
    "深入学习贯彻党的二十届三中全会精神，把全会部署转化为法治建设具体举措。",
    "积极配合做好第三批、第四批证明事项告知承诺制清单梳理工作。",
    "公布第三、四批证明事项清单，持续减证便民。",
    "认真落实市十六届人大三次会议审议意见。",
    "学习贯彻十九届四中、五中全会精神。",
])
def test_enumerated_ordinals_are_no_counts(sentence):
    assert find_quantities(sentence) == []


# 2. how often: kind frequency with its period
@pytest.mark.parametrize("sentence, value, period, obj", [
    ("局党组理论学习中心组坚持每季度1次专题学法。", 1, "季度", None),
    ("司法所每月开展1次法治讲座，提升群众法治意识。", 1, "月", "法治讲座"),
    ("县政府每年召开一次依法行政工作会议，部署年度重点任务。", 1, "年", "依法行政工作会议"),
    ("党委常委会每半年至少1次听取法治建设工作汇报。", 1, "半年", None),
    ("市场监管局每两个月召开1次执法案卷评查专题会议。", 1, "两个月", None),
    ("街道每周开展2场法律咨询进社区活动。", 2, "周", None),
])
def test_frequencies_keep_their_period(sentence, value, period, obj):
    found = find_quantities(sentence)
    assert [(m.value, m.kind, m.period) for m in found] == [(value, "frequency", period)]
    if obj:
        assert found[0].object == obj


def test_a_count_per_period_stays_a_count_with_its_period():
    [m] = find_quantities("依托党校每年培训行政执法人员1200人。")
    assert (m.value, m.kind, m.period) == (1200, "count", "年")


# 3. distributive counts are per unit, never totals
@pytest.mark.parametrize("sentence, value, unit", [
    ("为全镇12个村（社区）各配备1名法律顾问，实现法律顾问全覆盖。", 1, "名"),
    ("每个村配备1名法律明白人，打通普法“最后一公里”。", 1, "名"),
    ("实现每个村（社区）不少于5名法律明白人。", 5, "名"),
    ("各村（社区）均配备1名专职人民调解员。", 1, "名"),
    ("各乡镇（街道）设立1个公共法律服务工作站。", 1, "个"),
])
def test_distributive_counts_are_per_unit(sentence, value, unit):
    per_unit = [m for m in find_quantities(sentence) if m.per_unit]
    assert [(m.value, m.unit, m.kind) for m in per_unit] == [(value, unit, "count")]


@pytest.mark.parametrize("sentence", [
    "全县各乡镇共调解矛盾纠纷1236件，调解成功率98.6%。",
    "审查各类合同、文件66份。",
    "组织学习各类法律法规17次。",
    "为全区12个村（社区）配备法律顾问。",
    "每万人口发明专利拥有量达到3.68件。",
])
def test_totals_are_not_per_unit(sentence):
    assert not any(m.per_unit for m in find_quantities(sentence))


# 4. ranks: kind rank with the place and the scope, never counts
@pytest.mark.parametrize("sentence, value, scope, obj", [
    ("局代表队在全省司法行政系统法治知识竞赛中获得第二名。", 2, "全省", None),
    ("2023年度依法行政考核位列全市第3，较上年前进两位。", 3, "全市", "依法行政考核"),
    ("营商环境评价排名全省第一，获评省级营商环境创新示范县。", 1, "全省", "营商环境评价"),
    ("政务服务群众满意度居全市首位。", 1, "全市", "政务服务群众满意度"),
    ("法治政府建设考核位列全省前三名。", 3, "全省", "法治政府建设考核"),
    ("监管行为32218条，全市第一。", 1, "全市", None),
])
def test_ranks_have_place_and_scope(sentence, value, scope, obj):
    ranks = find_ranks(sentence)
    assert [(m.value, m.kind, m.scope) for m in ranks] == [(value, "rank", scope)]
    if obj:
        assert ranks[0].object.endswith(obj)
    # never a count, and the rank itself is not a quantity mention
    assert not any(m.kind == "count" and m.start < ranks[0].end and ranks[0].start < m.end
                   for m in find_quantities(sentence))


@pytest.mark.parametrize("sentence", [
    "公布全市第一批证明事项清单。",
    "切实履行推进法治建设第一责任人职责。",
    "建成全市第一家企业合规指导中心。",
])
def test_ordinals_are_no_ranks(sentence):
    assert find_ranks(sentence) == []


def test_people_honoured_stay_a_count():
    assert _rows("2人获全省法治宣传教育先进个人表彰。") == [(2, "人", "count")]


# 5. units of measurement are kept as written
@pytest.mark.parametrize("sentence, value, unit", [
    ("全市细颗粒物（PM2.5）平均浓度32微克/立方米，同比下降5.9%。", 32, "微克/立方米"),
    ("全年依法处置危险废物1.2万吨。", 12000, "吨"),
    ("镇河长办组织巡查河道156公里，清理河道垃圾。", 156, "公里"),
    ("整治违法占用耕地120亩。", 120, "亩"),
    ("全年节约用水3.5万立方米。", 35000, "立方米"),
])
def test_units_of_measurement_are_kept(sentence, value, unit):
    assert (value, unit, "measure") in _rows(sentence)


# what stays as it is today
@pytest.mark.parametrize("sentence, rows", [
    ("全年召开政府常务会议12次，专题研究法治政府建设工作3次。", [(12, "次", "count"), (3, "次", "count")]),
    ("开展行政执法人员培训8期，参训1200余人次。", [(8, "期", "count"), (1200, "人次", "count")]),
    ("全年受理行政复议案件114宗，同比增长29.5%。", [(114, "宗", "count"), (29.5, "%", "change")]),
    ("镇综合行政执法队办理行政处罚案件56件。", [(56, "件", "count")]),
    ("厅本级审查规范性文件21件，备案1件。", [(21, "件", "count"), (1, "件", "count")]),
])
def test_ordinary_counts_stay(sentence, rows):
    found = find_quantities(sentence)
    assert [(m.value, m.unit, m.kind) for m in found] == rows
    assert not any(m.per_unit or m.period for m in found)


def test_new_kinds_take_no_count_indicator():
    sentences = pd.DataFrame({
        "doc_id": ["d"] * 4, "sentence_id": [0, 1, 2, 3], "start": [0, 100, 200, 300], "end": [40, 140, 240, 340],
        "text": ["区政府每季度召开1次常务会议专题学法。", "依法行政考核位列全市第3。",
                 "行政复议案件办理质量排名全省第一。", "全年召开政府常务会议12次。"]})
    out = indicators.assign_indicators(quantities.extract_quantities(sentences, ranks=True))
    assert set(out["kind"]) == {"frequency", "rank", "count"}
    assert out.loc[out["kind"].isin(["frequency", "rank"]), "indicator_id"].isna().all()
    assert out.loc[out["kind"] == "rank", "scope"].tolist() == ["全市", "全省"]
    assert out.loc[out["kind"] == "frequency", "period"].tolist() == ["季度"]
    assert out["per_unit"].dtype == bool
    # without ranks=True the table holds quantity mentions only
    assert "rank" not in set(quantities.extract_quantities(sentences)["kind"])
