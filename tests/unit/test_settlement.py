"""Settlement (GET /v1/reports/settlement) and reconciliation of charges, refunds and fees, on moto
with the fake Stripe."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import TenantItem
from tests.support.builders import Agent, create_agent, one_terminal, paid_offline
from tests.support.client import ApiClient
from tests.support.payments import FakeGateway, event


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _agent(api: ApiClient, platform_key: str) -> tuple[Agent, dict[str, Any], dict[str, Any]]:
    agent = create_agent(api, platform_key)
    api.patch("/v1/tenant", {"settings": {"service_fee": {"kind": "flat", "value": 200}}}, key=agent.admin_key)
    plan, t = one_terminal(
        api,
        agent,
        merchant=("王五五金", "13600002222"),
        plan=("半年卡", 6),
        price_fen=6000,
        quota_mb=2048,
        expires_on=(_today() + timedelta(days=20)).isoformat(),
    )
    return agent, plan, t


def _paid_online(
    api: ApiClient, agent: Agent, plan: dict[str, Any], sn: str, gateway: FakeGateway, deliver: Any
) -> Any:
    order = api.post("/v1/orders", {"lines": [{"sn": sn, "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    gateway.confirm(order["payment_intent_id"], "pm_card_visa")
    status, _ = deliver(gateway.succeeded_event(order["payment_intent_id"]))
    assert status == 200
    return order


def _refunded_in_part(
    api: ApiClient, agent: Agent, plan: dict[str, Any], sn: str, gateway: FakeGateway, deliver: Any, reason: str
) -> Any:
    """An order paid online, Stripe's fee on it 180 fen, then 1000 fen of it refunded."""
    order = _paid_online(api, agent, plan, sn, gateway, deliver)
    gateway.fees = {order["payment_intent_id"]: 180}
    refund = api.post(
        f"/v1/orders/{order['order_id']}/refund", {"reason": reason, "amount_fen": 1000}, key=agent.admin_key
    )
    assert refund.status == 200, refund.body
    return order


def _settlement(api: ApiClient, agent: Agent, **kw: Any) -> Any:
    since, until = (_today() - timedelta(days=1)).isoformat(), (_today() + timedelta(days=1)).isoformat()
    return api.get(f"/v1/reports/settlement?from={since}&to={until}", key=agent.admin_key, **kw)


def test_settlement_shows_collected_refunds_fees_and_payable_with_cash_and_vouchers_apart(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    _refunded_in_part(api, agent, plan, t["sn"], gateway, deliver, reason="goodwill")
    paid_offline(api, agent, t["sn"], plan["plan_id"], note="现金")
    code = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key).json[
        "codes"
    ][0]
    assert api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code}).status == 200

    r = _settlement(api, agent)

    assert r.status == 200, r.body
    assert r.json["totals"] == {
        "orders": 1,
        "collected_fen": 6200,
        "service_fee_fen": 200,
        "refunds_fen": 1000,
        "stripe_fees_fen": 180,
        "platform_fee_fen": 0,  # no connected account: no application fee
        "payable_fen": 6200 - 1000 - 180,
        "cash_fen": 6200,
        "cash_refunds_fen": 0,
        "voucher_count": 1,
        "direct_fen": 0,  # nothing went straight to the agent's WeChat Pay / Alipay account
        "direct_refunds_fen": 0,
        "direct_fees_fen": 0,
    }
    assert r.json["settles_via"] == "platform_payout"
    assert [d["date"] for d in r.json["days"]] == [(_today() + timedelta(days=i)).isoformat() for i in (-1, 0, 1)]
    assert r.json["days"][1]["payable_fen"] == 5020 and r.json["days"][0]["collected_fen"] == 0


