"""helpers.cache: keys, versions, hits, misses, invalidation and damaged entries on real report text."""

from __future__ import annotations

import shutil
from pathlib import Path

import jieba
import pandas as pd
import pytest

from helpers import cache as cache_mod
from helpers import config
from helpers.cache import MISSING, DocumentCache


def _segment(text: str, calls: list[str]) -> list[str]:
    """Stand-in per-document work that records every real computation."""
    calls.append(text[:20])
    return jieba.lcut(text)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of helpers/data (lexicon, stopwords, catalogue…) to edit freely."""
    target = tmp_path / "data"
    shutil.copytree(config.PACKAGE_DATA, target)
    return target


def test_data_files_cover_the_lexicon_stopwords_and_catalogue():
    names = {p.name for p in cache_mod.data_files()}
    assert {"lexicon.txt", "stopwords_domain.txt", "indicators.yaml"} <= names


def test_version_is_stable_when_nothing_changes(data_copy):
    assert cache_mod.pipeline_version(data_dir=data_copy) == cache_mod.pipeline_version(data_dir=data_copy)
    # A copy holds the same bytes under the same names, so it has the project's version.
    assert cache_mod.data_version(data_copy) == cache_mod.data_version()


@pytest.mark.parametrize("edit", [
    ("lexicon.txt", "行政执法协调监督 n\n"),
    ("stopwords_domain.txt", "着力\n"),
    ("indicators.yaml", "\n# a comment still counts: the file changed\n"),
])
def test_editing_a_data_file_changes_the_version(data_copy, edit):
    name, addition = edit
    before = cache_mod.pipeline_version(data_dir=data_copy)
    with (data_copy / name).open("a", encoding="utf-8") as fh:
        fh.write(addition)
    assert cache_mod.pipeline_version(data_dir=data_copy) != before


def test_adding_a_data_file_changes_the_version(data_copy):
    before = cache_mod.data_version(data_copy)
    (data_copy / "chrome_patterns.txt").write_text("当前位置\n", encoding="utf-8")
    assert cache_mod.data_version(data_copy) != before


def test_hit_miss_and_recompute_on_lexicon_change(tmp_path, data_copy, raw_texts):
    texts = list(raw_texts.values())
    calls: list[str] = []

    def run() -> tuple[list[list[str]], DocumentCache]:
        store = DocumentCache(tmp_path / "cache", data_dir=data_copy)
        out = [store.get_or_compute(store.key(t), _segment, t, calls) for t in texts]
        return out, store

    first, cold = run()
    assert (cold.hits, cold.misses) == (0, len(texts)) and len(calls) == len(texts)
    second, warm = run()
    assert (warm.hits, warm.misses) == (len(texts), 0)
    assert len(calls) == len(texts), "nothing changed, so nothing may be recomputed"
    assert second == first

    with (data_copy / "lexicon.txt").open("a", encoding="utf-8") as fh:
        fh.write("府院联动 n\n")
    third, edited = run()
    assert edited.version != warm.version
    assert (edited.hits, edited.misses) == (0, len(texts)) and len(calls) == 2 * len(texts)
    assert third == first  # same stand-in work, so the same tokens


def test_options_are_part_of_the_key(raw_texts):
    text = next(iter(raw_texts.values())).encode("utf-8")
    assert DocumentCache.key(text) == cache_mod.content_hash(text)
    assert DocumentCache.key(text, {"steps": None}) != DocumentCache.key(text, {"steps": ["chrome"]})
    assert DocumentCache.key(text, "manifest row A") != DocumentCache.key(text, "manifest row B")


def test_a_changed_report_is_a_new_key(raw_texts):
    text = next(iter(raw_texts.values()))
    assert DocumentCache.key(text) != DocumentCache.key(text.replace("行政复议", "行政覆议", 1))


@pytest.mark.parametrize("damage", [
    lambda blob: blob[: len(blob) // 2],                # truncated
    lambda blob: blob[:-5] + b"xxxxx",                  # payload bytes changed
    lambda blob: b"garbage",                            # not an entry at all
    lambda blob: b"",                                   # empty file
])
def test_damaged_entry_is_recomputed_not_fatal(tmp_path, raw_texts, damage, caplog):
    text = next(iter(raw_texts.values()))
    store = DocumentCache(tmp_path, version="v1")
    key = store.key(text)
    store.put(key, jieba.lcut(text))
    store.put_encoded(key, damage(store.raw(key)))

    calls: list[str] = []
    with caplog.at_level("WARNING", logger="helpers.cache"):
        tokens = store.get_or_compute(key, _segment, text, calls)
    assert tokens == jieba.lcut(text) and len(calls) == 1
    assert store.corrupt == 1
    assert key in caplog.text and str(store.db_path) in caplog.text
    assert DocumentCache(tmp_path, version="v1").get(key) == tokens  # rewritten whole


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(b"not a database at all" * 100),
    lambda path: path.write_bytes(path.read_bytes()[:2048] + b"\x00" * 4096),  # pages lost
])
def test_a_damaged_database_is_set_aside_and_refilled(tmp_path, raw_texts, damage, caplog):
    texts = list(raw_texts.values())
    store = DocumentCache(tmp_path, version="v1")
    for text in texts:
        store.put(store.key(text), text)
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{store.db_path}{suffix}").unlink(missing_ok=True)
    damage(store.db_path)

    again = DocumentCache(tmp_path, version="v1")
    with caplog.at_level("WARNING", logger="helpers.cache"):
        found = [again.get_or_compute(again.key(t), lambda t=t: t) for t in texts]
    assert found == texts and len(again) == len(texts)
    assert "damaged" in caplog.text
    assert store.db_path.with_name("entries.sqlite.damaged").exists()  # kept for inspection


def test_entries_are_rows_of_one_database_per_version(tmp_path, raw_texts):
    store = DocumentCache(tmp_path, version="v1")
    for text in raw_texts.values():
        store.put(store.key(text), text)
        store.put(store.key(text), text)  # rewriting replaces
    store.close()
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["documents/v1/entries.sqlite"]
    assert len(DocumentCache(tmp_path, version="v1")) == len(raw_texts)


def test_two_processes_write_one_cache(tmp_path, raw_texts):
    """Notebooks 02 and 03 run side by side and fill the same cache."""
    import multiprocessing

    texts = list(raw_texts.values())
    store = DocumentCache(tmp_path, version="v1")
    store.put("warm", 0)  # the parent holds an open connection while the children write
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.starmap(_fill, [(tmp_path, texts, i) for i in range(2)])
    assert len(store) == 1 + 2 * len(texts)
    assert all(store.get(f"{i}:{store.key(t)}") == t for i in range(2) for t in texts)


def _fill(folder, texts, i):
    store = DocumentCache(folder, version="v1")
    for text in texts:
        store.put(f"{i}:{store.key(text)}", text)


def test_none_is_a_value_not_a_miss(tmp_path):
    store = DocumentCache(tmp_path, version="v1")
    store.put("ab" * 32, None)
    assert store.get("ab" * 32) is None
    assert store.get("cd" * 32) is MISSING


def test_prune_keeps_only_the_current_version(tmp_path, raw_texts):
    text = next(iter(raw_texts.values()))
    old, new = DocumentCache(tmp_path, version="old"), DocumentCache(tmp_path, version="new")
    old.put(old.key(text), 1)
    new.put(new.key(text), 2)
    assert new.prune() == 1
    assert len(old) == 0 and new.get(new.key(text)) == 2


@pytest.mark.parametrize("option, expected", [(False, None), ("folder", "folder"), (True, "default")])
def test_open_cache_options(tmp_path, option, expected):
    arg = tmp_path / "folder" if option == "folder" else option
    opened = cache_mod.open_cache(arg, default_folder=tmp_path / "default")
    if expected is None:
        assert opened is None
    else:
        assert opened.folder == tmp_path / expected


# ---- the pipeline through the cache: unchanged reports are not processed again

def _copy_reports(raw_dir: Path, target: Path) -> Path:
    target.mkdir()
    for path in raw_dir.iterdir():
        shutil.copy(path, target / path.name)
    return target


def test_build_corpus_warm_run_processes_nothing(tmp_path, raw_dir, corpus, monkeypatch):
    from helpers import pipeline

    folder = tmp_path / "cache"
    cold = pipeline.build_corpus(raw_dir, cache=DocumentCache(folder, version="v1"), tokens=True)
    calls: list[str] = []
    original = pipeline.process_document
    monkeypatch.setattr(pipeline, "process_document", lambda raw, **kw: calls.append(raw.file) or original(raw, **kw))
    stream = pipeline.CorpusStream(raw_dir, cache=DocumentCache(folder, version="v1"), parts=("tokens",))
    warm = list(stream)
    assert calls == [] and (stream.hits, stream.misses) == (5, 0)
    assert [r.processed.document["doc_id"] for r in warm] == cold.documents["doc_id"].tolist()
    # Cached and fresh results are the same tables as the uncached contract run.
    for name in ("documents", "sections", "sentences", "cleaning_log"):
        assert getattr(cold, name).equals(getattr(corpus, name)), name
    assert sum(len(r.tokens) for r in warm) == len(cold.tokens)


def test_changed_report_and_changed_lexicon_are_recomputed(tmp_path, raw_dir, data_copy):
    from helpers import pipeline

    reports = _copy_reports(raw_dir, tmp_path / "raw")
    folder = tmp_path / "cache"
    pipeline.build_corpus(reports, cache=DocumentCache(folder, data_dir=data_copy))
    # One report edited: only that one is processed again.
    name = sorted(p.name for p in reports.glob("*.txt"))[2]
    text = (reports / name).read_text(encoding="utf-8")
    (reports / name).write_text(text.replace("行政复议", "行政复议工作", 1), encoding="utf-8")
    stream = pipeline.CorpusStream(reports, cache=DocumentCache(folder, data_dir=data_copy))
    docs = {r.processed.document["file"]: r.processed.document for r in stream}
    assert (stream.hits, stream.misses) == (4, 1)
    assert "行政复议工作" in docs[name]["text"]
    # The lexicon edited: a new version, every report processed again.
    with (data_copy / "lexicon.txt").open("a", encoding="utf-8") as fh:
        fh.write("府院联动 n\n")
    stream = pipeline.CorpusStream(reports, cache=DocumentCache(folder, data_dir=data_copy), parts=("tokens",))
    tokens = pd.concat([r.tokens for r in stream])
    assert (stream.hits, stream.misses) == (0, 5)
    assert len(tokens) > 0


def test_a_damaged_pipeline_entry_is_recomputed(tmp_path, raw_dir, corpus):
    from helpers import pipeline

    store_ = DocumentCache(tmp_path / "cache")
    pipeline.build_corpus(raw_dir, cache=store_)
    for key in sorted(store_.keys())[::2]:
        store_.put_encoded(key, store_.raw(key)[:100])
    again = pipeline.build_corpus(raw_dir, cache=DocumentCache(tmp_path / "cache"))
    assert again.sentences.equals(corpus.sentences)


def test_parts_cached_by_one_entry_serve_the_other(tmp_path, raw_dir, corpus):
    """Tokens made by the streaming run are found by corpus_tokens (notebook 02's call) and equal
    a direct segmentation of the sentences table."""
    from helpers import pipeline, segment

    folder = tmp_path / "cache"
    pipeline.build_corpus(raw_dir, cache=DocumentCache(folder, version="v1"), tokens=True)
    cache = DocumentCache(folder, version="v1")
    tokens = pipeline.corpus_tokens(corpus.sentences, cache=cache)
    assert (cache.hits, cache.misses) == (5, 0)
    pd.testing.assert_frame_equal(tokens, segment.segment_sentences(corpus.sentences))


# ---- compact entries: DataFrames stored as Arrow, rebuilt unchanged

def test_tables_round_trip_exactly_and_compactly(corpus):
    """Every table of one report comes back from an entry as the same DataFrame (dtypes included),
    in pandas or as Arrow, and the token table's entry is far smaller than its plain pickle."""
    import pickle

    from helpers import segment

    doc = corpus.documents["doc_id"].iloc[0]
    sentences = corpus.sentences[corpus.sentences["doc_id"] == doc].reset_index(drop=True)
    tokens = segment.segment_sentences(sentences)
    tables = {"sections": corpus.sections[corpus.sections["doc_id"] == doc].reset_index(drop=True),
              "sentences": sentences, "tokens": tokens, "empty": tokens.iloc[:0].reset_index(drop=True)}
    for name, table in tables.items():
        blob = cache_mod.encode(table)
        pd.testing.assert_frame_equal(cache_mod.decode(blob), table, obj=name)
        entry = cache_mod.decode(blob, frames="arrow")
        assert isinstance(entry, cache_mod.FrameEntry) and entry.num_rows == len(table)
        pd.testing.assert_frame_equal(entry.to_frame(), table, obj=name)
    assert len(cache_mod.encode(tokens)) * 5 < len(pickle.dumps(tokens))


@pytest.mark.parametrize("column, values", [
    ("indicator_id", ["administrative_reconsideration_cases", None, None]),  # text and None stay object
    ("indicator_id", [None, None, None]),
    ("theme", [3.0, float("nan"), 1.0]),
    ("mixed", ["案件", 397, None]),  # not Arrow-safe: kept as a pickled DataFrame
    ("nan_in_object", ["件", float("nan"), None]),  # NaN must not come back as None
])
def test_column_kinds_round_trip(column, values):
    frame = pd.DataFrame({"sentence": ["受理行政复议案件397件", "纠错率18.3%", "二、存在的不足"],
                          column: pd.Series(values, dtype=object if column != "theme" else float)})
    back = cache_mod.decode(cache_mod.encode(frame))
    pd.testing.assert_frame_equal(back, frame)
    assert [type(v) for v in back[column]] == [type(v) for v in frame[column]]
