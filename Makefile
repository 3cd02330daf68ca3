# `make run` starts Waybill; `make test` runs the whole test suite, `make test-fast` its unit tier
# (`make test-quick` all but the end-to-end tier, `make test-e2e` only that), `make lint` the
# static checks. All set themselves up.
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed-stamp
# pytest-xdist workers for `make test` (auto: one per core; 0 runs in this process alone).
TEST_WORKERS ?= auto

.PHONY: run test test-fast test-quick test-e2e test-machine lint clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run DEMO=1` also runs the demo traffic generator (WAYBILL_DEMO=1 in the environment
# works too: an unset DEMO leaves it alone).
run: $(STAMP)
	$(if $(DEMO),WAYBILL_DEMO=$(DEMO) )$(VENV)/bin/waybill dev

# Tests are handed to the workers one at a time (--maxschedchunk=1), the slow end-to-end ones
# first (tests/conftest.py orders them): no worker is left with the soak while the other idles.
XDIST = -n $(TEST_WORKERS) --maxschedchunk=1

# Everything: unit, stack and end-to-end tiers. The machine's part first (PostgreSQL, Chromium:
# tests/setup_machine.sh), so a machine that lacks them stops at once, before the venv is built.
test: test-machine $(STAMP)
	$(VENV)/bin/python -m pytest -q $(XDIST)

test-machine:
	@tests/setup_machine.sh

# The unit tier: tests that use no stack fixture (tests/conftest.py marks them `unit`); no
# database server, Temporal server, browser or child process, so no test-machine either.
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m unit

# All but the slow end-to-end tier (tests/e2e/: a browser, `waybill dev`, the demo, the soak, the
# bench, a month of traffic).
test-quick: test-machine $(STAMP)
	$(VENV)/bin/python -m pytest -q $(XDIST) -m "not e2e"

# Only the end-to-end tier.
test-e2e: test-machine $(STAMP)
	$(VENV)/bin/python -m pytest -q $(XDIST) -m e2e

# ruff, then the import rules between layers (import-linter contracts in pyproject.toml), then
# strict types on workflows/, api/ and db/ (mypy; its cache in .mypy_cache keeps reruns quick).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .import_linter_cache
