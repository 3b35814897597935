# git-mlv developer entry points. Every target bootstraps its own virtualenv in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DVC_VENV ?= .venv-dvc
MAN_DIR := git_mlv/man/man1
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test test-fast bench lint venv venv-dvc node man man-links clean

venv: $(VENV)/.installed man-links

# Servers the tests start that come from npm (Azurite), pinned by tools/node/package-lock.json
NODE_STAMP := tools/node/node_modules/.installed
node: $(NODE_STAMP)

$(NODE_STAMP): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# editable_mode=compat: a plain path in a .pth file, as an installed package is found. The default
# (an import hook in site-packages) loaded pathlib, urllib and ipaddress at every interpreter start:
# `python -c pass` 59 ms CPU against 22 ms here (bench/RESULTS.md, read4), paid by the filter and
# by every hook of every git command.
$(VENV)/.installed: pyproject.toml Makefile git_mlv/core/_shuffle.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	touch $@

## venv-dvc: DVC in a virtualenv of its own (the from-dvc tests drive the real dvc; its many
## dependencies never meet ours)
venv-dvc: $(DVC_VENV)/.installed

$(DVC_VENV)/.installed:
	test -x $(DVC_VENV)/bin/python || $(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/python -m pip install -q --upgrade pip
	$(DVC_VENV)/bin/python -m pip install -q 'dvc>=3,<4'
	touch $@

## man: regenerate the man pages from the argparse definitions (commit them; a test checks they are current)
man: $(VENV)/.installed
	$(PY) -m git_mlv.cli.manpage $(MAN_DIR)
	$(MAKE) --no-print-directory man-links

# An editable install skips data files: link the pages where man looks for them (PATH's ../share/man)
man-links:
	mkdir -p $(VENV)/share/man/man1
	rm -f $(VENV)/share/man/man1/git-mlv*.1
	ln -s $(abspath $(MAN_DIR))/*.1 $(VENV)/share/man/man1/

## demo: the cats-vs-dogs walkthrough end to end (DEMO_DIR=... keeps the result)
demo: venv
	$(PY) demo/walkthrough.py

# one pytest worker per core (pytest-xdist): most tests wait on git and servers, so two workers on
# two cores took the suite from 13:07 to 8:14 (522 tests, 2026-12-01); each worker starts its own
# servers on free ports and has its own temp folders
TEST_WORKERS ?= auto

## test: the whole suite, servers included
test: venv venv-dvc node
	$(PY) -m pytest -q -n $(TEST_WORKERS)

## test-fast: skip tests marked slow
test-fast: venv venv-dvc node
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not slow"

## bench: git-mlv vs git, git-lfs and DVC on ../shared/bench's workload (BENCH_SCALE=0.25)
bench: venv
	$(PY) bench/run.py --scale $${BENCH_SCALE:-0.25}

lint: venv
	$(PY) -m ruff check git_mlv tests bench demo
	$(PY) -m mypy

clean:
	rm -rf $(VENV) $(DVC_VENV) build *.egg-info tools/node/node_modules
