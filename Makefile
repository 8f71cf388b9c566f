# Two entry points for a fresh machine that has only Python 3.11+:
#   make demo   installs txflags and runs it end to end on generated data
#   make test   installs txflags with its test extras and runs lint + the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := demo-out

.PHONY: install demo test lint bench clean

$(BIN)/txflags: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(BIN)/txflags

install: $(BIN)/txflags

demo: install
	bash scripts/demo.sh $(BIN) $(DEMO)

lint: install
	$(BIN)/ruff check src cli synthetic tests bench

# one worker per core, each test file on one worker (its module fixtures built once)
test: install lint
	$(BIN)/python -m pytest -p no:cacheprovider -n auto --dist loadfile

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
