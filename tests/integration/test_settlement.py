"""Settlement and reconciliation over real HTTP against localstripe's balance transactions: a card
payment and a partial refund both reach Stripe, and both sides match."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.integration.test_payment_journey import _fleet, _wait
from tests.support.client import ApiClient


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_a_card_payment_and_its_partial_refund_settle_and_reconcile_against_localstripe(
    api: ApiClient, platform_key: str
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    o = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}).json
    confirm = {"token": o["order_token"], "payment_method": "pm_card_visa"}
    assert api.post(f"/v1/public/orders/{o['order_id']}/confirm", confirm).status == 200
    _wait(lambda: api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json["status"] == "fulfilled")
    refund = api.post(
        f"/v1/orders/{o['order_id']}/refund", {"reason": "partial", "amount_fen": 1000}, key=agent.admin_key
    )
    assert refund.status == 200, refund.body
    since, until = (_today() - timedelta(days=1)).isoformat(), (_today() + timedelta(days=1)).isoformat()

    settlement = api.get(f"/v1/reports/settlement?from={since}&to={until}", key=agent.admin_key)
    recon = api.get(f"/v1/reports/reconciliation?date={_today().isoformat()}", key=agent.admin_key)

    assert settlement.status == 200, settlement.body
    totals: dict[str, Any] = settlement.json["totals"]
    assert (totals["orders"], totals["collected_fen"], totals["refunds_fen"]) == (1, 4000, 1000)
    assert totals["payable_fen"] == 4000 - 1000 - totals["stripe_fees_fen"] - totals["platform_fee_fen"]
    assert recon.status == 200, recon.body
    kinds = sorted((m["kind"], m["amount_fen"]) for m in recon.json["matched"] if m["order_id"] == o["order_id"])
    assert kinds == [("charge", 4000), ("refund", 1000)], recon.json
    assert o["order_id"] not in str(recon.json["unmatched_stripe"] + recon.json["unmatched_orders"])
