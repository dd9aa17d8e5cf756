"""helpers.parallel: order, streaming, loky and Dask backends agree with one process, quiet progress."""

from __future__ import annotations

import itertools
import re
import shutil
import sys

import jieba
import joblib
import pytest

from helpers import parallel
from helpers.parallel import chunked, map_documents, show_progress


def sentences_of(raw_texts: dict[str, str], n: int) -> list[str]:
    """The first ``n`` sentences (split at 。) of the sample reports, in file order."""
    found = [s + "。" for text in raw_texts.values() for s in re.split(r"。", text) if len(s.strip()) > 10]
    return found[:n]


def tokens_of(sentence: str) -> list[str]:
    return jieba.lcut(sentence)


def worker_and_tokens(sentence: str) -> tuple[str, list[str]]:
    """Tokens plus the address of the Dask worker that made them (raises outside a worker)."""
    from distributed import get_worker

    return get_worker().address, jieba.lcut(sentence)


def test_serial_map_keeps_order_and_results(raw_texts):
    sentences = sentences_of(raw_texts, 30)
    assert list(map_documents(tokens_of, sentences, workers=1)) == [jieba.lcut(s) for s in sentences]


def test_two_loky_workers_match_one_process(raw_texts):
    sentences = sentences_of(raw_texts, 60)
    expected = [jieba.lcut(s) for s in sentences]
    assert list(map_documents(tokens_of, sentences, workers=2, batch_size=8)) == expected


def test_local_dask_cluster_matches_one_process(raw_texts):
    distributed = pytest.importorskip("distributed")
    sentences = sentences_of(raw_texts, 40)
    expected = [jieba.lcut(s) for s in sentences]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"):
            assert parallel.external_backend()
            got = list(map_documents(worker_and_tokens, sentences))  # workers=None: the cluster decides
        cluster_workers = set(client.scheduler_info()["workers"])
    assert [tokens for _, tokens in got] == expected
    used = {address for address, _ in got}
    assert used <= cluster_workers and len(cluster_workers) == 2


@pytest.mark.filterwarnings("ignore:.*tasks have been successfully executed:UserWarning")
@pytest.mark.parametrize("workers", [1, 2])
def test_input_is_consumed_lazily(workers):
    """An endless input still yields: the map streams instead of reading everything first."""
    pulled = itertools.count()
    source = (f"第{next(pulled)}条" for _ in itertools.count())
    first = list(itertools.islice(map_documents(len, source, workers=workers, batch_size=1), 5))
    assert first == [3, 3, 3, 3, 3]
    assert next(pulled) < 100


def test_default_is_one_process_outside_any_joblib_config():
    assert not parallel.external_backend()
    with joblib.parallel_config(backend="threading", n_jobs=2):
        assert parallel.external_backend()


@pytest.mark.parametrize("size, expected", [
    (2, [["行政复议", "行政应诉"], ["普法", "法律援助"], ["调解"]]),
    (5, [["行政复议", "行政应诉", "普法", "法律援助", "调解"]]),
])
def test_chunked(size, expected):
    words = iter(["行政复议", "行政应诉", "普法", "法律援助", "调解"])
    assert list(chunked(words, size)) == expected


def test_chunked_rejects_empty_chunks():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([], 0))


class FakeTerminal:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_is_quiet_under_pytest(raw_texts, capsys):
    assert show_progress(None, 10_000) is False
    sentences = sentences_of(raw_texts, 120)
    list(map_documents(len, sentences))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("env, total, expected", [
    (None, 1000, True),    # a terminal and a large corpus
    (None, 10, False),     # too small to bother
    ("0", 1000, False),    # silenced by the environment (e.g. papermill runs)
    ("1", 10, True),       # forced on
])
def test_progress_on_a_terminal(monkeypatch, env, total, expected):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    if env is None:
        monkeypatch.delenv(parallel.PROGRESS_ENV, raising=False)
    else:
        monkeypatch.setenv(parallel.PROGRESS_ENV, env)
    assert show_progress(None, total) is expected


