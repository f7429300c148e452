"""The carrier connection on the fakes: accounts (the key only in the secret store), the runner of
carrier operations (a status change reaches the carrier once; failures recorded, retried, listed),
the usage sync, and one agent never reaching another's accounts or operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.models import TerminalItem
from simrenew.domain.carrier import (
    BYTES_PER_MB,
    AccountStatus,
    CarrierAction,
    CarrierAuthFailed,
    CarrierRejected,
    CarrierUnreachable,
    SimState,
)
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.errors import Conflict, NotFound, RuleViolation
from simrenew.services.carrier import MAX_RUNS, CarrierAccounts, CarrierOperations, CarrierSync
from tests.service.conftest import World
from tests.service.test_orders import _order, _pay_online
from tests.support.carrier_fixtures import ACCOUNT
from tests.support.fakes.carrier_store import (
    FakeCarrierKeys,
    FakeCarrierPlatform,
    FakeCarrierStoreRepository,
    FakePlatforms,
    fake_carrier_store,
    fake_carrier_terminals,
)


@dataclass
class Carrier:
    """The carrier services of one World, on the same in-memory table."""

    world: World
    dispatched: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        w = self.world
        self.store = fake_carrier_store(w.table)
        self.keys = FakeCarrierKeys()
        self.platforms = FakePlatforms(self.keys)
        self.accounts = CarrierAccounts(self.store, self.keys, self.platforms, w.clock, local=False)
        self.ops = CarrierOperations(self.store, w.terminals, self.platforms, w.clock)
        self.sync: CarrierSync[TerminalItem] = CarrierSync(
            self.store, w.tenants, fake_carrier_terminals(w.table), self.platforms, w.clock, self.dispatched.append
        )

    def connect(self, tenant_id: str, **change: str) -> FakeCarrierPlatform:
        account = self.accounts.create(tenant_id, {**ACCOUNT, **change})
        return self.platforms.platforms.setdefault(account.account_id, FakeCarrierPlatform())

    def suspension(self, terminal: Terminal) -> tuple[str, str]:
        """The suspension the sweep writes with a terminal's status change (keyed by its version)."""
        op = carrier_op(terminal, CarrierAction.SUSPEND, self.world.clock.now())
        assert isinstance(self.store.repo, FakeCarrierStoreRepository) and self.store.repo.put_op(op)
        return op.pk, op.sk

    def active_there(self, platform: FakeCarrierPlatform, agent: str) -> tuple[Terminal, tuple[str, str]]:
        """A terminal suspended here whose SIM still has service at the carrier, and its suspension."""
        t = _suspended(self.world, agent)
        platform.states[t.iccid] = SimState.ACTIVE
        return t, self.suspension(t)


@pytest.fixture
def carrier(world: World) -> Carrier:
    return Carrier(world)


def _suspended(world: World, agent: str) -> Terminal:
    """A terminal whose term ended long ago: suspended from its registration."""
    t = world.terminal(agent, expires_on=date(2020, 1, 1))
    assert t.status is TerminalStatus.SUSPENDED
    return t


