"""The one corpus-processing entry: a folder of reports -> documents, sections, sentences,
cleaning log and warnings (``Corpus``), tokens and quantity mentions, shared by the notebooks and
the command line.

Per-document work is the pure function ``process_document`` (text and manifest row in, tables
out, no file I/O), plus segmentation and quantity extraction of its sentences. Every entry runs
it through one streaming engine (``CorpusStream``): results are cached per report
(``helpers.cache``: an unchanged report under unchanged code and data files is never processed
again) and computed in parallel (``helpers.parallel``: loky workers, or a Dask cluster).

- ``build_corpus``: the tables in memory (notebook 01; ``tokens=``/``quantities=`` add those);
- ``process_corpus``: any number of reports written to a folder chunk by chunk, switched in as
  one set (``clean`` command);
- ``corpus_tokens`` / ``corpus_quantities``: per-report cached work on a sentences table
  (notebooks 02 and 03).

>>> corpus = build_corpus(config.RAW, cache=config.CACHE, workers=2)    # doctest: +SKIP
>>> corpus.documents[["doc_id", "region", "region_origin"]].head(2)      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pandas as pd
import pyarrow as pa

from helpers import cache as cache_mod
from helpers import clean, config, corpus, metadata, parallel, schema, store, structure

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
    tokens: pd.DataFrame | None = None  # build_corpus(tokens=True): segment.segment_sentences rows
    quantities: pd.DataFrame | None = None  # build_corpus(quantities=True): mentions with indicators


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
    document, tables, warnings = _process_columns(raw, doc_id=doc_id, manifest_row=manifest_row, steps=steps)
    return ProcessedDocument(document, *(schema.frame_from_columns(tables[name]) for name in _DOCUMENT_TABLES),
                             warnings)


_DOCUMENT_TABLES = ("sections", "sentences", "cleaning_log")


def _process_columns(raw: corpus.RawDocument, *, doc_id: str | None = None, manifest_row: dict | None = None,
                     steps: list[str] | None = None) -> tuple[dict, dict[str, dict[str, list]], list]:
    """:func:`process_document` with its tables as column lists (name -> column -> list)."""
    manifest_row = dict(manifest_row or {})
    doc_id = doc_id or str(manifest_row.get("doc_id") or "").strip() or Path(raw.file).with_suffix("").as_posix()
    cleaned = clean.clean_text(raw.text, steps=steps)
    text = cleaned.text
    sections = structure.section_columns(text, doc_id=doc_id)
    sentences = structure.sentence_columns(text, sections, doc_id=doc_id)
    meta = metadata.merge(metadata.infer_metadata(text, cleaned.metadata), manifest_row)
    document = {
        "doc_id": doc_id, "file": raw.file, "format": raw.format, "encoding": raw.encoding,
        **meta,
        "source": cleaned.metadata.get("source", ""),
        "n_chars": len(text), "n_sections": sum(level > 0 for level in sections["level"]),
        "n_sentences": len(sentences["doc_id"]),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "converted_traditional": bool(raw.converted_traditional),
        "garbled_share": round(float(raw.garbled_share), 4), "duplicate_files": "",
        "signature": cleaned.metadata.get("signature", ""), "signed": cleaned.metadata.get("signed", ""),
        "disclosure": cleaned.metadata.get("disclosure", ""), "text": text,
    }
    log = clean.cleaning_log_columns({doc_id: cleaned}, files={doc_id: raw.file})
    warnings = list(raw.warnings)
    if not text.strip():
        warnings.append((raw.file, "warning", "no text left after cleaning"))
    else:  # a stub or a page in another language is processed, but said
        warnings.extend((raw.file, "warning", reason) for reason in corpus.content_problems(text))
    return document, {"sections": sections, "sentences": sentences, "cleaning_log": log}, warnings


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
                 documents: list[str] | None = None, workers: int | None = None, cache=False,
                 progress: bool | None = None, tokens: bool = False, quantities: bool = False) -> Corpus:
    """Read, clean and structure every report in ``raw_dir``, in memory.

    manifest: None = ``raw_dir/manifest.csv`` if present; False = ignore any manifest; or a path.
    steps: cleaning steps to apply (None = all of ``clean.STEPS``).
    documents: doc_ids (or file names) to keep; None or [] = all.
    workers: processes for the per-document work (None = one, or what an active
    ``joblib.parallel_config`` says, e.g. a Dask cluster; see helpers.parallel).
    cache: False = none; True = ``config.CACHE``; or a folder (``paths.cache``) or a
    ``cache.DocumentCache``: unchanged reports are not processed again.
    progress: a progress bar (None = only for 50+ reports on a terminal).
    tokens, quantities: also fill ``Corpus.tokens`` / ``Corpus.quantities`` (see corpus_tokens,
    corpus_quantities). For corpora too large for memory use :func:`process_corpus`.
    """
    parts = tuple(p for p, wanted in (("tokens", tokens), ("quantities", quantities)) if wanted)
    stream = CorpusStream(raw_dir, manifest=manifest, steps=steps, documents=documents, parts=parts,
                          workers=workers, cache=cache, progress=progress)
    final = list(stream.entries())
    tables = _chunk_frames(final, parts)
    warn = _warning_table(stream.warnings)
    return Corpus(documents=tables["documents"], sections=tables["sections"], sentences=tables["sentences"],
                  cleaning_log=tables["cleaning_log"], warnings=warn, tokens=tables.get("tokens"),
                  quantities=tables.get("quantities"))


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


def _as_entry(value) -> cache_mod.FrameEntry:
    return value if isinstance(value, cache_mod.FrameEntry) else cache_mod.FrameEntry(None, None, value)


def _assemble(entries: list[cache_mod.FrameEntry], columns: list[str]) -> cache_mod.FrameEntry | None:
    """Per-document tables joined as ``_concat`` joins their DataFrames, in Arrow when every one
    is an Arrow table with the same dtypes (no pandas work); None when there is no row."""
    entries = [e for e in entries if e.num_rows]
    if not entries:
        return None
    first = entries[0]
    if (first.table is not None and all(e.table is not None and e.dtypes == first.dtypes for e in entries)
            and len(set(columns)) == len(columns) and set(columns) <= set(first.columns)):
        joined = [_join_column([e.table.column(name) for e in entries]) for name in columns]
        if all(column is not None for column in joined):
            dtypes = dict(first.dtypes)
            return cache_mod.FrameEntry(pa.table(joined, names=columns), tuple((c, dtypes[c]) for c in columns))
    return cache_mod.FrameEntry(None, None, _concat([e.to_frame() for e in entries], columns))


def _join_column(pieces: list[pa.ChunkedArray]) -> pa.ChunkedArray | None:
    """One column from the same column of each document: dictionary-encoded pieces decoded when
    some are not (left encoded when all are), all-null pieces given the others' type; None when
    the types disagree otherwise."""
    types = {piece.type for piece in pieces}
    if len(types) > 1:
        pieces = [p.cast(p.type.value_type) if pa.types.is_dictionary(p.type) else p for p in pieces]
        types = {piece.type for piece in pieces}
        typed = types - {pa.null()}
        if len(typed) != 1:
            return None
        target = typed.pop()
        pieces = [p.cast(target) if p.type != target else p for p in pieces]
        types = {target}
    # Dictionary-encoded pieces stay so: the parquet writer's thread decodes them (outside the
    # GIL), FrameEntry.to_frame otherwise.
    return pa.chunked_array([chunk for piece in pieces for chunk in piece.chunks], type=types.pop())


def _entry_frame(entry: cache_mod.FrameEntry | None, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns) if entry is None else entry.to_frame()


# --------------------------------------------------------------------------- streaming engine
# Every corpus passes through CorpusStream: files are read and hashed here, per-document work runs
# through helpers.parallel (loky workers, or a Dask cluster via joblib) and its results are kept in
# helpers.cache, keyed by the raw bytes and the pipeline version. The first pass computes what the
# cache lacks and keeps only a short summary per file in memory (duplicates and doc_id collisions
# need every file before anything can be decided); the second pass reads the kept documents back
# one at a time, in file order. Without a cache, a throwaway one carries results between passes.
PARTS = ("tokens", "quantities")


@dataclass
class DocumentResult:
    """One kept document: its ``ProcessedDocument`` and, when asked for, its tokens
    (``segment.segment_sentences``) and quantity mentions (indicators assigned)."""

    processed: ProcessedDocument
    tokens: pd.DataFrame | None = None
    quantities: pd.DataFrame | None = None


def sentences_digest(sentences: pd.DataFrame | dict[str, list]) -> str:
    """Hash of one document's sentences (ids, spans and text; a table or its column lists): what
    its tokens and quantities depend on."""
    def values(column: str) -> list:
        return sentences[column] if isinstance(sentences, dict) else sentences[column].tolist()

    # Column by column: one join per column instead of one formatted string per sentence.
    joined = "\x1d".join(("\x1f".join(map(str, values(column))) for column in ("sentence_id", "start", "text")))
    return cache_mod.content_hash(joined)


def _lexicon_hash(lexicon: str | None) -> str:
    return "" if lexicon is None else cache_mod.content_hash(Path(lexicon).read_bytes())


def _part_key(part: str, digest: str, *, file: str, lexicon_hash: str) -> str:
    """Cache key of a part: tokens depend on the lexicon file given, quantities name their file."""
    return cache_mod.content_hash(f"{digest}:{part}:{lexicon_hash if part == 'tokens' else file}")


def _compute_part(part: str, sentences: pd.DataFrame, *, file: str | dict[str, str],
                  lexicon: str | None) -> pd.DataFrame:
    """Tokens or quantity mentions (with indicators) of one document's sentences (``file``: its
    file), or of several documents' (``file``: doc_id -> file)."""
    if part == "tokens":
        from helpers import segment

        return segment.segment_sentences(sentences, segmenter=segment.default_segmenter(lexicon))
    from helpers import indicators, quantities

    if isinstance(file, str):
        file = dict.fromkeys(sentences["doc_id"].drop_duplicates(), file) if file else {}
    files = {doc_id: name for doc_id, name in file.items() if name}
    files = pd.DataFrame({"doc_id": list(files), "file": list(files.values())}) if files else None
    return indicators.assign_indicators(quantities.extract_quantities(sentences, documents=files))


