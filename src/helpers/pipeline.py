"""The one corpus-processing entry: a folder of reports -> documents, sections, sentences,
cleaning log and warnings (``Corpus``), shared by notebook 01 and ``python -m helpers clean``.

Per-document work is the pure function ``process_document`` (text and manifest row in, tables
out, no file I/O), so it can be cached and run in parallel workers.

>>> corpus = build_corpus(config.RAW)            # doctest: +SKIP
>>> corpus.documents[["doc_id", "region", "region_origin"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import clean, config, corpus, metadata, schema, store, structure

DOCUMENT_COLUMNS = schema.DOCUMENTS + [f"{name}_origin" for name in schema.METADATA_FIELDS] + [
    "signature", "signed", "disclosure"]
SECTION_COLUMNS = schema.SECTIONS + ["marker"]
SENTENCE_COLUMNS = schema.SENTENCES + ["is_heading"]
TABLES = ("documents", "sections", "sentences", "cleaning_log", "warnings")


@dataclass
class Corpus:
    """Every table of a processed folder; each conforms to ``helpers.schema``."""

    documents: pd.DataFrame
    sections: pd.DataFrame
    sentences: pd.DataFrame
    cleaning_log: pd.DataFrame
    warnings: pd.DataFrame


@dataclass
class ProcessedDocument:
    """The result of ``process_document`` for one file."""

    document: dict
    sections: pd.DataFrame
    sentences: pd.DataFrame
    cleaning_log: pd.DataFrame
    warnings: list[tuple[str, str, str]] = field(default_factory=list)


def process_document(raw: corpus.RawDocument, *, doc_id: str | None = None,
                     manifest_row: dict | None = None, steps: list[str] | None = None) -> ProcessedDocument:
    """Clean, structure and describe one read document. Pure: no file access.

    ``doc_id``: the manifest's, else the file name without its suffix.
    """
    manifest_row = dict(manifest_row or {})
    doc_id = doc_id or str(manifest_row.get("doc_id") or "").strip() or Path(raw.file).with_suffix("").as_posix()
    cleaned = clean.clean_text(raw.text, steps=steps)
    text = cleaned.text
    section_table = structure.sections(text, doc_id=doc_id)
    sentence_table = structure.sentences(text, section_table, doc_id=doc_id)
    meta = metadata.merge(metadata.infer_metadata(text, cleaned.metadata), manifest_row)
    document = {
        "doc_id": doc_id, "file": raw.file, "format": raw.format, "encoding": raw.encoding,
        **meta,
        "source": cleaned.metadata.get("source", ""),
        "n_chars": len(text), "n_sections": int((section_table["level"] > 0).sum()),
        "n_sentences": len(sentence_table),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "converted_traditional": bool(raw.converted_traditional), "duplicate_files": "",
        "signature": cleaned.metadata.get("signature", ""), "signed": cleaned.metadata.get("signed", ""),
        "disclosure": cleaned.metadata.get("disclosure", ""), "text": text,
    }
    log = clean.cleaning_log({doc_id: cleaned}, files={doc_id: raw.file})
    warnings = list(raw.warnings)
    if not text.strip():
        warnings.append((raw.file, "warning", "no text left after cleaning"))
    return ProcessedDocument(document, section_table, sentence_table, log, warnings)


def _manifest_path(raw_dir: Path, manifest) -> Path | None:
    if manifest is False:
        return None
    if manifest is None or manifest == "":
        candidate = raw_dir / config.MANIFEST_NAME
        return candidate if candidate.exists() else None
    return Path(manifest)


def _format_rank(fmt: str) -> int:
    """Which copy of a duplicate to keep: plain text first, then Word, web page, PDF."""
    return {"txt": 0, "docx": 1, "html": 2, "pdf": 3}.get(fmt, 9)


def build_corpus(raw_dir: str | Path, *, manifest=None, steps: list[str] | None = None,
                 documents: list[str] | None = None) -> Corpus:
    """Read, clean and structure every report in ``raw_dir``.

    manifest: None = ``raw_dir/manifest.csv`` if present; False = ignore any manifest; or a path.
    steps: cleaning steps to apply (None = all of ``clean.STEPS``).
    documents: doc_ids (or file names) to keep; None or [] = all.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a folder of reports")
    manifest_path = _manifest_path(raw_dir, manifest)
    manifest_table = metadata.read_manifest(manifest_path)
    warnings: list[tuple[str, str, str]] = []
    if manifest is not None and manifest is not False and manifest_path is not None and not manifest_path.exists():
        warnings.append((str(manifest_path), "warning", "manifest not found; all metadata inferred"))

    results: list[ProcessedDocument] = []
    for path in corpus.list_files(raw_dir):
        raw, file_warnings = corpus.read_file(path, root=raw_dir)
        warnings.extend(file_warnings)
        if raw is None:
            continue
        row = manifest_table.loc[raw.file].to_dict() if raw.file in manifest_table.index else None
        result = process_document(raw, manifest_row=row, steps=steps)
        warnings.extend(w for w in result.warnings if w not in file_warnings)
        results.append(result)

    # Duplicates: the same cleaned text from several files is kept once (the best format).
    kept: dict[str, ProcessedDocument] = {}
    copies: dict[str, list[str]] = {}
    for result in sorted(results, key=lambda r: (_format_rank(r.document["format"]), r.document["file"])):
        digest = result.document["sha256"]
        if digest in kept:
            copies[digest].append(result.document["file"])
            warnings.append((result.document["file"], "warning",
                             f"duplicate of {kept[digest].document['file']} (same text after cleaning); kept once"))
            continue
        kept[digest] = result
        copies[digest] = []
    final = sorted(kept.values(), key=lambda r: r.document["file"])
    for result in final:
        result.document["duplicate_files"] = ";".join(copies[result.document["sha256"]])
    # doc_ids must be unique: a repeated one (two files, one stem) gets the format appended.
    seen: set[str] = set()
    for result in final:
        doc_id = result.document["doc_id"]
        if doc_id in seen:
            warnings.append((result.document["file"], "warning", f"doc_id {doc_id} already used; renamed"))
            new_id = f"{doc_id}-{result.document['format']}"
            _rename(result, doc_id, new_id)
        seen.add(result.document["doc_id"])
    if documents:
        wanted = set(documents)
        final = [r for r in final if r.document["doc_id"] in wanted or r.document["file"] in wanted]
    if not final:
        warnings.append((str(raw_dir), "error", "no readable report in the folder"))

    docs = pd.DataFrame([r.document for r in final], columns=DOCUMENT_COLUMNS)
    sections = _concat([r.sections for r in final], SECTION_COLUMNS)
    sentences = _concat([r.sentences for r in final], SENTENCE_COLUMNS)
    log = _concat([r.cleaning_log for r in final], schema.CLEANING_LOG)
    warn = pd.DataFrame(warnings, columns=schema.WARNINGS).drop_duplicates(ignore_index=True)
    for col in ("n_chars", "n_sections", "n_sentences"):
        docs[col] = docs[col].astype("int64")
    return Corpus(documents=docs, sections=sections, sentences=sentences, cleaning_log=log, warnings=warn)


