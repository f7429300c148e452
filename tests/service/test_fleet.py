"""Terminals and plans through FleetService on the fakes: identifiers unique across every agent."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from simrenew.adapters.dynamodb.carrier import sim_item
from simrenew.domain.carrier import SimRecord, SimState
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.tenant import Role
from simrenew.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationError
from tests.service.conftest import World
from tests.support.fleet import bad_luhn, iccid


def test_an_sn_held_by_another_agent_is_claimed_without_saying_by_whom(world: World) -> None:
    mine, theirs = world.agent(), world.agent()
    held = world.terminal(theirs)

    with pytest.raises(Conflict) as err:
        world.terminal(mine, sn=held.sn.lower())

    assert (err.value.code, err.value.field) == ("identifier_claimed", "sn")
    assert theirs not in err.value.message and held.sn not in err.value.message
    assert world.terminals.get(mine, held.sn) is None
    assert world.terminals.get(theirs, held.sn) is not None


@pytest.mark.parametrize("name", ["tid", "iccid"])
def test_a_tid_or_iccid_held_by_another_agent_is_claimed(world: World, name: str) -> None:
    mine, theirs = world.agent(), world.agent()
    held = world.terminal(theirs)

    with pytest.raises(Conflict) as err:
        world.terminal(mine, **{name: getattr(held, name)})

    assert (err.value.code, err.value.field) == ("identifier_claimed", name)
    assert list(world.terminals.iterate(mine)) == []  # nothing half written: no terminal, no claims
    fresh = world.terminal(mine)  # and the other identifiers of that attempt stay free
    assert fresh.tenant_id == mine


def test_my_own_terminal_holding_a_tid_is_named(world: World) -> None:
    agent = world.agent()
    first = world.terminal(agent)

    with pytest.raises(Conflict) as err:
        world.terminal(agent, tid=first.tid)

    assert (err.value.code, err.value.field) == ("identifier_in_use", "tid")
    assert first.sn in err.value.message


def test_the_same_sn_twice_is_terminal_exists(world: World) -> None:
    agent = world.agent()
    first = world.terminal(agent)

    with pytest.raises(Conflict) as err:
        world.terminal(agent, sn=first.sn)

    assert err.value.code == "terminal_exists"


def test_bad_identifiers_are_refused_naming_the_field_and_nothing_is_written(world: World) -> None:
    agent = world.agent()
    for field, value in (("sn", "ab"), ("tid", "1234567"), ("iccid", bad_luhn(iccid()))):
        with pytest.raises(ValidationError) as err:
            world.terminal(agent, **{field: value})
        assert err.value.field == field
    with pytest.raises(ValidationError) as err:  # a carrier the ICCID's prefix contradicts
        world.terminal(agent, iccid=iccid("898601"), carrier="CMCC")
    assert err.value.field == "carrier"
    assert list(world.terminals.iterate(agent)) == []


def test_changing_a_tid_moves_its_claim(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent)
    new_tid = f"{(int(t.tid) + 1) % 10**8:08d}"

    world.fleet.update(agent, t.sn, {"tid": new_tid}, actor="admin")

    other = world.agent()
    reused = world.terminal(other, tid=t.tid)  # the old TID is free again
    assert reused.tid == t.tid
    with pytest.raises(Conflict) as err:
        world.terminal(other, tid=new_tid)
    assert err.value.code == "identifier_claimed"


def test_a_plan_price_change_prices_the_next_order_not_the_last(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=9_900)
    t = world.terminal(agent)
    before, _ = world.orders.create(agent, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="k")

    changed = world.fleet.update_plan(agent, plan.plan_id, {"price_fen": 12_800})
    after, _ = world.orders.create(agent, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="k")

    assert changed.price_fen == 12_800
    assert (before.amount_fen, after.amount_fen) == (9_900, 12_800)
    assert world.orders.get(agent, before.order_id).amount_fen == 9_900


def test_plan_names_are_unique_per_agent_only(world: World) -> None:
    agent, other = world.agent(), world.agent()
    world.plan(agent, name="年卡")

    with pytest.raises(Conflict) as err:
        world.plan(agent, name="年卡")
    assert (err.value.code, err.value.field) == ("plan_exists", "name")
    assert world.plan(other, name="年卡").name == "年卡"
    assert [p.name for p in world.fleet.list_plans(other)] == ["年卡"]


def test_a_plan_priced_over_the_order_limit_is_refused(world: World) -> None:
    agent = world.agent()
    with pytest.raises(ValidationError) as err:
        world.plan(agent, price_fen=1_000_001)
    assert err.value.field == "price_fen"


def test_another_agents_terminals_and_plans_are_not_there(world: World) -> None:
    mine, theirs = world.agent(), world.agent()
    t = world.terminal(theirs)
    plan = world.plan(theirs)

    with pytest.raises(NotFound):
        world.fleet.get(mine, t.sn)
    with pytest.raises(NotFound):
        world.fleet.deactivate(mine, t.sn)
    with pytest.raises(ValidationError) as err:  # their plan cannot be put on my terminal
        world.terminal(mine, plan_id=plan.plan_id)
    assert err.value.field == "plan_id"
    assert world.fleet.list_plans(mine) == []


def test_the_tier_cannot_reach_a_real_table(world: World) -> None:
    """The guard of conftest: a real repository (PynamoDB, boto3) fails here, whatever it is asked."""
    from simrenew.adapters.dynamodb.fleet import TerminalRepository

    with pytest.raises(Exception, match="the service tier never opens a connection"):
        TerminalRepository().item("t_x", "SN-000001")


def test_each_agent_lists_and_searches_only_its_own_terminals(world: World) -> None:
    mine, theirs = world.agent(), world.agent()
    today = world.today(mine)
    soon = world.terminal(mine, expires_on=today + timedelta(days=5))
    later = world.terminal(mine, expires_on=today + timedelta(days=200))
    foreign = world.terminal(theirs, expires_on=today + timedelta(days=5))

    listed = world.fleet.list_terminals(mine, {}, 50, None).items
    expiring = world.fleet.list_terminals(mine, {"status": "expiring"}, 50, None).items
    searched = world.fleet.list_terminals(mine, {"q": foreign.sn[:6]}, 50, None).items

    assert sorted(t.sn for t in listed) == sorted([soon.sn, later.sn])
    assert [t.sn for t in expiring] == [soon.sn]  # within the largest reminder day (30)
    assert foreign.sn not in {t.sn for t in searched}
    assert {t.tenant_id for t in searched} <= {mine}


def test_a_page_of_terminals_goes_on_from_its_cursor_without_repeats(world: World) -> None:
    agent = world.agent()
    made = {world.terminal(agent).sn for _ in range(5)}

    first = world.fleet.list_terminals(agent, {}, 2, None)
    seen = [t.sn for t in first.items]
    cursor = first.next_cursor
    while cursor:
        page = world.fleet.list_terminals(agent, {}, 2, cursor)
        seen += [t.sn for t in page.items]
        cursor = page.next_cursor

    assert sorted(seen) == sorted(made)


def test_the_tier_alone_never_loads_moto(request: pytest.FixtureRequest) -> None:
    """Run alone (`make service`), nothing the tier imports brings moto in (nor binds a table)."""
    directories = {Path(str(item.path)).parent for item in request.session.items}
    if directories == {Path(__file__).parent}:
        assert "moto" not in sys.modules
        from simrenew.adapters.dynamodb.models import Item

        assert Item.Meta.host is None  # never pointed at DynamoDB Local


def test_a_terminal_moves_to_another_agent_with_its_owners_code_once(world: World) -> None:
    owner, buyer, third = world.agent(), world.agent(), world.agent()
    t = world.terminal(owner)
    code, _expires = world.fleet.issue_transfer_code(owner, t.sn)

    with pytest.raises(RuleViolation) as err:
        world.fleet.claim(buyer, {"sn": t.sn, "code": "AAAA-BBBB-CCCC"})
    assert err.value.code == "invalid_transfer_code"
    moved = world.fleet.claim(buyer, {"sn": t.sn.lower(), "code": code})

    assert (moved.tenant_id, moved.merchant_id) == (buyer, None)
    assert world.terminals.get(owner, t.sn) is None
    assert world.fleet.get(buyer, t.sn).expires_on == t.expires_on
    holder = world.terminals.claim("tid", t.tid)
    assert holder is not None and holder.tenant_id == buyer
    with pytest.raises(RuleViolation):  # the code is spent: it moves nothing again
        world.fleet.claim(third, {"sn": t.sn, "code": code})
    assert world.terminals.get(buyer, t.sn) is not None


# --- what fleet writes with a change: the ledger line, the carrier resume ------------------------------------
def test_a_hand_moved_expiry_needs_an_admin_and_a_reason_and_is_ledgered_once(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent)
    later = (t.expires_on + timedelta(days=30)).isoformat()

    with pytest.raises(PermissionDenied) as denied:
        world.fleet.update(agent, t.sn, {"expires_on": later, "reason": "补录"}, actor="k_staff", role=Role.STAFF)
    assert denied.value.code == "admin_required"
    with pytest.raises(ValidationError) as no_reason:
        world.fleet.update(agent, t.sn, {"expires_on": later}, actor="k_admin")
    assert no_reason.value.field == "reason"
    assert world.orders_repo.ledger(agent, t.sn) == [] and world.expiry(agent, t.sn) == t.expires_on

    changed = world.fleet.update(agent, t.sn, {"expires_on": later, "reason": " 线下补录 "}, actor="k_admin")

    assert changed.expires_on.isoformat() == later and world.expiry(agent, t.sn).isoformat() == later
    [line] = world.orders_repo.ledger(agent, t.sn)
    assert (line.kind, line.amount_fen, line.term_months) == ("adjustment", 0, 0)
    assert (line.old_expires_on, line.new_expires_on) == (t.expires_on.isoformat(), later)
    assert (line.by, line.note) == ("k_admin", "线下补录")
    world.fleet.update(agent, t.sn, {"model": "PAX A80"})  # a change that does not move the expiry
    assert len(world.orders_repo.ledger(agent, t.sn)) == 1


def _sim_read_as(world: World, t: Terminal, state: SimState) -> None:
    """What the last carrier sync read of the terminal's SIM."""
    world.table.put(sim_item(t.tenant_id, SimRecord(t.sn, t.iccid, state=state), world.clock.now()))


