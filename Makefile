# The default target lists the others.
.DEFAULT_GOAL := help
PY := .venv/bin/python

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Set everything up and start the product on http://127.0.0.1:8000 (SQLite + embedded Redis)
	@scripts/run

test: ## Set everything up and run the whole test suite (lint included)
	@scripts/test

setup: ## Create .venv and install the project with its dev tools
	@scripts/bootstrap

lint: setup ## ruff lint + format check + import-linter layer contracts
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

format: setup ## Apply ruff's formatting and safe fixes
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

worker: setup ## Start one RQ worker (scaled mode: set REDIS_URL and DATABASE_URL)
	.venv/bin/flask --app backend worker

bench: setup ## Run the engine benchmark (prints a table)
	$(PY) bench/engine.py

clean: ## Remove the virtualenv, caches and local state (instance/)
	rm -rf .venv .pytest_cache .ruff_cache .hypothesis instance node_modules

.PHONY: help run test setup lint format worker bench clean
