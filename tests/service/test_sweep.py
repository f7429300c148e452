"""The expiry sweep (SweepService) on the fakes: each agent's own reminder days, lapsed terminals to
grace and then suspended (with the carrier operation in the same write), nothing sent twice, SMS
held at night and sent once in the morning, and one agent's sweep never touching another's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from simrenew.adapters.dynamodb.fleet import pending_event
from simrenew.adapters.dynamodb.models import TerminalEventItem
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.tenant import TenantStatus
from simrenew.services.sweep import SweepResult, SweepService
from tests.service.conftest import World
from tests.support.fakes.sweep import FakeSweepDays, FakeSweepRepository, SuspendingCarrier, fake_sweep_store
from tests.support.sweep import RecordingEmitter, RecordingSender

BASE = "https://pay.example.com"


@dataclass
class Sweeper:
    world: World
    days: FakeSweepDays
    emitter: RecordingEmitter

    def __post_init__(self) -> None:
        self.store = fake_sweep_store(self.world.table)
        repo = self.store._repo
        assert isinstance(repo, FakeSweepRepository)
        self.repo = repo

    def run(self, as_of: date, sender: RecordingSender) -> SweepResult:
        w = self.world
        service = SweepService(
            w.tenants,
            w.terminals,
            w.merchants,
            self.store,
            sender,
            self.emitter,
            SuspendingCarrier(),
            w.clock,
            BASE,
            self.days,
            sleep=lambda _s: None,
        )
        return service.run(as_of)


@pytest.fixture
def sweeper(world: World) -> Sweeper:
    s = Sweeper(world, FakeSweepDays(), RecordingEmitter())
    s.repo.last = world.clock.now().date() - timedelta(days=1)  # swept yesterday: no catch-up
    return s


def _registered_days_ago(world: World, agent: str, days: int, expires_on: date) -> Terminal:
    """A terminal registered `days` ago (still active then), as the sweep meets it today."""
    now = world.clock.now()
    world.clock.set(now - timedelta(days=days))
    try:
        return world.terminal(agent, expires_on=expires_on)
    finally:
        world.clock.set(now)


def _kinds(sender: RecordingSender, sn: str) -> list[str]:
    """The template kind of each message to the terminal's merchant (from its dedupe key)."""
    return [m["key"].split("#")[-2] for m in sender.sent if m["sn"] == sn]


def test_reminders_go_out_on_the_agents_own_days_only(world: World, sweeper: Sweeper) -> None:
    agent = world.agent(reminder_days=(10, 2))
    today = world.today(agent)
    ten, five, two = (world.terminal(agent, expires_on=today + timedelta(days=d)) for d in (10, 5, 2))
    seven = world.terminal(agent, expires_on=today + timedelta(days=7))  # a default day, not this agent's

    result = sweeper.run(today, sender := RecordingSender())

    assert _kinds(sender, ten.sn) == ["reminder_10"]
    assert _kinds(sender, two.sn) == ["reminder_2"]
    assert _kinds(sender, five.sn) == [] and _kinds(sender, seven.sn) == []
    assert result.reminders_sent == 2
    sms = next(m for m in sender.sent if m["sn"] == ten.sn)
    assert sms["channel"] == "sms" and sms["ctx"]["days_left"] == 10
    assert sms["ctx"]["pay_url"] == f"{BASE}/pay/{ten.sn}"
    expiring = [(t, e, d["sn"]) for t, e, d in sweeper.emitter.events if e == "terminal.expiring"]
    assert sorted(expiring) == sorted([(agent, "terminal.expiring", ten.sn), (agent, "terminal.expiring", two.sn)])


def test_a_lapsed_terminal_enters_grace_and_one_past_its_grace_is_suspended(world: World, sweeper: Sweeper) -> None:
    agent = world.agent(grace_days=3)
    today = world.today(agent)
    lapsed = _registered_days_ago(world, agent, 10, today - timedelta(days=1))
    past_grace = _registered_days_ago(world, agent, 10, today - timedelta(days=4))
    last_day = world.terminal(agent, expires_on=today)

    result = sweeper.run(today, sender := RecordingSender())

    assert world.terminals.get(agent, lapsed.sn).status is TerminalStatus.GRACE  # type: ignore[union-attr]
    assert world.terminals.get(agent, past_grace.sn).status is TerminalStatus.SUSPENDED  # type: ignore[union-attr]
    assert world.terminals.get(agent, last_day.sn).status is TerminalStatus.ACTIVE  # type: ignore[union-attr]
    assert _kinds(sender, last_day.sn) == ["expires_today"]
    assert (result.moved_to_grace, result.suspended) == (1, 1)
    assert _kinds(sender, lapsed.sn) == ["grace_started"]
    assert _kinds(sender, past_grace.sn) == ["suspended"]
    grace = next(m for m in sender.sent if m["sn"] == lapsed.sn)
    assert grace["ctx"]["grace_end"] == (lapsed.expires_on + timedelta(days=3)).isoformat()
    # The SIM's suspension at the carrier was written with the move, once; none for the others.
    assert [op.action for op in world.carrier.ops(agent, past_grace.sn)] == ["suspend"]
    assert world.carrier.ops(agent, lapsed.sn) == []
    # The agent's digest lists the suspended terminal.
    digest = next(m for m in sender.sent if m["kind"] == "digest")
    assert digest["to"] == f"{agent}@example.com"
    assert [s["sn"] for s in digest["ctx"]["suspended"]] == [past_grace.sn]


