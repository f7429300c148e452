"""Money that adds up, over real HTTP: DynamoDB Local, localstripe (its refunds and its own signed
webhooks), and signed events for what localstripe does not send (charge.refunded)."""

from __future__ import annotations

import json
import threading
from typing import Any

import requests

from tests.support.builders import Agent, create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.payments import event, sign
from tests.support.waiting import wait_for as _wait


def _fleet(api: ApiClient, platform_key: str, price: int) -> tuple[Agent, Any, Any]:
    agent = create_agent(api, platform_key)
    plan, t = one_terminal(api, agent, price_fen=price)
    return agent, plan, t


def _stripe(env: dict[str, str], method: str, path: str, **data: Any) -> Any:
    r = requests.request(
        method,
        f"{env['STRIPE_API_BASE']}{path}",
        data=data or None,
        headers={"Authorization": f"Bearer {env['STRIPE_SECRET_KEY']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _paid_online(api: ApiClient, agent: Agent, t: Any, plan: Any) -> Any:
    """A public order paid by card at localstripe; localstripe's own signed webhook fulfils it."""
    o = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}).json
    confirmed = api.post(
        f"/v1/public/orders/{o['order_id']}/confirm", {"token": o["order_token"], "payment_method": "pm_card_visa"}
    )
    assert confirmed.status == 200, confirmed.body
    return _wait(
        lambda: (g := api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json)["status"] == "fulfilled" and g
    )


def _refunds_at_stripe(env: dict[str, str], pi: str) -> list[int]:
    listing = _stripe(env, "GET", f"/v1/refunds?payment_intent={pi}")
    return sorted(int(r["amount"]) for r in listing["data"])


def _deliver(server_url: str, payload: bytes) -> Any:
    r = requests.post(
        f"{server_url}/webhooks/stripe",
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, WEBHOOK_SECRET)},
        timeout=30,
    )
    return r.status_code, r.json()


def _refund(api: ApiClient, agent: Agent, order_id: str, **body: Any) -> Any:
    return api.post(f"/v1/orders/{order_id}/refund", {"reason": "客户退卡", **body}, key=agent.admin_key)


def test_a_cash_order_cannot_be_refunded_beyond_what_was_paid(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key, 12000)
    body = {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": "offline"}
    order = api.post("/v1/orders", body, key=agent.admin_key).json
    api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金收讫"}, key=agent.admin_key)
    assert _refund(api, agent, order["order_id"], amount_fen=11999).status == 200
    again = _refund(api, agent, order["order_id"], amount_fen=12000)
    assert (again.status, again.error["code"]) == (422, "refund_too_large")
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["refunded_fen"] == 11999


def test_a_card_order_refunded_in_two_steps_reaches_stripe_for_exactly_the_charge(
    api: ApiClient, platform_key: str, env: dict[str, str]
) -> None:
    agent, plan, t = _fleet(api, platform_key, 15300)
    order = _paid_online(api, agent, t, plan)
    assert _refund(api, agent, order["order_id"], amount_fen=5000).json["refundable_fen"] == 10300
    rest = _refund(api, agent, order["order_id"])
    assert (rest.status, rest.json["status"], rest.json["refunded_fen"]) == (200, "refunded", 15300)
    assert _refunds_at_stripe(env, order["payment_intent_id"]) == [5000, 10300]
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]


def test_five_concurrent_full_refunds_reach_stripe_once(api: ApiClient, platform_key: str, env: dict[str, str]) -> None:
    agent, plan, t = _fleet(api, platform_key, 9900)
    order = _paid_online(api, agent, t, plan)
    answers: list[Any] = []
    threads = [
        threading.Thread(target=lambda: answers.append(_refund(api, agent, order["order_id"]))) for _ in range(5)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(a.status for a in answers) == [200, 409, 409, 409, 409], [a.body for a in answers]
    assert {a.error["code"] for a in answers if a.status == 409} <= {"refund_in_progress", "order_not_refundable"}
    assert _refunds_at_stripe(env, order["payment_intent_id"]) == [9900]
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["refunded_fen"], got["refund_pending_fen"]) == (9900, 0)


def test_a_refund_delivered_before_the_success_leaves_the_term_where_it_was(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    agent, plan, t = _fleet(api, platform_key, 4000)
    order = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    pi = order["payment_intent_id"]
    refunded = event("charge.refunded", {"id": "ch_early", "payment_intent": pi, "amount_refunded": 4000})
    assert _deliver(server_url, refunded) == (200, {"received": True, "outcome": "held_until_paid"})
    success = event(
        "payment_intent.succeeded",
        {"id": pi, "object": "payment_intent", "amount": 4000, "amount_received": 4000, "currency": "cny"},
    )
    assert _deliver(server_url, success)[0] == 200
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["status"], got["refunded_fen"]) == ("refunded", 4000)
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]


def test_a_second_payment_for_a_paid_order_is_refunded_automatically(
    api: ApiClient, platform_key: str, env: dict[str, str]
) -> None:
    agent, plan, t = _fleet(api, platform_key, 6600)
    order = _paid_online(api, agent, t, plan)
    renewed = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"]
    # Another PaymentIntent for the same order (it carries our metadata) is paid too.
    second = _stripe(
        env,
        "POST",
        "/v1/payment_intents",
        amount=6600,
        currency="cny",
        payment_method="pm_card_visa",
        confirm="true",
        **{"metadata[order_id]": order["order_id"], "metadata[tenant_id]": agent.tenant_id},
    )
    got = _wait(
        lambda: (
            (g := api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json)["duplicate_payments"]
            and g["duplicate_payments"][0]["status"] == "refunded"
            and g
        )
    )
    assert got["duplicate_payments"][0]["payment_intent_id"] == second["id"]
    assert _refunds_at_stripe(env, second["id"]) == [6600]
    assert _refunds_at_stripe(env, order["payment_intent_id"]) == []
    assert (got["status"], got["refunded_fen"]) == ("fulfilled", 0)
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == renewed


def test_cash_for_an_order_already_paid_online_is_refused(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key, 3000)
    order = _paid_online(api, agent, t, plan)
    r = api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (409, "order_not_payable")


def test_malformed_signed_events_and_nothing_received_never_fulfil(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    payload = json.dumps({"id": "evt_malformed_it", "type": "charge.refunded", "data": {"object": "x"}}).encode()
    assert _deliver(server_url, payload) == (200, {"received": True, "outcome": "ignored_malformed"})
    agent, plan, t = _fleet(api, platform_key, 3000)
    order = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    nothing = event(
        "payment_intent.succeeded",
        {"id": order["payment_intent_id"], "amount": 3000, "amount_received": 0, "currency": "cny"},
    )
    assert _deliver(server_url, nothing)[1]["outcome"] == "needs_review"
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]
