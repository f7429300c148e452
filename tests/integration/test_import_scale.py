"""A fleet of 10,000 terminals with 1 % bad rows, imported over HTTP into DynamoDB Local:
progress is visible while it runs, exactly the bad rows are reported, a re-run creates none."""

from __future__ import annotations

from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.fleet import fleet_file
from tests.support.waiting import import_finished

ROWS = 10_000


def _file() -> tuple[bytes, set[int]]:
    return fleet_file(ROWS, merchants=("商户", "1380013", 500), bad_offset=37, bad_date="2026-13-01")


def _run(api: ApiClient, key: str, data: bytes) -> tuple[dict[str, object], list[int]]:
    r = api.call("POST", "/v1/imports", key=key, body=data, headers={"Content-Type": "text/csv"})
    assert r.status == 202, r.body
    return import_finished(api, key, r.json["import_id"], timeout=900, every=0.5)


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
