"""Orders and payments on moto with a fake Stripe whose events are signed for real."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import pytest

from simrenew.domain.dates import add_months
from tests.support.builders import Agent, create_agent, one_terminal, paid_offline
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway, event, sign


def _setup(
    api: ApiClient, platform_key: str, expires_in_days: int = 90, fee: dict[str, Any] | None = None, price: int = 9900
) -> tuple[Agent, dict[str, Any], dict[str, Any]]:
    agent = create_agent(api, platform_key)
    if fee:
        assert api.patch("/v1/tenant", {"settings": {"service_fee": fee}}, key=agent.admin_key).status == 200
    plan, t = one_terminal(
        api,
        agent,
        merchant=("张记便利店", "13812345678"),
        price_fen=price,
        quota_mb=1024,
        expires_in_days=expires_in_days,
        data_quota_mb=10,
    )
    return agent, plan, t


def _order(api: ApiClient, agent: Agent, t: dict[str, Any], plan: dict[str, Any], payment: str = "online") -> Any:
    r = api.post(
        "/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": payment}, key=agent.admin_key
    )
    assert r.status == 201, r.body
    return r.json


def test_a_paid_order_extends_the_terminal_by_its_term_once_however_often_stripe_delivers(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _setup(api, platform_key, fee={"kind": "flat", "value": 300})
    order = _order(api, agent, t, plan)
    assert (order["amount_fen"], order["fee_fen"], order["status"]) == (10200, 300, "pending_payment")
    assert order["payment"]["client_secret"] and order["payment"]["publishable_key"] == "pk_test_fake"
    pi = order["payment_intent_id"]
    assert gateway.intents[pi]["amount"] == 10200 and gateway.intents[pi]["currency"] == "cny"

    gateway.confirm(pi, "pm_card_visa")
    payload = gateway.succeeded_event(pi)
    answers = [deliver(payload) for _ in range(20)]
    assert all(status == 200 for status, _ in answers)
    assert sum(1 for _, body in answers if body.get("duplicate")) == 19

    done = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert done["status"] == "fulfilled"
    expected = add_months(date.fromisoformat(t["expires_on"]), 12).isoformat()
    terminal = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json
    assert terminal["expires_on"] == expected
    assert (terminal["data_quota_mb"], terminal["data_used_mb"]) == (1024, 0)
    got = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key)
    assert got.status == 200, got.body
    ledger = got.json["items"]
    assert [(r["kind"], r["old_expires_on"], r["new_expires_on"], r["amount_fen"]) for r in ledger] == [
        ("renewal", t["expires_on"], expected, 10200)
    ]


@pytest.mark.parametrize("how", ["unsigned", "forged", "stale", "other_secret"])
def test_a_forged_unsigned_or_stale_event_is_400_and_changes_nothing(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, how: str
) -> None:
    agent, plan, t = _setup(api, platform_key)
    order = _order(api, agent, t, plan)
    payload = gateway.succeeded_event(order["payment_intent_id"])
    signature = {
        "unsigned": None,
        "forged": "t=123,v1=deadbeef",
        "stale": sign(payload, WEBHOOK_SECRET, int(time.time()) - 301),
        "other_secret": sign(payload, "whsec_someone_else"),
    }[how]
    status, body = deliver(payload, signature)
    assert status == 400
    assert body["error"]["field"] == "Stripe-Signature"
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "pending_payment"
    # The same event, properly signed, still applies: nothing was recorded by the refusals.
    assert deliver(payload)[0] == 200
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "fulfilled"


@pytest.mark.parametrize(("amount", "currency"), [(100, "cny"), (9900, "usd")])
def test_an_amount_or_currency_mismatch_goes_to_review_and_extends_nothing(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, amount: int, currency: str
) -> None:
    agent, plan, t = _setup(api, platform_key)
    order = _order(api, agent, t, plan)
    status, _ = deliver(gateway.succeeded_event(order["payment_intent_id"], amount=amount, currency=currency))
    assert status == 200
    assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "needs_review"
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]


def test_a_crash_between_payment_and_fulfilment_is_completed_by_the_retry(
    api: ApiClient,
    platform_key: str,
    gateway: FakeGateway,
    deliver: Any,
    services: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent, plan, t = _setup(api, platform_key)
    order = _order(api, agent, t, plan)
    payload = gateway.succeeded_event(order["payment_intent_id"])
    repo = services.orders.orders
    real = repo.commit

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("lambda killed mid-flight")

    monkeypatch.setattr(repo, "commit", crash)
    status, _ = deliver(payload)
    assert status == 500  # Stripe retries anything but 2xx
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]
    monkeypatch.setattr(repo, "commit", real)
    assert deliver(payload)[0] == 200
    assert deliver(payload)[1]["duplicate"] is True
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert len(ledger) == 1


def test_offline_payment_is_admin_only_needs_a_note_and_is_audited(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _setup(api, platform_key)
    order = _order(api, agent, t, plan, payment="offline")
    assert "payment" not in order or order.get("payment") in (None, "offline")
    staff = agent.key(api, "staff")
    path = f"/v1/orders/{order['order_id']}/mark-paid"
    assert api.post(path, {"note": "cash"}, key=staff).status == 403
    missing = api.post(path, {}, key=agent.admin_key)
    assert (missing.status, missing.error["field"]) == (400, "note")
    r = api.post(path, {"note": "现金 ¥99 收讫 / cash received"}, key=agent.admin_key)
    assert r.status == 200 and r.json["status"] == "fulfilled"
    assert any(
        a["action"] == "mark_paid" and a["by"] == agent.admin_key_id and "cash" in a["note"] for a in r.json["audit"]
    )
    again = api.post(path, {"note": "twice"}, key=agent.admin_key)
    assert (again.status, again.error["code"]) == (409, "order_not_payable")


def test_refund_before_the_term_starts_is_full_and_moves_the_expiry_back(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _setup(api, platform_key, expires_in_days=60, fee={"kind": "flat", "value": 500})
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    path = f"/v1/orders/{order['order_id']}/refund"
    assert api.post(path, {}, key=agent.admin_key).error["field"] == "reason"
    too_much = api.post(path, {"reason": "x", "amount_fen": 999999}, key=agent.admin_key)
    assert (too_much.status, too_much.error["code"]) == (422, "refund_too_large")
    r = api.post(path, {"reason": "terminal returned"}, key=agent.admin_key)
    assert r.status == 200, r.body
    assert (r.json["status"], r.json["refunded_fen"]) == ("refunded", 10400)
    # Stripe was asked once, with a key derived from the reservation (a retry gets the same refund).
    [refund] = r.json["refunds"]
    assert (refund["status"], refund["amount_fen"], r.json["refundable_fen"]) == ("succeeded", 10400, 0)
    assert gateway.refunds == [(order["payment_intent_id"], 10400, f"refund-{refund['refund_id']}")]
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]
    kinds = [x["kind"] for x in api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]]
    assert sorted(kinds) == ["renewal", "reversal"]
    # Stripe then tells us about our own refund: nothing more happens.
    echo = event(
        "charge.refunded",
        {"id": "ch_1", "object": "charge", "payment_intent": order["payment_intent_id"], "amount_refunded": 10400},
    )
    assert deliver(echo)[0] == 200
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]


def test_a_full_refund_before_the_term_starts_restores_a_month_end_expiry_exactly(
    api: ApiClient, platform_key: str
) -> None:
    # Found by tests/unit/domain/test_properties_dates.py: Jan 31 + 1 month = Feb 28, and moving back one month
    # gave Jan 28, taking three paid-up days from the merchant.
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 100, "price_fen": 1000}, key=agent.admin_key
    ).json
    month_end = date(date.today().year + 1, 1, 31).isoformat()
    t = api.post("/v1/terminals", terminal_body(expires_on=month_end), key=agent.admin_key).json
    order = _order(api, agent, t, plan, payment="offline")
    paid = api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "cash"}, key=agent.admin_key)
    assert paid.json["lines"][0]["expires_after"][5:] in ("02-28", "02-29")
    r = api.post(f"/v1/orders/{order['order_id']}/refund", {"reason": "changed mind"}, key=agent.admin_key)
    assert (r.status, r.json["status"]) == (200, "refunded"), r.body
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == month_end


def test_refund_of_a_started_term_returns_unused_whole_months_pro_rata(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _setup(api, platform_key, expires_in_days=-3, price=12000)  # lapsed: term starts today
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    renewed = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json
    r = api.post(f"/v1/orders/{order['order_id']}/refund", {"reason": "closing shop"}, key=agent.admin_key)
    assert r.status == 200, r.body
    # 12 unused whole months of a 12-month term started today (the day of the refund counts as used? no:
    # whole months from today to the end): the plan price, never the agent's fee.
    assert r.json["refunded_fen"] == 12000
    back = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"]
    assert back == add_months(date.fromisoformat(renewed["expires_on"]), -12).isoformat()


def test_a_refund_made_in_the_stripe_dashboard_lands_the_same_way(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _setup(api, platform_key, expires_in_days=30)
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    refunded = event(
        "charge.refunded",
        {"id": "ch_2", "object": "charge", "payment_intent": order["payment_intent_id"], "amount_refunded": 9900},
    )
    assert deliver(refunded)[0] == 200
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (got["status"], got["refunded_fen"]) == ("refunded", 9900)
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]


def test_the_merchant_pay_page_journey(api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any) -> None:
    agent, plan, t = _setup(api, platform_key, fee={"kind": "percent", "value": 2})
    look = api.get(f"/v1/public/terminals/{t['tid']}")
    assert look.status == 200
    info = look.json
    assert info["sn"] == t["sn"] and info["merchant_name_masked"] == "张***店"
    assert info["agent_phone"] is None  # until the agent sets its service phone
    assert info["plans"] == [
        {
            "plan_id": plan["plan_id"],
            "plan_name": "年卡",
            "name": "年卡",
            "term_months": 12,
            "data_quota_mb": 1024,
            "price_fen": 9900,
            "fee_fen": 198,
            "total_fen": 10098,
            # Stacked on the current expiry (the default renewal basis), previewed before paying.
            "new_expires_on": add_months(date.fromisoformat(t["expires_on"]), 12).isoformat(),
        }
    ]
    assert agent.tenant_id not in look.body.decode() and t["iccid"] not in look.body.decode()
    assert api.get("/v1/public/terminals/NO-SUCH-1").status == 404

    created = api.post("/v1/public/orders", {"sn": t["sn"].lower(), "plan_id": plan["plan_id"]})
    assert created.status == 201, created.body
    o = created.json
    assert (o["amount_fen"], o["currency"], o["status"]) == (10098, "CNY", "pending_payment")
    status_path = f"/v1/public/orders/{o['order_id']}"
    assert api.get(f"{status_path}?token=wrong").status == 404
    assert api.get(status_path).status == 404
    confirm = api.post(f"{status_path}/confirm", {"token": o["order_token"], "payment_method": "pm_card_visa"})
    assert confirm.json["payment_status"] == "succeeded"
    assert api.get(f"{status_path}?token={o['order_token']}").json["status"] == "pending_payment"  # webhook decides
    deliver(gateway.succeeded_event(o["payment"]["payment_intent_id"]))
    final = api.get(f"{status_path}?token={o['order_token']}").json
    assert final["status"] == "fulfilled"
    assert final["expires_on_after"] == add_months(date.fromisoformat(t["expires_on"]), 12).isoformat()


def test_a_pay_page_order_sent_again_under_its_idempotency_key_keeps_its_token(
    api: ApiClient, platform_key: str
) -> None:
    """The pay page sends its order again under the same key when the first answer was lost; the
    replay must carry the order's token, or the page can neither confirm nor follow the order."""
    _agent, plan, t = _setup(api, platform_key)
    body = {"sn": t["sn"], "plan_id": plan["plan_id"]}
    first = api.post("/v1/public/orders", body, headers={"Idempotency-Key": "pay-page-1"})
    again = api.post("/v1/public/orders", body, headers={"Idempotency-Key": "pay-page-1"})
    assert first.status == again.status == 201
    assert again.json["order_id"] == first.json["order_id"]
    assert again.json["order_token"] == first.json["order_token"] != ""
    status = api.get(f"/v1/public/orders/{first.json['order_id']}?token={again.json['order_token']}")
    assert status.status == 200 and status.json["status"] == "pending_payment"


