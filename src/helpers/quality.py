"""Report quality and compliance: how well each annual report meets what the rules require.

《法治政府建设与责任落实督察工作规定》(2019) fixes five contents of the annual report and its
publication by 1 April of the following year. Five dimensions, one row per report
(:func:`report_quality`), each value traceable to the heading or sentence that shows it
(:func:`quality_evidence`):

- completeness: which of the five parts are present, as a typed top-level section or as phrasing
  merged into another part (:func:`completeness`);
- timeliness: days from the deadline, negative when early (:func:`timeliness`);
- specificity: quantities per 1,000 characters, sentences with a number, catalogue indicators stated,
  concrete examples (named places, cases, dates) per section type (:func:`statement_flags`);
- candour: length of the 不足 part, its generic or copied statements, and whether each stated
  shortcoming is matched by a measure in the plans part (:func:`shortcoming_matches`);
- originality: share of statements reused near-verbatim from other reports (:func:`reuse_flags`).

Every rule (parts and phrasings, the deadline, generic phrases, example patterns, the matching
rule) is in ``data/quality_rules.yaml``. Functions take and return DataFrames and touch no files
beyond reading that packaged rule file.

>>> docs = pd.DataFrame({"doc_id": ["a"], "report_year": ["2024"], "published": ["2025-02-17"]})
>>> timeliness(docs)[["deadline", "days_from_deadline", "timeliness"]].to_dict("records")
[{'deadline': '2025-04-01', 'days_from_deadline': -43, 'timeliness': 'on time'}]
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from helpers import config, schema

RULES_FILE = config.PACKAGE_DATA / "quality_rules.yaml"
PARTS = ("results", "shortcomings", "leadership", "plans", "other")
EXAMPLE_KINDS = ("date", "case", "place")

# Columns of the tables returned here (data/processed/report_quality and quality_evidence).
TIMELINESS = ["doc_id", "report_year", "published", "published_origin", "deadline", "days_from_deadline",
              "timeliness", "timeliness_evidence"]
COMPLETENESS = ["doc_id", "part", "name_zh", "required", "present", "source", "section_id", "sentence_id",
                "section_type", "evidence"]
STATEMENTS = ["doc_id", "sentence_id", "section_id", "section_type", "text", "n_chars", "n_quantities",
              "examples", "example_text", "generic", "generic_phrase"]
REUSE = ["doc_id", "sentence_id", "reuse_cover", "n_documents", "reused"]
SHORTCOMINGS = ["doc_id", "shortcoming", "section_id", "sentence_id", "text", "matched", "n_shared",
                "shared_terms", "plan_section_id", "plan_sentence_id", "plan_text"]
EVIDENCE = ["doc_id", "dimension", "measure", "section_id", "sentence_id", "section_type", "text", "detail"]
REPORT_QUALITY = [
    "doc_id", "file", "region", "report_year",
    # completeness
    "n_parts", "completeness", "missing_parts",
    *[f"{c}_{p}" if c == "has" else f"{p}_{c}" for p in PARTS for c in ("has", "source", "evidence")],
    # timeliness
    "published", "published_origin", "deadline", "days_from_deadline", "timeliness",
    # specificity
    "n_chars", "n_statements", "n_quantities", "quantities_per_1k", "number_sentence_share",
    "n_indicators_stated", "n_indicators_review", "indicator_share",
    *[f"examples_{t}" for t in schema.SECTION_TYPES], "examples_per_1k",
    # candour
    "shortcomings_chars", "shortcomings_share", "n_shortcoming_statements", "n_generic", "generic_share",
    "n_shortcomings_reused", "shortcomings_reused_share", "n_shortcomings", "n_matched", "matched_share",
    # originality
    "n_reused", "reused_share", "originality",
]
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


# --------------------------------------------------------------------------- rules

def _check_patterns(path, where: str, patterns) -> None:
    for pattern in patterns or []:
        try:
            re.compile(str(pattern).replace("{next_year}", "2000"))
        except re.error as err:
            raise ValueError(f"{path}: {where}: bad pattern {pattern!r} ({err})") from None


@functools.lru_cache(maxsize=4)
def _read_rules(path: str) -> dict:
    data = config.read_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of rules")
    parts = data.get("parts")
    if not isinstance(parts, list) or [p.get("id") for p in parts if isinstance(p, dict)] != list(PARTS):
        raise ValueError(f"{path}: 'parts' must list the five parts in order: {list(PARTS)}")
    for part in parts:
        missing = [k for k in ("name_zh", "required", "section_types", "phrasings", "search_in") if k not in part]
        if missing:
            raise ValueError(f"{path}: part {part['id']} lacks {missing}")
        _check_patterns(path, f"part {part['id']}", [*part["phrasings"], part.get("heading") or "x"])
    deadline = data.get("deadline") or {}
    missing = [k for k in ("month", "day", "years_after_report", "inclusive", "first_report_year") if k not in deadline]
    if missing:
        raise ValueError(f"{path}: 'deadline' lacks {missing}")
    for key in ("generic_phrases", "specific_markers", "intro_patterns", "cause_patterns"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{path}: '{key}' must be a list of patterns")
        _check_patterns(path, key, data[key])
    examples = data.get("examples") or {}
    if sorted(examples) != sorted(EXAMPLE_KINDS):
        raise ValueError(f"{path}: 'examples' must define {list(EXAMPLE_KINDS)}")
    for kind, spec in examples.items():
        _check_patterns(path, f"examples.{kind}", [spec.get("pattern"), *([spec["exclude"]] if spec.get("exclude") else [])])
    for key, fields in (("matching", ("min_shared_terms", "min_term_chars", "ignore_terms")),
                        ("reuse", ("min_cover", "unit", "threshold"))):
        missing = [f for f in fields if f not in (data.get(key) or {})]
        if missing:
            raise ValueError(f"{path}: '{key}' lacks {missing}")
    return data


def load_rules(path: str | Path | None = None) -> dict:
    """The quality rules of ``data/quality_rules.yaml`` (or ``path``), checked: the five parts in
    order, every pattern a valid regular expression, every setting present.

    >>> [p["id"] for p in load_rules()["parts"]]
    ['results', 'shortcomings', 'leadership', 'plans', 'other']
    """
    return _read_rules(str(Path(path) if path else RULES_FILE))


def _rules(rules) -> dict:
    return rules if isinstance(rules, dict) else load_rules(rules)


def _part(rules: dict, part: str) -> dict:
    return next(p for p in rules["parts"] if p["id"] == part)


@functools.lru_cache(maxsize=256)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


# --------------------------------------------------------------------------- phrase rules

def part_phrasings(text: str, part: str, *, report_year=None, rules=None) -> str:
    """The phrase of ``text`` showing that it reports ``part`` (one of PARTS), or "" when none
    does; ``report_year`` fills the ``{next_year}`` of the plans phrasings.

    >>> part_phrasings("区政府主要领导带头履行法治建设第一责任人职责。", "leadership")
    '第一责任人'
    """
    year = pd.to_numeric(report_year, errors="coerce")
    next_year = str(int(year) + 1) if pd.notna(year) else r"(?!x)x"
    patterns = tuple(str(p).replace("{next_year}", next_year) for p in _part(_rules(rules), part)["phrasings"])
    match = _alternation(patterns).search(text or "")
    return match.group() if match else ""


def concrete_examples(text: str, *, rules=None) -> dict[str, str]:
    """Kinds of concrete example in ``text`` (date, case, place), each with the text matched.

    >>> concrete_examples("选取西河镇、惠民街道作为试点")
    {'place': '选取西河镇'}
    """
    found = {}
    for kind, spec in _rules(rules)["examples"].items():
        exclude = re.compile(spec["exclude"]) if spec.get("exclude") else None
        for match in re.finditer(spec["pattern"], text or ""):
            if exclude is None or not exclude.search(match.group()):
                found[kind] = match.group()
                break
    return {kind: found[kind] for kind in EXAMPLE_KINDS if kind in found}


def generic_phrase(text: str, *, rules=None) -> str:
    """The first generic formula of ``text`` (rules ``generic_phrases``), or "".

    >>> generic_phrase("普法宣传形式单一，针对性和实效性不强。")
    '形式单一'
    """
    match = _alternation(tuple(_rules(rules)["generic_phrases"])).search(text or "")
    return match.group() if match else ""


def specific_marker(text: str, *, rules=None) -> str:
    """A cause, consequence or named omission in ``text`` (rules ``specific_markers``), or ""."""
    match = _alternation(tuple(_rules(rules)["specific_markers"])).search(text or "")
    return match.group() if match else ""


def is_generic(text: str, *, n_quantities: int = 0, rules=None) -> bool:
    """True when ``text`` states a shortcoming only in formulas: a generic phrase, and no quantity,
    no concrete example and no cause, consequence or named omission.

    >>> is_generic("三是普法宣传形式单一，针对性和实效性不强。")
    True
    >>> is_generic("因疫情反复，多场线下活动取消。")
    False
    """
    rules = _rules(rules)
    if not generic_phrase(text, rules=rules):
        return False
    return not (n_quantities or concrete_examples(text, rules=rules) or specific_marker(text, rules=rules))


# --------------------------------------------------------------------------- structure helpers

def top_sections(sections: pd.DataFrame) -> pd.DataFrame:
    """The top-level sections of each report (its smallest heading level above 0; the untitled
    opening, level 0, is not a part)."""
    titled = sections[sections["level"] > 0]
    return titled[titled["level"] == titled.groupby("doc_id")["level"].transform("min")]


def statements(sentences: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """The sentences measured: all but the headings of the top-level parts (一、… / 第一部分 …),
    which only name a part; sub-section headings stay."""
    top_ids = set(top_sections(sections)["section_id"])
    heading = sentences["is_heading"].astype(bool) if "is_heading" in sentences else pd.Series(False, index=sentences.index)
    keep = ~(heading & sentences["section_id"].isin(top_ids))
    return sentences[keep].sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)


def _years(documents: pd.DataFrame) -> dict:
    if "report_year" not in documents:
        return {}
    return dict(zip(documents["doc_id"], pd.to_numeric(documents["report_year"], errors="coerce")))


# --------------------------------------------------------------------------- completeness

def completeness(documents: pd.DataFrame, sections: pd.DataFrame, sentences: pd.DataFrame, *,
                 rules=None) -> pd.DataFrame:
    """One row per report and part (schema ``COMPLETENESS``): present or not, and how it shows:
    ``source`` "section" (a top-level section of the part's type; evidence its heading) or
    "phrasing" (a sentence of another part saying it; evidence that sentence)."""
    rules = _rules(rules)
    schema.check_columns(sections, ["doc_id", "section_id", "level", "heading", "section_type"], table="sections")
    schema.check_columns(sentences, ["doc_id", "sentence_id", "section_id", "section_type", "text", "start"],
                         table="sentences")
    years = _years(documents)
    top = top_sections(sections)
    top_by_doc = {d: g for d, g in top.groupby("doc_id", sort=False)}
    ordered = sentences.sort_values(["doc_id", "start"], kind="stable")
    sent_by_doc = {d: g for d, g in ordered.groupby("doc_id", sort=False)}
    rows = []
    for doc_id in documents["doc_id"]:
        tops = top_by_doc.get(doc_id, top.iloc[:0])
        sents = sent_by_doc.get(doc_id, ordered.iloc[:0])
        for part in rules["parts"]:
            row = {"doc_id": doc_id, "part": part["id"], "name_zh": part["name_zh"], "required": bool(part["required"]),
                   "present": False, "source": "", "section_id": "", "sentence_id": "", "section_type": "",
                   "evidence": ""}
            typed = tops[tops["section_type"].isin(part["section_types"])]
            if len(typed):
                preferred = typed[typed["heading"].fillna("").str.contains(part.get("heading") or "$^", regex=True)]
                chosen = (preferred if len(preferred) else typed).iloc[0]
                row.update(present=True, source="section", section_id=chosen["section_id"],
                           section_type=chosen["section_type"], evidence=str(chosen["heading"]))
            else:
                where = sents[sents["section_type"].isin(part["search_in"])]
                for sent in where.itertuples(index=False):
                    if part_phrasings(sent.text, part["id"], report_year=years.get(doc_id), rules=rules):
                        row.update(present=True, source="phrasing", section_id=sent.section_id,
                                   sentence_id=sent.sentence_id, section_type=sent.section_type, evidence=sent.text)
                        break
            rows.append(row)
    return pd.DataFrame(rows, columns=COMPLETENESS)


# --------------------------------------------------------------------------- timeliness

def _date(value) -> dt.date | None:
    match = _DATE.match(str(value or "").strip())
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def timeliness(documents: pd.DataFrame, *, rules=None) -> pd.DataFrame:
    """Publication (``documents.published``) against the deadline, 1 April of the year after
    ``report_year``: ``days_from_deadline`` (negative = early; empty when no date) and
    ``timeliness``: "on time", "late", "unknown" (no date or no year) or "before the rule" (a
    report year before the 2019 rule)."""
    rules = _rules(rules)
    rule = rules["deadline"]
    schema.check_columns(documents, ["doc_id", "report_year", "published"], table="documents")
    rows = []
    origins = documents["published_origin"] if "published_origin" in documents else pd.Series("", index=documents.index)
    for doc_id, year, published, origin in zip(documents["doc_id"], documents["report_year"], documents["published"],
                                               origins.fillna("")):
        year_n = pd.to_numeric(year, errors="coerce")
        date = _date(published)
        deadline = (dt.date(int(year_n) + int(rule["years_after_report"]), int(rule["month"]), int(rule["day"]))
                    if pd.notna(year_n) else None)
        days = (date - deadline).days if date and deadline else None
        if days is None:
            status = "unknown"
            why = ("no publication date" if not date else "no report year") + (f"; due by {deadline}" if deadline else "")
        else:
            limit = 0 if rule["inclusive"] else -1
            status = "on time" if days <= limit else "late"
            if year_n < int(rule["first_report_year"]):
                status = "before the rule"
            why = f"published {date} ({origin or 'given'}); due by {deadline}: {abs(days)} days {'early' if days < 0 else 'late' if days > 0 else 'on the day'}"
        rows.append((doc_id, "" if pd.isna(year_n) else str(int(year_n)), str(published or ""), str(origin),
                     str(deadline) if deadline else "", days, status, why))
    out = pd.DataFrame(rows, columns=TIMELINESS)
    out["days_from_deadline"] = out["days_from_deadline"].astype("Int64")
    return out


# --------------------------------------------------------------------------- statements

def statement_flags(sentences: pd.DataFrame, sections: pd.DataFrame, quantities: pd.DataFrame | None = None, *,
                    rules=None) -> pd.DataFrame:
    """One row per statement (:func:`statements`): its quantity mentions, the kinds of concrete
    example it holds (``examples``, ";"-joined, and the text matched), and whether it is generic
    (:func:`is_generic`; ``generic_phrase`` the formula found). Without ``quantities`` no
    statement has a number."""
    rules = _rules(rules)
    out = statements(sentences, sections)
    counts = (quantities.groupby("sentence_id").size() if quantities is not None and len(quantities)
              else pd.Series(dtype="int64"))
    out = out.assign(n_chars=out["text"].str.len(),
                     n_quantities=out["sentence_id"].map(counts).fillna(0).astype("int64"))
    found = [concrete_examples(t, rules=rules) for t in out["text"]]
    phrases = [generic_phrase(t, rules=rules) for t in out["text"]]
    anchored = [bool(f) or bool(specific_marker(t, rules=rules)) for f, t in zip(found, out["text"])]
    out["examples"] = [";".join(f) for f in found]
    out["example_text"] = [";".join(f.values()) for f in found]
    out["generic"] = [bool(p) and not a and not n for p, a, n in zip(phrases, anchored, out["n_quantities"])]
    out["generic_phrase"] = phrases
    return out[STATEMENTS]


# --------------------------------------------------------------------------- reuse

def reuse_flags(sentences: pd.DataFrame, boilerplate: pd.DataFrame | None = None, *, rules=None,
                unit: str | None = None, threshold: float | None = None) -> pd.DataFrame:
    """How much of each sentence other reports repeat near-verbatim: ``reuse_cover``, the share of
    its characters inside flagged units of ``boilerplate`` (notebook 02's table; computed here with
    ``terms.boilerplate`` and the rules' unit and threshold when None), and ``reused`` (cover at
    least ``reuse.min_cover``; empty when the sentences come from fewer than two reports)."""
    from helpers import terms

    rules = _rules(rules)
    reuse = rules["reuse"]
    if boilerplate is None:
        boilerplate = terms.boilerplate(sentences, unit=unit or reuse["unit"], threshold=threshold or reuse["threshold"])
    flagged = boilerplate[boilerplate["boilerplate"].astype(bool)]
    flagged = flagged[flagged["sentence_id"].isin(set(sentences["sentence_id"]))]
    lengths = dict(zip(sentences["sentence_id"], sentences["text"].fillna("").str.len()))
    cover, n_docs = {}, {}
    for sentence_id, spans in flagged.groupby("sentence_id", sort=False):
        covered = np.zeros(max(lengths.get(sentence_id, 0), int(spans["end"].max())), dtype=bool)
        for start, end in zip(spans["start"], spans["end"]):
            covered[int(start):int(end)] = True
        cover[sentence_id] = covered[:lengths.get(sentence_id, len(covered))].mean() if lengths.get(sentence_id) else 0.0
        n_docs[sentence_id] = int(spans["n_documents"].max())
    out = sentences[["doc_id", "sentence_id"]].reset_index(drop=True)
    out["reuse_cover"] = out["sentence_id"].map(cover).fillna(0.0).astype(float)
    out["n_documents"] = out["sentence_id"].map(n_docs).fillna(1).astype("int64")
    comparable = sentences["doc_id"].nunique() >= 2
    out["reused"] = pd.array([bool(c >= reuse["min_cover"]) if comparable else pd.NA for c in out["reuse_cover"]],
                             dtype="boolean")
    return out[REUSE]


# --------------------------------------------------------------------------- shortcomings and plans

def _units(doc_sections: pd.DataFrame, doc_statements: pd.DataFrame, part_type: str, *, own_sentences: bool,
           rules: dict, split_intro: bool) -> list[tuple[str, str, str]]:
    """(section_id, sentence_id, text) of each unit of one report's ``part_type`` parts: its
    sub-sections when it has any (with the part's own sentences outside them when
    ``own_sentences``), else its statements."""
    tops = top_sections(doc_sections)
    tops = tops[tops["section_type"] == part_type]
    units = []
    for top in tops.itertuples(index=False):
        children = doc_sections[doc_sections["parent_id"] == top.section_id].sort_values("start")
        own = doc_statements[doc_statements["section_id"] == top.section_id]
        if len(children):
            units += [(c.section_id, "", str(c.text)) for c in children.itertuples(index=False)]
            if own_sentences:
                units += [("", s.sentence_id, s.text) for s in own.itertuples(index=False)]
            continue
        for s in own.itertuples(index=False):
            text = s.text
            if any(re.search(p, text) for p in rules["cause_patterns"]):
                continue
            if split_intro and any(re.search(p, text) for p in rules["intro_patterns"]):
                pieces = re.split(rules["intro_split"], text)
                if len(pieces) > 1:
                    text = pieces[-1].strip()
            if len(_CJK.findall(text)) < int(rules.get("min_statement_chars", 1)):
                continue  # an introduction with nothing after it
            units.append(("", s.sentence_id, text))
    return units


def content_terms(text: str, *, rules=None, segmenter=None, exclude: Iterable[str] = ()) -> set[str]:
    """The content terms of ``text`` for matching (rules ``matching``): tokens of at least
    ``min_term_chars`` characters with a Chinese character and no digit, not a stopword, not in
    ``ignore_terms`` or ``exclude``.

    >>> sorted(content_terms("加强规范性文件和重大行政决策管理"))
    ['管理', '规范性文件', '重大行政决策']
    """
    from helpers import segment

    rules = _rules(rules)
    matching = rules["matching"]
    stop = _stopwords() | frozenset(matching["ignore_terms"]) | frozenset(exclude)
    seg = segmenter or segment.default_segmenter()
    return {t for t in seg.cut(text or "") if len(t) >= int(matching["min_term_chars"]) and _CJK.search(t)
            and not re.search(r"\d", t) and t not in stop}


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from helpers import terms

    return terms.stopword_set()


def _shared(own: set[str], other: set[str], *, contains: bool) -> list[str]:
    """The terms of ``own`` that ``other`` shares: equal, or (``contains``) one holding the other.

    >>> _shared({"执法", "力量"}, {"行政执法"}, contains=True)
    ['执法']
    """
    if not contains:
        return sorted(own & other)
    return sorted(t for t in own if t in other or any(t in u or u in t for u in other))


def shortcoming_matches(sections: pd.DataFrame, sentences: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                        rules=None, segmenter=None) -> pd.DataFrame:
    """One row per stated shortcoming (a sub-section of the 不足 part, or else one of its
    statements without the list's introduction and without causes), with the plans unit sharing
    the most content terms with it (:func:`content_terms`; the report's own place names from
    ``documents`` left out) and ``matched`` when they share at least ``matching.min_shared_terms``
    (with ``matching.contains``, a term held in a longer one counts: 执法 in 行政执法).
    A report without a plans part matches none."""
    from helpers import segment

    rules = _rules(rules)
    minimum = int(rules["matching"]["min_shared_terms"])
    contains = bool(rules["matching"].get("contains", False))
    stated = statements(sentences, sections)
    rows = []
    for doc_id, doc_sections in sections.groupby("doc_id", sort=False):
        doc_statements = stated[stated["doc_id"] == doc_id]
        places = (segment.place_names(documents[documents["doc_id"] == doc_id], segmenter=segmenter)
                  if documents is not None else frozenset())
        problems = _units(doc_sections, doc_statements, "shortcomings", own_sentences=False, rules=rules, split_intro=True)
        plans = _units(doc_sections, doc_statements, "plans", own_sentences=True, rules=rules, split_intro=False)
        plan_terms = [content_terms(text, rules=rules, segmenter=segmenter, exclude=places) for _, _, text in plans]
        for k, (section_id, sentence_id, text) in enumerate(problems, start=1):
            own = content_terms(text, rules=rules, segmenter=segmenter, exclude=places)
            shared = [_shared(own, terms_, contains=contains) for terms_ in plan_terms]
            best = max(range(len(shared)), key=lambda i: (len(shared[i]), len(shared[i]) / max(1, len(plan_terms[i]))),
                       default=None)
            n = len(shared[best]) if best is not None else 0
            plan = plans[best] if best is not None and n else ("", "", "")
            rows.append((doc_id, k, section_id, sentence_id, text, n >= minimum and n > 0, n,
                         "、".join(shared[best]) if n else "", *plan))
    out = pd.DataFrame(rows, columns=SHORTCOMINGS)
    out["matched"] = out["matched"].astype(bool)
    return out


# --------------------------------------------------------------------------- assembly

def _assess(documents, sections, sentences, quantities, indicators, boilerplate, rules, catalogue, segmenter):
    rules = _rules(rules)
    schema.check_columns(documents, ["doc_id", "report_year", "published"], table="documents")
    docs = documents.reset_index(drop=True)
    kept = set(docs["doc_id"])
    sections = sections[sections["doc_id"].isin(kept)]
    sentences = sentences[sentences["doc_id"].isin(kept)]
    if quantities is not None:
        quantities = quantities[quantities["doc_id"].isin(kept)]
    parts = completeness(docs, sections, sentences, rules=rules)
    timing = timeliness(docs, rules=rules)
    flags = statement_flags(sentences, sections, quantities, rules=rules)
    reuse = reuse_flags(sentences, boilerplate, rules=rules)
    flags = flags.merge(reuse.drop(columns="doc_id"), on="sentence_id", how="left")
    problems = shortcoming_matches(sections, sentences, documents=docs, rules=rules, segmenter=segmenter)
    return dict(docs=docs, sections=sections, parts=parts, timing=timing, flags=flags, problems=problems,
                quantities=quantities, indicators=indicators, catalogue=catalogue, rules=rules)


def _share(numerator, denominator):
    return float(numerator) / float(denominator) if denominator else np.nan


def report_quality(documents: pd.DataFrame, sections: pd.DataFrame, sentences: pd.DataFrame,
                   quantities: pd.DataFrame | None, indicators: pd.DataFrame | None,
                   boilerplate: pd.DataFrame | None = None, *, rules=None, catalogue: pd.DataFrame | None = None,
                   segmenter=None) -> pd.DataFrame:
    """One row per report (schema ``REPORT_QUALITY``) on the five dimensions, from the tables of
    notebooks 01 (documents, sections, sentences), 03 (quantities, indicators: cells with a
    ``status``) and 02 (boilerplate; None = detected here). ``quantities`` or ``indicators`` None
    leaves their measures empty. ``catalogue``: the indicator catalogue whose share is counted
    (None = ``indicators.load_catalogue()``). Evidence for each value: :func:`quality_evidence`."""
    a = _assess(documents, sections, sentences, quantities, indicators, boilerplate, rules, catalogue, segmenter)
    docs, rules = a["docs"], a["rules"]
    out = docs[["doc_id"]].copy()
    for column in ("file", "region", "report_year"):
        out[column] = docs[column].to_numpy() if column in docs else ""

    parts = a["parts"].set_index(["doc_id", "part"])
    required = [p["id"] for p in rules["parts"] if p["required"]]
    for part in PARTS:
        rows = parts.xs(part, level="part").reindex(out["doc_id"])
        out[f"has_{part}"] = rows["present"].fillna(False).astype(bool).to_numpy()
        out[f"{part}_source"] = rows["source"].fillna("").to_numpy()
        out[f"{part}_evidence"] = rows["evidence"].fillna("").to_numpy()
    out["n_parts"] = out[[f"has_{p}" for p in PARTS]].sum(axis=1).astype("int64")
    out["completeness"] = out[[f"has_{p}" for p in required]].mean(axis=1)
    out["missing_parts"] = [",".join(p for p in required if not row[f"has_{p}"]) for _, row in out.iterrows()]

    timing = a["timing"].set_index("doc_id").reindex(out["doc_id"])
    for column in ("published", "published_origin", "deadline", "days_from_deadline", "timeliness"):
        out[column] = timing[column].to_numpy()
    out["days_from_deadline"] = out["days_from_deadline"].astype("Int64")

    flags = a["flags"]
    by_doc = flags.groupby("doc_id")
    n_chars = pd.to_numeric(docs["n_chars"], errors="coerce").to_numpy() if "n_chars" in docs else \
        flags.groupby("doc_id")["n_chars"].sum().reindex(out["doc_id"]).to_numpy()
    out["n_chars"] = n_chars
    out["n_statements"] = by_doc.size().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    if a["quantities"] is not None:
        n_q = a["quantities"].groupby("doc_id").size().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
        out["n_quantities"] = pd.array(n_q, dtype="Int64")
        out["quantities_per_1k"] = n_q / n_chars * 1000
        with_number = by_doc["n_quantities"].apply(lambda s: (s > 0).sum()).reindex(out["doc_id"]).fillna(0)
        out["number_sentence_share"] = [_share(w, n) for w, n in zip(with_number, out["n_statements"])]
    else:
        out["n_quantities"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["quantities_per_1k"] = np.nan
        out["number_sentence_share"] = np.nan
    if a["indicators"] is not None:
        from helpers import indicators as ind

        catalogue = a["catalogue"] if a["catalogue"] is not None else ind.load_catalogue()
        cells = a["indicators"]
        status = cells["status"] if "status" in cells else pd.Series("stated", index=cells.index)
        stated = cells[status.isin(["stated", "override"]) & cells["value"].notna()].groupby("doc_id").size()
        review = cells[status == "review"].groupby("doc_id").size()
        out["n_indicators_stated"] = stated.reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
        out["n_indicators_review"] = review.reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
        out["indicator_share"] = out["n_indicators_stated"] / len(catalogue)
    else:
        out["n_indicators_stated"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["n_indicators_review"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["indicator_share"] = np.nan
    with_example = flags[flags["examples"] != ""]
    per_type = with_example.groupby(["doc_id", "section_type"]).size().unstack(fill_value=0)
    for section_type in schema.SECTION_TYPES:
        column = per_type[section_type] if section_type in per_type else pd.Series(dtype="int64")
        out[f"examples_{section_type}"] = column.reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["examples_per_1k"] = with_example.groupby("doc_id").size().reindex(out["doc_id"]).fillna(0).to_numpy() / n_chars * 1000

    tops = top_sections(a["sections"])
    part_chars = (tops[tops["section_type"] == "shortcomings"].assign(_n=lambda t: t["end"] - t["start"])
                  .groupby("doc_id")["_n"].sum())
    out["shortcomings_chars"] = part_chars.reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["shortcomings_share"] = out["shortcomings_chars"] / n_chars
    in_part = flags[flags["section_type"] == "shortcomings"]
    part_by_doc = in_part.groupby("doc_id")
    out["n_shortcoming_statements"] = part_by_doc.size().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["n_generic"] = part_by_doc["generic"].sum().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["generic_share"] = [_share(g, n) for g, n in zip(out["n_generic"], out["n_shortcoming_statements"])]
    reused_part = part_by_doc["reused"].sum().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["n_shortcomings_reused"] = reused_part
    comparable = flags["reused"].notna().any()
    out["shortcomings_reused_share"] = [_share(r, n) if comparable else np.nan
                                        for r, n in zip(reused_part, out["n_shortcoming_statements"])]
    problems = a["problems"].groupby("doc_id")
    out["n_shortcomings"] = problems.size().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["n_matched"] = problems["matched"].sum().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["matched_share"] = [_share(m, n) for m, n in zip(out["n_matched"], out["n_shortcomings"])]

    out["n_reused"] = by_doc["reused"].sum().reindex(out["doc_id"]).fillna(0).astype("int64").to_numpy()
    out["reused_share"] = [_share(r, n) if comparable else np.nan for r, n in zip(out["n_reused"], out["n_statements"])]
    out["originality"] = 1 - out["reused_share"]
    return out[REPORT_QUALITY]


def quality_evidence(documents: pd.DataFrame, sections: pd.DataFrame, sentences: pd.DataFrame,
                     quantities: pd.DataFrame | None, indicators: pd.DataFrame | None,
                     boilerplate: pd.DataFrame | None = None, *, rules=None, catalogue: pd.DataFrame | None = None,
                     segmenter=None) -> pd.DataFrame:
    """The heading or sentence behind each value of :func:`report_quality` (schema ``EVIDENCE``),
    one row each: per part its heading or sentence (or "absent"); the publication date against the
    deadline; every statement with a concrete example (``example:<kind>``), every generic statement
    of the 不足 part, every stated shortcoming with the plans unit it was matched with and the
    shared terms, every reused statement with its cover. Quantities and indicator cells keep their
    own quotes in notebook 03's tables."""
    a = _assess(documents, sections, sentences, quantities, indicators, boilerplate, rules, catalogue, segmenter)
    rows = []
    for r in a["parts"].itertuples(index=False):
        rows.append((r.doc_id, "completeness", r.part, r.section_id, r.sentence_id, r.section_type, r.evidence,
                     r.source if r.present else "absent"))
    for r in a["timing"].itertuples(index=False):
        rows.append((r.doc_id, "timeliness", "published", "", "", "", r.published, f"{r.timeliness}: {r.timeliness_evidence}"))
    flags = a["flags"]
    for r in flags[flags["examples"] != ""].itertuples(index=False):
        for kind, text in zip(r.examples.split(";"), r.example_text.split(";")):
            rows.append((r.doc_id, "specificity", f"example:{kind}", r.section_id, r.sentence_id, r.section_type,
                         r.text, text))
    for r in flags[(flags["section_type"] == "shortcomings") & flags["generic"]].itertuples(index=False):
        rows.append((r.doc_id, "candour", "generic", r.section_id, r.sentence_id, r.section_type, r.text,
                     r.generic_phrase))
    section_type = "shortcomings"
    for r in a["problems"].itertuples(index=False):
        detail = (f"matched by 「{r.plan_text}」 sharing {r.shared_terms}" if r.matched
                  else f"no plan shares {a['rules']['matching']['min_shared_terms']} terms"
                  + (f" (best: {r.shared_terms})" if r.shared_terms else ""))
        rows.append((r.doc_id, "candour", "shortcoming", r.section_id, r.sentence_id, section_type, r.text, detail))
    reused = flags[flags["reused"].fillna(False).astype(bool)]
    for r in reused.itertuples(index=False):
        rows.append((r.doc_id, "originality", "reused", r.section_id, r.sentence_id, r.section_type, r.text,
                     f"{r.reuse_cover:.0%} of its characters in {r.n_documents} reports"))
    return pd.DataFrame(rows, columns=EVIDENCE)