def _compute_part_batch(part: str, tables: list, *, files: list[str], lexicon: str | None) -> list:
    """``_compute_part`` of several documents (each its sentences, a table or column lists, and
    its file; doc_ids distinct) in one call, split back per document as :class:`cache.FrameEntry`:
    one call spreads pandas' fixed cost per table over the documents."""
    if len(tables) == 1:
        return [_compute_part(part, _sentence_frame(tables[0]), file=files[0], lexicon=lexicon)]
    doc_ids = [_first_doc_id(table) for table in tables]
    if all(isinstance(table, dict) for table in tables):
        joined = schema.frame_from_columns(_join_columns(tables))
    else:
        joined = pd.concat([_sentence_frame(table) for table in tables], ignore_index=True)
    value = cache_mod.FrameEntry.from_frame(
        _compute_part(part, joined, file=dict(zip(doc_ids, files)), lexicon=lexicon))
    return _split_rows(value, _row_counts(value, doc_ids))


def _sentence_frame(sentences: pd.DataFrame | dict[str, list]) -> pd.DataFrame:
    return schema.frame_from_columns(sentences) if isinstance(sentences, dict) else sentences


def _first_doc_id(sentences: pd.DataFrame | dict[str, list]):
    """The doc_id of a document's sentences (a table or column lists); None without sentences."""
    if isinstance(sentences, dict):
        return sentences["doc_id"][0] if sentences["doc_id"] else None
    return sentences["doc_id"].iloc[0] if len(sentences) else None


