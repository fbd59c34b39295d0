# Two commands on a fresh machine with nothing but Python:
#   make demo   -> creates .venv, installs CPU torch + bayescalc, runs `bayescalc tour`
#   make test   -> the same set-up, then the default test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0
OUT    ?= out/tour

.PHONY: demo test test-all bench lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The pinned CPU build first: an unpinned torch pulls several GB of CUDA packages.
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[dev,bench,dask]'
	touch $@

demo: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(VENV)/bin/bayescalc tour --out $(OUT)

test: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

test-all: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m ''

bench: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m bench all

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bayescalc tests bench examples

clean:
	rm -rf $(VENV) out .pytest_cache
