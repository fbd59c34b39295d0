# Two commands on a fresh machine with nothing but Python:
#   make demo   -> creates .venv, installs CPU torch + bayescalc, runs `bayescalc tour`
#                  (figures and index.html in ./bayescalc-tour/)
#   make test   -> the same set-up, then the default test suite and the docs build
#                  (warnings as errors); what .ci/run calls
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0
OUT    ?= bayescalc-tour

.PHONY: demo test test-all bench lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The pinned CPU build first: an unpinned torch pulls several GB of CUDA packages.
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[dev,bench,dask,docs,flows,arviz,data]'
	touch $@

demo: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(VENV)/bin/bayescalc tour --out $(OUT)

test: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -q
	# the docs site, warnings as errors (marked slow: 1-2 minutes with the gallery)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m slow tests/test_docs_site.py

test-all: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m ''

bench: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m bench all

docs: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m sphinx -W -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bayescalc tests bench examples

clean:
	rm -rf $(VENV) out .pytest_cache bayescalc-tour bayescalc-demos docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
