"""A folder as a researcher hands it over: manifests saved by spreadsheets and by hand, region
names in two punctuation forms, encrypted PDFs, UTF-16 text, and reports far larger than real ones.

Every test builds its folder in ``tmp_path`` from the sample reports of ``data/raw/``.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import clean, corpus, metadata, pipeline, structure
from helpers.structure import (INLINE, INLINE_FAMILY, MAX_HEADING_CHARS, _INLINE_MARKER, _SECTION_FIELDS,
                               Heading, _line_heading, section_types, split_sentences, to_int)

from conftest import BLIND, HELDOUT, RAW, REPORT_FILES, UNSEEN

MANIFEST_TEXT = (RAW / "manifest.csv").read_text(encoding="utf-8")
MANIFEST_LINES = MANIFEST_TEXT.strip("\n").split("\n")  # line k + 1 of the file is MANIFEST_LINES[k]
MANIFEST = pd.read_csv(RAW / "manifest.csv", dtype=str, keep_default_na=False).set_index("file")


def reports_folder(tmp_path: Path, manifest: str | bytes | None = None, *, encoding: str = "utf-8",
                   name: str = "reports") -> Path:
    """The five sample reports in a new folder, with ``manifest`` as its manifest.csv."""
    folder = tmp_path / name
    folder.mkdir()
    for report in REPORT_FILES:
        shutil.copy(RAW / report, folder / report)
    if manifest is not None:
        data = manifest if isinstance(manifest, bytes) else manifest.encode(encoding)
        (folder / "manifest.csv").write_bytes(data)
    return folder


def with_lines(replace: dict[int, str] | None = None, *, add: list[str] = ()) -> str:
    """The sample manifest with file line ``k`` replaced by ``replace[k]`` and ``add`` appended."""
    lines = list(MANIFEST_LINES)
    for number, line in (replace or {}).items():
        lines[number - 1] = line
    return "\n".join([*lines, *add]) + "\n"


def build(folder: Path, **options) -> pipeline.Corpus:
    return pipeline.build_corpus(folder, workers=1, cache=False, progress=False, **options)


def manifest_warnings(warnings: pd.DataFrame) -> list[str]:
    """The reasons of the warnings naming the manifest."""
    return warnings.loc[warnings["file"].astype(str).str.endswith("manifest.csv"), "reason"].tolist()


def origins(result: pipeline.Corpus, field: str) -> dict[str, str]:
    docs = result.documents.set_index("file")
    return docs[f"{field}_origin"].to_dict()


# --------------------------------------------------------------------------- manifests: encodings
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_manifest_in_any_spreadsheet_encoding_reads_the_same(tmp_path, encoding):
    folder = reports_folder(tmp_path, MANIFEST_TEXT.replace("\n", "\r\n"), encoding=encoding)
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert table.fillna("").to_dict() == MANIFEST.to_dict()
    assert [w for w in warnings if w[1] != "info"] == []
    if encoding in ("gbk", "gb18030"):
        assert warnings == [("manifest.csv", "info", "manifest read as gb18030")]
    docs = build(folder).documents.set_index("file")
    assert docs["region"].to_dict() == MANIFEST["region"].to_dict()
    assert (docs["region_origin"] == "manifest").all()
    assert docs["doc_id"].tolist() == MANIFEST["doc_id"].tolist()


def test_tab_separated_unicode_text_from_a_spreadsheet(tmp_path):
    """Excel's "Unicode text": UTF-16 with a BOM, tab-separated."""
    text = "\r\n".join(line.replace(",", "\t") for line in MANIFEST_LINES) + "\r\n"
    folder = reports_folder(tmp_path, text, encoding="utf-16")
    table, _ = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert table.fillna("").to_dict() == MANIFEST.to_dict()


# --------------------------------------------------------------------------- manifests: bad rows
def test_manifest_without_a_file_column_is_warned_and_everything_inferred(tmp_path):
    folder = reports_folder(tmp_path, with_lines({1: MANIFEST_LINES[0].replace("file,", "filename,")}))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert table.empty
    assert len(warnings) == 1 and warnings[0][:2] == ("manifest.csv", "warning")
    assert warnings[0][2].startswith("line 1: no 'file' column (columns: filename, doc_id")
    result = build(folder)  # no ValueError any more
    assert set(origins(result, "region").values()) == {"inferred"}
    assert len(result.documents) == 5
    assert any("no 'file' column" in r for r in manifest_warnings(result.warnings))


