# `make run` starts Waybill; `make test` runs the whole test suite, `make test-fast` its unit tier,
# `make lint` the static checks. All set themselves up.
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed-stamp
# pytest-xdist workers for `make test` (auto: one per core; 0 runs in this process alone).
TEST_WORKERS ?= auto

.PHONY: run test test-fast test-machine lint clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run DEMO=1` also runs the demo traffic generator (WAYBILL_DEMO=1 in the environment
# works too: an unset DEMO leaves it alone).
run: $(STAMP)
	$(if $(DEMO),WAYBILL_DEMO=$(DEMO) )$(VENV)/bin/waybill dev

# The machine's part first (PostgreSQL, Chromium: tests/setup_machine.sh), so a machine that
# lacks them stops at once, before the venv is built.
test: test-machine $(STAMP)
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS)

test-machine:
	@tests/setup_machine.sh

# The unit tier: tests that use no stack fixture (tests/conftest.py marks them `unit`); no
# database server, Temporal server, browser or child process, so no test-machine either.
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m unit

# ruff, then the import rules between layers (import-linter contracts in pyproject.toml), then
# strict types on workflows/, api/ and db/ (mypy; its cache in .mypy_cache keeps reruns quick).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .import_linter_cache
