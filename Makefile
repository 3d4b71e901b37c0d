# Parlour: `make demo` sets everything up and runs the demo; `make test` runs every check.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY_DIRS := $(wildcard parlour tests bench)

.PHONY: setup demo serve test lint typecheck pytest web widget chromium dovecot api-types clean

$(UV):
	python3 -m pip install --user --quiet "uv==0.13.9"

# Compiled once here: with PYTHONDONTWRITEBYTECODE set (as on some hosts), every process
# start otherwise compiles every module again, 3 s of a 5 s start of `parlour serve`.
setup: $(UV)
	$(UV) sync --frozen --compile-bytecode
	$(UV) run --frozen python -m compileall -q parlour
	@if [ -f web/package-lock.json ]; then \
		cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	fi
	@if [ -f web/widget/package-lock.json ]; then \
		cd web/widget && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent; \
	fi

demo: setup
	$(UV) run parlour demo

serve: setup
	$(UV) run parlour serve

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
		( (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		  echo "Chromium could not be installed: browser tests will be skipped." )

# Debian's Dovecot for the IMAP polling tests (tests/channels/email/test_imap.py), which
# start a throwaway server of their own; the system's Dovecot service is not used.
dovecot:
	@[ -x /usr/sbin/dovecot ] || \
		( (apt-get update -qq && apt-get install -y -qq dovecot-imapd >/dev/null) || \
		  echo "Dovecot could not be installed: IMAP tests will be skipped." )

# The web app's API types, from the server's OpenAPI document (no server runs): rerun
# after changing a schema or a route, and commit web/src/api/openapi.{json,d.ts}.
api-types:
	$(UV) run python -m tests.web.api_types

lint: setup
	$(UV) run ruff check $(PY_DIRS)
	$(UV) run ruff format --check $(PY_DIRS)

typecheck: setup
	$(UV) run mypy

pytest: setup chromium dovecot
	$(UV) run pytest

# The visitor's chat widget (web/widget/ -> parlour/static/widget): typecheck, build, its unit
# tests, and the size budget (widget.js <= 20 KB gzipped, or this fails).
widget: setup
	cd web/widget && npm run build --silent && npm test --silent && npm run size --silent

test: lint typecheck widget pytest

clean:
	rm -rf .venv web/node_modules web/widget/node_modules parlour/static/app parlour/static/widget .mypy_cache .ruff_cache .pytest_cache