def test_unclosed_quote_costs_its_row_only(tmp_path):
    broken = MANIFEST_LINES[2].replace(",矿区,", ',"矿区,')  # line 3: 001's row
    folder = reports_folder(tmp_path, with_lines({3: broken}))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert sorted(table.index) == sorted(set(REPORT_FILES) - {"001_e39e1493065be82e.txt"})
    assert warnings == [("manifest.csv", "warning",
                         "line 3: unclosed quote; row not used (its report's metadata are inferred)")]
    result = build(folder)
    got = origins(result, "region")
    assert got.pop("001_e39e1493065be82e.txt") == "inferred"
    assert set(got.values()) == {"manifest"}
    assert result.documents.set_index("file").loc["001_e39e1493065be82e.txt", "region"] == "矿区"
    assert manifest_warnings(result.warnings) == [warnings[0][2]]


def test_a_cell_with_a_line_break_is_one_row(tmp_path):
    quoted = MANIFEST_LINES[2].replace("阳泉市矿区人民政府", '"阳泉市矿区\n人民政府"')
    folder = reports_folder(tmp_path, with_lines({3: quoted}))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert warnings == []
    assert table.loc["001_e39e1493065be82e.txt", "publisher"] == "阳泉市矿区\n人民政府"
    assert table.loc["002_85a6f3b4405b5e46.txt", "region"] == "武江区"


def test_ragged_rows_are_warned_and_the_rest_used(tmp_path):
    long_row = MANIFEST_LINES[2] + ",extra"                     # line 3, 001: ten fields
    short_row = MANIFEST_LINES[3].rsplit(",", 2)[0]             # line 4, 002: seven fields
    trailing = MANIFEST_LINES[4] + ",,"                         # line 5, 003: empty extra cells are fine
    folder = reports_folder(tmp_path, with_lines({3: long_row, 4: short_row, 5: trailing}))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert sorted(table.index) == ["000_d902d7a4c29cde5a.txt", "003_2cdd6b3c9939285b.txt", "004_9be245ef091e36dd.txt"]
    assert [w[2] for w in warnings] == [
        "line 3 (001_e39e1493065be82e.txt): 10 fields where the header has 9 (an unquoted comma?); "
        "row not used (its report's metadata are inferred)",
        "line 4 (002_85a6f3b4405b5e46.txt): 7 fields where the header has 9; row not used "
        "(its report's metadata are inferred)",
    ]
    result = build(folder)
    got = origins(result, "level")
    assert got["001_e39e1493065be82e.txt"] == got["002_85a6f3b4405b5e46.txt"] == "inferred"
    assert got["003_2cdd6b3c9939285b.txt"] == "manifest"
    assert len(manifest_warnings(result.warnings)) == 2


def test_rows_for_files_not_in_the_folder_are_warned(tmp_path):
    extra = ["005_missing.txt,x,某区,,,district,2023,,", "001_E39E1493065BE82E.TXT,y,矿区,,,,2022,,"]
    folder = reports_folder(tmp_path, with_lines(add=extra))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert len(table) == 5
    assert [w[2] for w in warnings] == [
        "line 7 (005_missing.txt): 005_missing.txt is not in the folder; row not used",
        "line 8 (001_E39E1493065BE82E.TXT): 001_E39E1493065BE82E.TXT is not in the folder "
        "(did you mean 001_e39e1493065be82e.txt?); row not used",
    ]
    result = build(folder)
    assert len(result.documents) == 5
    assert len(manifest_warnings(result.warnings)) == 2


def test_conflicting_rows_for_one_file_say_which_wins(tmp_path):
    same = MANIFEST_LINES[2]                                        # line 7: an exact repeat, silent
    other = MANIFEST_LINES[2].replace(",矿区,", ",城区,")              # line 8: another region
    folder = reports_folder(tmp_path, with_lines(add=[same, other]))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert table.loc["001_e39e1493065be82e.txt", "region"] == "矿区"
    assert [w[2] for w in warnings] == [
        "line 8 (001_e39e1493065be82e.txt): another row for 001_e39e1493065be82e.txt (line 3) with other "
        "values (region '矿区' vs '城区'); line 3 is used"]
    result = build(folder)
    assert result.documents.set_index("file").loc["001_e39e1493065be82e.txt", "region"] == "矿区"
    assert manifest_warnings(result.warnings) == [warnings[0][2]]


