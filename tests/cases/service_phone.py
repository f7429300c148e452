"""The agent's service phone (服务电话): set by the agent (PATCH /v1/tenant, validated), shown to merchants in
the public look-up as `agent_phone` (with the new expiry each plan would give and the merchant name masked
to its first and last characters), and to the agent's own keys in /v1/me for the QR stickers."""

from __future__ import annotations

from datetime import date

from simrenew.domain.dates import add_months
from tests.support.builders import create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body


def test_the_agent_sets_a_service_phone_that_merchants_see_on_the_pay_page(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    shop = ("深圳市福田区便利店", "13812345678")
    plan, t = one_terminal(api, agent, merchant=shop, plan=("半年卡", 6), price_fen=4900, quota_mb=512)

    patched = api.patch("/v1/tenant", {"service_phone": "400-812-3456"}, key=agent.admin_key)
    assert patched.status == 200, patched.body
    assert patched.json["service_phone"] == "+864008123456"
    assert api.get("/v1/me", key=agent.key(api, "staff")).json["service_phone"] == "+864008123456"

    look = api.get(f"/v1/public/terminals/{t['sn']}").json
    assert look["agent_phone"] == "+864008123456"
    assert look["merchant_name_masked"] == "深圳******店"
    (quoted,) = look["plans"]
    assert quoted["plan_id"] == plan["plan_id"]
    assert quoted["new_expires_on"] == add_months(date.fromisoformat(t["expires_on"]), 6).isoformat()

    cleared = api.patch("/v1/tenant", {"service_phone": None}, key=agent.admin_key)
    assert cleared.status == 200 and cleared.json["service_phone"] is None
    assert api.get(f"/v1/public/terminals/{t['sn']}").json["agent_phone"] is None


def test_a_service_phone_that_is_not_a_phone_number_is_refused_naming_the_field(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    for bad in ("95555", "call us", 13812345678):
        r = api.patch("/v1/tenant", {"service_phone": bad}, key=agent.admin_key)
        assert r.status == 400, (bad, r.body)
        assert r.error["field"] == "service_phone", bad
    assert api.get("/v1/tenant", key=agent.admin_key).json["service_phone"] is None
    # Only the agent's admin sets it, and only its own.
    staff = agent.key(api, "staff")
    assert api.patch("/v1/tenant", {"service_phone": "13812345678"}, key=staff).status == 403


def test_one_agents_service_phone_is_never_another_agents(api: ApiClient, platform_key: str) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    assert api.patch("/v1/tenant", {"service_phone": "13900001111"}, key=a.admin_key).status == 200
    tb = api.post("/v1/terminals", terminal_body(), key=b.admin_key).json
    assert api.get(f"/v1/public/terminals/{tb['sn']}").json["agent_phone"] is None
    assert api.get("/v1/me", key=b.admin_key).json["service_phone"] is None
    assert api.get("/v1/tenant", key=b.admin_key).json["service_phone"] is None
