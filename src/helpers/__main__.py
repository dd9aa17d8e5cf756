"""Command line: ``python -m helpers {run,clean,indicators}``.

    python -m helpers run [--only NAME] [-p KEY VALUE ...] [--raw DIR --out DIR]
    python -m helpers clean INPUT_DIR --out DIR [--manifest FILE]
    python -m helpers indicators INPUT_DIR --out FILE.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parse_param_value(text: str):
    """Read ``-p`` values as YAML scalars (so 30 is an int, true a bool, [a, b] a list)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebooks with papermill and build reports/")
    run.add_argument("--only", action="append", metavar="NAME",
                     help="run only this notebook (e.g. 02_term_frequency or 02); repeatable")
    run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("KEY", "VALUE"), default=[],
                     help="set a notebook parameter in every notebook that declares it")
    run.add_argument("--raw", type=Path, help="folder of reports to analyse (default: data/raw)")
    run.add_argument("--out", type=Path, help="write data/processed, figures and reports under this folder")

    clean = sub.add_parser("clean", help="read and clean a folder of reports into the processed tables")
    clean.add_argument("input_dir", type=Path)
    clean.add_argument("--out", type=Path, required=True, help="folder for the tables")
    clean.add_argument("--manifest", type=Path, help="manifest CSV (default: INPUT_DIR/manifest.csv if present)")
    clean.add_argument("--workers", type=int, help="worker processes (default 1; -1 = one per core)")

    ind = sub.add_parser("indicators", help="one row per quantity mention of every report in a folder")
    ind.add_argument("input_dir", type=Path)
    ind.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ind.add_argument("--workers", type=int, help="worker processes (default 1; -1 = one per core)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from helpers import report

        params = {key: _parse_param_value(value) for key, value in args.parameter}
        return report.run_collection(only=args.only, parameters=params, raw=args.raw, out=args.out)
    if args.command == "clean":
        from helpers import pipeline

        return pipeline.clean_command(args.input_dir, out=args.out, manifest=args.manifest, workers=args.workers)
    if args.command == "indicators":
        from helpers import pipeline

        return pipeline.indicators_command(args.input_dir, out=args.out, workers=args.workers)
    return 2


if __name__ == "__main__":
    sys.exit(main())
