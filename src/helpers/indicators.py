"""Indicators: quantity mentions named by the catalogue (``data/indicators.yaml``) and compared
across regions and years, each cell traceable to its quote.

Flow: ``assign_indicators(quantities)`` -> ``indicator_values(quantities, documents)`` (long: one
row per report × indicator) -> ``comparison_table`` / ``coverage_table`` / ``year_over_year`` /
``stated_ratios`` / ``plausibility_checks`` / ``evidence_table``. ``evaluate_against_gold``
measures extraction against a hand-annotated table. No function here reads or writes files
except the two loaders of the package's own data files.

>>> q = pd.DataFrame({"object": ["行政复议案件"], "sentence": ["收到行政复议案件114宗"], "unit": ["宗"],
...                   "kind": ["count"], "quote": ["收到行政复议案件114宗"], "mention": ["114宗"]})
>>> assign_indicators(q)["indicator_id"].item()
'reconsideration_received'
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import config, groups

CATALOGUE_PATH = config.PACKAGE_DATA / "indicators.yaml"
RELATIONS_PATH = config.PACKAGE_DATA / "indicator_relations.yaml"
CATALOGUE_COLUMNS = ["id", "name_zh", "name_en", "theme", "unit", "units", "kind", "stock", "any", "all", "context", "none"]
# The long indicator table: one row per report and indicator.
INDICATOR_VALUES = [
    "doc_id", "file", "region", "report_year", "indicator_id", "indicator_name", "indicator_name_en", "theme",
    "value", "unit", "approx", "approx_marker", "n_mentions", "other_values", "quote", "sentence", "start", "end",
    "status", "n_candidates", "candidates", "reason",
]
_CLAUSE_BREAK = "，,；;。！？!?：:（）()\n"
_SUBSET_WORDS = ("其中", "其余", "包括", "含")
# words that may stand before a number opening its clause: what it counts comes after it
_SCOPE_WORDS = re.compile(r"^(?:全(?:区|县|市|省|旗|州|盟|镇|乡|年)|年内|本年度?)")
_CLAUSE_OPENERS = {"", *_SUBSET_WORDS, "已有", "共有", "现有", "计有", "累计有", "有", "共", "累计", "另有", "将", "把"}


# ---- catalogue ------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _read_yaml(path: str) -> object:
    return config.read_yaml(path)


def load_catalogue(path: str | Path | None = None) -> pd.DataFrame:
    """The indicator catalogue as a table (list fields stay lists); checks ids are unique.

    >>> cat = load_catalogue()
    >>> {"id", "name_zh", "theme", "any"} <= set(cat.columns) and cat["id"].is_unique
    True
    """
    path = Path(path) if path else CATALOGUE_PATH
    entries = _read_yaml(str(path))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of indicator entries")
    rows = []
    for i, entry in enumerate(entries):
        missing = [k for k in ("id", "name_zh", "kind", "any") if k not in entry]
        if missing:
            raise ValueError(f"{path}: entry {i} ({entry.get('id', '?')}) lacks {missing}")
        row = {k: entry.get(k) for k in CATALOGUE_COLUMNS}
        row["stock"] = bool(entry.get("stock", False))
        for k in ("any", "all", "context", "none"):
            row[k] = [str(w) for w in (entry.get(k) or [])]
        units = entry.get("units") or ([entry["unit"]] if entry.get("unit") else [])
        row["units"] = [str(u) for u in units]
        rows.append(row)
    cat = pd.DataFrame(rows, columns=CATALOGUE_COLUMNS)
    dupes = cat["id"][cat["id"].duplicated()].tolist()
    if dupes:
        raise ValueError(f"{path}: duplicate indicator ids {dupes}")
    return cat


def unit_class_conflicts(catalogue: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Entries whose units belong to two or more unit classes (``cell_rules.yaml``: people,
    occasions, firms …), with the classes they mix; empty when every entry holds one measure.

    >>> unit_class_conflicts()
    {}
    """
    from helpers import cells

    classes = cells.load_rules()["unit_classes"]
    catalogue = load_catalogue() if catalogue is None else catalogue
    out = {}
    for entry_id, units in zip(catalogue["id"], catalogue["units"]):
        mixed = [name for name, members in classes.items() if set(units) & set(members)]
        if len(mixed) > 1:
            out[entry_id] = mixed
    return out


def load_relations(path: str | Path | None = None) -> dict:
    """Ratios and part/whole pairs between indicators (``data/indicator_relations.yaml``)."""
    data = _read_yaml(str(Path(path) if path else RELATIONS_PATH)) or {}
    return {"ratios": data.get("ratios", []), "not_greater": data.get("not_greater", []),
            "max_level_percentage": float(data.get("max_level_percentage", 100)),
            "rate_tolerance": float(data.get("rate_tolerance", 1.0))}


# ---- matching --------------------------------------------------------------------------------------

