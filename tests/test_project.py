"""The project's promises about itself: dependencies, layout, README commands, data immutability."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers import config

ROOT = config.ROOT
# conda-forge spells a few packages differently from PyPI.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "dask-core": "dask"}
# In environment.yml but not a pyproject dependency: the interpreter, pip itself, the project.
CONDA_ONLY = {"python", "pip"}


def _requirement(spec: str) -> tuple[str, str | None]:
    """'pandas>=2.1' -> ('pandas', '2.1'); names normalised as PEP 503 does."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?:>=\s*([0-9][^,;\s]*))?", spec)
    assert match, f"cannot read requirement {spec!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2)


def pyproject_requirements() -> dict[str, str | None]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(_requirement(spec) for spec in project["dependencies"])


def environment_requirements() -> dict[str, str | None]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    found: dict[str, str | None] = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for spec in item.get("pip", []):
                if spec.strip().startswith("-e"):
                    continue
                name, bound = _requirement(spec)
                found[name] = bound
            continue
        name, bound = _requirement(item.replace("=", ">=", 1) if ">=" not in item and "=" in item else item)
        name = CONDA_TO_PYPI.get(name, name)
        if name not in CONDA_ONLY:
            found[name] = bound
    return found


def test_every_dependency_has_a_lower_bound():
    unbounded = [name for name, bound in pyproject_requirements().items() if bound is None]
    assert not unbounded, f"pyproject.toml dependencies without a lower bound: {unbounded}"


def test_environment_yml_mirrors_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_project_editable():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_items = [spec for item in env["dependencies"] if isinstance(item, dict) for spec in item.get("pip", [])]
    assert "-e ." in [s.strip() for s in pip_items]


def test_design_card_layout_exists():
    for folder in ("notebooks", "src/helpers", "data/raw", "data/processed", "figures", "reports", "tests"):
        assert (ROOT / folder).is_dir(), folder
    assert (ROOT / "environment.yml").is_file()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks == list(config.NOTEBOOK_ORDER)


def test_raw_reports_and_manifest_are_committed():
    tracked = subprocess.run(["git", "ls-files", "data/raw"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    names = {Path(p).name for p in tracked}
    assert config.MANIFEST_NAME in names
    assert len([n for n in names if n.endswith(".txt")]) >= 5


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has no command block"
    assert [line.strip() for line in blocks[0].strip().splitlines()] == ["make report", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)


def test_readme_paths_exist():
    """Every repository path the README names in backticks exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    generated = ("data/processed/", "figures/", "reports/", ".venv", ".cache")
    for path in set(re.findall(r"`((?:src|notebooks|data|tests|benchmarks|figures|reports|\.ci)/[^`\s*]*)`", readme)):
        if path.startswith(generated) and path not in generated:
            continue  # build products, made by `make report`
        assert (ROOT / path).exists(), f"README names {path}, which does not exist"


def test_makefile_help_lists_every_target():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z_-]*):(?!=)", makefile, flags=re.M))
    documented = set(re.findall(r"^([a-z][a-z_-]*):.*## ", makefile, flags=re.M))
    assert targets - {"help"} <= documented, targets - documented
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for target in documented:
        assert target in out


def test_readme_make_targets_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z_-]*):", makefile, flags=re.M))
    for target in set(re.findall(r"\bmake ([a-z][a-z_-]*)", readme)):
        assert target in targets, f"README mentions `make {target}`, which the Makefile lacks"


def test_readme_cli_subcommands_exist():
    from helpers.__main__ import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    choices = set(build_parser()._subparsers._group_actions[0].choices)
    for sub in set(re.findall(r"python -m helpers ([a-z]+)", readme)):
        assert sub in choices, f"README mentions `python -m helpers {sub}`"


@pytest.mark.parametrize("name", config.NOTEBOOK_ORDER)
def test_notebook_parameters_are_typed_and_documented(name):
    """`papermill --help-notebook` can list every parameter with its type and comment."""
    import papermill

    params = papermill.inspect_notebook(str(config.NOTEBOOKS / f"{name}.ipynb"))
    assert {"raw_dir", "out_dir", "documents"} <= set(params)
    for param in params.values():
        assert param["inferred_type_name"] != "None", param
        assert param["help"], param


@pytest.mark.parametrize("name", config.NOTEBOOK_ORDER)
def test_notebooks_are_committed_without_outputs(name):
    import nbformat

    nb = nbformat.read(config.NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
