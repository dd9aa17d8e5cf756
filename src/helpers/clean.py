"""Cleaning of report text: named steps, each counted, applied in a fixed order.

Steps (``STEPS``, in order):

``lookalikes``
    Unicode NFKC on compatibility ideographs and Kangxi radicals, plus the mapping in
    ``data/lookalikes.tsv`` for what NFKC leaves alone (CJK Radicals Supplement: ⻄ → 西).
``fullwidth``
    Full-width digits and Latin letters become ASCII (２０２２ → 2022, ＡＢＣ → ABC).
``whitespace``
    Non-breaking, ideographic and zero-width spaces, tabs and indentation removed or made plain;
    runs of spaces collapsed; spaces between two Chinese characters dropped; blank lines removed
    (paragraph breaks are then single line breaks).
``punctuation``
    One form, described below.
``chrome``
    Page chrome dropped (``data/chrome.yaml``): breadcrumbs (当前位置), 打印/关闭, 相关附件,
    相关信息, page numbers. Publication lines (发布日期/来源) and the closing signature, date
    and disclosure note are removed from the text but kept in ``CleanResult.metadata``.
``line_joins``
    A line break inside a word, number or sentence is removed (全区工 / 作规划计划); a break after
    sentence-final punctuation, after a heading or a title line, or before a heading stays.

The punctuation form
    Chinese text uses full-width punctuation: ， 。 ： ； （ ） ？ ！ and curly quotes “ ” ‘ ’.
    ASCII , : ; ( ) ? ! and straight double quotes become full-width when they stand in Chinese
    context (a Chinese character, a full-width sign or a line edge beside them). Numbers stay
    ASCII and intact: digits, the decimal point (18.3%), the percent sign (NFKC makes ％ into %),
    hyphens in ranges and dates (2021-2025, 2023-03-14), colons in times (14:50) and thousands
    separators (18,032). A full stop "." ending Chinese text becomes 。; list markers (1.) keep
    their ASCII point. Dashes (—) and the middle dot (·) are left as they are. Text between
    ASCII letters (f(x), ISO 9001, a URL) is left alone.

Every document gets the same form, so sentences compare equal whatever the source format.

>>> result = clean_text("发布日期:2023-03-14 来源:区司法局\\n2024年收到行政复议案件114宗,纠错率18.3%,\\n较上年下降")
>>> result.text
'2024年收到行政复议案件114宗，纠错率18.3%，较上年下降'
>>> result.metadata["published"], result.counts["line_joins"]
('2023-03-14', 1)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from helpers import config, schema

STEPS = ("lookalikes", "fullwidth", "whitespace", "punctuation", "chrome", "line_joins")

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width signs that count as Chinese context for the punctuation rule.
FULLWIDTH_PUNCT = "，。、：；（）？！“”‘’《》〈〉【】「」『』…—·％"
TERMINAL = "。！？；：…"
CLOSERS = "”’）》】」』"
HEADING_START = re.compile(
    r"^(第[一二三四五六七八九十百零〇两\d]+[部分章节篇]|[一二三四五六七八九十百]+(?:、|[.．](?!\d))|"
    r"[（(][一二三四五六七八九十百]+[）)]|\d{1,2}(?:、|[.．](?!\d))|[（(]\d{1,2}[）)]|[①-⑳])"
)
TITLE_LINE = re.compile(r"(报告|情况|总结|汇报)[）)]?$")


@dataclass
class CleanResult:
    """Cleaned text, how often each step changed it, and metadata captured from removed lines."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def lookalike_table() -> dict[int, str]:
    """``str.translate`` table from ``data/lookalikes.tsv`` (comment lines start with #)."""
    table = pd.read_csv(config.PACKAGE_DATA / "lookalikes.tsv", sep="\t", comment="#", dtype=str)
    return {ord(row.lookalike): row.replacement for row in table.itertuples()}


