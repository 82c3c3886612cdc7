# Two commands on a fresh machine: `make demo` (soon `make up`) and `make test`.
# Both create .venv and install pinned versions (constraints.txt) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
# pytest-xdist workers: each is its own test session with its own database.
TEST_WORKERS ?= 2

.PHONY: help demo test test-fast lint bench clean db-stop

help:
	@echo "make demo       sample inbox + feed -> embedded PostgreSQL -> out/digest-YYYY-MM-DD.{html,txt}"
	@echo "make test       the whole test suite (embedded PostgreSQL unless MONITOR_TEST_DATABASE_URL is set)"
	@echo "make test-fast  the suite without the slow end-to-end tests"
	@echo "make bench      throughput figures -> out/bench.json"
	@echo "make lint       ruff"
	@echo "make db-stop    stop the embedded PostgreSQL"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# Stamps: re-install only when the dependency lists change.
$(VENV)/.core: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) -e ".[dev]"
	@touch $@

demo: $(VENV)/.core
	$(BIN)/monitor demo

test: $(VENV)/.dev
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test-fast: $(VENV)/.dev
	$(BIN)/pytest -q -x -m "not slow"

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

bench: $(VENV)/.dev
	$(BIN)/python scripts/bench.py

db-stop:
	-$(BIN)/monitor db stop

clean: db-stop
	rm -rf $(VENV) .monitor out .pytest_cache .ruff_cache