def _join_columns(tables: list[dict[str, list]]) -> dict[str, list]:
    """Several documents' column lists as one table's."""
    return {name: list(chain.from_iterable(table[name] for table in tables)) for name in tables[0]}


def _split_rows(value: cache_mod.FrameEntry, counts: list[int]) -> list:
    """``value``'s rows as consecutive pieces of ``counts`` rows: Arrow slices (no copy), or
    DataFrames when ``value`` holds one."""
    pieces, start = [], 0
    for count in counts:
        if value.table is None:
            pieces.append(value.frame.iloc[start:start + count].reset_index(drop=True))
        else:
            pieces.append(cache_mod.FrameEntry(value.table.slice(start, count), value.dtypes))
        start += count
    if start != value.num_rows:
        raise RuntimeError("the rows of a batch do not add up to its documents'")
    return pieces


def _row_counts(value: cache_mod.FrameEntry, doc_ids: list[str]) -> list[int]:
    """How many rows each document has in a table that holds them in ``doc_ids`` order."""
    import pyarrow.compute as pc

    column = value.table.column("doc_id") if value.table is not None else pa.array(value.frame["doc_id"].tolist())
    counted = pc.value_counts(column)
    counts = dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist()))
    found = [counts.pop(doc_id, 0) for doc_id in doc_ids]
    if counts:
        raise RuntimeError("the rows of a batch do not belong to its documents")
    return found


@dataclass
class _Task:
    """Work on one file for a worker: its raw bytes (so workers need no shared disk), or only its
    sentences when the document is cached but some parts are not."""

    index: int
    name: str
    base_key: str
    data: bytes | None = None
    manifest_row: dict | None = None
    steps: list[str] | None = None
    sentences: pd.DataFrame | None = None
    parts: tuple[str, ...] = ()
    lexicon: str | None = None
    lexicon_hash: str = ""


def _summary_key(base_key: str) -> str:
    return cache_mod.content_hash(base_key + ":summary")


# Documents per task: their tokens and their quantities are each computed in one call
# (``_compute_part_batch``); at one document per call pandas' fixed cost per table was a fifth
# of the per-document time.
BATCH_DOCUMENTS = 16


def _compute(tasks: list[_Task]) -> list[tuple[int, dict | None, dict[str, bytes]]]:
    """Worker side: the missing results of a few files, each as (index, summary, encoded cache
    entries key -> bytes)."""
    results = []
    processed = []  # (blobs, base_key, document, tables as column lists, warnings)
    wanted: dict[str, list] = {part: [] for part in PARTS}  # part -> (blobs, key, sentences, file)
    for task in tasks:
        blobs: dict[str, bytes] = {}
        summary = None
        sentences, file = task.sentences, task.name
        if task.data is not None:
            try:
                raw = corpus.read_bytes(task.name, task.data)
                document, tables, warnings = _process_columns(raw, manifest_row=task.manifest_row, steps=task.steps)
            except Exception as exc:  # one bad report must not stop the corpus: it becomes a warning
                reason = (str(exc) if isinstance(exc, corpus.ReadError)
                          else f"cannot process: {type(exc).__name__}: {exc}")
                summary = {"ok": False, "file": task.name, "warnings": [(task.name, "error", reason)]}
                results.append((task.index, summary, {_summary_key(task.base_key): cache_mod.encode(summary)}))
                continue
            sentences, file = tables["sentences"], document["file"]
        digest = sentences_digest(sentences)
        if task.data is not None:
            summary = {"ok": True, "file": file, "format": document["format"], "doc_id": document["doc_id"],
                       "sha256": document["sha256"], "warnings": list(warnings), "sentences_digest": digest}
            blobs[_summary_key(task.base_key)] = cache_mod.encode(summary)
            processed.append((blobs, task.base_key, document, tables, warnings))
            summary = {**summary, "base_key": task.base_key}
        for part in task.parts:
            key = _part_key(part, digest, file=file, lexicon_hash=task.lexicon_hash)
            wanted[part].append((blobs, key, sentences, file))
        results.append((task.index, summary, blobs))
    if processed:
        # each table made once for the batch, then split back per document
        pieces = [_split_rows(cache_mod.FrameEntry.from_frame(
                      schema.frame_from_columns(_join_columns([p[3][name] for p in processed]))),
                      [len(p[3][name]["doc_id"]) for p in processed]) for name in _DOCUMENT_TABLES]
        for (blobs, base_key, document, _, warnings), tables in zip(processed, zip(*pieces)):
            blobs[base_key] = cache_mod.encode(ProcessedDocument(document, *tables, warnings))
    lexicon = tasks[0].lexicon if tasks else None
    for part, docs in wanted.items():
        for group in _distinct_doc_ids(docs):
            values = _compute_part_batch(part, [d[2] for d in group], files=[d[3] for d in group], lexicon=lexicon)
            for (blobs, key, _, _), value in zip(group, values):
                blobs[key] = cache_mod.encode(value)
    return results