@lru_cache(maxsize=1)
def chrome_rules() -> dict:
    """The chrome configuration (``data/chrome.yaml``) with its patterns compiled."""
    raw = config.read_yaml(config.PACKAGE_DATA / "chrome.yaml")
    keys = sorted(raw["meta_keys"], key=len, reverse=True)
    key_alt = "|".join(map(re.escape, keys))
    return {
        "drop": [re.compile(p) for p in raw["drop_lines"]],
        "meta_keys": raw["meta_keys"],
        "meta_pair": re.compile(rf"({key_alt})\s*[:：]\s*(.*?)(?=\s*(?:{key_alt})\s*[:：]|$)"),
        "meta_start": re.compile(rf"^\s*(?:[【\[]\s*)?({key_alt})\s*[:：]"),
        "meta_extras": re.compile(raw["meta_line_extras"]),
        "body_suffix": re.compile(raw["signature"]["body_suffix"]),
        "max_body_chars": int(raw["signature"]["max_body_chars"]),
        "disclosure": re.compile(raw["signature"]["disclosure"]),
    }


# --------------------------------------------------------------------------- steps
def normalize_lookalikes(text: str) -> tuple[str, int]:
    """Map radicals and compatibility ideographs to ordinary characters; return (text, changed).

    >>> normalize_lookalikes("广⻄壮族自治区")
    ('广西壮族自治区', 1)
    """
    table = lookalike_table()
    changed = 0

    def replace(match: re.Match) -> str:
        nonlocal changed
        ch = match.group(0)
        new = table.get(ord(ch)) or unicodedata.normalize("NFKC", ch)
        changed += new != ch
        return new

    # Only the characters that can change are visited (most reports have none).
    return _lookalike_pattern().sub(replace, text), changed


# Kangxi radicals, CJK compatibility ideographs and their supplement: NFKC maps them.
_COMPATIBILITY_RANGES = "\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f"


@lru_cache(maxsize=1)
def _lookalike_pattern() -> re.Pattern:
    listed = "".join(re.escape(chr(cp)) for cp in lookalike_table())
    return re.compile(f"[{listed}{_COMPATIBILITY_RANGES}]")


def normalize_fullwidth(text: str) -> tuple[str, int]:
    """Full-width digits and Latin letters to ASCII, and a full-width hyphen or tilde between
    digits (a range: 2015－2020, 4～5) to "-" / "~"; return (text, changed).

    >>> normalize_fullwidth("受理案件３９７件，ＡＢ类")
    ('受理案件397件，AB类', 5)
    >>> normalize_fullwidth("《纲要（2015－2020年）》")
    ('《纲要（2015-2020年）》', 1)
    """
    # "．" is the full-width full stop used after list numbers and in decimals.
    changed = len(_FULLWIDTH_CHARS.findall(text))
    if changed:
        text = text.translate(_FULLWIDTH_TABLE)
    text, n = _FULLWIDTH_RANGE.subn(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return text, changed + n


_FULLWIDTH_CHARS = re.compile("[０-９Ａ-Ｚａ-ｚ％．]")
_FULLWIDTH_TABLE = {cp: unicodedata.normalize("NFKC", chr(cp))
                    for lo, hi in (("０", "９"), ("Ａ", "Ｚ"), ("ａ", "ｚ"), ("％", "％"), ("．", "．"))
                    for cp in range(ord(lo), ord(hi) + 1)}
_FULLWIDTH_RANGE = re.compile(r"(?<=\d)[－～](?=\d)")


_SPACE_CHARS = "\u00a0\u3000\u2002\u2003\u2009\u200a\u202f\u205f\t\x0b\x0c"
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CJK_GAP = re.compile(rf"(?<=[{CJK}{FULLWIDTH_PUNCT}]) +(?=[{CJK}{FULLWIDTH_PUNCT}])")


def normalize_whitespace(text: str) -> tuple[str, int]:
    """Plain spaces, no indentation or blank lines, no spaces between Chinese characters.

    >>> normalize_whitespace("\\u3000\\u3000一、总体情况\\n\\n\\xa0发布 日期")
    ('一、总体情况\\n发布日期', 7)
    """
    changed = 0
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text, n = _ZERO_WIDTH.subn("", text)
    changed += n
    for ch in _SPACE_CHARS:
        n = text.count(ch)
        if n:
            changed += n
            text = text.replace(ch, " ")
    lines = []
    for line in text.split("\n"):
        stripped = line.strip(" ")
        if stripped != line:
            changed += 1
        collapsed, n = re.subn(r" {2,}", " ", stripped)
        changed += n
        collapsed, n = _CJK_GAP.subn("", collapsed)
        changed += n
        if collapsed:
            lines.append(collapsed)
        else:
            changed += 1
    return "\n".join(lines), changed


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


_CHINESE_CONTEXT = re.compile(rf"[{CJK}{FULLWIDTH_PUNCT}]")
_CJK_CHAR = re.compile(rf"[{CJK}]")
_SENTENCE_STOP_BEFORE = re.compile(rf"[{CJK}”）》]")


def _is_chinese(ch: str | None) -> bool:
    """Chinese context: a CJK character, a full-width sign, or a line edge (None)."""
    return ch is None or bool(_CHINESE_CONTEXT.match(ch))


def _neighbours(line: str, i: int) -> tuple[str | None, str | None]:
    """Nearest non-space characters before and after position i (None at a line edge)."""
    j = i - 1
    while j >= 0 and line[j] == " ":
        j -= 1
    k = i + 1
    while k < len(line) and line[k] == " ":
        k += 1
    return (line[j] if j >= 0 else None), (line[k] if k < len(line) else None)


_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}


