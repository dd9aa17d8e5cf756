"""Reading: every encoding and format built from the sample reports yields the same cleaned text
as the UTF-8 original (PDF: the same sentences); garbled copies are repaired exactly or warned
about; bad files give their warning, the rest is read."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252, the browsers' Windows-1252)
import pytest

from helpers import clean, corpus, pipeline, structure

from conftest import REPORT_FILES, RAW

# Reports with a title line and web chrome (002) and a line broken inside a word (003).
HTML_REPORTS = REPORT_FILES


def cleaned(text: str) -> str:
    return clean.clean_text(text).text


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in structure.split_sentences(text)]


# --------------------------------------------------------------------------- builders
def gbk_safe(text: str) -> str:
    """GBK has no NBSP: an NBSP becomes a space, which cleaning treats the same."""
    return text.replace("\xa0", " ")


def make_html(text: str) -> str:
    """A saved government web page: navigation, breadcrumb, the report, a footer."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    titles = [line for line in lines[:3] if clean.TITLE_LINE.search(line) and not clean.HEADING_START.match(line)]
    title = titles[0] if titles else ""
    body = [line for line in lines if line != title]
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    heading = f"<h1>{html.escape(title)}</h1>" if title else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title or '法治政府建设')}</title></head>
<body><div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/hdjl">互动交流</a></li><li><a href="/bsfw">办事服务</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 法治政府建设</div>
<div class="article">{heading}<div class="content">{paragraphs}</div></div>
<div class="footer"><p>主办单位：人民政府办公室 版权所有</p><p><a href="/map">网站地图</a> | <a href="/lx">联系我们</a></p></div>
</body></html>"""


def make_docx(text: str, path: Path) -> Path:
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        if line.strip():
            document.add_paragraph(line.strip())
    document.save(path)
    return path


def make_pdf(text: str, path: Path, *, width: int = 38, lines_per_page: int = 40) -> Path:
    """A PDF text layer laid out in fixed-width lines (wrapping inside words and numbers), with a
    page number at the foot of each page, drawn with the bundled CJK font (TrueType, fonttype 42)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.font_manager import FontProperties

    from helpers import plots

    font = FontProperties(fname=str(plots.cjk_font_path()))
    laid_out: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        while paragraph:
            laid_out.append(paragraph[:width])
            paragraph = paragraph[width:]
    with plt.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for page_no, first in enumerate(range(0, len(laid_out), lines_per_page), start=1):
            fig = plt.figure(figsize=(8.27, 11.69))
            for i, line in enumerate(laid_out[first:first + lines_per_page]):
                fig.text(0.06, 0.95 - i * 0.022, line, fontproperties=font, fontsize=10)
            fig.text(0.48, 0.03, f"- {page_no} -", fontproperties=font, fontsize=10)
            pdf.savefig(fig)
            plt.close(fig)
    return path


# --------------------------------------------------------------------------- encodings
@pytest.mark.parametrize("name", REPORT_FILES)
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_encoded_copies_read_the_same(raw_texts, name, encoding):
    original = raw_texts[name]
    doc = corpus.read_bytes(name, gbk_safe(original).encode(encoding))
    assert cleaned(doc.text) == cleaned(original)
    expected = {"gbk": {"gb18030", "gbk"}, "gb18030": {"gb18030"}, "utf-8-sig": {"utf_8_sig"}}[encoding]
    assert doc.encoding in expected


def test_utf8_original_encoding_recorded(raw_texts):
    doc = corpus.read_bytes(REPORT_FILES[0], raw_texts[REPORT_FILES[0]].encode("utf-8"))
    assert doc.encoding == "utf_8" and doc.format == "txt"


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("name", HTML_REPORTS)
def test_saved_web_page_yields_the_report_without_navigation(raw_texts, name):
    original = raw_texts[name]
    doc = corpus.read_bytes(name.replace(".txt", ".html"), make_html(original).encode("utf-8"))
    assert doc.format == "html"
    assert cleaned(doc.text) == cleaned(original)
    for chrome_word in ("互动交流", "网站地图", "办事服务"):
        assert chrome_word not in doc.text


