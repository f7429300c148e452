"""The outbox dispatcher on the in-memory store: an agent event handed to its webhook deliveries
once however often it is delivered, a failure left pending with its backoff for the drain, an event
that can never be delivered dropped, and a merchant notice sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb.models import TerminalEventItem
from simrenew.adapters.dynamodb.outbox import OutboxItem, outbox_event
from simrenew.clock import FixedClock
from simrenew.errors import OutboxDeliveryFailed, TransientStoreError
from simrenew.services.outbox import OutboxDispatcher, OutboxRef
from tests.support.fakes.outbox import FakeOutboxRepository
from tests.support.fakes.table import FakeTable

START = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
TENANT = "t_outbox"


class Deliveries:
    """The agent webhooks: one delivery per (tenant, event id), `failures` attempts refused first."""

    def __init__(self, failures: int = 0, refuse: bool = False) -> None:
        self.failures, self.refuse = failures, refuse
        self.sent: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.calls = 0

    def emit_once(self, tenant_id: str, event_type: str, event_id: str, data: dict[str, Any], created: datetime) -> int:
        self.calls += 1
        if self.refuse:
            raise ValueError(f"unknown event type {event_type}")
        if self.failures:
            self.failures -= 1
            raise TransientStoreError("the data store is busy; retry shortly")
        self.sent.setdefault((tenant_id, event_id), (event_type, data))
        return 1


class Notices:
    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.sent: list[str] = []

    def send_event(self, event: TerminalEventItem) -> int:
        if self.down:
            raise OSError("smtp down")
        self.sent.append(event.sk)
        return 1


def setup(
    deliveries: Deliveries, notices: Notices | None = None
) -> tuple[OutboxDispatcher[OutboxItem, TerminalEventItem], FakeOutboxRepository, FixedClock]:
    repo, clock = FakeOutboxRepository(FakeTable()), FixedClock(START)
    return OutboxDispatcher(repo, deliveries, notices or Notices(), clock), repo, clock


def write(repo: FakeOutboxRepository, order_id: str = "ord_1") -> OutboxRef:
    entry = outbox_event(TENANT, "order.fulfilled", {"order_id": order_id, "amount_fen": 4000}, order_id, START)
    assert repo.put(entry)
    return OutboxRef(entry.pk, entry.sk, "outbox")


def test_an_event_delivered_three_times_reaches_its_webhooks_once() -> None:
    deliveries = Deliveries()
    outbox, repo, _ = setup(deliveries)
    ref = write(repo)
    assert [outbox.deliver(ref) for _ in range(3)] == ["delivered", "already_done", "already_done"]
    assert deliveries.calls == 1
    ((tenant, event_id), (event_type, data)) = next(iter(deliveries.sent.items()))
    assert (tenant, event_type, data["amount_fen"]) == (TENANT, "order.fulfilled", 4000)
    (entry,) = repo.entries(TENANT)
    assert (entry.state, entry.event_id, entry.gsi1pk) == ("delivered", event_id, None)


def test_the_same_change_written_twice_is_one_entry() -> None:
    _, repo, _ = setup(Deliveries())
    write(repo)
    assert repo.put(outbox_event(TENANT, "order.fulfilled", {"order_id": "other"}, "ord_1", START)) is False
    (entry,) = repo.entries(TENANT)
    assert '"ord_1"' in entry.data_json


def test_a_failed_delivery_stays_pending_with_a_backoff_and_the_drain_delivers_it_once() -> None:
    deliveries = Deliveries(failures=1)
    outbox, repo, clock = setup(deliveries)
    ref = write(repo)
    with pytest.raises(OutboxDeliveryFailed):
        outbox.deliver(ref)
    (entry,) = repo.entries(TENANT)
    assert (entry.state, entry.attempts, entry.next_attempt_at) == ("pending", 1, START + timedelta(minutes=1))
    assert outbox.drain_due() == 0  # not due yet
    clock.advance(timedelta(minutes=2))
    assert outbox.drain_due() == 1
    assert outbox.drain_due() == 0
    assert len(deliveries.sent) == 1 and repo.entries(TENANT)[0].state == "delivered"


def test_an_event_that_can_never_be_delivered_is_dropped_not_retried() -> None:
    deliveries = Deliveries(refuse=True)
    outbox, repo, clock = setup(deliveries)
    ref = write(repo)
    assert outbox.deliver(ref) == "dropped"
    clock.advance(timedelta(hours=3))
    assert outbox.drain_due() == 0 and deliveries.calls == 1
    (entry,) = repo.entries(TENANT)
    assert entry.state == "dropped" and "unknown event type" in str(entry.last_error)


def test_a_missing_item_and_other_kinds_deliver_nothing() -> None:
    deliveries = Deliveries()
    outbox, repo, _ = setup(deliveries)
    ref = write(repo)
    assert outbox.deliver(OutboxRef(ref.pk, ref.sk + "x", "outbox")) == "missing"
    assert outbox.deliver(OutboxRef(ref.pk, ref.sk, "something_else")) == "ignored"
    assert deliveries.calls == 0


def notice(repo: FakeOutboxRepository, state: str = "pending") -> OutboxRef:
    event = TerminalEventItem(
        f"TENANT#{TENANT}", "TLOG#SN1#EVENT#2026-03-10#receipt", tenant_id=TENANT, sn="SN1", event="receipt"
    )
    event.term, event.detail_json, event.state = "2026-03-10", "{}", state
    repo.table.put(event)
    return OutboxRef(event.pk, event.sk, "terminal_event")


def test_a_merchant_notice_is_sent_while_pending_and_not_when_settled() -> None:
    notices = Notices()
    outbox, repo, _ = setup(Deliveries(), notices)
    assert outbox.deliver(notice(repo)) == "sent" and len(notices.sent) == 1
    assert outbox.deliver(notice(repo, state="sent")) == "already_done" and len(notices.sent) == 1


def test_a_notice_whose_send_failed_counts_the_attempt_and_stays_pending() -> None:
    outbox, repo, _ = setup(Deliveries(), Notices(down=True))
    ref = notice(repo)
    with pytest.raises(OutboxDeliveryFailed):
        outbox.deliver(ref)
    stored = repo.terminal_event(ref.pk, ref.sk)
    assert stored is not None and (stored.state, stored.attempts) == ("pending", 1)
    assert "smtp down" in str(stored.last_error)