# The characters the punctuation rule may change; a line without any is left as it is.
_PUNCT_CANDIDATE = re.compile(r'[(),;?!:".]')
_PARENTHESIS = re.compile(r"[()（）]")
_WRAPPED_TAIL = re.compile(r"\d{0,2}")
_THOUSANDS = re.compile(r"\d{3}(?!\d)")


def _normalize_punct_line(line: str, next_line: str = "") -> tuple[str, int]:
    """One line; ``next_line`` is looked at for a number wrapped at a thousands separator."""
    if not _PUNCT_CANDIDATE.search(line):
        return line, 0
    chars = list(line)
    changed = 0
    # Parentheses go by pairs: a pair is Chinese when its content or a neighbour is Chinese,
    # or it is a list marker such as (1) at the start of a line.
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for match in _PARENTHESIS.finditer(line):
        i = match.start()
        if match.group(0) in "(（":
            stack.append(i)
        elif stack:
            pairs.append((stack.pop(), i))
    paired = set()
    for a, b in pairs:
        paired.update((a, b))
        if chars[a] == "(" or chars[b] == ")":
            inner = "".join(chars[a + 1:b])
            before, _ = _neighbours(line, a)
            _, after = _neighbours(line, b)
            chinese = (_CJK_CHAR.search(inner) or (before is not None and _is_chinese(before))
                       or (after is not None and _is_chinese(after)) or before is None)
            if chinese:
                for pos, full in ((a, "（"), (b, "）")):
                    if chars[pos] != full:
                        chars[pos] = full
                        changed += 1
    quote_open = True
    for match in _PUNCT_CANDIDATE.finditer(line):
        i = match.start()
        ch = chars[i]
        before, after = _neighbours(line, i)
        if ch in "()" and i not in paired:
            if _is_chinese(before) or _is_chinese(after):
                chars[i] = _FULL[ch]
                changed += 1
        elif ch in ",;?!:":
            rest = None  # the rest of the line, taken only when a number may be wrapped
            if ch == "," and _WRAPPED_TAIL.fullmatch(line, i + 1):
                # A number wrapped at the line end (1,3 / 20人次, a PDF copy) continues below.
                rest = line[i + 1:] + next_line
                after = rest[0] if rest else after
            if before and after and before.isdigit() and after.isdigit():
                # 18,032 and 14:50 stay ASCII; so do digits around ; ? ! (rare, e.g. codes).
                thousands = _THOUSANDS.match(rest) if rest is not None else _THOUSANDS.match(line, i + 1)
                if ch == "," and not thousands:
                    chars[i] = "，"
                    changed += 1
                continue
            if (before is not None and _ASCII_ALNUM.match(before) and after is not None
                    and _ASCII_ALNUM.match(after)):
                continue  # inside ASCII text (a URL, an English phrase)
            if _is_chinese(before) or _is_chinese(after) or (before and before.isdigit()):
                chars[i] = _FULL[ch]
                changed += 1
        elif ch == '"':
            if _CJK_CHAR.search(line):
                chars[i] = "“" if quote_open else "”"
                quote_open = not quote_open
                changed += 1
        elif ch == ".":
            # A full stop after Chinese text ends a sentence; "1." and "18.3" stay.
            if (before is not None and _SENTENCE_STOP_BEFORE.match(before)
                    and (after is None or _is_chinese(after))):
                chars[i] = "。"
                changed += 1
    return "".join(chars), changed


