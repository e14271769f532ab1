# eda-demo — `make sandbox` runs the whole system offline; `make test` runs every check.
# Both create .venv and install the pinned requirements themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs the pinned requirements in seconds where pip takes a minute and a half. It compiles
# their bytecode too, on both cores (~10 s): without it the first `make test` compiles the ~1,800
# modules a run imports, one worker at a time, and takes ~10 s longer than every later one.
PINNED_UV := 0.13.9
UV_STAMP := $(VENV)/.uv-$(PINNED_UV)
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STACK ?= dev
ORDERS ?= 1000000
API_PORT ?= 3000
AWS_PORT ?= 4566
CONSOLE_PORT ?= 3030
# Orders whose traces the console keeps (the newest).
CONSOLE_ORDERS ?= 200
# Two workers: the 2-core machine this project is sized for runs the suite in about half the time.
PYTEST_ARGS ?= -n 2 --dist worksteal

# Python caches the bytecode of what a run imports in .venv and __pycache__/ (both ignored by git):
# without it every run compiles the ~1,800 modules the sandbox and the tests import again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install sandbox test lint typecheck unit bench cost cost-readme verify clean

# The venv is made without pip (ensurepip alone takes seconds); the interpreter's own pip, or a
# venv's pip where the interpreter has none, brings the pinned uv into it.
$(UV_STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check uv==$(PINNED_UV) 2>/dev/null \
		|| { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(PINNED_UV); }
	@rm -f $(VENV)/.uv-*
	@touch $@

$(STAMP): requirements.txt requirements-dev.txt $(UV_STAMP)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# The pinned dependencies in .venv, nothing else (CI's preview and deploy jobs; `pulumi` then finds them there).
install: $(STAMP)

sandbox: $(STAMP)
	$(BIN)/python -m sandbox --stack $(STACK) --api-port $(API_PORT) --aws-port $(AWS_PORT) \
		--console-port $(CONSOLE_PORT) --console-orders $(CONSOLE_ORDERS)

test: lint typecheck unit

# The acceptance suite (acceptance/): `make verify STACK=alice` (a deployed stack, through the Pulumi
# CLI), `make verify OUTPUTS=outputs.json` (its `pulumi stack output --json`), or plain `make verify`
# (the running sandbox). Exit 2 when the target cannot be checked; JUnit XML in .verify/.
VERIFY_TARGET = $(if $(filter command line,$(origin STACK)),--stack $(STACK),$(if $(OUTPUTS),--outputs $(OUTPUTS),--sandbox .sandbox))
verify: $(STAMP)
	$(BIN)/python -m acceptance $(VERIFY_TARGET)

lint: $(STAMP)
	$(BIN)/ruff check components handlers event_schemas sandbox cost policy acceptance tests bench __main__.py
	$(BIN)/ruff format --check components handlers event_schemas sandbox cost policy acceptance __main__.py
	$(BIN)/actionlint .github/workflows/*.yml

# pyrefly checks what [tool.pyrefly] in pyproject.toml includes against the installed packages' types.
typecheck: $(STAMP)
	$(BIN)/pyrefly check

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What ORDERS orders a month cost on STACK's config and with the other workflow type (console, CSV, SVG).
cost: $(STAMP)
	$(BIN)/python -m cost --stack $(STACK) --orders $(ORDERS)

# Regenerate README.md's "What it costs" section (a test fails while it is stale).
cost-readme: $(STAMP)
	$(BIN)/python -m cost --readme

bench: $(STAMP)
	$(BIN)/python -m bench.sandbox_throughput

clean:
	rm -rf $(VENV) .sandbox .verify .pytest_cache .ruff_cache .hypothesis
