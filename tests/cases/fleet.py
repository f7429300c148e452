"""API behaviour of fleet onboarding: merchants, plans, terminals, identifier claims,
transfers, usage, CSV import and export. Collected by tests/unit and tests/integration."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, iccid, terminal_body
from tests.support.waiting import import_finished


def _merchant(api: ApiClient, agent: Agent, **overrides: Any) -> dict[str, Any]:
    body = {"name": "张三便利店", "contact_name": "张三", "phone": "13812345678", "email": "shop@example.com"}
    body.update(overrides)
    r = api.post("/v1/merchants", body, key=agent.admin_key)
    assert r.status == 201, r.body
    return r.json  # type: ignore[no-any-return]


def _terminal(api: ApiClient, agent: Agent, **overrides: Any) -> dict[str, Any]:
    r = api.post("/v1/terminals", terminal_body(**overrides), key=agent.admin_key)
    assert r.status == 201, r.body
    return r.json  # type: ignore[no-any-return]


def _wait_import(api: ApiClient, key: str, import_id: str, timeout: float = 120) -> dict[str, Any]:
    return import_finished(api, key, import_id, timeout)[0]


def _import(api: ApiClient, key: str, text: str, encoding: str = "utf-8") -> dict[str, Any]:
    r = api.call("POST", "/v1/imports", key=key, body=text.encode(encoding), headers={"Content-Type": "text/csv"})
    assert r.status == 202, r.body
    return _wait_import(api, key, r.json["import_id"])


# --- merchants ----------------------------------------------------------------------------------------
def test_merchant_phone_in_local_form_is_normalised_and_the_merchant_readable(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    m = _merchant(api, agent, phone="138 1234 5678")
    assert m["phone"] == "+8613812345678"
    got = api.get(f"/v1/merchants/{m['merchant_id']}", key=agent.admin_key)
    assert got.status == 200 and got.json["name"] == "张三便利店"
    patched = api.patch(f"/v1/merchants/{m['merchant_id']}", {"contact_name": "李四"}, key=agent.admin_key)
    assert patched.status == 200 and patched.json["contact_name"] == "李四"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "12345", "invalid_phone"),
        ("email", "x@", "invalid_email"),
        ("name", "", "required"),
        ("name", "店" * 101, "too_long"),
    ],
)
def test_a_bad_merchant_is_400_naming_the_field_and_nothing_is_written(
    api: ApiClient, platform_key: str, field: str, value: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    body = {"name": "店", "phone": "13812345678", field: value}
    r = api.post("/v1/merchants", body, key=agent.admin_key)
    assert r.status == 400
    assert (r.error["field"], r.error["code"]) == (field, code)
    assert api.get("/v1/merchants", key=agent.admin_key).json["items"] == []


def test_the_same_merchant_name_and_phone_is_a_conflict_naming_the_existing_one(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    first = _merchant(api, agent)
    r = api.post("/v1/merchants", {"name": "张三便利店", "phone": "+8613812345678"}, key=agent.admin_key)
    assert r.status == 409
    assert first["merchant_id"] in r.error["message"]


def test_merchants_page_with_a_cursor(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    for i in range(3):
        _merchant(api, agent, name=f"店{i}")
    first = api.get("/v1/merchants?limit=2", key=agent.admin_key).json
    second = api.get(f"/v1/merchants?limit=2&cursor={first['next_cursor']}", key=agent.admin_key).json
    assert len({m["merchant_id"] for m in first["items"] + second["items"]}) == 3


def test_a_forged_cursor_on_the_right_list_is_400_naming_the_cursor(api: ApiClient, platform_key: str) -> None:
    """A cursor is DynamoDB's LastEvaluatedKey: one with this list's partition but no sort key, or
    another kind of item's, passed the checks and DynamoDB refused the query (a 500)."""
    import base64
    import json

    agent = create_agent(api, platform_key)
    _merchant(api, agent, name="店")
    pk = {"S": f"TENANT#{agent.tenant_id}"}
    for forged in ({"pk": pk}, {"pk": pk, "sk": {"S": "PLAN#x"}, "extra": {"S": "1"}}):
        raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        r = api.get(f"/v1/merchants?limit=2&cursor={raw}", key=agent.admin_key)
        assert r.status == 400, (forged, r.status, r.body)
        assert (r.error["field"], r.error["code"]) == ("cursor", "invalid_cursor")


