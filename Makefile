# The README's commands. Each one sets up .venv first (only when pyproject.toml changed).
# Threads are pinned: multi-threaded BLAS on these 2-core machines is 100-1000x slower.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export NUMBA_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS_STAMP := $(VENV)/.installed-extras
TORCH := torch==2.13.0
# the sae-lens release the conversions are verified against (the extra allows any 6.x)
SAE_LENS := sae-lens==6.54.12

.PHONY: setup setup-extras test test-slow lint docs reproduce bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU build of torch first, so nothing pulls a multi-GB CUDA build (see README)
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,bench,sweep]"
	touch $(STAMP)

setup: $(STAMP)

# the sae-lens extra (sae-lens with transformers and transformer-lens): the gallery's SAE example
# exports to it, and with it tests/test_sae_lens.py runs instead of skipping. CI (.ci/run) installs
# it; make setup/test leave it out. The pinned torch on the same line keeps the CPU build: pip
# fails rather than replace it.
$(EXTRAS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[sae-lens]" "$(TORCH)" "$(SAE_LENS)"
	touch $(EXTRAS_STAMP)

setup-extras: $(EXTRAS_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check tensorrec tests experiments theory_checks benchmarks calibration examples
	$(BIN)/lint-imports

# everything but the tests marked slow (tests/conftest.py: SLOW), on every core
test: lint
	$(BIN)/pytest -n auto -m "not slow"

# the slow tests (worker processes killed and resumed, the quick run of every script); CI runs both
test-slow: $(STAMP)
	$(BIN)/pytest -n auto -m slow

# the gallery executes examples/plot_07_sae.py, which exports to sae-lens: the extra first
docs: $(EXTRAS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

reproduce: $(STAMP)
	$(BIN)/tensorrec reproduce --quick --out results

bench: $(STAMP)
	$(BIN)/python benchmarks/b6_manifold_core.py

clean:
	rm -rf $(VENV) docs/_build results .pytest_cache .hypothesis
