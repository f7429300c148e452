"""Test data builders: valid requests by default, one field changed per test."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.support.client import ApiClient

_seq = itertools.count(1)


def signup_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "name": f"测试代理商 Agent {n}",
        "contact_name": "李四",
        "contact_email": f"agent{n}@example.com",
        "contact_phone": "13912345678",
    }
    body.update(overrides)
    return body


@dataclass
class Agent:
    """A tenant created through the platform route, with its first admin key."""

    tenant_id: str
    admin_key: str
    admin_key_id: str

    def key(self, api: ApiClient, role: str) -> str:
        r = api.post("/v1/api-keys", {"role": role, "label": f"{role} key"}, key=self.admin_key)
        assert r.status == 201, r.body
        return str(r.json["api_key"])


def create_agent(api: ApiClient, platform_key: str, **overrides: Any) -> Agent:
    r = api.post("/v1/admin/tenants", signup_body(**overrides), key=platform_key)
    assert r.status == 201, r.body
    data = r.json
    return Agent(data["tenant_id"], data["api_key"], data["key_id"])


def one_terminal(
    api: ApiClient,
    agent: Agent,
    *,
    merchant: tuple[str, str] = ("陈记烟酒", "13600001234"),
    plan: tuple[str, int] = ("年卡", 12),
    price_fen: int = 12000,
    quota_mb: int | None = None,
    expires_in_days: int = 20,
    expires_on: str | None = None,
    **terminal: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A merchant with one terminal expiring in `expires_in_days`, and a plan to renew it with:
    (plan, terminal) as the API answered them. `expires_on` (ISO) wins over `expires_in_days`;
    `terminal` overrides other fields of the terminal."""
    from datetime import date, timedelta

    from tests.support.fleet import terminal_body

    name, phone = merchant
    m = api.post("/v1/merchants", {"name": name, "phone": phone}, key=agent.admin_key)
    assert m.status == 201, m.body
    plan_name, months = plan
    quota = quota_mb if quota_mb is not None else (2048 if months >= 12 else 1024)
    body = {"name": plan_name, "term_months": months, "data_quota_mb": quota, "price_fen": price_fen}
    p = api.post("/v1/plans", body, key=agent.admin_key)
    assert p.status == 201, p.body
    expires = expires_on or (date.today() + timedelta(days=expires_in_days)).isoformat()
    fields = terminal_body(merchant_id=m.json["merchant_id"], expires_on=expires, **terminal)
    t = api.post("/v1/terminals", fields, key=agent.admin_key)
    assert t.status == 201, t.body
    return p.json, t.json


def paid_offline(api: ApiClient, agent: Agent, sn: str, plan_id: str, note: str = "cash") -> dict[str, Any]:
    """An offline order renewing `sn` with `plan_id`, marked paid by the agent's admin: the order."""
    r = api.post("/v1/orders", {"lines": [{"sn": sn, "plan_id": plan_id}], "payment": "offline"}, key=agent.admin_key)
    assert r.status == 201, r.body
    paid = api.post(f"/v1/orders/{r.json['order_id']}/mark-paid", {"note": note}, key=agent.admin_key)
    assert paid.status == 200, paid.body
    return r.json  # type: ignore[no-any-return]
