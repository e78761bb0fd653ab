# The two commands: `make run` starts the hotline, `make test` passes the tests.
# Both create .venv when it is missing and install the project with its dev extras.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run call test test-dates test-deps lint typecheck unit bench validate clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/ivr validate callflows.yaml
	$(BIN)/ivr db upgrade
	$(BIN)/ivr seed --demo
	$(BIN)/ivr serve

# The terminal phone: call the hotline from this terminal.
call: $(STAMP)
	$(BIN)/ivr db upgrade
	$(BIN)/ivr seed --demo
	$(BIN)/ivr call

# As root: Debian's sip-tester, espeak-ng, sox and chromium, and Asterisk 22 unpacked into a
# cache folder; Playwright's Python package in the venv (it drives Debian's chromium);
# elsewhere it says what is missing (the end-to-end tests then skip, except in CI).
test-deps: $(STAMP)
	scripts/install-test-deps $(BIN)/python

# -n: pytest-xdist workers; whole groups each (tests/worker_groups.py): the end-to-end
# groups (three sandboxes' calls, the browsers) start first, while the others run the rest.
# Most of the time is spent waiting (subprocesses, databases, real calls: the end-to-end
# groups use about a tenth of a core each), so more workers than cores pay: four keep the
# CPU busy while three of them wait on calls.
TEST_JOBS ?= 4
test: lint typecheck test-deps
	$(BIN)/pytest -n $(TEST_JOBS)
	$(MAKE) --no-print-directory test-dates

# The time-sensitive tiers again with every clock the tests make started years ahead
# (IVR_TEST_START, docs/testing.md): a test or a module that leans on today's date fails
# here. On SQLite alone (IVR_TEST_BACKENDS): the dates are the product's; PostgreSQL's time
# handling is covered by the first run. Not tests/e2e: minutes of real calls, and its clock
# is the sandbox's (one reading for all per-call AGI scripts). Not the modules that read no
# clock (``date_free``, tests/conftest.py): the YAML bounds, the import rules, the kit files.
TEST_YEARS_AHEAD ?= 4
test-dates: $(STAMP)
	@start=$$(date -u -d '+$(TEST_YEARS_AHEAD) years' +%F) && echo "IVR_TEST_START=$$start" && \
	IVR_TEST_START=$$start IVR_TEST_BACKENDS=sqlite $(BIN)/pytest -q -n $(TEST_JOBS) \
	  -m 'not date_free' tests/unit tests/integration

lint: $(STAMP)
	$(BIN)/ruff check ivr tests bench
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

validate: $(STAMP)
	$(BIN)/ivr validate callflows.yaml

bench: $(STAMP)
	$(BIN)/python bench/engine_steps.py
	$(BIN)/python bench/agi_startup.py
	$(BIN)/python bench/queue_claims.py
	$(BIN)/python bench/fastagi_load.py
	$(BIN)/python bench/pin_burst.py
	$(BIN)/python bench/fastagi_peer.py
	$(BIN)/python bench/fastagi_floor.py
	$(BIN)/python bench/funnel.py
	$(BIN)/python bench/validate_speed.py
	$(BIN)/python bench/twilio_load.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
