# ICP Lens. `make run` serves the dashboard on demo data; `make test` checks the layers
# (docs/architecture.md) and runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
RSTAMP := $(VENV)/.installed
# Where bytecode writing is switched off (PYTHONDONTWRITEBYTECODE), every process
# (pytest, each gunicorn worker, each `icp` command a test runs) compiles Dash, Plotly
# and the app from source again: ~2 s a process. The first process writes it instead.
PY_ENV := env -u PYTHONDONTWRITEBYTECODE

.PHONY: install install-dev run test bench lint lock loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv==0.13.9

$(RSTAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

$(STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@ $(RSTAMP)

install: $(RSTAMP)

install-dev: $(STAMP)

run: install
	$(PY_ENV) $(BIN)/icp db upgrade
	$(PY_ENV) $(BIN)/icp demo --if-empty
	$(PY_ENV) $(BIN)/icp serve

test: install-dev
	$(BIN)/lint-imports --no-logo
	./scripts/ensure-chromium.sh
	./scripts/ensure-services.sh
	./scripts/ensure-poppler.sh
	$(PY_ENV) $(BIN)/pytest

bench: install-dev
	$(BIN)/python -m bench

loadtest: install-dev
	$(BIN)/python -m loadtest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/hadolint Dockerfile

lock: | $(BIN)/python
	$(BIN)/uv pip compile -q pyproject.toml -o requirements.lock --python-version 3.11
	$(BIN)/uv pip compile -q pyproject.toml --extra dev -o requirements-dev.lock --python-version 3.11

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
