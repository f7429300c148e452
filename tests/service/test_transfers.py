"""转赠 through TransferService on the fakes: whole months move between two terminals of one agent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from simrenew.domain.dates import add_months
from simrenew.errors import NotFound, RuleViolation, ValidationError
from tests.service.conftest import World


def test_months_move_from_one_terminal_to_the_other_with_a_ledger_line_on_each(world: World) -> None:
    agent = world.agent()
    today = world.today(agent)
    source = world.terminal(agent, expires_on=today + timedelta(days=200))
    target = world.terminal(agent, expires_on=today + timedelta(days=10))

    done = world.transfers.transfer_time(
        agent, source.sn.lower(), {"to_sn": target.sn, "months": 2, "reason": "换机"}, "admin"
    )

    assert done["from"] == {
        "sn": source.sn,
        "expires_on_before": source.expires_on.isoformat(),
        "expires_on_after": add_months(source.expires_on, -2).isoformat(),
    }
    assert done["to"]["expires_on_after"] == add_months(target.expires_on, 2).isoformat()
    assert world.expiry(agent, source.sn) == add_months(source.expires_on, -2)
    assert world.expiry(agent, target.sn) == add_months(target.expires_on, 2)
    out, into = world.orders.renewals(agent, source.sn), world.orders.renewals(agent, target.sn)
    assert [(r["kind"], r["term_months"]) for r in out] == [("transfer_out", -2)]
    assert [(r["kind"], r["term_months"]) for r in into] == [("transfer_in", 2)]
    assert len(world.transfers_repo.transfers(agent)) == 1


def test_more_months_than_are_left_unused_are_refused_and_nothing_moves(world: World) -> None:
    agent = world.agent()
    today = world.today(agent)
    source = world.terminal(agent, expires_on=today + timedelta(days=75))  # two whole months left
    target = world.terminal(agent)

    with pytest.raises(RuleViolation):
        world.transfers.transfer_time(agent, source.sn, {"to_sn": target.sn, "months": 3, "reason": "r"}, "admin")

    assert world.expiry(agent, source.sn) == source.expires_on
    assert world.expiry(agent, target.sn) == target.expires_on
    assert world.orders.renewals(agent, source.sn) == []


def test_another_agents_terminal_is_simply_not_there(world: World) -> None:
    mine, theirs = world.agent(), world.agent()
    source = world.terminal(mine, expires_on=world.today(mine) + timedelta(days=300))
    foreign = world.terminal(theirs)

    with pytest.raises(NotFound) as err:
        world.transfers.transfer_time(mine, source.sn, {"to_sn": foreign.sn, "months": 1, "reason": "r"}, "admin")

    assert err.value.field == "to_sn"
    assert world.expiry(theirs, foreign.sn) == foreign.expires_on
    with pytest.raises(NotFound):  # nor may they give time from my terminal
        world.transfers.transfer_time(theirs, source.sn, {"to_sn": foreign.sn, "months": 1, "reason": "r"}, "admin")


def test_a_terminal_cannot_give_time_to_itself(world: World) -> None:
    agent = world.agent()
    source = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=300))

    with pytest.raises(ValidationError) as err:
        world.transfers.transfer_time(agent, source.sn, {"to_sn": source.sn, "months": 1, "reason": "r"}, "admin")

    assert err.value.field == "to_sn"


def test_a_terminal_changed_meanwhile_makes_the_transfer_reload_and_apply_once(world: World) -> None:
    agent = world.agent()
    today = world.today(agent)
    source = world.terminal(agent, expires_on=today + timedelta(days=200))
    target = world.terminal(agent, expires_on=today + timedelta(days=10))
    real_commit = world.transfers_repo.commit
    raced = []

    def commit_after_a_concurrent_usage_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not raced:  # another request saves the target between the read and the write
            raced.append(True)
            world.fleet.record_usage(agent, target.sn, {"data_used_mb": 5, "as_of": world.today(agent).isoformat()})
        return real_commit(*args, **kwargs)

    world.transfers_repo.commit = commit_after_a_concurrent_usage_write  # type: ignore[method-assign]

    world.transfers.transfer_time(agent, source.sn, {"to_sn": target.sn, "months": 1, "reason": "r"}, "admin")

    assert world.expiry(agent, target.sn) == add_months(target.expires_on, 1)
    assert world.expiry(agent, source.sn) == add_months(source.expires_on, -1)
    assert len(world.orders.renewals(agent, target.sn)) == 1
    target_now = world.terminals.get(agent, target.sn)
    assert target_now is not None and target_now.data_used_mb == 5  # the other write was not lost
