"""`make screenshots`: the pay page on a 360 px phone and the console dashboard at 1440 px,
with a believable fleet behind them, into screenshots/ (git-ignored). Not part of `make test`
(the file name does not match test_*.py); run by path."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body

OUT = Path(__file__).resolve().parent.parent.parent / "screenshots"


def seed(api: ApiClient, agent: Agent) -> str:
    """Three plans, a few merchants, 60 terminals expiring over the next 16 weeks, paid orders."""
    key = agent.admin_key
    plans = [
        api.post("/v1/plans", body, key=key).json
        for body in (
            {"name": "季卡 Quarterly", "term_months": 3, "data_quota_mb": 512, "price_fen": 1800},
            {"name": "半年卡 Half-year", "term_months": 6, "data_quota_mb": 1024, "price_fen": 3300},
            {"name": "年卡 Yearly", "term_months": 12, "data_quota_mb": 2048, "price_fen": 6000},
        )
    ]
    merchants = [
        api.post("/v1/merchants", {"name": name, "phone": f"1381234{5600 + i:04d}"}, key=key).json["merchant_id"]
        for i, name in enumerate(("张记便利店", "老王面馆", "阳光药房", "城东五金", "小李水果"))
    ]
    first = ""
    for n in range(60):
        days = 2 + (n * 7) % 110
        body = terminal_body(merchant_id=merchants[n % 5], expires_on=(date.today() + timedelta(days=days)).isoformat())
        sn = api.post("/v1/terminals", body, key=key).json["sn"]
        first = first or sn
        if n % 4 == 0:
            usage = {"data_used_mb": 120 + n * 9, "as_of": date.today().isoformat()}
            api.post(f"/v1/terminals/{sn}/usage", usage, key=key)
        if n % 6 == 0:
            order = api.post(
                "/v1/orders", {"lines": [{"sn": sn, "plan_id": plans[n % 3]["plan_id"]}], "payment": "offline"}, key=key
            ).json
            api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金 cash"}, key=key)
    return first


def test_screenshots(ui_url: str, browser: Any, api: ApiClient, agent: Agent, platform_key: str) -> None:
    OUT.mkdir(exist_ok=True)
    sn = seed(api, agent)

    phone = browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=2).new_page()
    phone.goto(f"{ui_url}/pay/{sn}")
    phone.get_by_test_id("terminal").wait_for()
    phone.screenshot(path=str(OUT / "pay-360.png"), full_page=True)

    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    desk.goto(f"{ui_url}/")
    desk.get_by_test_id("api-key-input").fill(agent.admin_key)
    desk.get_by_test_id("sign-in").click()
    desk.get_by_test_id("dashboard-chart").wait_for()
    desk.wait_for_load_state("networkidle")
    desk.screenshot(path=str(OUT / "console-dashboard-1440.png"), full_page=True)
    # Issue 16's screens: the fleet with merchant names, search and totals; registering a terminal;
    # the import history; vouchers with counts; the signup page (360 px) and the platform view.
    shots = [("terminals?sort=name", "console-fleet-1440.png", "terminal-table")]
    shots += [("register", "console-register-1440.png", "register-form")]
    shots += [("vouchers", "console-vouchers-1440.png", "view-vouchers")]
    shots += [("imports", "console-import-history-1440.png", "import-history")]
    shots += [("usage", "console-usage-1440.png", "view-usage")]
    for view, name, testid in shots:
        desk.goto(f"{ui_url}/#/{view}")
        desk.get_by_test_id(testid).wait_for()
        desk.wait_for_load_state("networkidle")
        desk.screenshot(path=str(OUT / name), full_page=True)
    api.post(
        "/v1/signup",
        {
            "name": "深圳速通支付服务有限公司",
            "contact_name": "陈经理",
            "contact_email": "chen@example.com",
            "contact_phone": "13800138000",
        },
    )
    desk.get_by_test_id("sign-out").click()
    desk.goto(f"{ui_url}/#/platform")
    desk.get_by_test_id("platform-key").fill(platform_key)
    desk.get_by_test_id("platform-sign-in").click()
    desk.get_by_test_id("tenant-table").wait_for()
    desk.screenshot(path=str(OUT / "platform-1440.png"), full_page=True)
    phone.goto(f"{ui_url}/#/signup")
    phone.get_by_test_id("signup-form").wait_for()
    phone.screenshot(path=str(OUT / "signup-360.png"), full_page=True)
    print(f"\nwrote {OUT / 'pay-360.png'}, {OUT / 'console-dashboard-1440.png'} and the issue 16 screens")
