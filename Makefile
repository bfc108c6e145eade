# govshare task runner. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-test demo serve test test-sqlite lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python ## Install govshare into .venv
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python ## Install govshare with test tools, Chromium and the local services the tests use
	$(BIN)/pip install -q -e '.[test]'
	scripts/ensure-test-env

demo: install ## Install, load the demo city into govshare.db and serve it on http://$(HOST):$(PORT)/
	$(BIN)/govshare demo --host $(HOST) --port $(PORT)

serve: install ## Serve the platform (GOVSHARE_DATABASE_URL, default govshare.db)
	$(BIN)/govshare serve --host $(HOST) --port $(PORT)

test: install-test ## Install everything and run the whole test suite on SQLite and PostgreSQL
	$(BIN)/pytest

test-sqlite: install-test ## Run the tests on SQLite only
	GOVSHARE_TEST_BACKENDS=sqlite $(BIN)/pytest

lint: install-test ## ruff checks, ruff format check and mypy
	$(BIN)/ruff check govshare tests benchmarks
	$(BIN)/ruff format --check govshare tests benchmarks
	$(BIN)/mypy govshare

format: install-test ## ruff format
	$(BIN)/ruff format govshare tests benchmarks

bench: install-test ## Run the catalog search benchmark on SQLite and PostgreSQL
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/catalog_search.py

clean: ## Remove the virtualenv, caches and the demo database
	rm -rf $(VENV) .pytest_cache .ruff_cache govshare.db govshare.db-wal govshare.db-shm test-artifacts
