"""Money that adds up (issue 12), on moto with a fake Stripe that keeps Stripe's rules (the same
idempotency key gives the same refund; refunds never exceed the charge) and real signatures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from simrenew.adapters.dynamodb.outbox import OutboxRepository
from simrenew.errors import ProviderUnavailable
from tests.support.builders import Agent, create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.payments import FakeGateway, event


def _fleet(api: ApiClient, platform_key: str, price: int = 12000, days: int = 40) -> tuple[Agent, Any, Any]:
    agent = create_agent(api, platform_key)
    plan, t = one_terminal(
        api, agent, merchant=("王记五金", "13812340000"), price_fen=price, quota_mb=1024, expires_in_days=days
    )
    return agent, plan, t


def _order(api: ApiClient, agent: Agent, t: Any, plan: Any, payment: str = "online") -> Any:
    body = {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": payment}
    r = api.post("/v1/orders", body, key=agent.admin_key)
    assert r.status == 201, r.body
    return r.json


def _paid(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, price: int = 12000
) -> tuple[Agent, Any, Any]:
    """An agent's terminal renewed by an online order paid in full through Stripe: (agent, terminal, order)."""
    agent, plan, t = _fleet(api, platform_key, price=price)
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    return agent, t, order


def _expiry(api: ApiClient, agent: Agent, t: Any) -> str:
    return str(api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"])


def _refund(api: ApiClient, agent: Agent, order: Any, **body: Any) -> Any:
    return api.post(f"/v1/orders/{order['order_id']}/refund", {"reason": "test", **body}, key=agent.admin_key)


def test_refunds_of_a_cash_order_never_exceed_what_was_paid(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan, "offline")
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key).status == 200
    first = _refund(api, agent, order, amount_fen=11999)
    assert (first.status, first.json["refunded_fen"], first.json["refundable_fen"]) == (200, 11999, 1)
    second = _refund(api, agent, order, amount_fen=12000)
    assert (second.status, second.error["code"], second.error["field"]) == (422, "refund_too_large", "amount_fen")
    assert "at most 1 fen" in second.error["message"]
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["refunded_fen"], got["paid_fen"]) == (11999, 12000)
    today = date.today()
    span = f"from={(today - timedelta(days=1)).isoformat()}&to={(today + timedelta(days=1)).isoformat()}"
    revenue = api.get(f"/v1/reports/revenue?{span}", key=agent.admin_key).json
    assert revenue["totals"]["net_fen"] == 1


def test_a_full_refund_in_two_steps_returns_the_rest_once_and_restores_the_expiry(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, t, order = _paid(api, platform_key, gateway, deliver, price=15300)
    assert _expiry(api, agent, t) != t["expires_on"]
    part = _refund(api, agent, order, amount_fen=5000)
    assert (part.json["status"], part.json["refundable_fen"]) == ("partially_refunded", 10300)
    rest = _refund(api, agent, order)  # no amount: the rest
    assert (rest.status, rest.json["status"], rest.json["refunded_fen"]) == (200, "refunded", 15300)
    assert [a for _pi, a, _k in gateway.refunds] == [5000, 10300]
    assert _expiry(api, agent, t) == t["expires_on"]
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert sorted((x["kind"], x["amount_fen"], x["term_months"]) for x in ledger) == [
        ("refund", -5000, 0),
        ("renewal", 15300, 12),
        ("reversal", -10300, -12),
    ]
    assert _refund(api, agent, order).status == 409  # nothing left: the order is refunded
    told = sorted(e.event_type for e in OutboxRepository().entries(agent.tenant_id))
    assert told == ["order.fulfilled", "order.refunded", "order.refunded"]  # one per refund


def test_a_refund_stripe_did_not_answer_is_held_and_finished_with_the_same_key(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, services: Any
) -> None:
    agent, _t, order = _paid(api, platform_key, gateway, deliver)
    gateway.refund_faults.append(ProviderUnavailable("timed out"))
    lost = _refund(api, agent, order, amount_fen=3000)
    assert lost.status == 503
    held = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (held["refund_pending_fen"], held["refundable_fen"], held["refunded_fen"]) == (3000, 9000, 0)
    assert _refund(api, agent, order, amount_fen=100).error["code"] == "refund_in_progress"
    # Stripe's own echo of the held refund changes nothing: the reservation covers it.
    gateway.refund(order["payment_intent_id"], 3000, "refund-made-while-we-waited")
    assert deliver(gateway.charge_refunded_event(order["payment_intent_id"]))[1]["outcome"] == "order_state"
    # The caller that reserved it is long gone (its reservation is older than two minutes):
    item = services.orders.orders.item(agent.tenant_id, order["order_id"])
    refunds = json.loads(item.refunds_json)
    refunds[0]["created_at"] = "2000-01-01T00:00:00Z"
    item.refunds_json = json.dumps(refunds)
    item.save()
    again = _refund(api, agent, order, amount_fen=100)
    assert again.status == 200, again.body
    keys = [k for _pi, _a, k in gateway.refunds]
    assert keys.count(f"refund-{refunds[0]['refund_id']}") == 1
    assert again.json["refunded_fen"] == 3100 and again.json["refund_pending_fen"] == 0


def test_a_refund_stripe_refuses_is_released(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, _t, order = _paid(api, platform_key, gateway, deliver)
    gateway.refund(order["payment_intent_id"], 12000, "dashboard-refund-not-yet-told")
    refused = _refund(api, agent, order)
    assert (refused.status, refused.error["code"]) == (422, "refund_rejected")
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["refund_pending_fen"], got["refunded_fen"], got["refunds"][0]["status"]) == (0, 0, "failed")


def test_a_refund_delivered_before_the_payment_leaves_the_term_untouched(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan)
    pi = order["payment_intent_id"]
    early = event("charge.refunded", {"id": "ch_x", "object": "charge", "payment_intent": pi, "amount_refunded": 12000})
    assert deliver(early)[1]["outcome"] == "held_until_paid"
    assert deliver(gateway.succeeded_event(pi))[0] == 200
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["status"], got["paid_fen"], got["refunded_fen"]) == ("refunded", 12000, 12000)
    assert _expiry(api, agent, t) == t["expires_on"]
    assert gateway.refunds == []  # Stripe made that refund itself; we ask for nothing


