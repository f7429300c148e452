"""Fleet imports through the API from the files agents really have: an .xlsx workbook made by openpyxl and
the CSV Chinese Excel saves (GBK without BOM, CRLF, 2027/1/5, an ICCID in scientific notation). Collected by
tests/unit (moto, in-process) and tests/integration (DynamoDB Local over HTTP)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from simrenew.domain.csvfile import XLSX_MEDIA_TYPE
from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.fleet import import_cells, terminal_body
from tests.support.sheets import chinese_excel_csv, excel_day, scientific, workbook_bytes
from tests.support.waiting import import_finished


def _upload(api: ApiClient, key: str, data: bytes, content_type: str) -> dict[str, Any]:
    r = api.call("POST", "/v1/imports", key=key, body=data, headers={"Content-Type": content_type})
    assert r.status == 202, r.body
    return import_finished(api, key, r.json["import_id"])[0]


def test_a_csv_saved_by_chinese_excel_imports_and_explains_the_scientific_iccid(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    )
    expiry = date.today() + timedelta(days=200)
    good = terminal_body(carrier="移动", expires_on=excel_day(expiry))
    mangled = terminal_body(model="", expires_on=excel_day(expiry))
    data = chinese_excel_csv(
        [
            import_cells(good, ("深圳华强北数码便利店", "13812345678"), plan="年卡", quota="1024"),
            import_cells({**mangled, "iccid": scientific(mangled["iccid"])}),
        ]
    )
    done = _upload(api, agent.admin_key, data, "text/csv")
    assert (done["status"], done["created"], done["failed"]) == ("done", 1, 1), done
    (error,) = done["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "iccid", "iccid_scientific")
    assert "请把该列设为文本后重新导出" in error["message"]
    t = api.get(f"/v1/terminals/{good['sn']}", key=agent.admin_key).json
    assert (t["expires_on"], t["carrier"], t["data_quota_mb"]) == (expiry.isoformat(), "CMCC", 1024)
    assert api.get(f"/v1/merchants/{t['merchant_id']}", key=agent.admin_key).json["name"] == "深圳华强北数码便利店"


def test_an_xlsx_workbook_imports_directly_and_a_partial_file_updates_only_its_columns(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    expiry = date.today() + timedelta(days=100)
    one = terminal_body(carrier="中国移动", expires_on=datetime(expiry.year, expiry.month, expiry.day))
    two = terminal_body(model=None, expires_on=excel_day(expiry))
    tid_as_excel_stores_it = int(two["tid"]) if not two["tid"].startswith("0") else two["tid"]
    data = workbook_bytes(
        [
            import_cells(one, ("张三便利店", 13812345678), quota=2048, blank=None),
            import_cells({**two, "tid": tid_as_excel_stores_it}, blank=None),
        ]
    )
    done = _upload(api, agent.admin_key, data, XLSX_MEDIA_TYPE)
    assert (done["status"], done["created"], done["failed"]) == ("done", 2, 0), done
    first = api.get(f"/v1/terminals/{one['sn']}", key=agent.admin_key).json
    assert (first["expires_on"], first["data_quota_mb"], first["status"]) == (expiry.isoformat(), 2048, "active")

    # A later sheet of only 终端号, ICCID and 到期日 moves the expiry and leaves merchant, model and quota alone.
    later = expiry + timedelta(days=365)
    partial = workbook_bytes([[one["tid"], one["iccid"], later.isoformat()]], header=["终端号", "ICCID", "到期日"])
    again = _upload(api, agent.admin_key, partial, XLSX_MEDIA_TYPE)
    assert (again["updated"], again["created"], again["failed"]) == (1, 0, 0), again
    after = api.get(f"/v1/terminals/{one['sn']}", key=agent.admin_key).json
    assert after["expires_on"] == later.isoformat()
    assert (after["merchant_id"], after["model"], after["data_quota_mb"]) == (
        first["merchant_id"],
        "PAX A920",
        2048,
    )


def test_a_new_terminal_without_a_tid_fails_alone_naming_the_tid(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    body = terminal_body()
    text = f"序列号,ICCID,到期日\r\n{body['sn']},{body['iccid']},2030/1/5\r\n"
    done = _upload(api, agent.admin_key, text.encode("gbk"), "text/csv")
    assert [(e["row"], e["field"], e["code"]) for e in done["errors"]] == [(2, "tid", "required")]


def test_a_workbook_of_another_agent_cannot_reach_its_terminals(api: ApiClient, platform_key: str) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    held = terminal_body()
    assert api.post("/v1/terminals", held, key=a.admin_key).status == 201
    # Agent B's sheet names A's TID only: it is not B's terminal, and A's stays as it was.
    data = workbook_bytes([[held["tid"], held["iccid"], "2031/1/1"]], header=["终端号", "ICCID", "到期日"])
    done = _upload(api, b.admin_key, data, XLSX_MEDIA_TYPE)
    assert done["created"] == 0 and done["updated"] == 0 and done["failed"] == 1
    assert a.tenant_id not in str(done)
    assert api.get(f"/v1/terminals/{held['sn']}", key=a.admin_key).json["expires_on"] == held["expires_on"]


def test_report_csvs_keep_tids_as_text_for_excel(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = api.post("/v1/merchants", {"name": "零号店", "phone": "13812345678"}, key=agent.admin_key).json
    soon = (date.today() + timedelta(days=3)).isoformat()
    body = terminal_body(tid=f"00{terminal_body()['tid'][2:]}", merchant_id=m["merchant_id"], expires_on=soon)
    assert api.post("/v1/terminals", body, key=agent.admin_key).status == 201
    r = api.get("/v1/reports/expiring?days=30", key=agent.admin_key, headers={"Accept": "text/csv"})
    line = r.body.decode("utf-8-sig").splitlines()[1]
    assert f'"=""{body["tid"]}"""' in line and f'"=""{body["sn"]}"""' in line  # Excel would drop the leading zeros


def test_the_xlsx_template_has_text_columns_and_imports_as_it_is(api: ApiClient, platform_key: str) -> None:
    """GET /v1/imports/template.xlsx (any role): Chinese headers, the identifier and phone columns formatted
    as text, and an example row that, uploaded unchanged, creates its terminal."""
    import io

    from openpyxl import load_workbook

    agent = create_agent(api, platform_key)
    r = api.get("/v1/imports/template.xlsx", key=agent.key(api, "readonly"), headers={"Accept": XLSX_MEDIA_TYPE})
    assert r.status == 200, r.body
    assert r.headers["content-type"].startswith(XLSX_MEDIA_TYPE)
    assert "attachment" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.body)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["序列号", "终端号", "ICCID"] and "到期日" in header
    example = [c.value for c in sheet[2]]
    sn, tid, iccid = example[0], example[1], example[2]
    assert all(isinstance(v, str) for v in (sn, tid, iccid, example[6])), example
    for letter in ("A", "B", "C", "G"):
        assert sheet.column_dimensions[letter].number_format == "@", letter
        assert sheet[f"{letter}2"].number_format == "@", letter
    # Each download has fresh identifiers, so two agents can both import the template as is.
    second = api.get("/v1/imports/template.xlsx", key=agent.admin_key, headers={"Accept": XLSX_MEDIA_TYPE})
    again = load_workbook(io.BytesIO(second.body)).active
    assert again is not None and again["A2"].value != sn

    job = _upload(api, agent.admin_key, r.body, XLSX_MEDIA_TYPE)
    assert (job["status"], job["created"], job["failed"]) == ("done", 1, 0), job
    made = api.get(f"/v1/terminals/{sn}", key=agent.admin_key).json
    assert (made["tid"], made["iccid"], made["carrier"]) == (tid, iccid, "CMCC")
    assert made["model"] == "PAX A920" and made["expires_on"].endswith("-12-31")
