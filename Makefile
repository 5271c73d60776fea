# THUNES — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest browser bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt constraints.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Run the daemon's main job on the embedded simulator (no keys, no network);
## `make run PAPER=1` trades paper on Binance's public prices when the network is there.
run: $(STAMP)
	$(BIN)/thunes demo $(if $(PAPER),--paper,)

## Lint, type-check and run the whole test suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## Debian's chromium and chromedriver for the dashboard's browser test (root, as on CI).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python scripts/bench.py all

## SIGKILL soak of the daemon in sim mode (KILLS=100 by default): exits 1 on any violation.
KILLS ?= 100
soak: $(STAMP)
	$(BIN)/python scripts/soak.py --kills $(KILLS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
