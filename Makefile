# The two commands: `make run` starts the hotline, `make test` passes the tests.
# Both create .venv when it is missing and install the project with its dev extras.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit bench validate clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/ivr validate callflows.yaml
	$(BIN)/ivr db upgrade
	$(BIN)/ivr seed --demo
	$(BIN)/ivr call

test: lint typecheck $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check ivr tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

validate: $(STAMP)
	$(BIN)/ivr validate callflows.yaml

bench: $(STAMP)
	$(BIN)/python bench/engine_steps.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