def _distinct_doc_ids(docs: list) -> list[list]:
    """``docs`` (each with its sentences third) in order, as runs whose doc_ids are distinct (the
    rows of a batch are told apart by doc_id); a document without sentences goes alone."""
    groups: list[list] = []
    seen: set = set()
    for doc in docs:
        doc_id = _first_doc_id(doc[2])
        if doc_id is None or doc_id in seen or not groups or not seen:
            groups.append([doc])
            seen = set()
        else:
            groups[-1].append(doc)
        if doc_id is not None:
            seen.add(doc_id)
    return groups


class CorpusStream:
    """The kept documents of a folder as :class:`DocumentResult`, one at a time, in file order.

    Options as :func:`build_corpus`, plus ``parts`` (any of ``PARTS``) and ``lexicon`` (a user
    dictionary for the tokens; None = the packaged one). ``warnings`` is complete once the stream
    is exhausted; ``hits`` and ``misses`` count files found whole in the cache or not.
    """

    def __init__(self, raw_dir: str | Path, *, manifest=None, steps: list[str] | None = None,
                 documents: list[str] | None = None, parts: tuple[str, ...] = (), workers: int | None = None,
                 cache=False, progress: bool | None = None, lexicon: str | Path | None = None) -> None:
        self.raw_dir = Path(raw_dir)
        if not self.raw_dir.is_dir():
            raise FileNotFoundError(f"{self.raw_dir} is not a folder of reports")
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
        self.parts = tuple(parts)
        self.steps = list(steps) if steps is not None else None
        self.documents = documents
        self.workers = workers
        self.progress = progress
        self.lexicon = str(lexicon) if lexicon else None
        self.lexicon_hash = _lexicon_hash(self.lexicon)
        manifest_path = _manifest_path(self.raw_dir, manifest)
        # a manifest problem is a warning naming the row; the rest of the manifest is used
        self.manifest_table, found = metadata.load_manifest(manifest_path, folder=self.raw_dir)
        self.warnings: list[tuple[str, str, str]] = list(found)
        if manifest is not None and manifest is not False and manifest_path is not None and not manifest_path.exists():
            self.warnings.append((str(manifest_path), "warning", "manifest not found; all metadata inferred"))
        self.cache = cache_mod.open_cache(cache, default_folder=config.CACHE)
        self._scratch = None
        if self.cache is None:
            import tempfile

            self._scratch = tempfile.TemporaryDirectory(prefix="fazhi_scratch_")
            self.cache = cache_mod.DocumentCache(self._scratch.name)
        self.hits = self.misses = 0
        self._duplicates: dict[str, str] = {}
        self._plan: list[tuple[dict, str]] | None = None

    def _base_key(self, name: str, data: bytes) -> tuple[str, dict | None]:
        row = self.manifest_table.loc[name].to_dict() if name in self.manifest_table.index else None
        return self.cache.key(data, "document", name, sorted((row or {}).items()), self.steps), row

    # ---- first pass: every file found in the cache or computed
    def _tasks(self, files: list[Path], summaries: list):
        for path in files:
            name = path.relative_to(self.raw_dir).as_posix()
            try:
                data = path.read_bytes()
            except OSError as exc:
                summaries.append({"ok": False, "file": name,
                                  "warnings": [(name, "error", f"cannot open: {exc.strerror or exc}")]})
                continue
            base_key, row = self._base_key(name, data)
            summary = self.cache.get(_summary_key(base_key))
            if summary is not cache_mod.MISSING and not summary["ok"]:
                self.hits += 1
                summaries.append(summary)
                continue
            stored = set()
            if summary is not cache_mod.MISSING:
                summary = {**summary, "base_key": base_key}
                part_keys = {part: self._key(part, summary) for part in self.parts}
                stored = self.cache.present([base_key, *part_keys.values()])
            if base_key in stored:
                missing = tuple(part for part, key in part_keys.items() if key not in stored)
                if not missing:
                    self.hits += 1
                    summaries.append(summary)
                    continue
                processed = self.cache.get(base_key)
                if processed is not cache_mod.MISSING:
                    self.misses += 1
                    summaries.append(summary)
                    yield _Task(len(summaries) - 1, summary["file"], base_key, sentences=processed.sentences,
                                parts=missing, lexicon=self.lexicon, lexicon_hash=self.lexicon_hash)
                    continue
            self.misses += 1
            summaries.append(None)  # filled in when the worker's result comes back
            yield _Task(len(summaries) - 1, name, base_key, data=data, manifest_row=row, steps=self.steps,
                        parts=self.parts, lexicon=self.lexicon, lexicon_hash=self.lexicon_hash)

    def _key(self, part: str, summary: dict) -> str:
        return _part_key(part, summary["sentences_digest"], file=summary["file"], lexicon_hash=self.lexicon_hash)

    def _first_pass(self) -> list[dict]:
        files = corpus.list_files(self.raw_dir)
        self.warnings.extend(corpus.link_warnings(self.raw_dir))
        summaries: list = []
        size = parallel.items_per_task(len(files), self.workers, most=BATCH_DOCUMENTS)
        batches = parallel.map_documents(_compute, parallel.chunked(self._tasks(files, summaries), size),
                                         workers=self.workers, progress=self.progress, total=len(files),
                                         desc="reports", weight=len)
        for batch in batches:
            for index, summary, blobs in batch:
                for key, blob in blobs.items():
                    self.cache.put_encoded(key, blob)
                if summary is not None:
                    summaries[index] = summary
        return summaries

    # ---- decisions that need every file: duplicates, doc_id collisions, the documents filter
    def _decide(self, summaries: list[dict]) -> list[tuple[dict, str]]:
        for summary in summaries:
            self.warnings.extend(summary["warnings"])
        kept: dict[str, dict] = {}
        copies: dict[str, list[str]] = {}
        ok = [s for s in summaries if s["ok"]]
        for summary in sorted(ok, key=lambda s: (_format_rank(s["format"]), s["file"])):
            digest = summary["sha256"]
            if digest in kept:
                copies[digest].append(summary["file"])
                self.warnings.append((summary["file"], "warning",
                                      f"duplicate of {kept[digest]['file']} (same text after cleaning); kept once"))
                continue
            kept[digest] = summary
            copies[digest] = []
        final = sorted(kept.values(), key=lambda s: s["file"])
        self._duplicates = {s["file"]: ";".join(copies[s["sha256"]]) for s in final}
        # doc_ids must be unique: a repeated one (two files, one stem) gets the format appended.
        seen: set[str] = set()
        decided = []
        for summary in final:
            doc_id = summary["doc_id"]
            if doc_id in seen:
                self.warnings.append((summary["file"], "warning", f"doc_id {doc_id} already used; renamed"))
                doc_id = f"{doc_id}-{summary['format']}"
            seen.add(doc_id)
            decided.append((summary, doc_id))
        if self.documents:
            wanted = set(self.documents)
            decided = [(s, d) for s, d in decided if d in wanted or s["file"] in wanted]
        if not decided:
            self.warnings.append((str(self.raw_dir), "error", "no readable report in the folder"))
        return decided

    # ---- second pass: the kept documents, one at a time
    def __iter__(self):
        return self._results(frames="pandas")

    def entries(self):
        """The kept documents as :class:`DocumentResult` whose tables are
        :class:`cache.FrameEntry` (Arrow, as cached): what ``process_corpus`` writes from."""
        return self._results(frames="arrow")

    def plan(self) -> list[tuple[dict, str]]:
        """The first pass and the decisions that need every file: the kept documents as (summary,
        doc_id), in file order; ``warnings`` is complete afterwards."""
        if self._plan is None:
            self._plan = self._decide(self._first_pass())
        return self._plan

    def fingerprint(self) -> str | None:
        """One hash of what the tables of this stream are made from (every kept document's cache
        keys, its doc_id and duplicates, the parts, the warnings); None without a cache, where
        nothing is reused."""
        if self._scratch is not None:
            return None
        kept = [(s["file"], s["base_key"], doc_id, self._duplicates.get(s["file"], ""),
                 [self._key(part, s) for part in self.parts]) for s, doc_id in self.plan()]
        return cache_mod.content_hash(repr((kept, self.parts, self.warnings)))

    def close(self) -> None:
        """Drop the throwaway cache of a stream without one (iterating to the end does it too)."""
        if self._scratch is not None:
            self._scratch.cleanup()

    def _results(self, *, frames: str):
        try:
            for summary, doc_id in self.plan():
                yield self._load(summary, doc_id, frames=frames)
        finally:
            self.close()

    def _load(self, summary: dict, doc_id: str, *, frames: str = "pandas") -> DocumentResult:
        name = summary["file"]
        base_key = summary["base_key"]
        part_keys = {part: self._key(part, summary) for part in self.parts}
        stored = self.cache.get_many([base_key, *part_keys.values()], frames=frames)
        processed = stored[base_key]
        if processed is cache_mod.MISSING:  # deleted or damaged since the first pass
            data = (self.raw_dir / name).read_bytes()
            _, row = self._base_key(name, data)
            processed = process_document(corpus.read_bytes(name, data), manifest_row=row, steps=self.steps)
            self.cache.put(base_key, processed)
        result = DocumentResult(processed)
        for part, key in part_keys.items():
            value = stored[key]
            if value is cache_mod.MISSING:
                sentences = processed.sentences
                if isinstance(sentences, cache_mod.FrameEntry):
                    sentences = sentences.to_frame()
                value = _compute_part(part, sentences, file=name, lexicon=self.lexicon)
                self.cache.put(key, value)
            setattr(result, part, value)
        processed.document["duplicate_files"] = self._duplicates.get(name, "")
        if doc_id != processed.document["doc_id"]:
            _to_frames(result)  # renaming edits id columns: on DataFrames
            _rename_result(result, processed.document["doc_id"], doc_id)
        if frames == "arrow":
            _to_entries(result)
        return result


