"""WeChat Pay (服务商, partner APIs) and Alipay (ISV) straight to the agent, over real HTTP: DynamoDB
Local, the local API server, and the local WeChat Pay platform and Alipay gateway (their own
processes) verifying our signatures and signing and encrypting what they send."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

import pytest
import requests

from simrenew.domain.dates import add_months
from tests.support.builders import Agent, create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body
from tests.support.waiting import wait_for as _wait

RAILS = ("wechatpay", "alipay")
METHOD = {"wechatpay": "wechat_pay", "alipay": "alipay"}


def _onboard(api: ApiClient, agent: Agent, alipay_base: str) -> dict[str, Any]:
    token = requests.post(f"{alipay_base}/_sim/app_auth_tokens", timeout=10).json()
    sub_mchid = str(random.randrange(10**9, 10**10))
    r = api.patch(
        "/v1/tenant",
        {"settings": {"wechatpay_sub_mchid": sub_mchid, "alipay_app_auth_token": token["app_auth_token"]}},
        key=agent.admin_key,
    )
    assert r.status == 200, r.body
    return {"wechatpay": sub_mchid, "alipay": token["auth_app_id"], "token": token["app_auth_token"]}


def _fleet(api: ApiClient, platform_key: str, alipay_base: str, price: int = 4000) -> tuple[Agent, Any, Any, Any]:
    agent = create_agent(api, platform_key)
    subs = _onboard(api, agent, alipay_base)
    plan, t = one_terminal(
        api, agent, merchant=("王记超市", "13711112222"), plan=("季卡", 3), price_fen=price, expires_in_days=10
    )
    return agent, plan, t, subs


@pytest.fixture(params=RAILS)
def rail(request: pytest.FixtureRequest) -> str:
    """A test that asks for the rail runs once on each."""
    return str(request.param)


@pytest.fixture
def base(rail: str, wechatpay_base: str, alipay_base: str) -> str:
    """The local platform of the test's rail."""
    return wechatpay_base if rail == "wechatpay" else alipay_base


def _order(api: ApiClient, t: Any, plan: Any, rail: str, client: str = "desktop") -> Any:
    r = api.post(
        "/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"], "method": METHOD[rail], "client": client}
    )
    assert r.status == 201, r.body
    return r.json


def _sim(base: str, otn: str, action: str | None = None) -> Any:
    if action:
        r = requests.post(f"{base}/_sim/transactions/{otn}/{action}", timeout=30)
    else:
        r = requests.get(f"{base}/_sim/transactions/{otn}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _post(server_url: str, rail: str, note: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{server_url}/webhooks/{rail}", data=note["body"].encode(), headers=note["headers"], timeout=30
    )


def _paid_state(api: ApiClient, o: Any) -> Any:
    return _wait(
        lambda: (
            (s := api.get(f"/v1/public/orders/{o['order_id']}?token={o['order_token']}").json)["status"] == "fulfilled"
            and s
        )
    )


class Paid(NamedTuple):
    agent: Agent
    t: Any
    order: Any
    otn: str
    note: dict[str, Any]  # the platform's notification of the payment


@pytest.fixture
def paid_order(api: ApiClient, platform_key: str, alipay_base: str, base: str, rail: str) -> Callable[[int], Paid]:
    """A new agent's order at `price`, paid on the test's rail and fulfilled."""

    def pay(price: int) -> Paid:
        agent, plan, t, _subs = _fleet(api, platform_key, alipay_base, price=price)
        o = _order(api, t, plan, rail)
        otn = o["payment"]["out_trade_no"]
        paid = _sim(base, otn, "pay")
        _paid_state(api, o)
        return Paid(agent, t, o, otn, paid["notification"])

    return pay


