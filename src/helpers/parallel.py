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

Local loky workers exit with the process that started them: loky keeps idle workers for five
minutes and does not notice its parent's death (a ``kill -9`` of ``python -m helpers clean
--workers 2`` left them running), so each worker is started with :func:`watch_parent`, a thread
that ends the worker within ``PARENT_WATCH_SECONDS`` of its parent's exit.

>>> list(map_documents(len, ["行政复议", "普法"]))
[4, 2]
"""

from __future__ import annotations

import os
import sys
import threading
import time
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


# How often a loky worker checks that the process that started it is still there.
PARENT_WATCH_SECONDS = 0.25
_WATCHING: int | None = None  # the pid of this process once its watch thread runs


def watch_parent(parent_pid: int, interval: float = PARENT_WATCH_SECONDS) -> bool:
    """Initializer of the local loky workers (direct children of ``parent_pid``, the process that
    starts the pool; never given to a Dask cluster's workers): end this process (``os._exit``) as
    soon as its parent is gone (the worker is then re-parented, so ``os.getppid()`` changes).

    A worker whose parent died while it was starting ends at once; in ``parent_pid`` itself nothing
    is watched. A worker holds no state of its own (results go back to the parent, which writes the
    cache and the tables), so ending it abruptly loses nothing. Returns whether a watch runs.

    >>> watch_parent(os.getpid())
    False
    """
    global _WATCHING
    pid = os.getpid()
    if pid == parent_pid:
        return False
    if os.getppid() != parent_pid:
        if not _alive(parent_pid):  # the parent died before this worker was ready
            os._exit(1)
        return False
    if _WATCHING == pid:
        return True

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="fazhi-parent-watch", daemon=True).start()
    _WATCHING = pid
    return True


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a killed parent is a zombie until its own parent reaps it)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # someone else's process: it exists
        return True


def _parallel(workers: int | None, **options):
    """A ``joblib.Parallel`` for ``workers`` under the active joblib configuration; on loky (the
    default) its workers watch this process (:func:`watch_parent`), unless the configuration
    already gives them an initializer of its own."""
    import joblib
    from joblib._parallel_backends import LokyBackend

    backend, n_jobs = joblib.parallel.get_active_backend()
    if type(backend) is LokyBackend and "initializer" not in backend.backend_kwargs:
        kwargs = {**backend.backend_kwargs, "initializer": watch_parent, "initargs": (os.getpid(),)}
        watched = LokyBackend(nesting_level=backend.nesting_level,
                              inner_max_num_threads=backend.inner_max_num_threads, **kwargs)
        return joblib.Parallel(n_jobs=workers if workers is not None else n_jobs, backend=watched, **options)
    return joblib.Parallel(n_jobs=workers, **options)


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

        parallel = _parallel(workers, return_as="generator", batch_size=batch_size, pre_dispatch="2 * n_jobs")
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
