"""Cells: which of a report's mentions of an indicator becomes its comparison cell.

A report often states several numbers that the catalogue names alike: the body's own figure for the
year, a township's, last year's, a target, a multi-year total, another channel's. Every such mention
is a *candidate*; :func:`candidate_table` rejects the ones that are not the reporting body's own
figure for the report year (rules in ``data/cell_rules.yaml``) and ranks the rest;
:func:`choose_cells` makes one cell per report × indicator:

- ``stated``: one value (the best-ranked candidates agree);
- ``review``: the best-ranked candidates disagree; no value, every candidate listed with its quote;
- ``override``: a researcher's decision from an overrides file (:mod:`helpers.overrides`).

A cell with no candidate left is absent (no row), like an indicator the report never states.

>>> q = pd.DataFrame({"doc_id": ["a", "a"], "indicator_id": ["x", "x"], "value": [6308.0, 79.0],
...     "unit": ["件", "件"], "approx": [False, False], "kind": ["count", "count"],
...     "quote": ["12345热线6308件", "力争办理79件"], "sentence": ["12345热线6308件，力争办理79件"] * 2,
...     "mention": ["6308件", "79件"], "start": [0, 15], "end": [11, 21]})
>>> cand = candidate_table(q)
>>> cand["reject"].tolist()
['', 'target']
>>> choose_cells(cand)[["value", "status"]].values.tolist()
[[6308.0, 'stated']]
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import config

RULES_PATH = config.PACKAGE_DATA / "cell_rules.yaml"
# The evidence table of every candidate (data/processed/indicator_candidates).
CANDIDATES = [
    "doc_id", "indicator_id", "value", "unit", "approx", "approx_marker", "quote", "sentence", "start", "end",
    "section_type", "reject", "named", "scope", "subset", "note", "new", "verdict",
]
_CLAUSE_BREAK = "，,；;。！？!?：:（）()|\n"
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> dict:
    """The cell rules (``data/cell_rules.yaml``) with their patterns compiled."""
    raw = config.read_yaml(path or RULES_PATH) or {}
    words = lambda key: [str(w) for w in raw.get(key) or []]  # noqa: E731
    suffixes = "|".join(map(re.escape, sorted(words("subunit_suffixes"), key=len, reverse=True)))
    return {
        "target": re.compile("|".join(map(re.escape, words("target_words"))) or "(?!)"),
        "multi_year": re.compile("|".join(words("multi_year_patterns")) or "(?!)"),
        "other_year": re.compile("|".join(words("other_year_patterns")) or "(?!)"),
        # a name of 2-10 characters before the suffix: 西河镇, 劳动人事争议多元化解工作站
        "subunit": (re.compile(rf"(?:{'|'.join(map(re.escape, words('subunit_lead_words')))})?"
                               rf"([\u4e00-\u9fff]{{2,10}}?)(?:{suffixes})") if suffixes else re.compile("(?!)")),
        "subunit_not_name_start": tuple(words("subunit_not_name_start")),
        "subunit_generic": tuple(words("subunit_generic")),
        "body_scope": re.compile(str(raw.get("body_scope_pattern") or "(?!)")),
        "subset": tuple(words("subset_words")),
        "pilot": tuple(words("pilot_words")),
        "new": tuple(words("new_words")),
        "approx_tolerance": float(raw.get("approx_tolerance", 0.1)),
        "unit_classes": {str(name): [str(u) for u in units] for name, units in (raw.get("unit_classes") or {}).items()},
    }


def _number_at(sentence: str, quote: str, mention: str) -> int:
    pos = sentence.find(quote) if quote else -1
    if pos < 0:
        return -1
    inner = quote.find(mention) if mention else -1
    return pos + max(inner, 0)


def _clause_start(sentence: str, at: int) -> int:
    while at > 0 and sentence[at - 1] not in _CLAUSE_BREAK:
        at -= 1
    return at


def _subunit(clause: str, rules: dict) -> str:
    """The named sub-unit a clause opens with (其中西河镇…, 劳动人事争议多元化解工作站全年…), or ''.

    Only a clause's opening noun phrase counts: a unit named after a verb (委托西河镇, 建成…工作室)
    or a generic or plural one (各镇, 乡镇, 村(社区)) is not the subject of the number."""
    match = rules["subunit"].match(clause)
    # the unit must do something before the number: 工作室124个 counts the stations themselves
    if not match or len(re.findall(r"[\u4e00-\u9fff]", clause[match.end():])) < 2:
        return ""
    name = match.group(1)
    if name.startswith(rules["subunit_not_name_start"]) or any(g in name for g in rules["subunit_generic"]):
        return ""
    return match.group(0)


_QUOTED = re.compile(r"《[^》]*》|“[^”]*”|\"[^\"]*\"|（[^）]*）|\([^)]*\)")


def _plain(text: str) -> str:
    """``text`` without titles, quoted names and bracketed notes (《“十四五”规划》 names no period)."""
    return _QUOTED.sub("", text)


def describe(sentence: str, quote: str, mention: str, *, section_type: str = "", report_year: str = "",
             column: str = "", stock: bool = False, body: tuple[str, ...] = (), rules: dict | None = None) -> dict:
    """Why one mention can or cannot be its report's figure: ``reject`` (a reason or ''), ``scope``
    (the body as a whole is named), ``subset`` (a part of a total: 其中), ``note`` (inside a
    bracketed note on the figure before it).

    >>> describe("其中西河镇调解纠纷212件", "调解纠纷212件", "212件")["reject"]
    'subunit'
    >>> describe("全区调解纠纷1236件", "调解纠纷1236件", "1236件")["scope"]
    True
    >>> describe("总数突破4.4万户(企业主体近2.1万户)", "企业主体近2.1万户", "2.1万户")["note"]
    True
    """
    rules = rules or load_rules()
    at = _number_at(sentence, quote, mention)
    lead = sentence[:at] if at >= 0 else sentence
    clause = lead[_clause_start(lead, len(lead)):]
    plain_lead = _plain(lead)
    plain_clause = plain_lead[_clause_start(plain_lead, len(plain_lead)):]
    reject = ""
    if column:  # a table cell: its column header says the year
        other_year = bool(_YEAR.search(column)) and str(report_year) not in column
    else:
        other_year = any(report_year and y != str(report_year) for y in _YEAR.findall(plain_clause))
    if section_type == "plans" or rules["target"].search(plain_clause):
        reject = "target"
    elif other_year or (not column and rules["other_year"].search(plain_clause)):
        reject = "other_year"
    elif not stock and (rules["multi_year"].search(plain_clause) or _period(_subject(plain_lead), rules)):
        reject = "multi_year"
    elif _not_body(_subunit(plain_clause, rules), body) or (
            not rules["body_scope"].search(lead) and (_not_body(_subunit(_subject(plain_lead), rules), body)
                                                      or _pilot(plain_lead, rules))):
        reject = "subunit"
    # a number in an unclosed bracket is a note on the figure before it (总数4.4万户（企业近2.1万户）)
    opened = max(lead.rfind("（"), lead.rfind("("))
    in_note = opened > max(lead.rfind("）"), lead.rfind(")"))
    # the number's first character stays in view, for 共 written right before it (共31个)
    scope = bool(rules["body_scope"].search(sentence[:at + 1] if at >= 0 else sentence))
    return {"reject": reject, "scope": scope, "note": in_note,
            "subset": any(w in clause for w in rules["subset"]),
            "new": stock and any(w in plain_clause for w in rules["new"])}


def _period(first_clause: str, rules: dict) -> bool:
    """A sentence opening with a multi-year period (自2019年以来，…; 近三年，…), not a clause that
    only mentions one (对2010年以来制发的文件进行清理)."""
    return len(first_clause) <= 12 and bool(rules["multi_year"].search(first_clause))


def _not_body(unit: str, body: tuple[str, ...]) -> str:
    """``unit`` unless it is the reporting body itself (青柳镇 in 青柳镇's own report)."""
    core = unit.lstrip("其中另外此外同时")
    if not core or any(core in name or name.endswith(core) for name in body if name):
        return ""
    return unit


def _pilot(plain_lead: str, rules: dict) -> bool:
    """The sentence opens on a pilot (在下符桥镇开展…试点，…) and goes on to the number."""
    subject = _subject(plain_lead)
    return subject != plain_lead and any(w in subject for w in rules["pilot"])


def _subject(lead: str) -> str:
    """The sentence's first clause: where its subject stands."""
    for i, ch in enumerate(lead):
        if ch in "，,；;：:":
            return lead[:i]
    return lead


def candidate_table(quantities: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                    sentences: pd.DataFrame | None = None, catalogue: pd.DataFrame | None = None,
                    rules: dict | None = None) -> pd.DataFrame:
    """Every mention with an indicator, judged: CANDIDATES columns (``verdict`` is filled by
    :func:`choose_cells`). ``sentences`` give each mention its section type (a plan is a target);
    ``documents`` the report year; ``catalogue`` which indicators are stocks."""
    rules = rules or load_rules()
    q = quantities[quantities["indicator_id"].notna()].reset_index(drop=True)
    if q.empty:
        return pd.DataFrame(columns=CANDIDATES)
    years = (dict(zip(documents["doc_id"], documents["report_year"].astype(str)))
             if documents is not None and "report_year" in documents else {})
    types = {}
    if sentences is not None and "section_type" in sentences and "sentence_id" in q:
        types = dict(zip(zip(sentences["doc_id"], sentences["sentence_id"]), sentences["section_type"]))
    if catalogue is None:
        from helpers import indicators

        catalogue = indicators.load_catalogue()
    stocks = set(catalogue.loc[catalogue["stock"].fillna(False).astype(bool), "id"]) if "stock" in catalogue else set()
    topic_words = dict(zip(catalogue["id"], catalogue["any"]))
    column = q["column"].fillna("").astype(str) if "column" in q else pd.Series("", index=q.index)
    sentence_ids = q["sentence_id"] if "sentence_id" in q else pd.Series(None, index=q.index)
    section = [types.get((d, s), "") for d, s in zip(q["doc_id"], sentence_ids)]
    bodies = {}
    if documents is not None:
        for row in documents.to_dict("records"):
            bodies[row["doc_id"]] = tuple(str(row.get(k) or "") for k in ("region", "publisher", "title"))
    judged = [describe(str(sent or ""), str(quote or ""), str(mention or ""), section_type=st,
                       report_year=years.get(doc, ""), column=col, stock=ind in stocks,
                       body=bodies.get(doc, ()), rules=rules)
              for sent, quote, mention, st, doc, col, ind in zip(
                  q["sentence"], q["quote"], q.get("mention", q["quote"]), section, q["doc_id"], column,
                  q["indicator_id"])]
    objects = q["object"].fillna("").astype(str) if "object" in q else pd.Series("", index=q.index)
    # the mention's own words name the indicator's topic (not only the sentence around it)
    named = [any(w in f"{obj}\n{_own_clause(str(sent or ''), str(quote or ''))}" for w in topic_words.get(ind, ()))
             for obj, sent, quote, ind in zip(objects, q["sentence"], q["quote"], q["indicator_id"])]
    out = q.assign(section_type=section, **{k: [j[k] for j in judged] for k in ("reject", "scope", "subset", "note", "new")},
                   named=named, verdict="")
    if "per_unit" in out:  # 各配备1名, 每个村1名: a figure per unit is never the body's total
        per_unit = out["per_unit"].fillna(False).astype(bool) & (out["reject"] == "")
        out.loc[per_unit, "reject"] = "per_unit"
    if "approx_marker" not in out:
        out["approx_marker"] = ""
    out["approx_marker"] = out["approx_marker"].fillna("")
    return out[CANDIDATES + [c for c in ("sentence_id", "mention", "kind") if c in out]]


def _own_clause(sentence: str, quote: str) -> str:
    """The clause that holds the quote, from the previous clause break to the quote's end."""
    pos = sentence.find(quote) if quote else -1
    if pos < 0:
        return quote
    return sentence[_clause_start(sentence, pos):pos + len(quote)]


def _consistent(values: list[float], approx: list[bool], tolerance: float) -> bool:
    exact = [v for v, a in zip(values, approx) if not a]
    ref = exact[0] if exact else values[0]
    for v, a in zip(values, approx):
        if v == ref:
            continue
        if not (a or not exact) or abs(v - ref) > tolerance * max(abs(v), abs(ref)):
            return False
    return len(set(exact)) <= 1


def _quote_list(rows: list[dict]) -> str:
    return " | ".join(f"{r['value']:g}{r['unit']}「{r['quote']}」" for r in rows)


def _rank(row: dict) -> int:
    """A mention naming the topic itself, and one outside a bracketed note, outrank the others (each
    of the two outweighs what follows; the two together tie, and a tie is reviewed); then the body
    named as a whole; then not a part of a total (其中), nor a stock's new additions."""
    return (4 * bool(row["named"]) - 4 * bool(row["note"]) + 2 * bool(row["scope"])
            - bool(row["subset"]) - bool(row["new"]))


def choose_cells(candidates: pd.DataFrame, *, rules: dict | None = None) -> pd.DataFrame:
    """One row per report × indicator with a candidate left: the chosen candidate's fields plus
    ``status`` (stated / review), ``n_candidates``, ``candidates`` (value, unit and quote of every
    candidate kept) and ``reason``. ``candidates`` gets its ``verdict`` column filled in place:
    chosen, agrees, competing, below (ranked lower) or rejected."""
    rules = rules or load_rules()
    records = candidates.to_dict("records")  # plain rows: pandas per group cost 5 ms a cell
    verdict = ["rejected"] * len(records)
    kept: dict[tuple, list[int]] = {}
    rejected: dict[tuple, list[int]] = {}
    for i, row in enumerate(records):
        (kept if row["reject"] == "" else rejected).setdefault((row["doc_id"], row["indicator_id"]), []).append(i)
    rows = []
    for key in sorted(kept):
        group = sorted(kept[key], key=lambda i: records[i]["start"])
        ranks = [_rank(records[i]) for i in group]
        best = [i for i, r in zip(group, ranks) if r == max(ranks)]
        values = [float(records[i]["value"]) for i in best]
        approx = [bool(records[i]["approx"]) for i in best]
        chosen = next((i for i, a in zip(best, approx) if not a), best[0])
        agree = _consistent(values, approx, rules["approx_tolerance"])
        for i in group:
            verdict[i] = "below"
        for i in best:
            verdict[i] = "agrees" if agree else "competing"
        if agree:
            verdict[chosen] = "chosen"
        reason = "" if len(group) == 1 else ("restated" if agree and len(best) == len(group)
                                             else "ranked first" if agree else "competing values")
        if key in rejected:
            reason = (reason + "; " if reason else "") + "rejected: " + ", ".join(
                f"{records[i]['value']:g}{records[i]['unit']} ({records[i]['reject']})" for i in rejected[key])
        row = {**records[chosen], "status": "stated" if agree else "review", "n_candidates": len(group),
               "candidates": _quote_list([records[i] for i in group]), "reason": reason}
        if not agree:  # no value is shown for a cell waiting for review
            row.update(value=float("nan"), quote="", sentence="", approx_marker="", approx=False)
        rows.append(row)
    candidates["verdict"] = pd.Series(verdict, index=candidates.index, dtype=object)
    columns = [*candidates.columns, "status", "n_candidates", "candidates", "reason"]
    return pd.DataFrame(rows, columns=columns)


# ---- accuracy against hand-annotated cells -------------------------------------------------------

def _alternatives(text) -> list[float]:
    if text is None or (isinstance(text, float) and pd.isna(text)) or str(text).strip() == "":
        return []
    return [float(v) for v in str(text).replace("；", ";").split(";") if v.strip()]


def evaluate_cells(values: pd.DataFrame, gold: pd.DataFrame, *, indicators: list[str] | None = None,
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell precision and recall of an indicator table against hand-annotated cells
    (``tests/data/gold_cells.csv``: file, indicator_id, status stated/empty/ambiguous, value,
    alternatives). Only files present in ``gold`` are scored: every cell of theirs (the annotation
    covers the whole catalogue, so a shown cell it does not name should be empty), or only those of
    ``indicators``.

    A shown cell (status stated or override, with a value) is right when the gold states that cell
    with that value or an alternative, or calls it ambiguous and the value is one of its values.
    precision = right shown cells / shown cells; recall = gold stated cells shown right / gold stated
    cells. A ``review`` cell shows no value: it costs recall, never precision.
    Returns (per-file figures with a last row "all", one row per scored cell with its verdict).
    """
    files = set(gold["file"])
    v = values[values["file"].isin(files)]
    if indicators is not None:
        v, gold = v[v["indicator_id"].isin(indicators)], gold[gold["indicator_id"].isin(indicators)]
    shown = v[v["status"].isin(["stated", "override"]) & v["value"].notna()]
    key = lambda f, i: (f, i)  # noqa: E731
    gold_by = {key(r.file, r.indicator_id): r for r in gold.itertuples()}
    shown_by = {key(r.file, r.indicator_id): r for r in shown.itertuples()}
    review_by = {key(r.file, r.indicator_id) for r in v[v["status"] == "review"].itertuples()}
    rows = []
    for k in sorted(set(gold_by) | set(shown_by) | review_by):
        g, s = gold_by.get(k), shown_by.get(k)
        status = getattr(g, "status", "absent") if g is not None else "absent"
        ok_values = [] if g is None or status == "empty" else [float(g.value), *_alternatives(g.alternatives)]
        value = float(s.value) if s is not None else None
        right = value is not None and any(abs(value - ok) <= 1e-6 * max(1.0, abs(ok)) for ok in ok_values)
        if s is not None:
            verdict = "right" if right else ("wrong value" if ok_values else "should be empty")
        elif k in review_by:
            verdict = "review"
        else:
            verdict = "missed" if status == "stated" else "empty, right"
        rows.append({"file": k[0], "indicator_id": k[1], "gold_status": status,
                     "gold_value": None if g is None else g.value, "shown": value, "verdict": verdict,
                     "gold_quote": None if g is None else g.quote,
                     "quote": None if s is None else s.quote})
    cells = pd.DataFrame(rows, columns=["file", "indicator_id", "gold_status", "gold_value", "shown", "verdict",
                                        "gold_quote", "quote"])
    summary = []
    for name, grp in [*cells.groupby("file"), ("all", cells)]:
        n_shown = int(grp["shown"].notna().sum())
        n_right = int((grp["verdict"] == "right").sum())
        n_gold = int((grp["gold_status"] == "stated").sum())
        n_gold_right = int(((grp["gold_status"] == "stated") & (grp["verdict"] == "right")).sum())
        summary.append({"file": name, "gold_cells": n_gold, "shown": n_shown, "right": n_right,
                        "review": int((grp["verdict"] == "review").sum()),
                        "precision": n_right / n_shown if n_shown else float("nan"),
                        "recall": n_gold_right / n_gold if n_gold else float("nan")})
    return pd.DataFrame(summary), cells


def read_gold_cells(path: str | Path) -> pd.DataFrame:
    """The hand-annotated cells (see ``tests/data/ANNOTATION.md``)."""
    gold = pd.read_csv(path, dtype={"alternatives": str, "quote": str, "note": str})
    bad = ~gold["status"].isin(["stated", "empty", "ambiguous"])
    if bad.any():
        raise ValueError(f"{path}: row {int(bad.idxmax()) + 2}: status must be stated, empty or ambiguous")
    return gold