# --- accounts ---------------------------------------------------------------------------------------------
def test_a_connected_account_keeps_its_key_in_the_secret_store_only(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    account = carrier.accounts.create(agent, ACCOUNT)

    assert (account.status, account.base_url) == (AccountStatus.UNCHECKED, "https://cc.example.com")
    assert carrier.keys.keys == {(agent, account.account_id): "super-secret-key-1"}
    assert "super-secret-key-1" not in str(account.to_json())
    assert [a.account_id for a in carrier.accounts.list(agent)] == [account.account_id]
    with pytest.raises(Conflict) as err:
        carrier.accounts.create(agent, {**ACCOUNT, "api_key": "another-key"})
    assert (err.value.code, err.value.field) == ("carrier_account_exists", "carrier")
    assert len(carrier.keys.keys) == 1  # the refused one left no secret behind

    carrier.accounts.delete(agent, account.account_id)
    assert (carrier.accounts.list(agent), carrier.keys.keys) == ([], {})


def test_a_check_refused_by_the_platform_marks_the_account(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    account_id = carrier.accounts.list(agent)[0].account_id
    platform.fail_with.append(CarrierAuthFailed("401"))

    with pytest.raises(RuleViolation) as err:
        carrier.accounts.check(agent, account_id)

    assert err.value.code == "carrier_auth_failed"
    assert carrier.accounts.get(agent, account_id).status is AccountStatus.AUTH_FAILED
    assert carrier.accounts.check(agent, account_id) == {"ok": True, "account_id": account_id, "status": "ok"}
    assert carrier.accounts.get(agent, account_id).status is AccountStatus.OK


# --- operations -------------------------------------------------------------------------------------------
def test_a_suspension_reaches_the_carrier_once(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    t, (pk, sk) = carrier.active_there(platform, agent)

    assert carrier.ops.deliver(pk, sk) == "done"
    assert carrier.ops.deliver(pk, sk) == "already_done"  # a second delivery of the same item
    assert carrier.ops.drain_due() == 0

    assert platform.sent == [("suspend", t.iccid)]
    [op] = carrier.ops.for_terminal(agent, t.sn)
    assert (op["action"], op["state"], op["outcome"], op["attempts"]) == ("suspend", "done", "changed", 0)
    state = carrier.sync.state_of(agent, [t], with_ops=True)[t.sn]
    assert (state["state"], state["pending"], state["last_error"], state["drift"]) == ("suspended", None, None, None)


def test_a_sim_already_stopped_is_not_sent_the_change_again(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    t = _suspended(world, agent)
    platform.states[t.iccid] = SimState.SUSPENDED

    assert carrier.ops.deliver(*carrier.suspension(t)) == "done"

    assert platform.sent == []
    assert carrier.ops.for_terminal(agent, t.sn)[0]["outcome"] == "already"


def test_a_paid_renewal_resumes_the_stopped_sim_once(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    plan = world.plan(agent, months=12, price_fen=100)
    t = _suspended(world, agent)
    platform.states[t.iccid] = SimState.SUSPENDED

    _pay_online(world, _order(world, agent, t.sn, plan.plan_id))
    [pending] = carrier.ops.for_terminal(agent, t.sn)
    assert (pending["action"], pending["state"]) == ("resume", "pending")

    assert carrier.ops.drain_due() == 1
    assert carrier.ops.drain_due() == 0
    assert platform.sent == [("resume", t.iccid)]
    assert carrier.ops.for_terminal(agent, t.sn)[0]["state"] == "done"


def test_a_terminal_renewed_meanwhile_supersedes_its_suspension(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    plan = world.plan(agent)
    t = _suspended(world, agent)
    platform.states[t.iccid] = SimState.ACTIVE
    key = carrier.suspension(t)
    _pay_online(world, _order(world, agent, t.sn, plan.plan_id))  # active again before the runner came

    assert carrier.ops.deliver(*key) == "superseded"
    assert platform.sent == []


def test_without_an_account_the_change_is_left_to_the_agent(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    t = _suspended(world, agent)

    assert carrier.ops.deliver(*carrier.suspension(t)) == "manual"

    [op] = carrier.ops.for_terminal(agent, t.sn)
    assert op["state"] == "manual" and "no CMCC carrier account" in op["last_error"]
    assert carrier.platforms.opened == []


def test_a_refusal_fails_at_once_is_listed_and_a_retry_sends_it(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    t, key = carrier.active_there(platform, agent)
    platform.fail_with.append(CarrierRejected("the platform refused: rate plan locked"))

    assert carrier.ops.deliver(*key) == "failed"

    [failed] = carrier.ops.failed(agent)
    assert (failed["state"], failed["attempts"]) == ("failed", 1)
    assert failed["last_error"].startswith("carrier_rejected:")
    assert carrier.sync.state_of(agent, [t])[t.sn]["last_error"] == failed["last_error"]
    assert platform.sent == []

    retried = carrier.ops.retry(agent, failed["op_id"])
    assert (retried["result"], retried["state"]) == ("done", "done")
    assert platform.sent == [("suspend", t.iccid)]
    assert carrier.ops.failed(agent) == []
    with pytest.raises(Conflict) as err:
        carrier.ops.retry(agent, failed["op_id"])
    assert err.value.code == "operation_not_failed"


def test_an_unreachable_platform_is_tried_again_after_the_backoff_then_failed(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    platform = carrier.connect(agent)
    t, key = carrier.active_there(platform, agent)
    platform.fail_with.extend(CarrierUnreachable("timeout") for _ in range(3))  # every round of one run

    assert carrier.ops.deliver(*key) == "retry_later"
    [op] = carrier.ops.for_terminal(agent, t.sn)
    assert (op["state"], op["attempts"]) == ("pending", 1)
    assert carrier.ops.drain_due() == 0  # not due yet: a minute's backoff
    assert carrier.sync.state_of(agent, [t])[t.sn]["pending"] == "suspend"

    for _run in range(MAX_RUNS - 1):
        world.clock.advance(timedelta(hours=3))
        platform.fail_with.extend(CarrierUnreachable("timeout") for _ in range(3))
        assert carrier.ops.drain_due() == 0
    [failed] = carrier.ops.failed(agent)
    assert (failed["attempts"], failed["last_error"]) == (MAX_RUNS, "carrier_unreachable: timeout")
    assert platform.sent == []


# --- one agent, its own carrier ------------------------------------------------------------------------------
def test_an_agent_never_reaches_another_agents_account_or_operations(world: World, carrier: Carrier) -> None:
    mine, theirs = world.agent(), world.agent()
    my_platform, their_platform = carrier.connect(mine), carrier.connect(theirs)
    t, key = carrier.active_there(their_platform, theirs)
    their_platform.fail_with.append(CarrierRejected("refused"))
    assert carrier.ops.deliver(*key) == "failed"
    [failed] = carrier.ops.failed(theirs)

    with pytest.raises(NotFound) as err:
        carrier.ops.retry(mine, failed["op_id"])
    assert err.value.code == "carrier_operation_not_found"
    assert carrier.ops.failed(mine) == [] and carrier.ops.for_terminal(mine, t.sn) == []
    their_account = carrier.accounts.list(theirs)[0].account_id
    with pytest.raises(NotFound):
        carrier.accounts.get(mine, their_account)
    with pytest.raises(NotFound):
        carrier.accounts.delete(mine, their_account)
    assert carrier.accounts.get(theirs, their_account).account_id == their_account

    assert carrier.ops.retry(theirs, failed["op_id"])["result"] == "done"
    assert (my_platform.sent, their_platform.sent) == ([], [("suspend", t.iccid)])
    assert carrier.platforms.opened == [their_account, their_account]


# --- the sync -------------------------------------------------------------------------------------------------
def test_the_sync_writes_measured_usage_with_its_quota_alert_and_lists_drift(world: World, carrier: Carrier) -> None:
    agent, other = world.agent(), world.agent()
    platform = carrier.connect(agent)
    carrier.connect(other)
    platform.as_of = world.clock.now()
    near = world.terminal(agent, data_quota_mb=1000)
    stopped = world.terminal(agent)
    theirs = world.terminal(other, data_quota_mb=1000)
    platform.states.update({near.iccid: SimState.ACTIVE, stopped.iccid: SimState.SUSPENDED})
    platform.used.update({near.iccid: 850 * BYTES_PER_MB + 7, theirs.iccid: 999 * BYTES_PER_MB})

    [stats] = carrier.sync.run(agent)

    assert (stats["sims"], stats["usage_writes"], stats["drift"]) == (2, 1, 1)
    measured = world.terminals.get(agent, near.sn)
    assert measured is not None and measured.data_used_mb == 850
    assert [e.event for e in world.terminals.events(agent, near.sn)] == ["quota_80"]
    report = carrier.sync.drift_report(agent)
    assert [(r["sn"], r["reason"]) for r in report["items"]] == [(stopped.sn, "inactive_at_carrier")]
    untouched = world.terminals.get(other, theirs.sn)
    assert untouched is not None and untouched.data_used_mb == 0  # the other agent's SIM is not read
    assert carrier.sync.drift_report(other)["items"] == []

    [again] = carrier.sync.run(agent)  # nothing changed since: nothing written
    assert (again["sim_writes"], again["usage_writes"]) == (0, 0)
    assert [e.event for e in world.terminals.events(agent, near.sn)] == ["quota_80"]
    account = carrier.accounts.list(agent)[0]
    assert account.last_sync is not None and account.last_sync["state"] == "done"


def test_a_sync_refused_by_the_platform_is_recorded_on_the_account(world: World, carrier: Carrier) -> None:
    agent = world.agent()
    carrier.connect(agent)
    world.terminal(agent)
    account_id = carrier.accounts.list(agent)[0].account_id
    carrier.platforms.platforms[account_id].supports_changed_since = True

    def refuse(_since: Any) -> Any:
        raise CarrierAuthFailed("401")

    carrier.platforms.platforms[account_id].changed_since = refuse  # type: ignore[method-assign]

    [stats] = carrier.sync.run(agent)

    assert stats["error"] == "carrier_auth_failed"
    account = carrier.accounts.get(agent, account_id)
    assert account.status is AccountStatus.AUTH_FAILED
    assert account.last_sync is not None and account.last_sync["state"] == "failed"


def test_a_sync_is_queued_only_for_an_agent_with_an_account(world: World, carrier: Carrier) -> None:
    agent, bare = world.agent(), world.agent()
    carrier.connect(agent)

    with pytest.raises(RuleViolation) as err:
        carrier.sync.request(bare)
    assert err.value.code == "no_carrier_account"

    queued = carrier.sync.request(agent)
    assert queued["status"] == "queued"
    assert carrier.dispatched == [{"task": "carrier_sync", "tenant_id": agent, "sync_id": queued["sync_id"]}]
    assert carrier.sync.run_all() == 1
