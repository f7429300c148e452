"""Outbound webhooks to agents on moto: endpoints, signatures, retries, tenant isolation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from simrenew.adapters.dynamodb.webhooks import WebhookRepository
from simrenew.adapters.outbound import UrllibTransport, system_resolver
from simrenew.clock import FixedClock
from simrenew.errors import NotFound, ValidationError
from simrenew.services.webhooks import EVENTS, WebhookService, sign, verify
from tests.support.webhooks import FAKE_DNS, START, FakeTransport

A, B = "t_agent_a", "t_agent_b"


def endpoint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"url": "https://hooks.example.com/simrenew", "events": ["terminal.expiring"]}
    body.update(overrides)
    return body


def only_delivery(webhooks: WebhookService, tenant_id: str, endpoint_id: str) -> dict[str, Any]:
    (delivery,) = webhooks.deliveries(tenant_id, endpoint_id).items
    return delivery


def one_event_to(webhooks: WebhookService, transport: FakeTransport, answer: int | Exception) -> str:
    """Agent A's endpoint, its receiver answering `answer`, sent one terminal.expiring event: its id."""
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body())
    transport.default = answer
    webhooks.emit(A, "terminal.expiring", {"sn": "SN1"})
    return str(endpoint["endpoint_id"])


# --- creating endpoints ------------------------------------------------------------------------
def test_given_valid_body_when_creating_endpoint_then_secret_is_returned_once_and_never_listed(
    webhooks: WebhookService,
) -> None:
    endpoint, secret = webhooks.create_endpoint(A, endpoint_body(events=["order.fulfilled", "terminal.expiring"]))

    assert secret.startswith("whsec_")
    assert endpoint["events"] == ["terminal.expiring", "order.fulfilled"]
    assert endpoint["active"] is True
    listed = webhooks.list_endpoints(A).items
    assert [e["endpoint_id"] for e in listed] == [endpoint["endpoint_id"]]
    assert secret not in json.dumps(listed)


@pytest.mark.parametrize(
    ("body", "field_name", "code"),
    [
        ({"events": ["terminal.expiring"]}, "url", "required"),
        (endpoint_body(url="http://hooks.example.com/x"), "url", "https_required"),
        (endpoint_body(url="http://127.0.0.1:9000/x"), "url", "https_required"),
        (endpoint_body(url="ftp://hooks.example.com/x"), "url", "https_required"),
        (endpoint_body(url="https://user:pw@hooks.example.com/x"), "url", "credentials_in_url"),
        (endpoint_body(url="https://hooks.example.com/" + "a" * 2040), "url", "too_long"),
        (endpoint_body(url="https://169.254.169.254/latest"), "url", "private_address"),
        (endpoint_body(url="https://10.0.0.8/hook"), "url", "private_address"),
        (endpoint_body(url="https:///nohost"), "url", "invalid_url"),
        (endpoint_body(events=[]), "events", "required"),
        (endpoint_body(events="terminal.expiring"), "events", "required"),
        (endpoint_body(events=["terminal.exploded"]), "events", "unknown_event"),
        (endpoint_body(description="x" * 201), "description", "invalid_description"),
        (endpoint_body(secret="mine"), "secret", "unknown_field"),
    ],
)
def test_given_bad_field_when_creating_endpoint_then_validation_error_names_it(
    webhooks: WebhookService, body: dict[str, Any], field_name: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        webhooks.create_endpoint(A, body)

    assert (caught.value.field, caught.value.code) == (field_name, code)


def test_given_local_mode_when_creating_http_localhost_endpoint_then_it_is_accepted(ddb: Any) -> None:
    local = WebhookService(
        WebhookRepository(), FakeTransport(), FixedClock(START), allow_http_local=True, resolver=FAKE_DNS
    )

    endpoint, _ = local.create_endpoint(A, endpoint_body(url="http://127.0.0.1:9000/hook"))

    assert endpoint["url"] == "http://127.0.0.1:9000/hook"
    with pytest.raises(ValidationError):
        local.create_endpoint(A, endpoint_body(url="http://hooks.example.com/hook"))


# --- signatures --------------------------------------------------------------------------------
def test_given_signed_body_when_verifying_then_only_the_same_secret_body_and_fresh_time_pass() -> None:
    body = b'{"id":"evt_1"}'
    header = sign("whsec_abc", 1_700_000_000, body)

    assert header.startswith("t=1700000000,v1=")
    assert verify("whsec_abc", header, body, now=1_700_000_100)
    assert not verify("whsec_other", header, body, now=1_700_000_100)
    assert not verify("whsec_abc", header, body + b" ", now=1_700_000_100)
    assert not verify("whsec_abc", header, body, now=1_700_000_301)
    assert not verify("whsec_abc", "garbage", body, now=1_700_000_000)


# --- emitting ----------------------------------------------------------------------------------
def test_given_subscribed_endpoint_when_event_emitted_then_signed_post_is_delivered_and_logged(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    endpoint, secret = webhooks.create_endpoint(A, endpoint_body())
    webhooks.create_endpoint(A, endpoint_body(url="https://other.example.com/", events=["order.refunded"]))

    created = webhooks.emit(A, "terminal.expiring", {"sn": "SN1", "days_left": 7})

    assert created == 1
    (post,) = transport.posts
    assert post.url == "https://hooks.example.com/simrenew"
    payload = json.loads(post.body)
    assert payload["type"] == "terminal.expiring"
    assert payload["id"].startswith("evt_")
    assert payload["data"] == {"sn": "SN1", "days_left": 7}
    assert post.headers["SimRenew-Event"] == "terminal.expiring"
    assert post.headers["Content-Type"] == "application/json"
    assert verify(secret, post.headers["SimRenew-Signature"], post.body, now=START.timestamp())
    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] == 1
    assert delivery["last_status"] == 200
    assert delivery["delivery_id"] == post.headers["SimRenew-Delivery"]
    assert delivery["next_attempt_at"] is None


def test_given_deleted_endpoint_when_event_emitted_then_nothing_is_sent(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body())
    webhooks.delete_endpoint(A, endpoint["endpoint_id"])

    assert webhooks.emit(A, "terminal.expiring", {"sn": "SN1"}) == 0
    assert transport.posts == []
    assert webhooks.list_endpoints(A).items == []
    with pytest.raises(NotFound):
        webhooks.delete_endpoint(A, endpoint["endpoint_id"])


def test_given_transport_raises_oserror_when_emitting_then_emit_returns_and_delivery_is_pending(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body())
    transport.default = ConnectionRefusedError("connection refused")

    created = webhooks.emit(A, "terminal.expiring", {"sn": "SN1"})

    assert created == 1
    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert delivery["state"] == "pending"
    assert delivery["attempts"] == 1
    assert delivery["last_status"] is None
    assert delivery["last_error"] == "no HTTP answer"  # never the socket's words (a port scanner)
    assert delivery["next_attempt_at"] == "2025-03-01T02:01:00Z"


def test_given_endpoint_just_failed_when_more_events_come_then_they_queue_without_waiting_on_it(
    webhooks: WebhookService, transport: FakeTransport, clock: FixedClock
) -> None:
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body())
    transport.default = TimeoutError("timed out")

    created = sum(webhooks.emit(A, "terminal.expiring", {"sn": f"SN{i}"}) for i in range(5))

    assert created == 5
    assert len(transport.posts) == 1  # one timeout, not five
    deliveries = webhooks.deliveries(A, endpoint["endpoint_id"]).items
    assert sorted(d["attempts"] for d in deliveries) == [0, 0, 0, 0, 1]
    assert {d["state"] for d in deliveries} == {"pending"}

    transport.default = 200
    clock.advance(timedelta(minutes=1))
    assert webhooks.retry_due() == 5
    assert {d["state"] for d in webhooks.deliveries(A, endpoint["endpoint_id"]).items} == {"delivered"}


