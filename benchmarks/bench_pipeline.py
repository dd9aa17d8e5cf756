"""Benchmark of the corpus pipeline against the floor of bare jieba segmentation.

Builds a synthetic corpus of N reports by sampling sentences from data/raw/ (fixed seed) into a
temporary folder, then measures, each phase in a fresh process:

  (a) bare ``jieba.lcut`` over the same texts in one process (the floor);
  (b) the full processing (read, clean, structure, segment, quantities, tables) in one process;
  (c) the same with 2 workers (cold cache of its own);
  (d) a second run of (b) over the unchanged corpus (cache warm, (b)'s tables up to date);
  (e) (b) again with the warm cache into a new folder: every table rebuilt from the cache.

It prints b/a, b/c, d/b, e/b and the peak memory (resident set of the phase's whole process tree), and
with ``--json FILE`` writes them. ``--papermill`` also times ``python -m helpers run`` on the five
sample reports against the bare kernel start-up and imports of the four notebooks.

    python benchmarks/bench_pipeline.py --n 1000 --json /tmp/bench.json
    python benchmarks/bench_pipeline.py --n 10000 --phases b      # memory at scale
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "--phase" not in sys.argv:  # a phase imports the snapshot given on PYTHONPATH
    sys.path.insert(0, str(ROOT / "src"))

from helpers import config  # noqa: E402

TARGETS = {"full_vs_jieba": ("<=", 1.3), "speedup_2_workers": (">=", 1.6), "warm_vs_cold": ("<=", 0.05)}
PEAK_RSS_TARGET_MB = 2048
# Lines this short are headings, titles, signatures and dates: kept as they are so every synthetic
# report keeps the genre's skeleton; longer lines are paragraphs, rebuilt from sampled sentences.
HEADING_MAX_CHARS = 60
SENTENCE_END = re.compile(r"(?<=[。!?;!?;])")


# ---------------------------------------------------------------- synthetic corpus

def sentence_pool(raw_dir: Path) -> tuple[list[str], list[list[str]]]:
    """All sentences of the sample reports, and each report's lines."""
    sentences, reports = [], []
    for path in sorted(raw_dir.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        reports.append(lines)
        for line in lines:
            if len(line) > HEADING_MAX_CHARS:
                sentences.extend(s for s in SENTENCE_END.split(line) if len(s) > 4)
    return sentences, reports


def synthetic_report(rng: random.Random, sentences: list[str], skeleton: list[str], chars: int) -> str:
    """One report: ``skeleton``'s short lines kept, each paragraph refilled with random sentences
    so that the report has about ``chars`` characters."""
    body = sum(len(line) for line in skeleton if len(line) > HEADING_MAX_CHARS) or 1
    fixed = sum(len(line) for line in skeleton if len(line) <= HEADING_MAX_CHARS)
    scale = max(chars - fixed, 0) / body
    out = []
    for line in skeleton:
        if len(line) <= HEADING_MAX_CHARS:
            out.append(line)
            continue
        target = len(line) * scale
        paragraph, size = [], 0
        while size < target:
            sentence = rng.choice(sentences)
            paragraph.append(sentence)
            size += len(sentence)
        out.append("".join(paragraph))
    return "\n".join(out) + "\n"


def build_corpus_folder(folder: Path, *, n: int, seed: int, chars: int) -> int:
    """Write ``n`` synthetic reports to ``folder``; return their total characters."""
    rng = random.Random(seed)
    sentences, reports = sentence_pool(config.RAW)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(n):
        text = synthetic_report(rng, sentences, rng.choice(reports), chars)
        (folder / f"syn_{i:06d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


# ---------------------------------------------------------------- phases (each in its own process)

def phase_jieba(corpus: Path) -> dict:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    jieba.initialize()  # the dictionary load is start-up, not segmentation
    start, cpu = time.perf_counter(), time.process_time()
    n_tokens = sum(len(jieba.lcut(text)) for text in texts)
    return {"seconds": time.perf_counter() - start, "process_cpu_s": time.process_time() - cpu, "tokens": n_tokens}


def phase_full(corpus: Path, *, workers: int, cache: Path, out: Path) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    from helpers import pipeline

    summary = pipeline.process_corpus(corpus, out=out, workers=workers, cache=cache, progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "process_cpu_s": time.process_time() - cpu, "rows": summary["rows"],
            "cache_hits": summary["cache_hits"], "cache_misses": summary["cache_misses"],
            "up_to_date": summary.get("up_to_date", False),
            "segmenter": __import__("helpers.segment").segment.jieba.__name__}


def phase_stages(corpus: Path, *, sample: int = 200) -> dict:
    """Seconds of each per-document stage over the first ``sample`` reports, divided by bare
    jieba on the same texts: where the time of the full processing goes."""
    import logging

    from helpers import clean, indicators, metadata, quantities, segment, structure

    jieba = segment.load_jieba()
    plain = __import__("jieba")
    plain.setLogLevel(logging.WARNING)
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))[:sample]]
    plain.initialize()
    segment.default_segmenter().cut("预热")
    quantities.find_quantities("办结行政复议案件1件")
    start = time.perf_counter()
    for text in texts:
        plain.lcut(text)
    floor = time.perf_counter() - start
    spent = dict.fromkeys(["clean", "structure", "metadata", "segment", "quantities", "indicators"], 0.0)
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        cleaned = clean.clean_text(text)
        t1 = time.perf_counter()
        sections = structure.sections(cleaned.text, doc_id=f"d{i}")
        sentences = structure.sentences(cleaned.text, sections, doc_id=f"d{i}")
        t2 = time.perf_counter()
        metadata.infer_metadata(cleaned.text, cleaned.metadata)
        t3 = time.perf_counter()
        segment.segment_sentences(sentences)
        t4 = time.perf_counter()
        mentions = quantities.extract_quantities(sentences)
        t5 = time.perf_counter()
        indicators.assign_indicators(mentions)
        t6 = time.perf_counter()
        for name, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            spent[name] += seconds
    shares = {name: seconds / floor for name, seconds in spent.items()}
    shares["total"] = sum(spent.values()) / floor
    return {"seconds": sum(spent.values()), "floor_s": floor, "segmenter": jieba.__name__, "stages": shares}