@pytest.mark.parametrize("limit", ["%C2%B9", "%D9%A3", "1" * 5000, "0", "201", "-1", "ten"])
def test_a_list_limit_that_is_not_a_whole_number_from_1_to_200_is_400_naming_it(
    api: ApiClient, platform_key: str, limit: str
) -> None:
    # Found by fuzzing: "¹" passed str.isdigit() and int() raised (a 500), as did 5000 digits; "٣" read as 3.
    agent = create_agent(api, platform_key)
    r = api.get(f"/v1/merchants?limit={limit}", key=agent.admin_key)
    assert r.status == 400, r.body
    assert (r.error["field"], r.error["code"]) == ("limit", "invalid_limit")


# --- terminals and identifier rules -----------------------------------------------------------------------
def test_registering_a_terminal_normalises_the_sn_and_implies_the_carrier(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = _merchant(api, agent)
    body = terminal_body(merchant_id=m["merchant_id"], iccid=iccid("898601"))
    body["sn"] = "  " + body["sn"].lower() + " "
    r = api.post("/v1/terminals", body, key=agent.admin_key)
    assert r.status == 201, r.body
    t = r.json
    assert t["sn"] == body["sn"].strip().upper()
    assert t["carrier"] == "CUCC"
    assert t["status"] == "active"
    assert t["pay_url"].endswith(f"/pay/{t['sn']}")
    assert api.get(f"/v1/terminals/{t['sn'].lower()}", key=agent.admin_key).json["tid"] == body["tid"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"sn": "AB1"}, "sn", "invalid_sn"),
        ({"sn": "ABC_123"}, "sn", "invalid_sn"),
        ({"tid": "1234567"}, "tid", "invalid_tid"),
        ({"tid": "1234567a"}, "tid", "invalid_tid"),
        ({"iccid": "8986001234567890"}, "iccid", "invalid_iccid"),
        ({"iccid": "1986001234567890123"}, "iccid", "invalid_iccid"),
        ({"iccid": bad_luhn(iccid())}, "iccid", "iccid_checksum"),
        ({"iccid": iccid("898600"), "carrier": "CTCC"}, "carrier", "carrier_mismatch"),
        ({"carrier": "Vodafone"}, "carrier", "invalid_carrier"),
        ({"expires_on": "2026-02-30"}, "expires_on", "invalid_date"),
        ({"expires_on": "30/01/2026"}, "expires_on", "invalid_date"),
        ({"model": ""}, "model", "required"),
        ({"data_quota_mb": -1}, "data_quota_mb", "out_of_range"),
        ({"merchant_id": "m_unknown00000000"}, "merchant_id", "unknown_merchant"),
        ({"plan_id": "p_unknown00000000"}, "plan_id", "unknown_plan"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_a_bad_terminal_is_400_naming_the_field_and_writes_nothing(
    api: ApiClient, platform_key: str, change: dict[str, Any], field: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    body = terminal_body(**change)
    r = api.post("/v1/terminals", body, key=agent.admin_key)
    assert r.status == 400, r.body
    assert (r.error["field"], r.error["code"]) == (field, code)
    assert api.get("/v1/terminals", key=agent.admin_key).json["items"] == []
    # Nothing claimed either: the same identifiers register fine once corrected.
    fixed = terminal_body(**{k: body[k] for k in ("sn", "tid") if k != field})
    assert api.post("/v1/terminals", fixed, key=agent.admin_key).status == 201


@pytest.mark.parametrize("field", ["sn", "tid", "iccid"])
def test_an_identifier_held_by_another_agent_is_409_and_reveals_nothing(
    api: ApiClient, platform_key: str, field: str
) -> None:
    a = create_agent(api, platform_key, name="甲代理 Holder Agent")
    b = create_agent(api, platform_key)
    held = _terminal(api, a)
    r = api.post("/v1/terminals", terminal_body(**{field: held[field]}), key=b.admin_key)
    assert r.status == 409
    assert (r.error["code"], r.error["field"]) == ("identifier_claimed", field)
    text = r.body.decode()
    for secret in (a.tenant_id, "Holder", "甲代理", held["sn"] if field != "sn" else a.tenant_id):
        assert secret not in text
    assert api.get("/v1/terminals", key=b.admin_key).json["items"] == []


def test_an_identifier_used_inside_the_same_agent_names_the_terminal(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    first = _terminal(api, agent)
    r = api.post("/v1/terminals", terminal_body(tid=first["tid"]), key=agent.admin_key)
    assert r.status == 409
    assert r.error["code"] == "identifier_in_use"
    assert first["sn"] in r.error["message"]
    again = api.post("/v1/terminals", terminal_body(sn=first["sn"]), key=agent.admin_key)
    assert (again.status, again.error["code"]) == (409, "terminal_exists")


def test_changing_a_tid_moves_its_claim(api: ApiClient, platform_key: str) -> None:
    a = create_agent(api, platform_key)
    b = create_agent(api, platform_key)
    t = _terminal(api, a)
    new_tid = terminal_body()["tid"]
    r = api.patch(f"/v1/terminals/{t['sn']}", {"tid": new_tid}, key=a.admin_key)
    assert r.status == 200 and r.json["tid"] == new_tid
    assert api.post("/v1/terminals", terminal_body(tid=t["tid"]), key=b.admin_key).status == 201
    blocked = api.post("/v1/terminals", terminal_body(tid=new_tid), key=b.admin_key)
    assert blocked.error["code"] == "identifier_claimed"
    sn_change = api.patch(f"/v1/terminals/{t['sn']}", {"sn": "NEWSN-1"}, key=a.admin_key)
    assert (sn_change.status, sn_change.error["code"]) == (400, "immutable")


def test_assigning_a_merchant_activates_stock_and_deactivation_stops_changes(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    t = _terminal(api, agent)
    assert t["status"] == "inventory"
    m = _merchant(api, agent)
    r = api.patch(f"/v1/terminals/{t['sn']}", {"merchant_id": m["merchant_id"]}, key=agent.admin_key)
    assert r.json["status"] == "active"
    d = api.post(f"/v1/terminals/{t['sn']}/deactivate", key=agent.admin_key)
    assert d.json["status"] == "deactivated"
    refused = api.patch(f"/v1/terminals/{t['sn']}", {"model": "X"}, key=agent.admin_key)
    assert (refused.status, refused.error["code"]) == (422, "terminal_deactivated")


def test_terminal_list_filters(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = _merchant(api, agent)
    today = date.today()
    soon = _terminal(api, agent, merchant_id=m["merchant_id"], expires_on=(today + timedelta(days=5)).isoformat())
    later = _terminal(api, agent, merchant_id=m["merchant_id"], expires_on=(today + timedelta(days=200)).isoformat())
    stock = _terminal(api, agent, expires_on=(today + timedelta(days=10)).isoformat())

    def sns(query: str) -> set[str]:
        r = api.get(f"/v1/terminals?{query}", key=agent.admin_key)
        assert r.status == 200, r.body
        return {t["sn"] for t in r.json["items"]}

    assert sns("") == {soon["sn"], later["sn"], stock["sn"]}
    assert sns("status=inventory") == {stock["sn"]}
    assert sns("status=expiring") == {soon["sn"]}
    assert sns(f"merchant_id={m['merchant_id']}") == {soon["sn"], later["sn"]}
    assert sns(f"expires_before={(today + timedelta(days=30)).isoformat()}") == {soon["sn"], stock["sn"]}
    assert sns(f"status=active&expires_before={(today + timedelta(days=30)).isoformat()}") == {soon["sn"]}
    assert sns(f"q={soon['sn'][:-2].lower()}") >= {soon["sn"]}
    assert sns(f"q={later['tid']}") == {later["sn"]}
    for bad in ("status=sleeping", "expires_before=tomorrow", "limit=0"):
        r = api.get(f"/v1/terminals?{bad}", key=agent.admin_key)
        assert r.status == 400, bad


def test_terminal_list_pages_through_every_terminal_once(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    made = {_terminal(api, agent)["sn"] for _ in range(5)}
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        r = api.get(
            f"/v1/terminals?limit=2&status=inventory{'&cursor=' + cursor if cursor else ''}", key=agent.admin_key
        )
        seen += [t["sn"] for t in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made)


def test_usage_crossing_80_and_100_percent_is_recorded_once_per_term(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    t = _terminal(api, agent, data_quota_mb=1000)
    path = f"/v1/terminals/{t['sn']}/usage"
    today = date.today().isoformat()
    assert api.post(path, {"data_used_mb": 500, "as_of": today}, key=agent.admin_key).json["alerts"] == []
    assert api.post(path, {"data_used_mb": 850, "as_of": today}, key=agent.admin_key).json["alerts"] == ["quota_80"]
    assert api.post(path, {"data_used_mb": 900, "as_of": today}, key=agent.admin_key).json["alerts"] == []
    r = api.post(path, {"data_used_mb": 1200, "as_of": today}, key=agent.admin_key)
    assert r.json["alerts"] == ["quota_100"] and r.json["data_used_mb"] == 1200
    stale = api.post(path, {"data_used_mb": 10, "as_of": "2000-01-01"}, key=agent.admin_key)
    assert stale.json["data_used_mb"] == 1200  # an older reading arriving late changes nothing
    bad = api.post(path, {"data_used_mb": -5, "as_of": today}, key=agent.admin_key)
    assert (bad.status, bad.error["field"]) == (400, "data_used_mb")


def test_qr_sticker_is_an_svg_of_the_pay_link(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    t = _terminal(api, agent)
    r = api.get(f"/v1/terminals/{t['sn']}/qr.svg", key=agent.admin_key)
    assert r.status == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.body.lstrip().startswith(b"<svg")


# --- transfer between agents -----------------------------------------------------------------------------
def test_a_terminal_moves_between_agents_with_a_single_use_code(api: ApiClient, platform_key: str) -> None:
    a = create_agent(api, platform_key)
    b = create_agent(api, platform_key)
    c = create_agent(api, platform_key)
    t = _terminal(api, a, merchant_id=_merchant(api, a)["merchant_id"])
    issued = api.post(f"/v1/terminals/{t['sn']}/transfer-code", key=a.admin_key)
    assert issued.status == 200
    code = issued.json["code"]

    wrong = api.post("/v1/terminals/claim", {"sn": t["sn"], "code": "AAAA-BBBB-CCCC"}, key=b.admin_key)
    assert (wrong.status, wrong.error["code"]) == (422, "invalid_transfer_code")
    unknown = api.post("/v1/terminals/claim", {"sn": "NO-SUCH-SN", "code": code}, key=b.admin_key)
    assert (unknown.status, unknown.error["code"]) == (422, "invalid_transfer_code")

    moved = api.post("/v1/terminals/claim", {"sn": t["sn"], "code": code.lower()}, key=b.admin_key)
    assert moved.status == 200, moved.body
    assert moved.json["merchant_id"] is None and moved.json["tid"] == t["tid"]
    assert api.get(f"/v1/terminals/{t['sn']}", key=a.admin_key).status == 404
    assert api.get(f"/v1/terminals/{t['sn']}", key=b.admin_key).status == 200
    reused = api.post("/v1/terminals/claim", {"sn": t["sn"], "code": code}, key=c.admin_key)
    assert reused.status == 422
    back = api.post("/v1/terminals", terminal_body(iccid=t["iccid"]), key=a.admin_key)
    assert back.error["code"] == "identifier_claimed"  # the claims moved with it


# --- CSV import and export ----------------------------------------------------------------------------------
def _fleet_csv(rows: int, bad_every: int = 0) -> tuple[str, set[int]]:
    lines = [IMPORT_HEADER]
    bad_rows: set[int] = set()
    for i in range(rows):
        body = terminal_body()
        if bad_every and i % bad_every == bad_every - 1:
            body["tid"] = "12"
            bad_rows.add(i + 2)
        lines.append(csv_row(body, (f"商户{i % 3}", f"1380013800{i % 3}"), quota="1024"))
    return "\r\n".join(lines) + "\r\n", bad_rows


def test_importing_a_fleet_reports_bad_rows_and_a_reimport_creates_nothing(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    text, bad_rows = _fleet_csv(30, bad_every=10)
    done = _import(api, agent.admin_key, "\ufeff" + text)
    assert done["status"] == "done"
    assert (done["total"], done["processed"], done["created"], done["failed"]) == (30, 30, 27, 3)
    assert {e["row"] for e in done["errors"]} == bad_rows
    assert all(e["field"] == "tid" and e["code"] == "invalid_tid" for e in done["errors"])
    assert len(api.get("/v1/merchants", key=agent.admin_key).json["items"]) == 3

    again = _import(api, agent.admin_key, text)
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 27, 3)
    assert len(api.get("/v1/merchants", key=agent.admin_key).json["items"]) == 3
    listed = api.get("/v1/terminals?limit=200", key=agent.admin_key).json["items"]
    assert len(listed) == 27 and all(t["status"] == "active" for t in listed)


def test_a_gbk_file_from_excel_imports_with_chinese_names(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    )
    body = terminal_body(carrier="中国移动")
    text = IMPORT_HEADER + "\r\n" + csv_row(body, ("王五五金店", "13900001111"), plan="年卡") + "\r\n"
    done = _import(api, agent.admin_key, text, encoding="gbk")
    assert done["created"] == 1, done
    t = api.get(f"/v1/terminals/{body['sn']}", key=agent.admin_key).json
    assert t["carrier"] == "CMCC" and t["plan_id"]
    merchant = api.get(f"/v1/merchants/{t['merchant_id']}", key=agent.admin_key).json
    assert merchant["name"] == "王五五金店"


def test_import_rows_that_clash_or_name_unknown_plans_fail_alone(api: ApiClient, platform_key: str) -> None:
    a = create_agent(api, platform_key)
    b = create_agent(api, platform_key)
    held = _terminal(api, a)
    ok = terminal_body()
    dup = terminal_body(tid=ok["tid"])
    text = (
        "\n".join(
            [
                IMPORT_HEADER,
                csv_row(terminal_body(sn=held["sn"])),
                csv_row(ok),
                csv_row(dup),
                csv_row(terminal_body(), plan="不存在"),
            ]
        )
        + "\n"
    )
    done = _import(api, b.admin_key, text)
    errors = {e["row"]: (e["field"], e["code"]) for e in done["errors"]}
    assert errors == {
        2: ("sn", "identifier_claimed"),
        4: ("tid", "duplicate_in_file"),
        5: ("plan_name", "unknown_plan"),
    }
    assert done["created"] == 1
    assert a.tenant_id not in str(done)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "empty_file"),
        (b"sn,tid\r\nA,B\r\n", "missing_columns"),
        ((IMPORT_HEADER + "\n").encode(), "no_rows"),
        (b"\xff\xfe\x00\x00garbage", "invalid_encoding"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_once(
    api: ApiClient, platform_key: str, raw: bytes, code: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.call("POST", "/v1/imports", key=agent.admin_key, body=raw, headers={"Content-Type": "text/csv"})
    assert r.status == 400
    assert (r.error["field"], r.error["code"]) == ("file", code)


def test_export_is_the_import_format_and_reimports_unchanged(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    text, _ = _fleet_csv(5)
    _import(api, agent.admin_key, text)
    r = api.get("/v1/terminals", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/csv")
    exported = r.body.decode("utf-8-sig")
    assert exported.splitlines()[0] == IMPORT_HEADER
    assert len(exported.strip().splitlines()) == 6
    again = _import(api, agent.admin_key, exported)
    assert (again["created"], again["unchanged"], again["failed"]) == (0, 5, 0)


def test_import_error_report_downloads_as_csv(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    text, bad = _fleet_csv(4, bad_every=2)
    done = _import(api, agent.admin_key, text)
    r = api.get(f"/v1/imports/{done['import_id']}", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert r.status == 200
    lines = r.body.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "row,field,code,message"
    assert {int(line.split(",")[0]) for line in lines[1:]} == bad


def test_an_import_row_whose_quota_is_not_ascii_digits_fails_alone(api: ApiClient, platform_key: str) -> None:
    # Found by fuzzing: a cell "¹" passed str.isdigit(), crashed the worker in int() and left the import running.
    agent = create_agent(api, platform_key)
    good, bad = terminal_body(), terminal_body()
    text = "\r\n".join([IMPORT_HEADER, csv_row(good, quota="1024"), csv_row(bad, quota="¹")]) + "\r\n"
    done = _import(api, agent.admin_key, text)
    assert (done["status"], done["created"], done["failed"]) == ("done", 1, 1)
    assert [(e["row"], e["field"], e["code"]) for e in done["errors"]] == [(3, "data_quota_mb", "invalid_type")]


# --- plans must be buyable (issue 13) -------------------------------------------------------------------------
def test_a_plan_whose_price_plus_the_agents_fee_exceeds_the_order_limit_is_refused_naming_price_fen(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    fee = api.patch("/v1/tenant", {"settings": {"service_fee": {"kind": "flat", "value": 500}}}, key=agent.admin_key)
    assert fee.status == 200, fee.body
    body = {"name": "贵卡", "term_months": 12, "data_quota_mb": 1, "price_fen": 1_000_000 - 499}
    over = api.post("/v1/plans", body, key=agent.admin_key)
    assert (over.status, over.error["field"], over.error["code"]) == (400, "price_fen", "over_order_limit")
    assert api.get("/v1/plans", key=agent.admin_key).json["items"] == []  # nothing written

    fits = api.post("/v1/plans", {**body, "price_fen": 1_000_000 - 500}, key=agent.admin_key)
    assert fits.status == 201, fits.body
    patched = api.patch(f"/v1/plans/{fits.json['plan_id']}", {"price_fen": 1_000_000}, key=agent.admin_key)
    assert (patched.status, patched.error["field"]) == (400, "price_fen")
    (plan,) = api.get("/v1/plans", key=agent.admin_key).json["items"]
    assert plan["price_fen"] == 1_000_000 - 500
