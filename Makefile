# `make run` starts Waybill; `make test` runs the whole test suite. Both set themselves up.
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run DEMO=1` also runs the demo traffic generator (WAYBILL_DEMO=1 in the environment
# works too: an unset DEMO leaves it alone).
run: $(STAMP)
	$(if $(DEMO),WAYBILL_DEMO=$(DEMO) )$(VENV)/bin/waybill dev

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .data .pytest_cache
