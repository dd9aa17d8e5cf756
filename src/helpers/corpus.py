"""Reading report files of any usual format into text, with a warning for every file that fails.

Formats: ``.txt`` (encoding detected with charset-normalizer: UTF-8 with or without BOM, GBK,
GB18030, Big5 …; UTF-16 with or without BOM), ``.html``/``.htm`` (main text by trafilatura, page
navigation dropped), ``.docx`` (python-docx) and ``.pdf`` (the text layer, pypdf; an encrypted
PDF that opens without a password is decrypted). A text above ``LARGE_TEXT_BYTES`` is read with
a warning. Garbled text (mojibake: UTF-8
read as GBK or Latin-1, GBK read as Latin-1 …) is repaired where the bytes allow and measured
where they do not. Traditional characters are converted to simplified with OpenCC and the
conversion recorded.

>>> doc = read_bytes("报告.txt", "法治政府建设年度报告".encode("gb18030"))
>>> doc.text, doc.encoding
('法治政府建设年度报告', 'gb18030')
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from helpers import config

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"}
# Files in a report folder that are not reports and are skipped without a warning.
IGNORED_NAMES = {config.MANIFEST_NAME, ".DS_Store", "Thumbs.db", "desktop.ini"}
# Share of Chinese characters that OpenCC t2s must change before a text counts as traditional:
# simplified text also has a few characters t2s rewrites (著, 乾 …), traditional text has many.
TRADITIONAL_SHARE = 0.03
# Control characters (other than tab/newline/CR/FF) above this share make a file binary.
BINARY_CONTROL_SHARE = 0.05
# Garbled share (see garbled_share) from which a text counts as mojibake. The sample and unseen
# reports, simplified or traditional, score 0 (a rare character in a name adds about 0.02 %); whole
# reports misread in another encoding score 45-98 %, and 13-17 % after ftfy's partial repair of
# Windows-1252 text with lost bytes, so 1 % also flags a report of which a few paragraphs are garbled.
GARBLED_SHARE = 0.01
# A line is tried for repair from this garbled share on (a long line with a rare character in a
# name is left alone); a repair must remove at least three quarters of its garbled characters.
LINE_GARBLED_SHARE = 0.2
# Text (UTF-8 bytes) above which a file is warned about as larger than any real report: the sample
# and test reports hold 10-80 KB, the longest provincial reports a few hundred KB. It is still read.
LARGE_TEXT_BYTES = 20_000_000


@dataclass
class RawDocument:
    """One report file read into text (not yet cleaned)."""

    file: str
    format: str
    text: str
    encoding: str = ""
    converted_traditional: bool = False
    garbled_share: float = 0.0  # after repair; see garbled_share()
    sha256_raw: str = ""
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # (file, severity, reason)


class ReadError(Exception):
    """A file that cannot be read; the message is the reason shown in the warnings table."""


# --------------------------------------------------------------------------- text
# Bytes below 32 other than tab, newline, form feed and carriage return.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _looks_binary(data: bytes) -> bool:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a BOM is text
        return False
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls / max(len(sample), 1) > BINARY_CONTROL_SHARE


# UTF-16 without a BOM is told from binary by its zero bytes (the high byte of every ASCII
# character: line breaks, digits) and by reading as ordinary text in one byte order.
UTF16_SAMPLE = 8192


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf_16_le' or 'utf_16_be' when ``data`` reads as ordinary text in that byte order (few
    control characters, little garbled: see ``garbled_share``), else None. The byte order with
    more zero bytes on the high side is tried first.

    >>> _utf16_without_bom("2024年，武江区一是\\n".encode("utf-16-be")), _utf16_without_bom(bytes(range(256)))
    ('utf_16_be', None)
    """
    sample = data[:UTF16_SAMPLE]
    sample = sample[: len(sample) // 2 * 2]
    high_odd = sample[1::2].count(0) >= sample[0::2].count(0)  # little-endian: ASCII is "x\0"
    for encoding in (("utf_16_le", "utf_16_be") if high_odd else ("utf_16_be", "utf_16_le")):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError as exc:
            # Only a surrogate pair cut by the end of the sample (not of the file) is allowed.
            if len(data) <= len(sample) or exc.start < len(sample) - 2:
                continue
            text = sample[: exc.start].decode(encoding)
        if not text.strip():
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
        if controls <= BINARY_CONTROL_SHARE * len(text) and garbled_share(text) < GARBLED_SHARE:
            return encoding
    return None


def decode_bytes(data: bytes) -> tuple[str, str, list[str]]:
    """Decode text bytes; return (text, encoding, notes). Raises ``ReadError``.

    A file cut inside a multi-byte character (a truncated download) is decoded without its last
    incomplete character and noted as truncated.

    >>> decode_bytes("报告".encode("utf-8-sig"))[:2]
    ('报告', 'utf_8_sig')
    """
    from charset_normalizer import from_bytes

    if not data.strip():
        raise ReadError("empty file")
    notes: list[str] = []
    utf16 = _utf16_without_bom(data) if b"\x00" in data[:UTF16_SAMPLE] else None
    if utf16:
        used = data[: len(data) // 2 * 2]
        try:
            text = used.decode(utf16)
        except UnicodeDecodeError as exc:
            raise ReadError(f"undecodable: {utf16} text (no byte order mark) with invalid code units") from exc
        if len(used) < len(data):
            notes.append(f"truncated: the last byte is half a {utf16} character (file cut short?)")
        if not text.strip():
            raise ReadError("empty text after decoding")
        return text, utf16, notes
    if _looks_binary(data):
        raise ReadError("binary content (control bytes), not text")
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return body.decode("utf-8"), "utf_8_sig", notes
        except UnicodeDecodeError:
            pass
    try:
        # Bytes that are valid UTF-8 are UTF-8 (see below): detection would only confirm it.
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not text.strip():
            raise ReadError("empty text after decoding")
        return text, "ascii" if data.isascii() else "utf_8", notes
    used = data
    best = from_bytes(data).best()
    if best is None:
        # A multi-byte character cut at the end: retry without the last 1-3 bytes.
        for cut in (1, 2, 3):
            used = data[:-cut]
            best = from_bytes(used).best()
            if best is not None:
                notes.append(f"truncated: the last {cut} byte(s) are an incomplete "
                             f"{best.encoding} character (file cut short?)")
                break
    if best is None:
        raise ReadError("undecodable: no text encoding fits the bytes")
    encoding = best.encoding
    if encoding == "utf_8" and data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf_8_sig"
    text = str(best)
    if encoding not in ("ascii", "utf_8", "utf_8_sig"):
        try:
            # Bytes that are valid UTF-8 are UTF-8 (GBK or Big5 text almost never is), even when
            # detection prefers GB18030 for Latin-1 mojibake saved as UTF-8 (Ã¦Â³Â•, ´Ë¼þ):
            # repair_mojibake then undoes the misreading.
            text, encoding = used.decode("utf-8"), "utf_8"
        except UnicodeDecodeError:
            text, encoding = _chinese_reading(used, text, encoding)
    if not text.strip():
        raise ReadError("empty text after decoding")
    return text, encoding, notes


# Encodings tried when the detected one gives garbled text: charset-normalizer reads short GBK
# files as UTF-16 or as Korean cp949.
CHINESE_ENCODINGS = ("gb18030", "big5")


def _chinese_reading(data: bytes, text: str, encoding: str) -> tuple[str, str]:
    """(text, encoding): the detected reading, or a Chinese encoding that reads the bytes
    strictly as ordinary Chinese text when the detected reading is garbled.

    >>> _chinese_reading("法治".encode("gbk"), "핇훎", "utf_16_be")
    ('法治', 'gb18030')
    """
    if garbled_share(text) < GARBLED_SHARE:
        return text, encoding
    for candidate in CHINESE_ENCODINGS:
        try:
            decoded = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        # Only ordinary text replaces the detected reading: mojibake saved in GBK stays as
        # detected, for repair_mojibake to undo.
        if decoded.strip() and garbled_share(decoded) < GARBLED_SHARE:
            return decoded, candidate
    return text, encoding


# --------------------------------------------------------------------------- html
def html_to_text(html: str) -> str:
    """Main text of a saved web page, one paragraph per line; navigation and footer dropped.

    The page title (usually the report title, which trafilatura keeps as metadata) is put back
    as the first line. A page trafilatura finds no article in falls back to all visible text.
    (Tested on saved pages built from the sample reports in tests/test_corpus.py.)
    """
    import trafilatura

    doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=True,
                                      favor_recall=True, with_metadata=True)
    text = (doc.text if doc is not None else "") or ""
    title = (doc.title if doc is not None else "") or ""
    if text.strip():
        # Site names and section names also end up as titles: only a title absent from the
        # opening of the text is put back.
        if title.strip() and title.strip() not in text[:1000]:
            text = title.strip() + "\n" + text
        return _with_publication_line(text, trafilatura.html2txt(html) or "")
    # No article found (very short page, unusual layout): keep every visible block.
    return trafilatura.html2txt(html) or ""


def _with_publication_line(text: str, visible: str) -> str:
    """Put back the page's publication line (发布日期：… 来源：…), which trafilatura drops with
    the page furniture, as the second line, so that cleaning captures it like any web copy's.

    >>> _with_publication_line("标题\\n正文。", "首页 标题 发布日期：2025-03-28 16:20 来源：市司法局 字号：大")
    '标题\\n发布日期：2025-03-28 来源：市司法局\\n正文。'
    """
    from helpers import clean

    keys = clean.chrome_rules()["meta_keys"]

    def alternation(field_name: str) -> str:
        return "|".join(map(re.escape, sorted((k for k, f in keys.items() if f == field_name), key=len, reverse=True)))

    if re.search(rf"(?:{alternation('published')})\s*[:：]", text[:300]):
        return text
    parts = []
    date = re.search(rf"(?:{alternation('published')})\s*[:：]\s*(\d{{4}}\s*[-/.年]\s*\d{{1,2}}\s*[-/.月]\s*\d{{1,2}}日?)", visible)
    if date:
        parts.append(f"发布日期：{date.group(1)}")
    source = re.search(rf"(?:{alternation('source')})\s*[:：]\s*([^\s:：|｜]{{2,30}})", visible)
    if source and parts:
        parts.append(f"来源：{source.group(1)}")
    if not parts:
        return text
    first, _, rest = text.partition("\n")
    return f"{first}\n{' '.join(parts)}\n{rest}" if rest else f"{first}\n{' '.join(parts)}"


def _decode_html(data: bytes) -> tuple[str, str, list[str]]:
    """HTML bytes to str: the declared charset when it decodes, else detection."""
    match = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_\-]+)", data[:4096], re.I)
    if match:
        declared = match.group(1).decode("ascii").lower()
        try:
            html = data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            html = ""
        # A page saved in another encoding than it declares reads as mojibake: detect instead.
        if html and garbled_share(html) < GARBLED_SHARE:
            return html, declared.replace("-", "_"), []
    return decode_bytes(data)


