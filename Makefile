# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install dopafit, run the main job on data_samples/
#   make test   create .venv, install dopafit with test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-slow lint format bench samples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m dopafit.demo data_samples

test: $(VENV)/.installed-test
	$(BIN)/ruff check dopafit tests benchmarks
	$(BIN)/ruff format --check dopafit tests benchmarks
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 -m slow $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check dopafit tests benchmarks
	$(BIN)/ruff format --check dopafit tests benchmarks

format: $(VENV)/.installed-test
	$(BIN)/ruff format dopafit tests benchmarks
	$(BIN)/ruff check --fix dopafit tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks

# Regenerate data_samples/ bit-identically (see data_samples/README.md)
samples: $(VENV)/.installed
	$(BIN)/dopafit simulate --preset samples -o data_samples

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
