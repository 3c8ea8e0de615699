# Two commands set everything up on a machine with only python3 and make:
#   make demo   - install, run the example suite with --mlperf-report, print where the report is
#   make test   - install, then lint (ruff), type-check (mypy --strict) and run the test suite
#   make fuzz   - the hostile-input tests with many more generated examples
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_PATHS := $(wildcard src tests examples benchmarks conftest.py)

.PHONY: install demo test lint typecheck pytest docs bench replay fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pytest examples -p no:cacheprovider --mlperf-report=mlperf-report
	@echo
	@echo "Report written to $(CURDIR)/mlperf-report/ (report.html, report.md, report.json)"

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest docs

# the hostile-input corpus with many more Hypothesis examples than `make test` runs
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 -q tests/test_hostile_files.py tests/test_hostile_runs.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir site

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# section 11 of docs/performance.md: the verdict code replayed on the recorded hours (3 min)
replay: $(STAMP)
	$(BIN)/python benchmarks/replay.py --run-spreads 15,20,25

clean:
	rm -rf $(VENV) mlperf-report .mypy_cache .ruff_cache .pytest_cache
