# cnnlab: `make demo` trains, evaluates and classifies Fashion-MNIST; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make demo` installs what cnnlab needs to run; `make test` / `make lint` add the
# test and benchmark tools of the `dev` extra (pytest, timm, fvcore, ptflops, thop, ...).
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP := $(VENV)/.dev-stamp

.PHONY: demo test lint venv dev data netns-tools browser bench clean

venv: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

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
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