@pytest.mark.parametrize("name", REPORT_FILES)
def test_word_file_yields_the_same_text(raw_texts, name, tmp_path):
    path = make_docx(raw_texts[name], tmp_path / name.replace(".txt", ".docx"))
    doc, warnings = corpus.read_file(path)
    assert warnings == [] and doc.format == "docx"
    assert cleaned(doc.text) == cleaned(raw_texts[name])


@pytest.fixture(scope="module")
def pdf_copies(tmp_path_factory, raw_texts):
    folder = tmp_path_factory.mktemp("pdf")
    names = ["002_85a6f3b4405b5e46.txt", "003_2cdd6b3c9939285b.txt"]
    return {name: make_pdf(raw_texts[name], folder / name.replace(".txt", ".pdf")) for name in names}


@pytest.mark.parametrize("name", ["002_85a6f3b4405b5e46.txt", "003_2cdd6b3c9939285b.txt"])
def test_pdf_text_layer_yields_the_same_sentences(raw_texts, pdf_copies, name):
    doc, warnings = corpus.read_file(pdf_copies[name])
    assert doc.format == "pdf"
    # The layout broke lines inside words and numbers and added page numbers.
    assert doc.text.count("\n") > raw_texts[name].count("\n") * 2
    assert sentences_of(cleaned(doc.text)) == sentences_of(cleaned(raw_texts[name]))


# --------------------------------------------------------------------------- traditional
def test_traditional_characters_are_converted_and_recorded(raw_texts):
    import opencc

    name = "004_9be245ef091e36dd.txt"
    traditional = opencc.OpenCC("s2t").convert(raw_texts[name])
    assert traditional != raw_texts[name]
    doc = corpus.read_bytes("big5.txt", traditional.encode("big5", errors="replace"))
    assert doc.converted_traditional
    assert any("traditional" in w[2] for w in doc.warnings)
    original = cleaned(raw_texts[name])
    result = cleaned(doc.text)
    same = sum(a == b for a, b in zip(result, original)) / len(original)
    assert same > 0.99  # the round trip s2t/t2s is not perfect for a few characters (e.g. 於/于)


def test_simplified_text_is_left_alone(raw_texts):
    for text in raw_texts.values():
        assert corpus.to_simplified(text) == (text, False)


# --------------------------------------------------------------------------- bad files
@pytest.fixture()
def folder_with_bad_files(tmp_path, raw_texts):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in REPORT_FILES[:2]:
        shutil.copy(RAW / name, folder / name)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(bytes(range(256)) * 40)
    text = gbk_safe(raw_texts[REPORT_FILES[2]])
    k = len(text) // 2
    while not "\u4e00" <= text[k] <= "\u9fff":
        k += 1
    # Cut after the first byte of a Chinese character, as an interrupted download does.
    (folder / "truncated.txt").write_bytes(text[:k].encode("gbk") + text[k].encode("gbk")[:1])
    (folder / "scan.xlsx").write_bytes(b"PK\x03\x04 not a report")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    return folder


def test_bad_files_are_reported_and_the_rest_processed(folder_with_bad_files, raw_texts):
    result = pipeline.build_corpus(folder_with_bad_files, manifest=False)
    reasons = dict(zip(result.warnings["file"], result.warnings["reason"]))
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.txt"].startswith("binary")
    assert reasons["truncated.txt"].startswith("truncated")
    assert reasons["scan.xlsx"].startswith("unsupported file type '.xlsx'")
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    kept = set(result.documents["file"])
    assert kept == set(REPORT_FILES[:2]) | {"truncated.txt"}
    # The readable half of the truncated file is there.
    truncated = result.documents.set_index("file").loc["truncated.txt", "text"]
    assert truncated[:200] == cleaned(raw_texts[REPORT_FILES[2]])[:200]


def test_undecodable_bytes_are_named(tmp_path):
    with pytest.raises(corpus.ReadError, match="binary|undecodable"):
        corpus.read_bytes("x.txt", bytes([0x81, 0x00, 0xFE, 0x01]) * 500)


