"""Headings, sections and sentences of a cleaned report.

Headings are recognised by their marker at the start of a line — 第一部分 / 一、 / （一） / 1. /
（1） / ① — and inline ordinals 一是 … 二是 inside a paragraph. Levels are not fixed per marker:
the first marker family met in a report is level 1, the next new family level 2, and so on, so a
report that starts with 第一部分 has 一、 at level 2. Inline ordinals sit one level below the
heading they appear under: they form the deepest level of the report.

Each top-level section gets a type (``schema.SECTION_TYPES``) from the rules in
``data/section_types.yaml``. Spans index the cleaned text exactly: ``text[start:end] == row.text``.

>>> text = "一、主要举措和成效\\n（一）强化学习。一是学法。二是普法。\\n二、存在的不足\\n人员不足。"
>>> sections(text, doc_id="d")[["level", "number", "heading", "section_type"]].values.tolist()[:3]
[[0, '', '', 'other'], [1, '1', '主要举措和成效', 'results'], [2, '1', '强化学习', 'results']]
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from helpers import config, schema

CN_NUM = "一二三四五六七八九十百零〇两"
# (family, regex). The regex matches a marker at the start of a line; group "n" is the numeral.
MARKERS = [
    ("part", re.compile(rf"^第(?P<n>[{CN_NUM}\d]+)(?:部分|章|篇)[、，：:\s]*")),
    ("cn", re.compile(rf"^(?P<n>[{CN_NUM}]{{1,3}})(?:、|[．.](?!\d))\s*")),
    ("cn_paren", re.compile(rf"^[（(](?P<n>[{CN_NUM}]{{1,3}})[）)][、．.]?\s*")),
    ("arabic", re.compile(r"^(?P<n>\d{1,2})(?:、|[.．](?!\d))\s*")),
    ("arabic_paren", re.compile(r"^[（(](?P<n>\d{1,2})[）)][、．.]?\s*")),
    ("circled", re.compile(r"^(?P<n>[①-⑳])\s*")),
]
INLINE = re.compile(rf"(?:(?<=^)|(?<=[。；！？\n]))(?P<marker>(?P<n>[{CN_NUM}]{{1,3}})(?:是|要|)(?=[^{CN_NUM}]))")
INLINE_FAMILY = "inline"
# The marker of an inline ordinal (一 / 一是 / 二要): it opens a sentence of prose, not a heading line.
_INLINE_MARKER = re.compile(rf"[{CN_NUM}]{{1,3}}[是要]?")
# A heading line longer than this is a paragraph that starts with a marker: its heading is the
# part before the first sentence end.
MAX_HEADING_CHARS = 60
SENTENCE_END = re.compile(r"[。！？；]+[”’」』）)]*|\n")


@lru_cache(maxsize=4096)  # a report repeats the same few numerals; cn2an is slow
def to_int(numeral: str) -> int | None:
    """'十一' -> 11, '3' -> 3, '②' -> 2 (cn2an for Chinese numerals).

    >>> to_int("十二"), to_int("7"), to_int("③")
    (12, 7, 3)
    """
    import cn2an

    if numeral.isdigit() and numeral.isascii():
        return int(numeral)
    if "①" <= numeral <= "⑳":
        return ord(numeral) - ord("①") + 1
    try:
        return int(cn2an.cn2an(numeral, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


@lru_cache(maxsize=1)
def section_type_rules() -> tuple[list[tuple[str, re.Pattern]], str, str]:
    raw = config.read_yaml(config.PACKAGE_DATA / "section_types.yaml")
    rules = [(r["type"], re.compile(r["pattern"])) for r in raw["rules"]]
    return rules, raw["unmatched_before_shortcomings"], raw["unmatched_after"]


def classify_heading(heading: str) -> str | None:
    """Type of a top-level heading by the keyword rules, or None when no rule matches.

    >>> classify_heading("下一年度推进法治政府建设的主要安排"), classify_heading("存在的问题")
    ('plans', 'shortcomings')
    """
    rules, _, _ = section_type_rules()
    for section_type, pattern in rules:
        if pattern.search(heading):
            return section_type
    return None


def section_types(headings: list[str]) -> list[str]:
    """Types of a report's top-level headings, in order; unmatched ones go by position."""
    _, before, after = section_type_rules()
    types: list[str] = []
    seen_end = False
    for heading in headings:
        found = classify_heading(heading)
        if found in ("shortcomings", "plans"):
            seen_end = True
        types.append(found or (after if seen_end else before))
    return types


@dataclass
class Heading:
    family: str
    marker: str
    number: str
    heading: str
    start: int  # where the section starts (the marker)
    line_end: int


