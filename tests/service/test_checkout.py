"""The pay page (CheckoutService) on the fakes: the look-up by SN or TID, the public order in fen,
the reload that hands out the same order, the refusals (nothing written), tenant isolation, the
per-container context that never charges a stale price, and the expiry of unpaid orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from simrenew.adapters.dynamodb.models import OpenOrderItem, OrderItem
from simrenew.adapters.dynamodb.tenant_context import CONTEXT_TTL_S
from simrenew.domain.orders import PAYMENT_WINDOW_MINUTES
from simrenew.domain.tenant import ServiceFee
from simrenew.errors import NotFound, RateLimited, RuleViolation, ValidationError
from simrenew.services.checkout import PUBLIC_OPEN_ORDERS_PER_TERMINAL
from tests.service.conftest import World
from tests.support.fakes.checkout import FakeTenantContexts


def _stored_orders(world: World) -> int:
    return sum(1 for _ in world.table.scan(OrderItem))


def _buy(world: World, sn: str, plan_id: str, client: str = "client-1") -> tuple[Any, dict[str, Any], str]:
    order, pay, token = world.orders.public_create({"sn": sn, "plan_id": plan_id}, client)
    return order, pay, token


def test_the_look_up_by_sn_and_by_tid_shows_the_same_page_with_prices_in_fen(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("flat", Decimal(300)))
    year = world.plan(agent, months=12, price_fen=9_900)
    quarter = world.plan(agent, months=3, price_fen=3_000)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=10))

    by_sn = world.orders.public_lookup(t.sn.lower(), "c1")
    by_tid = world.orders.public_lookup(t.tid, "c2")

    assert by_sn == by_tid
    assert (by_sn["sn"], by_sn["days_left"], by_sn["renewable"]) == (t.sn, 10, True)
    # Shortest term first; the fee is added per line, in whole fen.
    assert [(p["plan_id"], p["price_fen"], p["fee_fen"], p["total_fen"]) for p in by_sn["plans"]] == [
        (quarter.plan_id, 3_000, 300, 3_300),
        (year.plan_id, 9_900, 300, 10_200),
    ]
    assert by_sn["merchant_name_masked"] is not None and "*" in by_sn["merchant_name_masked"]
    assert by_sn["currency"] == "CNY"


@pytest.mark.parametrize("text", ["ZZ99999999", "12345678", "not an sn!", ""])
def test_an_unknown_or_malformed_sn_or_tid_is_the_same_404(world: World, text: str) -> None:
    world.terminal(world.agent())
    with pytest.raises(NotFound) as err:
        world.orders.public_lookup(text, "c")
    assert err.value.code == "terminal_not_found"


def test_a_suspended_agents_terminal_is_not_found_and_takes_no_order(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    world.orders.public_lookup(t.sn, "c")  # this container holds the context
    world.onboarding.suspend(agent)
    with pytest.raises(NotFound):
        _buy(world, t.sn, plan.plan_id)
    assert _stored_orders(world) == 0
    with pytest.raises(NotFound):
        world.orders.public_lookup(t.sn, "c")


def test_a_public_order_charges_price_plus_fee_in_fen_and_opens_one_payment_intent(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("percent", Decimal("2.5")))
    plan = world.plan(agent, price_fen=1_020)  # 25.5 fen of fee: 26
    t = world.terminal(agent)

    order, pay, token = _buy(world, t.sn, plan.plan_id)

    assert (order.amount_fen, order.fee_fen, order.channel) == (1_046, 26, "public")
    intent = world.gateway.intents[pay["payment_intent_id"]]
    assert (intent["amount"], intent["application_fee_amount"]) == (1_046, 26)
    assert pay["client_secret"] and token
    status = world.orders.public_status(order.order_id, token)
    assert (status["status"], status["amount_fen"], status["sn"]) == ("pending_payment", 1_046, t.sn)
    with pytest.raises(NotFound):
        world.orders.public_status(order.order_id, token + "x")


def test_a_reload_hands_out_the_same_unpaid_order_and_no_new_intent(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order, pay, token = _buy(world, t.sn, plan.plan_id)

    again, pay2, token2 = _buy(world, t.tid, plan.plan_id, "client-2")

    assert (again.order_id, pay2["client_secret"], token2) == (order.order_id, pay["client_secret"], token)
    assert len(world.gateway.intents) == 1 and _stored_orders(world) == 1
    # Close to its expiry it is not handed out again: a new order.
    world.clock.advance(timedelta(minutes=PAYMENT_WINDOW_MINUTES - 4))
    fresh, _pay, _token = _buy(world, t.sn, plan.plan_id)
    assert fresh.order_id != order.order_id


def test_an_unknown_or_inactive_plan_is_refused_and_nothing_is_written(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    world.fleet.update_plan(agent, plan.plan_id, {"active": False})
    for plan_id in (plan.plan_id, "p_missing"):
        with pytest.raises(ValidationError) as err:
            _buy(world, t.sn, plan_id)
        assert (err.value.field, err.value.code) == ("plan_id", "unknown_plan")
    assert _stored_orders(world) == 0 and world.gateway.intents == {}


def test_a_deactivated_terminal_takes_no_order(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    world.fleet.deactivate(agent, t.sn)
    assert world.orders.public_lookup(t.sn, "c")["renewable"] is False
    with pytest.raises(RuleViolation) as err:
        _buy(world, t.sn, plan.plan_id)
    assert err.value.code == "terminal_deactivated"
    assert _stored_orders(world) == 0


def test_another_agents_plan_is_unknown_on_this_agents_terminal(world: World) -> None:
    a, b = world.agent(), world.agent()
    plan_a, plan_b = world.plan(a, price_fen=1_000), world.plan(b, price_fen=2_000)
    ta = world.terminal(a)

    page = world.orders.public_lookup(ta.sn, "c")
    assert [p["plan_id"] for p in page["plans"]] == [plan_a.plan_id]
    with pytest.raises(ValidationError) as err:
        _buy(world, ta.sn, plan_b.plan_id)
    assert err.value.code == "unknown_plan"
    order, _pay, _token = _buy(world, ta.sn, plan_a.plan_id)
    assert (order.tenant_id, order.amount_fen) == (a, 1_000)


def test_the_unpaid_orders_per_terminal_are_limited_and_the_refusal_writes_nothing(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    for i in range(PUBLIC_OPEN_ORDERS_PER_TERMINAL):
        order, _pay, _token = _buy(world, t.sn, plan.plan_id, f"client-{i}")
        world.orders_repo.forget_open_public(agent, t.sn, plan.plan_id, order.order_id)  # being paid
    with pytest.raises(RateLimited) as err:
        _buy(world, t.sn, plan.plan_id, "client-9")
    assert err.value.code == "too_many_open_orders"
    assert _stored_orders(world) == PUBLIC_OPEN_ORDERS_PER_TERMINAL
    assert sum(1 for _ in world.table.scan(OpenOrderItem)) == 0


def test_a_price_change_seen_by_another_container_is_charged_at_once(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=9_900)
    t = world.terminal(agent)
    contexts = world.pay_page.contexts
    assert isinstance(contexts, FakeTenantContexts)
    assert [p["price_fen"] for p in world.orders.public_lookup(t.sn, "c")["plans"]] == [9_900]

    world.fleet.update_plan(agent, plan.plan_id, {"price_fen": 12_900})  # this cache is not told
    assert [p["price_fen"] for p in world.orders.public_lookup(t.sn, "c")["plans"]] == [9_900]  # within the TTL
    reads = contexts.reads
    order, pay, _token = _buy(world, t.sn, plan.plan_id)

    # The stale version refused the first transaction; the context was read again, the order made once.
    assert order.amount_fen == 12_900 and contexts.reads == reads + 1
    assert world.gateway.intents[pay["payment_intent_id"]]["amount"] == 12_900
    assert _stored_orders(world) == 1
    world.clock.advance(timedelta(seconds=CONTEXT_TTL_S))
    assert [p["price_fen"] for p in world.orders.public_lookup(t.sn, "c")["plans"]] == [12_900]


def test_an_unpaid_public_order_expires_after_its_window_and_its_intent_is_cancelled(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order, pay, token = _buy(world, t.sn, plan.plan_id)
    assert world.orders.expire_due() == 0

    world.clock.advance(timedelta(minutes=PAYMENT_WINDOW_MINUTES, seconds=1))

    assert world.orders.expire_due() == 1
    assert world.orders.public_status(order.order_id, token)["status"] == "expired"
    assert world.gateway.intents[pay["payment_intent_id"]]["status"] == "canceled"
    assert world.orders.expire_due() == 0  # once