# --- retries -----------------------------------------------------------------------------------
def test_given_failing_endpoint_when_clock_advances_then_retries_follow_backoff_and_finally_deliver(
    webhooks: WebhookService, transport: FakeTransport, clock: FixedClock
) -> None:
    endpoint, secret = webhooks.create_endpoint(A, endpoint_body())
    transport.script = [500, 503, OSError("reset"), 502]  # attempts 1-4 fail, the 5th succeeds
    webhooks.emit(A, "terminal.expiring", {"sn": "SN1"})

    for wait in (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)):
        clock.advance(wait - timedelta(seconds=1))
        assert webhooks.retry_due() == 0, "not due a second early"
        clock.advance(timedelta(seconds=1))
        assert webhooks.retry_due() == 1
    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("pending", 4, 502)
    assert delivery["next_attempt_at"] == "2025-03-01T04:36:00Z"  # 02:36 + 2 h

    clock.advance(timedelta(hours=2))
    assert webhooks.retry_due() == 1

    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 5, 200)
    assert delivery["next_attempt_at"] is None
    assert len(transport.posts) == 5
    assert {p.body for p in transport.posts} == {transport.posts[0].body}
    last = transport.posts[-1]
    assert last.headers["SimRenew-Signature"].startswith(f"t={int(clock.now().timestamp())},")
    assert verify(secret, last.headers["SimRenew-Signature"], last.body, now=clock.now().timestamp())
    clock.advance(timedelta(days=1))
    assert webhooks.retry_due() == 0


def test_given_dead_endpoint_when_all_retries_fail_then_delivery_ends_failed_after_six_attempts(
    webhooks: WebhookService, transport: FakeTransport, clock: FixedClock
) -> None:
    endpoint_id = one_event_to(webhooks, transport, 500)

    for wait in (1, 5, 30, 120, 720):
        clock.advance(timedelta(minutes=wait))
        assert webhooks.retry_due() == 1

    delivery = only_delivery(webhooks, A, endpoint_id)
    assert (delivery["state"], delivery["attempts"], delivery["last_error"]) == ("failed", 6, "HTTP 500")
    assert delivery["next_attempt_at"] is None
    clock.advance(timedelta(days=2))
    assert webhooks.retry_due() == 0
    assert len(transport.posts) == 6