def normalize_punctuation(text: str) -> tuple[str, int]:
    """Bring punctuation to the module's one documented form; return (text, changed).

    >>> normalize_punctuation("纠错率18.3%,同比下降24.5%;《纲要(2021-2025年)》")
    ('纠错率18.3%，同比下降24.5%；《纲要（2021-2025年）》', 4)
    >>> normalize_punctuation("培训1,3\\n20人次,合格")
    ('培训1,3\\n20人次，合格', 1)
    """
    total = 0
    lines = []
    physical = text.split("\n")
    for k, line in enumerate(physical):
        new, n = _normalize_punct_line(line, physical[k + 1] if k + 1 < len(physical) else "")
        total += n
        lines.append(new)
    return "\n".join(lines), total


_DATE = re.compile(r"(20\d{2}|19\d{2}|二[〇○零OΟ][一二三四五六七八九〇○零OΟ]{2})\s*年\s*"
                   r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*([0-9]{1,2}|[一二三四五六七八九十]{1,3})\s*日$")


def _is_meta_line(line: str, rules: dict) -> dict[str, str] | None:
    """The fields of a publication line made only of key-value pairs, else None."""
    if not rules["meta_start"].match(line):
        return None
    remainder = rules["meta_extras"].sub(" ", line)
    found: dict[str, str] = {}
    for match in rules["meta_pair"].finditer(remainder):
        field_name = rules["meta_keys"][match.group(1)]
        found.setdefault(field_name, match.group(2))
    if not found:
        return None
    consumed = rules["meta_pair"].sub("", remainder).strip()
    return found if not consumed else None


def remove_chrome(text: str) -> tuple[str, int, dict[str, str]]:
    """Drop page chrome; return (text, lines removed, metadata captured).

    >>> text, n, meta = remove_chrome("当前位置：首页 > 政务公开\\n正文。\\n阳泉市矿区人民政府\\n2022年12月30日")
    >>> text, n, meta["signature"], meta["signed"]
    ('正文。', 3, '阳泉市矿区人民政府', '2022年12月30日')
    """
    rules = chrome_rules()
    meta: dict[str, str] = {}
    kept: list[str] = []
    removed = 0
    for line in text.split("\n"):
        if any(p.match(line) for p in rules["drop"]):
            removed += 1
            continue
        fields = _is_meta_line(line, rules)
        if fields is not None:
            for key, value in fields.items():
                meta.setdefault(key, value)
            removed += 1
            continue
        kept.append(line)
    # Closing block: scan back over at most three short lines (note, date, body).
    tail = []
    while kept and len(tail) < 4:
        line = kept[-1]
        if rules["disclosure"].match(line) and "disclosure" not in meta:
            meta["disclosure"] = line
        elif _DATE.search(line) and len(line) <= 20 and "signed" not in meta:
            meta["signed"] = line
        elif (len(line) <= rules["max_body_chars"] and rules["body_suffix"].search(line)
              and not re.search(f"[{TERMINAL}，]", line) and "signature" not in meta
              and ("signed" in meta or "disclosure" in meta)):
            meta["signature"] = line
        else:
            break
        tail.append(kept.pop())
        removed += 1
    return "\n".join(kept), removed, meta


def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip(CLOSERS)
    if stripped and stripped[-1] in TERMINAL:
        return True
    # A line closed by a bracket alone, e.g. a title ending in （2021-2025年）, is not broken.
    return False


def layout_width(lines: list[str], *, min_share: float = 0.3, min_lines: int = 5,
                 max_overflow: float = 1.5, max_overflow_share: float = 0.1) -> int | None:
    """The line width of text laid out in fixed-width lines (a PDF text layer), else None.

    Such text has many lines of (nearly) one length and hardly any longer line; web or Word
    text has one paragraph per line, so a run of equal-length headings there comes with many
    paragraphs far longer than them.
    """
    from collections import Counter

    lengths = [len(line) for line in lines if len(line) >= 10]
    if len(lengths) < min_lines:
        return None
    # Digits and Latin letters are narrower, so lengths near the width are pooled.
    counts = Counter(lengths)
    width, _ = max(counts.items(), key=lambda kv: (sum(counts[n] for n in range(kv[0] - 2, kv[0] + 1)), kv[0]))
    near = sum(counts[n] for n in range(width - 2, width + 1))
    if near < max(min_lines, min_share * len(lengths)):
        return None
    # Lines with many digits hold more characters than the width, but not many more.
    overflow = sum(1 for n in lengths if n > max_overflow * width)
    return None if overflow > max_overflow_share * len(lengths) else width


# A sentence end inside a line: the line is a paragraph even if it opens with a heading marker.
# Three or more space-separated cells: a table row (Word and web tables), never a broken line.
_TABLE_ROW = re.compile(r"\S +\S+ +\S")
_RUN_IN = re.compile(r"[。！？；][”’）》]*(?=.)")


def join_broken_lines(text: str, *, min_line_chars: int = 15) -> tuple[str, int]:
    """Rejoin lines broken inside a word, number or sentence; return (text, joins).

    A line is continued by the next one when it does not end a sentence, is at least
    ``min_line_chars`` long (shorter unpunctuated lines are headings or signatures), is not a
    heading or a title, and the next line does not start a heading. A paragraph that opens with
    a run-in heading (（四）依法化解纠纷。全县…) counts as prose, not as a heading; table rows
    (cells separated by spaces) are never joined. In text laid out
    in fixed-width lines (PDF), a heading or title that fills the whole line is continued by a
    short remainder (…第一责任人职责 / 情况), not by a full line of the next paragraph.

    >>> join_broken_lines("围绕依法治区工作总要求，将法治政府建设纳入全区工\\n作规划计划。\\n二、存在的不足")[0]
    '围绕依法治区工作总要求，将法治政府建设纳入全区工作规划计划。\\n二、存在的不足'
    """
    lines = text.split("\n")
    width = layout_width(lines)
    # Each physical line tested once (a table row has at least two spaces: most lines have none).
    table_rows = [line.count(" ") >= 2 and _TABLE_ROW.search(line) is not None for line in lines]
    out: list[str] = []
    joins = 0
    last_physical = ""  # the previous line as laid out, before any join
    for k, line in enumerate(lines):
        if out:
            prev = out[-1]
            full_line = width is not None and len(last_physical) >= width - 2
            marked = bool(HEADING_START.match(prev) or TITLE_LINE.search(prev)) and not _RUN_IN.search(prev)
            remainder = full_line and len(line) < width - 2 and not _ends_sentence(line)
            table_row = table_rows[k - 1] or table_rows[k]  # the previous physical line, or this one
            if (prev and line and not _ends_sentence(prev) and len(prev) >= min_line_chars
                    and (not marked or remainder) and not HEADING_START.match(line) and not table_row):
                sep = " " if re.match(r"[A-Za-z]", prev[-1]) and re.match(r"[A-Za-z]", line[0]) else ""
                out[-1] = prev + sep + line
                joins += 1
                last_physical = line
                continue
        out.append(line)
        last_physical = line
    return "\n".join(out), joins


# --------------------------------------------------------------------------- driver
def clean_text(text: str, *, steps: list[str] | tuple[str, ...] | None = None) -> CleanResult:
    """Apply the cleaning ``steps`` (None = all of ``STEPS``, always in ``STEPS`` order).

    >>> r = clean_text("一、主要举措和成效\\n（一）强化学习。累计培训１２００余人")
    >>> r.text, r.counts["fullwidth"]
    ('一、主要举措和成效\\n（一）强化学习。累计培训1200余人', 4)
    """
    wanted = STEPS if steps is None else tuple(steps)
    unknown = set(wanted) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown cleaning steps {sorted(unknown)}; known: {list(STEPS)}")
    counts: dict[str, int] = {}
    metadata: dict[str, str] = {}
    for step in STEPS:
        if step not in wanted:
            continue
        if step == "lookalikes":
            text, counts[step] = normalize_lookalikes(text)
        elif step == "fullwidth":
            text, counts[step] = normalize_fullwidth(text)
        elif step == "whitespace":
            text, counts[step] = normalize_whitespace(text)
        elif step == "punctuation":
            text, counts[step] = normalize_punctuation(text)
        elif step == "chrome":
            text, counts[step], metadata = remove_chrome(text)
        elif step == "line_joins":
            text, counts[step] = join_broken_lines(text)
    return CleanResult(text=text.strip("\n"), counts=counts, metadata=metadata)


def cleaning_log(results: dict[str, CleanResult], *, files: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (document, step) with how often the step changed that document.

    >>> cleaning_log({"d1": clean_text("a\\u00a0b")}).query("step == 'whitespace'")["count"].item()
    1
    """
    return schema.frame_from_columns(cleaning_log_columns(results, files=files))


def cleaning_log_columns(results: dict[str, CleanResult], *, files: dict[str, str] | None = None
                         ) -> dict[str, list]:
    """:func:`cleaning_log` as lists, one per column."""
    rows = [
        (doc_id, (files or {}).get(doc_id, ""), step, int(count))
        for doc_id, result in results.items()
        for step, count in result.counts.items()
    ]
    values = list(map(list, zip(*rows))) if rows else [[], [], [], []]
    return dict(zip(schema.CLEANING_LOG, values))


def before_after(text: str, *, steps: list[str] | tuple[str, ...] | None = None, around: str = "",
                 width: int = 120) -> pd.DataFrame:
    """An excerpt of ``text`` after each cleaning step in turn (first row: the raw text).

    ``around``: a few characters to centre the excerpt on (searched with line breaks ignored);
    '' = the start of the text. Line breaks show as ⏎ so they can be seen.

    >>> before_after("纳入全区工\\n作规划计划,做到同部署。", steps=["punctuation"], width=20)["excerpt"].tolist()
    ['纳入全区工⏎作规划计划,做到同部署。', '纳入全区工⏎作规划计划，做到同部署。']
    """
    wanted = STEPS if steps is None else tuple(steps)
    rows = []

    def excerpt(current: str) -> str:
        start = 0
        if around:
            flat = current.replace("\n", "")
            hit = flat.find(around.replace("\n", ""))
            if hit >= 0:
                # Map the position in the flattened text back to the text with line breaks.
                seen = 0
                for i, ch in enumerate(current):
                    if seen == hit:
                        start = i
                        break
                    if ch != "\n":
                        seen += 1
                start = max(0, start - width // 3)
        return current[start:start + width].replace("\n", "⏎")

    rows.append({"after_step": "(raw)", "excerpt": excerpt(text)})
    for step in STEPS:
        if step in wanted:
            text = clean_text(text, steps=[step]).text
            rows.append({"after_step": step, "excerpt": excerpt(text)})
    return pd.DataFrame(rows)