_RESULT_TABLES = (("processed", "sections"), ("processed", "sentences"), ("processed", "cleaning_log"),
                  (None, "tokens"), (None, "quantities"))


def _to_entries(result: DocumentResult) -> None:
    """Every table of ``result`` as a :class:`cache.FrameEntry`."""
    for owner, name in _RESULT_TABLES:
        holder = result.processed if owner else result
        value = getattr(holder, name)
        if value is not None:
            setattr(holder, name, _as_entry(value))


def _to_frames(result: DocumentResult) -> None:
    for owner, name in _RESULT_TABLES:
        holder = result.processed if owner else result
        value = getattr(holder, name)
        if isinstance(value, cache_mod.FrameEntry):
            setattr(holder, name, value.to_frame())


def _rename_result(result: DocumentResult, old: str, new: str) -> None:
    _rename(result.processed, old, new)
    for table in (result.tokens, result.quantities):
        if table is not None:
            table["doc_id"] = new
            table["sentence_id"] = table["sentence_id"].str.replace(f"{old}:", f"{new}:", regex=False)


def iter_corpus(raw_dir: str | Path, **options) -> CorpusStream:
    """Stream the kept documents of ``raw_dir`` as :class:`DocumentResult` (options: see
    :class:`CorpusStream`). Memory holds one document at a time plus a short summary per file.

    >>> for doc in iter_corpus(config.RAW, parts=("tokens",), cache=False):  # doctest: +SKIP
    ...     print(doc.processed.document["doc_id"], len(doc.tokens))
    """
    return CorpusStream(raw_dir, **options)


# Columns written without min/max statistics: nobody filters on a token's text, and they were a
# quarter of the time of writing the token table (doc_id keeps them, to read one report's rows).
_NO_STATISTICS = {"tokens": ("token", "sentence_id")}