def _clause_before(sentence: str, quote: str, mention: str, *, note_reads_clause: bool = True) -> str:
    """The clause of ``sentence`` up to the end of the mention (found through the quote); a number
    in a bracketed note is read with the clause the note explains unless ``note_reads_clause`` is
    False (items of a breakdown)."""
    pos = sentence.find(quote) if quote else -1
    if pos < 0:
        return sentence
    end = pos + len(quote)
    mpos = quote.find(mention) if mention else -1
    number_at = pos + (mpos if mpos >= 0 else 0)
    start = number_at
    while start > 0 and sentence[start - 1] not in _CLAUSE_BREAK:
        start -= 1
    stop = max(end, number_at)
    if note_reads_clause and start > 0 and sentence[start - 1] in "（(":
        # a note in brackets (企业主体近2.1万户) is read with the clause it explains (总数突破4.4万户)
        start -= 1
        while start > 0 and sentence[start - 1] not in _CLAUSE_BREAK:
            start -= 1
    if _SCOPE_WORDS.sub("", sentence[start:number_at].strip()) in _CLAUSE_OPENERS:
        # a number that opens its clause (其中1件已通过备案审查, 已有270余人完成…) is named by what follows it
        while stop < len(sentence) and sentence[stop] not in _CLAUSE_BREAK:
            stop += 1
    return sentence[start:stop]


def _score(entry, obj: str, clause: str, unit: str, kind: str, *, frame: str = "", topic: str = "",
           context_words: frozenset = frozenset()) -> tuple | None:
    """Rank of one catalogue entry for a mention, or None when it does not fit.

    Without ``frame`` every test reads the object and its clause. With ``frame`` (the sentence up
    to the mention) the entry's topic words may come from the frame. Context words (收到, 审结,
    新增: which of sibling indicators) say something about one number, so the clause's own ones
    rank first, and when the clause states an action of its own (备案29部) they must be its own;
    in the frame, only exclusions that are not such words count (a 新增 before 总数 excludes nothing)."""
    if entry.kind != kind:
        return None
    if entry.units and unit not in entry.units:
        return None
    own = obj + "\n" + clause
    hay = own + "\n" + frame if frame else own
    hits = [w for w in entry.any if w in hay]
    if not hits:
        return None
    # required words (``all``) may stand anywhere in the sentence before the number (``topic``)
    if any(w not in hay and w not in topic for w in entry.all):
        return None
    own_context = any(w in own for w in entry.context)
    if entry.context and not own_context:
        # an action word of the clause's own (备案29部) ties it to another entry, unless it is part
        # of this entry's own topic word (办结 in 办结率)
        own_hits = [h for h in hits if h in own]
        own_action = any(w in own and not any(w in h for h in own_hits) for w in context_words)
        if not frame or own_action or not any(w in frame for w in entry.context):
            return None
    if any(w in own for w in entry.none) or any(w in frame for w in entry.none if w not in context_words):
        return None
    in_object = max((len(w) for w in hits if w in obj), default=0)
    longest = max(len(w) for w in hits)
    if not frame:
        return (in_object, longest, bool(entry.context))
    return (own_context, any(w in own for w in hits), in_object, longest, bool(entry.context))


def match_indicator(obj: str, clause: str, unit: str, kind: str, *, catalogue: pd.DataFrame,
                    sentence_before: str = "", elliptical: bool = False,
                    context_words: frozenset | None = None, topic: str = "") -> str | None:
    """Catalogue id for one mention, or None.

    The counted object and its clause decide; when nothing fits, the sentence before the number
    frames it (其中调解结案34宗 is a reconsideration figure because the sentence began with
    行政复议); an entry's required words (``all``) may stand anywhere in ``topic``, the sentence
    up to the number (备案5件 after 规范性文件). An ``elliptical`` clause (a bare action and its number: 审结49件, 调解和解12件) is
    read in its sentence's frame first.

    >>> match_indicator("法律援助案件", "受理法律援助案件379宗", "宗", "count", catalogue=load_catalogue())
    'legal_aid_cases'
    """
    # assign_indicators passes the rows once as a list: itertuples per mention dominated its time.
    entries = catalogue if isinstance(catalogue, list) else list(catalogue.itertuples(index=False))
    if context_words is None:
        context_words = frozenset(w for entry in entries for w in entry.context)
    frames = ["", sentence_before] if sentence_before else [""]
    if elliptical and sentence_before:
        frames.reverse()
    index = _keyword_index(entries)
    own = index.entries_with_words(obj or "", clause or "")
    for frame in frames:
        best, best_score = None, None
        # only entries with one of their ``any`` words in the text can fit, in catalogue order (ties
        # go to the first entry)
        candidates = sorted(own | index.entries_with_words(frame)) if frame else sorted(own)
        for entry in map(entries.__getitem__, candidates):
            score = _score(entry, obj or "", clause or "", unit or "", kind or "", frame=frame,
                           topic=topic, context_words=context_words)
            if score is not None and (best_score is None or score > best_score):
                best, best_score = entry.id, score
        if best is not None:
            return best
    return None


