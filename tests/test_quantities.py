"""Quantity extraction on real sentences of the five sample reports and on the traps of the genre."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import quantities, schema
from helpers.quantities import find_quantities, parse_number


def _one(text: str):
    found = find_quantities(text)
    assert len(found) == 1, [(m.mention, m.value) for m in found]
    return found[0]


# (sentence as cleaned, value, unit, approx, kind, object)
NUMBER_FORMS = [
    # digit groups split by spaces, as PDF and table copies give them: a group starting with 0 continues
    ("办理信访事项1 024件。", 1024, "件", False, "count", "信访事项"),
    ("全年办理案件1 024 000件", 1024000, "件", False, "count", "案件"),
    ("2024年收到行政复议案件114宗，其中", 114, "宗", False, "count", "行政复议案件"),
    ("办结行政复议案件1件，行政复议“分流阀”作用充分发挥", 1, "件", False, "count", "行政复议案件"),
    ("累计培训1200余人；各镇（街）组织", 1200, "人", True, "count", "培训"),
    ("组织开展行政执法专题培训4场次，", 4, "场次", False, "count", "行政执法专题培训"),
    ("今年，我区法律顾问为区内的重大行政决策、重大合同等事项出具法律意见约300份，", 300, "份", True, "count", "法律意见"),
    ("新增市场主体7500余户（", 7500, "户", True, "count", "市场主体"),
    ("企业主体近3100户）", 3100, "户", True, "count", "企业主体"),
    ("派发宣传资料15万余份，", 150000, "份", True, "count", "宣传资料"),
    ("累计受理和转派工单2.5万余件，", 25000, "件", True, "count", "工单"),
    ("全区登记市场主体约3.2万户，", 32000, "户", True, "count", "市场主体"),
    ("注册资本579亿元，", 57_900_000_000, "元", False, "amount", "注册资本"),
    ("劳动人事争议多元化解工作站涉及金额683.7万元，", 6_837_000, "元", False, "amount", "金额"),
    ("为企业（个体工商户）实际解决贷款额3650万元。", 36_500_000, "元", False, "amount", "贷款额"),
    ("纠错率18.3%。", 18.3, "%", False, "percentage", "纠错率"),
    ("合法性审查率和备案率达到百分之百。", 100, "%", False, "percentage", "备案率"),
    ("考试优秀率达90%以上；", 90, "%", True, "percentage", "考试优秀率"),
    ("点击率已超万余次，", 10000, "次", True, "count", "点击率"),
    ("定期对全区重点工作、重大改革和十一件民生实事等事项开展督办，", 11, "件", False, "count", "民生实事"),
    ("经过调解员一个多月的调解、劝导，", 1, "个多月", True, "duration", "调解员"),
    ("连续两年开展行政规范性文件和重大行政决策专题培训，", 2, "年", False, "duration", None),
    ("“开办企业”实现0.5天办理，", 0.5, "天", False, "duration", None),
    ("企业开办全流程最短压缩至1/4个工作日，", 0.25, "个工作日", False, "duration", None),
    ("开展警情案件规范化培训8批次，", 8, "批次", False, "count", "警情案件规范化培训"),
    ("利用官网、微信公众号等新媒体平台发送各种法治宣传信息51条次，", 51, "条次", False, "count", "法治宣传信息"),
    ("出具法律审查意见400余份（次），", 400, "份", True, "count", "法律审查意见"),
    ("接待群众102336人次，", 102336, "人次", False, "count", "群众"),
    ("预计2022年全区地区生产总值突破500亿元，", 50_000_000_000, "元", True, "amount", "全区地区生产总值"),
]


@pytest.mark.parametrize("text,value,unit,approx,kind,obj", NUMBER_FORMS)
def test_number_forms_are_parsed(text, value, unit, approx, kind, obj):
    m = _one(text)
    assert m.value == pytest.approx(value)
    assert (m.unit, m.approx, m.kind) == (unit, approx, kind)
    if obj is not None:
        assert m.object == obj
    assert text[m.start:m.end] == m.mention and m.quote in text and m.mention in m.quote


@pytest.mark.parametrize("text,low,high,unit", [
    ("政府投资项目审批时限由20—50天缩减至4—5天，", 20, 50, "天"),
    ("办理时限压缩为3至5个工作日", 3, 5, "个工作日"),
    ("参加人数3万至5万人", 30000, 50000, "人"),
])
def test_ranges_give_low_and_high(text, low, high, unit):
    m = find_quantities(text)[0]
    assert (m.low, m.high, m.value, m.unit) == (low, high, low, unit)


def test_second_range_in_the_same_sentence():
    found = find_quantities("政府投资项目审批时限由20—50天缩减至4—5天，")
    assert [(m.low, m.high) for m in found] == [(20, 50), (4, 5)]


@pytest.mark.parametrize("text,expected", [
    ("2022年，我区共公示行政处罚699宗、许可18032宗、行政强制96宗、行政检查1948宗。",
     [(699, "行政处罚"), (18032, "许可"), (96, "行政强制"), (1948, "行政检查")]),
    ("适用包容审慎不予处罚8宗、免予处罚9宗、从轻处罚50宗、减轻处罚14宗，",
     [(8, "不予处罚"), (9, "免予处罚"), (50, "从轻处罚"), (14, "减轻处罚")]),
    ("印发《阳泉矿区区直部门权责清单》，24个部门462项权责清单事项及时在政府门户网站公布",
     [(24, "部门"), (462, "权责清单事项")]),
])
def test_lists_give_one_row_per_item_with_its_own_object(text, expected):
    found = find_quantities(text)
    assert [(m.value, m.object) for m in found] == expected


@pytest.mark.parametrize("text,value,obj", [
    ("组织开展行政执法专题培训4场次，450人次参训，", 450, "参训"),
    ("培育218个“法律明白人”和41户学法用法示范户，", 218, "“法律明白人”"),
    ("严格立项审批，召开项目预审会6次，审议47个项目。", 47, "项目"),
    ("安排33名律师担任辖区89个村（社区）法律顾问，", 33, "律师"),
])
def test_object_after_the_number(text, value, obj):
    m = next(m for m in find_quantities(text) if m.value == value)
    assert m.object == obj


@pytest.mark.parametrize("text,values,direction", [
    ("2024年收到行政复议案件114宗，同比增长29.5%，", [114, 29.5], "up"),
    ("全区行政机关败诉率8%，同比下降24.5%。", [8, 24.5], "down"),
    ("推动实现地区生产总值同比增长7.2%，全市排名第一。", [7.2], "up"),
])
def test_changes_are_not_levels(text, values, direction):
    found = find_quantities(text)
    assert [m.value for m in found] == values
    change = found[-1]
    assert change.kind == "change" and change.direction == direction
    if len(found) == 2:
        assert found[0].kind != "change"
        assert change.object == found[0].object  # the change of what was just counted


def test_respectively_gives_each_change_its_object():
    text = "全区登记市场主体约3.2万户，注册资本579亿元，从业人员10万余人，与去年同期相比增长分别为6.69%、4.15%、0.54%。"
    found = find_quantities(text)
    changes = [m for m in found if m.kind == "change"]
    assert [(m.value, m.object) for m in changes] == [(6.69, "市场主体"), (4.15, "注册资本"), (0.54, "从业人员")]


@pytest.mark.parametrize("text", [
    # dates and times
    "10月16日早上，组织全区工作人员观看转播。",
    "11月8日至10日，区党校举办学习贯彻党的二十大精神专题班",
    "阳泉市矿区人民政府 2022年12月30日",
    "发布日期：2025-02-17 15:43:00 来源：本网",
    "今年5月，警调联动项目小引派出所人民调解工作室调解了纠纷",
    # years, year ranges, titles
    "全面落实《法治政府建设实施纲要（2021-2025年）》《广东省2022年依法行政工作要点》等各项任务要求",
    "开展2023年度述法工作专题会议",
    "2021年预算调整方案经政府常务会研究",
    "一年来，全区各部门扎实推进法治建设",
    # slogans and brand numbers
    "按照省委“1310”具体部署和市委“363”工作安排，",
    "开展13710督查，推动重点工作落实",
    "4个社区矫正典型案例入选“12348中国法网”案例库",  # only the 4 is a quantity, checked below
    "推行企业开办“1050”标准，",
    "建立“7×24小时自助办”政务服务超市",
    "建立7×24小时自助服务区",
    "结合“4·15”全民国家安全教育日开展宣传",
    "深化110接处警平台调警执法规范化",
    "推广南宁市小低风险项目2.0及拿地即开工4.0，",
    "先后出台“新春暖企16条”“纾困惠企十三条”",
    "持续优化营商环境提升涉企服务质效十六条举措",
    # numbered slogans
    "增强“四个意识”、坚定“四个自信”、做到“两个维护”",
    "增强四个意识、坚定四个自信、做到两个维护，忠诚拥护两个确立",
    "坚决贯彻落实法治建设一规划两纲要",
    "制定《八五普法规划》，继续推进八五普法",
    "落实行政执法三项制度，推进十四五规划实施",
    "推出更多一件事一次办事项，推行最多跑一次改革",
    "深化一村（社区）一法律顾问工作，采用一问一答的形式",
    "组织区四套班子成员参加培训",
    # list markers and ordinals
    "一是强化规范性文件管理。二是提高依法决策水平。",
    "（一）推进科学决策，完善依法行政体系。",
    "1.坚持法治引领。",
    "作为推进法治建设第一责任人，以“第一议题”形式学习",
    "开展第四届国家机关“谁执法谁普法”履职报告评议活动",
    "营商环境考核由全市排名最后跃升至全市第二",
    # party congresses
    "全面贯彻落实党的二十大和二十届二中、三中全会精神",
    "观看中国共产党第二十次全国代表大会转播",
    "学习贯彻党的十九届四中全会精神",
    # the article 一 and words built on 一
    "调解了一宗涉及未成年人在校期间发生的纠纷",
    "群众将一面印有“倾心调解、为民服务”的锦旗送到工作室",
    "将法治政府建设作为一项基础性、全局性工作常抓不懈",
    "进一步完善统一的市场准入制度，为全市唯一入选",
    # thresholds
    "400万以上的政府投资项目全部报区委常委会审议",
])
def test_traps_are_never_extracted(text):
    found = find_quantities(text)
    if "4个社区矫正" in text:
        assert [(m.value, m.unit) for m in found] == [(4, "个")]
    else:
        assert found == [], [(m.mention, m.value) for m in found]


@pytest.mark.parametrize("text,classes", [
    ("2022年12月30日", {"date"}),
    ("《法治政府建设实施纲要（2021-2025年）》", {"title"}),
    ("“1310”具体部署", {"quoted"}),
    ("做到两个维护", {"numbered_slogan"}),
    ("一是强化管理", {"list_marker"}),
    ("第二十次全国代表大会", {"ordinal"}),
    ("二十届三中全会", {"party_congress"}),
    ("7×24小时", {"slogan"}),
])
def test_each_trap_class_is_named(text, classes):
    assert classes <= {name for _, _, name in quantities.not_quantity_spans(text)}



def test_one_pass_mask_gives_the_spans_of_each_pattern_on_its_own(corpus):
    """The combined scan (rules.not_quantity_scan) against one finditer per pattern, on every
    sentence of the sample reports and on runs where a pattern's matches overlap."""
    rules = quantities.load_rules()
    assert rules.not_quantity_scan is not None and not rules.not_quantity_scan.rest
    texts = corpus.sentences["text"].tolist() + [
        "3×4×5件", "十二是一是", "2022年12月30日至2023年1月5日", "12:345:67", "“四个意识”“两个维护”"]
    for text in texts:
        expected = quantities._spans_pattern_by_pattern(text, rules.not_quantities, rules.not_quantity_gates)
        assert quantities.not_quantity_spans(text, rules=rules) == expected, text