def test_progress_is_quiet_without_a_terminal(monkeypatch):
    """Papermill kernels and redirected logs have no terminal on stderr."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv(parallel.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(sys, "stderr", open("/dev/null", "w"))
    assert show_progress(None, 10_000) is False


def test_explicit_progress_draws_a_bar(raw_texts, capsys):
    sentences = sentences_of(raw_texts, 60)
    assert list(map_documents(len, sentences, progress=True, desc="报告")) == [len(s) for s in sentences]
    err = capsys.readouterr().err
    assert "报告" in err and "60/60" in err


@pytest.mark.parametrize("workers, expected", [(None, 1), (1, 1), (3, 3), (0, 1)])
def test_effective_workers(workers, expected):
    assert parallel.effective_workers(workers) == expected


def test_corpus_on_a_local_dask_cluster_matches_one_process(raw_dir, corpus):
    """The whole per-document pipeline (read, clean, structure, tokens, quantities) run as tasks on
    a 2-worker Dask cluster gives the tables of the single-process contract run."""
    distributed = pytest.importorskip("distributed")
    from helpers import pipeline, segment

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            on_cluster = pipeline.build_corpus(raw_dir, tokens=True, quantities=True)
    for name in ("documents", "sections", "sentences", "cleaning_log", "warnings"):
        assert getattr(on_cluster, name).equals(getattr(corpus, name)), name
    assert on_cluster.tokens.equals(segment.segment_sentences(corpus.sentences))
    assert len(on_cluster.quantities) > 100


def test_two_workers_give_the_single_process_corpus(raw_dir, corpus):
    from helpers import pipeline

    both = pipeline.build_corpus(raw_dir, workers=2)
    for name in ("documents", "sections", "sentences", "cleaning_log", "warnings"):
        assert getattr(both, name).equals(getattr(corpus, name)), name


@pytest.mark.parametrize("engine", ["jieba_next", "jieba_fast"])
def test_a_faster_jieba_build_gives_the_tokens_and_quantities_of_plain_jieba(corpus, monkeypatch, engine):
    """The optional builds are used only because they change nothing but the speed."""
    module = pytest.importorskip(engine)
    import jieba as plain

    from helpers import quantities, segment

    sentences = corpus.sentences
    texts = sentences["text"].tolist()
    mentions = {}
    segmenters = {}
    for name, chosen in ((engine, module), ("jieba", plain)):
        monkeypatch.setattr(segment, "jieba", chosen)
        monkeypatch.setenv("FAZHI_JIEBA", name)
        segment._main_dictionary.cache_clear()
        quantities._pos_tokenizer.cache_clear()
        try:
            segmenters[name] = segment.Segmenter()
            assert type(segmenters[name].tokenizer).__module__.split(".")[0] == name
            mentions[name] = quantities.extract_quantities(sentences)
        finally:
            segment._main_dictionary.cache_clear()
            quantities._pos_tokenizer.cache_clear()
    assert segmenters[engine].tokenizer.FREQ == segmenters["jieba"].tokenizer.FREQ  # same lexicon frequencies
    assert segmenters[engine].cut_many(texts) == segmenters["jieba"].cut_many(texts)
    assert mentions[engine].equals(mentions["jieba"])


def test_a_report_that_breaks_a_step_is_a_warning_not_a_crash(tmp_path, raw_dir, monkeypatch):
    from helpers import pipeline, structure

    names = sorted(p.name for p in raw_dir.glob("*.txt"))[:2]
    for name in names:
        shutil.copy(raw_dir / name, tmp_path / name)
    original = structure.section_columns

    def fragile(text, *, doc_id):
        if doc_id == names[0].removesuffix(".txt"):
            raise RuntimeError("unexpected heading layout")
        return original(text, doc_id=doc_id)

    monkeypatch.setattr(structure, "section_columns", fragile)
    result = pipeline.build_corpus(tmp_path, manifest=False)
    assert result.documents["file"].tolist() == [names[1]]
    row = result.warnings.iloc[0]
    assert (row.file, row.severity) == (names[0], "error")
    assert "RuntimeError: unexpected heading layout" in row.reason
