"""Command line: ``python -m helpers {run,clean,indicators,share}``.

    python -m helpers run [--only NAME] [-p KEY VALUE ...] [--raw DIR --out DIR]
    python -m helpers clean INPUT_DIR --out DIR [--manifest FILE]
    python -m helpers indicators INPUT_DIR --out FILE.csv
    python -m helpers share [--out DIR] [--zip FILE]

A user's mistake (a missing folder, an output folder inside the input, a full disk, a permission,
Ctrl-C) ends with one line naming the cause and a non-zero exit; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path


class UsageError(Exception):
    """A mistake in how the command was called: reported in one line, exit status 2."""


def _workers(text: str) -> int:
    """--workers: a positive count, or -1 for one per core."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"{value}: give a positive number of workers, or -1 for one per core")
    return value


def _inside(inner: Path, outer: Path) -> bool:
    inner, outer = inner.expanduser().resolve(), outer.expanduser().resolve()
    return inner == outer or outer in inner.parents


def check_folders(raw: Path | None, out: Path | None, *, out_is_file: bool = False) -> None:
    """Refuse inputs and outputs that would mix: a missing input folder, an output inside the input
    (the next run would read its own pages as reports) or the input inside the output, an output
    folder that is a file (or an output file that is a folder)."""
    if raw is not None and not raw.is_dir():
        raise UsageError(f"{raw}: no such folder of reports" if not raw.exists() else f"{raw}: not a folder")
    if out is None:
        return
    if out_is_file and out.is_dir():
        raise UsageError(f"--out {out}: is a folder; name the CSV file to write")
    if not out_is_file and out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; name a folder for the outputs")
    if raw is not None and (_inside(out, raw) or _inside(raw, out)):
        where = "inside" if _inside(out, raw) else "around"
        raise UsageError(f"--out {out} is {where} the folder of reports {raw}: outputs would be read as "
                         "reports; choose an output folder outside it")


def _parse_param_value(text: str):
    """Read ``-p`` values as YAML scalars (so 30 is an int, true a bool, [a, b] a list)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Run the fazhi notebooks, or only their tables, on a folder of reports.",
        epilog="python -m helpers COMMAND --help describes each command; --debug shows the traceback of an error.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebooks with papermill and build reports/")
    run.add_argument("--only", action="append", metavar="NAME",
                     help="run only this notebook (e.g. 02_term_frequency or 02); repeatable")
    run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"), default=[],
                     help="set a notebook parameter in every notebook that declares it")
    run.add_argument("--raw", type=Path, help="folder of reports to analyse (default: data/raw)")
    run.add_argument("--out", type=Path, help="write data/processed, figures and reports under this folder")

    clean = sub.add_parser("clean", help="read and clean a folder of reports into the processed tables")
    clean.add_argument("input_dir", type=Path, help="folder of reports (.txt .html .docx .pdf, any encoding)")
    clean.add_argument("--out", type=Path, required=True, help="folder for the tables")
    clean.add_argument("--manifest", type=Path, help="manifest CSV (default: INPUT_DIR/manifest.csv if present)")
    clean.add_argument("--workers", type=_workers, help="worker processes (default 1; -1 = one per core)")
    _cache_options(clean, default="OUT/.cache")

    share = sub.add_parser("share", help="zip reports/ into one file that opens offline on another machine")
    share.add_argument("--out", type=Path, help="the output folder of the run (default: the project)")
    share.add_argument("--zip", type=Path, help="the zip to write (default: OUT/fazhi-report-DATE.zip)")

    ind = sub.add_parser("indicators", help="one row per quantity mention of every report in a folder")
    ind.add_argument("input_dir", type=Path, help="folder of reports (.txt .html .docx .pdf, any encoding)")
    ind.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ind.add_argument("--workers", type=_workers, help="worker processes (default 1; -1 = one per core)")
    _cache_options(ind, default=".cache beside the CSV")
    return parser


def _cache_options(command: argparse.ArgumentParser, *, default: str) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument("--cache", type=Path, help=f"folder of the per-report cache (default: {default})")
    where.add_argument("--no-cache", action="store_true", help="compute everything, keep no cache")


def _cache(args: argparse.Namespace):
    return False if args.no_cache else args.cache


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from helpers import config, report

        check_folders(args.raw if args.raw else config.RAW, args.out)
        params = {key: _parse_param_value(value) for key, value in args.parameter}
        return report.run_collection(only=args.only, parameters=params, raw=args.raw, out=args.out)
    if args.command == "clean":
        from helpers import pipeline

        check_folders(args.input_dir, args.out)
        return pipeline.clean_command(args.input_dir, out=args.out, manifest=args.manifest, workers=args.workers,
                                      cache=_cache(args))
    if args.command == "share":
        from helpers import bundle, config

        paths = config.project_paths(out=args.out)
        if not (paths.reports / "index.html").exists():
            raise UsageError(f"{paths.reports}: no report to share yet; run `python -m helpers run` first")
        print(f"bundle: {bundle.share(paths, target=args.zip)}")
        return 0
    if args.command == "indicators":
        from helpers import pipeline

        check_folders(args.input_dir, args.out, out_is_file=True)
        return pipeline.indicators_command(args.input_dir, out=args.out, workers=args.workers, cache=_cache(args))
    return 2


def _os_error(error: OSError) -> str:
    """One line for a file-system error: what failed, on which path."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
              errno.EACCES: "permission denied", errno.EPERM: "not permitted",
              errno.EROFS: "the file system is read-only"}.get(error.errno, error.strerror or str(error))
    path = error.filename or ""
    return f"error: {reason}" + (f": {path}" if path else "")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except UsageError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if args.debug:
            raise
        print(_os_error(error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