class _TableWriter:
    """Appends DataFrame chunks to ``name.parquet`` (and ``name.csv``) in the staging folder of a
    :class:`store.TableSet`: the set is switched into the output folder only when every table of
    it is complete (``TableSet.commit``)."""

    def __init__(self, tables: store.TableSet, name: str, *, csv: bool) -> None:
        self.name, self.csv = name, csv
        self.rows = 0
        self._parquet = tables.path(f"{name}.parquet")
        self._csv_file = None
        if csv:
            self._csv_file = open(tables.path(f"{name}.csv"), "w", encoding="utf-8-sig", newline="")
        self._writer = None
        self._schema = None

    def write_entry(self, entry: cache_mod.FrameEntry) -> None:
        """Append an assembled table; an Arrow one goes to the file without pandas."""
        if entry.table is None or self._writer is None or self._csv_file is not None:
            self.write(entry.to_frame())  # the first chunk fixes the file's schema, as pandas gives it
            return
        table = entry.table.select(self._schema.names)
        columns = [c if c.type == f.type else c.cast(f.type) for c, f in zip(table.columns, self._schema)]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        self.rows += table.num_rows
        store.checkpoint(f"chunk:{self.name}")

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            schema = pa.Schema.from_pandas(frame, preserve_index=False)
            # A column that is empty in the first chunk has no type yet: it holds text.
            schema = pa.schema([f.with_type(pa.large_string()) if pa.types.is_null(f.type) else f for f in schema],
                               metadata=schema.metadata)
            self._schema = schema
            skipped = _NO_STATISTICS.get(self.name, ())
            self._writer = pq.ParquetWriter(self._parquet, schema, write_statistics=[
                name for name in schema.names if name not in skipped] if skipped else True)
        self._writer.write_table(pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False))
        if self._csv_file is not None:  # for spreadsheets: formulas neutralised (store.csv_safe)
            store.csv_safe(frame).to_csv(self._csv_file, index=False, header=self.rows == 0,
                                         lineterminator=store.CSV_LINE_END)
        self.rows += len(frame)
        store.checkpoint(f"chunk:{self.name}")

    def close(self, empty: pd.DataFrame, *, ok: bool) -> None:
        """Finish the files (``empty`` gives the columns when no chunk came); with ``ok=False``
        only close them (the set is dropped and the folder keeps what it had)."""
        try:
            if ok and self._writer is None:
                self.write(empty)
        finally:
            if self._writer is not None:
                self._writer.close()
            if self._csv_file is not None:
                self._csv_file.close()


def _document_frame(results: list[DocumentResult]) -> pd.DataFrame:
    docs = pd.DataFrame([r.processed.document for r in results], columns=DOCUMENT_COLUMNS)
    for col in ("n_chars", "n_sections", "n_sentences"):
        docs[col] = docs[col].astype("int64")
    return docs


def _chunk_entries(results: list[DocumentResult], parts: tuple[str, ...]
                   ) -> dict[str, tuple[cache_mod.FrameEntry | None, list[str]]]:
    """The tables of a chunk of results (their tables :class:`cache.FrameEntry` or DataFrames):
    each assembled (None when it has no row) with the columns it has when it is empty."""
    tables = {
        "documents": (cache_mod.FrameEntry(None, None, _document_frame(results)), DOCUMENT_COLUMNS),
        "sections": (_assemble([r.processed.sections for r in results], SECTION_COLUMNS), SECTION_COLUMNS),
        "sentences": (_assemble([r.processed.sentences for r in results], SENTENCE_COLUMNS), SENTENCE_COLUMNS),
        "cleaning_log": (_assemble([r.processed.cleaning_log for r in results], schema.CLEANING_LOG),
                         schema.CLEANING_LOG),
    }
    for part in parts:
        entries = [getattr(r, part) for r in results]
        columns = entries[0].columns if entries else []
        tables[part] = (_assemble(entries, columns), columns)
    return tables