def test_risk_limits_answer_422_and_429_with_reasons(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _setup(api, platform_key, price=600_000)
    t2 = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json
    big = api.post(
        "/v1/orders",
        {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}, {"sn": t2["sn"], "plan_id": plan["plan_id"]}]},
        key=agent.admin_key,
    )
    assert (big.status, big.error["code"]) == (422, "amount_too_large")
    for _ in range(20):  # unpaid orders block nothing: paid renewals are what count
        assert api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key)
    small = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 10, "price_fen": 100}, key=agent.admin_key
    ).json
    for _ in range(20):
        paid_offline(api, agent, t["sn"], small["plan_id"])
    r = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (429, "too_many_orders")
    assert int(r.headers["retry-after"]) > 0


def test_anonymous_unpaid_orders_never_lock_the_agent_out(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _setup(api, platform_key)
    # The SN is printed on the QR sticker: anyone can start orders for it. The same plan again
    # gets the same unpaid order (a reload, a second phone), not a new one.
    started = [api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}) for _ in range(10)]
    assert {(r.status, r.json["order_id"], r.json["payment"]["client_secret"]) for r in started} == {
        (201, started[0].json["order_id"], started[0].json["payment"]["client_secret"])
    }
    assert (
        api.get(f"/v1/public/orders/{started[0].json['order_id']}?token={started[-1].json['order_token']}").status
        == 200
    )
    others = [
        api.post(
            "/v1/plans",
            {"name": f"套餐{n}", "term_months": 1, "data_quota_mb": 10, "price_fen": 100 + n},
            key=agent.admin_key,
        ).json
        for n in range(5)
    ]
    more = [api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": p["plan_id"]}) for p in others]
    assert [r.status for r in more] == [201] * 4 + [429]
    assert more[-1].error["code"] == "too_many_open_orders"
    for _ in range(4):
        assert _order(api, agent, t, plan)["status"] == "pending_payment"
    cash = _order(api, agent, t, plan, payment="offline")
    paid = api.post(f"/v1/orders/{cash['order_id']}/mark-paid", {"note": "现金"}, key=agent.admin_key)
    assert (paid.status, paid.json["status"]) == (200, "fulfilled")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sn": "x"}]}, "lines[0].sn"),
        ({"lines": [{"sn": "ABCDEF1"}]}, "lines[0].plan_id"),
        ({"lines": [{"sn": "ABCDEF1", "plan_id": "p_1"}], "payment": "cheque"}, "payment"),
    ],
)
def test_bad_orders_are_400_naming_the_field(
    api: ApiClient, platform_key: str, body: dict[str, Any], field: str
) -> None:
    agent, _plan, _t = _setup(api, platform_key)
    r = api.post("/v1/orders", body, key=agent.admin_key)
    assert (r.status, r.error["field"]) == (400, field)
    assert api.get("/v1/orders", key=agent.admin_key).json["items"] == []


