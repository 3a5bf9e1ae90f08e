# Two commands for a new user: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Many tests wait on sockets and subprocesses, so more workers than cores still pays off.
TEST_WORKERS ?= 4

.PHONY: run test lint typecheck contracts test-sqlite test-postgres clean doctor migrate import-org


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

test-sqlite: $(STAMP)
	./scripts/ensure-browser
	NUDGEBOT_TEST_DB=sqlite $(BIN)/pytest -n $(TEST_WORKERS)

test-postgres: $(STAMP)
	./scripts/ensure-browser
	./scripts/ensure-postgres
	NUDGEBOT_TEST_DB=postgres TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/pytest -n $(TEST_WORKERS)

test: lint typecheck contracts test-sqlite test-postgres

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