def _chunk_frames(results: list[DocumentResult], parts: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """``_chunk_entries`` as DataFrames (an empty table keeps its columns)."""
    return {name: _entry_frame(entry, columns) for name, (entry, columns) in _chunk_entries(results, parts).items()}


def _write_tables(writers: dict[str, _TableWriter], tables: dict) -> None:
    for name, (entry, _) in tables.items():
        if entry is not None and entry.num_rows:
            writers[name].write_entry(entry)


def process_corpus(raw_dir: str | Path, *, out: str | Path, manifest=None, steps: list[str] | None = None,
                   documents: list[str] | None = None, tokens: bool = True, quantities: bool = True,
                   workers: int | None = None, cache=True, progress: bool | None = None,
                   lexicon: str | Path | None = None, chunk_size: int = 200, csv: bool = False) -> dict:
    """Process a folder of any size into ``out``, streaming: documents, sections, sentences,
    cleaning_log, warnings and, when asked, tokens and quantities, as parquet (``csv=True`` adds
    CSV copies of every table but tokens), written ``chunk_size`` documents at a time; at most two
    chunks are in memory (one being written while the next is read). The tables and their stamp
    are written into a staging folder and switched in as one set (``store.TableSet``): killed at
    any point, the run leaves ``out`` with the tables it had before or with all the new ones, and
    the next run removes what it left.

    ``workers``/``cache``/``progress`` as :func:`build_corpus` (the cache is on by default, in
    ``config.CACHE``). Returns counts: n_docs, rows per table, cache hits and misses, and
    ``up_to_date``: with a cache, the same call again over unchanged reports finds the folder's
    tables made from the same cache entries and untouched since (``TABLES_STAMP``), and leaves them.

    >>> process_corpus(config.RAW, out="/tmp/fazhi_tables", workers=2)  # doctest: +SKIP
    {'n_docs': 5, 'rows': {'documents': 5, ...}, 'cache_hits': 0, 'cache_misses': 5}
    """
    parts = tuple(p for p, wanted in (("tokens", tokens), ("quantities", quantities)) if wanted)
    stream = CorpusStream(raw_dir, manifest=manifest, steps=steps, documents=documents, parts=parts,
                          workers=workers, cache=cache, progress=progress, lexicon=lexicon)
    folder = Path(out)
    store.sweep(folder)  # what a killed run left here: staging folders, temporary files
    names = [n for n in TABLES if n != "warnings"] + list(parts)
    # The same command again over the same reports: the tables in the folder are what it would
    # write (checked through their sources' cache keys and the files' sizes and times), so they stay.
    inputs = stream.fingerprint()
    if inputs is not None:
        inputs = cache_mod.content_hash(repr((inputs, names, csv, chunk_size)))
        saved = _tables_up_to_date(folder, inputs)
        if saved is not None:
            stream.close()
            return {"n_docs": saved["n_docs"], "rows": saved["rows"], "cache_hits": stream.hits,
                    "cache_misses": stream.misses, "warnings": _warning_table(stream.warnings), "up_to_date": True}
    # Every table is written into a staging folder and switched in with the stamp, all at once
    # (helpers.store): after a crash at any point the folder holds the old set or the new one.
    with store.TableSet(folder) as staged:
        writers = {name: _TableWriter(staged, name, csv=csv and name != "tokens") for name in names}
        ok = False
        n_docs = 0
        try:
            # Parquet encoding (Arrow's, outside the GIL) of one chunk runs in threads while the next
            # chunk is read and processed: at most two chunks are in memory. The tokens, as large as
            # all the other tables together, have a thread of their own.
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="fazhi-tables") as pool:
                pending = []
                for chunk in parallel.chunked(stream.entries(), chunk_size):
                    n_docs += len(chunk)
                    tables = _chunk_entries(chunk, parts)
                    del chunk
                    for job in pending:
                        job.result()
                    pending = [pool.submit(_write_tables, writers, {name: tables.pop(name)})
                               for name in ("tokens",) if name in tables]
                    pending.append(pool.submit(_write_tables, writers, tables))
                for job in pending:
                    job.result()
            ok = True
        finally:
            empty = _chunk_frames([], ())
            for name, writer in writers.items():
                if ok and not writer.rows and name in parts:  # no document: the part's columns, no rows
                    empty[name] = _compute_part(name, pd.DataFrame(columns=SENTENCE_COLUMNS), file="",
                                                lexicon=lexicon)
                writer.close(empty.get(name, pd.DataFrame()), ok=ok)
        warnings = _warning_table(stream.warnings)
        staged.write_table(warnings, "warnings", csv=csv)
        rows = {name: writer.rows for name, writer in writers.items()}
        rows["warnings"] = len(warnings)
        if inputs is not None:
            files = [f"{name}.{kind}" for name in [*names, "warnings"] for kind in ("parquet", "csv")
                     if kind == "parquet" or (csv and name != "tokens")]
            _write_tables_stamp(staged, inputs, files, n_docs=n_docs, rows=rows)
    return {"n_docs": n_docs, "rows": rows, "cache_hits": stream.hits, "cache_misses": stream.misses,
            "warnings": warnings, "up_to_date": False}


def _warning_table(warnings: list) -> pd.DataFrame:
    return pd.DataFrame(warnings, columns=schema.WARNINGS).drop_duplicates(ignore_index=True)


# In a folder process_corpus wrote: what its tables were made from, and each file's size and time.
TABLES_STAMP = ".fazhi_tables.json"


def _write_tables_stamp(staged: store.TableSet, inputs: str, files: list[str], *, n_docs: int, rows: dict) -> None:
    """The stamp, staged with the tables it describes (their sizes and times stay those of the
    staged files: they are renamed and linked, never copied)."""
    stats = {name: [staged.staged(name).stat().st_size, staged.staged(name).stat().st_mtime_ns] for name in files}
    staged.write_text(json.dumps({"inputs": inputs, "files": stats, "n_docs": n_docs, "rows": rows}, indent=1),
                      TABLES_STAMP)


def _tables_up_to_date(folder: Path, inputs: str) -> dict | None:
    """The stamp of ``folder`` when its tables were made from ``inputs`` and no file changed since."""
    try:
        saved = json.loads((folder / TABLES_STAMP).read_text(encoding="utf-8"))
        if saved["inputs"] != inputs:
            return None
        for name, (size, mtime) in saved["files"].items():
            found = (folder / name).stat()
            if (found.st_size, found.st_mtime_ns) != (size, mtime):
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return saved