def test_a_second_payment_for_a_cash_paid_order_is_returned_in_full(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, services: Any
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan)
    pi = order["payment_intent_id"]
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key).status == 200
    assert gateway.cancelled == [pi]  # the open PaymentIntent went first
    renewed = _expiry(api, agent, t)
    # The merchant's wallet had already been charged (a race with the cancel): it is returned.
    payload = gateway.succeeded_event(pi)
    status, body = deliver(payload)
    assert (status, body["outcome"]) == (200, "duplicate_payment_refunded")
    assert deliver(payload)[1].get("duplicate") is True
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert got["duplicate_payments"][0] | {"created_at": None} == {
        "provider": "stripe",
        "payment_intent_id": pi,
        "amount_fen": 12000,
        "currency": "CNY",
        "status": "refunded",
        "provider_refund_id": "re_fake_1",
        "created_at": None,
    }
    assert gateway.refunds == [(pi, 12000, f"duplicate-{pi}")]
    # The agent is told, in the same transaction as the change (the outbox delivers it).
    told = sorted(e.event_type for e in OutboxRepository().entries(agent.tenant_id))
    assert told == ["order.fulfilled", "order.refunded"]
    assert (got["status"], got["paid_fen"], got["refunded_fen"]) == ("fulfilled", 12000, 0)
    assert _expiry(api, agent, t) == renewed  # extended once
    # Stripe's charge.refunded for that returned payment touches nothing else.
    assert deliver(gateway.charge_refunded_event(pi))[0] == 200
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["refunded_fen"] == 0


def test_marking_an_order_paid_in_cash_after_it_was_paid_online_takes_no_cash(
    api: ApiClient, platform_key: str, gateway: FakeGateway
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan)
    gateway.confirm(order["payment_intent_id"], "pm_card_visa")  # paid; the webhook is on its way
    r = api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (409, "order_paid_online")
    assert _expiry(api, agent, t) == t["expires_on"]


def test_a_signed_but_malformed_event_is_acknowledged_and_recorded(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    for obj in ("not an object", ["a", "list"], None, 7):
        payload = (b'{"id": "evt_bad_%d", "type": "payment_intent.succeeded", "data": {"object": %b}}') % (
            id(obj) % 10_000,
            json.dumps(obj).encode(),
        )
        status, body = deliver(payload)
        assert (status, body["outcome"]) == (200, "ignored_malformed")
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan)
    bad_amount = event(
        "charge.refunded",
        {"id": "ch_y", "payment_intent": order["payment_intent_id"], "amount_refunded": "12000"},
    )
    assert deliver(bad_amount)[1]["outcome"] == "ignored_malformed"