def _line_heading(line: str) -> tuple[str, str, str] | None:
    """(family, marker, numeral) when ``line`` starts with a heading marker."""
    for family, pattern in MARKERS:
        match = pattern.match(line)
        if match and len(line) > match.end():
            return family, match.group(0), match.group("n")
    return None


_SENTENCE_MARK = re.compile(r"[。！？；]")
# 二是 / 二要 opening a sentence: an inline run that starts with 一是 must have one after it.
_SECOND_ORDINAL = re.compile(r"(?<=[。；！？])二(?:是|要)")


def _heading_text(line: str, pos: int = 0) -> str:
    """The heading part of ``line[pos:]`` (a line after its marker): up to the first sentence end."""
    match = _SENTENCE_MARK.search(line, pos)
    head = line[pos: match.start()] if match else line[pos:]
    if len(head) > MAX_HEADING_CHARS and match is None:
        head = re.split(r"[，：]", head, maxsplit=1)[0]
    return head.strip()


def find_headings(text: str) -> list[Heading]:
    """Every heading (line markers and inline 一是 ordinals) with its position."""
    found: list[Heading] = []
    pos = 0
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        hit = _line_heading(line)
        if hit:
            family, marker, numeral = hit
            found.append(Heading(family, marker.strip(), numeral, _heading_text(line, len(marker)),
                                 line_start, line_end))
        # Inline ordinals: a run 一是 … 二是 … in order, inside this line.
        expected = 1
        last_second = None  # where the line's last 二是 starts (looked up once, at the first 一)
        for match in INLINE.finditer(line):
            value = to_int(match.group("n"))
            if value != expected:
                continue
            # 一是 must be followed by 二 somewhere, else it is ordinary prose (一要求 …).
            if expected == 1:
                if last_second is None:
                    last_second = max((m.start() for m in _SECOND_ORDINAL.finditer(line)), default=-1)
                if last_second <= match.end():
                    continue
            if not match.group("marker").endswith(("是", "要")) and expected == 1:
                continue
            found.append(Heading(INLINE_FAMILY, match.group("marker"), match.group("n"),
                                 _heading_text(line, match.end()), line_start + match.start(), line_end))
            expected += 1
    return found


def sections(text: str, *, doc_id: str) -> pd.DataFrame:
    """The section table of one cleaned report (schema.SECTIONS + ``marker``).

    A level-0 row holds the text before the first heading (title, opening paragraph).
    """
    return schema.frame_from_columns(section_columns(text, doc_id=doc_id))


