"""Fulfilment through OrderService on the fakes: what one paid order writes (the renewal, the ledger,
the receipt, the agent's event, the paid-renewal count), what it refuses, and that it happens once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import TerminalEventItem
from simrenew.adapters.dynamodb.outbox import OutboxItem
from simrenew.domain.dates import add_months
from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import MAX_LINES
from simrenew.errors import NotFound, ValidationError
from simrenew.services.checkout import PAID_RENEWALS_BUCKET
from tests.service.conftest import World
from tests.support.fakes.payments import WEBHOOK_SECRET, event, sign


def _order(world: World, agent: str, lines: list[dict[str, Any]], payment: str = "online") -> dict[str, Any]:
    order, pay = world.orders.create(agent, {"lines": lines, "payment": payment}, actor="k")
    return {**world.orders.answer(order), **(pay or {})}


def _unpaid(world: World) -> tuple[str, Terminal, dict[str, Any]]:
    """An agent's terminal with 30 days left and an unpaid online order of one 12-month plan at 12,000 fen."""
    agent = world.agent()
    plan = world.plan(agent, months=12, price_fen=12_000)
    t = world.terminal(agent, expires_on=world.today(agent) + timedelta(days=30))
    return agent, t, _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}])


def _deliver(world: World, payload: bytes) -> dict[str, Any]:
    return world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))


def _receipts(world: World, agent: str, sn: str) -> list[TerminalEventItem]:
    found = world.table.query(TerminalEventItem, keys.tenant_pk(agent), keys.terminal_events_prefix(sn))
    return [e for e in found if e.event.startswith("receipt#")]


def _told(world: World, agent: str) -> list[str]:
    return sorted(e.event_type for e in world.table.query(OutboxItem, keys.tenant_pk(agent), keys.outbox_prefix()))


def _paid_today(world: World, agent: str, sn: str) -> int:
    return world.rate.hits(PAID_RENEWALS_BUCKET, f"{agent}#{sn}", window_s=86_400, now=world.clock.now())


def test_a_paid_order_writes_the_renewal_its_ledger_line_the_receipt_and_the_agents_event_together(
    world: World,
) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=6, price_fen=6_600)
    t = world.terminal(agent)
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}])

    outcome = _deliver(world, world.gateway.succeeded_event(order["payment_intent_id"]))

    assert outcome["outcome"] == "ok"
    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.paid_fen, got.paid_via) == (
        "fulfilled",
        6_600,
        f"stripe:{order['payment_intent_id']}",
    )
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 6)
    assert [(r["kind"], r["amount_fen"], r["term_months"]) for r in world.orders.renewals(agent, t.sn)] == [
        ("renewal", 6_600, 6)
    ]
    (receipt,) = _receipts(world, agent, t.sn)
    assert receipt.state == "pending"
    assert '"amount_fen": 6600' in receipt.detail_json
    assert _told(world, agent) == ["order.fulfilled"]
    assert _paid_today(world, agent, t.sn) == 1


def test_two_lines_for_two_terminals_count_one_paid_renewal_each(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=1, price_fen=1_000)
    a, b = world.terminal(agent), world.terminal(agent)
    order = _order(world, agent, [{"sn": a.sn, "plan_id": plan.plan_id}, {"sn": b.sn, "plan_id": plan.plan_id}])

    _deliver(world, world.gateway.succeeded_event(order["payment_intent_id"]))

    assert world.orders.get(agent, order["order_id"]).paid_fen == 2_000
    assert (world.expiry(agent, a.sn), world.expiry(agent, b.sn)) == (
        add_months(a.expires_on, 1),
        add_months(b.expires_on, 1),
    )
    assert (_paid_today(world, agent, a.sn), _paid_today(world, agent, b.sn)) == (1, 1)


def test_a_terminal_deactivated_before_the_payment_parks_it_for_review_and_extends_nothing(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=12, price_fen=12_000)
    t = world.terminal(agent)
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}])
    world.fleet.deactivate(agent, t.sn)

    outcome = _deliver(world, world.gateway.succeeded_event(order["payment_intent_id"]))

    assert outcome["outcome"] == "needs_review"
    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.paid_fen, got.refunded_fen) == ("needs_review", 12_000, 0)
    assert world.expiry(agent, t.sn) == t.expires_on
    assert world.orders.renewals(agent, t.sn) == []
    assert _receipts(world, agent, t.sn) == []
    assert _paid_today(world, agent, t.sn) == 0


