"""Vouchers (充值卡) and money reports on moto with the fake Stripe."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from simrenew.domain.dates import add_months
from simrenew.domain.vouchers import normalize_code
from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.payments import FakeGateway, succeeded_for
from tests.unit.test_settlement import _agent, _paid_online


def test_a_voucher_renews_once_and_only_for_its_own_agents_terminals(api: ApiClient, platform_key: str) -> None:
    agent, plan, t = _agent(api, platform_key)
    batch = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 5}, key=agent.admin_key)
    assert batch.status == 201
    codes = batch.json["codes"]
    assert len(set(codes)) == 5 and all(re.fullmatch(r"([A-HJKMNP-Z2-9]{4}-){3}[A-HJKMNP-Z2-9]{4}", c) for c in codes)
    assert all(normalize_code(c) for c in codes)
    listed = api.get("/v1/vouchers/batches", key=agent.admin_key)
    assert codes[0] not in listed.body.decode() and listed.json["items"][0]["count"] == 5

    r = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": codes[0].lower().replace("-", " ")})
    assert r.status == 200, r.body
    expected = add_months(date.fromisoformat(t["expires_on"]), 6).isoformat()
    assert r.json == {"status": "fulfilled", "sn": t["sn"], "expires_on": expected, "plan_name": "半年卡"}
    again = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": codes[0]})
    assert (again.status, again.error["code"]) == (422, "invalid_voucher")

    other, _p, other_t = _agent(api, platform_key)
    foreign = api.post("/v1/public/vouchers/redeem", {"sn": other_t["sn"], "code": codes[1]})
    assert (foreign.status, foreign.error["code"]) == (422, "invalid_voucher")
    assert api.get(f"/v1/terminals/{other_t['sn']}", key=other.admin_key).json["expires_on"] == other_t["expires_on"]
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert [(x["kind"], x["new_expires_on"]) for x in ledger] == [("renewal", expected)]


def test_a_mistyped_code_is_caught_by_its_check_character_and_guessing_is_rate_limited(
    api: ApiClient, platform_key: str
) -> None:
    agent, plan, t = _agent(api, platform_key)
    code = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key).json[
        "codes"
    ][0]
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    r = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": typo})
    assert (r.status, r.error["field"], r.error["code"]) == (400, "code", "invalid_code")
    statuses = [api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": typo}).status for _ in range(6)]
    assert 429 in statuses  # five wrong tries per terminal per hour
    blocked = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code})
    assert blocked.status in (200, 429)


def test_revenue_per_day_shows_gross_fees_refunds_and_net_also_as_csv(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    order = _paid_online(api, agent, plan, t["sn"], gateway, deliver)
    api.post(
        f"/v1/orders/{order['order_id']}/refund",
        {"reason": "partial goodwill", "amount_fen": 1000},
        key=agent.admin_key,
    )
    today = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["updated_at"][:10]
    since = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    until = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
    r = api.get(f"/v1/reports/revenue?from={since}&to={until}", key=agent.admin_key)
    assert r.status == 200, r.body
    assert r.json["totals"] == {"gross_fen": 6200, "fees_fen": 200, "refunds_fen": 1000, "net_fen": 5200, "orders": 1}
    assert len(r.json["days"]) == 3
    csv_r = api.get(f"/v1/reports/revenue?from={since}&to={until}", key=agent.admin_key, headers={"Accept": "text/csv"})
    lines = csv_r.body.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "date,orders,gross_fen,fees_fen,refunds_fen,net_fen" and len(lines) == 4
    bad = api.get(f"/v1/reports/revenue?from={until}&to={since}", key=agent.admin_key)
    assert (bad.status, bad.error["field"]) == (400, "to")


def test_reconciliation_matches_paid_orders_and_lists_what_stripe_lacks(
    api: ApiClient, platform_key: str, gateway: FakeGateway, deliver: Any
) -> None:
    agent, plan, t = _agent(api, platform_key)
    paid = _paid_online(api, agent, plan, t["sn"], gateway, deliver)
    other = api.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key).json
    deliver(succeeded_for(other, "evt_no_charge"))  # our order says paid; Stripe has no charge
    day = api.get(f"/v1/orders/{paid['order_id']}", key=agent.admin_key).json["paid_at"][:10]
    candidates = [day, (date.fromisoformat(day) + timedelta(days=1)).isoformat()]
    reports = [api.get(f"/v1/reports/reconciliation?date={d}", key=agent.admin_key).json for d in candidates]
    report = max(reports, key=lambda x: x["summary"]["matched"])
    assert [m["order_id"] for m in report["matched"]] == [paid["order_id"]]
    assert [u["order_id"] for u in report["unmatched_orders"]] == [other["order_id"]]


def test_report_dates_outside_the_supported_calendar_are_400_naming_the_field(
    api: ApiClient, platform_key: str
) -> None:
    # Found by fuzzing: at datetime's ends the day's bounds in the agent's timezone overflowed (a 500).
    agent = create_agent(api, platform_key)
    for path, field in [
        ("/v1/reports/reconciliation?date=0001-01-01", "date"),
        ("/v1/reports/reconciliation?date=9999-12-31", "date"),
        ("/v1/reports/revenue?from=0001-01-01&to=0001-01-02", "from"),
        ("/v1/reports/revenue?from=9999-12-30&to=9999-12-31", "from"),
    ]:
        r = api.get(path, key=agent.admin_key)
        assert (r.status, r.error["field"], r.error["code"]) == (400, field, "out_of_range"), path
