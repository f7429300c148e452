"""Presigned uploads and exports (issue 19) on moto's S3 and DynamoDB, through the API in-process
and the worker function's handler with the S3 event shape."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import boto3
import pytest

from infra.localserver import load_function_module
from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.env import UPLOADS_BUCKET
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body


@pytest.fixture
def worker(services: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = load_function_module("worker")
    monkeypatch.setattr(module, "services", lambda: services)
    return module


class Ctx:
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def s3_event(key: str, size: int, bucket: str = UPLOADS_BUCKET) -> dict[str, Any]:
    """What S3 hands the worker (and what moto's notification carries): the key URL-encoded."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": "e"},
                },
            }
        ]
    }


def gbk_fleet(rows: int, bad_every: int = 10) -> tuple[bytes, set[int]]:
    lines, bad = [IMPORT_HEADER], set()
    for i in range(rows):
        body = terminal_body()
        if i % bad_every == 3:
            body["iccid"] = bad_luhn(body["iccid"])
            bad.add(i + 2)
        lines.append(csv_row(body, (f"张记便利店{i % 7}", "13812345678")))
    return ("\r\n".join(lines) + "\r\n").encode("gbk"), bad


def key_of(url: str) -> str:
    path = urlsplit(url).path.lstrip("/")
    return path.split("/", 1)[1] if path.startswith(UPLOADS_BUCKET + "/") else path


def upload(api: ApiClient, key: str, data: bytes, filename: str = "fleet.csv") -> dict[str, Any]:
    r = api.post("/v1/imports", {"filename": filename, "size_bytes": len(data)}, key=key)
    assert r.status == 201, r.body
    return r.json  # type: ignore[no-any-return]


def put(url: str, data: bytes) -> str:
    object_key = key_of(url)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=UPLOADS_BUCKET, Key=object_key, Body=data)
    return object_key


def test_a_presigned_upload_answers_a_put_url_for_the_tenants_key_signed_with_its_length(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    answer = upload(api, agent.admin_key, b"x" * 1234)
    assert answer["status"] == "awaiting_upload" and answer["import_id"].startswith("imp_")
    up = answer["upload"]
    assert up["method"] == "PUT" and up["headers"] == {"Content-Type": "text/csv"}
    assert key_of(up["url"]) == f"uploads/{agent.tenant_id}/{answer['import_id']}"
    signed = parse_qs(urlsplit(up["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "host"} <= set(signed)
    status = api.get(f"/v1/imports/{answer['import_id']}", key=agent.admin_key).json
    assert (status["status"], status["source"], status["filename"]) == ("awaiting_upload", "upload", "fleet.csv")
    r = api.post(f"/v1/imports/{answer['import_id']}/resume", key=agent.admin_key)
    assert (r.status, r.error["code"]) == (409, "upload_pending")


def test_a_json_upload_request_sent_as_curl_d_sends_it_without_a_json_content_type_is_still_an_upload(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    body = b'{"filename": "fleet.csv", "size_bytes": 100}'
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = api.call("POST", "/v1/imports", key=agent.admin_key, body=body, headers=form)
    assert r.status == 201 and r.json["status"] == "awaiting_upload", r.body
    # The same bytes declared text/csv are a CSV body (whose header is wrong).
    r = api.call("POST", "/v1/imports", key=agent.admin_key, body=body, headers={"Content-Type": "text/csv"})
    assert (r.status, r.error["code"]) == (400, "missing_columns")


@pytest.mark.parametrize(
    ("body", "status", "field", "code"),
    [
        ({"size_bytes": 10}, 400, "filename", "required"),
        ({"filename": "fleet.pdf", "size_bytes": 10}, 400, "filename", "unsupported_type"),
        ({"filename": "../x.csv", "size_bytes": 10}, 400, "filename", "invalid_filename"),
        ({"filename": "fleet.csv", "size_bytes": 0}, 400, "size_bytes", "out_of_range"),
        ({"filename": "fleet.csv", "size_bytes": True}, 400, "size_bytes", "invalid_type"),
        ({"filename": "fleet.csv", "size_bytes": "10"}, 400, "size_bytes", "invalid_type"),
        ({"filename": "fleet.csv", "size_bytes": 10, "x": 1}, 400, "x", "unknown_field"),
        ({"filename": "fleet.csv", "size_bytes": 200 * 1024 * 1024 + 1}, 413, "size_bytes", "file_too_large"),
    ],
)
def test_a_bad_upload_request_is_refused_naming_the_field_and_writes_nothing(
    api: ApiClient, platform_key: str, body: dict[str, Any], status: int, field: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/imports", body, key=agent.admin_key)
    assert (r.status, r.error["code"], r.error.get("field")) == (status, code, field)


def test_a_csv_body_over_5_mb_is_413_pointing_at_the_presigned_upload(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    data = (IMPORT_HEADER + "\r\n").encode() + b"x" * (5 * 1024 * 1024)
    r = api.call("POST", "/v1/imports", key=agent.admin_key, body=data, headers={"Content-Type": "text/csv"})
    assert (r.status, r.error["code"]) == (413, "file_too_large")
    assert "size_bytes" in r.error["message"] and "PUT" in r.error["message"]


def test_the_uploaded_gbk_file_starts_its_import_when_the_s3_event_reaches_the_worker(
    api: ApiClient, platform_key: str, worker: Any, services: Any
) -> None:
    agent = create_agent(api, platform_key)
    data, bad = gbk_fleet(60)
    answer = upload(api, agent.admin_key, data)
    object_key = put(answer["upload"]["url"], data)

    result = worker.handler(s3_event(object_key, len(data)), Ctx())

    assert result == {"uploads": [{"import_id": answer["import_id"], "outcome": "done"}]}
    status = api.get(f"/v1/imports/{answer['import_id']}", key=agent.admin_key).json
    assert (status["status"], status["total"], status["created"], status["failed"]) == ("done", 60, 54, 6)
    assert {e["row"] for e in status["errors"]} == bad
    names = {m["name"] for m in api.get("/v1/merchants", key=agent.admin_key).json["items"]}
    assert names == {f"张记便利店{i}" for i in range(7)}  # GBK decoded, not mojibake
    # S3 may deliver an event twice: the second changes nothing.
    again = worker.handler(s3_event(object_key, len(data)), Ctx())
    assert again["uploads"][0]["outcome"] == "ignored"
    assert api.get(f"/v1/imports/{answer['import_id']}", key=agent.admin_key).json["created"] == 54


def test_an_upload_whose_size_differs_from_the_declared_one_fails_with_the_reason(
    api: ApiClient, platform_key: str, worker: Any
) -> None:
    agent = create_agent(api, platform_key)
    data, _ = gbk_fleet(5)
    answer = upload(api, agent.admin_key, data + b"\r\n")  # declared one line longer
    object_key = put(answer["upload"]["url"], data)
    worker.handler(s3_event(object_key, len(data)), Ctx())
    status = api.get(f"/v1/imports/{answer['import_id']}", key=agent.admin_key).json
    assert status["status"] == "failed" and "declared" in status["message"] and status["created"] == 0


def test_an_uploaded_file_with_a_wrong_header_fails_naming_the_missing_columns(
    api: ApiClient, platform_key: str, worker: Any
) -> None:
    agent = create_agent(api, platform_key)
    data = b"sn,tid\r\nSN-1,12345678\r\n"
    answer = upload(api, agent.admin_key, data)
    worker.handler(s3_event(put(answer["upload"]["url"], data), len(data)), Ctx())
    status = api.get(f"/v1/imports/{answer['import_id']}", key=agent.admin_key).json
    assert status["status"] == "failed" and "iccid" in status["message"]


def test_tenant_b_can_neither_read_nor_start_tenant_as_upload(api: ApiClient, platform_key: str, worker: Any) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    data, _ = gbk_fleet(5)
    mine = upload(api, a.admin_key, data)
    theirs = upload(api, b.admin_key, data)
    assert api.get(f"/v1/imports/{mine['import_id']}", key=b.admin_key).status == 404
    assert api.post(f"/v1/imports/{mine['import_id']}/resume", key=b.admin_key).status == 404
    s3 = boto3.client("s3", region_name="us-east-1")
    # B's file put under A's prefix with B's import id, and under B's prefix with A's import id:
    # neither key is the key of a job, so neither starts anything.
    for key in (f"uploads/{a.tenant_id}/{theirs['import_id']}", f"uploads/{b.tenant_id}/{mine['import_id']}"):
        s3.put_object(Bucket=UPLOADS_BUCKET, Key=key, Body=data)
        assert worker.handler(s3_event(key, len(data)), Ctx())["uploads"][0]["outcome"] == "ignored"
    # Another bucket's event is not ours either.
    assert (
        worker.handler(s3_event(key_of(mine["upload"]["url"]), len(data), "other-bucket"), Ctx())["uploads"][0][
            "outcome"
        ]
        == "ignored"
    )
    for agent, job in ((a, mine), (b, theirs)):
        assert api.get(f"/v1/imports/{job['import_id']}", key=agent.admin_key).json["status"] == "awaiting_upload"


def gateway_event(
    method: str,
    path: str,
    headers: dict[str, str],
    source_ip: str,
    base64_body: str | None = None,
    context: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API Gateway proxy event as it reaches the function (`context`: more of requestContext)."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            **(context or {}),
            "identity": {"sourceIp": source_ip},
        },
        "body": base64_body,
        "isBase64Encoded": base64_body is not None,
    }


def test_the_api_gateway_event_with_a_base64_gbk_body_imports_cleanly(
    api_module: Any, services: Any, api: ApiClient, platform_key: str
) -> None:
    """As API Gateway delivers a text/csv body once it is a binary media type: base64, byte for byte."""
    agent = create_agent(api, platform_key)
    data, bad = gbk_fleet(20)
    headers = {"Content-Type": "text/csv", "Authorization": f"Bearer {agent.admin_key}"}
    context = {"path": "/prod/v1/imports", "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
    event = gateway_event("POST", "/v1/imports", headers, "198.51.100.7", base64.b64encode(data).decode(), context)
    result = api_module.app(event, None)
    assert result["statusCode"] == 202, result
    import_id = json.loads(result["body"])["import_id"]
    services.dispatcher.join()
    status = api.get(f"/v1/imports/{import_id}", key=agent.admin_key).json
    assert (status["status"], status["created"], {e["row"] for e in status["errors"]}) == ("done", 18, bad)
    names = {m["name"] for m in api.get("/v1/merchants", key=agent.admin_key).json["items"]}
    assert names == {f"张记便利店{i}" for i in range(7)}


def test_csv_answers_go_back_base64_as_a_binary_media_type(api_module: Any, api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    headers = {"Accept": "text/csv", "Authorization": f"Bearer {agent.admin_key}"}
    event = gateway_event("GET", "/v1/terminals", headers, "1.2.3.4")
    result = api_module.app(event, None)
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]).decode("utf-8-sig").startswith("sn,tid,iccid")


# --- exports ------------------------------------------------------------------------------------
def _register(api: ApiClient, key: str, n: int, **overrides: Any) -> list[str]:
    sns = []
    for _ in range(n):
        r = api.post("/v1/terminals", terminal_body(**overrides), key=key)
        assert r.status == 201, r.body
        sns.append(r.json["sn"])
    return sns


def _download(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.lstrip("/")
    key = path.split("/", 1)[1] if path.startswith(UPLOADS_BUCKET + "/") else path
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=UPLOADS_BUCKET, Key=key)["Body"].read()
    return body.decode("utf-8-sig")  # type: ignore[no-any-return]


def _first_cell(line: str) -> str:
    """The line's first cell, unwrapped from the ="..." Excel form identifiers are exported in."""
    import csv

    cell = next(csv.reader([line]))[0]
    return cell[2:-1] if cell.startswith('="') and cell.endswith('"') else cell


def _export(api: ApiClient, services: Any, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/v1/exports", body, key=key)
    assert r.status == 202, r.body
    services.dispatcher.join()
    status = api.get(f"/v1/exports/{r.json['export_id']}", key=key).json
    assert status["status"] == "done", status
    return status  # type: ignore[no-any-return]


def test_an_export_of_terminals_with_a_filter_is_the_listing_csv_of_those_terminals(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    agent = create_agent(api, platform_key)
    readonly = agent.key(api, "readonly")
    soon = _register(api, agent.admin_key, 3, expires_on="2026-01-10")
    _register(api, agent.admin_key, 2, expires_on="2030-01-10")
    status = _export(api, services, readonly, {"kind": "terminals", "filters": {"expires_before": "2027-01-01"}})
    text = _download(status["download_url"])
    lines = text.splitlines()
    assert lines[0] == IMPORT_HEADER and status["rows"] == 3 and len(lines) == 4
    assert {_first_cell(line) for line in lines[1:]} == set(soon)
    assert urlsplit(status["download_url"]).path.endswith(f"exports/{agent.tenant_id}/{status['export_id']}.csv")
    whole = api.get("/v1/terminals", key=readonly, headers={"Accept": "text/csv"}).body.decode("utf-8-sig")
    assert set(lines[1:]) < set(whole.splitlines())


def test_exports_of_orders_ledger_and_expiring_carry_the_listing_columns(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    from datetime import date, timedelta

    agent = create_agent(api, platform_key)
    sn = _register(api, agent.admin_key, 1, expires_on=(date.today() + timedelta(days=5)).isoformat())[0]
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 10, "price_fen": 1500}, key=agent.admin_key
    ).json
    order = api.post(
        "/v1/orders", {"lines": [{"sn": sn, "plan_id": plan["plan_id"]}], "payment": "offline"}, key=agent.admin_key
    ).json
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "cash"}, key=agent.admin_key).status == 200
    orders = _download(_export(api, services, agent.admin_key, {"kind": "orders"})["download_url"]).splitlines()
    assert orders[0].startswith("order_id,created_at,status") and order["order_id"] in orders[1] and sn in orders[1]
    ledger = _export(api, services, agent.admin_key, {"kind": "ledger", "filters": {"sn": sn}})
    listed = api.get(f"/v1/terminals/{sn}/renewals", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert _download(ledger["download_url"]) == listed.body.decode("utf-8-sig")
    expiring = _export(api, services, agent.admin_key, {"kind": "expiring", "filters": {"days": 30}})
    assert expiring["rows"] == 0 or sn in _download(expiring["download_url"])


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "everything"}, "kind", "invalid_choice"),
        ({"kind": "terminals", "filters": {"status": "nonsense"}}, "filters.status", "invalid_choice"),
        ({"kind": "terminals", "filters": "status=active"}, "filters", "invalid_type"),
        ({"kind": "ledger"}, "filters.sn", "required"),
        ({"kind": "expiring", "filters": {"days": 999}}, "filters.days", "out_of_range"),
        ({"kind": "orders", "extra": 1}, "extra", "unknown_field"),
    ],
)
def test_a_bad_export_request_is_400_naming_the_field(
    api: ApiClient, platform_key: str, body: dict[str, Any], field: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/exports", body, key=agent.admin_key)
    assert (r.status, r.error["code"], r.error.get("field")) == (400, code, field)


def test_tenant_b_cannot_read_tenant_as_export(api: ApiClient, platform_key: str, services: Any) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    _register(api, a.admin_key, 2)
    done = _export(api, services, a.admin_key, {"kind": "terminals"})
    r = api.get(f"/v1/exports/{done['export_id']}", key=b.admin_key)
    assert (r.status, r.error["code"]) == (404, "export_not_found")
    mine = _export(api, services, b.admin_key, {"kind": "terminals"})
    assert mine["rows"] == 0 and f"exports/{b.tenant_id}/" in mine["download_url"]


def test_a_listing_csv_past_the_limit_is_413_pointing_at_exports(
    api: ApiClient, platform_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import export

    agent = create_agent(api, platform_key)
    _register(api, agent.admin_key, 3)
    monkeypatch.setattr(export, "MAX_EXPORT_BYTES", 200)
    r = api.get("/v1/terminals", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert (r.status, r.error["code"]) == (413, "export_too_large")
    assert "/v1/exports" in r.error["message"] and '"kind": "terminals"' in r.error["message"]
    monkeypatch.setattr(export, "MAX_EXPORT_BYTES", 4_000_000)
    assert api.get("/v1/terminals", key=agent.admin_key, headers={"Accept": "text/csv"}).status == 200
    monkeypatch.setattr(export, "MAX_EXPORT_ROWS", 2)  # rows count too: 3 terminals are one too many
    assert api.get("/v1/terminals", key=agent.admin_key, headers={"Accept": "text/csv"}).status == 413