class _KeywordIndex:
    """Which catalogue entries have one of their ``any`` words in a text: one Aho-Corasick pass
    instead of testing every word of every entry."""

    def __init__(self, entries: list) -> None:
        import ahocorasick

        self.by_word: dict[str, frozenset] = {}
        for i, entry in enumerate(entries):
            for word in entry.any:
                self.by_word[word] = self.by_word.get(word, frozenset()) | {i}
        self.automaton = ahocorasick.Automaton()
        for word in self.by_word:
            self.automaton.add_word(word, word)
        if self.by_word:
            self.automaton.make_automaton()

    def entries_with_words(self, *texts: str) -> set[int]:
        found: set[int] = set()
        if not self.by_word:
            return found
        for text in texts:
            if text:
                for _, word in self.automaton.iter(text):
                    found |= self.by_word[word]
        return found


_LAST_INDEX: list = [None, None]  # (entries list, its index): assign_indicators passes one list for all rows


def _keyword_index(entries: list) -> _KeywordIndex:
    entries_seen, index = _LAST_INDEX
    if entries_seen is not entries:
        index = _KeywordIndex(entries)
        _LAST_INDEX[:] = [entries, index]
    return index


class _Lookup:
    """``ids.map(mapping)`` as pandas gives it (same values and dtype: a missing id is NaN, an
    integer column becomes float only when one is missing), with the mapping's Series and its
    positions built once: ``Series.map`` searched the mapping's index on every call, a millisecond
    a report."""

    def __init__(self, mapping: dict) -> None:
        self.mapping = mapping
        self.series = pd.Series(list(mapping.values()), index=pd.Index(list(mapping.keys()), tupleize_cols=False))
        self.positions = {key: i for i, key in enumerate(mapping)}

    def map(self, ids: pd.Series) -> pd.Series:
        if not self.mapping:
            return ids.map(self.mapping)
        keys = ids.tolist()
        where = np.fromiter((self.positions.get(key, -1) for key in keys), dtype=np.intp, count=len(keys))
        return pd.Series(pd.api.extensions.take(self.series.array, where, allow_fill=True), index=ids.index)


def _matching(catalogue: pd.DataFrame) -> tuple[list, _Lookup, _Lookup, frozenset]:
    """What matching needs of a catalogue: its rows as a list, names and themes by id, and every
    context word."""
    entries = list(catalogue.itertuples(index=False))
    return (entries, _Lookup(dict(zip(catalogue["id"], catalogue["name_zh"]))),
            _Lookup(dict(zip(catalogue["id"], catalogue["theme"]))),
            frozenset(w for entry in entries for w in entry.context))


@lru_cache(maxsize=1)
def _default_matching() -> tuple[list, _Lookup, _Lookup, frozenset]:
    # the packaged catalogue is read once per process (as _read_yaml does), not once per report
    return _matching(load_catalogue())