def test_a_second_run_of_the_day_sends_nothing_again_and_moves_nothing(world: World, sweeper: Sweeper) -> None:
    agent = world.agent()
    today = world.today(agent)
    due = world.terminal(agent, expires_on=today + timedelta(days=7))
    suspended = _registered_days_ago(world, agent, 30, today - timedelta(days=8))  # default grace: 7 days
    first = RecordingSender()
    sweeper.run(today, first)
    assert _kinds(first, due.sn) == ["reminder_7"] and _kinds(first, suspended.sn) == ["suspended"]

    again = RecordingSender()
    sweeper.days = FakeSweepDays()  # even a day's bookkeeping lost: the claims stop every repeat
    result = sweeper.run(today, again)

    assert again.sent == []
    assert (result.reminders_sent, result.suspended, result.digests_sent) == (0, 0, 0)
    assert [op.action for op in world.carrier.ops(agent, suspended.sn)] == ["suspend"]


def test_an_sms_at_night_is_held_and_sent_once_when_the_day_begins(world: World, sweeper: Sweeper) -> None:
    agent = world.agent()
    today = world.today(agent)
    due = world.terminal(agent, expires_on=today + timedelta(days=7))

    night = sweeper.run(today, asleep := RecordingSender(daytime=False))
    assert (night.held_for_daytime, night.reminders_sent) == (1, 0)
    assert [m for m in asleep.sent if m["sn"] == due.sn] == []

    world.clock.set(world.clock.now().replace(hour=23, minute=59) + timedelta(minutes=1))
    morning = RecordingSender()
    sweeper.run(today, morning)
    sweeper.run(today, later := RecordingSender())

    assert _kinds(morning, due.sn) == ["reminder_7"]
    assert _kinds(later, due.sn) == []


def test_one_agents_sweep_leaves_another_agents_terminals_and_merchants_alone(world: World, sweeper: Sweeper) -> None:
    mine, theirs = world.agent(reminder_days=(7,)), world.agent(reminder_days=(7,))
    today = world.today(mine)
    due = world.terminal(mine, expires_on=today + timedelta(days=7))
    lapsed = _registered_days_ago(world, theirs, 10, today - timedelta(days=1))
    world.tenants.set_status(theirs, {TenantStatus.ACTIVE}, TenantStatus.SUSPENDED, world.clock.now())

    sweeper.run(today, sender := RecordingSender())

    # The suspended agent's terminal is left as it is: no move, no message, no event, no digest.
    assert world.terminals.get(theirs, lapsed.sn).status is TerminalStatus.ACTIVE  # type: ignore[union-attr]
    assert {m["sn"] for m in sender.sent if m["sn"]} == {due.sn}
    assert {tenant for tenant, _e, _d in sweeper.emitter.events} == {mine}
    assert [m["to"] for m in sender.sent if m["kind"] == "digest"] == [f"{mine}@example.com"]
    message = next(m for m in sender.sent if m["sn"] == due.sn)
    merchant = world.merchants.get(mine, due.merchant_id or "")
    assert merchant is not None and message["to"] == merchant.phone


def test_a_queued_receipt_reaches_the_merchant_once_and_an_inactive_agents_is_dropped(
    world: World, sweeper: Sweeper
) -> None:
    mine, gone = world.agent(), world.agent()
    today = world.today(mine)
    renewed = world.terminal(mine, expires_on=today + timedelta(days=100))
    theirs = world.terminal(gone, expires_on=today + timedelta(days=100))
    now = world.clock.now()
    # The receipt claims a later expiry than the terminal has now (a refund since): it says the lower one.
    later = (renewed.expires_on + timedelta(days=30)).isoformat()
    world.table.put(pending_event(renewed, "receipt#o_1", "t1", {"amount_fen": 12_000, "expires_on": later}, now))
    world.table.put(pending_event(theirs, "receipt#o_2", "t1", {"amount_fen": 9_900}, now))
    world.tenants.set_status(gone, {TenantStatus.ACTIVE}, TenantStatus.SUSPENDED, now)
    service = SweepService(
        world.tenants,
        world.terminals,
        world.merchants,
        sweeper.store,
        sender := RecordingSender(),
        sweeper.emitter,
        SuspendingCarrier(),
        world.clock,
        BASE,
        sweeper.days,
    )

    assert service.drain_queued() == 1
    assert service.drain_queued() == 0

    assert [(m["sn"], m["kind"]) for m in sender.sent] == [(renewed.sn, "receipt")]
    ctx = sender.sent[0]["ctx"]
    assert (ctx["amount_fen"], ctx["expires_on"]) == (12_000, renewed.expires_on.isoformat())
    states = {e.sn: e.state for e in world.table.scan(TerminalEventItem)}
    assert states == {renewed.sn: "sent", theirs.sn: "dropped"}
