"""Issue 16 parts 2 and 3, as an agent would notice them: merchant names on every list, search by
any part of SN / TID / ICCID / merchant name / phone, sort, totals, CSV exports that follow the
filters, orders by SN / status / date / channel; reinstating an agent, the import history,
voucher batch counts and void, undoing a deactivation, usage by CSV. Collected by tests/unit."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.builders import Agent, create_agent, signup_body
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body


def _post(api: ApiClient, agent: Agent, path: str, body: Any) -> dict[str, Any]:
    r = api.post(path, body, key=agent.admin_key)
    assert r.status in (200, 201), (path, r.status, r.body)
    return r.json  # type: ignore[no-any-return]


def _fleet(api: ApiClient, agent: Agent) -> dict[str, Any]:
    """Two merchants, four terminals: one unassigned, one expiring soon, one in grace."""
    shop = _post(api, agent, "/v1/merchants", {"name": "深圳华强北旗舰店", "phone": "13812345678"})
    cafe = _post(api, agent, "/v1/merchants", {"name": "Blue Cafe", "phone": "13900001111"})
    today = date.today()

    def term(word: str, days: int, merchant: dict[str, Any] | None) -> dict[str, Any]:
        body = terminal_body(expires_on=str(today + timedelta(days=days)))
        body["sn"] = f"{word}-{body['sn'][3:]}"  # distinct words: "LPH" is in ALPHA's SN only
        if merchant:
            body["merchant_id"] = merchant["merchant_id"]
        return _post(api, agent, "/v1/terminals", body)

    t = {
        "a": term("ALPHA", 200, shop),
        "b": term("BRAVO", 5, cafe),
        "c": term("CHARLIE", -2, shop),
        "d": term("DELTA", 60, None),
    }
    return {"shop": shop, "cafe": cafe, **t}


def _sns(r: Any) -> list[str]:
    assert r.status == 200, r.body
    return [i["sn"] for i in r.json["items"]]


# --- names, search, sort, totals ------------------------------------------------------------------
def test_the_fleet_list_shows_each_terminals_merchant_by_name_and_phone_and_a_total(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    r = api.get("/v1/terminals", key=agent.admin_key)
    assert r.status == 200 and r.json["total"] == 4
    by_sn = {i["sn"]: i for i in r.json["items"]}
    assert by_sn[w["a"]["sn"]]["merchant"] == {
        "merchant_id": w["shop"]["merchant_id"],
        "name": "深圳华强北旗舰店",
        "phone": "+8613812345678",
    }
    assert by_sn[w["d"]["sn"]]["merchant"] is None


def test_a_readonly_key_sees_merchant_phones_masked_in_lists(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    readonly = agent.key(api, "readonly")
    row = next(i for i in api.get("/v1/terminals", key=readonly).json["items"] if i["sn"] == w["a"]["sn"])
    assert row["merchant"]["name"] == "深圳华强北旗舰店"
    assert row["merchant"]["phone"] == "+86138****5678"
    merchants = api.get("/v1/merchants", key=readonly).json["items"]
    assert {m["phone"] for m in merchants} == {"+86138****5678", "+86139****1111"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(lambda w: w["a"]["sn"][3:9].lower(), "a", id="middle of the SN"),
        pytest.param(lambda w: w["b"]["tid"][-5:], "b", id="end of the TID"),
        pytest.param(lambda w: w["c"]["iccid"][-7:], "c", id="end of the ICCID"),
        pytest.param(lambda w: "华强北", "shop", id="merchant name"),
        pytest.param(lambda w: "139 0000 1111", "cafe", id="merchant phone, national form"),
    ],
)
def test_q_finds_terminals_by_any_part_of_sn_tid_iccid_or_by_the_merchant(
    api: ApiClient, platform_key: str, query: Callable[[dict[str, Any]], str], expected: str
) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    q = query(w)
    r = api.get(f"/v1/terminals?q={q}", key=agent.admin_key)
    needle = q.replace(" ", "").lower()
    # The oracle: every terminal one of whose identifiers contains the text, or whose merchant matches.
    want = {w[k]["sn"] for k in "abcd" if any(needle in str(w[k][f]).lower() for f in ("sn", "tid", "iccid"))}
    if expected == "shop":
        want |= {w["a"]["sn"], w["c"]["sn"]}
    if expected == "cafe":
        want |= {w["b"]["sn"]}
    if expected in "abc":
        assert w[expected]["sn"] in want
    assert set(_sns(r)) == want
    assert r.json["total"] == len(want)


def test_full_width_search_text_matches_like_half_width(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w["a"]["sn"][-6:])
    assert _sns(api.get(f"/v1/terminals?q={wide}", key=agent.admin_key)) == [w["a"]["sn"]]


def test_search_combines_with_status_and_pages_with_a_cursor(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    r = api.get("/v1/terminals?q=华强北&status=grace", key=agent.admin_key)
    assert _sns(r) == [w["c"]["sn"]]
    first = api.get("/v1/terminals?q=-&limit=3&sort=sn", key=agent.admin_key)
    assert len(first.json["items"]) == 3 and first.json["total"] == 4 and first.json["next_cursor"]
    second = api.get(f"/v1/terminals?q=-&limit=3&sort=sn&cursor={first.json['next_cursor']}", key=agent.admin_key)
    assert len(_sns(second)) == 1 and second.json["next_cursor"] is None
    assert sorted(_sns(first) + _sns(second)) == sorted(w[k]["sn"] for k in "abcd")
    # A search cursor is for that search only.
    other = api.get(f"/v1/terminals?q=cafe&cursor={first.json['next_cursor']}", key=agent.admin_key)
    assert other.status == 400 and other.error["field"] == "cursor"


@pytest.mark.parametrize("sort", ["expires_on", "-expires_on", "name", "sn"])
def test_sort_orders_the_fleet_by_expiry_either_way_by_merchant_name_or_by_sn(
    api: ApiClient, platform_key: str, sort: str
) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    got = _sns(api.get(f"/v1/terminals?sort={sort}", key=agent.admin_key))
    terms = [w[k] for k in "abcd"]
    if sort == "expires_on":
        want = [t["sn"] for t in sorted(terms, key=lambda t: t["expires_on"])]
    elif sort == "-expires_on":
        want = [t["sn"] for t in sorted(terms, key=lambda t: t["expires_on"], reverse=True)]
    elif sort == "name":  # Blue Cafe, then 深圳…, then the unassigned one
        shop = sorted([w["a"]["sn"], w["c"]["sn"]])
        want = [w["b"]["sn"], *shop, w["d"]["sn"]]
    else:
        want = sorted(t["sn"] for t in terms)
    assert got == want


def test_sort_by_expiry_within_a_status_uses_the_status_and_counts_it(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    r = api.get("/v1/terminals?status=active&sort=-expires_on", key=agent.admin_key)
    assert _sns(r) == [w["a"]["sn"], w["b"]["sn"]] and r.json["total"] == 2
    by_merchant = api.get(f"/v1/terminals?merchant_id={w['shop']['merchant_id']}&sort=expires_on", key=agent.admin_key)
    assert _sns(by_merchant) == [w["c"]["sn"], w["a"]["sn"]] and by_merchant.json["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("terminals?sort=price", "sort"),
        ("terminals?status=nope", "status"),
        ("terminals?expires_before=2027-13-01", "expires_before"),
        ("terminals?merchant_id=x_1", "merchant_id"),
        ("terminals?q=" + "x" * 65, "q"),
        ("terminals?cursor=s1.bm9wZQ", "cursor"),
        ("orders?status=lost", "status"),
        ("orders?channel=fax", "channel"),
        ("orders?from=2027-02-30", "from"),
        ("orders?sn=a b", "sn"),
        ("orders?from=2027-02-02&to=2027-02-01", "to"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    api: ApiClient, platform_key: str, query: str, field: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.get(f"/v1/{query}", key=agent.admin_key)
    assert r.status == 400 and r.error["field"] == field, r.body


def test_merchants_are_searchable_sorted_by_name_and_counted(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    _post(api, agent, "/v1/merchants", {"name": "Apple Bakery", "phone": "13700002222", "contact_name": "王芳"})
    names = [m["name"] for m in api.get("/v1/merchants?sort=name", key=agent.admin_key).json["items"]]
    assert names == ["Apple Bakery", "Blue Cafe", "深圳华强北旗舰店"]
    found = api.get("/v1/merchants?q=王芳", key=agent.admin_key).json
    assert [m["name"] for m in found["items"]] == ["Apple Bakery"] and found["total"] == 1
    by_phone = api.get("/v1/merchants?q=12345678", key=agent.admin_key).json
    assert [m["merchant_id"] for m in by_phone["items"]] == [w["shop"]["merchant_id"]]
    assert api.get("/v1/merchants", key=agent.admin_key).json["total"] == 3
    assert api.get("/v1/merchants?sort=age", key=agent.admin_key).error["field"] == "sort"


def test_names_sort_in_pinyin_order_across_pages_both_ways(api: ApiClient, platform_key: str) -> None:
    """阿里 (a) < 北京 (bei) < Coffee < 张记 (zhang): code-point order would be 北 < 张 < 阿."""
    agent = create_agent(api, platform_key)
    shops = {}
    for n, name in enumerate(("张记便利店", "阿里小卖部", "Coffee 咖啡", "北京烤鸭店")):
        shops[name] = _post(api, agent, "/v1/merchants", {"name": name, "phone": f"1370000{n:04d}"})
        body = terminal_body()
        body["merchant_id"] = shops[name]["merchant_id"]
        _post(api, agent, "/v1/terminals", body)
    expected = ["阿里小卖部", "北京烤鸭店", "Coffee 咖啡", "张记便利店"]

    def walk(path: str) -> list[str]:
        names: list[str] = []
        cursor = ""
        while True:
            page = api.get(path + cursor, key=agent.admin_key)
            assert page.status == 200, page.body
            names += [i["name"] if "name" in i else i["merchant"]["name"] for i in page.json["items"]]
            if not page.json["next_cursor"]:
                return names
            cursor = "&cursor=" + page.json["next_cursor"]

    assert walk("/v1/merchants?sort=name&limit=3") == expected
    assert walk("/v1/merchants?sort=-name&limit=3") == expected[::-1]
    assert walk("/v1/terminals?sort=name&limit=3") == expected


def test_a_renamed_merchant_is_found_by_its_new_name_only(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    api.patch(f"/v1/merchants/{w['cafe']['merchant_id']}", {"name": "Red Tea House"}, key=agent.admin_key)
    assert _sns(api.get("/v1/terminals?q=red tea", key=agent.admin_key)) == [w["b"]["sn"]]
    assert _sns(api.get("/v1/terminals?q=blue", key=agent.admin_key)) == []


def test_the_expiring_report_names_the_merchants(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    r = api.get("/v1/reports/expiring?days=30", key=agent.admin_key)
    row = next(i for i in r.json["items"] if i["sn"] == w["b"]["sn"])
    assert (row["merchant_name"], row["merchant_phone"]) == ("Blue Cafe", "+8613900001111")
    text = api.get("/v1/reports/expiring?days=30", key=agent.admin_key, headers={"Accept": "text/csv"}).body
    assert "Blue Cafe" in text.decode("utf-8-sig")


# --- CSV exports follow the filters --------------------------------------------------------------
def test_the_fleet_csv_exports_only_what_the_filters_select(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    csv_headers = {"Accept": "text/csv"}
    grace = api.get("/v1/terminals?status=grace", key=agent.admin_key, headers=csv_headers)
    lines = grace.body.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and w["c"]["sn"] in lines[1]
    found = api.get("/v1/terminals?q=blue", key=agent.admin_key, headers=csv_headers).body.decode("utf-8-sig")
    assert w["b"]["sn"] in found and w["a"]["sn"] not in found
    everything = api.get("/v1/terminals", key=agent.admin_key, headers=csv_headers).body.decode("utf-8-sig")
    assert len(everything.strip().splitlines()) == 5


def test_the_merchant_csv_follows_its_search(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    _fleet(api, agent)
    text = api.get("/v1/merchants?q=cafe", key=agent.admin_key, headers={"Accept": "text/csv"}).body
    lines = text.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and "Blue Cafe" in lines[1]


# --- orders -------------------------------------------------------------------------------------------
def _orders_world(api: ApiClient, agent: Agent) -> dict[str, Any]:
    w = _fleet(api, agent)
    plan = _post(api, agent, "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 100, "price_fen": 5000})
    o1 = _post(
        api, agent, "/v1/orders", {"lines": [{"sn": w["a"]["sn"], "plan_id": plan["plan_id"]}], "payment": "offline"}
    )
    o2 = _post(
        api, agent, "/v1/orders", {"lines": [{"sn": w["b"]["sn"], "plan_id": plan["plan_id"]}], "payment": "offline"}
    )
    api.post(f"/v1/orders/{o2['order_id']}/mark-paid", {"note": "cash"}, key=agent.admin_key)
    return {**w, "o1": o1, "o2": o2, "plan": plan}


def test_orders_are_found_by_sn_status_channel_and_date_with_a_total(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _orders_world(api, agent)

    def ids(query: str) -> list[str]:
        r = api.get(f"/v1/orders?{query}", key=agent.admin_key)
        assert r.status == 200, r.body
        assert r.json["total"] == len(r.json["items"])
        return [o["order_id"] for o in r.json["items"]]

    assert ids(f"sn={w['b']['sn'].lower()}") == [w["o2"]["order_id"]]
    assert ids("status=fulfilled") == [w["o2"]["order_id"]]
    assert ids("status=pending_payment") == [w["o1"]["order_id"]]
    # Newest first; the two orders are made in the same second here, so their order is not asserted.
    assert sorted(ids("channel=agent")) == sorted([w["o2"]["order_id"], w["o1"]["order_id"]])
    assert ids("channel=public") == []
    today = date.today()
    assert len(ids(f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")) == 2
    assert ids(f"from={today + timedelta(days=2)}") == []


def test_orders_page_with_a_cursor_and_export_their_filters_as_csv(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    w = _orders_world(api, agent)
    first = api.get("/v1/orders?limit=1", key=agent.admin_key).json
    assert first["total"] == 2 and first["next_cursor"]
    second = api.get(f"/v1/orders?limit=1&cursor={first['next_cursor']}", key=agent.admin_key).json
    paged = [o["order_id"] for o in first["items"] + second["items"]]
    # Each order once over the two pages (same-second orders have no defined order between them).
    assert sorted(paged) == sorted([w["o2"]["order_id"], w["o1"]["order_id"]])
    text = api.get("/v1/orders?status=fulfilled", key=agent.admin_key, headers={"Accept": "text/csv"}).body
    lines = text.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("created_at,order_id,status") and len(lines) == 2
    assert w["o2"]["order_id"] in lines[1] and w["b"]["sn"] in lines[1]


# --- tenant isolation of the lists -------------------------------------------------------------------
def test_another_agents_search_sort_and_totals_never_see_my_fleet(api: ApiClient, platform_key: str) -> None:
    a = create_agent(api, platform_key)
    b = create_agent(api, platform_key)
    w = _orders_world(api, a)
    for query in ("q=华强北", f"q={w['a']['sn']}", "sort=name", "sort=-expires_on", "status=grace"):
        r = api.get(f"/v1/terminals?{query}", key=b.admin_key)
        assert r.json["items"] == [] and r.json["total"] == 0, query
    assert api.get("/v1/merchants?q=cafe", key=b.admin_key).json == {"items": [], "next_cursor": None, "total": 0}
    assert api.get(f"/v1/orders?sn={w['a']['sn']}", key=b.admin_key).json["items"] == []
    assert api.get("/v1/imports", key=b.admin_key).json["items"] == []
    exported = api.get("/v1/terminals?q=-", key=b.admin_key, headers={"Accept": "text/csv"}).body.decode("utf-8-sig")
    assert w["a"]["sn"] not in exported


# --- platform: reinstate ----------------------------------------------------------------------------------
def test_a_suspended_agent_is_reinstated_and_its_keys_work_again(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    assert api.post(f"/v1/admin/tenants/{agent.tenant_id}/suspend", {}, key=platform_key).status == 200
    assert api.get("/v1/me", key=agent.admin_key).status == 401
    r = api.post(f"/v1/admin/tenants/{agent.tenant_id}/reinstate", {}, key=platform_key)
    assert r.status == 200 and r.json["status"] == "active"
    assert api.get("/v1/me", key=agent.admin_key).status == 200
    again = api.post(f"/v1/admin/tenants/{agent.tenant_id}/reinstate", {}, key=platform_key)
    assert again.status == 409 and again.error["code"] == "invalid_tenant_state"


def test_an_applicant_suspended_before_approval_goes_back_to_review(api: ApiClient, platform_key: str) -> None:
    tenant_id = api.post("/v1/signup", signup_body()).json["tenant_id"]
    api.post(f"/v1/admin/tenants/{tenant_id}/suspend", {}, key=platform_key)
    r = api.post(f"/v1/admin/tenants/{tenant_id}/reinstate", {}, key=platform_key)
    assert r.json["status"] == "pending_review"
    assert api.post("/v1/admin/tenants/t_0000000000000000/reinstate", {}, key=platform_key).status == 404
    agent = create_agent(api, platform_key)
    assert api.post(f"/v1/admin/tenants/{tenant_id}/reinstate", {}, key=agent.admin_key).status in (401, 403)


# --- import history -----------------------------------------------------------------------------------------
def test_the_import_history_lists_past_imports_newest_first_with_counts(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    ids = []
    for rows in (1, 2):
        text = IMPORT_HEADER + "\n" + "\n".join(csv_row(terminal_body()) for _ in range(rows)) + "\n"
        r = api.call(
            "POST", "/v1/imports", key=agent.admin_key, body=text.encode(), headers={"Content-Type": "text/csv"}
        )
        ids.append(r.json["import_id"])
        for _ in range(100):
            if api.get(f"/v1/imports/{ids[-1]}", key=agent.admin_key).json["status"] != "running":
                break
            time.sleep(0.1)
        time.sleep(0.01)
    history = api.get("/v1/imports", key=agent.key(api, "readonly")).json
    assert [i["import_id"] for i in history["items"]] == ids[::-1]
    newest = history["items"][0]
    assert (newest["total"], newest["created"], newest["status"]) == (2, 2, "done")
    assert newest["report_url"] == f"/v1/imports/{ids[1]}"


# --- vouchers: counts and void ------------------------------------------------------------------------------
def test_a_batch_counts_redeemed_and_voided_codes_and_a_voided_code_cannot_be_redeemed(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    w = _fleet(api, agent)
    plan = _post(api, agent, "/v1/plans", {"name": "季卡", "term_months": 3, "data_quota_mb": 100, "price_fen": 3000})
    batch = _post(api, agent, "/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 3})
    code_a, code_b, _code_c = batch["codes"]
    assert api.post("/v1/public/vouchers/redeem", {"sn": w["a"]["sn"], "code": code_a}).status == 200
    void = api.post(f"/v1/vouchers/batches/{batch['batch_id']}/void", {"code": code_b}, key=agent.admin_key)
    assert void.status == 200 and void.json["code_status"] == "voided"
    assert (void.json["batch"]["redeemed"], void.json["batch"]["voided"], void.json["batch"]["available"]) == (1, 1, 1)
    refused = api.post("/v1/public/vouchers/redeem", {"sn": w["b"]["sn"], "code": code_b})
    assert refused.status == 422 and refused.error["code"] == "invalid_voucher"
    listed = api.get("/v1/vouchers/batches", key=agent.admin_key).json["items"][0]
    assert (listed["count"], listed["redeemed"], listed["voided"], listed["available"]) == (3, 1, 1, 1)
    used = api.post(f"/v1/vouchers/batches/{batch['batch_id']}/void", {"code": code_a}, key=agent.admin_key)
    assert used.status == 422 and used.error["code"] == "voucher_redeemed"
    typo = api.post(f"/v1/vouchers/batches/{batch['batch_id']}/void", {"code": "nope"}, key=agent.admin_key)
    assert typo.status == 400 and typo.error["field"] == "code"
    # Voiding twice is the same answer, counted once.
    again = api.post(f"/v1/vouchers/batches/{batch['batch_id']}/void", {"code": code_b}, key=agent.admin_key)
    assert again.status == 200 and again.json["batch"]["voided"] == 1
    other = create_agent(api, platform_key)
    foreign = api.post(f"/v1/vouchers/batches/{batch['batch_id']}/void", {"code": _code_c}, key=other.admin_key)
    assert foreign.status == 404


# --- undo deactivation --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "merchant", "status"),
    [(30, True, "active"), (-1, True, "grace"), (-60, True, "suspended"), (30, False, "inventory")],
)
def test_undoing_a_deactivation_gives_the_status_merchant_and_expiry_imply(
    api: ApiClient, platform_key: str, days: int, merchant: bool, status: str
) -> None:
    agent = create_agent(api, platform_key)
    m = _post(api, agent, "/v1/merchants", {"name": "店", "phone": "13812345678"})
    body = terminal_body(expires_on=str(date.today() + timedelta(days=days)))
    if merchant:
        body["merchant_id"] = m["merchant_id"]
    t = _post(api, agent, "/v1/terminals", body)
    api.post(f"/v1/terminals/{t['sn']}/deactivate", {}, key=agent.admin_key)
    staff = agent.key(api, "staff")
    r = api.post(f"/v1/terminals/{t['sn']}/reactivate", {}, key=staff)
    assert r.status == 200 and r.json["status"] == status, r.body
    assert api.get(f"/v1/terminals/{t['sn']}", key=staff).json["status"] == status
    twice = api.post(f"/v1/terminals/{t['sn']}/reactivate", {}, key=staff)
    assert twice.status == 422 and twice.error["code"] == "terminal_not_deactivated"


# --- usage by CSV ---------------------------------------------------------------------------------------------
def _usage(api: ApiClient, key: str, text: str, encoding: str = "utf-8") -> Any:
    return api.call(
        "POST", "/v1/usage-imports", key=key, body=text.encode(encoding), headers={"Content-Type": "text/csv"}
    )


def test_usage_by_csv_applies_good_rows_reports_bad_ones_and_raises_quota_alerts(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    a = _post(api, agent, "/v1/terminals", terminal_body(data_quota_mb=100))
    b = _post(api, agent, "/v1/terminals", terminal_body(data_quota_mb=100))
    text = (
        "序列号,已用流量(MB),日期\r\n"
        f"{a['sn']},85,2030-01-02\r\n"
        f"{b['sn']},lots,2030-01-02\r\n"
        "NOSUCH-SN-9,1,2030-01-02\r\n"
    )
    r = _usage(api, agent.admin_key, text, "gb18030")
    assert r.status == 200, r.body
    assert (r.json["total"], r.json["applied"], r.json["failed"], r.json["alerts"]) == (3, 1, 2, 1)
    assert [(e["row"], e["field"]) for e in r.json["errors"]] == [(3, "data_used_mb"), (4, "sn")]
    assert api.get(f"/v1/terminals/{a['sn']}", key=agent.admin_key).json["data_used_mb"] == 85
    again = _usage(api, agent.admin_key, text, "gb18030").json
    assert (again["applied"], again["unchanged"]) == (0, 1)
    by_tid = _usage(api, agent.admin_key, f"tid,data_used_mb,as_of\n{b['tid']},10,2030-01-03\n").json
    assert by_tid["applied"] == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_file"), ("sn,as_of\nX,2030-01-01\n", "missing_columns"), ("sn,data_used_mb,as_of\n", "no_rows")],
)
def test_a_usage_file_that_cannot_be_read_is_400_naming_the_file(
    api: ApiClient, platform_key: str, text: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    r = _usage(api, agent.admin_key, text)
    assert r.status == 400 and (r.error["field"], r.error["code"]) == ("file", code)


def test_usage_by_csv_never_touches_another_agents_terminal(api: ApiClient, platform_key: str) -> None:
    a = create_agent(api, platform_key)
    b = create_agent(api, platform_key)
    t = _post(api, a, "/v1/terminals", terminal_body(data_quota_mb=100))
    r = _usage(api, b.admin_key, f"sn,data_used_mb,as_of\n{t['sn']},99,2030-01-02\n")
    assert r.json["failed"] == 1 and r.json["errors"][0]["code"] == "unknown_terminal"
    assert api.get(f"/v1/terminals/{t['sn']}", key=a.admin_key).json["data_used_mb"] == 0