def assign_indicators(quantities: pd.DataFrame, *, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Copy of ``quantities`` with indicator_id, indicator_name (Chinese) and theme filled."""
    entries, names, themes, context_words = (_default_matching() if catalogue is None
                                             else _matching(catalogue))
    out = quantities.copy(deep=False)  # only whole columns are set below: the input stays as it was

    def column(name: str) -> list:
        return out[name].tolist() if name in out.columns else [""] * len(out)

    previous = _previous_sentences(out)
    ids = []
    for sentence, quote, mention, obj, unit, kind, earlier in zip(
            column("sentence"), column("quote"), column("mention"), column("object"),
            out["unit"].tolist(), out["kind"].tolist(), previous):
        sentence, quote, mention = str(sentence or ""), str(quote or ""), str(mention or "")
        pos = sentence.find(quote) if quote else -1
        number_at = pos + max(quote.find(mention), 0) if pos >= 0 and mention else -1
        in_list = number_at >= 0 and _in_list_of_quantities(sentence, number_at, number_at + len(mention))
        clause = _clause_before(sentence, quote, mention, note_reads_clause=not in_list) if sentence else quote
        before = sentence[: pos + len(quote)] if pos >= 0 else sentence
        obj = "" if pd.isna(obj) else str(obj)
        # an item of a list of quantities (行政许可95项、行政处罚92项, or a breakdown in brackets)
        # is named by its own object only; other mentions whose clause fits nothing take their
        # topic from the sentence (其中调解结案34宗)
        # a document title in the frame (印发《…督查工作方案》) names a document, not the topic
        before = _TITLE.sub("", before)
        if in_list:
            before = ""
        elif (earlier and clause and sentence.startswith(clause) and _elliptical(clause, mention)
              and (not obj or obj in clause.split(mention)[0])):
            # a sentence that opens with a bare action and its number (审结469件，…), counting nothing
            # named after the number, goes on from the one before
            before = earlier + "\n" + before
        ids.append(match_indicator(obj, clause, str(unit or ""), str(kind or ""), catalogue=entries,
                                   sentence_before=before, elliptical=_elliptical(clause, mention),
                                   context_words=context_words,
                                   topic=sentence[: pos + len(quote)] if pos >= 0 else sentence))
    out["indicator_id"] = pd.Series(ids, index=out.index, dtype="object")
    out["indicator_name"] = names.map(out["indicator_id"])
    out["theme"] = themes.map(out["indicator_id"])
    return out


def _previous_sentences(quantities: pd.DataFrame) -> list[str]:
    """For each mention, the text of the sentence just before its own in the same report when a
    mention stands there too (the only sentences this table holds), else ''."""
    if not {"doc_id", "sentence_id", "sentence"} <= set(quantities.columns):
        return [""] * len(quantities)
    known = dict(zip(zip(quantities["doc_id"], quantities["sentence_id"]), quantities["sentence"]))
    return [str(known.get((doc, _previous_id(sid)), "") or "")
            for doc, sid in zip(quantities["doc_id"], quantities["sentence_id"])]


def _previous_id(sentence_id):
    """The id of the sentence before: ``n - 1``, or for ids of the form ``doc:0021``, ``doc:0020``.

    >>> _previous_id("wuzhong:0021"), _previous_id(7)
    ('wuzhong:0020', 6)
    """
    if isinstance(sentence_id, (int, np.integer)):
        return sentence_id - 1
    head, _, number = str(sentence_id).rpartition(":")
    if not number.isdigit() or int(number) == 0:
        return None
    return f"{head}:{int(number) - 1:0{len(number)}d}"


_TITLE = re.compile(r"《[^《》]*》")
_QUANTITY = re.compile(r"\d[\d,.]*\s*[万亿千]?\s*[\u4e00-\u9fff%]")


def _in_list_of_quantities(sentence: str, start: int, end: int) -> bool:
    """Whether the number at [start, end) is an item of a list of quantities: a 、 joins it to
    another quantity, or it stands in brackets that hold two or more quantities."""
    clause_start, clause_end = start, end
    while clause_start > 0 and sentence[clause_start - 1] not in _CLAUSE_BREAK:
        clause_start -= 1
    while clause_end < len(sentence) and sentence[clause_end] not in _CLAUSE_BREAK:
        clause_end += 1
    if sentence[end:end + 1] == "、" or ("、" in sentence[clause_start:start]
                                         and _QUANTITY.search(sentence, clause_start, start)):
        return True
    opened = max(sentence.rfind("（", 0, start), sentence.rfind("(", 0, start))
    if opened < 0 or max(sentence.rfind("）", 0, start), sentence.rfind(")", 0, start)) > opened:
        return False
    closed = min([i for i in (sentence.find("）", end), sentence.find(")", end)) if i >= 0] or [len(sentence)])
    return len(_QUANTITY.findall(sentence[opened:closed])) >= 2


def _elliptical(clause: str, mention: str) -> bool:
    """A clause that is only an action and its number (受理20件, 审结49件, 调解和解12件): its
    subject is the topic of the sentence."""
    head = clause.split(mention)[0] if mention and mention in clause else clause
    for word in (*_SUBSET_WORDS, "共", "累计", "全年", "依法"):
        head = head.replace(word, "")
    return 0 < len(head.strip()) <= 4


# ---- comparison ------------------------------------------------------------------------------------

def indicator_cells(quantities: pd.DataFrame, documents: pd.DataFrame, *,
                    catalogue: pd.DataFrame | None = None, indicators: list[str] | None = None,
                    theme: int | None = None, sentences: pd.DataFrame | None = None,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long indicator table (one row per report × indicator with a cell, INDICATOR_VALUES
    columns) and the evidence behind it (every candidate mention with its verdict: chosen, agrees,
    competing, below or rejected, and why; ``cells.CANDIDATES``).

    Which mention becomes the cell is decided in :mod:`helpers.cells`: targets, other years,
    multi-year totals and sub-units are rejected; a figure for the whole body ranks above one
    without scope and above a part of a total; where the best-ranked mentions disagree the cell's
    ``status`` is ``review`` and its value is empty. ``sentences`` give the section types (a plan
    is a target). Mentions are never summed.
    """
    from helpers import cells

    catalogue = load_catalogue() if catalogue is None else catalogue
    q = quantities[quantities["indicator_id"].notna()]
    if indicators:
        q = q[q["indicator_id"].isin(indicators)]
    if theme is not None:
        q = q[q["indicator_id"].isin(set(catalogue.loc[catalogue["theme"] == theme, "id"]))]
    candidates = cells.candidate_table(q, documents=documents, sentences=sentences, catalogue=catalogue)
    chosen = cells.choose_cells(candidates)
    meta = {row["doc_id"]: row for row in documents.drop_duplicates("doc_id").to_dict("records")}
    names = {key: dict(zip(catalogue["id"], catalogue[col]))
             for key, col in (("indicator_name", "name_zh"), ("indicator_name_en", "name_en"), ("theme", "theme"))}
    others: dict[tuple, list[float]] = {}
    for doc, ind, value, verdict in zip(candidates["doc_id"], candidates["indicator_id"], candidates["value"],
                                        candidates["verdict"]):
        if verdict != "chosen":
            others.setdefault((doc, ind), []).append(value)
    rows = []
    for cell in chosen.to_dict("records"):
        doc, ind = cell["doc_id"], cell["indicator_id"]
        report = meta.get(doc, {})
        rest = others.get((doc, ind), [])
        rows.append({
            "doc_id": doc, **{k: report.get(k) for k in ("file", "region", "report_year")},
            "indicator_id": ind, **{k: m.get(ind) for k, m in names.items()},
            "value": float(cell["value"]), "unit": cell["unit"], "approx": bool(cell["approx"]),
            "approx_marker": cell["approx_marker"] or "",
            "n_mentions": len(rest) + (cell["status"] == "stated"),
            "other_values": ";".join(f"{v:g}" for v in rest),
            "quote": cell["quote"], "sentence": cell["sentence"], "start": int(cell["start"]), "end": int(cell["end"]),
            "status": cell["status"], "n_candidates": int(cell["n_candidates"]), "candidates": cell["candidates"],
            "reason": cell["reason"],
        })
    out = pd.DataFrame(rows, columns=INDICATOR_VALUES)
    out["value"] = out["value"].astype("float64")
    return out, candidates


def indicator_values(quantities: pd.DataFrame, documents: pd.DataFrame, *,
                     catalogue: pd.DataFrame | None = None, indicators: list[str] | None = None,
                     theme: int | None = None, sentences: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table: one row per report × indicator with a cell (INDICATOR_VALUES columns); see
    :func:`indicator_cells`, which also returns the evidence of every candidate. Reports that do not
    state an indicator have no row; ``comparison_table`` shows them as NaN, apart from a stated 0.
    """
    return indicator_cells(quantities, documents, catalogue=catalogue, indicators=indicators, theme=theme,
                           sentences=sentences)[0]


def stated(values: pd.DataFrame) -> pd.DataFrame:
    """The cells that hold a value (stated or overridden), not those waiting for review."""
    if "status" not in values:
        return values
    return values[values["status"].isin(["stated", "override"]) & values["value"].notna()]


def _row_labels(values: pd.DataFrame, documents: pd.DataFrame | None) -> tuple[pd.Series, list[str]]:
    """Each value row's report label and the labels of every report in order (``documents``, else
    the reports of ``values``): region and year, with the doc_id where two reports share both."""
    reports = (documents if documents is not None else values).drop_duplicates("doc_id")
    labels = groups.report_labels(reports)
    by_doc = dict(zip(reports["doc_id"], labels))
    return values["doc_id"].map(by_doc), labels.tolist()


def comparison_table(values: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                     label: str = "name") -> pd.DataFrame:
    """Wide region-year × indicator table of values.

    Every report in ``documents`` gets a row, so an indicator a report does not state is NaN
    ("not reported"), while a stated zero stays 0; a cell waiting for review is NaN too (its
    candidates are in the long table). ``label``: "name" (Chinese name) or "id".

    >>> v = pd.DataFrame({"doc_id": ["a", "b"], "region": ["甲区", "乙区"], "report_year": [2022, 2022],
    ...     "indicator_id": ["x", "x"], "indicator_name": ["指标", "指标"], "value": [0.0, 5.0]})
    >>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["甲区", "乙区", "丙区"], "report_year": [2022] * 3})
    >>> comparison_table(v, documents=docs)["指标"].tolist()
    [0.0, 5.0, nan]
    """
    column = "indicator_name" if label == "name" else "indicator_id"
    v = stated(values)
    rows, order = _row_labels(v, documents)
    wide = v.assign(row=rows).pivot_table(index="row", columns=column, values="value", aggfunc="first",
                                          dropna=False)
    # an indicator whose every cell waits for review keeps its (empty) column
    wide = wide.reindex(columns=sorted(set(values[column].dropna())))
    if documents is not None:
        wide = wide.reindex(order)
    wide.index.name = "region_year"
    wide.columns.name = None
    return wide


def comparison_display(values: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                       label: str = "name", units: bool = True) -> pd.DataFrame:
    """Like ``comparison_table`` but as text for reading: approximate values carry their marker
    (1200余, 约300), a cell waiting for review is "?", a value not reported is "—", a stated zero
    is "0". With ``units`` each value carries its unit (6,308件)."""

    def fmt(row) -> str:
        if getattr(row, "status", "stated") == "review" or pd.isna(row.value):
            return "?"
        number = f"{row.value:,.0f}" if float(row.value).is_integer() else f"{row.value:,.2f}".rstrip("0")
        marker = row.approx_marker or ""
        prefix = next((m for m in ("约", "近", "超", "逾") if marker.startswith(m)), "")
        suffix = marker[len(prefix):]
        text = f"{prefix}{number}{suffix}" if row.approx else number
        unit = "" if pd.isna(row.unit) else str(row.unit)
        return text + unit if (units or unit == "%") else text

    column = "indicator_name" if label == "name" else "indicator_id"
    rows, order = _row_labels(values, documents)
    v = values.assign(row=rows, text=[fmt(r) for r in values.itertuples()])
    wide = v.pivot_table(index="row", columns=column, values="text", aggfunc="first")
    if documents is not None:
        wide = wide.reindex(order)
    wide.index.name = "region_year"
    wide.columns.name = None
    return wide.fillna("—")


def coverage_table(values: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                   catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which report states which indicator: indicator rows × region-year columns of 0/1, plus
    ``n_reports`` (how many reports state it), sorted most-reported first.

    With ``catalogue`` given, indicators no report states are kept as rows of zeros.
    """
    rows, order = _row_labels(values, documents)
    v = values.assign(row=rows, stated=1)
    wide = v.pivot_table(index="indicator_name", columns="row", values="stated", aggfunc="max", fill_value=0)
    if documents is not None:
        wide = wide.reindex(columns=order, fill_value=0)
    if catalogue is not None:
        wide = wide.reindex(catalogue["name_zh"].tolist(), fill_value=0)
    wide = wide.fillna(0).astype(int)
    wide["n_reports"] = wide.sum(axis=1)
    wide.columns.name = None
    return wide.sort_values("n_reports", ascending=False, kind="stable")