def section_columns(text: str, *, doc_id: str) -> dict[str, list]:
    """:func:`sections` as lists, one per column: the pipeline joins those of a batch of
    reports and makes one table of them (pandas' cost per table paid once per batch)."""
    headings = find_headings(text)
    order: list[str] = []
    levels: list[int] = []
    parent_level_of_inline: dict[int, int] = {}
    current_line_level = 0
    for i, h in enumerate(headings):
        if h.family == INLINE_FAMILY:
            levels.append(-1)  # filled below: one below the enclosing line heading
            parent_level_of_inline[i] = current_line_level
            continue
        if h.family not in order:
            order.append(h.family)
        level = order.index(h.family) + 1
        levels.append(level)
        current_line_level = level
    # Inline ordinals are the deepest level (level 1 in a report with no line headings).
    inline_level = len(order) + 1
    for i in parent_level_of_inline:
        levels[i] = inline_level if parent_level_of_inline[i] else 1

    # Columns as plain lists, one DataFrame at the end: pandas work per row dominated the run time.
    first_start = headings[0].start if headings else len(text)
    preamble = text[:first_start].rstrip("\n")
    lv, numbers, markers, titles, st, raw_ends = [0], [""], [""], [""], [0], [len(preamble)]
    # A section ends where the next heading at its level or above starts (an inline run also at
    # its paragraph's end). Headings come in text order, so one pass with a stack of the sections
    # still open (levels increasing) finds every end.
    next_start = [len(text)] * len(headings)
    still_open: list[int] = []
    for j, h in enumerate(headings):
        while still_open and levels[still_open[-1]] >= levels[j]:
            next_start[still_open.pop()] = h.start
        still_open.append(j)
    for i, h in enumerate(headings):
        end = min(next_start[i], h.line_end) if h.family == INLINE_FAMILY else next_start[i]
        number = to_int(h.number)
        lv.append(levels[i])
        numbers.append("" if number is None else str(number))
        markers.append(h.marker)
        titles.append(h.heading)
        st.append(h.start)
        raw_ends.append(end)
    # Trim trailing line breaks and spaces so spans end on text.
    ends = []
    for start, end in zip(st, raw_ends):
        while end > start and text[end - 1] in "\n ":
            end -= 1
        ends.append(end)
    ids = [f"{doc_id}:s{i:03d}" for i in range(len(lv))]
    # Parent: the nearest earlier section with a lower level (sections start in text order, so it
    # contains this one): a stack of the sections at level 1 and below, levels increasing.
    parents = []
    chain: list[int] = []
    for i, level in enumerate(lv):
        if level <= 0:
            parents.append("")
            continue
        while chain and lv[chain[-1]] >= level:
            chain.pop()
        parents.append(ids[chain[-1]] if chain else "")
        chain.append(i)
    top_types = iter(section_types([t for level, t in zip(lv, titles) if level == 1]))
    # Lower levels inherit the type of their top-level section.
    current = "other"
    inherited = []
    for level in lv:
        if level == 1:
            current = next(top_types)
        elif level == 0:
            current = "other"
        inherited.append(current)
    return {
        "doc_id": [doc_id] * len(lv), "section_id": ids, "parent_id": parents, "level": lv,
        "number": numbers, "marker": markers, "heading": titles, "section_type": inherited,
        "text": [text[s:e] for s, e in zip(st, ends)], "start": st, "end": ends,
    }


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``: split after 。！？； (with a closing quote or bracket)
    and at line ends; surrounding spaces excluded; empty pieces dropped.

    >>> t = "共受理案件397件。纠错率18.3%！\\n二、存在的不足"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['共受理案件397件。', '纠错率18.3%！', '二、存在的不足']
    """
    spans = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        end = match.end() if match.group(0) != "\n" else match.start()
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s] in " \n":
            s += 1
        while e > s and text[e - 1] in " \n":
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def sentences(text: str, section_table: pd.DataFrame, *, doc_id: str) -> pd.DataFrame:
    """The sentence table of one cleaned report (schema.SENTENCES + ``is_heading``).

    Each sentence belongs to the deepest section that contains its start; ``section_type`` is that
    of its top-level section.
    """
    sections = {c: section_table[c].tolist() for c in _SECTION_FIELDS}
    return schema.frame_from_columns(sentence_columns(text, sections, doc_id=doc_id))


# The section columns that place a sentence (sentence_columns reads these, in this order).
_SECTION_FIELDS = ("start", "level", "end", "section_id", "section_type", "marker")


def sentence_columns(text: str, section_columns: dict[str, list], *, doc_id: str) -> dict[str, list]:
    """:func:`sentences` as lists, one per column, from the sections' columns (as
    :func:`section_columns` gives them)."""
    spans = split_sentences(text)
    # Sections by start, then level (a stable sort, as pandas sorts on several keys).
    table = [section_columns[c] for c in _SECTION_FIELDS]
    order = sorted(range(len(table[0])), key=lambda i: (table[0][i], table[1][i]))
    starts, levels, ends, section_ids, section_types, marker_list = (
        [values[i] for i in order] for values in table)
    # Line headings (not inline 一是 ordinals, which open a sentence of prose) are marked.
    line_heading_starts = {start for start, marker in zip(starts, marker_list)
                           if marker and not _INLINE_MARKER.fullmatch(marker)}
    # Each section's span, empty ones widened to one character so a sentence there finds them.
    bounds = [(start, max(end, start + 1), level) for start, end, level in zip(starts, ends, levels)]
    # One sweep over the sentences in text order: the sections begun so far in a heap, deepest
    # (then latest) first; those that ended before the sentence are dropped as they surface. A
    # sentence no section at or below the first one's level contains goes to the first (the text
    # before the first heading).
    owners = []
    begun: list[tuple[int, int, int]] = []  # (-level, -index, stop)
    floor = levels[0] if levels else 0
    k = 0
    for s, _ in spans:
        while k < len(bounds) and bounds[k][0] <= s:
            heapq.heappush(begun, (-bounds[k][2], -k, bounds[k][1]))
            k += 1
        while begun and begun[0][2] <= s:
            heapq.heappop(begun)
        owners.append(-begun[0][1] if begun and -begun[0][0] >= floor else 0)
    return {
        "doc_id": [doc_id] * len(spans), "sentence_id": [f"{doc_id}:{k:04d}" for k in range(len(spans))],
        "section_id": [section_ids[i] for i in owners], "section_type": [section_types[i] for i in owners],
        "text": [text[s:e] for s, e in spans], "start": [s for s, _ in spans], "end": [e for _, e in spans],
        "is_heading": [s in line_heading_starts for s, _ in spans],
    }
