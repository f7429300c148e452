"""Unit fixtures: moto's DynamoDB (a fresh table per test, built from template.yaml) and the
API called in-process through Chalice's test gateway."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from infra.localserver import load_function_module
from infra.table import ensure_table
from simrenew.adapters.dynamodb.models import bind_table
from simrenew.clock import FixedClock
from tests.support.client import ApiClient, ChaliceTransport
from tests.support.contract import CheckedTransport
from tests.support.env import PLATFORM_KEY, UPLOADS_BUCKET, WEBHOOK_SECRET, function_env
from tests.support.payments import FakeGateway, sign
from tests.support.webhooks import FAKE_DNS, START, FakeTransport

if TYPE_CHECKING:
    from simrenew.services.webhooks import WebhookService

TABLE = "simrenew-unit"
os.environ.update(function_env(TABLE, None, "http://127.0.0.1:8000"))
os.environ.pop("DDB_ENDPOINT", None)


_MOTO_LOCK = threading.RLock()


def _one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's backends are not thread-safe (a transaction deep-copies every table while another
    thread writes to one): they answer one request at a time, as a single server would. Threads
    (the import's writers) still interleave between requests."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.process_request

    def serialized(self: BotocoreStubber, request: Any) -> Any:
        with _MOTO_LOCK:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", serialized)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto DynamoDB with the table of template.yaml, models bound to it (and moto's S3 with the
    uploads bucket, for presigned uploads and exports)."""
    _one_request_at_a_time(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        ensure_table(client, TABLE)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=UPLOADS_BUCKET)
        bind_table(TABLE, "us-east-1", None)
        # A fresh table is a fresh "container": nothing read from another test's table is served.
        from simrenew.adapters.dynamodb.tenant_context import CONTEXTS, MERCHANT_NAMES

        CONTEXTS.clear()
        MERCHANT_NAMES.clear()
        yield client


@pytest.fixture(scope="session")
def api_module() -> Any:
    return load_function_module("api")


@pytest.fixture(scope="session")
def webhook_module() -> Any:
    return load_function_module("webhook")


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway(WEBHOOK_SECRET)


@pytest.fixture
def services(
    ddb: Any, api_module: Any, webhook_module: Any, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The services both functions use in this test: moto's table, the fake Stripe."""
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    svc = build_services(load_config(), gateway=gateway)
    monkeypatch.setattr(api_module.api, "_services", lambda: svc)
    monkeypatch.setattr(webhook_module, "services", lambda: svc)
    return svc


@pytest.fixture
def api(services: Any, api_module: Any) -> ApiClient:
    # Every 2xx JSON answer is checked against its route's response model (tests/support/contract.py).
    transport = ChaliceTransport(api_module.app, settle=services.sweep_dispatcher.join)
    return ApiClient(CheckedTransport(transport, api_module.api.specs))


@pytest.fixture
def deliver(webhook_module: Any, services: Any) -> Any:
    """POST a payload to the webhook function as API Gateway would, signed unless told."""

    def send(payload: bytes, signature: str | None = "sign") -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = sign(payload, WEBHOOK_SECRET)
        if signature is not None:
            headers["Stripe-Signature"] = signature
        event = {
            "body": payload.decode(),
            "isBase64Encoded": False,
            "headers": headers,
            "httpMethod": "POST",
            "path": "/webhooks/stripe",
        }
        result = webhook_module.handler(event, None)
        return result["statusCode"], json.loads(result["body"])

    return send


@pytest.fixture
def platform_key() -> str:
    return PLATFORM_KEY


@pytest.fixture
def make_services(ddb: Any) -> Any:
    """Services wired to this test's table, with the clock the test hands in."""
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    def make(clock: Any, gateway: Any = None) -> Any:
        return build_services(load_config(), clock, gateway)

    return make


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at START (2025-03-01 02:00 UTC) the test moves on."""
    return FixedClock(START)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def webhooks(ddb: Any, transport: FakeTransport, clock: FixedClock) -> WebhookService:
    """The webhook service on moto: its POSTs go to `transport`, names resolve by FAKE_DNS."""
    from simrenew.adapters.dynamodb.webhooks import WebhookRepository
    from simrenew.services.webhooks import WebhookService

    return WebhookService(WebhookRepository(), transport, clock, allow_http_local=False, resolver=FAKE_DNS)
