"""Reading: every encoding and format built from the sample reports yields the same cleaned text
as the UTF-8 original (PDF: the same sentences); bad files give their warning, the rest is read."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

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
