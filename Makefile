# Every target: `make help`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install report share test test-fast lab bench clean-outputs

help:  ## List every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

# The `fast` and `fast-c` extras add the Rust and C builds of jieba (same tokens, faster); where
# they cannot be installed, plain jieba is used.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet -e '.[fast]' 2>/dev/null || echo "note: jieba-next not installed (no wheel here?); plain jieba segments"
	$(BIN)/python -m pip install --quiet -e '.[fast-c]' 2>/dev/null || echo "note: jieba_fast not built (no compiler?); plain jieba tags"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)  ## Create .venv (if missing) and install the project into it

report: $(STAMP)  ## Run every notebook with papermill, export HTML, write reports/index.html
	$(BIN)/python -m helpers run

share: $(STAMP)  ## Zip reports/ into one file to send (opens offline; no local paths)
	$(BIN)/python -m helpers share

test: $(STAMP)  ## Run the whole test suite (helpers, notebooks, report)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## Run the helper tests only (skips notebook and report runs)
	$(BIN)/python -m pytest -m "not slow"

# As root (containers, cloud notebooks) JupyterLab needs --allow-root; LAB_ARGS passes anything else:
# make lab LAB_ARGS="--port 8899 --no-browser --IdentityProvider.token=secret"
LAB_ARGS ?=
ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)  ## Start JupyterLab in notebooks/ (LAB_ARGS="--port 8899 --no-browser" passes options; root-safe)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_ARG) $(LAB_ARGS)

bench: $(STAMP)  ## Benchmark the pipeline (see benchmarks/README or README "Performance")
	$(BIN)/python benchmarks/bench_pipeline.py --json benchmarks/results/bench.json

clean-outputs:  ## Delete every generated table, figure, report and cache (data/raw is untouched)
	find data/processed figures reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .cache
