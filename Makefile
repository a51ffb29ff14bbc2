# Rapport: every target installs what it needs, from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY_VERSION := $(shell cat .python-version)
PYENV_PYTHON := $(shell pyenv root 2>/dev/null)/versions/$(PY_VERSION)/bin/python
BASE_PYTHON := $(if $(wildcard $(PYENV_PYTHON)),$(PYENV_PYTHON),$(shell command -v python3.10))
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/rapport.tar.gz
SOCKETIO_CLIENT := 4.8.1
TRAINING_FILES := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) shop/vocabulary.yml

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install nlu train db vendor browser run test test-unit test-nlu fuzz lint typecheck validate bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml .python-version
	@test -n "$(BASE_PYTHON)" || { echo "Python $(PY_VERSION) not found (pyenv or python3.10 needed)"; exit 1; }
	test -x $(BIN)/python || $(BASE_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip check
	touch $@

install: $(BIN)/.installed ## venv with every package (one resolver run, Rasa's pins respected)

nlu: install ## build the offline spaCy pipeline from shop/vocabulary.yml
	$(BIN)/rapport nlu build

$(MODEL): $(BIN)/.installed $(TRAINING_FILES)
	$(BIN)/rapport nlu build
	$(BIN)/rasa train --fixed-model-name rapport --out models
	touch $@

train: $(MODEL) ## train the Rasa model when its data changed

db: install ## migrate the profile store (SQLite under var/ unless RAPPORT_DATABASE_URL)
	$(BIN)/rapport db upgrade

demo: db ## import the demo shop orders (data/demo/orders.jsonl; again changes nothing)
	$(BIN)/rapport orders import data/demo/orders.jsonl

var/vendor/socket.io.min.js:
	mkdir -p var/vendor/npm
	cd var/vendor/npm && npm pack --silent socket.io-client@$(SOCKETIO_CLIENT) >/dev/null && \
		tar -xzf socket.io-client-$(SOCKETIO_CLIENT).tgz package/dist/socket.io.min.js
	cp var/vendor/npm/package/dist/socket.io.min.js $@

vendor: var/vendor/socket.io.min.js ## web chat assets from the npm registry (no CDN at run time)

browser: ## Debian chromium for the browser tests
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@/usr/bin/chromium --version

run: train db vendor demo ## Rasa :5005, actions :5055, web chat :8000, retention, under honcho
	@$(BIN)/rapport nlu build >/dev/null
	RAPPORT_RASA_JWT_SECRET="$$($(BIN)/rapport rasa jwt-secret)" $(BIN)/honcho start -f Procfile

test: train vendor browser lint typecheck ## lint, types and every test, from a fresh clone
	$(BIN)/pytest

test-unit: install ## unit tests only (no Rasa server, no model)
	$(BIN)/pytest tests/unit

test-nlu: train ## held-out NLU evaluation (writes docs/nlu-report.md)
	$(BIN)/pytest tests/nlu

fuzz: train vendor ## property-based fuzzing of every endpoint, 2000 examples each (long)
	RAPPORT_FUZZ_EXAMPLES=2000 $(BIN)/pytest tests/fuzz -q

validate: install ## rasa data validate
	$(BIN)/rasa data validate --fail-on-warnings

lint: install ## ruff lint + format check
	$(BIN)/ruff check bot actions tests bench
	$(BIN)/ruff format --check bot actions tests bench

typecheck: install ## mypy strict on bot/ and actions/
	$(BIN)/mypy

bench: train vendor ## per-turn latency and throughput vs Rasa's starter bot
	$(BIN)/python -m bench.run

clean: ## remove build outputs (keeps the venv)
	rm -rf models var results .pytest_cache .mypy_cache .ruff_cache