def test_unknown_and_unrelated_events_are_acknowledged(deliver: Any) -> None:
    status, body = deliver(event("customer.created", {"id": "cus_1"}))
    assert status == 200 and body["received"] is True
    status, body = deliver(json.dumps({"no": "event"}).encode())
    assert status == 400


def test_fulfilment_queues_a_receipt_for_the_merchant_with_the_new_expiry(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any, services: Any
) -> None:
    agent, plan, t = _setup(api, platform_key, expires_in_days=-10)  # past grace: the renewal reactivates it
    assert t["status"] == "suspended"
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["status"] == "active"
    events = services.fleet.terminals.events(agent.tenant_id, t["sn"])
    receipts = [e for e in events if e.event.startswith("receipt#")]
    assert len(receipts) == 1 and receipts[0].state == "pending"
    detail = json.loads(receipts[0].detail_json)
    assert detail["order_id"] == order["order_id"] and detail["reactivated"] is True


def test_a_dispute_puts_the_order_under_review_and_the_ledger_downloads_as_csv(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _setup(api, platform_key)
    order = _order(api, agent, t, plan)
    deliver(gateway.succeeded_event(order["payment_intent_id"]))
    dispute = event(
        "charge.dispute.created",
        {"id": "dp_1", "object": "dispute", "charge": "ch_9", "payment_intent": order["payment_intent_id"]},
    )
    assert deliver(dispute)[0] == 200
    got = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert got["status"] == "needs_review" and got["audit"][-1]["action"] == "dispute"
    csv_r = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key, headers={"Accept": "text/csv"})
    lines = csv_r.body.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("created_at,kind,source") and len(lines) == 2 and order["order_id"] in lines[1]


