# Entry points of the project (see README.md). Every target creates .venv and installs what it
# needs on first use, so a fresh clone works with one command.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: install install-dev models evaluate test lint

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

models: install  ## fetch MNIST, retrain the whole zoo, rewrite models/ and models/manifest.json
	$(PY) -m digits.train --out models

evaluate: install  ## re-measure the committed models
	$(PY) -m digits.evaluate --models-dir models

lint: install-dev
	$(VENV)/bin/ruff check .

test: install-dev  ## the whole suite (browser tests included)
	$(PY) -m pytest