def year_over_year(values: pd.DataFrame) -> pd.DataFrame:
    """Rows for each region × indicator stated in two or more report years: consecutive pairs
    with the absolute and relative change (the relative change is NaN from a stated 0)."""
    cols = ["region", "indicator_id", "indicator_name", "year_from", "year_to", "value_from", "value_to",
            "change", "pct_change", "quote_from", "quote_to"]
    rows = []
    v = stated(values).dropna(subset=["region", "report_year"]).copy()
    v = v[v["region"].astype(str).str.strip() != ""]  # reports of unknown region cannot be paired
    v["report_year"] = pd.to_numeric(v["report_year"], errors="coerce")
    # only regions with reports from two or more years have pairs
    v = v[v.groupby("region")["report_year"].transform("nunique") > 1]
    for (region, ind), group in v.groupby(["region", "indicator_id"]):
        group = group.sort_values("report_year").drop_duplicates("report_year")
        for a, b in zip(group.iloc[:-1].itertuples(), group.iloc[1:].itertuples()):
            change = b.value - a.value
            rows.append({
                "region": region, "indicator_id": ind, "indicator_name": a.indicator_name,
                "year_from": int(a.report_year), "year_to": int(b.report_year),
                "value_from": a.value, "value_to": b.value, "change": change,
                "pct_change": change / a.value * 100 if a.value else np.nan,
                "quote_from": a.quote, "quote_to": b.quote,
            })
    return pd.DataFrame(rows, columns=cols)