def test_a_success_with_nothing_received_goes_to_review(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _fleet(api, platform_key)
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"], amount=0))
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert got["status"] == "needs_review"
    assert _expiry(api, agent, t) == t["expires_on"]


def test_a_dashboard_refund_that_later_fails_counts_as_paid_again(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, _t, order = _paid(api, platform_key, gateway, deliver)
    pi = order["payment_intent_id"]
    r = _refund(api, agent, order, amount_fen=2000)
    refund_id = r.json["refunds"][0]["provider_refund_id"]
    failed = event("refund.updated", {"id": refund_id, "object": "refund", "payment_intent": pi, "status": "failed"})
    assert deliver(failed)[1]["outcome"] == "refund_failed"
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["status"], got["refunded_fen"], got["refunds"][0]["status"]) == ("needs_review", 0, "failed")


def test_dashboard_refunds_in_any_order_are_applied_once(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, _t, order = _paid(api, platform_key, gateway, deliver)
    pi = order["payment_intent_id"]
    gateway.refund(pi, 1000, "dash-1")
    first = gateway.charge_refunded_event(pi)  # says 1000
    gateway.refund(pi, 500, "dash-2")
    second = gateway.charge_refunded_event(pi)  # says 1500
    assert deliver(second)[1]["outcome"] == "refunded"
    assert deliver(first)[1]["outcome"] == "order_state"
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["refunded_fen"], got["refundable_fen"]) == (1500, 12000 - 1500)


def test_moving_an_expiry_by_hand_needs_an_admin_and_a_reason_and_is_in_the_ledger(
    api: ApiClient, platform_key: str
) -> None:
    agent, _plan, t = _fleet(api, platform_key)
    staff = api.post("/v1/api-keys", {"role": "staff", "label": "前台"}, key=agent.admin_key).json["api_key"]
    path = f"/v1/terminals/{t['sn']}"
    by_staff = api.patch(path, {"expires_on": "2030-01-01", "reason": "goodwill"}, key=staff)
    assert (by_staff.status, by_staff.error["code"]) == (403, "admin_required")
    no_reason = api.patch(path, {"expires_on": "2030-01-01"}, key=agent.admin_key)
    assert (no_reason.status, no_reason.error["field"]) == (400, "reason")
    assert _expiry(api, agent, t) == t["expires_on"]
    assert api.patch(path, {"model": "P2 Pro"}, key=staff).status == 200  # other fields stay staff work
    done = api.patch(path, {"expires_on": "2030-01-01", "reason": "补偿断网七天"}, key=agent.admin_key)
    assert (done.status, done.json["expires_on"]) == (200, "2030-01-01")
    [line] = api.get(f"{path}/renewals", key=agent.admin_key).json["items"]
    assert (line["kind"], line["old_expires_on"], line["new_expires_on"], line["amount_fen"]) == (
        "adjustment",
        t["expires_on"],
        "2030-01-01",
        0,
    )
    assert (line["by"], line["note"]) == (agent.admin_key_id, "补偿断网七天")


def test_a_third_paid_renewal_within_a_day_is_flagged_and_the_merchant_sees_the_last_one(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    agent, plan, t = _fleet(api, platform_key, price=1500)
    assert api.get(f"/v1/public/terminals/{t['sn']}").json["renewed_minutes_ago"] is None
    for n in range(3):
        order = _order(api, agent, t, plan, "offline")
        api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key)
        flagged = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["risk_flagged_at"]
        assert (flagged is not None) == (n == 2)
    flagged_events = [e for e in OutboxRepository().entries(agent.tenant_id) if e.event_type == "terminal.risk_flagged"]
    assert [json.loads(e.data_json)["sn"] for e in flagged_events] == [t["sn"]]
    look = api.get(f"/v1/public/terminals/{t['sn']}").json
    assert look["renewed_minutes_ago"] == 0 and look["last_renewed_at"]


def test_the_merchant_is_told_of_a_refund_with_the_expiry_after_it(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, services: Any
) -> None:
    agent, t, order = _paid(api, platform_key, gateway, deliver)
    assert _refund(api, agent, order).json["status"] == "refunded"
    services.sweep.drain_queued()
    sent = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key).json["items"]
    refunds = [n for n in sent if n["template"] == "refund"]
    assert [n["channel"] for n in refunds] == ["sms"]  # this merchant gave a phone number only


def test_an_order_fulfilled_before_the_money_ledger_can_still_be_refunded(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, services: Any
) -> None:
    agent, _t, order = _paid(api, platform_key, gateway, deliver)
    item = services.orders.orders.item(agent.tenant_id, order["order_id"])
    item.paid_fen, item.paid_via = 0, None  # as stored by the previous release
    item.save()
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["paid_fen"], got["refundable_fen"]) == (12000, 12000)
    assert _refund(api, agent, order).json["refunded_fen"] == 12000
    assert gateway.refunded(order["payment_intent_id"]) == 12000