def _per_document(sentences: pd.DataFrame, part: str, *, files: dict[str, str], lexicon, workers, cache,
                  progress) -> pd.DataFrame:
    """``part`` of every document of a sentence table, through the cache and the parallel map."""
    store_ = cache_mod.open_cache(cache, default_folder=config.CACHE)
    lexicon = str(lexicon) if lexicon else None
    lexicon_hash = _lexicon_hash(lexicon)
    groups = [g for _, g in sentences.groupby("doc_id", sort=False)]
    out: list = [None] * len(groups)
    keys = []

    def tasks():
        for i, group in enumerate(groups):
            file = files.get(group["doc_id"].iloc[0], "")
            key = _part_key(part, sentences_digest(group), file=file, lexicon_hash=lexicon_hash)
            keys.append(key)
            value = store_.get(key, frames="arrow") if store_ is not None else cache_mod.MISSING
            if value is not cache_mod.MISSING:
                out[i] = _as_entry(value)
                continue
            yield _Task(i, file, "", sentences=group, parts=(part,), lexicon=lexicon, lexicon_hash=lexicon_hash)

    size = parallel.items_per_task(len(groups), workers, most=BATCH_DOCUMENTS)
    batches = parallel.map_documents(_compute, parallel.chunked(tasks(), size), workers=workers,
                                     progress=progress, total=len(groups), desc=part, weight=len)
    for index, _, blobs in (result for batch in batches for result in batch):
        (key, blob), = blobs.items()
        if store_ is not None:
            store_.put_encoded(key, blob)
        out[index] = _as_entry(cache_mod.decode(blob, frames="arrow"))
    if not groups:
        return _compute_part(part, sentences.iloc[:0], file="", lexicon=lexicon)
    columns = out[0].columns
    return _entry_frame(_assemble(out, columns), columns)


def corpus_tokens(sentences: pd.DataFrame, *, lexicon: str | Path | None = None, workers: int | None = None,
                  cache=False, progress: bool | None = None) -> pd.DataFrame:
    """Tokens of every sentence (``segment.segment_sentences`` columns), one document per task,
    through the cache and the parallel map: notebook 02's entry.

    >>> tokens = corpus_tokens(sentences, cache=paths.cache, workers=2)  # doctest: +SKIP
    """
    schema.check_columns(sentences, ["doc_id", "sentence_id", "text", "start"], table="sentences")
    return _per_document(sentences, "tokens", files={}, lexicon=lexicon, workers=workers, cache=cache,
                         progress=progress)


def corpus_quantities(sentences: pd.DataFrame, *, documents: pd.DataFrame | None = None,
                      workers: int | None = None, cache=False, progress: bool | None = None) -> pd.DataFrame:
    """Quantity mentions of every sentence with indicators assigned (``quantities.extract_quantities``
    then ``indicators.assign_indicators``), one document per task, through the cache and the
    parallel map: notebook 03's entry. ``documents`` supplies the ``file`` column.

    >>> mentions = corpus_quantities(sentences, documents=documents, cache=paths.cache)  # doctest: +SKIP
    """
    schema.check_columns(sentences, ["doc_id", "sentence_id", "text", "start"], table="sentences")
    files = dict(zip(documents["doc_id"], documents["file"])) if documents is not None else {}
    return _per_document(sentences, "quantities", files=files, lexicon=None, workers=workers, cache=cache,
                         progress=progress)


# Where the commands keep their cache when given none: beside what they write, never in the project.
COMMAND_CACHE = ".cache"


def _command_cache(cache, folder: Path):
    """A command's ``cache=`` option: None or True = ``folder/.cache``; False = none; else as given."""
    return folder / COMMAND_CACHE if cache is None or cache is True else cache


def clean_command(input_dir: str | Path, *, out: str | Path, manifest: str | Path | None = None,
                  workers: int | None = None, cache=None) -> int:
    """``python -m helpers clean INPUT_DIR --out DIR``: write the tables of any folder to DIR,
    streaming (any corpus size), with ``workers`` processes. The cache is ``DIR/.cache`` unless
    ``cache`` names another (False: none); one that cannot be opened is skipped with a warning.

    Returns 0 when at least one report was processed, 1 otherwise.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        print(f"error: {input_dir} is not a folder", file=sys.stderr)
        return 1
    result = process_corpus(input_dir, out=out, manifest=manifest, tokens=False, quantities=False,
                            workers=workers, cache=_command_cache(cache, Path(out)), csv=True)
    rows = result["rows"]
    print(f"{result['n_docs']} report(s), {rows['sections']} sections, {rows['sentences']} sentences "
          f"-> {Path(out)} ({len(rows)} tables; {result['cache_hits']} report(s) from the cache)")
    for row in result["warnings"].itertuples():
        print(f"{row.severity}: {row.file}: {row.reason}", file=sys.stderr)
    return 0 if result["n_docs"] else 1


# --------------------------------------------------------------------------- indicators command
INDICATOR_CSV_COLUMNS = [
    "doc_id", "file", "indicator_id", "indicator_name", "value", "low", "high", "unit", "approx",
    "approx_marker", "kind", "direction", "object", "quote", "sentence", "start", "end",
]


def indicators_command(input_dir: str | Path, *, out: str | Path, workers: int | None = None, cache=None) -> int:
    """``python -m helpers indicators INPUT_DIR --out FILE.csv``: one row per quantity mention of
    every report in the folder (no manifest needed; one is used when present). The cache is
    ``.cache`` in the CSV's folder unless ``cache`` names another (False: none).

    ``quote`` is an exact substring of ``sentence``; ``start``/``end`` index the cleaned text; text
    cells a spreadsheet would run as formulas are neutralised (``store.csv_safe``).
    Returns 0 when at least one report was read, 1 otherwise.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        print(f"error: {input_dir} is not a folder", file=sys.stderr)
        return 1
    target = Path(out)
    result = build_corpus(input_dir, manifest=None, quantities=True, workers=workers,
                          cache=_command_cache(cache, target.parent))
    for row in result.warnings.itertuples():
        print(f"{row.severity}: {row.file}: {row.reason}", file=sys.stderr)
    if not len(result.documents):
        print(f"error: no readable report in {input_dir}", file=sys.stderr)
        return 1
    found = result.quantities
    table = found[INDICATOR_CSV_COLUMNS].sort_values(["file", "start"], kind="stable")
    store.write_csv(table, target)
    named = int(table["indicator_id"].notna().sum())
    print(f"{len(result.documents)} report(s), {len(table)} quantity mentions "
          f"({named} with an indicator) -> {target}")
    return 0