def _rename(result: ProcessedDocument, old: str, new: str) -> None:
    result.document["doc_id"] = new
    for table in (result.sections, result.sentences, result.cleaning_log):
        table["doc_id"] = new
    for table, column in ((result.sections, "section_id"), (result.sections, "parent_id"),
                          (result.sentences, "section_id"), (result.sentences, "sentence_id")):
        table[column] = table[column].str.replace(f"{old}:", f"{new}:", regex=False)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def write_corpus(result: Corpus, folder: str | Path) -> list[Path]:
    """Write every table of ``result`` to ``folder`` (parquet + CSV)."""
    return [store.write_table(getattr(result, name), folder, name) for name in TABLES]


def clean_command(input_dir: str | Path, *, out: str | Path, manifest: str | Path | None = None) -> int:
    """``python -m helpers clean INPUT_DIR --out DIR``: write the tables of any folder to DIR.

    Returns 0 when at least one report was processed, 1 otherwise.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        print(f"error: {input_dir} is not a folder", file=sys.stderr)
        return 1
    result = build_corpus(input_dir, manifest=manifest)
    written = write_corpus(result, out)
    print(f"{len(result.documents)} report(s), {len(result.sections)} sections, "
          f"{len(result.sentences)} sentences -> {Path(out)} ({len(written)} tables)")
    for row in result.warnings.itertuples():
        print(f"{row.severity}: {row.file}: {row.reason}", file=sys.stderr)
    return 0 if len(result.documents) else 1


# --------------------------------------------------------------------------- indicators command
INDICATOR_CSV_COLUMNS = [
    "doc_id", "file", "indicator_id", "indicator_name", "value", "low", "high", "unit", "approx",
    "approx_marker", "kind", "direction", "object", "quote", "sentence", "start", "end",
]


def indicators_command(input_dir: str | Path, *, out: str | Path) -> int:
    """``python -m helpers indicators INPUT_DIR --out FILE.csv``: one row per quantity mention of
    every report in the folder (no manifest needed; one is used when present).

    ``quote`` is an exact substring of ``sentence``; ``start``/``end`` index the cleaned text.
    Returns 0 when at least one report was read, 1 otherwise.
    """
    from helpers import indicators, quantities

    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        print(f"error: {input_dir} is not a folder", file=sys.stderr)
        return 1
    result = build_corpus(input_dir, manifest=None)
    for row in result.warnings.itertuples():
        print(f"{row.severity}: {row.file}: {row.reason}", file=sys.stderr)
    if not len(result.documents):
        print(f"error: no readable report in {input_dir}", file=sys.stderr)
        return 1
    found = quantities.extract_quantities(result.sentences, documents=result.documents)
    found = indicators.assign_indicators(found)
    table = found[INDICATOR_CSV_COLUMNS].sort_values(["file", "start"], kind="stable")
    target = Path(out)
    with store.atomic_path(target) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    named = int(table["indicator_id"].notna().sum())
    print(f"{len(result.documents)} report(s), {len(table)} quantity mentions "
          f"({named} with an indicator) -> {target}")
    return 0