def test_given_endpoint_deleted_while_retrying_when_retry_runs_then_delivery_fails_without_post(
    webhooks: WebhookService, transport: FakeTransport, clock: FixedClock
) -> None:
    endpoint_id = one_event_to(webhooks, transport, 500)
    webhooks.delete_endpoint(A, endpoint_id)

    clock.advance(timedelta(minutes=1))
    assert webhooks.retry_due() == 1

    assert len(transport.posts) == 1
    delivery = only_delivery(webhooks, A, endpoint_id)
    assert (delivery["state"], delivery["last_error"]) == ("failed", "endpoint deleted")


# --- tenant isolation --------------------------------------------------------------------------
def test_given_agent_a_endpoint_when_agent_b_lists_deletes_or_reads_deliveries_then_not_found(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body(events=list(EVENTS)))
    webhooks.emit(A, "terminal.expiring", {"sn": "SN1"})

    assert webhooks.list_endpoints(B).items == []
    with pytest.raises(NotFound):
        webhooks.delete_endpoint(B, endpoint["endpoint_id"])
    with pytest.raises(NotFound):
        webhooks.deliveries(B, endpoint["endpoint_id"])
    assert len(webhooks.deliveries(A, endpoint["endpoint_id"]).items) == 1


def test_given_agent_a_endpoint_when_agent_b_emits_then_a_receives_nothing(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    webhooks.create_endpoint(A, endpoint_body(events=list(EVENTS)))
    b_endpoint, _ = webhooks.create_endpoint(B, endpoint_body(url="https://b.example.com/hook", events=list(EVENTS)))

    for event in EVENTS:
        webhooks.emit(B, event, {"n": 1})

    assert {p.url for p in transport.posts} == {"https://b.example.com/hook"}
    assert len(webhooks.deliveries(B, b_endpoint["endpoint_id"]).items) == len(EVENTS)


def test_given_agent_b_cursor_when_used_on_agent_a_deliveries_then_rejected(
    webhooks: WebhookService, transport: FakeTransport
) -> None:
    a_endpoint, _ = webhooks.create_endpoint(A, endpoint_body())
    b_endpoint, _ = webhooks.create_endpoint(B, endpoint_body())
    for _ in range(3):
        webhooks.emit(B, "terminal.expiring", {"sn": "SN1"})
    page = webhooks.deliveries(B, b_endpoint["endpoint_id"], limit=1)
    assert page.next_cursor is not None

    with pytest.raises(ValidationError) as caught:
        webhooks.deliveries(A, a_endpoint["endpoint_id"], limit=1, cursor=page.next_cursor)
    assert caught.value.field == "cursor"


# --- over real HTTP ----------------------------------------------------------------------------
@dataclass
class Received:
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # header names lower-cased


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """An HTTP server on a free 127.0.0.1 port (the value), stopped afterwards."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def over_real_http(now: datetime) -> WebhookService:
    """The service posting over real HTTP, to local receivers too."""
    return WebhookService(
        WebhookRepository(), UrllibTransport(), FixedClock(now), allow_http_local=True, resolver=system_resolver
    )


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """An agent's webhook receiver on a free 127.0.0.1 port, stopped after the test."""
    received = Received()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {name.lower(): value for name, value in self.headers.items()}
            received.requests.append((headers, self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}/hook", received


def test_given_real_receiver_when_event_emitted_then_signature_verifies_with_creation_secret(
    ddb: Any, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    webhooks = over_real_http(datetime.now(UTC))
    endpoint, secret = webhooks.create_endpoint(A, endpoint_body(url=url, events=["order.fulfilled"]))

    assert webhooks.emit(A, "order.fulfilled", {"order_id": "or_1", "amount_fen": 3000}) == 1

    ((headers, body),) = received.requests
    assert verify(secret, headers["simrenew-signature"], body)
    assert not verify(secret + "x", headers["simrenew-signature"], body)
    assert headers["simrenew-event"] == "order.fulfilled"
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["data"] == {"order_id": "or_1", "amount_fen": 3000}
    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["last_status"]) == ("delivered", 204)


def test_given_nothing_listening_when_emitting_over_real_http_then_emit_does_not_raise(ddb: Any) -> None:
    with HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]  # free, then closed: connections are refused
    webhooks = over_real_http(START)
    endpoint, _ = webhooks.create_endpoint(A, endpoint_body(url=f"http://127.0.0.1:{port}/hook"))

    assert webhooks.emit(A, "terminal.expiring", {"sn": "SN1"}) == 1

    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["attempts"]) == ("pending", 1)


def test_given_endpoint_redirects_elsewhere_when_emitting_then_redirect_is_not_followed(
    ddb: Any, receiver: tuple[str, Received]
) -> None:
    elsewhere, received = receiver

    class Redirect(QuietHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", elsewhere)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Redirect) as port:
        webhooks = over_real_http(START)
        endpoint, _ = webhooks.create_endpoint(A, endpoint_body(url=f"http://localhost:{port}/hook"))
        webhooks.emit(A, "terminal.expiring", {"sn": "SN1"})

    assert received.requests == []
    delivery = only_delivery(webhooks, A, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["last_status"]) == ("pending", 307)
