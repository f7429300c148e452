"""Money reports on the fakes (revenue, settlement, reconciliation) over the reports port: each fen
counted once, on its day in the agent's timezone, cash apart from what the platform owes, and
never another agent's money."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from simrenew.clock import FixedClock
from simrenew.domain.tenant import ServiceFee
from simrenew.errors import NotFound, ValidationError
from simrenew.services.reports import ReportService
from tests.service.conftest import World
from tests.support.fakes.payments import WEBHOOK_SECRET, sign
from tests.support.fakes.reports import FakeReportOrders, fake_redemptions

PRICE_FEN, FEE_FEN = 6_000, 200


@pytest.fixture
def live() -> World:
    """A world on today's date: the fake Stripe stamps its balance transactions with the wall clock."""
    return World(FixedClock(datetime.now(UTC).replace(microsecond=0)))


def _reports(world: World) -> ReportService:
    return ReportService(world.tenants, FakeReportOrders(world.table), world.gateway, fake_redemptions(world.table))


def _agent_and_terminal(world: World) -> tuple[str, str, str]:
    agent = world.agent(service_fee=ServiceFee("flat", Decimal(FEE_FEN)))
    return agent, world.plan(agent, months=6, price_fen=PRICE_FEN).plan_id, world.terminal(agent).sn


def _paid_online(world: World, agent: str, plan_id: str, sn: str) -> dict[str, Any]:
    order, pay = world.orders.create(agent, {"lines": [{"sn": sn, "plan_id": plan_id}]}, actor="k")
    assert pay is not None
    payload = world.gateway.succeeded_event(pay["payment_intent_id"])
    assert world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))["outcome"] == "ok"
    return {**order.to_json(), **pay}


def _paid_in_cash(world: World, agent: str, plan_id: str, sn: str) -> dict[str, Any]:
    order, _ = world.orders.create(agent, {"lines": [{"sn": sn, "plan_id": plan_id}], "payment": "offline"}, actor="k")
    return world.orders.mark_paid(agent, order.order_id, {"note": "现金"}, "admin").to_json()


def _span(world: World, agent: str) -> tuple[str, str]:
    today = world.today(agent)
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()


def test_revenue_counts_a_payment_and_its_refund_on_their_day(live: World) -> None:
    agent, plan_id, sn = _agent_and_terminal(live)
    order = _paid_online(live, agent, plan_id, sn)
    live.orders.refund(agent, order["order_id"], {"reason": "goodwill", "amount_fen": 1_000}, "admin")
    other, other_plan, other_sn = _agent_and_terminal(live)
    _paid_online(live, other, other_plan, other_sn)  # another agent's money: not in my report

    report = _reports(live).revenue(agent, *_span(live, agent))

    total = PRICE_FEN + FEE_FEN
    assert report["totals"] == {
        "gross_fen": total,
        "fees_fen": FEE_FEN,
        "refunds_fen": 1_000,
        "net_fen": total - 1_000,
        "orders": 1,
    }
    today = next(d for d in report["days"] if d["date"] == live.today(agent).isoformat())
    assert (today["gross_fen"], today["refunds_fen"]) == (total, 1_000)


def test_settlement_owes_what_was_collected_online_less_refunds_and_fees_with_cash_apart(live: World) -> None:
    agent, plan_id, sn = _agent_and_terminal(live)
    online = _paid_online(live, agent, plan_id, sn)
    live.gateway.fees = {online["payment_intent_id"]: 180}
    live.orders.refund(agent, online["order_id"], {"reason": "goodwill", "amount_fen": 1_000}, "admin")
    _paid_in_cash(live, agent, plan_id, live.terminal(agent).sn)

    totals = _reports(live).settlement(agent, *_span(live, agent))["totals"]

    total = PRICE_FEN + FEE_FEN
    assert (totals["orders"], totals["collected_fen"], totals["service_fee_fen"]) == (1, total, FEE_FEN)
    assert (totals["refunds_fen"], totals["stripe_fees_fen"], totals["platform_fee_fen"]) == (1_000, 180, 0)
    assert totals["payable_fen"] == total - 1_000 - 180
    assert (totals["cash_fen"], totals["cash_refunds_fen"]) == (total, 0)  # the agent holds the cash already


def test_reconciliation_matches_our_charge_and_lists_a_charge_no_order_knows(live: World) -> None:
    agent, plan_id, sn = _agent_and_terminal(live)
    order = _paid_online(live, agent, plan_id, sn)
    live.gateway.stripe_only = [
        {
            "id": "txn_stray",
            "type": "charge",
            "created": int(datetime.now(UTC).timestamp()),
            "amount": 500,
            "payment_intent": "pi_unknown",
            "stripe_fee": 3,
            "metadata": {"tenant_id": agent},
        }
    ]

    report = _reports(live).reconciliation(agent, live.today(agent).isoformat())

    assert [(r["payment_intent_id"], r["order_id"], r["amount_fen"]) for r in report["matched"]] == [
        (order["payment_intent_id"], order["order_id"], PRICE_FEN + FEE_FEN)
    ]
    assert [(r["payment_intent_id"], r["reason"]) for r in report["unmatched_stripe"]] == [
        ("pi_unknown", "no order for this charge")
    ]
    assert report["unmatched_orders"] == []
    assert report["summary"]["stripe_fees_fen"] == 3


def test_another_agents_reconciliation_holds_none_of_my_charges(live: World) -> None:
    agent, plan_id, sn = _agent_and_terminal(live)
    _paid_online(live, agent, plan_id, sn)
    other = live.agent()

    report = _reports(live).reconciliation(other, live.today(other).isoformat())

    assert (report["matched"], report["unmatched_stripe"], report["unmatched_orders"]) == ([], [], [])


def test_a_reversed_range_or_an_unknown_agent_is_refused(world: World) -> None:
    agent = world.agent()
    reports = _reports(world)

    with pytest.raises(ValidationError) as err:
        reports.settlement(agent, "2026-03-10", "2026-03-09")
    assert (err.value.field, err.value.code) == ("to", "invalid_range")
    with pytest.raises(NotFound) as missing:
        reports.revenue("t_nobody", date(2026, 3, 1).isoformat(), "2026-03-02")
    assert missing.value.code == "tenant_not_found"


def test_a_report_reads_the_agent_once(live: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each report looks the agent up once (its timezone, its rails): not once per part."""
    agent, plan_id, sn = _agent_and_terminal(live)
    _paid_online(live, agent, plan_id, sn)
    reads: list[str] = []
    real_get = live.tenants.get
    monkeypatch.setattr(live.tenants, "get", lambda tenant_id: reads.append(tenant_id) or real_get(tenant_id))
    today = live.today(agent).isoformat()
    reports = _reports(live)

    counts = []
    for run in (
        lambda: reports.reconciliation(agent, today),
        lambda: reports.settlement(agent, today, today),
        lambda: reports.revenue(agent, today, today),
    ):
        reads.clear()
        run()
        counts.append(len(reads))

    assert counts == [1, 1, 1]