def test_a_pattern_that_cannot_join_the_one_pass_mask_still_masks(tmp_path):
    rules_file = tmp_path / "rules.yaml"
    text = quantities.RULES_PATH.read_text(encoding="utf-8")
    # a backreference: its group number would change inside the combined regex
    rules_file.write_text(text + '  - {name: slogan, pattern: "(\\\\d)\\\\1{2}号"}\n', encoding="utf-8")
    rules = quantities.load_rules(rules_file)
    assert rules.not_quantity_scan is None
    assert (4, 8, "slogan") in quantities.not_quantity_spans("开通热线888号", rules=rules)
    assert not find_quantities("开通热线888号", rules=rules)

def test_part_of_speech_viterbi_gives_jiebas_route(corpus):
    """quantities._pos_viterbi against the Viterbi of the installed posseg, on 400 runs of Chinese
    characters of the sample reports (cut into pieces of up to 12; jieba's is slow, every run would
    take ten seconds) and on random runs that mix in characters the model has never seen."""
    import importlib
    import random
    import re

    from helpers.segment import TAGGER_ENGINES, load_jieba

    pseg = importlib.import_module(f"{load_jieba(TAGGER_ENGINES).__name__}.posseg")
    model = (pseg.char_state_tab_P, pseg.start_P, pseg.trans_P, pseg.emit_P)
    runs = sorted({run[i:i + 12] for text in corpus.sentences["text"]
                   for run in re.findall(r"[\u4e00-\u9fd5]+", text) for i in range(0, len(run), 12)})
    known = sorted(pseg.char_state_tab_P)
    rnd = random.Random(7)
    runs = rnd.sample(runs, 400) + ["".join(rnd.choice(known) if rnd.random() < 0.8 else rnd.choice("嘎犇龘曌") for _ in range(rnd.randint(1, 10)))
             for _ in range(200)]
    for run in runs:
        assert quantities._pos_viterbi(run, *model) == pseg.viterbi(run, *model), run
    tagger = quantities._pos_tokenizer(quantities.load_rules().nouns).tagger
    assert [tuple(p) for p in tagger._POSTokenizer__cut("嘎查村犇犇")] == [
        tuple(p) for p in pseg.POSTokenizer._POSTokenizer__cut(tagger, "嘎查村犇犇")]


