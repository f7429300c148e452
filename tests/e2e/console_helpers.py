"""Helpers for the agent console browser tests: sign in, register a small fleet through the
API, read what the page shows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body


def sign_in(page: Any, ui_url: str, key: str) -> None:
    """Open the console, paste the key, land on the dashboard."""
    page.goto(f"{ui_url}/#/dashboard")
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("sign-out").wait_for()


def go(page: Any, ui_url: str, view: str) -> None:
    page.goto(f"{ui_url}/#/{view}")


def tenant_today(api: ApiClient, key: str) -> date:
    """'Today' in the agent's time zone, as the server counts it."""
    r = api.get("/v1/reports/dashboard", key=key)
    assert r.status == 200, r.body
    return date.fromisoformat(r.json["today"])


def merchant(api: ApiClient, agent: Agent) -> str:
    r = api.post("/v1/merchants", {"name": "张三便利店", "phone": "13812345678"}, key=agent.admin_key)
    assert r.status == 201, r.body
    return str(r.json["merchant_id"])


def plan(api: ApiClient, agent: Agent, price_fen: int) -> dict[str, Any]:
    body = {"name": "年费套餐", "term_months": 12, "data_quota_mb": 1024, "price_fen": price_fen}
    r = api.post("/v1/plans", body, key=agent.admin_key)
    assert r.status == 201, r.body
    return r.json  # type: ignore[no-any-return]


def register(api: ApiClient, agent: Agent, expires_on: date, merchant_id: str | None) -> dict[str, Any]:
    body = terminal_body(expires_on=expires_on.isoformat())
    if merchant_id:
        body["merchant_id"] = merchant_id
    r = api.post("/v1/terminals", body, key=agent.admin_key)
    assert r.status == 201, r.body
    return r.json  # type: ignore[no-any-return]


def fleet(api: ApiClient, agent: Agent) -> dict[str, list[dict[str, Any]]]:
    """A small fleet with known counts: 3 active (expiring in 5, 20, 60 days), 1 in grace,
    1 suspended, 1 in stock."""
    today = tenant_today(api, agent.admin_key)
    m = merchant(api, agent)
    return {
        "active": [register(api, agent, today + timedelta(days=d), m) for d in (5, 20, 60)],
        "grace": [register(api, agent, today - timedelta(days=3), m)],
        "suspended": [register(api, agent, today - timedelta(days=40), m)],
        "inventory": [register(api, agent, today + timedelta(days=90), None)],
    }


def csv_with_bad_row() -> tuple[bytes, list[dict[str, Any]], int]:
    """Four data rows; the third (file line 4) has an ICCID with a wrong check digit."""
    good = [terminal_body() for _ in range(3)]
    bad = terminal_body()
    bad["iccid"] = bad_luhn(bad["iccid"])
    rows = [csv_row(good[0]), csv_row(good[1]), csv_row(bad), csv_row(good[2])]
    text = "\r\n".join([IMPORT_HEADER, *rows]) + "\r\n"
    return text.encode("utf-8"), good, 4


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))