def stated_ratios(values: pd.DataFrame, *, relations: dict | None = None) -> pd.DataFrame:
    """Ratios computed only where one report states both parts (``indicator_relations.yaml``),
    beside the rate the report itself states, if any. No denominator is ever borrowed."""
    relations = relations or load_relations()
    cols = ["doc_id", "region", "report_year", "ratio", "numerator", "denominator", "numerator_value",
            "denominator_value", "computed", "stated_rate", "approx", "quote_numerator", "quote_denominator"]
    rows = []
    by_doc = {doc: g.set_index("indicator_id") for doc, g in stated(values).groupby("doc_id")}
    for doc, g in by_doc.items():
        for rel in relations["ratios"]:
            num, den = rel["numerator"], rel["denominator"]
            if num not in g.index or den not in g.index:
                continue
            n, d = g.loc[num], g.loc[den]
            if not d["value"]:
                continue
            rate = rel.get("rate")
            rate_value = g.loc[rate, "value"] if rate and rate in g.index else np.nan
            rows.append({
                "doc_id": doc, "region": n["region"], "report_year": n["report_year"],
                "ratio": rate or f"{num}/{den}", "numerator": num, "denominator": den,
                "numerator_value": n["value"], "denominator_value": d["value"],
                "computed": n["value"] / d["value"] * float(rel.get("scale", 1)),
                "stated_rate": rate_value, "approx": bool(n["approx"] or d["approx"]),
                "quote_numerator": n["quote"], "quote_denominator": d["quote"],
            })
    return pd.DataFrame(rows, columns=cols)


