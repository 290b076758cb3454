# Objektif: the commands the README names. Every target sets up what it needs on a fresh machine.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: setup system-deps axe demo up test test-e2e lint bench schemas asyncapi clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

# kcat plays a departmental system in the end-to-end tests (a Kafka client we did not write); Debian's chromium
# is the browser the web page's end-to-end test drives through Playwright (never `playwright install`).
system-deps:
	@command -v kcat >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null; \
	  else echo "kcat is missing: sudo apt-get install kcat" >&2; exit 1; fi; }
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }

# axe-core (from the npm registry, pinned) checks every page the people's browser test visits for accessibility
# violations; it goes into a git-ignored folder of the tests, never into the page. Debian's nodejs and npm are
# installed when npm is missing and we are root.
AXE_VERSION := 4.10.3
AXE_DIR     := tests/e2e/node
AXE_JS      := $(AXE_DIR)/node_modules/axe-core/axe.min.js

$(AXE_DIR)/.axe-core-$(AXE_VERSION):
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "npm is missing: sudo apt-get install nodejs npm" >&2; exit 1; fi; }
	mkdir -p $(AXE_DIR)
	npm install --prefix $(AXE_DIR) --no-save --no-package-lock --no-audit --no-fund --silent axe-core@$(AXE_VERSION)
	test -s $(AXE_JS)
	rm -f $(AXE_DIR)/.axe-core-*
	touch $@

axe: $(AXE_DIR)/.axe-core-$(AXE_VERSION)

demo: setup
	$(BIN)/objektif demo

up: setup
	$(BIN)/objektif up

test: setup system-deps axe
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m bench

schemas: setup
	$(BIN)/python -m contracts.generate
	$(BIN)/python -m services.evidence.adapters.http_openapi
	$(BIN)/python -m objektif.asyncapi

# contracts/asyncapi.yaml from the three FastStream apps; a unit test fails when it drifts
asyncapi: setup
	$(BIN)/python -m objektif.asyncapi

clean:
	rm -rf .objektif .pytest_cache .hypothesis
