# hospmon: every target installs what it needs when it is missing, and is quick on a second run.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hospmon-installed

.PHONY: help deps demo test lint bench dashboards translations lock clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps: $(STAMP) ## Install Debian packages, the virtualenv and hospmon (editable) when missing
	@./deps/install-apt.sh

$(STAMP): pyproject.toml
	@./deps/install-apt.sh
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

demo: deps ## Run the whole suite against the simulated hospital on this machine (Ctrl-C stops it)
	@$(BIN)/hospmon demo --run-dir run

lint: deps ## ruff (lint and format) and mypy --strict
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@cd dashboards/src && $(CURDIR)/$(BIN)/mypy --strict .

TEST_WORKERS ?= 2

test: lint ## Lint, then run every test against real servers (TEST_WORKERS=2 pytest workers, a file each)
	@$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

translations: deps ## Extract the console's strings, merge them into the zh catalog and compile it
	@pot=$$(mktemp --suffix=.pot) && \
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k T --no-location --sort-output --project hospmon \
		--version 0.1.0 --copyright-holder "the hospmon authors" -o $$pot . && \
	$(BIN)/pybabel -q update -i $$pot -d alertrouter/translations \
		--width 110 --ignore-obsolete --ignore-pot-creation-date -N; \
	status=$$?; rm -f $$pot; exit $$status
	@$(BIN)/pybabel compile -d alertrouter/translations --statistics

dashboards: deps ## Regenerate the Grafana dashboards from dashboards/src/
	@$(BIN)/python dashboards/src/generate.py

BENCHES := snmp_vs_snmp_exporter snmp_fleet database_scrape http_probe dicom_echo console_search router_ingest \
	events_vs_snmptrapd exposition router_storm aes_cfb exporter_memory

bench: deps ## Run every bench with its peer (bench/README.md); SNMP benches need root
	@rc=0; for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || rc=1; done; exit $$rc

lock: deps ## Pin the images' Python dependencies (requirements-image.txt) with pip-compile
	@$(BIN)/pip-compile --quiet --extra demo --strip-extras --unsafe-package hospmon --no-emit-index-url \
		--no-emit-find-links --output-file requirements-image.txt pyproject.toml

clean: ## Remove the run folder and caches (keeps the virtualenv)
	rm -rf run .pytest_cache .mypy_cache .ruff_cache
