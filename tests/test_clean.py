"""Cleaning steps on real sentences of the five reports (and their web/PDF variants)."""

from __future__ import annotations

import pytest

from helpers import clean


@pytest.mark.parametrize("raw, expected", [
    # CJK Radicals Supplement from PDF copies (NFKC leaves them alone).
    ("广⻄壮族自治区", "广西壮族自治区"),
    ("全⻓制度，⻔户网站，⻅效", "全长制度，门户网站，见效"),
    # Kangxi radicals and compatibility ideographs (NFKC does these).
    ("⼀是深入推进公安执法体制改革", "一是深入推进公安执法体制改革"),
    ("依法行政", "依法行政"),
])
def test_lookalikes(raw, expected):
    assert clean.normalize_lookalikes(raw)[0] == expected


@pytest.mark.parametrize("raw, expected", [
    ("受理案件３９７件，接待法援咨询１２００余人次", "受理案件397件，接待法援咨询1200余人次"),
    ("纠错率１８．３％", "纠错率18.3%"),
    ("推行企业开办“１０５０”标准，７×２４小时", "推行企业开办“1050”标准，7×24小时"),
    ("强化“互联网＋监管”，ＡＰＰ", "强化“互联网＋监管”，APP"),
])
def test_fullwidth_digits_and_letters(raw, expected):
    assert clean.normalize_fullwidth(raw)[0] == expected


@pytest.mark.parametrize("raw, expected", [
    ("  2024年,武江区坚持以习近平新时代中国特色社会主义思想为指导", "2024年,武江区坚持以习近平新时代中国特色社会主义思想为指导"),
    ("发布日期:2023-03-14 14:50 来源:区司法局\xa0\xa0\xa0\xa0", "发布日期:2023-03-14 14:50 来源:区司法局"),
    ("\u3000\u3000一、主要举措和成效", "一、主要举措和成效"),
    ("深入学习\u200b贯彻习近平法治思想", "深入学习贯彻习近平法治思想"),
    ("一、旗帜鲜明讲政治\n\n\n（一）抓实理论武装", "一、旗帜鲜明讲政治\n（一）抓实理论武装"),
    ("12345 政民连心桥", "12345 政民连心桥"),  # a space after digits is kept
])
def test_whitespace(raw, expected):
    assert clean.normalize_whitespace(raw)[0] == expected


@pytest.mark.parametrize("raw, expected", [
    ("2024年收到行政复议案件114宗,同比增长29.5%,其中调解结案34宗", "2024年收到行政复议案件114宗，同比增长29.5%，其中调解结案34宗"),
    ("全面落实《法治政府建设实施纲要(2021-2025年)》", "全面落实《法治政府建设实施纲要（2021-2025年）》"),
    ("(一)抓实理论武装,筑牢法治思想根基。", "（一）抓实理论武装，筑牢法治思想根基。"),
    ("现将有关情况报告如下:", "现将有关情况报告如下："),
    ("行政执法工作还要进一步的规范,程序意识不强;", "行政执法工作还要进一步的规范，程序意识不强；"),
    ("1.健全完善司法体制改革,进一步彰显公正司法权威。", "1.健全完善司法体制改革，进一步彰显公正司法权威。"),
    ("发布日期:2025-02-17 15:43:00 来源:本网", "发布日期：2025-02-17 15:43:00 来源：本网"),
    ("公示行政处罚699宗、许可18,032宗", "公示行政处罚699宗、许可18,032宗"),
    ('严格落实"谁执法谁普法"责任制', "严格落实“谁执法谁普法”责任制"),
    ("详见www.gov.cn,或拨打12345", "详见www.gov.cn，或拨打12345"),
    ("行政执法工作还要进一步规范.", "行政执法工作还要进一步规范。"),
    ("挽回损失或取得利益716.34万元", "挽回损失或取得利益716.34万元"),
    ("与去年同期相比增长分别为6.69%、4.15%、0.54%。", "与去年同期相比增长分别为6.69%、4.15%、0.54%。"),
])
def test_punctuation_form(raw, expected):
    assert clean.normalize_punctuation(raw)[0] == expected


def test_punctuation_is_stable():
    once = clean.normalize_punctuation("纠错率18.3%,同比下降24.5%;《纲要(2021-2025年)》")[0]
    assert clean.normalize_punctuation(once) == (once, 0)


@pytest.mark.parametrize("raw, kept, captured", [
    ("当前位置:首页 > 新闻中心 > 部门动态\n武江区人民政府2024年法治政府建设年度报告\n发布日期:2025-02-17 15:43:00 来源:本网\n打印\n正文。\n相关附件:\n相关信息",
     "武江区人民政府2024年法治政府建设年度报告\n正文。", {"published": "2025-02-17 15:43:00", "source": "本网"}),
    ("开发区·铁山区关于2022年度法治建设工作情况的报告\n发布日期:2023-03-14 14:50 来源:区司法局\n2022年,我区坚持。",
     "开发区·铁山区关于2022年度法治建设工作情况的报告\n2022年,我区坚持。", {"published": "2023-03-14 14:50", "source": "区司法局"}),
    ("（五）坚持统筹推进。\n阳泉市矿区人民政府\n2022年12月30日\n(此件公开发布)",
     "（五）坚持统筹推进。", {"signature": "阳泉市矿区人民政府", "signed": "2022年12月30日", "disclosure": "(此件公开发布)"}),
    ("正文。\n- 3 -\n续文。\n第 2 页 共 5 页\n【打印】【关闭】", "正文。\n续文。", {}),
    ("正文。\n某县司法局\n二〇二三年三月五日", "正文。", {"signature": "某县司法局", "signed": "二〇二三年三月五日"}),
])
def test_chrome_removed_and_metadata_captured(raw, kept, captured):
    text, removed, meta = clean.remove_chrome(raw)
    assert text == kept
    assert removed == raw.count("\n") - kept.count("\n")
    for key, value in captured.items():
        assert meta[key] == value