# --------------------------------------------------------------------------- docx / pdf
def docx_to_text(data: bytes) -> str:
    """Paragraphs and table cells of a Word file in document order, one paragraph per line."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                lines.append(" ".join(c for c in cells if c))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def pdf_to_text(data: bytes) -> str:
    """The text layer of a PDF, page after page (scanned pages without text give nothing).

    An encrypted PDF that opens without a password (most government PDFs: an owner password
    restricts printing or copying, the user password is empty) is decrypted with the empty
    password; AES needs ``cryptography``. One that needs a password raises ``ReadError``.
    """
    import logging

    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise ReadError("encrypted PDF that needs a password to open")
        return "\n".join((page.extract_text() or "") for page in reader.pages)
    except DependencyError as exc:
        raise ReadError(f"encrypted PDF that cannot be decrypted here ({exc}; install cryptography)") from exc


# --------------------------------------------------------------------------- mojibake
# Misreadings undone by a strict round trip: (codec the text was wrongly decoded with, codec its
# bytes were written in, what the repair says). UTF-8 read as Latin-1 or Windows-1252 is left to
# ftfy, which also handles the bytes Windows-1252 leaves undefined.
MISREADINGS = (
    ("gbk", "utf-8", "UTF-8 text that had been read as GBK"),
    ("gb18030", "utf-8", "UTF-8 text that had been read as GB18030"),
    ("big5", "utf-8", "UTF-8 text that had been read as Big5"),
    # Most such text reads the same either way, hence one description for both.
    ("sloppy-windows-1252", "gb18030", "GBK text that had been read as Windows-1252 or Latin-1"),
    ("latin-1", "gb18030", "GBK text that had been read as Windows-1252 or Latin-1"),
    ("sloppy-windows-1252", "big5", "Big5 text that had been read as Windows-1252 or Latin-1"),
    ("latin-1", "big5", "Big5 text that had been read as Windows-1252 or Latin-1"),
)
# How ftfy names the codecs it re-encodes with.
FTFY_CODECS = {"latin-1": "Latin-1", "sloppy-windows-1252": "Windows-1252", "windows-1252": "Windows-1252",
               "sloppy-windows-1251": "Windows-1251", "macroman": "MacRoman", "cp437": "cp437"}
# U+FFFD's UTF-8 bytes read as GBK: three common characters, so counted apart.
KUNJINKAO = "锟斤拷"
# Blocks of ordinary text that GB2312 lacks in Python's mapping (— · ⑪ ★ …): general punctuation
# to miscellaneous symbols, CJK radicals (look-alikes from PDFs, mapped by cleaning), CJK
# symbols and punctuation, half- and full-width forms.
ORDINARY_BLOCKS = ((0x2000, 0x2BFF), (0x2E80, 0x2FDF), (0x3000, 0x303F), (0xFF00, 0xFFEF))


@lru_cache(maxsize=65536)
def _ordinary(ch: str) -> bool:
    """A character of ordinary Chinese text: a Han character (or other letter) in GB2312, the
    6,763 common characters, itself, after NFKC or as a traditional form (OpenCC t2s); a symbol
    GBK has (· ×) or one of the punctuation blocks."""
    if ch.isascii() or ch.isspace() or any(lo <= ord(ch) <= hi for lo, hi in ORDINARY_BLOCKS):
        return True
    charset = "gb2312" if unicodedata.category(ch) == "Lo" else "gbk"
    for form in dict.fromkeys((ch, unicodedata.normalize("NFKC", ch), _t2s().convert(ch))):
        try:
            form.encode(charset)
            return True
        except UnicodeEncodeError:
            pass
    return False


# Characters already found ordinary: most texts hold none outside it, and a set difference
# (one C call) says so without a look at each character.
_SEEN_ORDINARY: set[str] = set()


def _has_garbled(text: str) -> bool:
    """Whether ``text`` holds any character ordinary Chinese text does not have, or 锟斤拷 (made
    of ordinary characters, so looked for as such)."""
    found = KUNJINKAO in text
    for ch in set(text) - _SEEN_ORDINARY:
        if ch.isascii() or ch.isspace() or _ordinary(ch):
            _SEEN_ORDINARY.add(ch)
        else:
            found = True
    return found


def _garbled_counts(text: str) -> tuple[int, int]:
    """(garbled characters, non-ASCII non-space characters) of a text."""
    garbled = counted = 0
    for ch, n in Counter(text).items():
        if not (ch.isascii() or ch.isspace()):
            counted += n
            garbled += 0 if _ordinary(ch) else n
    return garbled + len(KUNJINKAO) * text.count(KUNJINKAO), counted


def garbled_share(text: str) -> float:
    """Share of a text's non-ASCII characters that ordinary Chinese text does not have:
    replacement characters (U+FFFD, 锟斤拷) and characters outside GB2312 and its traditional
    forms, of which mojibake is mostly made.

    >>> garbled_share("法治政府建設年度報告")
    0.0
    >>> garbled_share("娉曟不鏀垮簻寤鸿�惧勾搴︽姤鍛�")  # 法治政府建设年度报告: UTF-8 read as GBK
    0.375
    """
    if not _has_garbled(text):
        return 0.0
    garbled, counted = _garbled_counts(text)
    return garbled / counted if counted else 0.0


def repair_mojibake(text: str) -> tuple[str, dict[str, int]]:
    """Garbled lines restored where re-encoding them undoes the misreading; return
    (text, {what was repaired: lines}). Lines with lost bytes (U+FFFD, 锟斤拷) stay as they are.

    >>> repair_mojibake("娉曟不鏀垮簻")
    ('法治政府', {'UTF-8 text that had been read as GBK': 1})
    >>> repair_mojibake("æ³•æ²»æ”¿åºœ")
    ('法治政府', {'UTF-8 text that had been read as Windows-1252': 1})
    """
    repairs: dict[str, int] = {}
    if not _has_garbled(text):
        return text, repairs
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not _has_garbled(line):
            continue
        garbled, counted = _garbled_counts(line)
        if not garbled or garbled < LINE_GARBLED_SHARE * counted:
            continue
        fixed, how = _repair_line(line, garbled)
        if how:
            lines[i] = fixed
            repairs[how] = repairs.get(how, 0) + 1
    return "\n".join(lines), repairs


def _repair_line(line: str, garbled: int) -> tuple[str, str]:
    """(line, what was repaired): the reading that leaves the fewest garbled characters, if it
    leaves at most a quarter of them; else (line, "")."""
    import ftfy
    import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252)

    candidates = []
    fixed = ftfy.fix_encoding_and_explain(line)
    encodes = [codec for step, codec in fixed.explanation or [] if step == "encode"]
    if encodes and fixed.text != line:
        read_as = " then ".join(FTFY_CODECS.get(codec, codec) for codec in encodes)
        candidates.append((fixed.text, f"UTF-8 text that had been read as {read_as}"))
    # Lost bytes leave nothing to round-trip (and ftfy's sloppy codec writes U+FFFD as 0x1A).
    for wrong, right, description in MISREADINGS if "\ufffd" not in line else ():
        try:
            candidates.append((line.encode(wrong).decode(right), description))
        except UnicodeError:
            continue
    best, how, fewest = line, "", garbled // 4 + 1
    for candidate, description in candidates:
        left = _garbled_counts(candidate)[0]
        if left < fewest:
            best, how, fewest = candidate, description, left
    return best, how


# --------------------------------------------------------------------------- traditional
# Occurrences of Taiwan-usage words (data/taiwan_phrases.tsv, evidence=yes) that make a report
# Taiwan usage, so that its Taiwan words are turned into mainland ones too.
TAIWAN_MIN_HITS = 2


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def taiwan_phrases() -> dict[str, tuple[str, bool]]:
    """``data/taiwan_phrases.tsv``: Taiwan word -> (mainland word, counts as evidence), longest first."""
    import pandas as pd

    table = pd.read_csv(config.PACKAGE_DATA / "taiwan_phrases.tsv", sep="\t", comment="#", dtype=str)
    rows = sorted(table.itertuples(index=False), key=lambda r: -len(r.taiwan))
    return {r.taiwan: (r.mainland, r.evidence.strip().lower() == "yes") for r in rows}


def mainland_words(simplified: str, *, min_hits: int = TAIWAN_MIN_HITS) -> tuple[str, int]:
    """Taiwan words of a converted report replaced by mainland ones, when the report uses
    enough of them to count as Taiwan usage; return (text, replacements).

    >>> mainland_words("加强政务资讯公开，稽核规范性档案")
    ('加强政务信息公开，审核规范性文件', 3)
    >>> mainland_words("加强档案管理")
    ('加强档案管理', 0)
    """
    table = taiwan_phrases()
    hits = sum(simplified.count(word) for word, (_, evidence) in table.items() if evidence)
    if hits < min_hits:
        return simplified, 0
    pattern = re.compile("|".join(map(re.escape, table)))
    return pattern.subn(lambda m: table[m.group(0)][0], simplified)


def to_simplified(text: str, *, min_share: float = TRADITIONAL_SHARE) -> tuple[str, bool]:
    """Convert traditional-character text to simplified; return (text, converted).

    Text that is already simplified is returned unchanged. In text written in Taiwan usage
    the Taiwan words are replaced by mainland ones too (:func:`mainland_words`).

    >>> to_simplified("法治政府建設年度報告")
    ('法治政府建设年度报告', True)
    >>> to_simplified("法治政府建设年度报告")
    ('法治政府建设年度报告', False)
    """
    text, converted, _ = _simplify(text, min_share=min_share)
    return text, converted


def _simplify(text: str, *, min_share: float = TRADITIONAL_SHARE) -> tuple[str, bool, int]:
    """(text, converted, Taiwan words replaced) for :func:`to_simplified`."""
    converted = _t2s().convert(text)
    if converted == text:
        return text, False, 0
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") or 1
    changed = sum(1 for a, b in zip(text, converted) if a != b) if len(converted) == len(text) else han
    if changed / han < min_share:
        return text, False, 0
    converted, taiwan = mainland_words(converted)
    return converted, True, taiwan


# --------------------------------------------------------------------------- files
def read_bytes(name: str, data: bytes) -> RawDocument:
    """Read one file's bytes by the suffix of ``name``. Raises ``ReadError`` with the reason."""
    import hashlib

    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ReadError(f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(sorted(SUFFIXES))})")
    if not data.strip():
        raise ReadError("empty file")
    encoding = ""
    notes: list[str] = []
    if suffix in TEXT_SUFFIXES:
        fmt = "txt"
        text, encoding, notes = decode_bytes(data)
    elif suffix in HTML_SUFFIXES:
        fmt = "html"
        html, encoding, notes = _decode_html(data)
        text = html_to_text(html)
    elif suffix == ".docx":
        fmt = "docx"
        try:
            text = docx_to_text(data)
        except Exception as exc:  # python-docx raises several types for a broken package
            raise ReadError(f"not a readable Word .docx file ({type(exc).__name__}: {exc})") from exc
    else:
        fmt = "pdf"
        try:
            text = pdf_to_text(data)
        except ReadError:
            raise
        except Exception as exc:  # pypdf raises several types for a broken file
            raise ReadError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if not text.strip():
        reason = "no text layer (scanned PDF? needs OCR)" if fmt == "pdf" else "no text found"
        raise ReadError(reason)
    warnings = [(name, "warning", note) for note in notes]
    size = len(text.encode("utf-8")) if len(text) > LARGE_TEXT_BYTES // 4 else 0
    if size > LARGE_TEXT_BYTES:
        warnings.append((name, "warning", f"{size / 1e6:.0f} MB of text, more than any real report "
                         f"({LARGE_TEXT_BYTES / 1e6:.0f} MB; several reports in one file?); processed as one report"))
    share = 0.0
    if _has_garbled(text):  # most files: nothing to repair or measure
        text, repairs = repair_mojibake(text)
        for how, lines in repairs.items():
            warnings.append((name, "info", f"mojibake repaired: {how} ({lines} line{'s' if lines > 1 else ''})"))
        share = garbled_share(text)
    converted = False
    if share >= GARBLED_SHARE:
        # Converting garbage would count as "traditional" and hide the damage.
        warnings.append((name, "warning", f"garbled text (mojibake) that cannot be repaired: {share:.1%} of the "
                         "characters are replacement characters (U+FFFD, 锟斤拷) or outside common Chinese "
                         "text (bytes lost, or an unknown misreading); kept as it is, without "
                         "traditional-character conversion"))
    else:
        lost = text.count("\ufffd") + text.count(KUNJINKAO)
        if lost:
            warnings.append((name, "info", f"{lost} replacement character{'s' if lost > 1 else ''} "
                             "(U+FFFD, 锟斤拷): bytes lost before the file was saved"))
        text, converted, taiwan = _simplify(text)
        if converted:
            warnings.append((name, "info", "traditional characters converted to simplified (OpenCC t2s"
                             + (f"; {taiwan} Taiwan words made mainland ones)" if taiwan else ")")))
    return RawDocument(file=name, format=fmt, text=text, encoding=encoding,
                       converted_traditional=converted, garbled_share=round(share, 4),
                       sha256_raw=hashlib.sha256(data).hexdigest(), warnings=warnings)


