"""The finance role (财务): reads orders, the renewal ledger, revenue, settlement and reconciliation, and
changes nothing; only its own agent's. Collected by tests/unit and tests/integration. (Every route's verdict
for a finance key is also in the isolation matrix, tests/cases/isolation.py.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body


def _agent_today(api: ApiClient, key: str) -> str:
    """Today in the agent's time zone (from GET /v1/me): the reports' days are the agent's days."""
    timezone = api.get("/v1/me", key=key).json["timezone"]
    return datetime.now(ZoneInfo(timezone)).date().isoformat()


def _paid_order(api: ApiClient, agent: Agent) -> dict[str, Any]:
    """A terminal renewed by a cash order the admin marked paid: an order, a ledger line, revenue."""
    m = api.post("/v1/merchants", {"name": "财务测试商户", "phone": "13600002222"}, key=agent.admin_key).json
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    ).json
    t = api.post("/v1/terminals", terminal_body(merchant_id=m["merchant_id"]), key=agent.admin_key).json
    order = api.post(
        "/v1/orders",
        {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": "offline"},
        key=agent.admin_key,
    ).json
    paid = api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key)
    assert paid.status == 200, paid.body
    return {"sn": t["sn"], "order_id": order["order_id"], "plan_id": plan["plan_id"]}


def test_a_finance_key_reads_orders_ledger_and_every_money_report(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    made = _paid_order(api, agent)
    created = api.post("/v1/api-keys", {"role": "finance", "label": "财务"}, key=agent.admin_key)
    assert created.status == 201 and created.json["role"] == "finance", created.body
    finance = created.json["api_key"]
    assert api.get("/v1/me", key=finance).json["role"] == "finance"

    orders = api.get("/v1/orders", key=finance)
    assert orders.status == 200 and [o["order_id"] for o in orders.json["items"]] == [made["order_id"]]
    order = api.get(f"/v1/orders/{made['order_id']}", key=finance)
    assert order.status == 200 and order.json["status"] == "fulfilled"
    assert any(a["action"] == "mark_paid" for a in order.json["audit"])
    ledger = api.get(f"/v1/terminals/{made['sn']}/renewals", key=finance)
    assert ledger.status == 200 and [r["kind"] for r in ledger.json["items"]] == ["renewal"]
    today = _agent_today(api, finance)
    revenue = api.get(f"/v1/reports/revenue?from={today}&to={today}", key=finance)
    assert revenue.status == 200, revenue.body
    assert sum(d["gross_fen"] for d in revenue.json["days"]) == 9900
    settlement = api.get(f"/v1/reports/settlement?from={today}&to={today}", key=finance)
    assert settlement.status == 200, settlement.body
    assert sum(d["cash_fen"] for d in settlement.json["days"]) == 9900
    assert api.get(f"/v1/reports/reconciliation?date={today}", key=finance).status == 200
    csv = api.get(f"/v1/reports/revenue?from={today}&to={today}", key=finance, headers={"Accept": "text/csv"})
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")


def test_a_finance_key_changes_nothing(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    made = _paid_order(api, agent)
    finance = agent.key(api, "finance")
    before = api.get(f"/v1/orders/{made['order_id']}", key=agent.admin_key).json
    attempts = [
        ("POST", f"/v1/orders/{made['order_id']}/refund", {"reason": "财务想退款"}),
        ("POST", "/v1/orders", {"lines": [{"sn": made["sn"], "plan_id": made["plan_id"]}], "payment": "offline"}),
        ("PATCH", f"/v1/terminals/{made['sn']}", {"model": "changed"}),
        ("POST", "/v1/api-keys", {"role": "admin"}),
        ("PATCH", "/v1/tenant", {"settings": {"grace_days": 1}}),
        ("POST", "/v1/vouchers/batches", {"plan_id": made["plan_id"], "count": 1}),
    ]
    for method, path, body in attempts:
        r = api.call(method, path, key=finance, json_body=body)
        assert (r.status, r.error["code"]) == (403, "insufficient_role"), (method, path, r.body)
    # Nor the admin-only reads: the agent's settings, its keys, its webhook endpoints.
    for path in ("/v1/tenant", "/v1/api-keys", "/v1/webhook-endpoints"):
        assert api.get(path, key=finance).status == 403, path
    assert api.get(f"/v1/orders/{made['order_id']}", key=agent.admin_key).json == before
    assert api.get(f"/v1/terminals/{made['sn']}", key=agent.admin_key).json["model"] == "PAX A920"


def test_a_finance_key_sees_only_its_own_agents_money(api: ApiClient, platform_key: str) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    made = _paid_order(api, a)
    finance_b = b.key(api, "finance")
    assert api.get(f"/v1/orders/{made['order_id']}", key=finance_b).status == 404
    assert api.get(f"/v1/terminals/{made['sn']}/renewals", key=finance_b).status == 404
    assert api.get("/v1/orders", key=finance_b).json["items"] == []
    today = _agent_today(api, finance_b)
    revenue = api.get(f"/v1/reports/revenue?from={today}&to={today}", key=finance_b).json
    assert sum(d["gross_fen"] for d in revenue["days"]) == 0
    settlement = api.get(f"/v1/reports/settlement?from={today}&to={today}", key=finance_b).json
    assert sum(d["cash_fen"] for d in settlement["days"]) == 0
    assert a.tenant_id not in str(revenue) + str(settlement)