def test_a_refund_in_full_reported_before_the_payment_extends_nothing_and_sends_no_receipt(world: World) -> None:
    agent, t, order = _unpaid(world)
    pi = order["payment_intent_id"]
    early = event(
        "charge.refunded", {"id": "ch_e", "object": "charge", "payment_intent": pi, "amount_refunded": 12_000}
    )
    assert _deliver(world, early)["outcome"] == "held_until_paid"

    _deliver(world, world.gateway.succeeded_event(pi))

    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.paid_fen, got.refunded_fen) == ("refunded", 12_000, 12_000)
    assert [(r.source, r.amount_fen) for r in got.refunds] == [("early", 12_000)]
    assert world.expiry(agent, t.sn) == t.expires_on
    assert sorted(r["kind"] for r in world.orders.renewals(agent, t.sn)) == ["renewal", "reversal"]
    assert sum(r["amount_fen"] for r in world.orders.renewals(agent, t.sn)) == 0
    assert _receipts(world, agent, t.sn) == []
    assert _told(world, agent) == ["order.fulfilled", "order.refunded"]


def test_a_partial_refund_reported_before_the_payment_is_money_only_and_the_term_stays(world: World) -> None:
    agent, t, order = _unpaid(world)
    pi = order["payment_intent_id"]
    _deliver(world, event("charge.refunded", {"object": "charge", "payment_intent": pi, "amount_refunded": 3_000}))

    _deliver(world, world.gateway.succeeded_event(pi))

    got = world.orders.get(agent, order["order_id"])
    assert (got.status.value, got.paid_fen, got.refunded_fen) == ("partially_refunded", 12_000, 3_000)
    # Less than the line's unused value: money back, no whole months taken (allocate_refund).
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 12)
    assert sorted((r["kind"], r["amount_fen"]) for r in world.orders.renewals(agent, t.sn)) == [
        ("refund", -3_000),
        ("renewal", 12_000),
    ]
    assert len(_receipts(world, agent, t.sn)) == 1
    assert _told(world, agent) == ["order.fulfilled", "order.refunded"]


def test_a_renewal_that_raced_another_change_to_its_terminal_is_applied_once_on_the_fresh_read(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent, months=3, price_fen=3_000)
    t = world.terminal(agent)
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}], payment="offline")
    stale = world.orders_repo.payment_context(agent, order["order_id"], [t.sn])
    assert stale.order is not None
    world.fleet.record_usage(agent, t.sn, {"data_used_mb": 10, "as_of": world.today(agent).isoformat()})

    outcome = world.orders.fulfilment.fulfil(
        stale.order, None, {"action": "paid"}, paid_via="cash", paid_fen=3_000, context=stale
    )

    assert outcome == "ok"
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 3)
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)] == ["renewal"]
    assert _paid_today(world, agent, t.sn) == 1


def test_cash_needs_a_note_and_without_one_nothing_changes(world: World) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}])

    with pytest.raises(ValidationError) as err:
        world.orders.mark_paid(agent, order["order_id"], {"note": "  "}, "admin")

    assert (err.value.code, err.value.field) == ("required", "note")
    assert world.orders.get(agent, order["order_id"]).status.value == "pending_payment"
    assert world.gateway.cancelled == []
    assert world.expiry(agent, t.sn) == t.expires_on


def test_another_agent_cannot_mark_my_order_paid(world: World) -> None:
    agent, other = world.agent(), world.agent()
    plan = world.plan(agent)
    t = world.terminal(agent)
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id}], payment="offline")

    with pytest.raises(NotFound) as err:
        world.orders.mark_paid(other, order["order_id"], {"note": "cash"}, "admin")

    assert err.value.code == "order_not_found"
    assert world.orders.get(agent, order["order_id"]).status.value == "pending_payment"
    assert world.expiry(agent, t.sn) == t.expires_on


def test_an_order_of_the_most_lines_counts_every_terminals_paid_renewal_once(world: World) -> None:
    # 20 suspended terminals: with their carrier resumes, their counters do not all fit in the
    # fulfilment transaction (DynamoDB's 100 items); the rest are counted right after it.
    agent = world.agent(grace_days=7)
    plan = world.plan(agent, months=1, price_fen=1_000)
    today = world.today(agent)
    terminals = [world.terminal(agent, expires_on=today - timedelta(days=30)) for _ in range(MAX_LINES)]
    assert {t.status.value for t in terminals} == {"suspended"}
    order = _order(world, agent, [{"sn": t.sn, "plan_id": plan.plan_id} for t in terminals])

    _deliver(world, world.gateway.succeeded_event(order["payment_intent_id"]))

    assert world.orders.get(agent, order["order_id"]).paid_fen == 1_000 * MAX_LINES
    assert [_paid_today(world, agent, t.sn) for t in terminals] == [1] * MAX_LINES
    assert {world.expiry(agent, t.sn) for t in terminals} == {add_months(today, 1)}
    assert [[op.action for op in world.carrier.ops(agent, t.sn)] for t in terminals] == [["resume"]] * MAX_LINES