# --------------------------------------------------------------------------- mojibake
UNSEEN = Path(__file__).parent / "data" / "unseen"
# How sites garble text: (bytes written in, codec wrongly read with, the repair's description).
LOSSLESS_MISREADINGS = {
    "utf8-as-latin1": ("utf-8", "latin-1", "UTF-8 text that had been read as Latin-1"),
    "utf8-as-cp1252": ("utf-8", "sloppy-windows-1252", "UTF-8 text that had been read as Windows-1252"),
    "gbk-as-latin1": ("gbk", "latin-1", "GBK text that had been read as Windows-1252 or Latin-1"),
    "gbk-as-cp1252": ("gbk", "sloppy-windows-1252", "GBK text that had been read as Windows-1252 or Latin-1"),
}
# Clauses of the reports whose UTF-8 bytes happen to read as GBK / GB18030 without a lost byte.
READ_AS_GBK = ["完善我区法治政府治理体系,", "同比增长29.5%,", "做好“双随机”抽查和涉企信息归集工作,",
               "发布日期:2023-03-14 14:50 来源:区司法局"]
READ_AS_GB18030 = ["(此件公开发布)", "发布日期:2025-02-17 15:43:00 来源:本网"]
SENTENCES = [
    "在全市率先建立行政复议与调解有机衔接联动机制,2024年收到行政复议案件114宗,同比增长29.5%,"
    "其中调解结案34宗,纠正违法和不当行政行为21宗,纠错率18.3%。",
    "组织领导干部、行政机关负责人出庭应诉5次,组织旁听庭审观摩活动1次,参加“太原·阳泉行政执法与行政审判座谈会”,"
    "领导干部出庭应诉能力得到提高,配合完成全面依法治区工作中期督察,纵深推进法治政府建设取得实效。",
    "2022年,我区共公示行政处罚699宗、许可18032宗、行政强制96宗、行政检查1948宗。",
]
MISREAD_CASES = (
    [(s, "utf-8", "gbk", "UTF-8 text that had been read as GBK") for s in READ_AS_GBK]
    + [(s, "utf-8", "gb18030", "UTF-8 text that had been read as GB18030") for s in READ_AS_GB18030]
    + [(s, *how) for s in SENTENCES for how in LOSSLESS_MISREADINGS.values()]
)


def unseen_texts() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(UNSEEN.iterdir()) if p.suffix in (".txt", ".html")}


def mojibake_reasons(doc) -> list[str]:
    return [reason for _, _, reason in doc.warnings if "mojibake" in reason or "U+FFFD" in reason]


def test_misread_sentences_are_real(raw_texts):
    everything = "\n".join(raw_texts.values())
    for sentence in READ_AS_GBK + READ_AS_GB18030 + SENTENCES:
        assert sentence in everything


@pytest.mark.parametrize(("sentence", "written", "read_as", "description"), MISREAD_CASES)
def test_misread_sentence_is_repaired_exactly(sentence, written, read_as, description):
    garbled = sentence.encode(written).decode(read_as)  # strict: no byte lost
    assert corpus.garbled_share(garbled) > 0.3
    doc = corpus.read_bytes("garbled.txt", garbled.encode("utf-8"))
    assert doc.text == sentence
    assert doc.warnings == [("garbled.txt", "info", f"mojibake repaired: {description} (1 line)")]
    assert doc.garbled_share == 0 and not doc.converted_traditional


@pytest.mark.parametrize("name", REPORT_FILES)
@pytest.mark.parametrize("kind", list(LOSSLESS_MISREADINGS))
def test_misread_report_is_repaired_exactly(raw_texts, name, kind):
    written, read_as, description = LOSSLESS_MISREADINGS[kind]
    original = gbk_safe(raw_texts[name])
    doc = corpus.read_bytes(name, original.encode(written).decode(read_as).encode("utf-8"))
    assert doc.text == original
    assert [severity for _, severity, _ in doc.warnings] == ["info"]
    assert doc.warnings[0][2].startswith(f"mojibake repaired: {description} (")


@pytest.mark.parametrize("name", REPORT_FILES)
def test_sample_reports_are_not_garbled(raw_texts, name):
    doc = corpus.read_bytes(name, (RAW / name).read_bytes())
    assert doc.text == raw_texts[name] and doc.warnings == []
    assert doc.garbled_share < corpus.GARBLED_SHARE / 10


