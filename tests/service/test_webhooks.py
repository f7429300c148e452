"""Agent webhooks on the in-memory store: a signed event delivered once (an outbox entry delivered
again creates no second delivery), failures retried on the backoff until delivered or failed for
good, private addresses refused at registration and at delivery, and one agent never reaching
another's endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb.webhooks import WebhookDeliveryItem, WebhookEndpointItem
from simrenew.clock import FixedClock
from simrenew.domain.addresses import Destination
from simrenew.errors import NotFound, RuleViolation, ValidationError
from simrenew.services.webhooks import (
    BACKOFF,
    DELIVERY_HEADER,
    MAX_ATTEMPTS,
    MAX_ENDPOINTS,
    REFUSED,
    SIGNATURE_HEADER,
    WebhookService,
    verify,
)
from tests.support.fakes.table import FakeTable
from tests.support.fakes.webhooks import FakeWebhookRepository

START = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
A, B = "t_hooks_a", "t_hooks_b"
DNS = {"hooks.example.com": ["93.184.216.34"], "inside.example.com": ["10.0.0.7"]}


def resolve(host: str, port: int) -> list[str]:
    return DNS.get(host, [])


@dataclass
class Transport:
    answers: list[int | Exception] = field(default_factory=list)
    posts: list[tuple[str, bytes, dict[str, str], str]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float, destination: Destination) -> int:
        self.posts.append((url, body, headers, destination.address))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer


Service = WebhookService[WebhookEndpointItem, WebhookDeliveryItem]


def setup(*answers: int | Exception) -> tuple[Service, FakeWebhookRepository, Transport, FixedClock]:
    repo, transport, clock = FakeWebhookRepository(FakeTable()), Transport(list(answers)), FixedClock(START)
    return WebhookService(repo, transport, clock, allow_http_local=False, resolver=resolve), repo, transport, clock


def endpoint(service: Service, tenant: str = A, url: str = "https://hooks.example.com/a") -> tuple[str, str]:
    made, secret = service.create_endpoint(tenant, {"url": url, "events": ["order.fulfilled"]})
    return str(made["endpoint_id"]), secret


def test_an_event_is_posted_signed_and_an_outbox_entry_delivered_again_creates_nothing_more() -> None:
    service, repo, transport, _ = setup()
    endpoint_id, secret = endpoint(service)
    data = {"order_id": "ord_1", "amount_fen": 4000}
    assert service.emit_once(A, "order.fulfilled", "evt_1", data, START) == 1
    assert service.emit_once(A, "order.fulfilled", "evt_1", data, START) == 0
    ((url, body, headers, address),) = transport.posts
    assert (url, address) == ("https://hooks.example.com/a", "93.184.216.34")
    assert verify(secret, headers[SIGNATURE_HEADER], body, now=START.timestamp())
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 1, 200)
    assert delivery["payload"]["data"] == data and headers[DELIVERY_HEADER] == delivery["delivery_id"]
    assert repo.deliveries()[0].gsi2pk is None  # out of the retry queue


def test_a_failing_endpoint_is_retried_on_the_backoff_and_delivered_once() -> None:
    service, _, transport, clock = setup(503, OSError("reset"), 200)
    endpoint_id, _ = endpoint(service)
    assert service.emit(A, "order.fulfilled", {"order_id": "ord_1"}) == 1
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["last_error"]) == ("pending", "HTTP 503")
    assert service.retry_due() == 0  # not due yet
    clock.advance(BACKOFF[0])
    assert service.retry_due() == 1
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["attempts"], delivery["last_error"]) == ("pending", 2, "no HTTP answer")
    clock.advance(BACKOFF[1])
    assert service.retry_due() == 1
    clock.advance(timedelta(days=1))
    assert service.retry_due() == 0  # delivered: nothing left to retry
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["attempts"], delivery["last_error"]) == ("delivered", 3, None)
    assert len(transport.posts) == 3


def test_a_dead_endpoint_fails_for_good_after_the_last_attempt() -> None:
    service, _, transport, clock = setup(*[500] * MAX_ATTEMPTS)
    endpoint_id, _ = endpoint(service)
    service.emit(A, "order.fulfilled", {"order_id": "ord_1"})
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(timedelta(days=1))
        service.retry_due()
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["attempts"], delivery["next_attempt_at"]) == ("failed", MAX_ATTEMPTS, None)
    assert len(transport.posts) == MAX_ATTEMPTS


def test_a_private_address_is_refused_at_registration_and_at_delivery() -> None:
    service, _, transport, _ = setup()
    with pytest.raises(ValidationError) as refused:
        endpoint(service, url="https://inside.example.com/hook")
    assert (refused.value.field, refused.value.code) == ("url", "private_address")
    endpoint_id, _ = endpoint(service)
    DNS["hooks.example.com"] = ["169.254.169.254"]  # the name moved to the metadata service
    try:
        service.emit(A, "order.fulfilled", {"order_id": "ord_1"})
    finally:
        DNS["hooks.example.com"] = ["93.184.216.34"]
    assert transport.posts == []
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["last_error"]) == ("pending", REFUSED)


def test_a_deleted_endpoint_gets_nothing_and_its_pending_retry_ends_without_a_post() -> None:
    service, _, transport, clock = setup(500)
    endpoint_id, _ = endpoint(service)
    service.emit(A, "order.fulfilled", {"order_id": "ord_1"})
    service.delete_endpoint(A, endpoint_id)
    assert service.emit(A, "order.fulfilled", {"order_id": "ord_2"}) == 0
    clock.advance(timedelta(hours=1))
    assert service.retry_due() == 1
    (delivery,) = service.deliveries(A, endpoint_id).items
    assert (delivery["state"], delivery["last_error"]) == ("failed", "endpoint deleted")
    assert len(transport.posts) == 1


def test_one_agent_never_reaches_anothers_endpoints() -> None:
    service, _, transport, _ = setup()
    endpoint_id, _ = endpoint(service, A)
    assert service.emit(B, "order.fulfilled", {"order_id": "ord_b"}) == 0 and transport.posts == []
    for call in (lambda: service.deliveries(B, endpoint_id), lambda: service.delete_endpoint(B, endpoint_id)):
        with pytest.raises(NotFound):
            call()
    assert service.list_endpoints(B).items == [] and len(service.list_endpoints(A).items) == 1


def test_an_agent_has_at_most_the_endpoint_limit() -> None:
    service, _, _, _ = setup()
    for _ in range(MAX_ENDPOINTS):
        endpoint(service)
    with pytest.raises(RuleViolation) as limit:
        endpoint(service)
    assert limit.value.code == "endpoint_limit"


def test_an_unknown_event_type_is_not_an_outbox_delivery() -> None:
    service, _, _, _ = setup()
    endpoint(service)
    with pytest.raises(ValueError):
        service.emit_once(A, "order.exploded", "evt_x", {}, START)
    body: dict[str, Any] = {"url": "https://hooks.example.com/b", "events": ["order.exploded"]}
    with pytest.raises(ValidationError):
        service.create_endpoint(A, body)
