# Two commands on a fresh machine: `make up` (Airflow with the UI) and `make test`; `make demo` is the one-shot.
# Both create .venv and install pinned versions (constraints.txt) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
# pytest-xdist workers: each is its own test session with its own database.
TEST_WORKERS ?= 2

.PHONY: help up down airflow demo test test-fast lint bench bench-load eval clean db-stop browser

help:
	@echo "make up         Airflow (UI on http://localhost:8080) + embedded PostgreSQL + SMTP sink; make down stops it"
	@echo "make airflow ARGS=\"dags list\"  an airflow command against the running stack (its AIRFLOW_HOME and database)"
	@echo "make demo       sample inbox + feed -> embedded PostgreSQL -> out/digest-YYYY-MM-DD.{html,txt}"
	@echo "make test       the whole test suite (embedded PostgreSQL unless MONITOR_TEST_DATABASE_URL is set)"
	@echo "make test-fast  the suite without the slow end-to-end tests"
	@echo "make bench      throughput figures -> out/bench.json"
	@echo "make lint       ruff and mypy"
	@echo "make db-stop    stop the embedded PostgreSQL servers (the monitor's and the tests')"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# Stamps: re-install only when the dependency lists change.
$(VENV)/.core: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) -e ".[airflow,dev]"
	@touch $@

up: $(VENV)/.dev
	$(BIN)/python -m monitor.dev up

# An airflow command against the running stack, with its configuration: make airflow ARGS="dags list"
airflow: $(VENV)/.dev
	@$(BIN)/python -m monitor.dev airflow $(ARGS)

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m monitor.dev down; else echo "nothing to stop"; fi

demo: $(VENV)/.core
	$(BIN)/monitor demo

test: $(VENV)/.dev browser
	$(BIN)/pytest -q -n $(TEST_WORKERS)

# The UI tests (tests/ui) drive Debian's headless Chromium. Installed when missing and this user may
# (root, as in CI); otherwise said once, and the UI tests skip (in CI they fail instead).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and chromium-driver for the UI tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "note: the UI tests need Debian's chromium and chromium-driver: sudo apt-get install chromium chromium-driver"; \
	  fi; \
	fi

test-fast: $(VENV)/.dev
	$(BIN)/pytest -q -x -m "not slow"

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy src

bench: $(VENV)/.dev
	$(BIN)/python scripts/bench.py

# The load figures of the hardening issue: 100k articles end to end (takes several minutes).
bench-load: $(VENV)/.dev
	$(BIN)/python scripts/bench.py --articles 100000 --output out/bench-load.json

# Quality report (docs/quality.md) and floors gate; needs ../shared/data (not in the repository).
eval: $(VENV)/.dev
	$(BIN)/monitor eval --data ../shared/data --write docs/quality.md --floors eval/floors.json

# Both embedded servers: the monitor's (.monitor/pgdata) and the one the tests share (.monitor/test-pgdata),
# which `make test` leaves running so the next run starts in seconds.
db-stop:
	-@if [ -x $(BIN)/python ]; then $(BIN)/python -m monitor.dev db-stop; else echo "nothing to stop"; fi

clean: down db-stop
	rm -rf $(VENV) .monitor out .pytest_cache .ruff_cache