def _at_once(n: int, call: Callable[[], Any]) -> list[Any]:
    """`call` in n threads at once: what each returned."""
    out: list[Any] = []
    threads = [threading.Thread(target=lambda: out.append(call())) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_order_pay_notification_fulfils_once_with_ten_duplicates_at_once(
    rail: str, api: ApiClient, platform_key: str, server_url: str, base: str, alipay_base: str
) -> None:
    agent, plan, t, subs = _fleet(api, platform_key, alipay_base)
    o = _order(api, t, plan, rail)
    pay = o["payment"]
    assert pay["provider"] == rail and pay["code_url"] and pay["qr_svg"].startswith("data:image/svg+xml")
    assert "client_secret" not in pay
    paid = _sim(base, pay["out_trade_no"], "pay")
    assert paid["notify_status"] in (200, 204), paid
    status = _paid_state(api, o)
    expected = add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    assert status["expires_on_after"] == expected
    # The platform sends it again, ten times at once: nothing more happens.
    note = paid["notification"]
    codes = _at_once(10, lambda: _post(server_url, rail, note).status_code)
    assert all(c in (200, 204, 503) for c in codes) and any(c in (200, 204) for c in codes), codes
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert len(ledger) == 1
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    order = api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json
    assert (order["status"], order["paid_fen"]) == ("fulfilled", 4000)
    assert order["payment_attempts"][0]["sub_merchant"] == subs[rail]


def _forged_wechatpay(note: dict[str, Any]) -> list[dict[str, Any]]:
    """The real notification tampered with: another amount re-encrypted under a key that is not
    the APIv3 key, the ciphertext changed, the signature of another body, a stale timestamp."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    body = json.loads(note["body"])
    out = []
    wrong_key = AESGCM(b"0" * 32)
    resource = dict(body["resource"])
    plain = json.dumps({"out_trade_no": "x", "amount": {"total": 1}}).encode()
    resource["ciphertext"] = base64.b64encode(
        wrong_key.encrypt(resource["nonce"].encode(), plain, b"transaction")
    ).decode()
    out.append({"headers": note["headers"], "body": json.dumps({**body, "resource": resource})})
    tampered = dict(body["resource"])
    raw = bytearray(base64.b64decode(tampered["ciphertext"]))
    raw[0] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    out.append({"headers": note["headers"], "body": json.dumps({**body, "resource": tampered})})
    stale = {**note["headers"], "Wechatpay-Timestamp": str(int(time.time()) - 3600)}
    out.append({"headers": stale, "body": note["body"]})
    other_serial = {**note["headers"], "Wechatpay-Serial": "PUB_KEY_ID_FORGED"}
    out.append({"headers": other_serial, "body": note["body"]})
    out.append({"headers": {"Content-Type": "application/json"}, "body": note["body"]})
    return out


def _forged_alipay(note: dict[str, Any]) -> list[dict[str, Any]]:
    form = dict(parse_qsl(note["body"]))
    out = []
    out.append({"headers": note["headers"], "body": urlencode({**form, "total_amount": "0.01"})})
    out.append({"headers": note["headers"], "body": urlencode({**form, "sign": base64.b64encode(b"x" * 256).decode()})})
    out.append({"headers": note["headers"], "body": urlencode({k: v for k, v in form.items() if k != "sign"})})
    out.append({"headers": note["headers"], "body": urlencode({**form, "auth_app_id": "2021999999999999"})})
    return out


def test_a_forged_or_re_encrypted_notification_is_401_and_changes_nothing(
    rail: str, api: ApiClient, server_url: str, paid_order: Callable[[int], Paid]
) -> None:
    agent, t, _o, _otn, note = paid_order(4000)
    before = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"]
    forged = _forged_wechatpay(note) if rail == "wechatpay" else _forged_alipay(note)
    for fake in forged:
        r = _post(server_url, rail, fake)
        assert r.status_code == 401, (fake, r.text)
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == before
    assert len(api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]) == 1


def test_a_refund_is_one_refund_on_the_platform_and_partial_then_the_rest(
    api: ApiClient, base: str, paid_order: Callable[[int], Paid]
) -> None:
    agent, t, o, otn, _note = paid_order(15300)
    first = api.post(
        f"/v1/orders/{o['order_id']}/refund", {"reason": "客户退卡", "amount_fen": 5000}, key=agent.admin_key
    )
    assert first.status == 200, first.body
    assert first.json["refundable_fen"] == 10300
    refund_id = first.json["refunds"][0]["refund_id"]
    state = _sim(base, otn)
    assert [(r["out_refund_no"], r["amount"]) for r in state["refunds"]] == [(refund_id, 5000)]
    rest = api.post(f"/v1/orders/{o['order_id']}/refund", {"reason": "客户退卡"}, key=agent.admin_key)
    assert (rest.status, rest.json["status"], rest.json["refunded_fen"]) == (200, "refunded", 15300), rest.body
    state = _sim(base, otn)
    assert sorted(r["amount"] for r in state["refunds"]) == [5000, 10300]
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]
    # The platform's refund notices arrive (once each, and again): nothing changes.
    _wait(lambda: all(r.get("notification") for r in _sim(base, otn)["refunds"]))
    time.sleep(1.0)
    got = api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json
    assert (got["refunded_fen"], got["refund_pending_fen"], len(got["refunds"])) == (15300, 0, 2)
    again = api.post(f"/v1/orders/{o['order_id']}/refund", {"reason": "再退"}, key=agent.admin_key)
    assert again.status == 409


def test_five_concurrent_full_refunds_reach_the_platform_once(
    api: ApiClient, base: str, paid_order: Callable[[int], Paid]
) -> None:
    agent, _t, o, otn, _note = paid_order(9900)
    answers = _at_once(
        5, lambda: api.post(f"/v1/orders/{o['order_id']}/refund", {"reason": "并发"}, key=agent.admin_key)
    )
    assert sorted(a.status for a in answers) == [200, 409, 409, 409, 409], [a.body for a in answers]
    assert [r["amount"] for r in _sim(base, otn)["refunds"]] == [9900]


def test_a_second_paid_trade_for_a_paid_order_is_returned(
    rail: str, api: ApiClient, platform_key: str, base: str, alipay_base: str
) -> None:
    agent, plan, t, _subs = _fleet(api, platform_key, alipay_base)
    o = _order(api, t, plan, rail, "desktop")
    again = _order(api, t, plan, rail, "mobile")  # the same order reused, a second trade (H5 / WAP)
    assert again["order_id"] == o["order_id"] and again["payment"]["h5_url"]
    _sim(base, o["payment"]["out_trade_no"], "pay")
    _paid_state(api, o)
    if rail == "alipay":
        requests.get(again["payment"]["h5_url"], timeout=10)  # WAP: the trade exists once the payer opens it
    _sim(base, again["payment"]["out_trade_no"], "pay")
    got = _wait(
        lambda: (
            (g := api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json)["duplicate_payments"]
            and g["duplicate_payments"][0]["status"] == "refunded"
            and g
        )
    )
    assert got["duplicate_payments"][0]["provider"] == rail
    assert [r["amount"] for r in _sim(base, again["payment"]["out_trade_no"])["refunds"]] == [4000]
    assert _sim(base, o["payment"]["out_trade_no"])["refunds"] == []
    assert (got["status"], got["refunded_fen"]) == ("fulfilled", 0)
    assert len(api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]) == 1


def test_bill_reconciliation_matches_the_trade_bill(
    rail: str, api: ApiClient, base: str, paid_order: Callable[[int], Paid]
) -> None:
    agent, _t, o, otn, _note = paid_order(12000)
    r = api.post(f"/v1/orders/{o['order_id']}/refund", {"reason": "部分退款", "amount_fen": 2000}, key=agent.admin_key)
    assert r.status == 200, r.body
    # A refund is PROCESSING at the rail until it completes (here 0.3 s later, as WeChat Pay does it
    # asynchronously); the day's bill lists it only then. Found by CI under load.
    _wait(lambda: [x for x in _sim(base, otn).get("refunds", []) if x.get("status") in ("SUCCESS", "REFUND_SUCCESS")])
    day = api.get(f"/v1/orders/{o['order_id']}", key=agent.admin_key).json["paid_at"]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local_day = datetime.fromisoformat(day.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai")).date()
    report = api.get(f"/v1/reports/reconciliation?date={local_day.isoformat()}", key=agent.admin_key)
    assert report.status == 200, report.body
    rows = [m for m in report.json["matched"] if m.get("provider") == rail]
    assert sorted((m["kind"], m["amount_fen"]) for m in rows) == [("charge", 12000), ("refund", 2000)], report.json
    assert all(m["order_id"] == o["order_id"] for m in rows)
    assert report.json["unmatched_bill"] == [] and report.json["unmatched_orders"] == []
    # The CSV the finance role downloads names the rail and the trade of each line.
    csv_text = api.get(
        f"/v1/reports/reconciliation?date={local_day.isoformat()}", key=agent.admin_key, headers={"Accept": "text/csv"}
    ).body.decode("utf-8-sig")
    header, *lines = csv_text.strip().splitlines()
    assert header.split(",")[-3:] == ["provider", "out_trade_no", "out_refund_no"]
    mine = [line for line in lines if f",{rail}," in line]
    assert len(mine) == 2 and all(line.startswith("matched,") for line in mine), csv_text
    assert all(o["payment"]["out_trade_no"] in line for line in mine if ",charge," in line), csv_text
    settlement = api.get(
        f"/v1/reports/settlement?from={local_day.isoformat()}&to={local_day.isoformat()}", key=agent.admin_key
    ).json
    totals = settlement["totals"]
    assert (totals["direct_fen"], totals["direct_refunds_fen"], totals["collected_fen"]) == (12000, 2000, 0)
    assert totals["direct_fees_fen"] == round(12000 * 0.006)


def test_an_unanswered_order_is_queried_and_closed_at_expiry(
    rail: str, api: ApiClient, platform_key: str, make_services: Any, base: str, alipay_base: str
) -> None:
    from datetime import UTC, datetime

    from simrenew.clock import FixedClock

    agent, plan, t, _subs = _fleet(api, platform_key, alipay_base)
    unpaid = _order(api, t, plan, rail)
    svc = make_services(FixedClock(datetime.now(UTC) + timedelta(minutes=31)))
    assert svc.orders.expire_due() >= 1
    assert api.get(f"/v1/orders/{unpaid['order_id']}", key=agent.admin_key).json["status"] == "expired"
    assert _sim(base, unpaid["payment"]["out_trade_no"])["trade_state"] in ("CLOSED", "TRADE_CLOSED")
    # Paid, and its notification lost: the query at expiry finds the payment and fulfils the order.
    agent2, plan2, t2, _ = _fleet(api, platform_key, alipay_base)
    lost = _order(api, t2, plan2, rail)
    otn = lost["payment"]["out_trade_no"]
    assert requests.post(f"{base}/_sim/transactions/{otn}/pay?notify=0", timeout=30).json()["notify_status"] == 0
    assert api.get(f"/v1/orders/{lost['order_id']}", key=agent2.admin_key).json["status"] == "pending_payment"
    svc.orders.expire_due()
    got = api.get(f"/v1/orders/{lost['order_id']}", key=agent2.admin_key).json
    assert got["status"] == "fulfilled"


def test_settings_keep_the_alipay_token_secret_and_check_it(
    api: ApiClient, platform_key: str, alipay_base: str
) -> None:
    agent = create_agent(api, platform_key)
    subs = _onboard(api, agent, alipay_base)
    got = api.get("/v1/tenant", key=agent.admin_key)
    assert subs["token"] not in got.body.decode()
    settings = got.json["settings"]
    assert settings["wechatpay_sub_mchid"] == subs["wechatpay"]
    assert settings["alipay_app_auth_token_set"] is True and settings["alipay_auth_app_id"] == subs["alipay"]
    bad = api.patch(
        "/v1/tenant",
        {"settings": {"alipay_app_auth_token": "202612BB2021000000000000" + "0" * 24}},
        key=agent.admin_key,
    )
    assert (bad.status, bad.error["code"]) == (422, "invalid_app_auth_token")
    wrong = api.patch("/v1/tenant", {"settings": {"wechatpay_sub_mchid": "12ab"}}, key=agent.admin_key)
    assert wrong.status == 400
    staff = agent.key(api, "staff")
    assert api.patch("/v1/tenant", {"settings": {"wechatpay_sub_mchid": None}}, key=staff).status == 403
    lookup = api.get("/v1/public/terminals/NOPE")
    assert lookup.status == 404


def test_an_agent_not_onboarded_pays_wechat_through_stripe(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 100, "price_fen": 1500}, key=agent.admin_key
    ).json
    t = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json
    info = api.get(f"/v1/public/terminals/{t['sn']}").json
    assert info["direct_methods"] == []
    r = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"], "method": "wechat_pay"})
    assert r.status == 201 and r.json["payment"]["client_secret"].startswith(r.json["payment"]["payment_intent_id"])


def test_the_counter_qr_of_an_agent_order_is_paid_straight_to_the_agent(
    rail: str, api: ApiClient, platform_key: str, base: str, alipay_base: str
) -> None:
    agent, plan, t, subs = _fleet(api, platform_key, alipay_base)
    body = {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": "online", "method": METHOD[rail]}
    r = api.post("/v1/orders", body, key=agent.admin_key)
    assert r.status == 201, r.body
    pay = r.json["payment"]
    assert pay["provider"] == rail and pay["code_url"] and pay["qr_svg"] and r.json["payment_intent_id"] is None
    _sim(base, pay["out_trade_no"], "pay")
    got = _wait(
        lambda: (
            (g := api.get(f"/v1/orders/{r.json['order_id']}", key=agent.admin_key).json)["status"] == "fulfilled" and g
        )
    )
    assert got["payment_attempts"][0]["sub_merchant"] == subs[rail]
    other = create_agent(api, platform_key)
    plan2 = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 100, "price_fen": 1500}, key=other.admin_key
    ).json
    t2 = api.post("/v1/terminals", terminal_body(), key=other.admin_key).json
    refused = api.post(
        "/v1/orders",
        {"lines": [{"sn": t2["sn"], "plan_id": plan2["plan_id"]}], "payment": "online", "method": METHOD[rail]},
        key=other.admin_key,
    )
    assert (refused.status, refused.error["code"]) == (422, "rail_not_onboarded")
