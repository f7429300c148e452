"""The expiry sweep's DynamoDB requests, counted per operation (issue 17: the sweep at its floor), and
its send pool: a reminder costs one conditional write (the claim, which is the record) and a share
of a BatchWriteItem (its outcome), nothing else; a rerun sends nothing twice; a failed send is tried
again by the next run; sends run concurrently on a bounded pool. Counts, never times."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bench.common import RequestCounter
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import new_terminal_item
from simrenew.adapters.dynamodb.models import TerminalItem
from simrenew.adapters.dynamodb.sweeps import NotificationItem, SweepStateItem
from simrenew.adapters.notify import SendError
from simrenew.clock import FixedClock
from simrenew.domain.fleet import Terminal, TerminalStatus, terminal_fields
from simrenew.domain.identifiers import luhn_check_digit
from simrenew.ports.notify import Outgoing
from simrenew.services.sweep_sends import SEND_WORKERS
from tests.support.sweep import RecordingSender, sweep_service

DAY0 = date(2031, 3, 1)
AGENT = {"name": "计数代理", "contact_name": "钱", "contact_email": "agent@example.com", "contact_phone": "13800138000"}
_serial = iter(range(10**6))


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)  # 10:00 in Shanghai: SMS may go


@pytest.fixture
def world(make_services: Any) -> Any:
    clock = FixedClock(_at(DAY0))
    svc = make_services(clock)
    tenant, _ = svc.tenants.create_active(dict(AGENT))
    merchant = svc.fleet.create_merchant(tenant.tenant_id, {"name": "张记", "phone": "13812345678"})  # SMS only
    SweepStateItem("SWEEP", "LAST", last_day=(DAY0 - timedelta(days=1)).isoformat()).save()
    sweep_service(RecordingSender(), clock).offsets()  # the registry seeded (the first run ever does it)
    return svc, clock, tenant.tenant_id, merchant.merchant_id


def _terminals(
    owner: tuple[str, str], count: int, expires: date, status: TerminalStatus = TerminalStatus.ACTIVE
) -> list[str]:
    """`count` terminals of expiry shard 0 (one shard: the counts do not depend on how SNs hash),
    written as the app writes them."""
    tenant_id, merchant_id = owner
    sns: list[str] = []
    with TerminalItem.batch_write() as batch:
        while len(sns) < count:
            i = next(_serial)
            sn = f"CNT-{i:07d}"
            if keys.expiry_shard(sn) != 0:
                continue
            payload = f"898601{i:013d}"
            fields = terminal_fields(
                {
                    "sn": sn,
                    "tid": f"{30_000_000 + i:08d}",
                    "iccid": payload + luhn_check_digit(payload),
                    "model": "PAX A920",
                    "merchant_id": merchant_id,
                    "expires_on": expires.isoformat(),
                }
            )
            item = new_terminal_item(Terminal(tenant_id=tenant_id, status=status, **fields), _at(DAY0))
            item.version = 1
            batch.save(item)
            sns.append(sn)
    return sns


def _swept(clock: FixedClock, sender: Any, day: date, emitter: Any = None) -> tuple[Any, dict[str, int]]:
    clock.set(_at(day))
    counter = RequestCounter()
    with counter.installed(), counter.phase("sweep") as phase:
        result = sweep_service(sender, clock, emitter).run(day)
    return result, {op: stats.calls for op, stats in phase.ops.items() if stats.calls}


def _reminders(sender: RecordingSender) -> list[str]:
    return sorted(m["sn"] for m in sender.sent if m["kind"] != "digest")


def _swept_fresh(clock: FixedClock, day: date) -> tuple[Any, list[str], dict[str, int]]:
    """The day's sweep to a fresh sender: its result, the reminders it sent (their SNs) and its requests."""
    sender = RecordingSender()
    result, ops = _swept(clock, sender, day)
    return result, _reminders(sender), ops


def test_a_due_reminder_costs_one_conditional_write_and_a_25th_of_a_batch_write(world: Any) -> None:
    _svc, clock, tenant_id, merchant_id = world
    first = _terminals((tenant_id, merchant_id), 40, DAY0 + timedelta(days=7))
    second = _terminals((tenant_id, merchant_id), 80, DAY0 + timedelta(days=8))  # the next day's 7-day reminder

    result, sent, ops_40 = _swept_fresh(clock, DAY0)
    assert result.reminders_sent == 40 and sent == sorted(first)
    result, sent, ops_80 = _swept_fresh(clock, DAY0 + timedelta(days=1))
    assert result.reminders_sent == 80 and sent == sorted(second)

    # The day's fixed cost (its plan's 6 dates x 8 shards of the expiry index, the shards' leases and
    # checkpoints, the agent's digest, heartbeats) is the same both days; each due terminal adds one
    # PutItem (its claim: conditional, the notification's record) and its outcome, written 25 a
    # BatchWriteItem (40 outcomes: 2 requests; 80: 4).
    extra = Counter(ops_80)
    extra.subtract(ops_40)
    assert {op: n for op, n in extra.items() if n} == {"PutItem": 40, "BatchWriteItem": 2}
    assert sum(extra.values()) / 40 <= 1.2
    assert ops_40 == {
        "Query": 8 * 6 + 4 + 4 + 1 + 1,  # expiry index; held SMS and queued events (4 shards each); digests; the week
        "GetItem": 1 + 1 + 1 + 1,  # the day; the last day; offsets; the day at its end
        # every shard's checkpoint before the shards (not a GetItem each); the page's agent and
        # merchant (the digest's end knows the agent); every shard's checkpoint at the day's end
        "BatchGetItem": 3,
        "PutItem": 40 + 1 + 1 + 2 + 1,  # the claims; the digest's; the day; heartbeats (start, end); the last day
        "UpdateItem": 8 + 8 + 1,  # each shard's lease and final checkpoint; the day's end
        "BatchWriteItem": 2 + 1 + 1,  # outcomes; digest notes; the digest's outcome
    }