def test_on_destination_charges_the_platform_fee_is_the_application_fee_stripe_kept(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    tenant = TenantItem.get(keys.tenant_pk(agent.tenant_id), keys.tenant_profile_sk())
    tenant.update(actions=[TenantItem.stripe_account_id.set("acct_agent_1")])
    online = _paid_online(api, agent, plan, t["sn"], gateway, deliver)
    assert gateway.intents[online["payment_intent_id"]]["application_fee_amount"] == 200

    totals = _settlement(api, agent).json

    assert totals["settles_via"] == "stripe_connected_account"
    assert (totals["totals"]["platform_fee_fen"], totals["totals"]["payable_fen"]) == (200, 6000)


def test_settlement_is_csv_with_accept_text_csv(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    _paid_online(api, agent, plan, t["sn"], gateway, deliver)

    r = _settlement(api, agent, headers={"Accept": "text/csv"})

    lines = r.body.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == (
        "date,orders,collected_fen,service_fee_fen,refunds_fen,stripe_fees_fen,platform_fee_fen,payable_fen,"
        "cash_fen,cash_refunds_fen,voucher_count,direct_fen,direct_refunds_fen,direct_fees_fen"
    )
    assert len(lines) == 4 and f"{_today().isoformat()},1,6200,200,0,0,0,6200,0,0,0,0,0,0" in lines


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2025-01-02", "from"),
        ("from=2025-01-02", "to"),
        ("from=2025-1-2&to=2025-01-03", "from"),
        ("from=2025-01-02&to=2025-02-30", "to"),
        ("from=2025-01-03&to=2025-01-02", "to"),
        ("from=2025-01-01&to=2025-04-03", "to"),  # 93 days: 92 is the most
    ],
)
def test_settlement_refuses_a_bad_range_naming_the_field(
    api: ApiClient, platform_key: str, query: str, field: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.get(f"/v1/reports/settlement?{query}", key=agent.admin_key)
    assert (r.status, r.error.get("field")) == (400, field), (query, r.body)


def test_settlement_spans_up_to_92_days_and_is_admin_only(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    assert api.get("/v1/reports/settlement?from=2025-01-01&to=2025-04-02", key=agent.admin_key).status == 200
    staff = agent.key(api, "staff")
    assert api.get("/v1/reports/settlement?from=2025-01-01&to=2025-01-02", key=staff).status == 403


def test_reconciliation_matches_refunds_and_fees_and_lists_what_either_side_lacks(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    paid = _refunded_in_part(api, agent, plan, t["sn"], gateway, deliver, reason="x")
    # Refunded in the Stripe dashboard, told by charge.refunded: our order has it, Stripe's listing here does not.
    dashboard = _paid_online(api, agent, plan, t["sn"], gateway, deliver)
    charge = {
        "id": "ch_x",
        "object": "charge",
        "payment_intent": dashboard["payment_intent_id"],
        "amount_refunded": 700,
    }
    assert deliver(event("charge.refunded", charge))[0] == 200
    gateway.stripe_only = [
        # A refund Stripe made that no order of ours records.
        {
            "id": "txn_lost_refund",
            "type": "refund",
            "created": 0,
            "amount": -300,
            "stripe_fee": 0,
            "payment_intent": paid["payment_intent_id"],
            "source": "re_lost",
        },
        # A charge for this agent (by its metadata) whose PaymentIntent no order knows.
        {
            "id": "txn_orphan",
            "type": "charge",
            "created": 0,
            "amount": 999,
            "stripe_fee": 30,
            "payment_intent": "pi_unknown_1",
            "metadata": {"tenant_id": agent.tenant_id},
            "source": "ch_orphan",
        },
        # Another agent's charge: not in this report at all.
        {
            "id": "txn_other",
            "type": "charge",
            "created": 0,
            "amount": 5,
            "stripe_fee": 0,
            "payment_intent": "pi_unknown_2",
            "metadata": {"tenant_id": "t_someone_else"},
            "source": "ch_other",
        },
    ]

    report = api.get(f"/v1/reports/reconciliation?date={_today().isoformat()}", key=agent.admin_key).json

    matched = {(m["kind"], m["order_id"], m["amount_fen"]) for m in report["matched"]}
    assert matched == {
        ("charge", paid["order_id"], 6200),
        ("refund", paid["order_id"], 1000),
        ("charge", dashboard["order_id"], 6200),
    }
    assert next(m for m in report["matched"] if m["order_id"] == paid["order_id"])["fee_fen"] == 180
    stripe_only = {(u["kind"], u["balance_transaction"], u["reason"]) for u in report["unmatched_stripe"]}
    assert stripe_only == {
        ("refund", "txn_lost_refund", "refund not recorded on the order on this day"),
        ("charge", "txn_orphan", "no order for this charge"),
    }
    assert [(u["kind"], u["order_id"], u["amount_fen"]) for u in report["unmatched_orders"]] == [
        ("refund", dashboard["order_id"], 700)
    ]
    assert "txn_other" not in str(report)
    assert report["summary"]["stripe_fees_fen"] == 180 + 30
    csv_lines = (
        api.get(
            f"/v1/reports/reconciliation?date={_today().isoformat()}",
            key=agent.admin_key,
            headers={"Accept": "text/csv"},
        )
        .body.decode("utf-8-sig")
        .splitlines()
    )
    assert csv_lines[0] == (
        "status,kind,order_id,payment_intent_id,balance_transaction,amount_fen,fee_fen,reason,"
        "provider,out_trade_no,out_refund_no"
    )
