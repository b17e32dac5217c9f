# The two commands of the README: `make run` (main job on the embedded synthetic data) and `make test`.
# Both create .venv when missing and are safe to repeat.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
RAW ?= data/raw
PROCESSED ?= data/processed
SYNTH_PER_CLASS ?= 250

.PHONY: setup run data test sync readme nbtest pytest clean-data

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

setup: $(STAMP)

# ---- main job -------------------------------------------------------------------
data: setup
	@if [ -z "$$(find $(RAW) -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.bmp' -o -iname '*.tif*' \) -print -quit)" ]; then \
		echo "$(RAW) holds no images: generating the synthetic default dataset"; \
		$(BIN)/eye-synth $(RAW) --per-class $(SYNTH_PER_CLASS); fi
	$(BIN)/eye-prepare $(RAW) --out $(PROCESSED)

run: data

# ---- tests ----------------------------------------------------------------------
readme: setup
	$(PY) .ci/readme.py

# Notebooks are the source: exporting, cleaning and rendering the README must change nothing.
sync: setup
	@state() { git status --porcelain; find nbs eye_classifier README.md -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) -not -path '*/.ipynb_checkpoints/*' | sort | xargs sha256sum; }; \
	before="$$(state)"; \
	$(BIN)/nbdev-export; $(BIN)/nbdev-clean; $(PY) .ci/readme.py; \
	after="$$(state)"; \
	if [ "$$before" != "$$after" ]; then echo "notebooks and package out of sync or unclean: run nbdev-export, nbdev-clean and make readme, then commit"; diff <(echo "$$before") <(echo "$$after") || true; exit 1; fi; \
	echo "notebooks, package and README are in sync"

nbtest: setup
	$(BIN)/nbdev-test --flags slow

pytest: setup
	@if ls tests/test_*.py >/dev/null 2>&1; then $(BIN)/pytest -q tests; else echo "tests/ is empty: no pytest tests yet"; fi

test: sync nbtest pytest
