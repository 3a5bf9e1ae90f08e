# Two commands for a new user: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Workers per pytest run. Many tests wait on sockets and subprocesses, so more workers than
# cores still pays off; `make test` runs its two passes at once with this many each.
TEST_WORKERS ?= 3
# Scratch files of the tests (SQLite stores, logs, wheels) go to memory where there is some:
# a test store needs no fsync to the disk. Each pass wipes its own folder when it starts.
TEST_TMP ?= $(if $(wildcard /dev/shm/.),/dev/shm/nudgebot-tests-$(shell id -u)-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1),$(CURDIR)/.test-tmp)
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=15 -p no:cacheprovider

.PHONY: run test lint typecheck contracts static test-sqlite test-postgres test-postgres-db \
	browser validators haproxy postgres clean doctor migrate import-org


$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/nudgebot serve

# The commands an operator runs most, so the README's lines work as written; every other
# command is `.venv/bin/nudgebot COMMAND` (or `nudgebot` with the venv activated).
doctor: $(STAMP)
	$(BIN)/nudgebot doctor

migrate: $(STAMP)
	$(BIN)/nudgebot migrate

import-org: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make import-org FILE=org.csv [ARGS=--dry-run]" >&2; exit 2; }
	$(BIN)/nudgebot import-org $(ARGS) "$(FILE)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot nudges

contracts: $(STAMP)
	$(BIN)/lint-imports

static: lint typecheck contracts

browser:
	./scripts/ensure-browser

# Microsoft's Adaptive Cards library and Teams manifest schemas (npm), for the card and manifest tests.
validators:
	./scripts/ensure-node-validators

haproxy:
	./scripts/ensure-haproxy

postgres:
	./scripts/ensure-postgres

SQLITE_PASS = NUDGEBOT_TEST_DB=sqlite $(PYTEST) --basetemp='$(TEST_TMP)/sqlite'
POSTGRES_PASS = NUDGEBOT_TEST_DB=postgres TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(PYTEST) $(PG_SCOPE) --basetemp='$(TEST_TMP)/postgres'

test-sqlite: $(STAMP) browser validators haproxy
	mkdir -p '$(TEST_TMP)'
	$(SQLITE_PASS)

test-postgres test-postgres-db: $(STAMP) browser validators haproxy postgres
	mkdir -p '$(TEST_TMP)'
	$(POSTGRES_PASS)

# The PostgreSQL pass of `make test`: only the tests that use the database under test, since
# the rest ran on SQLite and behave the same whatever the database.
test-postgres-db: PG_SCOPE := --database-tests-only

# Static checks and both database passes run side by side under scripts/run-parts: each part's
# output is printed whole when it ends, a line a minute says what still runs, and a part that
# outlives TEST_PART_TIMEOUT seconds is stopped and counted as failed (pytest-timeout stops a
# single test that hangs long before that, with every thread's stack).
TEST_PART_TIMEOUT ?= 2400
test: PG_SCOPE := --database-tests-only
test: $(STAMP) browser validators haproxy postgres
	@echo "make test: lint, types, import rules, SQLite and PostgreSQL passes at once; each part's output follows when it is done"
	@mkdir -p '$(TEST_TMP)'
	@$(BIN)/python scripts/run-parts --logs '$(TEST_TMP)/logs' --timeout $(TEST_PART_TIMEOUT) \
		"static=$(MAKE) --no-print-directory lint typecheck contracts" \
		"sqlite=$(SQLITE_PASS)" \
		"postgres=$(POSTGRES_PASS)"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .test-tmp
