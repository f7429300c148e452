"""充值卡 through VoucherService on the fakes: a code renews once, for its own agent's terminals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from simrenew.domain.dates import add_months
from simrenew.domain.vouchers import code_hash, generate_code, normalize_code
from simrenew.errors import NotFound, RateLimited, RuleViolation
from simrenew.services.vouchers import WRONG_CODES_PER_HOUR_PER_SN
from tests.service.conftest import World


def _codes(world: World, agent: str, months: int = 3, count: int = 2) -> tuple[str, list[str]]:
    plan = world.plan(agent, months=months)
    batch = world.vouchers.create_batch(agent, {"plan_id": plan.plan_id, "count": count}, "admin")
    return batch["batch_id"], batch["codes"]


def test_a_code_renews_the_terminal_by_its_plan_once(world: World) -> None:
    agent = world.agent()
    _batch, [code, _] = _codes(world, agent, months=3)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=10))

    done = world.vouchers.redeem({"sn": t.sn.lower(), "code": code.lower()}, "client-1")

    assert done["expires_on"] == add_months(t.expires_on, 3).isoformat()
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 3)
    with pytest.raises(RuleViolation) as err:
        world.vouchers.redeem({"sn": t.sn, "code": code}, "client-1")
    assert err.value.code == "invalid_voucher"
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 3)
    [line] = world.orders.renewals(agent, t.sn)
    assert (line["kind"], line["term_months"], line["amount_fen"]) == ("renewal", 3, 0)


def test_a_code_spent_on_one_terminal_cannot_renew_another(world: World) -> None:
    agent = world.agent()
    _batch, [code, _] = _codes(world, agent)
    first, second = world.terminal(agent), world.terminal(agent)

    world.vouchers.redeem({"sn": first.sn, "code": code}, "client-1")
    with pytest.raises(RuleViolation):
        world.vouchers.redeem({"sn": second.sn, "code": code}, "client-2")

    assert world.expiry(agent, second.sn) == second.expires_on
    [batch] = world.vouchers.batches(agent)
    assert (batch["redeemed"], batch["available"]) == (1, 1)


def test_another_agents_code_is_not_valid_for_my_terminal(world: World) -> None:
    mine, theirs = world.agent(), world.agent()
    _batch, [code, _] = _codes(world, theirs)
    t = world.terminal(mine)

    with pytest.raises(RuleViolation) as err:
        world.vouchers.redeem({"sn": t.sn, "code": code}, "client-1")

    assert err.value.code == "invalid_voucher"
    assert world.expiry(mine, t.sn) == t.expires_on
    assert world.vouchers.batches(theirs)[0]["redeemed"] == 0
    assert world.vouchers.batches(mine) == []


def test_a_voided_code_never_renews_and_a_redeemed_one_cannot_be_voided(world: World) -> None:
    agent = world.agent()
    batch_id, [lost, sold] = _codes(world, agent)
    t = world.terminal(agent)
    world.vouchers.redeem({"sn": t.sn, "code": sold}, "client-1")

    voided = world.vouchers.void(agent, batch_id, {"code": lost}, "admin")

    assert voided["batch"] == {**voided["batch"], "redeemed": 1, "voided": 1, "available": 0}
    with pytest.raises(RuleViolation):
        world.vouchers.redeem({"sn": t.sn, "code": lost}, "client-1")
    with pytest.raises(RuleViolation) as err:
        world.vouchers.void(agent, batch_id, {"code": sold}, "admin")
    assert err.value.code == "voucher_redeemed"


def test_guessing_codes_closes_the_terminal_for_that_client_only(world: World) -> None:
    agent = world.agent()
    _batch, [code, _] = _codes(world, agent)
    t = world.terminal(agent)
    for _ in range(WRONG_CODES_PER_HOUR_PER_SN):
        with pytest.raises(RuleViolation):
            world.vouchers.redeem({"sn": t.sn, "code": generate_code()}, "guesser")

    with pytest.raises(RateLimited):  # the right code too, for this client, until the window passes
        world.vouchers.redeem({"sn": t.sn, "code": code}, "guesser")
    done = world.vouchers.redeem({"sn": t.sn, "code": code}, "the-merchant")

    assert done["status"] == "fulfilled"


def test_an_unknown_terminal_is_not_found(world: World) -> None:
    agent = world.agent()
    _batch, [code, _] = _codes(world, agent)

    with pytest.raises(NotFound):
        world.vouchers.redeem({"sn": "NO-SUCH-SN-1", "code": code}, "client-1")


def test_of_two_redemptions_racing_for_one_code_exactly_one_renews(world: World) -> None:
    agent = world.agent()
    _batch, [code, _] = _codes(world, agent, months=3)
    first, second = world.terminal(agent), world.terminal(agent)
    stale = world.vouchers_repo.get(code_hash(normalize_code(code)))  # the second merchant's read ...
    world.vouchers.redeem({"sn": first.sn, "code": code}, "client-1")  # ... came before this write
    world.vouchers_repo.get = lambda _digest: stale  # type: ignore[method-assign]

    with pytest.raises(RuleViolation):
        world.vouchers.redeem({"sn": second.sn, "code": code}, "client-2")

    assert world.expiry(agent, first.sn) == add_months(first.expires_on, 3)
    assert world.expiry(agent, second.sn) == second.expires_on
    assert world.orders.renewals(agent, second.sn) == []
    assert world.vouchers.batches(agent)[0]["redeemed"] == 1