# A report has some hundreds of characters of Chinese text at the least: below these it is a stub
# or a page in another language, still processed, but said.
MIN_REPORT_CHARS = 200
MIN_CHINESE_SHARE = 0.3


def content_problems(text: str) -> list[str]:
    """Why a readable text may not be a report: only a title or a stub, or mostly not Chinese.

    >>> content_problems("某县人民政府2023年法治政府建设年度报告")
    ['only 20 characters of text: a title or a stub, not a whole report']
    """
    letters = [ch for ch in text if ch.isalpha()]
    chinese = sum("\u4e00" <= ch <= "\u9fff" for ch in letters)
    problems = []
    if len(text.strip()) < MIN_REPORT_CHARS:
        problems.append(f"only {len(text.strip())} characters of text: a title or a stub, not a whole report")
    if letters and chinese / len(letters) < MIN_CHINESE_SHARE:
        problems.append(f"mostly not Chinese ({chinese / len(letters):.0%} of its letters are Chinese "
                        "characters): the analyses are made for Chinese reports")
    return problems


def _walk(root: Path):
    """(folder, file names, linked sub-folders) under ``root``, following linked folders once each
    (a link back up the tree is not followed again)."""
    import os

    seen: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield Path(folder), names, [d for d in dirs if (Path(folder) / d).is_symlink()]