def test_a_rerun_of_the_day_sends_nothing_twice(world: Any) -> None:
    _svc, clock, tenant_id, merchant_id = world
    sns = _terminals((tenant_id, merchant_id), 30, DAY0 + timedelta(days=7))
    first = RecordingSender()
    _swept(clock, first, DAY0)
    assert _reminders(first) == sorted(sns)
    again = RecordingSender()
    result, _ops = _swept(clock, again, DAY0)
    assert again.sent == [] and result.reminders_sent == 0
    states = Counter(
        n.state
        for n in NotificationItem.query(keys.tenant_pk(tenant_id), NotificationItem.sk.startswith("TLOG#"))
        if isinstance(n, NotificationItem)
    )
    assert states == {"sent": 30}


class FlakySender(RecordingSender):
    """Refuses the messages of some terminals (a provider outage) the first time it is asked."""

    def __init__(self, refuse: set[str]) -> None:
        super().__init__()
        self.refuse = set(refuse)

    def send_to(self, message: Outgoing) -> str:
        if message.sn in self.refuse:
            self.refuse.discard(message.sn)
            raise SendError("SNS publish failed: Throttling", retryable=True, code="Throttling")
        return super().send_to(message)


def test_a_failed_send_is_recorded_and_tried_again_by_the_next_run(world: Any) -> None:
    _svc, clock, tenant_id, merchant_id = world
    sns = _terminals((tenant_id, merchant_id), 6, DAY0 + timedelta(days=7))
    sender = FlakySender(set(sns[:2]))
    result, _ops = _swept(clock, sender, DAY0)
    assert result.reminders_sent == 4 and _reminders(sender) == sorted(sns[2:])
    failed = [
        NotificationItem.get(
            keys.tenant_pk(tenant_id),
            keys.notification_sk(sn, (DAY0 + timedelta(days=7)).isoformat(), "reminder_7", "sms"),
        )
        for sn in sns[:2]
    ]
    assert [(n.state, "Throttling" in (n.error or "")) for n in failed] == [("failed", True)] * 2
    # The next run (the next day's) sends them first thing, with their own day's message.
    result, _ops = _swept(clock, sender, DAY0 + timedelta(days=1))
    assert _reminders(sender) == sorted(sns)  # each once in all
    assert {m["ctx"]["days_left"] for m in sender.sent if m["kind"] != "digest"} == {7}
    result, _ops = _swept(clock, sender, DAY0 + timedelta(days=2))
    assert _reminders(sender) == sorted(sns)


class GatedSender(RecordingSender):
    """Holds each send until `gate` sends are in flight at once, and records the most there were."""

    def __init__(self, gate: int) -> None:
        super().__init__()
        self._barrier = threading.Barrier(gate, timeout=30)
        self._lock = threading.Lock()
        self.in_flight = self.most = 0

    def send_to(self, message: Outgoing) -> str:
        if message.kind == "digest":  # the day's end: one message
            return super().send_to(message)
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            self._barrier.wait()  # broken (an error) if the sweep never has `gate` sends in flight
            return super().send_to(message)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_sends_run_concurrently_on_a_bounded_pool(world: Any) -> None:
    _svc, clock, tenant_id, merchant_id = world
    sns = _terminals((tenant_id, merchant_id), 2 * SEND_WORKERS, DAY0 + timedelta(days=7))
    sender = GatedSender(SEND_WORKERS)
    result, _ops = _swept(clock, sender, DAY0)
    assert result.reminders_sent == len(sns) and _reminders(sender) == sorted(sns)
    assert sender.most == SEND_WORKERS  # 8 at once, never more (16 were due)


def test_a_suspension_costs_its_transaction_one_conditional_write_and_a_25th_of_a_batch_write(world: Any) -> None:
    """Past its grace (7 days by default) a terminal is suspended: its move and its carrier operation
    in one transaction (conditional on the version read), its notice claimed like a reminder."""
    svc, clock, tenant_id, merchant_id = world
    first = _terminals((tenant_id, merchant_id), 20, DAY0 - timedelta(days=8), TerminalStatus.GRACE)
    second = _terminals((tenant_id, merchant_id), 40, DAY0 - timedelta(days=7), TerminalStatus.GRACE)
    result, sent, ops_20 = _swept_fresh(clock, DAY0)
    assert result.suspended == 20 and sent == sorted(first)
    result, sent, ops_40 = _swept_fresh(clock, DAY0 + timedelta(days=1))
    assert result.suspended == 40 and sent == sorted(second)
    assert {svc.fleet.get(tenant_id, sn).status for sn in first + second} == {TerminalStatus.SUSPENDED}
    extra = Counter(ops_40)
    extra.subtract(ops_20)
    assert {op: n for op, n in extra.items() if n} == {"TransactWriteItems": 20, "PutItem": 20, "BatchWriteItem": 1}


def test_the_webhook_events_of_a_checkpoint_read_each_agents_endpoints_once(world: Any) -> None:
    """40 terminal.expiring events through the real webhooks service: one endpoint Query for the
    agent (was one an event), the same day's cost otherwise."""
    svc, clock, tenant_id, merchant_id = world
    _terminals((tenant_id, merchant_id), 40, DAY0 + timedelta(days=7))
    result, ops = _swept(clock, RecordingSender(), DAY0, svc.webhooks)
    assert result.reminders_sent == 40
    assert ops["Query"] == 8 * 6 + 4 + 4 + 1 + 1 + 1
