"""The expiry sweep with an injected clock: reminders exactly once, grace, suspension,
reactivation, crash and rerun, missed days caught up. Collected by unit and integration."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb.sweeps import RUN_LEASE, NotificationItem, SweepRepository, SweepStateItem
from simrenew.clock import FixedClock
from simrenew.services.sweep import SweepService
from tests.support.builders import signup_body
from tests.support.fleet import terminal_body
from tests.support.sweep import Killed, RecordingEmitter, RecordingSender, sweep_service

_days = itertools.count(random.randrange(0, 150))
AGENT = signup_body(name="Sweep Agent")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def day0() -> date:
    """A sweep day of its own per test: the sweep's checkpoint and last day are platform-wide,
    and the integration suite shares one table."""
    return date(2030, 1, 1) + timedelta(days=next(_days) * 100)


@pytest.fixture
def sweep_world(make_services: Any, day0: date) -> Any:
    clock = FixedClock(_at(day0))
    svc = make_services(clock)
    SweepStateItem("SWEEP", "LAST", last_day=(day0 - timedelta(days=1)).isoformat()).save()

    def sweeper(sender: RecordingSender, emitter: RecordingEmitter | None = None) -> SweepService:
        return sweep_service(sender, clock, emitter)

    return svc, clock, sweeper


def _agent_with_terminal(svc: Any, expires_on: date, email: str | None = "shop@example.com") -> tuple[str, Any]:
    tenant, _ = svc.tenants.create_active(dict(AGENT))
    body = {"name": "张记", "phone": "13812345678"}
    if email:
        body["email"] = email
    m = svc.fleet.create_merchant(tenant.tenant_id, body)
    t = svc.fleet.register(
        tenant.tenant_id, terminal_body(merchant_id=m.merchant_id, expires_on=expires_on.isoformat())
    )
    return tenant.tenant_id, t


def _run(clock: FixedClock, sweeper: Any, sender: RecordingSender, day: date, emitter: Any = None) -> Any:
    clock.set(_at(day))
    return sweeper(sender, emitter).run(day)


def _mine(sender: RecordingSender, sn: str) -> list[tuple[str, str]]:
    return [(m["channel"], m["key"].split("#")[-2]) for m in sender.sent if m["sn"] == sn]


def test_a_terminal_walks_through_reminders_grace_suspension_and_reactivation(sweep_world: Any, day0: date) -> None:
    svc, clock, sweeper = sweep_world
    expires = day0 + timedelta(days=30)
    tenant_id, t = _agent_with_terminal(svc, expires)
    sender, emitter = RecordingSender(), RecordingEmitter()
    for offset in range(0, 30 + 7 + 3):
        _run(clock, sweeper, sender, day0 + timedelta(days=offset), emitter)
        if offset == 35:
            assert svc.fleet.get(tenant_id, t.sn).status.value == "grace"
    kinds = [k for channel, k in _mine(sender, t.sn) if channel == "sms"]
    assert kinds == ["reminder_30", "reminder_7", "reminder_1", "expires_today", "grace_started", "suspended"]
    assert len([k for channel, k in _mine(sender, t.sn) if channel == "email"]) == 6  # once per channel
    assert svc.fleet.get(tenant_id, t.sn).status.value == "suspended"
    assert [e[1] for e in emitter.events].count("terminal.suspended") == 1
    # The suspension wrote its carrier operation in the same transaction (the dispatcher runs it).
    assert [op["action"] for op in svc.carrier_ops.for_terminal(tenant_id, t.sn)] == ["suspend"]
    # (The integration suite shares one table: other tests' queued receipts may go out too.)
    assert all(m["ctx"]["pay_url"] == "https://pay.example.com/pay/" + t.sn for m in sender.sent if m["sn"] == t.sn)

    # Paid: the renewal reactivates it and the sweep leaves it alone.
    plan = svc.fleet.create_plan(tenant_id, {"name": "年卡", "term_months": 12, "data_quota_mb": 1, "price_fen": 100})
    order, _ = svc.orders.create(
        tenant_id, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}], "payment": "offline"}, actor="test"
    )
    svc.orders.mark_paid(tenant_id, order.order_id, {"note": "cash"}, "test")
    renewed = svc.fleet.get(tenant_id, t.sn)
    assert renewed.status.value == "active" and renewed.expires_on > day0 + timedelta(days=300)
    before = len(sender.sent)
    _run(clock, sweeper, sender, day0 + timedelta(days=40))
    after = [(m["channel"], m["kind"]) for m in sender.sent[before:] if m["sn"] == t.sn]
    assert sorted(after) == [("email", "receipt"), ("sms", "receipt")]  # the receipt, nothing else


def test_a_sweep_killed_after_k_of_n_reminders_sends_exactly_n_in_total(sweep_world: Any, day0: date) -> None:
    svc, clock, sweeper = sweep_world
    sns = [_agent_with_terminal(svc, day0 + timedelta(days=7), email=None)[1].sn for _ in range(6)]
    dying = RecordingSender(die_after=4)
    with pytest.raises(Killed):
        _run(clock, sweeper, dying, day0)
    again = RecordingSender()
    _run(clock, sweeper, again, day0)
    total = [m["sn"] for m in dying.sent + again.sent if m["sn"] in sns]
    assert sorted(total) == sorted(sns)  # n reminders, none twice
    third = RecordingSender()
    _run(clock, sweeper, third, day0)
    assert [m for m in third.sent if m["sn"] in sns] == []


def test_a_claim_left_sending_is_taken_over_only_when_its_run_is_dead(sweep_world: Any, day0: date) -> None:
    """A Lambda killed mid-send (no chance to clean up) stops its heartbeat: after RUN_LEASE its
    claim is free; while the run is alive, a second run leaves it alone. (Two runs taking over
    at the same moment: test_concurrency_gaps.py, against DynamoDB Local.)"""
    _svc, clock, _sweeper = sweep_world
    repo = SweepRepository()
    now = clock.now()
    sk = f"LOG#SN-RACE-{random.randrange(10**9)}#NOTIF#term#reminder_7#sms"

    def claim(run_id: str, at: datetime) -> NotificationItem | None:
        item = NotificationItem(
            "TENANT#t_race",
            sk,
            tenant_id="t_race",
            template="reminder_7",
            channel="sms",
            recipient_masked="+86****5678",
            state="sending",
            run_id=run_id,
            created_at=at,
        )
        return repo.claim(item, at)

    repo.alive("run_a", now + RUN_LEASE)
    assert claim("run_a", now) is not None  # run A claims and is killed right after
    assert claim("run_b", now + RUN_LEASE / 2) is None  # A is still within its lease
    later = now + RUN_LEASE + timedelta(seconds=1)
    taken = claim("run_b", later)
    assert taken is not None and taken.run_id == "run_b"
    repo.alive("run_b", later + RUN_LEASE)
    assert claim("run_c", later) is None  # B is alive and sending it
    stored = NotificationItem.get("TENANT#t_race", sk, consistent_read=True)
    assert (stored.state, stored.run_id) == ("sending", "run_b")


def test_missed_days_are_caught_up_without_stale_reminders(sweep_world: Any, day0: date) -> None:
    svc, clock, sweeper = sweep_world
    _t1, soon = _agent_with_terminal(svc, day0 + timedelta(days=8), email=None)  # 7-day reminder due on day0+1
    _t2, lapsed = _agent_with_terminal(svc, day0 + timedelta(days=1), email=None)  # expires day0+1, grace day0+2
    first = RecordingSender()
    _run(clock, sweeper, first, day0)
    # The schedule does not run on day0+1, +2, +3; day0+4 catches up.
    later = RecordingSender()
    result = _run(clock, sweeper, later, day0 + timedelta(days=4))
    assert ("sms", "reminder_7") in _mine(later, soon.sn)
    assert [k for _, k in _mine(later, lapsed.sn)] == ["grace_started"]  # no stale "1 day left"
    # The count is platform-wide and the integration suite shares one table: at least this one.
    assert result.moved_to_grace >= 1
    assert svc.fleet.get(_t2, lapsed.sn).status.value == "grace"


def test_sms_outside_daytime_is_held_and_sent_by_a_later_run(sweep_world: Any, day0: date) -> None:
    svc, clock, sweeper = sweep_world
    _tenant, t = _agent_with_terminal(svc, day0 + timedelta(days=7), email=None)
    night = RecordingSender(daytime=False)
    result = _run(clock, sweeper, night, day0)
    assert [m for m in night.sent if m["channel"] == "sms"] == [] and result.held_for_daytime >= 1
    day = RecordingSender()
    clock.set(_at(day0) + timedelta(hours=23))  # past the hold (the fake's window opens 23:59 UTC)
    sweeper(day).run(day0)
    mine = [m for m in day.sent if m["channel"] == "sms" and m["sn"] == t.sn]
    assert len(mine) == 1 and mine[0]["ctx"]["days_left"] == 7
    repeat = RecordingSender()
    sweeper(repeat).run(day0)
    assert [m for m in repeat.sent if m["sn"] == t.sn] == []


def test_quota_alerts_and_receipts_go_out_once_through_the_same_channels(sweep_world: Any, day0: date) -> None:
    svc, clock, sweeper = sweep_world
    tenant_id, t = _agent_with_terminal(svc, day0 + timedelta(days=200))
    svc.fleet.update(tenant_id, t.sn, {"data_quota_mb": 1000})
    svc.fleet.record_usage(tenant_id, t.sn, {"data_used_mb": 850, "as_of": day0.isoformat()})
    sender = RecordingSender()
    _run(clock, sweeper, sender, day0)
    quota = [m for m in sender.sent if m["sn"] == t.sn and m["kind"] == "quota_80"]
    assert {m["channel"] for m in quota} == {"sms", "email"}
    assert quota[0]["ctx"]["data_used_mb"] == 850
    again = RecordingSender()
    _run(clock, sweeper, again, day0 + timedelta(days=1))
    assert [m for m in again.sent if m["sn"] == t.sn] == []


def test_near_the_time_limit_the_sweep_stops_at_a_checkpoint_and_the_next_call_finishes(
    sweep_world: Any, day0: date
) -> None:
    svc, clock, sweeper = sweep_world
    sns = [_agent_with_terminal(svc, day0 + timedelta(days=1), email=None)[1].sn for _ in range(3)]
    budget = iter([120_000] * 5 + [10_000] * 1000)  # plenty for a few shards, then under a minute
    first = RecordingSender()
    clock.set(_at(day0))
    partial = sweeper(first).run(day0, remaining_ms=lambda: next(budget))
    assert partial.status == "continued"
    rest = RecordingSender()
    done = sweeper(rest).run(day0, remaining_ms=lambda: 900_000)
    assert done.status == "done"
    total = [m["sn"] for m in first.sent + rest.sent if m["sn"] in sns]
    assert sorted(total) == sorted(sns)


def test_a_renewal_that_lands_during_the_sweep_is_never_overwritten(
    sweep_world: Any, day0: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, clock, sweeper = sweep_world
    tenant_id, t = _agent_with_terminal(svc, day0 - timedelta(days=1), email=None)  # lapsed: due for grace
    plan = svc.fleet.create_plan(tenant_id, {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 100})
    real_due = SweepRepository.due

    def due_then_renewed(self: SweepRepository, day: date, shard: int, after: str | None = None) -> Any:
        items = list(real_due(self, day, shard, after))  # the sweep has read the terminal...
        if any(i.sn == t.sn for i in items):  # ...and the merchant pays before it writes
            order, _ = svc.orders.create(
                tenant_id, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}], "payment": "offline"}, actor="test"
            )
            svc.orders.mark_paid(tenant_id, order.order_id, {"note": "cash"}, "test")
        yield from items

    monkeypatch.setattr(SweepRepository, "due", due_then_renewed)
    clock.set(_at(day0))
    result = sweeper(RecordingSender()).run(day0)
    assert result.moved_to_grace == 0
    after = svc.fleet.get(tenant_id, t.sn)
    assert after.status.value == "active" and after.expires_on > day0


# --- each agent's own settings (issue 13) ----------------------------------------------------------
def _agent_with_settings(svc: Any, settings: dict[str, Any], expires_on: date) -> tuple[str, Any]:
    """An agent that chose its own reminder/grace settings before registering a terminal."""
    tenant, _ = svc.tenants.create_active(dict(AGENT))
    svc.tenants.update(tenant.tenant_id, {"settings": settings})
    m = svc.fleet.create_merchant(tenant.tenant_id, {"name": "张记", "phone": "13812345678"})
    t = svc.fleet.register(
        tenant.tenant_id, terminal_body(merchant_id=m.merchant_id, expires_on=expires_on.isoformat())
    )
    return tenant.tenant_id, t


def _sms_by_day(clock: FixedClock, sweeper: Any, sn: str, first: date, last: date) -> dict[date, list[str]]:
    """Run the sweep once a day from first to last; the SMS kinds this terminal got each day."""
    out: dict[date, list[str]] = {}
    day = first
    while day <= last:
        sender = RecordingSender()
        _run(clock, sweeper, sender, day)
        kinds = [k for channel, k in _mine(sender, sn) if channel == "sms"]
        if kinds:
            out[day] = kinds
        day += timedelta(days=1)
    return out


def test_given_reminder_days_15_3_1_when_swept_daily_then_each_is_sent_on_its_own_day(
    sweep_world: Any, day0: date
) -> None:
    svc, clock, sweeper = sweep_world
    expires = day0 + timedelta(days=15)
    _tenant, t = _agent_with_settings(svc, {"reminder_days": [15, 3, 1]}, expires)
    sent = _sms_by_day(clock, sweeper, t.sn, day0, expires)
    assert sent == {
        day0: ["reminder_15"],
        expires - timedelta(days=3): ["reminder_3"],
        expires - timedelta(days=1): ["reminder_1"],
        expires: ["expires_today"],
    }


@pytest.mark.parametrize("grace", [10, 2])  # a long grace and a short one
def test_given_a_grace_of_n_days_then_the_terminal_is_suspended_on_the_day_after_it_ends(
    sweep_world: Any, day0: date, grace: int
) -> None:
    svc, clock, sweeper = sweep_world
    tenant_id, t = _agent_with_settings(svc, {"grace_days": grace}, day0)
    sent = _sms_by_day(clock, sweeper, t.sn, day0, day0 + timedelta(days=grace))
    assert sent == {day0: ["expires_today"], day0 + timedelta(days=1): ["grace_started"]}
    assert svc.fleet.get(tenant_id, t.sn).status.value == "grace"  # the grace's last day after expiry: still grace
    after = day0 + timedelta(days=grace + 1)
    suspended = _sms_by_day(clock, sweeper, t.sn, after, after + timedelta(days=2))
    assert suspended == {after: ["suspended"]}
    assert svc.fleet.get(tenant_id, t.sn).status.value == "suspended"


def test_given_custom_settings_when_a_day_is_missed_then_the_next_run_catches_up_its_reminder_and_suspension(
    sweep_world: Any, day0: date
) -> None:
    svc, clock, sweeper = sweep_world
    settings = {"reminder_days": [15, 3], "grace_days": 10}
    _t1, soon = _agent_with_settings(svc, settings, day0 + timedelta(days=4))  # 3-day reminder due day0+1
    t2, lapsed = _agent_with_settings(svc, settings, day0 - timedelta(days=10))  # suspension due day0+1
    assert svc.fleet.get(t2, lapsed.sn).status.value == "grace"
    _run(clock, sweeper, RecordingSender(), day0)
    later = RecordingSender()  # the schedule does not run on day0+1; day0+2 catches up
    result = _run(clock, sweeper, later, day0 + timedelta(days=2))
    assert [k for c, k in _mine(later, soon.sn) if c == "sms"] == ["reminder_3"]
    assert [k for c, k in _mine(later, lapsed.sn) if c == "sms"] == ["suspended"]
    assert result.suspended >= 1
    assert svc.fleet.get(t2, lapsed.sn).status.value == "suspended"


def test_settings_chosen_before_the_registry_existed_are_seeded_from_the_active_tenants(
    sweep_world: Any, day0: date
) -> None:
    """Agents whose settings were stored before the registry: the first run rebuilds it."""
    svc, clock, sweeper = sweep_world
    expires = day0 + timedelta(days=12)
    _tenant, t = _agent_with_settings(svc, {"reminder_days": [12]}, expires)
    SweepStateItem("SWEEP", "OFFSETS").delete()  # as if the settings predated the registry
    sender = RecordingSender()
    _run(clock, sweeper, sender, day0)
    assert [k for c, k in _mine(sender, t.sn) if c == "sms"] == ["reminder_12"]
    assert 12 in SweepRepository().offsets().reminder_days  # type: ignore[union-attr]
