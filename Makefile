# Stepwise: `make install`, `make run`, `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The web UI (web/): npm ci when the lock changes, a build when a source changes.
WEB_DEPS := web/node_modules/.installed
WEB_STAMP := web/dist/.built
WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/tsconfig.json web/vite.config.ts -type f 2>/dev/null)

.PHONY: install run test lint typecheck contracts unit webtest web web-api screenshots bench-peers bench-tuning clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11+ is needed: set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@echo "Installed: $(BIN)/stepwise"

$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js 20+ and npm are needed to build the web UI (web/)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $(WEB_DEPS)

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build
	@touch $(WEB_STAMP)

web: $(WEB_STAMP)

# After changing the API: its OpenAPI document for the UI, and the UI's types generated from it.
web-api: install $(WEB_DEPS)
	$(BIN)/python -m api.openapi_dump web/src/api/openapi.json
	cd web && npm run gen:api

run: install web
	$(BIN)/stepwise dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

# The browser tests (tests/e2e) drive the built UI, so the tests build it first.
unit: install web
	$(BIN)/python -m pytest -q

# The README's screenshots (docs/images/), taken by the browser tests from the running app.
screenshots: install web
	STEPWISE_SCREENSHOTS=docs/images $(BIN)/python -m pytest -q tests/e2e

# Stepwise against hand-written Temporal and DBOS (docs/engine.md#against-peers); DBOS goes
# into bench/.peers-venv, on the machine's PostgreSQL. ARGS='--quick' for a smoke run.
bench-peers: install
	$(BIN)/python -m bench.peers $(ARGS)

bench-tuning: install
	$(BIN)/python -m bench.tuning $(ARGS)

webtest: $(WEB_DEPS)
	cd web && npx tsc --noEmit && npx vitest run

test: lint typecheck contracts unit webtest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis web/node_modules web/dist