def test_chrome_keeps_body_lines_that_mention_chrome_words():
    line = "做好依申请公开答复工作，2024年收到依申请公开信息37条，均按时按质完成答复。"
    assert clean.remove_chrome(line)[0] == line
    # A closing line that is not a signature block stays.
    assert clean.remove_chrome("（五）加强法治宣传。\n司法局")[0] == "（五）加强法治宣传。\n司法局"


@pytest.mark.parametrize("raw, expected", [
    # The 003 break inside a word.
    ("研究部署推动法治政府建设工作，全面安排部署依法治区和法治政府建设工作；将法治政府建设纳入全区工\n作规划计划，做到同部署、同考核、同落实；",
     "研究部署推动法治政府建设工作，全面安排部署依法治区和法治政府建设工作；将法治政府建设纳入全区工作规划计划，做到同部署、同考核、同落实；"),
    # A break inside a number.
    ("在全市率先建立行政复议与调解有机衔接联动机制，2024年收到行政复议案件1\n14宗，同比增长29.5%。",
     "在全市率先建立行政复议与调解有机衔接联动机制，2024年收到行政复议案件114宗，同比增长29.5%。"),
    # Real paragraph breaks stay: after 。, after a heading, before a heading, after a title.
    ("一、2022年工作开展情况\n（一）深入学习贯彻习近平法治思想，切实扛起法治政府建设的政治责任\n提高站位，全面提升法治思维。",
     "一、2022年工作开展情况\n（一）深入学习贯彻习近平法治思想，切实扛起法治政府建设的政治责任\n提高站位，全面提升法治思维。"),
    ("开发区·铁山区关于2022年度法治建设工作情况的报告\n2022年，我区坚持以习近平新时代中国特色社会主义思想为指导。",
     "开发区·铁山区关于2022年度法治建设工作情况的报告\n2022年，我区坚持以习近平新时代中国特色社会主义思想为指导。"),
    ("2024年以来，广西-东盟经开区法治建设取得了一定成效，但与上级要求和群众的期盼相比还存在一定差距，主要表现在：\n（一）因体制机制改革",
     "2024年以来，广西-东盟经开区法治建设取得了一定成效，但与上级要求和群众的期盼相比还存在一定差距，主要表现在：\n（一）因体制机制改革"),
    ("作为推进法治建设第一责任人，党政主要负责人带头学法讲法，定期组织\n二、存在的不足", "作为推进法治建设第一责任人，党政主要负责人带头学法讲法，定期组织\n二、存在的不足"),
])
def test_line_joins(raw, expected):
    assert clean.join_broken_lines(raw)[0] == expected


def test_wrapped_heading_in_fixed_width_layout_is_joined():
    body = "深入学习贯彻习近平法治思想，全面贯彻落实中央决策部署，有力推动法治政府建设取得新进展新成效。" * 4
    lines = [body[i:i + 30] for i in range(0, len(body), 30)]
    heading = "五、2022年党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况"
    text = "\n".join(lines + [heading[:30], heading[30:]] + lines)
    joined = clean.join_broken_lines(text)[0].split("\n")
    assert heading in joined


def test_clean_text_counts_every_step_per_document(raw_texts):
    result = clean.clean_text(raw_texts["003_2cdd6b3c9939285b.txt"])
    assert set(result.counts) == set(clean.STEPS)
    assert result.counts["line_joins"] == 1
    assert result.counts["chrome"] == 1
    assert result.counts["whitespace"] > 0 and result.counts["punctuation"] > 100
    assert "全区工作规划计划" in result.text and "\xa0" not in result.text
    assert result.metadata["published"].startswith("2023-03-14")


def test_selected_steps_only(raw_texts):
    raw = raw_texts["003_2cdd6b3c9939285b.txt"]
    result = clean.clean_text(raw, steps=["whitespace"])
    assert set(result.counts) == {"whitespace"}
    assert "发布日期" in result.text and "全区工\n作规划" in result.text
    with pytest.raises(ValueError, match="unknown cleaning steps"):
        clean.clean_text(raw, steps=["spelling"])


def test_cleaned_reports_have_one_punctuation_form(raw_texts):
    import re

    for name, raw in raw_texts.items():
        text = clean.clean_text(raw).text
        # No ASCII , ; ( ) : left between Chinese characters.
        assert not re.search(r"[\u4e00-\u9fff][,;():][\u4e00-\u9fff]", text), name
        for number in ("18.3%", "2021-2025", "683.7万元", "100%"):
            if number in raw:
                assert number in text, (name, number)
