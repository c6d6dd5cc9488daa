# Two commands: `make run` and `make test`. Every other target is a step they share.
# Each set-up step is skipped when its inputs are unchanged: stamp files carry a
# content hash of what they were built from.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY311 ?= $(shell command -v python3.11 || echo $(PYENV_ROOT)/versions/3.11.7/bin/python)
PY310 ?= $(PYENV_ROOT)/versions/3.10.13/bin/python
VENV := .venv
RVENV := .venv-rasa
DATA_DIR ?= $(CURDIR)/var
export DATA_DIR
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Rasa's usage telemetry and crash reports would leave the machine: never for this product.
export RASA_TELEMETRY_ENABLED := false

hash = $(shell cat $(1) 2>/dev/null | sha256sum | cut -c1-16)

APP_STAMP := $(VENV)/.installed-$(call hash,requirements/app.lock pyproject.toml)
RASA_STAMP := $(RVENV)/.installed-$(call hash,requirements/rasa.lock)
# Endpoints and credentials are read by `rasa run`, not trained into the model.
BOT_FILES := config.yml $(shell find bot -name '*.yml' -not -path 'bot/tests/*' -not -name 'endpoints*.yml' -not -name 'credentials.yml' 2>/dev/null | sort)
ENCODER_STAMP := models/minilm-onnx/.exported-$(call hash,knowledge/encoder_export.py requirements/app.lock)
MODEL_STAMP := models/.trained-$(call hash,$(BOT_FILES) bot/minilm_featurizer.py)

.PHONY: help setup venv venv-rasa index nlu-encoder model system-deps run test test-bot lint format bench bench-scaled lock clean run-scaled

help:
	@echo "make run    set up whatever is missing, then start rasa, actions and web"
	@echo "make test   set up whatever is missing, then run every check and test"
	@echo "make run-scaled  the same with PostgreSQL, Redis, two rasa and three web workers"
	@echo "make bench  quality, latency and memory report -> var/bench/report.md"
	@echo "make bench-scaled  the load run against the scale-out profile -> var/bench-scaled/"

setup: venv venv-rasa index model

venv: $(APP_STAMP)
$(APP_STAMP): requirements/app.lock pyproject.toml
	@echo "==> Python 3.11 environment ($(VENV))"
	@test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install --progress-bar on -q --upgrade pip
	$(VENV)/bin/pip install --progress-bar on torch==2.13.0
	$(VENV)/bin/pip install --progress-bar on -r requirements/app.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@

venv-rasa: $(RASA_STAMP)
$(RASA_STAMP): requirements/rasa.lock
	@echo "==> Rasa environment ($(RVENV), CPython 3.10)"
	@test -x $(RVENV)/bin/python || $(PY310) -m venv $(RVENV)
	$(RVENV)/bin/pip install --progress-bar on -q --upgrade "pip<25" "setuptools<70" wheel
	$(RVENV)/bin/pip install --progress-bar on -r requirements/rasa.lock
	@rm -f $(RVENV)/.installed-*; touch $@

# The knowledge index rebuilds itself only when a notice or the chunker changes.
index: venv
	$(VENV)/bin/privacybot index --all

# The NLU reads MiniLM through an ONNX export (bot/minilm_featurizer.py): Rasa's env has no torch.
nlu-encoder: $(ENCODER_STAMP)
$(ENCODER_STAMP): $(APP_STAMP) knowledge/encoder_export.py
	@echo "==> Exporting MiniLM to ONNX for the NLU"
	$(VENV)/bin/python -m knowledge.encoder_export --out models/minilm-onnx
	@rm -f models/minilm-onnx/.exported-*; touch $@

model: $(MODEL_STAMP)
$(MODEL_STAMP): $(RASA_STAMP) $(ENCODER_STAMP) $(BOT_FILES) bot/minilm_featurizer.py
	@echo "==> Training the Rasa model"
	@mkdir -p models
	cd bot && ../$(RVENV)/bin/rasa train --config ../config.yml --domain domain.yml --data data --out ../models --fixed-model-name privacybot --num-threads 2
	@rm -f models/.trained-*; touch $@

# What the tests need from outside Python: Debian's Chromium (Playwright drives it; it
# never downloads a browser), redis-server for the scale-out test, and axe-core from
# the npm registry for the accessibility check.
AXE_STAMP := tests/browser/node_modules/.installed-$(call hash,tests/browser/package-lock.json)
system-deps: $(AXE_STAMP)
	@command -v chromium >/dev/null && command -v redis-server >/dev/null || (echo "==> Installing Debian chromium and redis-server" && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium redis-server >/dev/null)
$(AXE_STAMP): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	@rm -f tests/browser/node_modules/.installed-*; touch $@

run: setup
	$(VENV)/bin/privacybot run

# The scale-out profile on one machine (docs/deployment.md): throwaway PostgreSQL and
# Redis unless DATABASE_URL / REDIS_HOST are given, two rasa + actions, three web workers.
run-scaled: setup
	$(VENV)/bin/privacybot run --scaled

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The two environments install side by side (pip is mostly single-threaded), and the
# index and the ONNX export run while the Rasa environment is still installing.
SETUP_JOBS ?= 2

# Rasa's own checks (test-bot) run inside pytest too: tests/integration/test_dialogue_stories.py.
test:
	$(MAKE) --no-print-directory -j$(SETUP_JOBS) --output-sync=target setup system-deps
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/python -m pytest

# Rasa's own checks alone (make test runs them in pytest): training data consistency, then
# every test story must be predicted exactly.
test-bot: model
	cd bot && ../$(RVENV)/bin/rasa data validate --config ../config.yml --domain domain.yml --data data --fail-on-warnings
	cd bot && ../$(RVENV)/bin/rasa test core --model ../models/privacybot.tar.gz --stories tests --fail-on-prediction-errors --out $(DATA_DIR)/rasa-test-results

bench: setup
	$(VENV)/bin/python -m tests.bench.run --out $(DATA_DIR)/bench

# The load and soak run alone, against the scale-out profile (PostgreSQL, Redis, two of each).
bench-scaled: setup
	$(VENV)/bin/python -m tests.bench.run --scaled --out $(DATA_DIR)/bench-scaled

lock: venv venv-rasa
	$(VENV)/bin/pip freeze --exclude-editable | grep -v '^torch==' > requirements/app.lock
	$(RVENV)/bin/pip freeze > requirements/rasa.lock

clean:
	rm -rf $(VENV) $(RVENV) models var
