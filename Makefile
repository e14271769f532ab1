# eda-demo — `make sandbox` runs the whole system offline; `make test` runs every check.
# Both create .venv and install the pinned requirements themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STACK ?= dev
API_PORT ?= 3000
AWS_PORT ?= 4566
PYTEST_ARGS ?=

.PHONY: sandbox test lint typecheck unit bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

sandbox: $(STAMP)
	$(BIN)/python -m sandbox --stack $(STACK) --api-port $(API_PORT) --aws-port $(AWS_PORT)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check components handlers sandbox tests bench __main__.py
	$(BIN)/ruff format --check components handlers sandbox __main__.py

# pyrefly checks what [tool.pyrefly] in pyproject.toml includes against the installed packages' types.
typecheck: $(STAMP)
	$(BIN)/pyrefly check

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.sandbox_throughput

clean:
	rm -rf $(VENV) .sandbox .pytest_cache .ruff_cache .hypothesis