def test_rows_differing_only_in_bracket_width_do_not_conflict(tmp_path):
    full_width = MANIFEST_LINES[1].replace("(中山港街道)", "（中山港街道）")
    folder = reports_folder(tmp_path, with_lines(add=[full_width]))
    assert metadata.load_manifest(folder / "manifest.csv", folder=folder)[1] == []


@pytest.mark.parametrize("written, read", [("2022年", "2022"), ("2022年度", "2022"), ("２０２２", "2022"),
                                           ("2022.0", "2022"), ("二〇二二", "2022")])
def test_report_years_written_as_years_are_read(written, read):
    assert metadata.normalize_year(written) == read


def test_report_year_that_is_not_a_year_is_warned_and_inferred(tmp_path):
    folder = reports_folder(tmp_path, with_lines({3: MANIFEST_LINES[2].replace(",2022,", ",22,"),
                                                  4: MANIFEST_LINES[3].replace(",2024,", ",2024年,")}))
    table, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert [w[2] for w in warnings] == [
        "line 3 (001_e39e1493065be82e.txt): report_year '22' is not a year; the year is inferred from the text"]
    assert table.loc["002_85a6f3b4405b5e46.txt", "report_year"] == "2024"
    docs = build(folder).documents.set_index("file")
    assert docs.loc["001_e39e1493065be82e.txt", ["report_year", "report_year_origin"]].tolist() == ["2022", "inferred"]
    assert docs.loc["002_85a6f3b4405b5e46.txt", ["report_year", "report_year_origin"]].tolist() == ["2024", "manifest"]
    # A value that is not a year never becomes one, on any route into the metadata.
    assert metadata.merge({"report_year": "2023"}, {"report_year": "去年"})["report_year"] == "2023"


@pytest.mark.parametrize("content, reason", [
    (b"", "manifest not readable: empty file"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "manifest not readable: binary content"),
    ('"file,region\n', "line 1: unclosed quote in the header"),
])
def test_unusable_manifest_is_one_warning_and_the_folder_is_processed(tmp_path, content, reason):
    folder = reports_folder(tmp_path, content)
    _, warnings = metadata.load_manifest(folder / "manifest.csv", folder=folder)
    assert len(warnings) == 1 and warnings[0][2].startswith(reason)
    result = build(folder)
    assert len(result.documents) == 5
    assert set(origins(result, "region").values()) == {"inferred"}


def test_commands_take_a_broken_manifest_without_a_traceback(tmp_path, capsys):
    folder = reports_folder(tmp_path, with_lines({1: MANIFEST_LINES[0].replace("file,", "name,"),
                                                  3: MANIFEST_LINES[2] + ",extra"}))
    assert pipeline.clean_command(folder, out=tmp_path / "tables", cache=tmp_path / "cache", workers=1) == 0
    documents = pd.read_parquet(tmp_path / "tables" / "documents.parquet")
    assert len(documents) == 5 and (documents["region_origin"] == "inferred").all()
    assert pipeline.indicators_command(folder, out=tmp_path / "q.csv", cache=tmp_path / "cache", workers=1) == 0
    assert len(pd.read_csv(tmp_path / "q.csv")) > 100
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "manifest.csv" in err and "no 'file' column" in err


