"""The money path over real HTTP: DynamoDB Local, localstripe, signed webhooks."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Any

import requests

from simrenew.domain.dates import add_months
from tests.support.builders import Agent, create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.payments import sign, succeeded_for
from tests.support.waiting import wait_for as _wait


def _fleet(api: ApiClient, platform_key: str) -> tuple[Agent, dict[str, Any], dict[str, Any]]:
    agent = create_agent(api, platform_key)
    plan, t = one_terminal(
        api, agent, merchant=("李家面馆", "13987654321"), plan=("季卡", 3), price_fen=4000, expires_in_days=10
    )
    return agent, plan, t


def test_a_merchant_renews_online_and_localstripes_signed_webhook_fulfils(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key)
    info = api.get(f"/v1/public/terminals/{t['sn']}").json
    assert info["plans"][0]["total_fen"] == 4000
    o = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}).json
    assert o["payment"]["client_secret"].startswith(o["payment"]["payment_intent_id"])
    confirmed = api.post(
        f"/v1/public/orders/{o['order_id']}/confirm", {"token": o["order_token"], "payment_method": "pm_card_visa"}
    )
    assert confirmed.status == 200, confirmed.body
    status = _wait(
        lambda: (
            (s := api.get(f"/v1/public/orders/{o['order_id']}?token={o['order_token']}").json)["status"] == "fulfilled"
            and s
        )
    )
    expected = add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    assert status["expires_on_after"] == expected
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    order = api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json
    assert order["status"] == "fulfilled" and order["channel"] == "public"


def _signed_post(server_url: str, payload: bytes, signature: str | None = None) -> int:
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature or sign(payload, WEBHOOK_SECRET)}
    return requests.post(f"{server_url}/webhooks/stripe", data=payload, headers=headers, timeout=30).status_code


def test_the_same_event_twenty_times_at_once_fulfils_once(api: ApiClient, platform_key: str, server_url: str) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    payload = succeeded_for(order, f"evt_dup_{order['order_id']}")
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(_signed_post(server_url, payload))) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert codes.count(200) >= 1 and all(c in (200, 503) for c in codes), codes
    for _ in range(3):  # Stripe retries whatever was not 2xx
        _signed_post(server_url, payload)
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert len(ledger) == 1
    assert (
        api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"]
        == add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    )


def test_ten_concurrent_paid_orders_for_one_terminal_add_exactly_ten_terms(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    orders = [
        api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
        for _ in range(10)
    ]
    codes: dict[str, int] = {}

    def pay(order: dict[str, Any]) -> None:
        payload = succeeded_for(order, f"evt_conc_{order['order_id']}")
        for _ in range(5):
            codes[order["order_id"]] = _signed_post(server_url, payload)
            if codes[order["order_id"]] == 200:
                return

    threads = [threading.Thread(target=pay, args=(o,)) for o in orders]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert set(codes.values()) == {200}, codes
    expected = add_months(date.fromisoformat(t["expires_on"]), 30).isoformat()
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    assert len(api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]) == 10


def test_a_forged_event_over_http_is_400_and_changes_nothing(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    payload = succeeded_for(order, "evt_forged_1")
    assert _signed_post(server_url, payload, "t=1,v1=00") == 400
    assert _signed_post(server_url, payload, sign(payload, WEBHOOK_SECRET, int(time.time()) - 600)) == 400
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "pending_payment"


def test_ten_concurrent_redemptions_of_one_voucher_renew_once(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key)
    code = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key).json[
        "codes"
    ][0]
    results: list[int] = []

    def redeem() -> None:
        results.append(api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code}).status)

    threads = [threading.Thread(target=redeem) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(200) == 1, results
    assert set(results) <= {200, 422, 429, 503}
    expected = add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected


def test_reconciliation_against_localstripes_balance_transactions(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    o = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}).json
    api.post(
        f"/v1/public/orders/{o['order_id']}/confirm", {"token": o["order_token"], "payment_method": "pm_card_visa"}
    )
    _wait(lambda: api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json["status"] == "fulfilled")
    day = api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json["paid_at"][:10]
    reports = [
        api.get(f"/v1/reports/reconciliation?date={d}", key=agent.admin_key)
        for d in (day, (date.fromisoformat(day) + timedelta(days=1)).isoformat())
    ]
    assert all(r.status == 200 for r in reports), [r.body for r in reports]
    report = max((r.json for r in reports), key=lambda x: x["summary"]["matched"])
    assert [m["order_id"] for m in report["matched"]] == [o["order_id"]]
    assert order["order_id"] not in str(report)  # never paid: on neither side
