# Everything a fresh machine needs is installed from requirements.lock (pinned, updated with `make lock`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Where Debian puts chromium; tests/contracts/test_docs.py drives it there.
CHROMIUM ?= /usr/bin/chromium
DEMO ?=
# Both cores (pytest-xdist); a file's tests stay on one worker, so its module fixtures are made once;
# files are dealt in the order tests/conftest.py gives them, the slowest first.
# `make test PYTEST_ARGS=` runs in one process.
PYTEST_ARGS ?= -n auto --dist loadfile --no-loadscope-reorder
export TAC_DATABASE_URL ?= sqlite:///var/tac.db

.PHONY: install pango browser postgres-tools run test lint format openapi bench soak lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-virtualenv -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) pango

# WeasyPrint (her chronology and evidence bundle as PDF) lays text out with Debian's pango, in
# DejaVu's fonts (accents and apostrophes: Siân O'Connor). Installed here when missing (as root).
PANGO_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pango:
	@ldconfig -p | grep -q libpangoft2-1.0.so.0 && test -d /usr/share/fonts/truetype/dejavu || { \
	  [ "$$(id -u)" = 0 ] || { echo "PDFs need pango: sudo apt-get install $(PANGO_PACKAGES)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PANGO_PACKAGES) >/dev/null; }

var:
	mkdir -p var

run: install var
	$(BIN)/tac-api db upgrade
ifneq ($(DEMO),)
	$(BIN)/tac-api demo-data --mothers 40 --admin-token
endif
	$(BIN)/tac-api serve --host $(HOST) --port $(PORT)

# The browser test (tests/contracts/test_docs.py) opens /docs in Debian's chromium. Installed here when
# missing (as root, as CI runs), since Playwright's own browser download cannot be used.
browser:
	@test -x $(CHROMIUM) || { \
	  [ "$$(id -u)" = 0 ] || { echo "tests/contracts/test_docs.py needs chromium: sudo apt-get install chromium" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The PostgreSQL tests put Debian's PgBouncer in front of the server (tests/platform/test_pgbouncer.py)
# and run clusters of their own with the installed server's initdb and pg_ctl. Installed here when
# missing and PostgreSQL is being tested (as root, as CI runs).
SERVER_PACKAGES := pgbouncer
postgres-tools:
	@[ -z "$$TAC_TEST_POSTGRES_URL" ] || command -v pgbouncer >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "the PostgreSQL tests need PgBouncer: sudo apt-get install $(SERVER_PACKAGES)" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SERVER_PACKAGES) >/dev/null; }
	@[ -z "$$TAC_TEST_POSTGRES_URL" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "the PostgreSQL tests need the server's initdb and pg_ctl (Debian: postgresql)" >&2; exit 1; }

test: install browser postgres-tools
	$(BIN)/ruff check src tests benchmarks alembic examples
	$(BIN)/ruff format --check src tests benchmarks alembic examples
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks alembic examples

format: install
	$(BIN)/ruff format src tests benchmarks alembic examples
	$(BIN)/ruff check --fix src tests benchmarks alembic examples

openapi: install
	$(BIN)/tac-api openapi

bench: install var
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Half an hour of mixed load at half the measured capacity, on PostgreSQL (README: Soak).
soak: install var
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

# Re-pin on purpose: resolves pyproject.toml's ranges to exact versions for every machine and CI.
lock:
	$(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet uv
	.lockenv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) var .pytest_cache
