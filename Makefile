# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run demo test typecheck pytest lint-addon bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

## The main job on the embedded default: mock ERP + sandbox marketplaces + bridge.
run: venv
	$(BIN)/stock-bridge run

demo: venv
	$(BIN)/stock-bridge demo

## Everything CI runs: type check, addon lint, the test suite (benchmarks in quick mode).
test: venv typecheck lint-addon pytest

typecheck: venv
	$(BIN)/mypy

lint-addon: venv
	@if [ -d addons/marketplace_stock_sync ]; then $(BIN)/python -m tests.addon.lint; else echo "no addon yet"; fi

pytest: venv
	$(BIN)/pytest -q

bench: venv
	BENCH_FULL=1 $(BIN)/pytest -q -s -m bench tests/bench

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache
