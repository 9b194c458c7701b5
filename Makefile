# Two commands a newcomer needs: `make demo` (set up, then run the main job) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint benchmark clean

setup: $(STAMP)

# torch is pinned on the same pip line so pip takes the local CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/autocurriculum demo --out runs/demo

test: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/pytest

# The issue's measurement: demo comparison at 3 seeds (about 15 min on 2 cores).
benchmark: setup
	$(BIN)/autocurriculum compare --strategies uniform,dynamic-sampling,band,thompson,oracle --seeds 3 --out runs/benchmark

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
