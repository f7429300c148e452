"""A fleet of 10,000 terminals with 1 % bad rows, imported over HTTP into DynamoDB Local:
progress is visible while it runs, exactly the bad rows are reported, a re-run creates none."""

from __future__ import annotations

import time
from datetime import date, timedelta

from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body

ROWS = 10_000


def _file() -> tuple[bytes, set[int]]:
    lines = [IMPORT_HEADER]
    bad: set[int] = set()
    start = date.today()
    for i in range(ROWS):
        body = terminal_body(expires_on=(start + timedelta(days=i % 365)).isoformat())
        if i % 100 == 37:
            kind = (i // 100) % 3
            if kind == 0:
                body["tid"] = body["tid"][:7]
            elif kind == 1:
                body["iccid"] = bad_luhn(body["iccid"])
            else:
                body["expires_on"] = "2026-13-01"
            bad.add(i + 2)
        lines.append(csv_row(body, (f"商户{i % 500:04d}", f"1380013{i % 500:04d}"), quota="1024"))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), bad


def _run(api: ApiClient, key: str, data: bytes) -> tuple[dict[str, object], list[int]]:
    r = api.call("POST", "/v1/imports", key=key, body=data, headers={"Content-Type": "text/csv"})
    assert r.status == 202, r.body
    seen: list[int] = []
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = api.get(f"/v1/imports/{r.json['import_id']}", key=key).json
        seen.append(int(status["processed"]))
        if status["status"] != "running":
            return status, seen
        time.sleep(0.5)
    raise AssertionError("import did not finish in 15 minutes")


def test_ten_thousand_rows_with_one_percent_bad(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    data, bad = _file()
    first, progress = _run(api, agent.admin_key, data)
    assert first["status"] == "done"
    assert (first["total"], first["processed"]) == (ROWS, ROWS)
    assert first["failed"] == len(bad) == 100
    assert first["created"] == ROWS - len(bad)
    errors = api.get(f"/v1/imports/{first['import_id']}", key=agent.admin_key, headers={"Accept": "text/csv"})
    reported = {int(line.split(",")[0]) for line in errors.body.decode("utf-8-sig").splitlines()[1:]}
    assert reported == bad
    assert any(0 < p < ROWS for p in progress), "progress was never seen between 0 and the total"
    assert progress == sorted(progress)

    second, _ = _run(api, agent.admin_key, data)
    assert (second["created"], second["updated"], second["unchanged"], second["failed"]) == (0, 0, ROWS - 100, 100)
