"""helpers.cache: keys, versions, hits, misses, invalidation and damaged entries on real report text."""

from __future__ import annotations

import shutil
from pathlib import Path

import jieba
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
    path = store.path(key)
    path.write_bytes(damage(path.read_bytes()))

    calls: list[str] = []
    with caplog.at_level("WARNING", logger="helpers.cache"):
        tokens = store.get_or_compute(key, _segment, text, calls)
    assert tokens == jieba.lcut(text) and len(calls) == 1
    assert store.corrupt == 1
    assert str(path) in caplog.text
    assert DocumentCache(tmp_path, version="v1").get(key) == tokens  # rewritten whole


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, raw_texts):
    store = DocumentCache(tmp_path, version="v1")
    for text in raw_texts.values():
        store.put(store.key(text), text)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == len(raw_texts) == len(store)
    assert all(p.suffix == ".pkl" and not p.name.startswith(".") for p in files)


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