def run_phase(args: argparse.Namespace) -> None:
    corpus = Path(args.corpus)
    if args.phase == "stages":
        result = phase_stages(corpus)
    elif args.phase == "jieba":
        result = phase_jieba(corpus)
    else:
        result = phase_full(corpus, workers=args.workers, cache=Path(args.cache), out=Path(args.out))
    result["self_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.result).write_text(json.dumps(result, default=str), encoding="utf-8")


class TreeMonitor:
    """Samples a process and all its descendants every 50 ms: peak resident memory, CPU seconds
    used, and how busy the machine's cores were with other processes meanwhile."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self._start = time.perf_counter()
        self._system_start = psutil.cpu_times()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            total = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        total += proc.memory_info().rss
                        times = proc.cpu_times()
                        self.cpu[proc.pid] = times.user + times.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.05)

    def stop(self) -> dict:
        import psutil

        self._stop.set()
        self._thread.join()
        wall = time.perf_counter() - self._start
        end = psutil.cpu_times()
        busy = sum(getattr(end, f) - getattr(self._system_start, f) for f in ("user", "system", "nice"))
        cpu = sum(self.cpu.values())
        return {"tree_peak_rss_mb": self.peak / 2**20, "cpu_s": cpu,
                "other_load_cores": max(0.0, (busy - cpu) / wall) if wall else 0.0}


def snapshot_code(work: Path) -> Path:
    """Copy src/helpers (code and data files) into the work folder: every phase runs the same code,
    and the cache version cannot change under the benchmark if the tree is edited meanwhile."""
    target = work / "src"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "src" / "helpers", target / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def spawn_phase(phase: str, corpus: Path, work: Path, *, workers: int = 1, cache: Path | None = None,
                out: Path | None = None) -> dict:
    result = work / f"result_{phase}_{time.monotonic_ns()}.json"
    cmd = [sys.executable, __file__, "--phase", phase, "--corpus", str(corpus), "--result", str(result),
           "--workers", str(workers), "--cache", str(cache or work / "cache"), "--out", str(out or work / "out")]
    # FAZHI_ROOT keeps the project's folders while the code comes from the snapshot.
    env = {**os.environ, "FAZHI_PROGRESS": "0", "PYTHONPATH": str(work / "src"), "FAZHI_ROOT": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env)
    monitor = TreeMonitor(proc.pid)
    code = proc.wait()
    watched = monitor.stop()
    if code != 0:
        raise SystemExit(f"phase {phase} failed with exit code {code}")
    data = json.loads(result.read_text(encoding="utf-8"))
    data.update(watched)
    data["tree_peak_rss_mb"] = max(watched["tree_peak_rss_mb"], data["self_maxrss_mb"])
    return data


# ---------------------------------------------------------------- papermill overhead

IMPORT_LINE = re.compile(r"^\s*(import\s+\S|from\s+\S+\s+import\s)")


def import_only_notebook(source: Path, target: Path) -> None:
    """Copy of a notebook with one code cell holding only its import statements."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    imports = [line for cell in nb.cells if cell.cell_type == "code"
               for line in cell.source.splitlines() if IMPORT_LINE.match(line)]
    bare = nbformat.v4.new_notebook(metadata=nb.metadata)
    bare.cells = [nbformat.v4.new_code_cell("\n".join(imports))]
    nbformat.write(bare, target)


