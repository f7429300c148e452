"""Renewal orders through OrderService on the fakes: totals in fen, the renewal rule, paid once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from simrenew.domain.dates import add_months
from simrenew.domain.orders import MAX_ORDER_FEN, ORDERS_PER_TERMINAL_PER_DAY
from simrenew.domain.tenant import ServiceFee
from simrenew.errors import Conflict, NotFound, RateLimited, RuleViolation, ValidationError
from tests.service.conftest import World
from tests.support.fakes.payments import WEBHOOK_SECRET, sign

E = TypeVar("E", bound=Exception)


def _order(world: World, agent: str, sn: str, plan_id: str, payment: str = "online") -> dict[str, Any]:
    order, pay = world.orders.create(agent, {"lines": [{"sn": sn, "plan_id": plan_id}], "payment": payment}, actor="k")
    return {**order.to_json(), **(pay or {})}


def _refused(world: World, agent: str, sn: str, plan_id: str, error: type[E]) -> E:
    """The `error` ordering the plan for the terminal is refused with."""
    with pytest.raises(error) as err:
        _order(world, agent, sn, plan_id)
    return err.value


def _deliver(world: World, payload: bytes) -> dict[str, Any]:
    return world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))


def _pay_online(world: World, order: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return _deliver(world, world.gateway.succeeded_event(order["payment_intent_id"], **kw))


def test_the_total_is_the_plan_price_plus_a_flat_fee_per_line_in_fen(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("flat", Decimal(500)))
    plan = world.plan(agent, price_fen=9_900)
    t = world.terminal(agent)

    order = _order(world, agent, t.sn, plan.plan_id)

    assert (order["amount_fen"], order["fee_fen"]) == (10_400, 500)
    intent = world.gateway.intents[order["payment_intent_id"]]
    assert (intent["amount"], intent["application_fee_amount"], intent["currency"]) == (10_400, 500, "cny")


def test_a_percentage_fee_rounds_half_up_to_whole_fen(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("percent", Decimal("2.5")))
    plan = world.plan(agent, price_fen=1_010)  # 25.25 fen
    order = _order(world, agent, world.terminal(agent).sn, plan.plan_id)
    assert (order["fee_fen"], order["amount_fen"]) == (25, 1_035)
    plan = world.plan(agent, price_fen=1_020)  # 25.5 fen
    order = _order(world, agent, world.terminal(agent).sn, plan.plan_id)
    assert (order["fee_fen"], order["amount_fen"]) == (26, 1_046)


def test_a_paid_order_stacks_the_term_on_an_expiry_not_yet_passed(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=3)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=20))

    order = _order(world, agent, t.sn, plan.plan_id)
    _pay_online(world, order)

    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 3)
    assert world.orders.get(agent, order["order_id"]).status.value == "fulfilled"


def test_a_lapsed_terminal_renews_from_the_payment_day_and_is_active_again(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=1)
    today = world.today(agent)
    t = world.terminal(agent, expires_on=today - timedelta(days=3))
    assert t.status.value == "grace"

    _pay_online(world, _order(world, agent, t.sn, plan.plan_id))

    renewed = world.terminals.get(agent, t.sn)
    assert renewed is not None
    assert (renewed.expires_on, renewed.status.value) == (add_months(today, 1), "active")


def test_renewal_basis_from_payment_ignores_the_time_still_left(world: World) -> None:
    agent = world.agent(renewal_basis="from_payment")
    plan = world.plan(agent, months=12)
    today = world.today(agent)
    t = world.terminal(agent, expires_on=today + timedelta(days=40))

    _pay_online(world, _order(world, agent, t.sn, plan.plan_id))

    assert world.expiry(agent, t.sn) == add_months(today, 12)


def test_month_end_is_clamped(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=1)
    jan31 = date(world.today(agent).year + 1, 1, 31)
    t = world.terminal(agent, expires_on=jan31)

    order = _order(world, agent, t.sn, plan.plan_id, payment="offline")
    world.orders.mark_paid(agent, order["order_id"], {"note": "现金 cash"}, "admin")

    assert world.expiry(agent, t.sn) == date(jan31.year, 2, 28)


def test_the_same_payment_delivered_twice_renews_once(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=12)
    t = world.terminal(agent)
    order = _order(world, agent, t.sn, plan.plan_id)
    payload = world.gateway.succeeded_event(order["payment_intent_id"], event_id="evt_once")

    _deliver(world, payload)
    _deliver(world, payload)
    _pay_online(world, order)  # another event for the same PaymentIntent

    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 12)
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)] == ["renewal"]


def test_cash_cannot_be_taken_twice_for_one_order(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=12)
    t = world.terminal(agent)
    order = _order(world, agent, t.sn, plan.plan_id, payment="offline")
    world.orders.mark_paid(agent, order["order_id"], {"note": "cash"}, "admin")

    with pytest.raises(Conflict) as err:
        world.orders.mark_paid(agent, order["order_id"], {"note": "cash again"}, "admin")

    assert err.value.code == "order_not_payable"
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 12)


def test_a_payment_that_does_not_match_the_order_goes_to_review_and_extends_nothing(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=9_900)
    t = world.terminal(agent)
    order = _order(world, agent, t.sn, plan.plan_id)

    _pay_online(world, order, amount=100)

    assert world.orders.get(agent, order["order_id"]).status.value == "needs_review"
    assert world.expiry(agent, t.sn) == t.expires_on


def test_a_deactivated_terminal_cannot_be_ordered(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    world.fleet.deactivate(agent, t.sn)

    assert _refused(world, agent, t.sn, plan.plan_id, RuleViolation).code == "terminal_deactivated"


def test_an_inactive_or_foreign_plan_is_refused_naming_the_line(world: World) -> None:
    agent, other = world.agent(), world.agent()
    t = world.terminal(agent)
    foreign = world.plan(other)

    assert _refused(world, agent, t.sn, foreign.plan_id, ValidationError).field == "lines[0].plan_id"


def test_another_agents_terminal_cannot_be_ordered_or_read(world: World) -> None:
    agent, other = world.agent(), world.agent()
    plan = world.plan(agent)
    theirs = world.terminal(other)
    order = _order(world, other, theirs.sn, world.plan(other).plan_id)

    assert _refused(world, agent, theirs.sn, plan.plan_id, NotFound).code == "terminal_not_found"
    with pytest.raises(NotFound) as err:
        world.orders.get(agent, order["order_id"])
    assert err.value.code == "order_not_found"
    assert world.orders.page(agent, None, 50, None).items == []


def test_a_terminal_renewed_the_days_limit_of_times_takes_no_further_order(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=1)
    t = world.terminal(agent)
    for _ in range(ORDERS_PER_TERMINAL_PER_DAY):
        order = _order(world, agent, t.sn, plan.plan_id, payment="offline")
        world.orders.mark_paid(agent, order["order_id"], {"note": "cash"}, "admin")

    assert _refused(world, agent, t.sn, plan.plan_id, RateLimited).code == "too_many_orders"
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, ORDERS_PER_TERMINAL_PER_DAY)


def test_a_delivery_that_read_the_order_before_another_fulfilled_it_changes_nothing(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=12)
    t = world.terminal(agent)
    order = _order(world, agent, t.sn, plan.plan_id)
    stale = world.orders_repo.item(agent, order["order_id"])  # the slower delivery's read
    assert stale is not None
    _pay_online(world, order)

    outcome = world.orders.fulfilment.fulfil(
        stale, ("evt_racing", "payment_intent.succeeded"), {"action": "paid"}, paid_via="stripe", paid_fen=12_000
    )

    assert outcome == "order_state"
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 12)
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)] == ["renewal"]


def test_a_suspended_terminal_paid_for_is_active_with_a_fresh_quota_and_its_sim_resumed(world: World) -> None:
    agent = world.agent(grace_days=7)
    plan = world.plan(agent, months=1)  # 1024 MB
    today = world.today(agent)
    t = world.terminal(agent, expires_on=today - timedelta(days=30), data_quota_mb=500)
    world.fleet.record_usage(agent, t.sn, {"data_used_mb": 480, "as_of": today.isoformat()})
    assert t.status.value == "suspended"

    _pay_online(world, _order(world, agent, t.sn, plan.plan_id))

    renewed = world.terminals.get(agent, t.sn)
    assert renewed is not None
    assert (renewed.status.value, renewed.expires_on) == ("active", add_months(today, 1))
    assert (renewed.data_quota_mb, renewed.data_used_mb) == (1024, 0)
    ops = world.carrier.ops(agent, t.sn)
    assert [op.action for op in ops] == ["resume"]  # written with the renewal, sent by the outbox


def test_an_unpaid_order_expires_after_its_half_hour_and_its_payment_intent_is_cancelled(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order = _order(world, agent, t.sn, plan.plan_id)
    world.clock.advance(timedelta(minutes=29))
    assert world.orders.expire_due() == 0

    world.clock.advance(timedelta(minutes=2))

    assert world.orders.expire_due() == 1
    assert world.orders.get(agent, order["order_id"]).status.value == "expired"
    assert world.gateway.cancelled == [order["payment_intent_id"]]
    assert world.orders.expire_due() == 0  # once


def test_an_order_over_the_amount_limit_is_refused_and_nothing_is_written(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=MAX_ORDER_FEN // 2 + 1)
    lines = [{"sn": world.terminal(agent).sn, "plan_id": plan.plan_id} for _ in range(2)]

    with pytest.raises(RuleViolation) as err:
        world.orders.create(agent, {"lines": lines}, actor="k")

    assert err.value.code == "amount_too_large"
    assert world.orders.page(agent, None, 50, None).items == []
    assert world.gateway.intents == {}
