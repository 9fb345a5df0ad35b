# One command each: `make serve` (install + run on SQLite), `make test` (both databases).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions (with hashes) of every runtime and dev dependency, for Python 3.11 on
# Linux: `make install` installs these, `make lock` regenerates the file from pyproject.toml.
LOCK := requirements/dev.lock
# `make lock` resolves from the index pip installs from: PIP_INDEX_URL, else pip's
# configured global.index-url, else PyPI.
INDEX_URL ?= $(or $(PIP_INDEX_URL),$(shell $(PYTHON) -m pip config get global.index-url 2>/dev/null),https://pypi.org/simple)
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release pyproject allows;
# without it, pins already in the lock are kept where pyproject still allows them.
LOCK_FLAGS ?=

.PHONY: install lock serve test test-stock lint schema demo browser

# The dependencies from the lock, then expgraph itself without resolving anything;
# `pip check` fails when pyproject.toml asks for something the lock lacks (run `make lock`).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu --generate-hashes \
		--index-url $(INDEX_URL) --custom-compile-command 'make lock' \
		$(LOCK_FLAGS) --quiet -o $(LOCK)

serve: $(STAMP)
	$(BIN)/expgraph serve

# Debian's Chromium, which tests/test_graphiql_browser.py drives (GraphiQL in a real
# browser): installed with apt-get when it is missing and we are root (CI); otherwise
# this says how, and that test fails saying so.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y --no-install-recommends chromium \
		|| { apt-get update && apt-get install -y --no-install-recommends chromium; }; \
	else \
		echo "$(CHROMIUM) is missing: the GraphiQL browser test needs Debian's chromium." \
			"Install it as root: apt-get install -y chromium"; \
	fi

# The suite runs on TEST_PROCESSES processes (pytest-xdist), each with its own databases;
# `make test TEST_PROCESSES=0` runs it in this process alone.
TEST_PROCESSES ?= 3

test: $(STAMP) browser
	$(BIN)/pytest -n $(TEST_PROCESSES)

# The whole suite once more on the stock path (strawberry's own execution, SQLAlchemy's
# ORM: EXPGRAPH_FAST_PATH=0), on SQLite only; tests of the fast path's own workings
# are deselected there.
test-stock: $(STAMP) browser
	EXPGRAPH_FAST_PATH=0 EXPGRAPH_TEST_DATABASES=sqlite $(BIN)/pytest -n $(TEST_PROCESSES)

lint: $(STAMP)
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

schema: $(STAMP)
	$(BIN)/expgraph export-schema schema.graphql

demo: $(STAMP)
	$(BIN)/expgraph demo