@pytest.mark.parametrize("name", list(unseen_texts()))
def test_unseen_reports_are_not_garbled(name):
    data = unseen_texts()[name]
    doc = corpus.read_bytes(name, data)
    assert mojibake_reasons(doc) == [] and {severity for _, severity, _ in doc.warnings} <= {"info"}
    assert doc.garbled_share < corpus.GARBLED_SHARE / 10
    if name.endswith(".txt"):
        assert doc.text == corpus.to_simplified(corpus.decode_bytes(data)[0])[0]
    # The report copied in traditional characters is traditional, not garbled.
    assert doc.converted_traditional == ("traditional" in name)


def test_lost_bytes_are_measured_and_left_unconverted(raw_texts):
    """The usual web garbling: UTF-8 read as GBK with every undecodable byte replaced."""
    name = "002_85a6f3b4405b5e46.txt"
    garbled = raw_texts[name].encode("utf-8").decode("gbk", errors="replace")
    doc = corpus.read_bytes(name, garbled.encode("utf-8"))
    assert not doc.converted_traditional
    assert doc.garbled_share > 0.3
    warning = [reason for _, severity, reason in doc.warnings if severity == "warning"]
    assert len(warning) == 1 and f"{doc.garbled_share:.1%}" in warning[0] and "cannot be repaired" in warning[0]
    # Kept: the garbled lines as they were, the few lines without a lost byte restored.
    original, kept = raw_texts[name].split("\n"), doc.text.split("\n")
    assert len(kept) == len(original)
    assert all(line in (before, after) for line, before, after in zip(kept, garbled.split("\n"), original))


def test_kunjinkao_file_is_warned_and_the_folder_processed(tmp_path, raw_texts):
    folder = tmp_path / "reports"
    folder.mkdir()
    good, bad = REPORT_FILES[1], REPORT_FILES[3]
    shutil.copy(RAW / good, folder / good)
    # GBK bytes read as UTF-8 (each lost byte U+FFFD), saved, then read as GBK: 锟斤拷.
    lost = gbk_safe(raw_texts[bad]).encode("gbk").decode("utf-8", errors="replace")
    (folder / "kunjinkao.txt").write_bytes(lost.encode("utf-8").decode("gbk", errors="replace").encode("utf-8"))
    result = pipeline.build_corpus(folder, manifest=False)
    warnings = result.warnings[result.warnings["severity"] == "warning"]
    assert list(warnings["file"]) == ["kunjinkao.txt"]
    assert "锟斤拷" in warnings["reason"].iloc[0] and "%" in warnings["reason"].iloc[0]
    docs = result.documents.set_index("file")
    assert set(docs.index) == {good, "kunjinkao.txt"}
    assert not docs.loc["kunjinkao.txt", "converted_traditional"]
    assert docs.loc["kunjinkao.txt", "garbled_share"] > 0.5 and docs.loc[good, "garbled_share"] == 0
    assert docs.loc[good, "province"] == "山西省" and docs.loc[good, "city"] == "阳泉市"


# Clauses that charset-normalizer, given them alone in GBK, reads as UTF-16 or Korean cp949.
@pytest.mark.parametrize("sentence", ["现将有关情况报告如下:\n", "筑牢经济基础“支撑点”。", "抓实人大监督“关键点”。",
                                      "1.坚持法治引领。"])
def test_short_gbk_file_is_read_as_chinese(raw_texts, sentence):
    assert sentence in "\n".join(raw_texts.values())
    assert corpus.decode_bytes(sentence.encode("gbk"))[:2] == (sentence, "gb18030")


def test_web_page_declaring_a_wrong_charset_is_read_right(raw_texts):
    name = "002_85a6f3b4405b5e46.txt"
    page = make_html(raw_texts[name]).replace('charset="utf-8"', 'charset="iso-8859-1"')
    doc = corpus.read_bytes(name.replace(".txt", ".html"), page.encode("utf-8"))
    assert doc.encoding == "utf_8" and mojibake_reasons(doc) == []
    assert cleaned(doc.text) == cleaned(raw_texts[name])


@pytest.mark.parametrize("text, share", [
    ("行政复议案件锟斤拷锟斤拷", 6 / 12),  # 锟斤拷 is made of ordinary characters, yet counts as lost
    ("行政复议案件\ufffd\ufffd", 2 / 8),
    ("行政复议案件12件", 0.0),
])
def test_garbled_share_counts_lost_bytes(text, share):
    assert corpus.garbled_share(text) == pytest.approx(share)
