# The front door of the Lạng Sơn Geopark pipeline.
#   make zones   set up (first time) and run the whole job on the embedded data
#   make test    set up (first time, with system packages) and run every test
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SYSTEM_STAMP := .cache/system-deps-stamp
CONFIG ?= geopark.toml

.PHONY: help setup system-deps zones ingest zone check publish maps dossiers bench test lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create the virtual environment and install the package (idempotent)

$(SYSTEM_STAMP): scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	@mkdir -p $(dir $@) && touch $@

system-deps: $(SYSTEM_STAMP) ## install Debian packages for the full test suite (PostGIS, QGIS, Chromium, poppler)

zones: setup ## ingest, zone and check the geopark into data/processed/geopark.gpkg
	$(BIN)/geopark zones --config $(CONFIG)

ingest: setup ## validate the inputs only
	$(BIN)/geopark ingest --config $(CONFIG)

zone: setup ## ingest and zone, print the zones
	$(BIN)/geopark zone --config $(CONFIG)

check: setup ## ingest, zone and run the QA checks, print the summary
	$(BIN)/geopark check --config $(CONFIG)

publish: setup ## publish data/processed to PostGIS (DATABASE_URL, PGSERVICE or PG* variables)
	$(BIN)/geopark publish --config $(CONFIG)

maps: zones ## map sheets and the interactive web map into maps/
	$(BIN)/geopark maps --config $(CONFIG)
	$(BIN)/geopark webmap --config $(CONFIG)

dossiers: maps ## geosite dossiers and the heritage summary (HTML, PDF) into data/processed/dossiers/
	$(BIN)/geopark dossiers --config $(CONFIG)

bench: setup system-deps ## zoning vs PostGIS SQL and geopandas, and geopark zones end to end (BENCH_ARGS=--quick for a short run)
	$(BIN)/python -m pipeline.bench $(BENCH_ARGS)

test: setup system-deps ## run the whole test suite
	$(BIN)/python -m pytest

lint: setup ## static checks
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests

format: setup ## reformat the code
	$(BIN)/ruff format pipeline tests
	$(BIN)/ruff check --fix pipeline tests

clean: ## remove generated outputs and caches (keeps data/raw)
	find data/processed -mindepth 1 ! -name README.md -exec rm -rf {} +
	find maps -mindepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