BARE_RUNNER = """
import sys, papermill
for path in sys.argv[2:]:
    papermill.execute_notebook(path, path + ".out.ipynb", cwd=sys.argv[1], progress_bar=False, log_output=False)
"""


def papermill_overhead(work: Path) -> dict:
    """Seconds of ``python -m helpers run`` on data/raw (cold cache, then warm) against the bare
    kernel start-up plus imports of the same four notebooks, run the same way."""
    env = {**os.environ, "FAZHI_PROGRESS": "0"}
    out = work / "report_run"
    timings = {}
    for label in ("run_cold_s", "run_warm_s"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "helpers", "run", "--out", str(out)], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        timings[label] = time.perf_counter() - start
    bare_dir = work / "bare_notebooks"
    bare_dir.mkdir(exist_ok=True)
    paths = []
    for name in config.NOTEBOOK_ORDER:
        target = bare_dir / f"{name}.ipynb"
        import_only_notebook(config.NOTEBOOKS / f"{name}.ipynb", target)
        paths.append(str(target))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE_RUNNER, str(config.NOTEBOOKS), *paths], cwd=ROOT, env=env,
                   check=True)
    timings["bare_kernels_s"] = time.perf_counter() - start
    timings["papermill_ratio"] = timings["run_cold_s"] / timings["bare_kernels_s"]
    timings["papermill_ratio_warm"] = timings["run_warm_s"] / timings["bare_kernels_s"]
    return timings


# ---------------------------------------------------------------- main

def verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return f"{'ok' if ok else 'MISSED'} (target {op} {target})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="synthetic reports (default 1000)")
    parser.add_argument("--chars", type=int, default=8000, help="characters per report (default 8000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--workdir", type=Path, help="folder for the corpus, caches and outputs (default: a tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--phases", default="abcde", help="which phases to run (default abcde)")
    parser.add_argument("--papermill", action="store_true", help="also measure the papermill overhead")
    parser.add_argument("--stages", dest="phases_extra", action="store_const", const="stages", default="",
                        help="also time each per-document stage on 200 reports (where the time goes)")
    # Internal: one phase in this (child) process.
    parser.add_argument("--phase", choices=["jieba", "full", "stages"], help=argparse.SUPPRESS)
    for name in ("corpus", "result", "cache", "out"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return 0

    work = args.workdir or Path(tempfile.mkdtemp(prefix="fazhi_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    try:
        if corpus.is_dir():
            shutil.rmtree(corpus)
        snapshot_code(work)
        chars = build_corpus_folder(corpus, n=args.n, seed=args.seed, chars=args.chars)
        print(f"corpus: {args.n} reports, {chars:,} characters in {corpus}", flush=True)
        results: dict[str, dict] = {}
        if "a" in args.phases:
            results["a"] = spawn_phase("jieba", corpus, work)
        if "b" in args.phases or "d" in args.phases or "e" in args.phases:
            results["b"] = spawn_phase("full", corpus, work, workers=1, cache=work / "cache_b", out=work / "out_b")
        if "c" in args.phases:
            results["c"] = spawn_phase("full", corpus, work, workers=2, cache=work / "cache_c", out=work / "out_c")
        if "d" in args.phases:  # the same command again: the tables of (b) are up to date
            results["d"] = spawn_phase("full", corpus, work, workers=1, cache=work / "cache_b", out=work / "out_b")
        if "e" in args.phases:  # every table rebuilt from the warm cache, into a new folder
            results["e"] = spawn_phase("full", corpus, work, workers=1, cache=work / "cache_b", out=work / "out_e")
        for phase, data in results.items():
            rate = chars / data["seconds"] / 1e6
            cached = f"  cache {data['cache_hits']} hits / {data['cache_misses']} misses" if "cache_hits" in data else ""
            cached += " (tables up to date, left)" if data.get("up_to_date") else ""
            print(f"  ({phase}) {data['seconds']:8.2f} s  {rate:5.2f} M chars/s  peak {data['tree_peak_rss_mb']:7.0f} MB"
                  f"  cpu {data['cpu_s']:7.1f} s  other load {data['other_load_cores']:.2f} cores{cached}", flush=True)

        figures: dict[str, float | int | None] = {"n_docs": args.n, "chars": chars}
        seconds = {k: v["seconds"] for k, v in results.items()}
        figures["full_vs_jieba"] = seconds["b"] / seconds["a"] if {"a", "b"} <= seconds.keys() else None
        figures["speedup_2_workers"] = seconds["b"] / seconds["c"] if {"b", "c"} <= seconds.keys() else None
        figures["warm_vs_cold"] = seconds["d"] / seconds["b"] if {"b", "d"} <= seconds.keys() else None
        figures["rebuild_vs_cold"] = seconds["e"] / seconds["b"] if {"b", "e"} <= seconds.keys() else None
        figures["peak_rss_mb"] = max(v["tree_peak_rss_mb"] for k, v in results.items() if k != "a") \
            if set(results) - {"a"} else None
        figures["seconds"] = seconds
        figures["cpu_seconds"] = {k: v["cpu_s"] for k, v in results.items()}
        # Cores kept busy by other programs during each phase: a speed-up needs both cores free.
        figures["other_load_cores"] = {k: round(v["other_load_cores"], 2) for k, v in results.items()}
        busy = {k: v for k, v in figures["other_load_cores"].items() if v > 0.25}
        if busy:
            # Wall-clock ratios then mix in other programs' work. The CPU seconds of the timed
            # section of each one-process phase (a, b, d) do not, and (c) on a quiet machine
            # takes the wall time it would have anyway: these give the figures an idle machine shows.
            print(f"note: other programs kept {busy} cores busy during these phases; "
                  "CPU-time ratios:", flush=True)
        cpu = {k: v.get("process_cpu_s") for k, v in results.items()}
        if {"a", "b"} <= cpu.keys():
            figures["full_vs_jieba_cpu"] = cpu["b"] / cpu["a"]
        if {"b", "d"} <= cpu.keys():
            figures["warm_vs_cold_cpu"] = cpu["d"] / cpu["b"]
        if {"b", "e"} <= cpu.keys():
            figures["rebuild_vs_cold_cpu"] = cpu["e"] / cpu["b"]
        if {"b", "c"} <= cpu.keys():
            figures["speedup_2_workers_cpu"] = cpu["b"] / seconds["c"]
        for key in ("full_vs_jieba_cpu", "speedup_2_workers_cpu", "warm_vs_cold_cpu"):
            if key in figures:
                print(f"{key:22s} {figures[key]:7.3f}  ({verdict(key.removesuffix('_cpu'), figures[key])})")
        figures["segmenter"] = results.get("b", {}).get("segmenter")
        if "stages" in args.phases_extra:
            figures["stages"] = spawn_phase("stages", corpus, work)["stages"]
            print("  where the time of (b) goes, as multiples of bare jieba on the same texts:")
            for name, share in figures["stages"].items():
                print(f"    {name:12s} {share:5.2f}")
        figures["cpu_count"] = os.cpu_count()
        for key in TARGETS:
            if figures[key] is not None:
                print(f"{key:18s} {figures[key]:7.3f}  {verdict(key, figures[key])}")
        if figures["rebuild_vs_cold"] is not None:
            print(f"{'rebuild_vs_cold':18s} {figures['rebuild_vs_cold']:7.3f}  (every table rebuilt from the warm cache)")
        if figures["peak_rss_mb"] is not None:
            ok = "ok" if figures["peak_rss_mb"] < PEAK_RSS_TARGET_MB else "over"
            print(f"{'peak_rss_mb':18s} {figures['peak_rss_mb']:7.0f}  ({ok}: target < {PEAK_RSS_TARGET_MB} MB at N=10,000)")
        if args.papermill:
            figures.update(papermill_overhead(work))
            print(f"papermill: run {figures['run_cold_s']:.1f} s cold / {figures['run_warm_s']:.1f} s warm, "
                  f"bare kernels+imports {figures['bare_kernels_s']:.1f} s, ratio {figures['papermill_ratio']:.2f} "
                  f"(warm {figures['papermill_ratio_warm']:.2f}; target <= 2)")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
            print(f"wrote {args.json}")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