@pytest.mark.slow
def test_run_command_takes_a_broken_manifest(tmp_path):
    import subprocess
    import sys

    folder = reports_folder(tmp_path, with_lines({3: MANIFEST_LINES[2].replace(",矿区,", ',"矿区,')}))
    done = subprocess.run([sys.executable, "-m", "helpers", "run", "--only", "01_cleaning", "--raw", str(folder),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    documents = pd.read_parquet(next((tmp_path / "out").rglob("documents.parquet")))
    assert len(documents) == 5


# --------------------------------------------------------------------------- regions
@pytest.mark.parametrize("written, manifest_form", [
    ("火炬开发区（中山港街道）", "火炬开发区(中山港街道)"),
    ("广西—东盟经济技术开发区", "广西-东盟经济技术开发区"),
    ("广西——东盟经济技术开发区", "广西-东盟经济技术开发区"),
    ("广西－东盟经济技术开发区", "广西-东盟经济技术开发区"),
    ("开发区・铁山区", "开发区·铁山区"),
])
def test_region_forms_become_one_group(written, manifest_form):
    inferred = metadata.merge({"region": written}, None)
    given = metadata.merge({"region": written}, {"region": manifest_form})
    assert inferred["region"] == given["region"] == manifest_form
    documents = pd.DataFrame({"doc_id": ["a", "b"], "region": [inferred["region"], given["region"]]})
    assert metadata.group_key(documents).nunique() == 1


def test_inferred_and_manifest_regions_group_together_in_a_corpus(tmp_path):
    """000 and 004 with their manifest rows; shortened copies of them (other texts, so no
    duplicates) without one, 004's written with the full-width dash 广西—东盟."""
    folder = reports_folder(tmp_path, MANIFEST_TEXT)
    text_000 = (RAW / "000_d902d7a4c29cde5a.txt").read_text(encoding="utf-8")
    text_004 = (RAW / "004_9be245ef091e36dd.txt").read_text(encoding="utf-8").replace("广西-东盟", "广西—东盟")
    (folder / "copy_000.txt").write_text(text_000.rsplit("\n", 3)[0], encoding="utf-8")
    (folder / "copy_004.txt").write_text(text_004.rsplit("\n", 3)[0], encoding="utf-8")
    result = build(folder)
    docs = result.documents.set_index("file")
    assert docs.loc["copy_000.txt", "region_origin"] == docs.loc["copy_004.txt", "region_origin"] == "inferred"
    assert docs.loc["copy_000.txt", "region"] == docs.loc["000_d902d7a4c29cde5a.txt", "region"] == "火炬开发区(中山港街道)"
    assert docs.loc["copy_004.txt", "region"] == docs.loc["004_9be245ef091e36dd.txt", "region"] == "广西-东盟经济技术开发区"
    groups = metadata.group_key(result.documents)
    assert groups.nunique() == 5


# --------------------------------------------------------------------------- PDF and UTF-16
def encrypted(pdf: bytes, *, user_password: str = "", algorithm: str = "AES-128") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory) -> bytes:
    from test_corpus import make_pdf

    name = "003_2cdd6b3c9939285b.txt"
    path = make_pdf((RAW / name).read_text(encoding="utf-8"), tmp_path_factory.mktemp("pdf") / "003.pdf")
    return path.read_bytes()


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256", "RC4-128"])
def test_pdf_encrypted_without_a_user_password_opens(sample_pdf, algorithm):
    locked = encrypted(sample_pdf, algorithm=algorithm)
    assert b"/Encrypt" in locked
    plain = corpus.read_bytes("003.pdf", sample_pdf)
    doc = corpus.read_bytes("003.pdf", locked)
    assert doc.text == plain.text
    processed = pipeline.process_document(doc).sentences["text"].tolist()
    assert processed == pipeline.process_document(plain).sentences["text"].tolist()
    assert any("首违不罚" in s for s in processed)


def test_pdf_that_needs_a_password_is_one_warning(tmp_path, sample_pdf):
    folder = reports_folder(tmp_path)
    (folder / "locked.pdf").write_bytes(encrypted(sample_pdf, user_password="secret"))
    (folder / "open.pdf").write_bytes(encrypted(sample_pdf))
    result = build(folder, manifest=False)
    assert result.warnings.values.tolist() == [["locked.pdf", "error", "encrypted PDF that needs a password to open"]]
    docs = result.documents.set_index("file")
    assert len(docs) == 6 and docs.loc["open.pdf", "region"] == docs.loc["003_2cdd6b3c9939285b.txt", "region"]


@pytest.mark.parametrize("name", REPORT_FILES)
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text(name, encoding):
    text = (RAW / name).read_text(encoding="utf-8")
    doc = corpus.read_bytes(name, text.encode(encoding))
    assert (doc.text, doc.encoding, doc.warnings) == (text, encoding.replace("-", "_"), [])


def test_utf16_folder_gives_the_sentences_of_utf8(tmp_path, raw_texts):
    folder = tmp_path / "utf16"
    folder.mkdir()
    for k, name in enumerate(REPORT_FILES):
        (folder / name).write_bytes(raw_texts[name].encode("utf-16-le" if k % 2 else "utf-16-be"))
    (folder / "image.txt").write_bytes(bytes(range(256)) * 8)
    result = build(folder, manifest=False)
    reference = build(RAW, manifest=False)
    assert result.sentences["text"].tolist() == reference.sentences["text"].tolist()
    assert result.warnings.set_index("file")["reason"]["image.txt"].startswith("binary")


# --------------------------------------------------------------------------- large reports
def test_report_larger_than_any_real_one_is_warned_and_processed(monkeypatch, raw_texts):
    name = "002_85a6f3b4405b5e46.txt"
    data = raw_texts[name].encode("utf-8")
    assert not corpus.read_bytes(name, data).warnings
    monkeypatch.setattr(corpus, "LARGE_TEXT_BYTES", len(data) // 2)
    doc = corpus.read_bytes(name, data)
    assert len(doc.warnings) == 1
    file, severity, reason = doc.warnings[0]
    assert (file, severity) == (name, "warning") and "more than any real report" in reason and "\n" not in reason
    assert len(pipeline.process_document(doc).sentences) > 100


def test_large_text_threshold_is_far_above_real_reports():
    sizes = [len(p.read_bytes()) for folder in (RAW, UNSEEN, HELDOUT, BLIND) for p in folder.glob("*.txt")]
    assert max(sizes) * 50 < corpus.LARGE_TEXT_BYTES


# --------------------------------------------------------------------------- sentence placement
# The structure code before it was made linear, kept to compare with: every sentence checked
# against every section, each section's end and parent found by scanning the other sections, and
# each inline 一是 checked for a 二是 by searching the rest of its line.
def _old_heading_text(rest: str) -> str:
    """The heading part of a line after its marker: up to the first sentence end."""
    match = re.search(r"[。！？；]", rest)
    head = rest[: match.start()] if match else rest
    if len(head) > MAX_HEADING_CHARS and match is None:
        head = re.split(r"[，：]", rest, maxsplit=1)[0]
    return head.strip()


def _old_find_headings(text: str) -> list[Heading]:
    """Every heading (line markers and inline 一是 ordinals) with its position."""
    found: list[Heading] = []
    pos = 0
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        hit = _line_heading(line)
        if hit:
            family, marker, numeral = hit
            found.append(Heading(family, marker.strip(), numeral, _old_heading_text(line[len(marker):]),
                                 line_start, line_end))
        # Inline ordinals: a run 一是 … 二是 … in order, inside this line.
        expected = 1
        for match in INLINE.finditer(line):
            value = to_int(match.group("n"))
            if value != expected:
                continue
            # 一是 must be followed by 二 somewhere, else it is ordinary prose (一要求 …).
            if expected == 1 and not re.search(rf"(?<=[。；！？]){'二'}(?:是|要)", line[match.end():]):
                continue
            if not match.group("marker").endswith(("是", "要")) and expected == 1:
                continue
            rest = line[match.end():]
            found.append(Heading(INLINE_FAMILY, match.group("marker"), match.group("n"),
                                 _old_heading_text(rest), line_start + match.start(), line_end))
            expected += 1
    return found


def _old_section_columns(text: str, *, doc_id: str) -> dict[str, list]:
    """:func:`sections` as lists, one per column: the pipeline joins those of a batch of
    reports and makes one table of them (pandas' cost per table paid once per batch)."""
    headings = _old_find_headings(text)
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
    for i, h in enumerate(headings):
        level = levels[i]
        end = len(text)
        for j in range(i + 1, len(headings)):
            same_line_inline = headings[j].family == INLINE_FAMILY and h.family == INLINE_FAMILY
            if levels[j] <= level or (same_line_inline and headings[j].line_end != h.line_end):
                end = headings[j].start
                break
        # An inline run ends with its paragraph.
        if h.family == INLINE_FAMILY:
            end = min(end, h.line_end)
        number = to_int(h.number)
        lv.append(level)
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
    # Parent: the nearest earlier section with a lower level that contains this one.
    parents = []
    for i in range(len(lv)):
        parent = ""
        for j in range(i - 1, -1, -1):
            if 0 < lv[j] < lv[i] and st[j] <= st[i]:
                parent = ids[j]
                break
        parents.append(parent)
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


def _old_sentence_columns(text: str, section_columns: dict[str, list], *, doc_id: str) -> dict[str, list]:
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
    owners = []
    for s, _ in spans:
        best = 0
        for i, (start, stop, level) in enumerate(bounds):
            if start <= s < stop and level >= levels[best]:
                best = i
        owners.append(best)
    return {
        "doc_id": [doc_id] * len(spans), "sentence_id": [f"{doc_id}:{k:04d}" for k in range(len(spans))],
        "section_id": [section_ids[i] for i in owners], "section_type": [section_types[i] for i in owners],
        "text": [text[s:e] for s, e in spans], "start": [s for s, _ in spans], "end": [e for _, e in spans],
        "is_heading": [s in line_heading_starts for s, _ in spans],
    }


def _cleaned(path: Path) -> str | None:
    try:
        return clean.clean_text(corpus.read_bytes(path.name, path.read_bytes()).text).text
    except corpus.ReadError:
        return None


@pytest.fixture(scope="module")
def cleaned_reports() -> dict[str, str]:
    """The cleaned text of every sample and test report (text and web-page files)."""
    found = {}
    for folder in (RAW, UNSEEN, HELDOUT, BLIND):
        for path in sorted(folder.iterdir()):
            if path.suffix in (".txt", ".html") and not path.name.endswith(".docx.txt"):
                text = _cleaned(path)
                if text:
                    found[f"{folder.name}/{path.name}"] = text
    return found


def synthetic_report(texts: list[str], size: int) -> str:
    """Reports one after another, headings and all, until the text holds ``size`` characters."""
    parts, total, k = [], 0, 0
    while total < size:
        parts.append(texts[k % len(texts)])
        total += len(parts[-1]) + 1
        k += 1
    return "\n".join(parts)


EDGE_TEXTS = [
    "",
    "没有标题的一段话。第二句。\n第二段",
    "一是学法。二是普法。三是用法。\n一是甲。二是乙。\n二、其后的标题\n正文。",
    "一、甲\n（一）乙\n（二）丙\n1.丁。一是子。二是丑。\n二、戊\n\n\n",
    "第一部分 成效\n一、健全制度\n（一）完善规则\n第二部分 问题\n一、学习不够\n①一项\n②两项。",
    "前言。\n（一）先出现的二级\n一、后出现的一级\n（1）更深\n 一、带空格\n十二、第十二\n",
]


def _compare(text: str) -> None:
    assert [vars(h) for h in structure.find_headings(text)] == [vars(h) for h in _old_find_headings(text)]
    new_sections, old_sections = structure.section_columns(text, doc_id="d"), _old_section_columns(text, doc_id="d")
    assert new_sections == old_sections
    assert (structure.sentence_columns(text, new_sections, doc_id="d")
            == _old_sentence_columns(text, old_sections, doc_id="d"))


def test_placement_equals_the_old_one_on_every_report(cleaned_reports):
    assert len(cleaned_reports) >= 20
    for name, text in cleaned_reports.items():
        _compare(text)


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_placement_equals_the_old_one_on_edge_cases(text):
    _compare(text)


def test_placement_equals_the_old_one_on_a_large_report(cleaned_reports):
    """About 1.5 MB of UTF-8: the five samples repeated with their headings (the old code takes a
    second here; at 40 MB it took 17 minutes)."""
    samples = [text for name, text in cleaned_reports.items() if name.startswith("raw/")]
    text = synthetic_report(samples, 500_000)
    sections = structure.section_columns(text, doc_id="d")
    assert len(sections["level"]) > 1000
    _compare(text)


def test_sentence_table_on_a_section_table_out_of_order(cleaned_reports):
    """``sentences`` takes any section table: rows shuffled, the placement is the same."""
    text = cleaned_reports["raw/002_85a6f3b4405b5e46.txt"]
    table = structure.sections(text, doc_id="d")
    shuffled = table.sample(frac=1, random_state=0)
    got = structure.sentences(text, shuffled, doc_id="d")
    reference = _old_sentence_columns(text, {c: shuffled[c].tolist() for c in table.columns}, doc_id="d")
    assert got["section_id"].tolist() == reference["section_id"]