def list_files(raw_dir: str | Path) -> list[Path]:
    """Every candidate report file in ``raw_dir`` (recursively, linked folders followed), sorted;
    the manifest and hidden files are left out. Unsupported types are listed so that they get a
    warning; a link to nothing is not a file (:func:`link_warnings` names it)."""
    root = Path(raw_dir)
    return sorted(
        folder / name for folder, names, _ in _walk(root) for name in names
        if name not in IGNORED_NAMES and not name.startswith(".") and (folder / name).is_file()
    )


def link_warnings(raw_dir: str | Path) -> list[tuple[str, str, str]]:
    """Warnings for the links of ``raw_dir``: a link to a file or folder that does not exist (not
    read), and a linked folder (read, said so that a researcher knows where reports came from)."""
    root = Path(raw_dir)
    found = []
    for folder, names, linked in _walk(root):
        for name in names:
            path = folder / name
            if path.is_symlink() and not path.exists():
                found.append((path.relative_to(root).as_posix(), "warning",
                              "a link to a file that does not exist: not read"))
        for name in linked:
            path = folder / name
            found.append((path.relative_to(root).as_posix(), "info", f"a linked folder ({path.resolve()}): read"))
    return found


def read_file(path: str | Path, *, root: str | Path | None = None) -> tuple[RawDocument | None, list[tuple[str, str, str]]]:
    """Read one file; return (document or None, warnings). Never raises for bad content.

    The file is named relative to ``root`` in the document and the warnings.
    """
    path = Path(path)
    name = path.relative_to(root).as_posix() if root else path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [(name, "error", f"cannot open: {exc.strerror or exc}")]
    try:
        doc = read_bytes(name, data)
    except ReadError as exc:
        return None, [(name, "error", str(exc))]
    return doc, list(doc.warnings)
