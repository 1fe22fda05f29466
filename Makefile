# Vivolog — two commands: `make run` (app + demo) and `make test` (checks + the whole suite).
# Both create .venv and install what they need; see README.md.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := chromium r-base-core r-cran-survival r-cran-nlme r-cran-clubsandwich \
	poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
PYTEST_ARGS ?=
# pytest-xdist workers (each with its own test database and Celery queue): one per CPU, at most
# four; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
XDIST_ARGS := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --maxprocesses 4 --dist loadgroup)

.PHONY: run test check deps venv lint typecheck demo-reset smoke-embedded bench clean-var

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages for PDF rendering, browser tests and the R cross-checks. Installed with apt
# when we are root or have password-less sudo; otherwise the exact command is printed and the
# tests that need a missing package skip, naming it.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	  echo "deps: missing Debian packages:$$missing"; \
	  echo "deps: install them with: sudo apt-get update && sudo apt-get install -y$$missing"; \
	  exit 0; fi; \
	echo "deps: installing$$missing"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null

run: venv deps
	VIVOLOG_DEMO=1 $(PY) -m config.launcher serve

test: venv deps
	$(PY) -m config.launcher test $(XDIST_ARGS) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy's Django plugin imports the settings, which need these two values (never connected to).
typecheck: venv
	VIVOLOG_SECRET_KEY=$${VIVOLOG_SECRET_KEY:-typecheck-only-0123456789abcdefghijklmnopqrstuv} \
	DATABASE_URL=$${DATABASE_URL:-postgresql://localhost/typecheck} $(VENV)/bin/mypy

check: lint typecheck test

demo-reset: venv
	$(PY) -m config.launcher manage reset_demo --yes

smoke-embedded: venv
	env -u DATABASE_URL -u CELERY_BROKER_URL $(PY) .ci/smoke_embedded.py

bench: venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
