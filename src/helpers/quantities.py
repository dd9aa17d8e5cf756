"""Quantity mentions in report sentences: value (scale words applied), unit, approximation, kind,
the object counted, and the exact span.

What counts as a unit, an approximation, a change, and which digits are not quantities (dates,
years, titles, slogans, list markers, ordinals, party congresses) is data:
``helpers/data/quantity_rules.yaml``.

>>> [(m.value, m.unit, m.object) for m in find_quantities("2024年收到行政复议案件114宗,同比增长29.5%")]
[(114.0, '宗', '行政复议案件'), (29.5, '%', '行政复议案件')]
>>> find_quantities("累计培训1200余人")[0].approx
True
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import config, schema

RULES_PATH = config.PACKAGE_DATA / "quantity_rules.yaml"

# Columns added to schema.QUANTITIES by this module.
# column: the header of the table column a mention stands in ("2024年"), empty in prose.
# period: how often a `frequency` mention recurs, as written after 每 (季度, 月, 年, 半年, 两个月), also
# for a count per period (每年培训1200人); per_unit: the number is what each unit has (各配备1名,
# 每个村配备1名), not a total; scope: the field a `rank` mention ranks in (全市, 全省).
EXTRA_COLUMNS = ["mention", "approx_marker", "direction", "quote_start", "quote_end", "column",
                 "period", "per_unit", "scope"]

_DIGITS = r"[0-9０-９]"
_ARABIC = rf"{_DIGITS}{{1,3}}(?:[,，]{_DIGITS}{{3}})+(?!{_DIGITS})(?:[.．]{_DIGITS}+)?|{_DIGITS}+(?:[.．]{_DIGITS}+)?"
_FRACTION = rf"{_DIGITS}+\s*/\s*{_DIGITS}+"
_CN = r"[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*(?:点[零〇一二三四五六七八九]+)?"
_CN_PERCENT = r"百分之[零〇一二两三四五六七八九十百点]+"
_BARE_SCALE = r"(?:万亿|百万|千万|百|千|万|亿)"
_SCALE = r"(?:万亿|千万|百万|亿|万|千)"
_RANGE_SEP = r"\s*[—–\-~～至到]\s*"
_DIGIT_FIRST = re.compile(_DIGITS)
# A three-digit group starting with 0, and the space-separated groups before it (1 024 000件).
_ZERO_GROUP = re.compile(r"0[0-9]{2}")
_SPACED_GROUPS = re.compile(r"(?<![\d.,，])([0-9]{1,3}(?:[ \u00a0\u2009\u202f][0-9]{3})*)[ \u00a0\u2009\u202f]$")
_SCALES = {"万亿": 1e12, "千万": 1e7, "百万": 1e6, "亿": 1e8, "万": 1e4, "千": 1e3, "百": 1e2}
_CLAUSE_BREAK = "，,；;。！？!?：:（）()[]【】\n\r"


@dataclass(frozen=True)
class Rules:
    """Compiled form of quantity_rules.yaml."""

    units: dict  # name -> {"kind", "not_before" (regex|None), "only_before" (regex|None), "approx"}
    unit_pattern: str
    one_counts_for_kinds: frozenset
    allow_scale_without_unit: bool
    approx_before: tuple  # longest first
    approx_after_number: tuple
    approx_after_unit: tuple
    bare_scale_after: tuple
    change_immediate: tuple
    change_not_followed_by_level: tuple
    change_clause: tuple
    change_down: tuple
    change_verb_gap: int
    rate_endings: tuple
    result_complements: tuple
    agent_verbs: frozenset
    one_not_after: str
    linking_words: tuple
    subset_words: tuple
    no_object_after: tuple
    object_after_skip: tuple
    event_verbs: tuple
    predicate_units: frozenset
    noun_suffixes: frozenset
    nouns: frozenset
    max_object_chars: int
    not_quantities: tuple  # (name, compiled pattern)
    not_quantity_gates: tuple  # per pattern: the characters a match can start with (_first_chars), or None
    mention: re.Pattern = field(repr=False)
    mention_start: re.Pattern | None = field(default=None, repr=False)  # where a mention can begin
    not_quantity_scan: "_MaskScanner | None" = field(default=None, repr=False)  # all of them in one pass
    frequency_period: re.Pattern | None = field(default=None, repr=False)
    frequency_units: frozenset = frozenset()
    frequency_gap: int = 0
    per_unit_before: tuple = ()  # compiled patterns
    per_unit_not_with: tuple = ()
    per_unit_kinds: frozenset = frozenset()
    ranks: tuple = ()  # compiled patterns
    rank_scopes: tuple = ()
    rank_verbs: tuple = ()


def _longest_first(words) -> tuple:
    return tuple(sorted({str(w) for w in words or []}, key=len, reverse=True))


@lru_cache(maxsize=4)
def load_rules(path: str | Path | None = None) -> Rules:
    """Read and compile the rules file (cached); a broken pattern names the entry."""
    path = Path(path) if path else RULES_PATH
    data = config.read_yaml(path)
    units = {}
    for entry in data["units"]:
        units[str(entry["name"])] = {
            "kind": entry["kind"],
            "not_before": re.compile(entry["not_before"]) if entry.get("not_before") else None,
            "only_before": re.compile(entry["only_before"]) if entry.get("only_before") else None,
            "approx": bool(entry.get("approx", False)),
        }
    unit_pattern = "|".join(re.escape(u) for u in _longest_first(units))
    approx_after_number = _longest_first(data.get("approx_after_number"))
    approx_after_unit = _longest_first(data.get("approx_after_unit"))
    not_quantities = []
    for entry in data.get("not_quantities", []):
        try:
            not_quantities.append((entry["name"], re.compile(entry["pattern"])))
        except re.error as err:
            raise ValueError(f"{path}: not_quantities pattern {entry['pattern']!r} is invalid: {err}") from err
    after_num = "|".join(re.escape(w) for w in approx_after_number) or "(?!)"
    after_unit = "|".join(re.escape(w) for w in approx_after_unit) or "(?!)"
    number = rf"(?:{_FRACTION}|{_ARABIC}|{_CN})"
    mention = re.compile(
        rf"""
        (?P<cnpct>{_CN_PERCENT})
        |
        (?:
          (?P<num>{number})(?P<scale1>{_SCALE})?
          (?:(?P<sep>{_RANGE_SEP})(?P<num2>{number}))?
          |
          (?P<bare>{_BARE_SCALE})
        )
        (?P<scale>{_SCALE})?
        (?P<ap1>{after_num})?
        \s?(?P<unit>{unit_pattern})?
        (?P<ap2>{after_unit})?
        """,
        re.VERBOSE,
    )
    gates = tuple(_first_chars(pattern) for _, pattern in not_quantities)
    return Rules(
        units=units,
        unit_pattern=unit_pattern,
        one_counts_for_kinds=frozenset(data.get("one_counts_for_kinds", ["duration"])),
        allow_scale_without_unit=bool(data.get("allow_scale_without_unit", True)),
        approx_before=_longest_first(data.get("approx_before")),
        approx_after_number=approx_after_number,
        approx_after_unit=approx_after_unit,
        bare_scale_after=_longest_first(data.get("bare_scale_after")),
        change_immediate=_longest_first(data.get("change_immediate")),
        change_not_followed_by_level=tuple(data.get("change_not_followed_by_level", [])),
        change_clause=_longest_first(data.get("change_clause")),
        change_down=tuple(data.get("change_down", [])),
        change_verb_gap=int(data.get("change_verb_gap", 0)),
        rate_endings=_longest_first(data.get("rate_endings")),
        result_complements=_longest_first(data.get("result_complements")),
        agent_verbs=frozenset(str(w) for w in data.get("agent_verbs") or []),
        one_not_after=str(data.get("one_not_after", "")),
        linking_words=_longest_first(data.get("linking_words")),
        subset_words=_longest_first(data.get("subset_words")),
        no_object_after=_longest_first(data.get("no_object_after")),
        object_after_skip=_longest_first(data.get("object_after_skip")),
        event_verbs=_longest_first(data.get("event_verbs")),
        predicate_units=frozenset(str(w) for w in data.get("predicate_units") or []),
        noun_suffixes=frozenset(str(w) for w in data.get("noun_suffixes") or []),
        nouns=frozenset(str(w) for w in data.get("nouns") or []),
        max_object_chars=int(data.get("max_object_chars", 18)),
        not_quantities=tuple(not_quantities),
        not_quantity_gates=gates,
        not_quantity_scan=_MaskScanner.build(not_quantities, gates),
        mention=mention,
        mention_start=_start_pattern(mention),
        frequency_period=re.compile(data["frequency_period"]) if data.get("frequency_period") else None,
        frequency_units=frozenset(str(u) for u in data.get("frequency_units") or []),
        frequency_gap=int(data.get("frequency_gap", 0)),
        per_unit_before=tuple(re.compile(p) for p in data.get("per_unit_before") or []),
        per_unit_not_with=tuple(str(w) for w in data.get("per_unit_not_with") or []),
        per_unit_kinds=frozenset(str(k) for k in data.get("per_unit_kinds") or []),
        ranks=tuple(re.compile(p.replace("{N}", str(data.get("rank_number", r"\d+"))))
                    for p in data.get("ranks") or []),
        rank_scopes=_longest_first(data.get("rank_scopes")),
        rank_verbs=_longest_first(data.get("rank_verbs")),
    )


class _Unknown(Exception):
    pass


def _first_chars(pattern: re.Pattern) -> tuple[frozenset, bool, bool] | None:
    """(characters, any digit, any space): what the first character of a non-empty match of
    ``pattern`` can be, or None when the pattern is too intricate to say (then it always runs).

    A text holding none of them cannot match, so its not-quantity search skips the pattern.

    >>> chars, digit, space = _first_chars(re.compile(r"(?<!个)第\\s*\\d+|[（(]\\d"))
    >>> sorted(chars), digit, space
    (['(', '第', '（'], False, False)
    """
    from re import _constants as c, _parser

    if pattern.flags & re.IGNORECASE or not isinstance(pattern.pattern, str):
        return None
    chars: set[str] = set()
    kinds: set[str] = set()

    def item(op, av) -> bool:  # adds the item's first characters; returns whether it can match empty
        if op is c.LITERAL:
            chars.add(chr(av))
            return False
        if op is c.IN:
            for in_op, in_av in av:
                if in_op is c.LITERAL:
                    chars.add(chr(in_av))
                elif in_op is c.RANGE:
                    chars.update(map(chr, range(in_av[0], in_av[1] + 1)))
                elif in_op is c.CATEGORY and in_av in (c.CATEGORY_DIGIT, c.CATEGORY_UNI_DIGIT):
                    kinds.add("digit")
                elif in_op is c.CATEGORY and in_av in (c.CATEGORY_SPACE, c.CATEGORY_UNI_SPACE):
                    kinds.add("space")
                else:
                    raise _Unknown
            return False
        if op is c.BRANCH:
            return any([sequence(branch) for branch in av[1]])
        if op is c.SUBPATTERN:
            if av[1] or av[2]:
                raise _Unknown  # local flags
            return sequence(av[3])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            return sequence(av[2]) or av[0] == 0
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return True  # zero width: what follows starts the match
        raise _Unknown

    def sequence(items) -> bool:
        return all(item(op, av) for op, av in items)

    try:
        if sequence(_parser.parse(pattern.pattern, pattern.flags)):
            return None  # can match the empty string: never skipped
    except _Unknown:
        return None
    return frozenset(chars), "digit" in kinds, "space" in kinds


def _start_pattern(pattern: re.Pattern) -> re.Pattern | None:
    """One character class of where a match of ``pattern`` can begin (see _first_chars), or None."""
    first = _first_chars(pattern)
    if first is None:
        return None
    chars, digit, space = first
    return re.compile("[" + "".join(map(re.escape, sorted(chars))) + ("\\d" if digit else "")
                      + ("\\s" if space else "") + "]")


def _matches(pattern: re.Pattern, start: re.Pattern | None, text: str):
    """``pattern.finditer(text)`` for a pattern that never matches the empty string, trying it only
    where ``start`` finds a character that can begin a match: the big mention pattern has no
    literal start of its own, so the regex engine would try it at every character."""
    if start is None:
        yield from pattern.finditer(text)
        return
    pos, end = 0, len(text)
    while pos < end:
        found = start.search(text, pos)
        if found is None:
            return
        at = found.start()
        m = pattern.match(text, at)
        if m is None:
            pos = at + 1
        else:
            yield m
            pos = m.end()


_ANY_DIGIT = re.compile(r"\d")
_ANY_SPACE = re.compile(r"\s")


# ---- numbers ----------------------------------------------------------------------------------

_DECIMAL = re.compile(r"\d+(?:\.\d+)?")


def parse_number(text: str) -> float:
    """Value of one written number: Arabic (full- or half-width, thousands commas), fraction,
    Chinese numeral (via cn2an), or 百分之….

    >>> parse_number("18,032"), parse_number("1/4"), parse_number("十一"), parse_number("百分之百")
    (18032.0, 0.25, 11.0, 100.0)
    """
    text = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
    if text.startswith("百分之"):
        rest = text[3:]
        return 100.0 if rest in {"百", "一百"} else parse_number(rest)
    if "/" in text:
        top, bottom = text.split("/", 1)
        return float(top) / float(bottom)
    if _DECIMAL.fullmatch(text):
        return float(text)
    if text in _SCALES:
        return _SCALES[text]
    import cn2an

    return float(cn2an.cn2an(text, "smart"))


# the same few written numbers recur across a corpus (1, 100, 三): read each once
_parse_number = lru_cache(maxsize=1 << 14)(parse_number)


# ---- masking ----------------------------------------------------------------------------------

def not_quantity_spans(text: str, *, rules: Rules | None = None) -> list[tuple[int, int, str]]:
    """Spans of ``text`` whose digits are not quantities, with the class of each (date, year,
    title, quoted, ordinal, list_marker, party_congress, slogan, numbered_slogan).

    >>> sorted({name for _, _, name in not_quantity_spans("2022年12月30日,增强“四个意识”")})
    ['date', 'numbered_slogan', 'quoted', 'year']
    """
    rules = rules or load_rules()
    if rules.not_quantity_scan is not None:
        return rules.not_quantity_scan.spans(text)
    return _spans_pattern_by_pattern(text, rules.not_quantities, rules.not_quantity_gates)


def _spans_pattern_by_pattern(text: str, patterns, gates) -> list[tuple[int, int, str]]:
    """``not_quantity_spans`` with one ``finditer`` per pattern (a pattern skipped when ``text``
    holds no character that can begin it)."""
    spans = []
    present = frozenset(text)
    digit = space = None
    for (name, pattern), gate in zip(patterns, gates):
        if gate is not None:
            chars, needs_digit, needs_space = gate
            if chars.isdisjoint(present):
                if needs_digit and digit is None:
                    digit = _ANY_DIGIT.search(text) is not None
                if needs_space and space is None:
                    space = _ANY_SPACE.search(text) is not None
                if not (needs_digit and digit or needs_space and space):
                    continue  # no character of the text can start a match
        for m in pattern.finditer(text):
            if m.end() > m.start():
                spans.append((m.start(), m.end(), name))
    return sorted(set(spans))


class _MaskScanner:
    """Every not-quantity pattern whose first character is known (``_first_chars``) in one regex,
    with each pattern's ``finditer`` semantics (its next match starts where its last one ended);
    the others run one by one.

    Most of these patterns open with a lookbehind, so the regex engine cannot skip ahead to a
    possible start and tries each of them at every character. ``starts`` finds, in one C-level
    pass, the characters where some pattern matches (a character that can begin one, then a
    lookbehind over it that tries them all there); ``each`` then says which patterns match at
    such a character and where they end. Same spans, several times faster.
    """

    def __init__(self, names: list[str], starts: re.Pattern, each: re.Pattern,
                 rest: list[tuple[str, re.Pattern]]) -> None:
        self.names, self.starts, self.each, self.rest = names, starts, each, rest
        self.groups = [each.groupindex[f"_nq{i}"] for i in range(len(names))]

    @classmethod
    def build(cls, patterns, gates) -> "_MaskScanner | None":
        """The scanner of (name, pattern) pairs with their ``_first_chars`` gates, or None when the
        patterns cannot share one regex (flags, backreferences, a group name taken)."""
        gated, rest, chars, digit, space = [], [], set(), False, False
        for (name, pattern), gate in zip(patterns, gates):
            if gate is None:
                rest.append((name, pattern))
                continue
            if pattern.flags & ~re.UNICODE or re.search(r"\\[1-9]|\(\?P=", pattern.pattern):
                return None
            gated.append((name, pattern))
            chars |= gate[0]
            digit, space = digit or gate[1], space or gate[2]
        if not gated:
            return None
        first = ("[" + "".join(map(re.escape, sorted(chars))) + ("\\d" if digit else "")
                 + ("\\s" if space else "") + "]")
        any_pattern = "|".join(f"(?:{p.pattern})" for _, p in gated)
        try:
            starts = re.compile(f"{first}(?<=(?={any_pattern}).)")
            each = re.compile("".join(f"(?=(?P<_nq{i}>{p.pattern}))?" for i, (_, p) in enumerate(gated)))
        except re.error:
            return None
        return cls([name for name, _ in gated], starts, each, rest)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        spans = []
        resume = [0] * len(self.names)  # where each pattern's finditer would search next
        each = self.each.match
        for found in self.starts.finditer(text):
            regs = each(text, found.start()).regs
            for k, group in enumerate(self.groups):
                start, end = regs[group]
                if start >= resume[k] and end > start:
                    spans.append((start, end, self.names[k]))
                    resume[k] = end
        for name, pattern in self.rest:
            spans.extend((m.start(), m.end(), name) for m in pattern.finditer(text) if m.end() > m.start())
        return sorted(set(spans))


class _Mask:
    """The not-quantity spans of one text, found on the first question: most sentences have no
    candidate number that gets as far as asking."""

    def __init__(self, text: str, rules: Rules):
        self.text, self.rules, self.spans = text, rules, None

    def hit(self, start: int, end: int) -> str | None:
        """Class of a masked span that overlaps [start, end), or None."""
        if self.spans is None:
            self.spans = not_quantity_spans(self.text, rules=self.rules)
            self.starts = [s for s, _, _ in self.spans]
        i = bisect.bisect_right(self.starts, end - 1)
        for s, e, name in self.spans[max(0, i - 40):i]:
            if s < end and e > start:
                return name
        return None


# ---- counted object -----------------------------------------------------------------------------

_NOUNISH = {"n", "nr", "nr1", "nr2", "nrj", "nrf", "ns", "nsf", "nt", "nz", "nl", "ng", "vn", "an", "j", "l",
            "eng", "g", "i", "s", "Q", "k"}
_VERBISH = {"v", "vd", "vi", "vl", "vg", "vf", "vx"}
_MODIFIER = {"a", "b", "ag", "z"}


class _PosCutter:
    """``cut(text)``: jieba's part-of-speech tokens of ``text`` as (word, flag) pairs, remembered
    per block. jieba tags each run of word characters between punctuation (its ``re_han_internal``
    blocks) on its own, so the tokens of a text are those of its blocks in order; blocks recur
    across clauses and reports (受理行政复议案件, 全市), and so do the unknown character runs its
    HMM tags, the slowest part of tagging. Both memos are bounded."""

    def __init__(self, tagger, blocks: re.Pattern) -> None:
        self.tagger, self.blocks = tagger, blocks
        unknown_runs = tagger._POSTokenizer__cut_detail  # the HMM pass over a run unknown to the dictionary
        tagger._POSTokenizer__cut_detail = lru_cache(maxsize=1 << 14)(lambda run: tuple(unknown_runs(run)))
        self._block = lru_cache(maxsize=1 << 15)(self._cut_block)
        self.tagged: dict[int, tuple] = {}  # id(rules) -> (rules, memo of helpers.quantities._tag), see _tokens

    def _cut_block(self, block: str) -> tuple:
        return tuple((w.word, w.flag) for w in self.tagger.cut(block))

    def cut(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for block in self.blocks.split(text):
            if block:
                out.extend(self._block(block))
        return out


_MIN_FLOAT, _MIN_INF = -3.14e100, float("-inf")  # jieba's: an unseen emission, a missing transition


def _pos_viterbi(obs: str, states: dict, start_p: dict, trans_p: dict, emit_p: dict) -> tuple[float, list]:
    """jieba's part-of-speech Viterbi (``posseg/viterbi.py``): the same probability and route in
    half the time. Only states with a transition to a state can give it a finite score, so the
    best of those is taken, and the best of all (as jieba takes it) only when none is finite."""
    all_states = trans_p.keys()
    scores = {y: start_p[y] + emit_p[y].get(obs[0], _MIN_FLOAT) for y in states.get(obs[0], all_states)}
    paths = [dict.fromkeys(scores, "")]
    for ch in obs[1:]:
        previous = [x for x in paths[-1] if len(trans_p[x]) > 0]
        expected = {y for x in previous for y in trans_p[x]}
        candidates = set(states.get(ch, all_states)) & expected
        if not candidates:
            candidates = expected if expected else all_states
        now, path = {}, {}
        for y in candidates:
            emit = emit_p[y].get(ch, _MIN_FLOAT)
            best = max(((scores[x] + trans_p[x][y] + emit, x) for x in previous if y in trans_p[x]), default=None)
            if best is None or best[0] == _MIN_INF:
                best = max((scores[x] + trans_p[x].get(y, _MIN_INF) + emit, x) for x in previous)
            now[y], path[y] = best
        scores = now
        paths.append(path)
    prob, state = max((scores[y], y) for y in paths[-1])
    route = [None] * len(obs)
    for i in range(len(obs) - 1, -1, -1):
        route[i] = state
        state = paths[i][state]
    return prob, route


def _hmm_tagger(pseg):
    """posseg's ``POSTokenizer.__cut`` (words and tags of a run of characters the dictionary does
    not know: jieba's slowest step) with :func:`_pos_viterbi`; None when posseg is laid out
    otherwise."""
    try:
        model = (pseg.char_state_tab_P, pseg.start_P, pseg.trans_P, pseg.emit_P)
        pair = pseg.pair
    except AttributeError:
        return None

    def cut(sentence: str):
        pos_list = _pos_viterbi(sentence, *model)[1]
        begin = nexti = 0
        for i, char in enumerate(sentence):
            pos = pos_list[i][0]
            if pos == "B":
                begin = i
            elif pos == "E":
                yield pair(sentence[begin:i + 1], pos_list[i][1])
                nexti = i + 1
            elif pos == "S":
                yield pair(char, pos_list[i][1])
                nexti = i + 1
        if nexti < len(sentence):
            yield pair(sentence[nexti:], pos_list[nexti][1])

    return cut


@lru_cache(maxsize=4)
def _pos_tokenizer(nouns: frozenset = frozenset()) -> _PosCutter:
    """A private jieba part-of-speech tokenizer that knows the project lexicon (helpers/data/
    lexicon.txt), so 行政复议, 法律明白人 stay whole, and the genre's ``nouns`` of the rules (占比,
    嘎查); the global jieba state is left alone."""
    import importlib
    import logging

    from helpers.segment import TAGGER_ENGINES, add_words, load_jieba, new_tokenizer

    jieba = load_jieba(TAGGER_ENGINES)  # jieba_fast when installed: same tags, faster
    pseg = importlib.import_module(f"{jieba.__name__}.posseg")
    logging.getLogger(jieba.__name__).setLevel(logging.WARNING)  # keep its start-up chatter out of notebooks
    tokenizer = new_tokenizer(jieba)  # the main dictionary the segmenter loaded, copied
    words = []
    lexicon = config.PACKAGE_DATA / "lexicon.txt"
    if lexicon.exists():
        for line in lexicon.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if not parts or line.lstrip().startswith("#"):
                continue
            words.append((parts[0], None, next((p for p in parts[1:] if not p.isdigit()), "nz")))
    # in a fixed order: each word's suggested frequency depends on the words added before it
    words += [(word, None, "n") for word in sorted(nouns)]
    add_words(tokenizer, words)
    # POSTokenizer(tokenizer) would read the tags of the main dictionary from its text file again
    # (half a second); posseg read them when it was imported, into its default tagger.
    tagger = pseg.POSTokenizer.__new__(pseg.POSTokenizer)
    tagger.tokenizer, tagger.word_tag_tab = tokenizer, dict(pseg.dt.word_tag_tab)
    hmm_cut = _hmm_tagger(pseg)
    if hmm_cut is not None:
        tagger._POSTokenizer__cut = hmm_cut  # read by __cut_detail through the instance
    return _PosCutter(tagger, pseg.re_han_internal)


def _tokens(text: str, rules: Rules) -> list[tuple[str, str]]:
    """Part-of-speech tokens, with quoted or titled spans kept whole as nouns ("Q"), the genre's
    nouns (``rules.nouns``) tagged as nouns, noun endings (调解率) joined to their noun, and a
    short note in brackets joined to the noun before it (村（社区）).

    Resolving the mentions of one sentence asks for the same clause several times, and clauses
    recur across reports (其中, 受理行政复议案件): the tokens of a text are remembered (bounded),
    with the tagger and per rules object."""
    cutter = _pos_tokenizer(rules.nouns)
    found = cutter.tagged.get(id(rules))
    if found is None or found[0] is not rules:
        found = (rules, lru_cache(maxsize=1 << 14)(lambda clause: tuple(_tag(clause, rules))))
        cutter.tagged[id(rules)] = found
    return list(found[1](text))


# quoted or titled spans, and short notes in brackets: never cut by the tagger
_WHOLE_PIECE = re.compile(r"“[^“”]*”|《[^《》]*》|「[^「」]*」|\"[^\"]*\"|[（(][^（）()\d，,。；;]{1,6}[）)]")


def _tag(text: str, rules: Rules) -> list[tuple[str, str]]:
    pos_cut = _pos_tokenizer(rules.nouns).cut
    out: list[tuple[str, str]] = []
    pos = 0
    pieces = []
    for m in _WHOLE_PIECE.finditer(text):
        pieces.append((text[pos:m.start()], False))
        pieces.append((m.group(), True))
        pos = m.end()
    pieces.append((text[pos:], False))
    for piece, whole in pieces:
        if whole:
            if piece[0] in "（(":
                if out and out[-1][1] in _NOUNISH:
                    out[-1] = (out[-1][0] + piece, out[-1][1])
                else:
                    out.append((piece, "x"))
            else:
                out.append((piece, "Q"))
            continue
        for word, flag in pos_cut(piece):
            if word in rules.noun_suffixes and out and out[-1][1] not in {"x", "m", "q", "Q"}:
                out.append((out.pop()[0] + word, "n"))
                _join_rate_words(out, rules)
                continue
            if word.endswith("率") and len(word) > 1:
                out.append((word, "n"))
                _join_rate_words(out, rules)
                continue
            glued = "" if flag in _NOUNISH else _glued_noun(word, rules)
            if glued:  # 调解纠纷 (tagged as a state word): the verb and the noun it governs
                out.append((word[:-len(glued)], "v"))
                out.append((glued, "n"))
            else:
                out.append((word, "n" if word in rules.nouns else flag))
    return out


_GLUE: dict[int, tuple] = {}


def _glued_noun(word: str, rules: Rules) -> str:
    """A noun of the rules (two or more characters) that ``word`` ends with and is longer than,
    or ""; where several fit, the first in the order of ``rules.nouns``."""
    found = _GLUE.get(id(rules))
    if found is None or found[0] is not rules:
        nouns = tuple(n for n in rules.nouns if len(n) >= 2)
        found = (rules, nouns, frozenset(nouns), sorted({len(n) for n in nouns}))
        _GLUE[id(rules)] = found
    _, nouns, noun_set, lengths = found
    fits = [word[-k:] for k in lengths if k < len(word) and word[-k:] in noun_set]
    if len(fits) <= 1:
        return fits[0] if fits else ""
    return next(n for n in nouns if n in fits)


def _join_rate_words(out: list, rules: Rules) -> None:
    """A rate named by a short verb takes the words before it that say whose or where
    (网上/可/办率, 掌上/执法率, 调解/成功率); ``out`` ends with the rate and is changed in place."""
    word = out.pop()[0]
    while (out and len(word) - 1 <= 2 and out[-1][1] in _VERBISH | {"d", "s", "f", "vn", "ad"}
           and out[-1][0] not in rules.linking_words and out[-1][0] not in rules.change_immediate):
        word = out.pop()[0] + word
    out.append((word, "n"))


_LINKING: dict[int, tuple] = {}


def _linking_words(rules: Rules) -> tuple[frozenset, tuple]:
    """(all linking words, those of 2+ characters in rule order), built once per rules object."""
    found = _LINKING.get(id(rules))
    if found is None or found[0] is not rules:
        words = (*rules.linking_words, *rules.approx_before, *rules.change_immediate, *rules.change_clause)
        found = (rules, frozenset(words), tuple(w for w in words if len(w) >= 2))
        _LINKING[id(rules)] = found
    return found[1], found[2]


def _strip_linking(toks: list, rules: Rules, *, leading: bool = False) -> list:
    """Tokens without linking words at their end (or start): 纠错率/为, 共计/50余件, 共/备案.

    A one-character linking word is dropped only as a whole token, so the 为 of 行为 stays; a
    longer one (压缩至, 共计) is cut from the text wherever jieba put its boundaries."""
    toks = list(toks)
    single, longer = _linking_words(rules)
    changed = True
    while changed and toks:
        changed = False
        text = "".join(w for w, _ in toks)
        # One C-level test for the usual case of no linking word at all.
        if not (text.startswith(longer) if leading else text.endswith(longer)):
            longer_here = ()
        else:
            longer_here = longer
        for w in longer_here:
            if len(text) >= len(w) and (text.startswith(w) if leading else text.endswith(w)):
                toks = _tokens(text[len(w):] if leading else text[:-len(w)], rules)
                changed = True
                break
        if not changed and toks and (toks[0][0] if leading else toks[-1][0]) in single:
            toks = toks[1:] if leading else toks[:-1]
            changed = True
    return toks


def _object_before(segment: str, rules: Rules) -> tuple[str, int, bool]:
    """Noun phrase that ends ``segment`` (after dropping linking words); returns (phrase, offset,
    phrase_is_a_noun). Without a noun, the action that ends the segment (免予处罚9宗, 备案1件)."""
    toks = _strip_linking(_tokens(segment.rstrip(), rules), rules)
    core = "".join(w for w, _ in toks)
    if not toks:
        return "", len(segment), False
    if (len(toks) > 1 and toks[-1][1] in _VERBISH and toks[-2][1] in _NOUNISH
            and segment.rstrip()[len(core):].startswith(rules.result_complements)):
        toks = toks[:-1]  # 事项扩展至32个: what was extended, not the extending
    taken: list[tuple[str, str]] = []
    i = len(toks) - 1
    while i >= 0:
        word, flag = toks[i]
        prev_flag = toks[i - 1][1] if i > 0 else ""
        if flag in _NOUNISH:
            taken.append((word, flag))
        elif flag in _VERBISH and (prev_flag in _NOUNISH or prev_flag in _MODIFIER) and not taken:
            # 出庭应诉, 案外调解: the verb is the thing counted
            taken.append((word, flag))
        elif flag in _VERBISH and prev_flag in _NOUNISH and len(taken) == 1 and len(taken[0][0]) == 1:
            # a verb inside a noun compound: 行政/执法/证
            taken.append((word, flag))
        elif flag in _MODIFIER and taken:
            taken.append((word, flag))
        else:
            break
        i -= 1
    taken = _after_agent_verb(taken, rules)
    if len(taken) == 1 and taken[0][0] in rules.object_after_skip:
        taken = []  # 全旗144个…: a scope, not the thing counted
    is_noun = any(flag in _NOUNISH for _, flag in taken)
    if not taken:
        # no noun: the counted thing is the action itself (免予处罚9宗, 备案1件); at most two verbs
        verbs = []
        for word, flag in reversed(toks):
            adverb = verbs and flag in {"d", "ad", "a", "b"}  # 从轻/处罚, 不予/处罚
            if (flag not in _VERBISH and not adverb) or len(verbs) == 2:
                break
            verbs.append((word, flag))
        taken = _strip_linking(verbs[::-1], rules, leading=True)[::-1]
    if not taken:
        return "", len(segment), False
    while len(taken) > 1 and len("".join(w for w, _ in taken)) > rules.max_object_chars:
        taken.pop()  # too long: drop whole words from the left, never half a quoted name
    phrase = "".join(w for w, _ in reversed(taken))
    if len(phrase) > rules.max_object_chars:
        phrase = phrase[-rules.max_object_chars:]
    phrase = phrase.lstrip("”」』’)）、")
    offset = core.rfind(phrase)
    return phrase, offset, is_noun


def _after_agent_verb(taken: list, rules: Rules) -> list:
    """Words taken from the end of a segment (last word first), cut after the last handling verb
    that has a noun after it: 法律援助中心/办理/法律援助案件 gives 法律援助案件."""
    if taken and taken[0][0].endswith(rules.rate_endings):
        return taken  # a rate is defined by its whole phrase: 适用简易程序办理案件占比
    for i, (word, _) in enumerate(taken):
        if word in rules.agent_verbs and i > 0 and any(f in _NOUNISH and f != "vn" for _, f in taken[:i]):
            return taken[:i]
    return taken


def _object_after(segment: str, rules: Rules, *, unit: str = "") -> tuple[str, bool, int]:
    """Noun phrase that starts ``segment``: (phrase, phrase_is_a_noun, characters of the segment
    it takes, skipped words included). 6次组织行政执法人员公共法律知识考试 gives the examination,
    2个全市首批政务服务便民点 the service points, 450人次参训 the verb 参训."""
    if not segment or segment[0] in _CLAUSE_BREAK and segment[0] not in "（(" or segment[0] in "、和及与":
        return "", False, 0
    if segment.startswith(rules.no_object_after):
        return "", False, 0
    toks = _tokens(segment[: rules.max_object_chars + 8], rules)
    skipped = 0
    while toks and (toks[0][0] in rules.object_after_skip
                    or toks[0][0] in rules.event_verbs and len(toks) > 1 and toks[1][1] in _NOUNISH | _VERBISH):
        skipped += len(toks[0][0])
        toks = toks[1:]
    taken: list[tuple[str, str]] = []
    for j, (word, flag) in enumerate(toks):
        next_flag = toks[j + 1][1] if j + 1 < len(toks) else ""
        after_next = toks[j + 2][1] if j + 2 < len(toks) else ""
        if flag in _NOUNISH or (flag in _MODIFIER and next_flag in _NOUNISH):
            taken.append((word, flag))
        elif (flag in _VERBISH and taken and taken[-1][1] != "Q" and next_flag in _NOUNISH
              and len(toks[j + 1][0]) == 1 and (j + 2 >= len(toks) or toks[j + 2][0][0] in _CLAUSE_BREAK + "、")):
            taken.append((word, flag))  # a verb inside a noun compound: 行政/执法/证
        elif (flag in _VERBISH and all(f in _VERBISH for _, f in taken) and j < 2
              and unit not in rules.predicate_units and (next_flag in _NOUNISH or next_flag in _VERBISH and j == 0 and after_next in _NOUNISH
                   or next_flag in _MODIFIER and after_next in _NOUNISH)):
            # a verb that qualifies the noun after it: 预算单位, 抽查事项, 普法短视频, 涉法涉诉事务
            taken.append((word, flag))
        elif (word in "和及与、" and taken and taken[-1][1] in _NOUNISH and next_flag in _NOUNISH):
            taken.append((word, flag))  # 事务处理和咨询活动
        else:
            if not taken and flag in _VERBISH:
                # 一宗涉及未成年人的纠纷: the head noun follows the last 的; 450人次参训: the verb
                head = segment.rfind("的")
                if head > 0:
                    phrase, is_noun, used = _object_after(segment[head + 1:], rules)
                    if is_noun:
                        return phrase, True, head + 1 + used
                verbs = [word]  # 100%免提交标注, 2件待判决: the run of verbs
                for later, later_flag in toks[j + 1:j + 3]:
                    if later_flag not in _VERBISH or len("".join(verbs) + later) > 6:
                        break
                    verbs.append(later)
                return "".join(verbs), False, skipped + len("".join(verbs))
            break
    while taken and (taken[-1][1] not in _NOUNISH or taken[-1][0] in "和及与、"):
        taken.pop()  # 预算单位 keeps its verb, 抽查 alone is no noun
    phrase = "".join(w for w, _ in taken)[: rules.max_object_chars]
    if not phrase:
        return "", False, 0
    # verbal nouns alone that end the clause (3件胜诉) say what happened to the counted things;
    # followed by their own verb (610项服务实现“零跑动”) they name them
    is_noun = (any(flag in _NOUNISH and flag != "vn" for _, flag in taken)
               or bool(segment[skipped + len(phrase):].strip(_CLAUSE_BREAK + "、 ")))
    return phrase, is_noun, skipped + len(phrase)


def _in_brackets(text: str, pos: int) -> bool:
    opened = max(text.rfind("（", 0, pos), text.rfind("(", 0, pos))
    closed = max(text.rfind("）", 0, pos), text.rfind(")", 0, pos))
    return opened > closed


# ---- mentions -----------------------------------------------------------------------------------

@dataclass
class Mention:
    """One quantity mention; offsets index the text given to find_quantities."""

    value: float
    low: float | None
    high: float | None
    unit: str
    approx: bool
    approx_marker: str
    kind: str
    direction: str
    object: str
    mention: str
    start: int
    end: int
    quote: str
    quote_start: int
    quote_end: int
    period: str = ""
    per_unit: bool = False
    scope: str = ""


_NOTE = re.compile(r"[（(][^（）()\d，,。；;]{1,6}[）)]")


def _clause_start(text: str, pos: int) -> int:
    """Start of the clause holding ``pos``; a short note in brackets (村（社区）) does not break it."""
    i = pos - 1
    while i >= 0 and text[i] not in _CLAUSE_BREAK:
        i -= 1
    if i >= 0 and text[i] in "）)":
        opening = max(text.rfind("（", 0, i), text.rfind("(", 0, i))
        if opening >= 0 and _NOTE.fullmatch(text, opening, i + 1):
            return _clause_start(text, opening)
    return i + 1


def _clause_end(text: str, pos: int) -> int:
    """End of the clause holding ``pos``; a short note in brackets does not break it."""
    i = pos
    while i < len(text) and text[i] not in _CLAUSE_BREAK:
        i += 1
    if i < len(text) and text[i] in "（(":
        note = _NOTE.match(text, i)
        if note:
            return _clause_end(text, note.end())
    return i


def _candidates(text: str, rules: Rules, mask: _Mask):
    """Validated regex matches with their value, unit and approximation (no object yet)."""
    for m in _matches(rules.mention, rules.mention_start, text):
        if m.end() == m.start():
            continue
        g = m.groupdict()
        start, end = m.start(), m.end()
        prev = text[start - 1] if start else ""
        if prev and (prev.isdigit() or prev in ".．/" or prev.isascii() and prev.isalpha()):
            continue
        unit = g["unit"] or ""
        scale_word = g["scale1"] or g["scale"] or ""
        if g["cnpct"]:
            unit = "%"
        # a unit that is really the start of a word (部门, 处罚) is no unit
        if unit and not g["cnpct"]:
            spec = rules.units[unit]
            rest = text[m.end("unit"):]
            if (spec["not_before"] and spec["not_before"].match(rest)) or (
                spec["only_before"] and not spec["only_before"].match(rest)
            ):
                unit = ""
        if g["cnpct"]:
            end = m.end("cnpct")
        elif unit:
            end = m.end("ap2") if g["ap2"] else m.end("unit")
        else:
            end = max(m.end(k) for k in ("num", "scale1", "num2", "bare", "scale", "ap1") if g[k])
            if g["ap2"] and (g["scale"] or g["scale1"]):
                end = m.end("ap2")  # 400万以上
        number_text = g["cnpct"] or g["num"] or g["bare"]
        if g["num"] and _ZERO_GROUP.fullmatch(g["num"]):
            # 1 024件: digit groups split by spaces (PDF and table copies); a count never starts
            # with 0, so a group of three after a space continues the number before it
            head = _SPACED_GROUPS.search(text, 0, start)
            if head is None:
                continue
            number_text = re.sub(r"\s", "", head.group(1)) + g["num"]
            start = head.start(1)
        is_cn = bool(g["num"]) and not _DIGIT_FIRST.match(g["num"]) and not g["cnpct"]
        if g["bare"]:
            before = text[:start]
            if not unit or not before.endswith(rules.bare_scale_after):
                continue
        if not unit and not g["cnpct"]:
            if not (scale_word and rules.allow_scale_without_unit and not is_cn and not g["bare"]):
                continue
        if is_cn:
            if not unit:
                continue
            if number_text == "一" and (rules.units[unit]["kind"] not in rules.one_counts_for_kinds
                                         or prev in rules.one_not_after):
                # 每年召开一次…会议: how often, where 一 is the number
                if prev in rules.one_not_after or not (unit in rules.frequency_units
                                                       and _period(text, start, rules)):
                    continue
        if g["num2"] and g["num"] and not g["sep"]:
            continue
        # last of the tests that drop a match: the mask is the costly one
        if mask.hit(start, end):
            continue
        try:
            value = _parse_number(number_text)
            value2 = _parse_number(g["num2"]) if g["num2"] else None
        except Exception:  # a string cn2an cannot read is not a number
            continue
        scale = _SCALES.get(scale_word, 1.0)
        if g["scale1"] and g["num2"]:
            # 3万至5万人: each side carries its own scale
            value *= _SCALES[g["scale1"]]
            value2 = value2 * _SCALES.get(g["scale"] or g["scale1"], 1.0)
        else:
            value *= scale
            value2 = value2 * scale if value2 is not None else None
        # approximation markers
        # one C-level test for the usual case of no marker; the word itself in rule order
        head = text[:start]
        marker_before = (next(w for w in rules.approx_before if head.endswith(w))
                         if head.endswith(rules.approx_before) else "")
        markers = [marker_before, g["ap1"] or ""]
        if g["ap2"] and end == m.end("ap2"):
            markers.append(g["ap2"])
        if unit and rules.units.get(unit, {}).get("approx"):
            markers.append("多")
        if g["bare"] and not marker_before:
            marker_before = (next(w for w in rules.bare_scale_after if head.endswith(w))
                             if head.endswith(rules.bare_scale_after) else "")
            markers[0] = marker_before if marker_before in rules.approx_before else ""
        marker = "".join(dict.fromkeys(w for w in markers if w))
        mention_start = start - len(marker_before) if marker_before else start
        yield {
            "value": value if value2 is None else value,
            "low": value if value2 is not None else None,
            "high": value2,
            "unit": unit,
            "approx": bool(marker),
            "approx_marker": marker,
            "start": mention_start,
            "number_start": start,
            "end": end,
        }


def _kind(text: str, cand: dict, rules: Rules) -> tuple[str, str]:
    unit = cand["unit"]
    kind = rules.units[unit]["kind"] if unit in rules.units else "count"
    before = text[_clause_start(text, cand["start"]):cand["start"]]
    immediate = (next(w for w in rules.change_immediate if before.endswith(w))
                 if before.endswith(rules.change_immediate) else "")
    after = text[cand["end"]:cand["end"] + 1]
    is_change = kind == "change"
    if immediate and not before.endswith(rules.change_not_followed_by_level):
        is_change = True
    if kind == "percentage" and any(w in before for w in rules.change_clause):
        is_change = True
    if kind == "percentage" and not is_change and rules.change_verb_gap:
        # 减少对企业干扰60%以上: a change of its short object, unless that object is a rate
        for verb in rules.change_immediate:
            at = before.rfind(verb)
            gap = before[at + len(verb):] if at >= 0 else ""
            if (at >= 0 and 0 < len(gap) <= rules.change_verb_gap
                    and not gap.rstrip().endswith(rules.rate_endings)
                    and not any(w in gap for w in rules.change_not_followed_by_level)
                    and not any(w in gap for w in rules.linking_words if len(w) > 1)):
                is_change = True
                break
    del after
    if not is_change:
        return kind, ""
    window = before[-12:]
    down = any(w in window for w in rules.change_down)
    return "change", "down" if down else "up"


def _period(text: str, start: int, rules: Rules) -> str:
    """The period of a 每 phrase at most ``rules.frequency_gap`` characters before ``start`` in
    its clause (每季度1次 -> 季度, 每两个月召开1次 -> 两个月), or ""."""
    if rules.frequency_period is None:
        return ""
    before = text[_clause_start(text, start):start]
    found = None
    for found in rules.frequency_period.finditer(before):
        pass
    if found is None or len(before) - found.end() > rules.frequency_gap:
        return ""
    return re.sub(r"\s", "", found.group()[1:])


def _per_unit(text: str, start: int, rules: Rules) -> bool:
    """Whether the clause before ``start`` says the number is what each unit has (各配备1名,
    每个村（社区）配备1名), by ``rules.per_unit_before``."""
    before = _NOTE.sub("", text[_clause_start(text, start):start]).rstrip()
    if not before or any(w in before for w in rules.per_unit_not_with):
        return False
    return any(p.search(before) for p in rules.per_unit_before)


def find_ranks(text: str, *, rules: Rules | None = None) -> list[Mention]:
    """Rank mentions (kind ``rank``): value the place, ``scope`` where it was ranked, ``object`` what.

    >>> [(m.value, m.scope, m.object) for m in find_ranks("营商环境评价排名全省第一")]
    [(1.0, '全省', '营商环境评价')]
    """
    rules = rules or load_rules()
    found = []
    for pattern in rules.ranks:
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in found):
                found.append((m.start(), m.end(), m))
    out = []
    for start, end, m in sorted(found, key=lambda f: f[0]):
        g = m.groupdict()
        if g.get("first"):
            value, marker, unit = 1.0, "", g["first"]
        else:
            number = g.get("rank") or g.get("top")
            try:
                value = _parse_number(number)
            except Exception:
                continue
            marker = "前" if g.get("top") else ""
            unit = g.get("unit") or g.get("unit2") or ""
        clause_start = _clause_start(text, start)
        before = text[clause_start:start]
        scope = g.get("scope") or next((w for w in reversed(_scope_words(before, rules))), "")
        segment = before
        changed = True
        while changed:  # 竞赛中获得第二名: what was ranked, without how the rank was reached
            changed = False
            for verb in rules.rank_verbs:
                if segment.endswith(verb) and len(segment) > len(verb):
                    segment, changed = segment[:-len(verb)], True
                    break
        obj, offset, _ = _object_before(segment, rules) if segment.strip() else ("", len(segment), False)
        if obj in rules.rank_scopes:
            obj = ""
        q_start = clause_start + offset if obj else start
        out.append(Mention(
            value=value, low=None, high=None, unit=unit, approx=bool(marker), approx_marker=marker,
            kind="rank", direction="", object=obj, mention=text[start:end], start=start, end=end,
            quote=text[q_start:end], quote_start=q_start, quote_end=end, scope=scope))
    return out


def _scope_words(before: str, rules: Rules) -> list[str]:
    """The rank_scopes words of ``before`` in the order they occur."""
    hits = []
    for word in rules.rank_scopes:
        at = before.rfind(word)
        if at >= 0:
            hits.append((at, word))
    return [w for _, w in sorted(hits)]


def find_quantities(text: str, *, rules: Rules | None = None) -> list[Mention]:
    """Every quantity mention in one sentence (or any text), in order, each with the object it
    counts (the order of preference is documented in quantity_rules.yaml, "counted object").

    >>> [(m.value, m.object) for m in find_quantities("公示行政处罚699宗、许可18032宗")]
    [(699.0, '行政处罚'), (18032.0, '许可')]
    >>> [(m.value, m.object) for m in find_quantities("组建6个街道行政执法队共计30人")]
    [(6.0, '街道行政执法队'), (30.0, '街道行政执法队')]
    """
    rules = rules or load_rules()
    mask = _Mask(text, rules)
    ranks = find_ranks(text, rules=rules) if rules.ranks else []
    cands = list(_candidates(text, rules, mask))
    if ranks:  # 位列全省前三名: the 三名 is the rank, not a count of people
        cands = [c for c in cands if not any(c["start"] < r.end and r.start < c["end"] for r in ranks)]
    mentions: list[Mention] = []
    cursor = 0
    for k, cand in enumerate(cands):
        start, end = cand["start"], cand["end"]
        next_start = cands[k + 1]["start"] if k + 1 < len(cands) else len(text)
        clause_start = _clause_start(text, start)
        seg_start = max(clause_start, cursor)
        segment = text[seg_start:start]
        after_end = min(_clause_end(text, end), next_start)
        after_phrase, after_is_noun, after_used = _object_after(text[end:after_end], rules, unit=cand["unit"])
        before_phrase, offset, before_is_noun = _object_before(segment, rules)
        kind, direction = _kind(text, cand, rules)
        period = _period(text, cand["number_start"], rules)
        if period and kind == "count" and cand["unit"] in rules.frequency_units:
            kind = "frequency"  # 每季度1次: how often, not how many
        per_unit = kind in rules.per_unit_kinds and _per_unit(text, cand["start"], rules)
        lead = segment.strip()
        subset = next(w for w in rules.subset_words if lead.startswith(w)) if lead.startswith(rules.subset_words) else ""
        # nothing but subset or linking words before the number in its clause
        opens_clause = not _strip_linking(_tokens(lead[len(subset):], rules), rules) if lead[len(subset):] else True
        # what the sentence counted before in the same unit: 行政诉讼案件6件，其中1件…，3件胜诉
        topic = next((m for m in reversed(mentions)
                      if m.unit == cand["unit"] and m.kind == "count" and m.object), None)
        previous = mentions[-1] if mentions else None
        continues = previous is not None and previous.object and opens_clause and not subset and cursor > clause_start
        opening = text[clause_start - 1] if clause_start else ""
        obj, q_start, q_end = "", start, end

        def take_after():
            nonlocal obj, q_end, cursor
            obj, q_end = after_phrase, end + after_used
            cursor = q_end

        def inherit(source: Mention):
            nonlocal obj, q_start, q_end
            obj, q_start = source.object, min(source.quote_start, start)
            if after_phrase and not after_is_noun:
                q_end = end + after_used  # 3件胜诉: the quote keeps what happened to them

        if kind in {"percentage", "change"}:
            if before_phrase:
                obj, q_start = before_phrase, seg_start + offset
            elif kind == "change" and mentions:
                # 同比增长29.5%: the change of what the sentence just counted, not of an aside in brackets
                outside = [m for m in mentions if not _in_brackets(text[:start], m.start)]
                obj = (outside or mentions)[-1].object
            elif opens_clause and after_phrase:
                take_after()  # 100%免提交标注
        elif subset and opens_clause and topic is not None:
            inherit(topic)  # 其中1件已通过备案审查
        elif after_is_noun:
            take_after()
        elif before_is_noun:
            obj, q_start = before_phrase, seg_start + offset
        elif continues:
            inherit(previous)  # 街道行政执法队共计30人; 20—50天缩减至4—5天
        elif opens_clause and not lead and opening in "（(" and clause_start > 1:
            # 全年增量目标（2214户）: the number in brackets counts the noun before them
            phrase, off, _ = _object_before(text[_clause_start(text, clause_start - 1):clause_start - 1], rules)
            if phrase:
                obj, q_start = phrase, _clause_start(text, clause_start - 1) + off
        elif opens_clause and topic is not None:
            inherit(topic)  # 128项高频事项可跨省通办，198项可省内通办
        elif before_phrase:
            obj, q_start = before_phrase, seg_start + offset
        elif after_phrase:
            take_after()
        cursor = max(cursor, end, q_end)
        mentions.append(Mention(
            value=cand["value"], low=cand["low"], high=cand["high"], unit=cand["unit"],
            approx=cand["approx"], approx_marker=cand["approx_marker"], kind=kind, direction=direction,
            object=obj, mention=text[start:end], start=start, end=end,
            quote=text[q_start:q_end], quote_start=q_start, quote_end=q_end,
            period=period, per_unit=per_unit,
        ))
    _assign_respectively(mentions, text)
    return mentions


def _assign_respectively(mentions: list[Mention], text: str) -> None:
    """增长分别为6.69%、4.15%、0.54%: the k changes after 分别 belong to the k mentions before them."""
    for i, m in enumerate(mentions):
        if m.kind != "change" or "分别" not in text[_clause_start(text, m.start):m.start]:
            continue
        run = [m]
        for later in mentions[i + 1:]:
            if later.kind == "change" and text[run[-1].end:later.start].strip() in {"、", ",", "，", "和", "及"}:
                run.append(later)
            else:
                break
        earlier = [x for x in mentions[:i] if x.kind != "change"][-len(run):]
        if len(earlier) == len(run):
            for target, source in zip(run, earlier):
                target.object = source.object
        break


_MENTION_FIELDS = [f.name for f in fields(Mention)]
_CELL_SPLIT = re.compile(r" +")
_CELL = re.compile(r"[^ ]+")
_PROSE = re.compile(r"[，。；;！？!?：:]|,(?!\d{3})")


def _table_cells(text: str) -> list[tuple[int, int]] | None:
    """Spans of the space-separated cells of a table row (a line of three or more short cells and
    no prose punctuation, as Word and PDF tables come out of cleaning), or None."""
    if _PROSE.search(text) or "  " in text.strip():
        return None
    cells = [(m.start(), m.end()) for m in _CELL.finditer(text)]
    if len(cells) < 3 or any(e - s > 20 for s, e in cells):
        return None
    return cells


def table_columns(sentences: pd.DataFrame, *, rules: Rules | None = None) -> dict:
    """For the rows of tables in ``sentences``: (doc_id, sentence_id) -> cell spans and the header of each
    cell's column, taken from the nearest header row above (a row whose cells after the first hold
    no quantity, such as 统计事项 2023年 2024年) with as many cells.

    >>> s = pd.DataFrame({"doc_id": ["d", "d"], "sentence_id": [0, 1], "text": ["事项 2023年 2024年", "收案 156件 203件"]})
    >>> [h for _, _, h in table_columns(s)[("d", 1)]]
    ['事项', '2023年', '2024年']
    """
    rules = rules or load_rules()
    out = {}
    if not any(_table_cells(str(text)) is not None for text in sentences["text"].tolist()):
        return out  # no table row at all (most reports)
    for _, doc in sentences.groupby("doc_id", sort=False):
        header = None
        for sent in doc.sort_values("sentence_id").itertuples(index=False):
            text = str(sent.text)
            cells = _table_cells(text)
            if cells is None:
                header = None
                continue
            if not any(find_quantities(text[s:e], rules=rules) for s, e in cells[1:]):
                header = [text[s:e] for s, e in cells]
            elif header is not None and len(header) == len(cells):
                out[(sent.doc_id, sent.sentence_id)] = [(s, e, h) for (s, e), h in zip(cells, header)]
    return out


def extract_quantities(sentences: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                       rules: Rules | None = None, ranks: bool = False) -> pd.DataFrame:
    """schema.QUANTITIES rows (plus EXTRA_COLUMNS) for every mention in ``sentences``.

    ``start``/``end`` and ``quote_start``/``quote_end`` index documents.text, like the sentence
    spans; ``file`` comes from ``documents`` when given. indicator_id/indicator_name stay empty
    (helpers.indicators.assign_indicators fills them). With ``ranks`` the rank mentions of
    :func:`find_ranks` (kind ``rank``, with ``scope``) are rows too, in text order.

    >>> s = pd.DataFrame({"doc_id": ["d"], "sentence_id": [0], "text": ["办结行政复议案件1件。"], "start": [10], "end": [21]})
    >>> extract_quantities(s)[["value", "unit", "object", "start", "end"]].to_dict("records")
    [{'value': 1.0, 'unit': '件', 'object': '行政复议案件', 'start': 18, 'end': 20}]
    """
    rules = rules or load_rules()
    files = {}
    if documents is not None and "file" in documents.columns:
        files = dict(zip(documents["doc_id"], documents["file"]))
    found = []  # (mention, doc_id, sentence_id, sentence, offset of the sentence, table column)
    tables = table_columns(sentences, rules=rules)
    for doc_id, sentence_id, text, base in zip(sentences["doc_id"].tolist(), sentences["sentence_id"].tolist(),
                                               sentences["text"].tolist(), sentences["start"].tolist()):
        text = str(text)
        base = int(base)
        cells = tables.get((doc_id, sentence_id))
        found_here = find_quantities(text, rules=rules)
        if ranks:
            found_here = sorted(found_here + find_ranks(text, rules=rules), key=lambda m: m.start)
        for m in found_here:
            # a cell of a table row: the column header says which year or group it belongs to
            column = next((h for s, e, h in cells if s <= m.start < e), "") if cells else ""
            found.append((m, doc_id, sentence_id, text, base, column))
    columns = schema.QUANTITIES + EXTRA_COLUMNS
    if not found:
        return _numeric_columns(pd.DataFrame([], columns=columns))
    # column by column, straight from the mentions: a frame from row dicts costs more than finding them
    mentions = [f[0] for f in found]
    ranged = [m.low is not None for m in mentions]  # a single number is its own range
    data = {
        "doc_id": [f[1] for f in found],
        "file": [files.get(f[1]) for f in found],
        "sentence_id": [f[2] for f in found],
        "indicator_id": [None] * len(found),
        "indicator_name": [None] * len(found),
        "value": [m.value for m in mentions],
        "low": [m.low if r else m.value for m, r in zip(mentions, ranged)],
        "high": [m.high if r else m.value for m, r in zip(mentions, ranged)],
        "unit": [m.unit for m in mentions],
        "approx": [m.approx for m in mentions],
        "kind": [m.kind for m in mentions],
        "object": [m.object for m in mentions],
        "quote": [m.quote for m in mentions],
        "sentence": [f[3] for f in found],
        "start": [f[4] + m.start for m, f in zip(mentions, found)],
        "end": [f[4] + m.end for m, f in zip(mentions, found)],
        "mention": [m.mention for m in mentions],
        "approx_marker": [m.approx_marker for m in mentions],
        "direction": [m.direction for m in mentions],
        "quote_start": [f[4] + m.quote_start for m, f in zip(mentions, found)],
        "quote_end": [f[4] + m.quote_end for m, f in zip(mentions, found)],
        "column": [f[5] for f in found],
        "period": [m.period for m in mentions],
        "per_unit": [m.per_unit for m in mentions],
        "scope": [m.scope for m in mentions],
    }
    return _numeric_columns(pd.DataFrame({col: data[col] for col in columns}))


def _numeric_columns(out: pd.DataFrame) -> pd.DataFrame:
    for col in ("value", "low", "high"):
        if out[col].dtype != "float64":  # as built from floats they already are
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    if out["approx"].dtype != bool:
        out["approx"] = out["approx"].astype(bool)
    if out["per_unit"].dtype != bool:
        out["per_unit"] = out["per_unit"].astype(bool)
    return out
