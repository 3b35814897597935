# git-mlv developer entry points. Every target bootstraps its own virtualenv in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test test-fast bench lint venv node clean

venv: $(VENV)/.installed

# Servers the tests start that come from npm (Azurite), pinned by tools/node/package-lock.json
NODE_STAMP := tools/node/node_modules/.installed
node: $(NODE_STAMP)

$(NODE_STAMP): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

## demo: the cats-vs-dogs walkthrough end to end (DEMO_DIR=... keeps the result)
demo: venv
	$(PY) demo/walkthrough.py

## test: the whole suite, servers included
test: venv node
	$(PY) -m pytest -q

## test-fast: skip tests marked slow
test-fast: venv node
	$(PY) -m pytest -q -m "not slow"

## bench: git-mlv vs git, git-lfs and DVC on ../shared/bench's workload (BENCH_SCALE=0.25)
bench: venv
	$(PY) bench/run.py --scale $${BENCH_SCALE:-0.25}

lint: venv
	$(PY) -m ruff check git_mlv tests bench demo
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build *.egg-info tools/node/node_modules