def plausibility_checks(quantities: pd.DataFrame, values: pd.DataFrame, *,
                        relations: dict | None = None) -> pd.DataFrame:
    """Contradictions inside a report, one row each: ``part_exceeds_whole`` (more cases closed
    than received), ``rate_mismatch`` (a stated rate that its stated parts do not give),
    ``percentage_over_100`` (a level above 100% that is not a change)."""
    relations = relations or load_relations()
    cols = ["doc_id", "check", "indicators", "values", "message", "quote"]
    rows = []
    for doc, g in stated(values).groupby("doc_id"):
        g = g.set_index("indicator_id")
        for pair in relations["not_greater"]:
            part, whole = pair["part"], pair["whole"]
            if part in g.index and whole in g.index and g.loc[part, "value"] > g.loc[whole, "value"]:
                rows.append({"doc_id": doc, "check": "part_exceeds_whole", "indicators": f"{part} > {whole}",
                             "values": f"{g.loc[part, 'value']:g} > {g.loc[whole, 'value']:g}",
                             "message": f"{g.loc[part, 'indicator_name']} exceeds {g.loc[whole, 'indicator_name']}",
                             "quote": f"{g.loc[part, 'quote']} | {g.loc[whole, 'quote']}"})
    ratios = stated_ratios(values, relations=relations)
    for r in ratios.dropna(subset=["stated_rate"]).itertuples():
        if abs(r.computed - r.stated_rate) > relations["rate_tolerance"]:
            rows.append({"doc_id": r.doc_id, "check": "rate_mismatch", "indicators": r.ratio,
                         "values": f"stated {r.stated_rate:g}% vs {r.numerator_value:g}/{r.denominator_value:g}"
                                   f" = {r.computed:.1f}%",
                         "message": "stated rate does not follow from its stated parts"
                                    + (" (parts are approximate)" if r.approx else ""),
                         "quote": f"{r.quote_numerator} | {r.quote_denominator}"})
    limit = relations["max_level_percentage"]
    over = quantities[(quantities["unit"] == "%") & (quantities["kind"] == "percentage") & (quantities["value"] > limit)]
    for r in over.itertuples():
        rows.append({"doc_id": r.doc_id, "check": "percentage_over_100", "indicators": r.indicator_id or "",
                     "values": f"{r.value:g}%", "message": f"a level above {limit:g}% that is not stated as a change",
                     "quote": r.quote})
    return pd.DataFrame(rows, columns=cols)


def evidence_table(values: pd.DataFrame) -> pd.DataFrame:
    """Region, indicator, status, value and the quote and sentence it came from, for every cell;
    a cell waiting for review lists its candidates with their quotes instead."""
    cols = ["region", "report_year", "indicator_name", "status", "value", "unit", "approx_marker", "quote",
            "candidates", "reason", "sentence", "doc_id", "start", "end"]
    return values.sort_values(["indicator_name", "region"])[cols].reset_index(drop=True)


def unmatched_mentions(quantities: pd.DataFrame) -> pd.DataFrame:
    """Mentions no catalogue entry took, most frequent objects first (where the catalogue can grow)."""
    q = quantities[quantities["indicator_id"].isna()]
    cols = ["doc_id", "value", "unit", "kind", "object", "quote"]
    counts = q["object"].fillna("").map(q["object"].fillna("").value_counts())
    return q.assign(_n=counts).sort_values(["_n", "object"], ascending=[False, True])[cols].reset_index(drop=True)


# ---- accuracy against a hand-annotated table ----------------------------------------------------------

def _normalise_quote(quote: str) -> str:
    from helpers import clean

    return clean.clean_text(str(quote), steps=("lookalikes", "fullwidth", "whitespace", "punctuation")).text


def _locate(text: str, quote: str) -> tuple[int, int] | None:
    for candidate in (_normalise_quote(quote), str(quote)):
        pos = text.find(candidate)
        if pos >= 0:
            return pos, pos + len(candidate)
    # last resort: ignore spaces and punctuation form, map back through an index
    squeeze = re.compile(r"[\s，,（）()：:；;。]")
    keep = [i for i, ch in enumerate(text) if not squeeze.match(ch)]
    flat = "".join(text[i] for i in keep)
    target = squeeze.sub("", str(quote))
    pos = flat.find(target) if target else -1
    if pos < 0:
        return None
    return keep[pos], keep[pos + len(target) - 1] + 1


def _same_value(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)


