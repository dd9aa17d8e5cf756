"""One very large report against many ordinary ones: is the per-report work linear in its size?

Builds a synthetic report by repeating the sample reports of data/raw/ one after another, each
with its headings (so the report has as many sections per megabyte as a real one), and measures,
each case in a fresh process:

  (a) one report of ``--big-mb`` MB (default 40) read and processed (``corpus.read_bytes`` then
      ``pipeline.process_document``: cleaning, headings, sections, sentences, metadata);
  (b) ``--n`` reports of ``--small-mb`` MB each (default 40 x 1 MB), the same way, one after another.

Linear work gives a/b close to 1. The structure step (headings, sections, sentence placement) is
also timed on its own. ``--build-corpus`` runs both cases through ``pipeline.build_corpus`` on a
folder (one worker, no cache) instead, which adds the tables and the cache entry of each report.

    python benchmarks/bench_large_file.py
    python benchmarks/bench_large_file.py --big-mb 4 --n 4 --small-mb 1 --json /tmp/large.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers import config  # noqa: E402

MB = 1_000_000


def synthetic_report(size_bytes: int) -> bytes:
    """UTF-8 text of at least ``size_bytes``: the sample reports, headings and all, repeated in turn."""
    reports = [p.read_text(encoding="utf-8").strip("\n") for p in sorted(config.RAW.glob("*.txt"))]
    parts, size, i = [], 0, 0
    while size < size_bytes:
        part = reports[i % len(reports)]
        parts.append(part)
        size += len(part.encode("utf-8")) + 1
        i += 1
    return "\n".join(parts).encode("utf-8")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(count: int, size_mb: float, *, build_corpus: bool) -> dict:
    """Time ``count`` reports of ``size_mb`` each, in this process."""
    from helpers import clean, corpus, pipeline, structure

    data = synthetic_report(int(size_mb * MB))
    # Imports, compiled patterns and the gazetteer loaded first, outside the timings.
    pipeline.process_document(corpus.read_bytes("warm.txt", synthetic_report(1)))
    timings = {"read": 0.0, "process": 0.0, "structure": 0.0}
    warnings: list = []
    sentences = 0
    if build_corpus:
        with tempfile.TemporaryDirectory(prefix="fazhi_large_") as folder:
            for k in range(count):
                # Each report distinct after cleaning (no duplicate to drop), all the same size.
                (Path(folder) / f"report_{k:03d}.txt").write_bytes(data + f"\n本报告编号{k:03d}。".encode())
            start = time.perf_counter()
            result = pipeline.build_corpus(folder, manifest=False, workers=1, cache=False, progress=False)
            timings["process"] = time.perf_counter() - start
            sentences = len(result.sentences)
            warnings = result.warnings.to_records(index=False).tolist()
    else:
        for k in range(count):
            start = time.perf_counter()
            raw = corpus.read_bytes(f"report_{k:03d}.txt", data)
            read = time.perf_counter()
            processed = pipeline.process_document(raw)
            timings["read"] += read - start
            timings["process"] += time.perf_counter() - read
            sentences += len(processed.sentences)
            warnings.extend(processed.warnings)
            # The structure step alone, on the cleaned text.
            text = clean.clean_text(raw.text).text
            start = time.perf_counter()
            sections = structure.section_columns(text, doc_id="d")
            structure.sentence_columns(text, sections, doc_id="d")
            timings["structure"] += time.perf_counter() - start
            del raw, processed, text, sections
    return {"reports": count, "mb_each": round(len(data) / MB, 2), "sentences": sentences,
            "seconds": {k: round(v, 3) for k, v in timings.items()},
            "total_seconds": round(timings["read"] + timings["process"], 3),
            "peak_rss_mb": round(_peak_rss_mb()), "warnings": [list(w) for w in warnings][:3]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big-mb", type=float, default=40.0, help="size of the one large report (MB)")
    parser.add_argument("--n", type=int, default=40, help="how many ordinary reports")
    parser.add_argument("--small-mb", type=float, default=1.0, help="size of each ordinary report (MB)")
    parser.add_argument("--build-corpus", action="store_true", help="through pipeline.build_corpus on a folder")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--phase", nargs=2, metavar=("COUNT", "MB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(run_case(int(args.phase[0]), float(args.phase[1]), build_corpus=args.build_corpus)))
        return 0
    results = {}
    for label, count, size in (("one_large", 1, args.big_mb), ("many_small", args.n, args.small_mb)):
        command = [sys.executable, __file__, "--phase", str(count), str(size)]
        if args.build_corpus:
            command.append("--build-corpus")
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])
        r = results[label]
        parts = "" if args.build_corpus else (
            f" (read {r['seconds']['read']:.2f}, process {r['seconds']['process']:.2f}; "
            f"structure alone {r['seconds']['structure']:.2f})")
        print(f"{label}: {r['reports']} x {r['mb_each']} MB, {r['sentences']} sentences: "
              f"{r['total_seconds']:.2f} s{parts}, peak {r['peak_rss_mb']} MB")
    big, small = results["one_large"], results["many_small"]
    ratio = big["total_seconds"] / small["total_seconds"] if small["total_seconds"] else float("nan")
    size_ratio = (big["mb_each"] * big["reports"]) / (small["mb_each"] * small["reports"])
    results["large_vs_small"] = round(ratio, 3)
    results["size_ratio"] = round(size_ratio, 3)
    print(f"one large / many small: {ratio:.2f} (sizes {size_ratio:.2f}; linear work gives about the size ratio)")
    if big["warnings"]:
        print("warning on the large report:", ": ".join(big["warnings"][0]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
