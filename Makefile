# cnnlab: `make demo` trains, evaluates and classifies Fashion-MNIST; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Three stamps: `make demo` installs what cnnlab needs to run; `make test` / `make lint` add the
# test and benchmark tools of the `dev` extra (pytest, timm, fvcore, ptflops, thop, ...);
# `make docs` adds the site builder of the `docs` extra (mkdocs-material, mkdocstrings, ...).
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp
DOCS_STAMP := $(VENV)/.docs-stamp

.PHONY: demo test lint venv dev data netns-tools browser bench docs clean

venv: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

$(DOCS_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

# The Debian package ships Fashion-MNIST offline; other systems fall back to a download.
data:
	@if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null)) \
	  || echo "note: apt-get could not install dataset-fashion-mnist; cnnlab will try a download"; \
	fi

# tests/training/test_two_nodes.py joins two network namespaces with iproute2's `ip` (as root).
netns-tools:
	@if ! command -v ip >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q iproute2 >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q iproute2 >/dev/null)) \
	  || echo "note: apt-get could not install iproute2; the two-node test will fail saying so"; \
	fi

# The studio's browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	  || echo "note: apt-get could not install chromium; the studio's browser tests will fail"; \
	elif [ ! -x /usr/bin/chromium ]; then \
	  echo "note: install Chromium (apt-get install chromium) for the studio's browser tests"; \
	fi

# A second `make demo` keeps the finished run (cnnlab never overwrites one silently) and
# evaluates it again; delete runs/demo, or pass --overwrite to cnnlab train, to train anew.
demo: venv data
	@if [ -f runs/demo/checkpoint.safetensors ]; then \
	  echo "runs/demo holds a finished run: keeping it (rm -r runs/demo to train again)"; \
	else $(VENV)/bin/cnnlab train --out runs/demo; fi
	$(VENV)/bin/cnnlab evaluate runs/demo
	$(VENV)/bin/cnnlab samples runs/demo/samples --count 4
	$(VENV)/bin/cnnlab predict runs/demo runs/demo/samples/*.png
	@echo "Run folder: $(CURDIR)/runs/demo"

dev: $(DEV_STAMP)

test: dev data netns-tools browser
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: dev
	$(VENV)/bin/ruff check src tests benchmarks docs

# The site, offline, into site/: the guide, the course notebooks executed at their default size,
# the API reference and BENCHMARKS.md. --strict fails on any warning (a broken link or anchor,
# a docstring the API reference cannot parse, an error in a notebook). NO_MKDOCS_2_WARNING
# silences the banner Material prints on every build about its end of life (May 2027); what
# that means for this site is in docs/building-the-docs.md.
docs: $(DOCS_STAMP) data
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
	@echo "Site: $(CURDIR)/site/index.html"

clean:
	rm -rf $(VENV) runs build site *.egg-info src/*.egg-info
