"""Parallel map over documents through joblib, streaming, with an optional progress bar.

Locally the work runs in ``workers`` loky processes. Because the map goes through joblib, the same
call runs on a Dask cluster when a joblib Dask backend is active::

    from distributed import Client
    import joblib
    client = Client("tcp://scheduler:8786")          # or Client(LocalCluster(...))
    with joblib.parallel_config(backend="dask"):
        results = list(map_documents(func, items))   # one task per item, on the cluster's workers

Results come back in input order as a generator: items are read lazily and only a few batches are
in flight at once, so a corpus never has to sit in memory whole.

>>> list(map_documents(len, ["行政复议", "普法"]))
[4, 2]
"""

from __future__ import annotations

import os
import sys
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Corpora smaller than this finish before a progress bar would be useful.
PROGRESS_MIN_ITEMS = 50
# "0"/"false" silences every progress bar; "1"/"true" shows them even without a terminal.
PROGRESS_ENV = "FAZHI_PROGRESS"
_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}


def show_progress(progress: bool | None, total: int | None) -> bool:
    """Whether to draw a bar. An explicit ``progress`` wins, then ``$FAZHI_PROGRESS``; otherwise only
    for ``total`` ≥ 50 items on an interactive terminal outside pytest (papermill kernels and
    captured test output have no terminal, so their logs stay clean).

    >>> show_progress(False, 10_000)
    False
    """
    if progress is not None:
        return bool(progress)
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if env in _FALSE:
        return False
    if env in _TRUE:
        return True
    if "PYTEST_CURRENT_TEST" in os.environ:
        return False
    if total is not None and total < PROGRESS_MIN_ITEMS:
        return False
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def external_backend() -> bool:
    """True inside a ``joblib.parallel_config``/``parallel_backend`` that chose a backend or n_jobs
    (e.g. ``backend="dask"``)."""
    if "joblib" not in sys.modules:  # nothing can have configured it: skip importing it (35 ms)
        return False
    import joblib
    from joblib._parallel_backends import LokyBackend

    backend, n_jobs = joblib.parallel.get_active_backend()
    return not isinstance(backend, LokyBackend) or n_jobs is not None


def runs_here(workers: int | None) -> bool:
    """Whether ``map_documents(..., workers=workers)`` runs in this process (no pool, no cluster)."""
    return workers == 1 or (workers is None and not external_backend())


def items_per_task(n_items: int, workers: int | None, *, most: int) -> int:
    """How many items to give each task: ``most`` in this process; on workers, fewer when the
    items would not make four tasks per worker (two workers and five reports: one each).

    >>> items_per_task(1000, 1, most=16), items_per_task(1000, 2, most=16), items_per_task(5, 2, most=16)
    (16, 16, 1)
    """
    if runs_here(workers):
        return most
    return max(1, min(most, n_items // (4 * max(2, effective_workers(workers)))))


def map_documents(func: Callable[[T], R], items: Iterable[T], *, workers: int | None = None,
                  progress: bool | None = None, total: int | None = None, desc: str = "documents",
                  batch_size: int | str = "auto", weight: Callable[[R], int] | None = None) -> Iterator[R]:
    """Yield ``func(item)`` for each item, in order.

    ``workers``: ``None`` = whatever an active ``joblib.parallel_config`` says (e.g. a Dask
    cluster), else one process; ``1`` = in this process; ``n`` > 1 = that many workers (``-1`` = one
    per core). ``func`` must be importable by the workers (a module-level function or a
    ``functools.partial`` of one). ``total`` sizes the progress bar when ``items`` has no ``len``;
    ``weight(result)`` is how far a result moves it (default 1: when an item is a list of
    documents, ``len``).

    >>> list(map_documents(str.upper, iter(["a", "b"]), workers=1))
    ['A', 'B']
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    bar = None
    if show_progress(progress, total):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="doc", dynamic_ncols=True, mininterval=0.5)
    if runs_here(workers):
        results: Iterable[R] = (func(item) for item in items)
    else:
        import joblib

        parallel = joblib.Parallel(n_jobs=workers, return_as="generator", batch_size=batch_size,
                                   pre_dispatch="2 * n_jobs")
        results = parallel(joblib.delayed(func)(item) for item in items)
    try:
        for result in results:
            if bar is not None:
                bar.update(1 if weight is None else weight(result))
            yield result
    finally:
        if bar is not None:
            bar.close()


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items, read lazily.

    >>> list(chunked(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def effective_workers(workers: int | None) -> int:
    """How many processes ``workers`` means on this machine (``-1`` = every core, ``None`` = 1)."""
    if workers is None:
        return 1
    if workers < 0:
        return max(1, (os.cpu_count() or 1) + 1 + workers)
    return max(1, workers)
