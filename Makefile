# hemedx — teaching aid, not for clinical use.
# `make demo` and `make test` set up .venv on first use (Python >= 3.11, a C compiler for durable-rules).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# durable-rules 2.0.28 ships only C sources; on Python 3.13 its import needs this define
# (upstream PR #403, merged but unreleased). setup.py overwrites CFLAGS, so it goes in CPPFLAGS.
export CPPFLAGS := -DPyEval_CallObject=PyObject_CallObject $(CPPFLAGS)

.PHONY: demo test lint docs bench bench-serve clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hemedx needs Python >= 3.11 (found %s); run: make PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-cache-dir -e '.[test,serve]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hemedx demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site, offline and strict (a warning or broken link fails). The docs extra is installed
# into .venv on first use; the rule catalogue and the command reference are generated during the build.
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --no-cache-dir -e '.[docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --site-dir site

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --json benchmarks/figures-latest.json

bench-serve: $(STAMP)
	$(BIN)/python benchmarks/serve_load.py --json benchmarks/serve-load-latest.json

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .ruff_cache