def test_stripe_intents_are_cny_with_an_order_idempotency_key_and_destination_charges() -> None:
    from simrenew.adapters.payments import StripeGateway, StripeKeys

    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    class Intents:
        def create(self, params: dict[str, Any], options: dict[str, Any]) -> Any:
            calls.append((params, options))
            return type("PI", (), {"id": "pi_1", "client_secret": "s", "status": "requires_payment_method"})()

    gateway = StripeGateway(lambda: StripeKeys("sk", "pk", "whsec"), local=False)
    gateway._v1 = lambda: type("V1", (), {"payment_intents": Intents()})()  # type: ignore[method-assign]
    gateway.create_intent(
        order_id="o_1",
        amount_fen=10200,
        methods=["card", "alipay", "wechat_pay"],
        connected_account="acct_123",
        application_fee_fen=300,
        metadata={"order_id": "o_1"},
    )
    gateway.create_intent(
        order_id="o_2",
        amount_fen=9900,
        methods=["wechat_pay"],
        connected_account=None,
        application_fee_fen=0,
        metadata={},
    )
    (first, first_opts), (second, _) = calls
    assert first["currency"] == "cny" and first["amount"] == 10200
    assert first["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert first["application_fee_amount"] == 300 and first["transfer_data"] == {"destination": "acct_123"}
    assert first_opts == {"idempotency_key": "order-o_1"}
    assert "transfer_data" not in second and "application_fee_amount" not in second
