# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install dopafit, run the main job on data_samples/
#   make test   create .venv, install dopafit with test extras, run the test suite
#   make docs   create .venv, install the docs extras, build the site into docs/_build/html
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# extra sphinx-build arguments, e.g. SPHINX_ARGS="-j 2"
SPHINX_ARGS ?=
SPHINX := $(BIN)/python -m sphinx -W --keep-going -n -E -b html

.PHONY: demo test test-slow lint format bench samples docs docs-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[docs]"
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

# The site, warnings as errors, every notebook and executed page run (docs/reference/index.md)
docs: $(VENV)/.installed-docs
	rm -rf docs/reference/generated
	$(SPHINX) -d docs/_build/doctrees docs docs/_build/html $(SPHINX_ARGS)
	@echo "site: docs/_build/html/index.html"

# The same build without executing notebooks and executed pages (links, references, markup);
# DOPAFIT_DOCS_EXECUTE=quick make docs executes them with the notebooks' small settings
docs-check: $(VENV)/.installed-docs
	rm -rf docs/reference/generated
	DOPAFIT_DOCS_EXECUTE=0 $(SPHINX) -d docs/_build/doctrees-check docs docs/_build/html-check $(SPHINX_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
	rm -rf docs/_build docs/reference/generated docs/tutorials/*.ipynb
