# Entry points of the project (see README.md). Every target creates .venv and installs what it
# needs on first use, so a fresh clone works with one command.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install install-dev run dev admin models evaluate bench test system-deps lint readme

# The project itself is installed editable (`digits`, `scripts`, `testsupport`, `bench`: see
# pyproject.toml), so every folder imports them without PYTHONPATH.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install  ## both services under gunicorn behind nginx, DEBUG off: ml_server :8001, user_server :8000 (HOST, *_PORT)
	bash scripts/system_deps.sh nginx libnginx-mod-http-lua
	$(PY) -m scripts.run

dev: install  ## both services with Django's runserver, DEBUG on, auto-reload
	$(PY) -m scripts.run --dev

admin: install  ## create the first admin login of the ml_server's /admin/ (asks for a name and a password)
	$(PY) -m scripts.create_admin $(ARGS)

models: install  ## fetch MNIST, retrain the whole zoo, rewrite models/ and models/manifest.json
	$(PY) -m digits.train --out models
	$(PY) -m digits.novelty --models-dir models
	$(PY) -m digits.export --models-dir models  # after novelty: the cnn's not-a-digit output is part of the .h5 it exports
	$(PY) -m digits.train_touching --models-dir models

evaluate: install  ## re-measure the committed models
	$(PY) -m digits.evaluate --models-dir models

bench: install-dev  ## the serving benchmark and its table
	bash scripts/system_deps.sh wrk nginx libnginx-mod-http-lua  # the load generator; make run's front, measured too
	$(PY) -m bench

system-deps:  ## Debian packages make run and the tests use (nginx and its Lua module, chromium, postgresql, redis-server, wrk, curl), installed when missing
	bash scripts/system_deps.sh

test: install-dev system-deps  ## the whole suite (browser tests included), one pytest process per suite
	bash scripts/test.sh

lint: install-dev  ## the checks make test starts with: ruff, ruff format, mypy
	bash scripts/test.sh lint

readme: install  ## rewrite README.md's model table from models/manifest.json
	$(PY) -m scripts.model_table --write
