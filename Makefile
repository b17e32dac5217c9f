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
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup lock run pipeline test sync readme nbtest notebooks papermill browser pytest

LOCK := requirements.lock

# Exactly the versions requirements.lock pins, each checked against its SHA-256, then the project itself (editable,
# no dependencies). The lock is for CPython 3.11 on Linux x86-64; elsewhere use `pip install -e ".[dev]"`.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

setup: $(STAMP)

# Regenerate the locks from pyproject.toml (after changing a dependency; `make lock UPGRADE=1` also takes upgrades):
# requirements.lock (the package and its dev tools: make setup, CI, the GPU workflow) and requirements-runtime.lock
# (the package alone: the Docker images; tests/test_install.py checks that both agree). lock-constraints.txt holds
# torch at the release the CI machines carry.
lock: setup
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -c lock-constraints.txt $(if $(UPGRADE),--upgrade) -o $(LOCK) pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
		--no-emit-find-links -c lock-constraints.txt $(if $(UPGRADE),--upgrade) -o requirements-runtime.lock pyproject.toml

# ---- main job -------------------------------------------------------------------
# Synthetic data when data/raw holds no images -> prepare -> train -> evaluate -> register -> promote -> export,
# then serve the production model.
pipeline: setup
	$(BIN)/eye-pipeline --raw $(RAW) --processed $(PROCESSED) --per-class $(SYNTH_PER_CLASS)

run: pipeline
	$(BIN)/eye-serve --host $(HOST) --port $(PORT)

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

# All notebook tests, including the cells flagged `slow` (torchrun, throughput): CI runs them deliberately.
# Two notebooks run at once, one thread each: two processes with two threads each on two cores run far slower.
nbtest: setup
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --flags slow --timing

# Re-execute every notebook (slow cells included) and write the outputs back, so that a reader on GitHub or the docs
# site sees each result under the code that made it; tests/test_notebooks.py fails when a notebook is committed unrun.
notebooks: setup
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --flags slow --timing --save
	$(BIN)/nbdev-clean

# The parameterised training notebook, as CI and the GPU workflow run it; the executed copy is a report.
papermill: setup
	@mkdir -p reports
	$(BIN)/papermill nbs/pipelines/train.ipynb reports/train.ipynb -k python3 -p epochs 2 -p per_class 24 --log-output

# Debian's Chromium for the browser test (no browser can be downloaded); skipped quietly where apt cannot install.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "could not install chromium: the browser test will skip (or fail under CI=true)"; }

pytest: setup browser
	@if ls tests/test_*.py >/dev/null 2>&1; then $(BIN)/pytest -q -rs --durations=12 tests; else echo "tests/ is empty: no pytest tests yet"; fi

# ---- delivery -------------------------------------------------------------------------------------------------------
# What GitHub would reject, checked here first and offline: workflows and Dependabot against their vendored schemas,
# workflow expressions and contexts (actionlint; settings in .github/actionlint.yaml), workflow security (zizmor),
# Dockerfiles (hadolint), the pre-commit config, ruff (errors only: the hand-written Python in the house style, the
# generated package for pyflakes findings) and the docs site (strict); tests/test_delivery.py runs with the other
# pytest tests.
WORKFLOWS = $(wildcard .github/workflows/*.yaml)
DOCKERFILES = $(wildcard dockerfiles/*.Dockerfile)
HANDWRITTEN_PY = app.py tests .ci docs
.PHONY: delivery
delivery: setup
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yaml
	$(BIN)/actionlint $(WORKFLOWS)
	$(BIN)/zizmor --offline --persona pedantic --quiet .github
	$(BIN)/hadolint --no-color $(DOCKERFILES)
	$(BIN)/pre-commit validate-config .pre-commit-config.yaml
	$(BIN)/ruff check --select E9,F $(HANDWRITTEN_PY)
	$(BIN)/ruff check --select F eye_classifier
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Cheap checks first, so a typo fails in seconds rather than after the notebooks.
test: sync delivery nbtest papermill pytest
