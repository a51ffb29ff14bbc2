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

.PHONY: help install nlu train db vendor browser run test test-unit test-nlu nlu-report bench-languages fuzz lint typecheck validate bench audit clean

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
	@$(BIN)/rapport secrets print rest-token >/dev/null
	@echo "REST webhook (for the shop's servers): the token is in var/rest.token, e.g."
	@echo "  curl -H \"Authorization: Bearer \$$(cat var/rest.token)\" -d '{\"sender\": \"me\", \"message\": \"hi\"}' http://127.0.0.1:5005/webhooks/rest/webhook"
	umask 077; \
	RAPPORT_RASA_JWT_SECRET="$$($(BIN)/rapport secrets print rasa-jwt)" \
	RAPPORT_ACTION_SECRET="$$($(BIN)/rapport secrets print action)" \
	RAPPORT_REST_TOKEN="$$($(BIN)/rapport secrets print rest-token)" \
	$(BIN)/honcho start -f Procfile

test: train vendor browser lint typecheck ## lint, types and every test, from a fresh clone
	$(BIN)/pytest

test-unit: install ## unit tests only (no Rasa server, no model)
	$(BIN)/pytest tests/unit

bench-languages: install ## language detection on short chat messages: accuracy, speed (docs/languages.md)
	$(BIN)/python -m bench.language_detection

test-nlu: train ## held-out NLU evaluation (report in var/reports/nlu-report.md)
	$(BIN)/pytest tests/nlu

nlu-report: train ## held-out NLU evaluation, written to the tracked docs/nlu-report.md
	RAPPORT_NLU_REPORT=docs/nlu-report.md $(BIN)/pytest tests/nlu

fuzz: train vendor ## property-based fuzzing of every endpoint, 2000 examples each (long)
	RAPPORT_FUZZ_EXAMPLES=2000 $(BIN)/pytest tests/fuzz -q

validate: install ## rasa data validate
	$(BIN)/rasa data validate --fail-on-warnings

lint: install ## ruff lint + format check + the layer contracts (import-linter)
	$(BIN)/ruff check bot actions tests bench
	$(BIN)/ruff format --check bot actions tests bench
	$(BIN)/lint-imports

typecheck: install ## mypy strict on bot/ and actions/
	$(BIN)/mypy

bench: train vendor ## per-turn latency and throughput vs Rasa's starter bot
	$(BIN)/python -m bench.run

# Dependency audit (docs/security.md). pip-audit lives in its own venv: its
# dependencies must never be resolved into .venv, where they could move Rasa's pins.
AUDIT := var/audit
AUDIT_VENV := $(AUDIT)/venv
PIP_AUDIT_VERSION := 2.10.1
# pypi: PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json); osv: https://api.osv.dev
AUDIT_SERVICE ?= pypi

# Reads pip-audit's JSON report: exit 2 unless every package was checked, else list the findings.
define AUDIT_SUMMARY
import json, sys
deps = json.load(open(sys.argv[1]))["dependencies"]
if not deps or any("skip_reason" in d for d in deps):
    sys.exit(2)
found = [(d, v) for d in deps for v in d.get("vulns", [])]
for d, v in found:
    fixed = ", ".join(v["fix_versions"]) or "none"
    print(f"  {d['name']} {d['version']}  {v['id']}  ({', '.join(v.get('aliases', []))})  fixed in: {fixed}")
names = {d["name"] for d, _ in found}
print(f"audit: {len(found)} known vulnerabilities in {len(names)} of {len(deps)} packages" if found
      else f"audit: no known vulnerabilities in any of the {len(deps)} packages")
endef
export AUDIT_SUMMARY

$(AUDIT_VENV)/.installed-$(PIP_AUDIT_VERSION):
	@test -n "$(BASE_PYTHON)" || { echo "Python $(PY_VERSION) not found (pyenv or python3.10 needed)"; exit 1; }
	@echo "audit: installing pip-audit $(PIP_AUDIT_VERSION) into its own venv $(AUDIT_VENV) (not into $(VENV))"
	test -x $(AUDIT_VENV)/bin/python || $(BASE_PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install -q --upgrade pip
	$(AUDIT_VENV)/bin/python -m pip install -q 'pip-audit==$(PIP_AUDIT_VERSION)'
	rm -f $(AUDIT_VENV)/.installed-*
	touch $@

audit: $(AUDIT_VENV)/.installed-$(PIP_AUDIT_VERSION) ## known vulnerabilities in .venv's packages (pip-audit; needs PyPI's JSON API or OSV)
	@test -x $(BIN)/python || { echo "audit: no $(VENV) to audit: run make install first"; exit 1; }
	@echo "audit: freezing $(VENV) into $(AUDIT)/requirements.txt (pip freeze --all --exclude-editable)"
	@$(BIN)/python -m pip freeze --all --exclude-editable > $(AUDIT)/requirements.txt
	@echo "audit: asking $(AUDIT_SERVICE) about $$(wc -l < $(AUDIT)/requirements.txt) packages (pip-audit --strict --no-deps --disable-pip)"
	@rm -f $(AUDIT)/report.json
	@$(AUDIT_VENV)/bin/pip-audit --requirement $(AUDIT)/requirements.txt --no-deps --disable-pip --strict \
		--vulnerability-service $(AUDIT_SERVICE) --progress-spinner off \
		--format json --output $(AUDIT)/report.json 2> $(AUDIT)/pip-audit.log; rc=$$?; \
	if ! test -s $(AUDIT)/report.json || ! $(AUDIT_VENV)/bin/python -c "$$AUDIT_SUMMARY" $(AUDIT)/report.json > $(AUDIT)/summary.txt; then \
		rm -f $(AUDIT)/report.json; \
		echo "audit: FAILED: the vulnerability service ($(AUDIT_SERVICE)) could not be reached or did not answer for every package,"; \
		echo "audit: so nothing was checked and no report was written. pip-audit said:"; \
		grep -E '^(ERROR|[A-Za-z_.]+(Error|Exception):)' $(AUDIT)/pip-audit.log | tail -n 1 | cut -c1-300 | sed 's/^/  /'; \
		echo "audit: pypi needs https://pypi.org/pypi/<name>/<version>/json (a package-index mirror that serves only"; \
		echo "audit: /simple is not enough), osv needs https://api.osv.dev. Run make audit on a machine with internet access,"; \
		echo "audit: or point HTTPS_PROXY at a proxy that reaches the service; make audit AUDIT_SERVICE=osv asks OSV."; \
		echo "audit: full log: $(AUDIT)/pip-audit.log"; \
		exit 1; \
	fi; \
	cat $(AUDIT)/summary.txt; \
	echo "audit: JSON report: $(AUDIT)/report.json"; \
	exit $$rc

clean: ## remove build outputs (keeps the venv)
	rm -rf models var results .pytest_cache .mypy_cache .ruff_cache
