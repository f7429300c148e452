"""Refunds through OrderService on the fakes: capped by what was paid, never made twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.outbox import OutboxItem
from simrenew.domain.dates import add_months
from simrenew.domain.fleet import Terminal
from simrenew.domain.tenant import ServiceFee
from simrenew.errors import Conflict, NotFound, ProviderUnavailable, RuleViolation
from tests.service.conftest import World
from tests.support.fakes.payments import WEBHOOK_SECRET, event, sign


def _paid(world: World, agent: str, sn: str, plan_id: str, payment: str = "online") -> dict[str, Any]:
    order, pay = world.orders.create(agent, {"lines": [{"sn": sn, "plan_id": plan_id}], "payment": payment}, actor="k")
    if payment == "offline":
        world.orders.mark_paid(agent, order.order_id, {"note": "cash"}, "admin")
    else:
        assert pay is not None
        payload = world.gateway.succeeded_event(pay["payment_intent_id"])
        world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))
    return world.orders.answer(world.orders.get(agent, order.order_id))


def test_a_refund_before_the_term_starts_is_the_whole_amount_once_and_the_expiry_goes_back(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("flat", Decimal(500)))
    plan = world.plan(agent, months=12, price_fen=9_900)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=60))
    order = _paid(world, agent, t.sn, plan.plan_id)

    refunded = world.orders.refund(agent, order["order_id"], {"reason": "terminal returned"}, "admin")

    assert (refunded.status.value, refunded.refunded_fen) == ("refunded", 10_400)
    assert world.gateway.refunds == [(order["payment_intent_id"], 10_400, f"refund-{refunded.refunds[0].refund_id}")]
    assert world.expiry(agent, t.sn) == t.expires_on
    assert sorted(r["kind"] for r in world.orders.renewals(agent, t.sn)) == ["renewal", "reversal"]
    with pytest.raises(Conflict) as err:  # nothing is left to refund
        world.orders.refund(agent, order["order_id"], {"reason": "again"}, "admin")
    assert err.value.code == "order_not_refundable"
    assert world.gateway.refunded(order["payment_intent_id"]) == 10_400


def test_more_than_was_paid_is_refused_naming_amount_fen_and_nothing_is_asked_of_stripe(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=9_900)
    order = _paid(world, agent, world.terminal(agent).sn, plan.plan_id)

    with pytest.raises(RuleViolation) as err:
        world.orders.refund(agent, order["order_id"], {"reason": "x", "amount_fen": 9_901}, "admin")

    assert (err.value.code, err.value.field) == ("refund_too_large", "amount_fen")
    assert world.gateway.refunds == []


def test_two_partial_refunds_never_return_more_than_was_paid(world: World) -> None:
    agent, t, order = _renewed(world, payment="offline")

    first = world.orders.refund(agent, order["order_id"], {"reason": "part", "amount_fen": 5_000}, "admin")
    assert (first.status.value, first.refunded_fen) == ("partially_refunded", 5_000)
    with pytest.raises(RuleViolation):
        world.orders.refund(agent, order["order_id"], {"reason": "too much", "amount_fen": 7_001}, "admin")
    rest = world.orders.refund(agent, order["order_id"], {"reason": "the rest"}, "admin")

    assert (rest.status.value, rest.refunded_fen) == ("refunded", 12_000)
    assert world.expiry(agent, t.sn) == t.expires_on


def test_a_started_term_refunds_its_unused_whole_months_of_the_plan_price(world: World) -> None:
    agent = world.agent(service_fee=ServiceFee("flat", Decimal(300)))
    plan = world.plan(agent, months=12, price_fen=12_000)
    t = world.terminal(agent, expires_on=world.today(agent) - timedelta(days=3))  # lapsed: term starts today
    order = _paid(world, agent, t.sn, plan.plan_id)
    renewed = world.expiry(agent, t.sn)
    world.clock.advance(timedelta(days=40))  # one whole month used, and some days

    refunded = world.orders.refund(agent, order["order_id"], {"reason": "closing shop"}, "admin")

    assert refunded.refunded_fen == 10_000  # 10 unused whole months of 12 000 fen / 12, never the fee
    assert world.expiry(agent, t.sn) == add_months(renewed, -10)


def test_a_stripe_dashboard_refund_delivered_twice_lands_once(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, price_fen=9_900)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=30))
    order = _paid(world, agent, t.sn, plan.plan_id)
    payload = event(
        "charge.refunded",
        {"id": "ch_1", "object": "charge", "payment_intent": order["payment_intent_id"], "amount_refunded": 9_900},
        "evt_dashboard_refund",
    )

    for _ in range(2):
        world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))

    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.refunded_fen) == ("refunded", 9_900)
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)].count("reversal") == 1
    assert world.expiry(agent, t.sn) == t.expires_on


def test_another_agent_cannot_refund_my_order(world: World) -> None:
    agent, other = world.agent(), world.agent()
    plan = world.plan(agent)
    order = _paid(world, agent, world.terminal(agent).sn, plan.plan_id, payment="offline")

    with pytest.raises(NotFound) as err:
        world.orders.refund(other, order["order_id"], {"reason": "mine now"}, "admin")

    assert err.value.code == "order_not_found"
    assert world.orders.get(agent, order["order_id"]).refunded_fen == 0


def _renewed(world: World, payment: str = "online") -> tuple[str, Terminal, dict[str, Any]]:
    """An agent's terminal with 30 days left, renewed by a paid order of one 12-month plan at 12,000 fen."""
    agent = world.agent()
    plan = world.plan(agent, months=12, price_fen=12_000)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=30))
    return agent, t, _paid(world, agent, t.sn, plan.plan_id, payment)