def match_gold(mentions: pd.DataFrame, gold: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Pair gold rows with extracted mentions of the same file whose span overlaps the gold
    quote (found in the cleaned text after the cleaning normalisation). Pairs with equal values
    are made first, then remaining overlaps. One row per gold row and per unpaired mention:
    status matched / missed / spurious / unlocated; for matched pairs value_ok and object_ok
    (``object_agrees`` between the extracted and the gold object)."""
    texts = dict(zip(documents["file"], documents["text"]))
    doc_of = dict(zip(documents["file"], documents["doc_id"]))
    spans = []
    for g in gold.itertuples():
        text = texts.get(g.file)
        spans.append(None if text is None else _locate(text, g.quote))
    m = mentions.reset_index(drop=True)
    used: set[int] = set()
    pair: dict[int, int] = {}
    by_doc = {doc: grp for doc, grp in m.groupby("doc_id")}
    for equal_only in (True, False):
        for gi, g in enumerate(gold.itertuples()):
            if gi in pair or spans[gi] is None:
                continue
            qs, qe = spans[gi]
            grp = by_doc.get(doc_of.get(g.file))
            if grp is None:
                continue
            cands = grp[(grp["start"] < qe) & (grp["end"] > qs)]
            for mi, row in cands.iterrows():
                if mi in used:
                    continue
                if equal_only and not _same_value(row["value"], g.value):
                    continue
                pair[gi] = mi
                used.add(mi)
                break
    rows = []
    for gi, g in enumerate(gold.itertuples()):
        base = {"file": g.file, "gold_value": g.value, "gold_unit": g.unit, "gold_quote": g.quote,
                "gold_indicator": _blank(getattr(g, "indicator", None)), "gold_kind": getattr(g, "kind", None),
                "gold_object": _blank(getattr(g, "object", None))}
        if spans[gi] is None:
            rows.append({**base, "status": "unlocated"})
        elif gi in pair:
            row = m.loc[pair[gi]]
            rows.append({**base, "status": "matched", "value": row["value"], "unit": row["unit"],
                         "quote": row["quote"], "value_ok": _same_value(row["value"], g.value),
                         "indicator": _blank(row.get("indicator_id")), "kind": row.get("kind"),
                         "object": _blank(row.get("object")),
                         "object_ok": object_agrees(_blank(row.get("object")), _blank(getattr(g, "object", None)))})
        else:
            rows.append({**base, "status": "missed"})
    files = {v: k for k, v in doc_of.items()}
    for mi, row in m.iterrows():
        if mi not in used and row["doc_id"] in files:
            rows.append({"file": files[row["doc_id"]], "status": "spurious", "value": row["value"],
                         "unit": row["unit"], "quote": row["quote"], "object": _blank(row.get("object"))})
    return pd.DataFrame(rows, columns=["file", "status", "gold_value", "gold_unit", "gold_quote", "gold_indicator",
                                       "gold_kind", "gold_object", "value", "unit", "quote", "object", "value_ok",
                                       "object_ok", "indicator", "kind"])


_OBJECT_NOISE = re.compile(r"[（）()“”\"‘’'《》「」『』<>\s]")
_OBJECT_NOTE = re.compile(r"[（(][^（）()]*[）)]")


def _object_core(text: str, *, notes: bool = True) -> str:
    """An object without quotes, brackets and spaces (“法律明白人” -> 法律明白人), and without
    notes in brackets when ``notes`` is False (村（社区） -> 村)."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return _OBJECT_NOISE.sub("", text if notes else _OBJECT_NOTE.sub("", text))


def object_agrees(extracted: str, gold: str, *, min_bigram_share: float = 2 / 3) -> bool:
    """Whether an extracted counted object names what a hand-written gold object names.

    Gold objects are written out in full (法律顾问出具的法律意见) while the text often states a
    shorter phrase (法律意见), so equality is too strict. Quotes, brackets and spaces aside, the
    two agree when the gold object ends with the head of the extracted one (its last two
    characters, notes in brackets left out: 意见, 案件, 调解率, 村), or when at least
    ``min_bigram_share`` of the extracted object's character pairs occur in the gold object
    (结案 within 行政复议调解结案案件). An object of fewer than two characters never agrees.

    >>> object_agrees("法律意见", "法律顾问出具的法律意见"), object_agrees("组织", "行政执法人员公共法律知识考试")
    (True, False)
    >>> object_agrees("全部", "移交的司法局干部职工"), object_agrees("村（社区）", "获评省民主法治示范村(社区)")
    (False, True)
    """
    ext, ref = _object_core(extracted), _object_core(gold)
    if len(ext) < 2 or not ref:
        return False
    head = _object_core(extracted, notes=False)[-2:]
    if head and _object_core(gold, notes=False).endswith(head):
        return True
    bigrams = [ext[i:i + 2] for i in range(len(ext) - 1)]
    return sum(b in ref for b in bigrams) / len(bigrams) >= min_bigram_share


def _blank(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def evaluate_against_gold(mentions: pd.DataFrame, gold: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Mention recall, precision, value accuracy, object quality and indicator agreement per file
    and in total (last row "all").

    recall = gold rows paired / gold rows; precision = mentions paired / mentions (of the gold's
    files); value accuracy = paired mentions with the gold value / paired mentions; object quality
    = paired mentions whose object agrees with the gold object (``object_agrees``) / paired
    mentions; indicator agreement = paired mentions whose indicator id equals the gold's, both
    empty counting as agreement / paired mentions.
    """
    return accuracy_from_pairs(match_gold(mentions, gold, documents))


def accuracy_from_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """The figures of :func:`evaluate_against_gold` from pairs already made by :func:`match_gold`,
    so a caller that also lists the disagreements pairs the mentions once."""
    rows = []
    for name, grp in [*pairs.groupby("file"), ("all", pairs)]:
        n_gold = int((grp["status"] != "spurious").sum())
        matched = grp[grp["status"] == "matched"]
        n_extracted = len(matched) + int((grp["status"] == "spurious").sum())
        share = (lambda hits: hits.astype(bool).mean()) if len(matched) else (lambda hits: np.nan)
        rows.append({
            "file": name, "gold": n_gold, "extracted": n_extracted, "matched": len(matched),
            "recall": len(matched) / n_gold if n_gold else np.nan,
            "precision": len(matched) / n_extracted if n_extracted else np.nan,
            "value_accuracy": share(matched["value_ok"]),
            "object_quality": share(matched["object_ok"]),
            "indicator_agreement": share(matched["indicator"].fillna("") == matched["gold_indicator"].fillna("")),
        })
    return pd.DataFrame(rows)