@pytest.mark.parametrize("text,value", [
    ("114", 114), ("18,032", 18032), ("683.7", 683.7), ("１２００", 1200), ("1/4", 0.25),
    ("十一", 11), ("两", 2), ("一千二百", 1200), ("百分之百", 100), ("百分之十八点三", 18.3),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_full_width_digits_and_percent():
    m = _one("纠错率１８.３％")
    assert (m.value, m.unit, m.kind) == (pytest.approx(18.3), "％", "percentage")


@pytest.fixture(scope="module")
def corpus_quantities(corpus):
    return quantities.extract_quantities(corpus.sentences, documents=corpus.documents)


def test_corpus_table_conforms_and_spans_index_the_cleaned_text(corpus, corpus_quantities):
    q = corpus_quantities
    schema.check_columns(q, schema.QUANTITIES, table="quantities")
    texts = dict(zip(corpus.documents["doc_id"], corpus.documents["text"]))
    for row in q.itertuples():
        text = texts[row.doc_id]
        assert text[row.start:row.end] == row.mention
        assert text[row.quote_start:row.quote_end] == row.quote
        assert row.quote in row.sentence and row.mention in row.quote
    assert set(q["file"]) == set(corpus.documents["file"])
    assert q["kind"].isin({"count", "amount", "percentage", "change", "duration", "measure"}).all()


def test_corpus_mentions_per_file_and_no_trap_digits(corpus_quantities):
    counts = corpus_quantities.groupby("file").size()
    # every report states dozens of figures; the long 001 the most
    assert counts.min() >= 20 and counts.idxmax().startswith("001")
    mentions = set(corpus_quantities["mention"])
    for trap in ("1310", "363", "13710", "12345", "1050", "2022年", "2021", "110"):
        assert not any(m.startswith(trap) for m in mentions), trap


def test_a_broken_rules_file_names_the_pattern(tmp_path):
    bad = tmp_path / "rules.yaml"
    text = quantities.RULES_PATH.read_text(encoding="utf-8")
    bad.write_text(text + '  - {name: broken, pattern: "([unclosed"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unclosed"):
        quantities.load_rules(bad)


def test_extract_quantities_on_an_empty_table():
    empty = pd.DataFrame(columns=schema.SENTENCES)
    out = quantities.extract_quantities(empty)
    assert out.empty and list(out.columns) == schema.QUANTITIES + quantities.EXTRA_COLUMNS


# (sentence from the reports or domain.md, the mention, the object it counts): the object after the
# number when a verb or nothing precedes it or a classifier + noun follows it, before it when a
# noun phrase precedes, bridged over 共计/共, and a subset (其中…) inheriting the sentence topic.
OBJECTS = [
    # service bodies ending in 所/处/站 (jieba tags 所 as a conjunction): whole, from the lexicon
    ("全市共有律师事务所56家、执业律师823人、公证处4家、基层法律服务所32家。", "32家", "基层法律服务所"),
    ("建成公共法律服务中心1个、公共法律服务站15个。", "15个", "公共法律服务站"),
    ("严格执行执法人员资格管理和持证上岗制度，6次组织行政执法人员公共法律知识考试，发放行政执法证212个",
     "6次", "行政执法人员公共法律知识考试"),
    ("严格执行执法人员资格管理和持证上岗制度，6次组织行政执法人员公共法律知识考试，发放行政执法证212个",
     "212个", "行政执法证"),
    ("广西-东盟经开区司法局原有干部职工5名全部移交武鸣，导致法治工作人员不足。", "5名", "干部职工"),
    ("重阳镇大夫前村、惠民街道武江北社区、新华街道武江南社区3个村（社区）获评省“民主法治示范村（社区）。",
     "3个", "村（社区）"),
    ("组建6个街道行政执法队共计30人，明确街道行政执法事项清单共计66项，", "30人", "街道行政执法队"),
    ("组建6个街道行政执法队共计30人，明确街道行政执法事项清单共计66项，", "66项", "街道行政执法事项清单"),
    ("公布四批行政执法主体共31个，严格执行执法人员资格管理和持证上岗制度", "31个", "行政执法主体"),
    ("全年制定行政规范性文件5件，其中1件已通过备案审查，4件正在收集材料报请备案。", "1件", "行政规范性文件"),
    ("全年制定行政规范性文件5件，其中1件已通过备案审查，4件正在收集材料报请备案。", "4件", "行政规范性文件"),
    ("办理征地拆迁等行政诉讼案件6件，其中1件原告撤诉，3件胜诉，其余2件待判决，目前胜诉率100%。", "3件", "行政诉讼案件"),
    ("办理征地拆迁等行政诉讼案件6件，其中1件原告撤诉，3件胜诉，其余2件待判决，目前胜诉率100%。", "2件", "行政诉讼案件"),
    ("实现128项高频事项可跨省通办，198项可省内通办，切实提高办事效率和群众满意度。", "198项", "高频事项"),
    ("建成平坦、赛鱼农商行2个全市首批政务服务便民点，", "2个", "政务服务便民点"),
    ("督促103个预算单位及时在政府网站公开预决算信息。", "103个", "预算单位"),
    ("共17个部门开展了27个抽查事项，涉及劳务派遣、清真餐饮", "27个", "抽查事项"),
    ("累计到现场开展10次涉法涉诉事务处理和咨询活动，", "10次", "涉法涉诉事务处理和咨询活动"),
    ("完成了100本电子证照范畴内1029个申请材料，100%免提交标注，", "100%", "免提交标注"),
    ("推动市场主体净增2804户，完成全年增量目标（2214户）的126.6%。", "2214户", "增量目标"),
    ("组织开展行政执法专题培训4场次，450人次参训，", "450人次", "参训"),
]


@pytest.mark.parametrize("text,mention,obj", OBJECTS)
def test_counted_object(text, mention, obj):
    m = next(m for m in find_quantities(text) if m.mention == mention)
    assert m.object == obj
    # the quote holds the number and the object it counts
    assert m.quote == text[m.quote_start:m.quote_end] and m.mention in m.quote and obj in m.quote


def test_a_number_bridged_by_linking_words_counts_what_the_one_before_counted():
    found = find_quantities("政府投资项目审批时限由20—50天缩减至4—5天，办事环节大幅减少。")
    assert [(m.low, m.high) for m in found] == [(20, 50), (4, 5)]
    assert found[0].object and found[1].object == found[0].object
    assert found[1].quote.endswith("缩减至4—5天") and found[0].object in found[1].quote


def test_a_change_belongs_to_the_count_outside_the_brackets():
    text = "新增市场主体7500余户（企业主体近3100户），总数突破4.4万户（企业主体近2.1万户），同比增长8.4%。"
    found = find_quantities(text)
    total = next(m for m in found if m.value == 44000)
    change = found[-1]
    assert change.kind == "change" and change.object == total.object == "总数"


def test_linking_words_are_cut_only_at_word_boundaries():
    # 为 links 纠错率为18.3%, but is part of 监管行为
    assert _one("纠错率为18.3%。").object == "纠错率"
    assert _one("监管行为32218条，").object == "监管行为"
    assert _one("企业开办全流程最短压缩至1/4个工作日，").object == "全流程"