def test_a_reactivation_resumes_a_sim_that_was_stopped_and_only_that(world: World) -> None:
    agent = world.agent()
    stopped, working = world.terminal(agent), world.terminal(agent)
    _sim_read_as(world, stopped, SimState.SUSPENDED)
    _sim_read_as(world, working, SimState.ACTIVE)
    for t in (stopped, working):
        assert world.fleet.deactivate(agent, t.sn).status is TerminalStatus.DEACTIVATED
    assert world.carrier.ops(agent, stopped.sn) == []  # a deactivation does not stop the SIM

    back = world.fleet.reactivate(agent, stopped.sn)
    assert world.fleet.reactivate(agent, working.sn).status is TerminalStatus.ACTIVE

    assert back.status is TerminalStatus.ACTIVE
    [op] = world.carrier.ops(agent, stopped.sn)
    assert (op.action, op.state, op.iccid) == ("resume", "pending", stopped.iccid)
    assert world.carrier.ops(agent, working.sn) == []
    with pytest.raises(RuleViolation) as err:
        world.fleet.reactivate(agent, stopped.sn)
    assert err.value.code == "terminal_not_deactivated"
    assert len(world.carrier.ops(agent, stopped.sn)) == 1


def test_a_reading_that_crosses_the_quota_raises_its_alert_once(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent, data_quota_mb=1000)
    today = world.today(agent).isoformat()

    saved, alerts = world.fleet.record_usage(agent, t.sn, {"data_used_mb": 850, "as_of": today})
    again, repeated = world.fleet.record_usage(agent, t.sn, {"data_used_mb": 900, "as_of": today})

    assert (saved.data_used_mb, alerts) == (850, ["quota_80"])
    assert (again.data_used_mb, repeated) == (900, [])
    assert [e.event for e in world.terminals.events(agent, t.sn)] == ["quota_80"]
    with pytest.raises(NotFound):
        world.fleet.record_usage(world.agent(), t.sn, {"data_used_mb": 1, "as_of": today})