def _told(world: World, tenant_id: str) -> list[str]:
    """The agent events queued in the changes' own transactions (what the outbox delivers)."""
    return sorted(e.event_type for e in world.table.query(OutboxItem, keys.tenant_pk(tenant_id), keys.outbox_prefix()))


def test_a_second_payment_for_an_order_paid_in_cash_is_returned_in_full_once(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=12, price_fen=12_000)
    t = world.terminal(agent)
    order, pay = world.orders.create(agent, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="k")
    assert pay is not None
    pi = pay["payment_intent_id"]
    world.orders.mark_paid(agent, order.order_id, {"note": "现金"}, "admin")
    assert world.gateway.cancelled == [pi]  # the open PaymentIntent went first
    renewed = world.expiry(agent, t.sn)
    payload = world.gateway.succeeded_event(pi)  # the wallet was charged anyway (a race with the cancel)

    first = world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))
    again = world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert first["outcome"] == "duplicate_payment_refunded"
    assert again.get("duplicate") is True
    assert world.gateway.refunds == [(pi, 12_000, f"duplicate-{pi}")]
    got = world.orders.get(agent, order.order_id)
    assert (got.status.value, got.paid_fen, got.refunded_fen) == ("fulfilled", 12_000, 0)
    assert [(d.amount_fen, d.status) for d in got.duplicate_payments] == [(12_000, "refunded")]
    assert world.expiry(agent, t.sn) == renewed  # extended once
    assert _told(world, agent) == ["order.fulfilled", "order.refunded"]


def test_cash_is_not_taken_for_an_order_just_paid_online(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order, pay = world.orders.create(agent, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="k")
    assert pay is not None
    world.gateway.confirm(pay["payment_intent_id"], "pm_card_visa")  # paid; the webhook is on its way

    with pytest.raises(Conflict) as err:
        world.orders.mark_paid(agent, order.order_id, {"note": "现金"}, "admin")

    assert err.value.code == "order_paid_online"
    assert world.expiry(agent, t.sn) == t.expires_on


# --- the refund's steps: reserve, ask the provider, confirm or release (services/refunds.py) ------------
def test_a_refund_stripe_refuses_is_released_and_nothing_goes_back(world: World) -> None:
    agent, t, order = _renewed(world)
    renewed = world.expiry(agent, t.sn)
    world.gateway.refund_faults.append(RuleViolation("charge disputed", code="charge_disputed"))

    with pytest.raises(RuleViolation) as err:
        world.orders.refund(agent, order["order_id"], {"reason": "returned"}, "admin")

    assert err.value.code == "refund_rejected"
    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.refunded_fen, got.reserved_fen) == ("fulfilled", 0, 0)
    assert [r.status for r in got.refunds] == ["failed"]
    assert world.expiry(agent, t.sn) == renewed
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)] == ["renewal"]
    again = world.orders.refund(agent, order["order_id"], {"reason": "returned"}, "admin")  # the agent tries again
    assert (again.status.value, again.refunded_fen) == ("refunded", 12_000)


def test_a_refund_whose_answer_was_lost_is_held_then_finished_once_with_the_same_key(world: World) -> None:
    agent, t, order = _renewed(world)
    world.gateway.lost_answers = 1

    with pytest.raises(ProviderUnavailable):
        world.orders.refund(agent, order["order_id"], {"reason": "returned"}, "admin")
    held = world.orders.get(agent, order["order_id"])
    assert (held.refunded_fen, held.reserved_fen) == (0, 12_000)
    with pytest.raises(Conflict) as err:  # within the minute: the held refund is not made twice
        world.orders.refund(agent, order["order_id"], {"reason": "again"}, "admin")
    assert err.value.code == "refund_in_progress"
    world.clock.advance(timedelta(minutes=3))
    with pytest.raises(Conflict) as err:  # finished first (same key, same refund): nothing left after it
        world.orders.refund(agent, order["order_id"], {"reason": "again"}, "admin")

    assert err.value.code == "order_not_refundable"
    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.refunded_fen, got.reserved_fen) == ("refunded", 12_000, 0)
    assert world.gateway.refunded(order["payment_intent_id"]) == 12_000
    assert [key for _pi, _fen, key in world.gateway.refunds] == [f"refund-{got.refunds[0].refund_id}"]
    assert world.expiry(agent, t.sn) == t.expires_on


def test_a_refund_that_fails_at_stripe_counts_as_paid_again_and_waits_for_the_agent_once(world: World) -> None:
    agent, _t, order = _renewed(world)
    refunded = world.orders.refund(agent, order["order_id"], {"reason": "returned", "amount_fen": 4_000}, "admin")
    provider_refund_id = refunded.refunds[0].provider_refund_id
    assert provider_refund_id is not None
    obj = {"id": provider_refund_id, "object": "refund", "status": "failed"}
    payload = event("refund.updated", {**obj, "payment_intent": order["payment_intent_id"]}, "evt_refund_failed")

    first = world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))
    world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert first["outcome"] == "refund_failed"
    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.paid_fen, got.refunded_fen) == ("needs_review", 12_000, 0)
    assert [r.status for r in got.refunds] == ["failed"]
    assert [a["action"] for a in got.audit].count("needs_review") == 1
