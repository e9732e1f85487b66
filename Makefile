# Everything runs from the project's own .venv, created and installed on first use; the install is redone
# only when pyproject.toml changes (stamp file inside .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint validate clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The local stack: eTIMS sandbox, dagster-webserver (http://127.0.0.1:3000), dagster-daemon. Ctrl-C stops it.
# Options of `etims-pipeline dev` go in DEV_ARGS, e.g. make run DEV_ARGS="--port 3310 --no-demo".
DEV_ARGS ?=
run: $(STAMP)
	$(BIN)/etims-pipeline dev $(DEV_ARGS)

# The whole suite, PostgreSQL tests included (server on 127.0.0.1:5432).
test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy etims_pipeline tests benchmarks

# Loads the code location the way the webserver does, against a throwaway SQLite instance.
validate: $(STAMP)
	@home=$$(mktemp -d) && cp deploy/local/dagster.yaml "$$home/" && \
	  DAGSTER_HOME="$$home" $(BIN)/dagster definitions validate -m etims_pipeline.definitions; \
	  status=$$?; rm -rf "$$home"; exit $$status

# Removes local state (var/: databases, Dagster home, demo data) and tool caches; keeps .venv.
clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
