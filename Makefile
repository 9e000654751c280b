# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: venv venv-test run demo test typecheck pytest lint-addon odoo-addon-tests bench clean

# `make run` needs only the runtime dependencies; `make test` adds the test extra.
venv: $(RUN_STAMP)
venv-test: $(TEST_STAMP)

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(RUN_STAMP) $(TEST_STAMP)

## The main job on the embedded default: mock ERP + sandbox marketplaces + bridge.
run: venv
	$(BIN)/stock-bridge run

demo: venv
	$(BIN)/stock-bridge demo

## Everything CI runs: type check, addon lint, the addon's tests on real Odoo 18 (skipped
## in one line without the kit), the test suite (benchmarks in quick mode).
test: venv-test typecheck lint-addon odoo-addon-tests pytest

typecheck: venv-test
	$(BIN)/mypy

lint-addon: venv-test
	@if [ -d addons/marketplace_stock_sync ]; then $(BIN)/python -m tests.addon.lint; else echo "no addon yet"; fi

odoo-addon-tests:
	@bash scripts/odoo_addon_tests.sh

pytest: venv-test
	$(BIN)/pytest -q

bench: venv-test
	BENCH_FULL=1 $(BIN)/pytest -q -s -m bench tests/bench

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache
