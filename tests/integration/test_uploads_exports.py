"""Presigned uploads and exports over real HTTP: the local server, DynamoDB Local and moto's S3
server (its upload event reaches the worker through infra/s3_events' queue, as S3 invokes Lambda).

- a 60,000-row GBK fleet file PUT to its presigned URL imports by itself, its bad rows reported
  exactly;
- an export of 100,000 terminals (written straight to the table with BatchWriteItem, to make the
  fleet fast) downloads completely from its presigned URL;
- tenant B can neither read A's export or import nor start A's import.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, fleet_file, terminal_body
from tests.support.waiting import import_finished

UPLOAD_ROWS = int(os.environ.get("SIMRENEW_IT_UPLOAD_ROWS", "60000"))
EXPORT_TERMINALS = int(os.environ.get("SIMRENEW_IT_EXPORT_TERMINALS", "100000"))


def gbk_file(rows: int) -> tuple[bytes, set[int]]:
    """Excel's "CSV (GBK)": Chinese merchant names; 1 % bad rows of three kinds."""
    merchants = ("张记便利店", "1390013", 300)
    return fleet_file(rows, merchants=merchants, bad_offset=41, bad_date="2026-02-30", encoding="gbk")


def presigned_put(api: ApiClient, agent: Agent, data: bytes, filename: str = "fleet.csv") -> dict[str, Any]:
    r = api.post("/v1/imports", {"filename": filename, "size_bytes": len(data)}, key=agent.admin_key)
    assert r.status == 201, r.body
    upload = r.json["upload"]
    put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=120)
    assert put.status_code == 200, put.text
    return r.json  # type: ignore[no-any-return]


def wait_import(api: ApiClient, key: str, import_id: str, timeout: float) -> tuple[dict[str, Any], list[int]]:
    return import_finished(api, key, import_id, timeout, every=1)


def test_a_60000_row_gbk_file_through_the_presigned_path_imports_with_its_bad_rows_reported_exactly(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    data, bad = gbk_file(UPLOAD_ROWS)
    started = presigned_put(api, agent, data)
    # The object's arrival starts the import by itself, within seconds.
    deadline = time.monotonic() + 30
    while api.get(f"/v1/imports/{started['import_id']}", key=agent.admin_key).json["status"] == "awaiting_upload":
        assert time.monotonic() < deadline, "the upload did not start its import within 30 s"
        time.sleep(0.2)
    status, progress = wait_import(api, agent.admin_key, started["import_id"], 3600)
    assert status["status"] == "done", status
    assert (status["total"], status["processed"], status["failed"]) == (UPLOAD_ROWS, UPLOAD_ROWS, len(bad))
    assert status["created"] == UPLOAD_ROWS - len(bad)
    report = api.get(f"/v1/imports/{started['import_id']}", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert {int(line.split(",")[0]) for line in report.body.decode("utf-8-sig").splitlines()[1:]} == bad
    assert progress == sorted(progress)
    merchants = api.get("/v1/merchants?limit=200", key=agent.admin_key).json["items"]
    assert all(m["name"].startswith("张记便利店") for m in merchants)  # GBK read as GBK


def _fleet_straight_to_the_table(tenant_id: str, count: int) -> None:
    """Terminal items as the repository writes them (index keys included), batch-written: the
    fastest way to a large fleet. Claims are left out (the export does not read them)."""
    from simrenew.adapters.dynamodb.fleet import new_terminal_item
    from simrenew.adapters.dynamodb.models import TerminalItem
    from simrenew.clock import iso_utc
    from simrenew.domain.fleet import Terminal, TerminalStatus
    from simrenew.domain.identifiers import luhn_check_digit

    now = datetime.now(UTC)
    expires = date.today() + timedelta(days=200)
    with TerminalItem.batch_write() as batch:
        for n in range(count):
            body = f"898600{n:013d}"
            terminal = Terminal(
                tenant_id=tenant_id,
                sn=f"BULK-{n:08d}",
                tid=f"{n:08d}",
                iccid=body + luhn_check_digit(body),
                carrier="CMCC",
                model="PAX A920",
                merchant_id=None,
                plan_id=None,
                expires_on=expires,
                status=TerminalStatus.ACTIVE,
                data_quota_mb=None,
                created_at=iso_utc(now),
                updated_at=iso_utc(now),
            )
            batch.save(new_terminal_item(terminal, now))


def test_an_export_of_100000_terminals_downloads_completely(
    api: ApiClient, platform_key: str, ddb: Any, server_url: str
) -> None:
    agent = create_agent(api, platform_key)
    _fleet_straight_to_the_table(agent.tenant_id, EXPORT_TERMINALS)
    if EXPORT_TERMINALS > 20_000:  # the listing's CSV stops at 20,000 rows, pointing at /v1/exports
        listing = requests.get(
            f"{server_url}/v1/terminals",
            headers={"Accept": "text/csv", "Authorization": f"Bearer {agent.admin_key}"},
            timeout=300,
        )
        assert (listing.status_code, listing.json()["error"]["code"]) == (413, "export_too_large")
        assert "/v1/exports" in listing.json()["error"]["message"]
    r = api.post("/v1/exports", {"kind": "terminals"}, key=agent.admin_key)
    assert r.status == 202, r.body
    deadline = time.monotonic() + 1800
    while True:
        status = api.get(f"/v1/exports/{r.json['export_id']}", key=agent.admin_key).json
        if status["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status["status"] == "done" and status["rows"] == EXPORT_TERMINALS, status
    got = requests.get(status["download_url"], timeout=300)
    assert got.status_code == 200 and len(got.content) == status["size_bytes"]
    lines = got.content.decode("utf-8-sig").splitlines()
    assert lines[0] == IMPORT_HEADER and len(lines) == EXPORT_TERMINALS + 1
    sns = {cell[2:-1] if cell.startswith('="') else cell for cell in (r[0] for r in csv.reader(lines[1:]))}
    assert sns == {f"BULK-{n:08d}" for n in range(EXPORT_TERMINALS)}


def test_tenant_b_cannot_read_as_export_or_import_nor_start_as_import(api: ApiClient, platform_key: str) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    r = api.post("/v1/terminals", terminal_body(), key=a.admin_key)
    assert r.status == 201
    exported = api.post("/v1/exports", {"kind": "terminals"}, key=a.admin_key).json
    assert api.get(f"/v1/exports/{exported['export_id']}", key=b.admin_key).status == 404
    # B asks for its own upload, and PUTs its file where A's waiting import expects one: the URL
    # B was given is for B's key only; A's import still waits, B's cannot be read by A.
    data, _ = gbk_file(3)
    mine = api.post("/v1/imports", {"filename": "a.csv", "size_bytes": len(data)}, key=a.admin_key).json
    theirs = presigned_put(api, b, data)
    assert f"/uploads/{b.tenant_id}/{theirs['import_id']}" in theirs["upload"]["url"]
    assert api.get(f"/v1/imports/{mine['import_id']}", key=b.admin_key).status == 404
    assert api.post(f"/v1/imports/{mine['import_id']}/resume", key=b.admin_key).status == 404
    assert api.get(f"/v1/imports/{theirs['import_id']}", key=a.admin_key).status == 404
    status, _ = wait_import(api, b.admin_key, theirs["import_id"], 120)
    assert status["status"] == "done" and status["created"] == 3
    assert api.get(f"/v1/imports/{mine['import_id']}", key=a.admin_key).json["status"] == "awaiting_upload"
