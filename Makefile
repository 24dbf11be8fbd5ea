# Two commands: `make run` serves Sightline with demo data, `make test` runs every test.
# Both set everything up first (virtualenv, Python and npm packages, JS bundles,
# embedded PostgreSQL, migrations) and are fast when nothing changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
JS_SOURCES := $(shell find tracking/js static/js replay/js interventions/js demo/js -name "*.js" 2>/dev/null)

.PHONY: run test setup lint format bench browser clean

# Locally an acknowledged event is stored before the answer (INGEST_DRAIN_INLINE), so what
# you send shows at once; the ingest worker that serve starts drains anything else.
run: setup
	DEBUG=$${DEBUG:-1} INGEST_DRAIN_INLINE=$${INGEST_DRAIN_INLINE:-1} $(BIN)/python manage.py serve --port $(PORT)

# Two test processes: each has its own test database and ClickHouse (chDB) directory.
PYTEST_ARGS ?= -n 2

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed static/dist/.built

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/dist/.built: node_modules/.installed esbuild.config.mjs $(JS_SOURCES)
	npm run --silent build
	touch $@

# End-to-end tests drive Debian's Chromium; install it when missing and we can.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ -z "$$SKIP_E2E" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)) ; \
	  else echo "Chromium is missing at /usr/bin/chromium: end-to-end tests will fail (set SKIP_E2E=1 to skip them)."; fi; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules static/dist
