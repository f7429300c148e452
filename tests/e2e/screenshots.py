"""`make screenshots`: the pay page on a 360 px phone and the console dashboard at 1440 px,
with a believable fleet behind them, into screenshots/ (git-ignored). Not part of `make test`
(the file name does not match test_*.py); run by path. Issue 16's screens too: the pay page with the
service phone and the expiry preview (zh and en), a finance key's reports, a terminal's ledger in
words, an .xlsx import, key creation with the finance role, and a sticker with the phone; and in both
languages the fleet, registering a terminal, voucher batches, import history, usage import, carrier
accounts, the transfer of time (360 and 1440 px), the signup page and the platform operator's view."""

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
    api.patch("/v1/tenant", {"service_phone": "400-812-3456"}, key=key)
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
        for i, name in enumerate(("深圳市福田区便利店", "老王面馆", "阳光药房", "城东五金", "小李水果"))
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
    # Issue 16's screens, in both languages: the fleet with merchant names, search and totals; registering a
    # terminal; the import history; vouchers with counts; usage by CSV; carrier accounts; the transfer of
    # time (转赠) with its result; the signup page (360 px) and the platform operator's view.
    mine = [("terminals?sort=name", "fleet", "terminal-table"), ("register", "register", "register-form")]
    mine += [("vouchers", "vouchers", "view-vouchers"), ("imports", "import-history", "import-history-table")]
    mine += [("usage", "usage", "view-usage"), ("carrier", "carrier", "view-carrier")]
    made = ["console-dashboard-1440.png"]
    for lang in ("zh-CN", "en"):
        tag = "zh" if lang == "zh-CN" else "en"
        for view, name, testid in mine:
            desk.goto(f"{ui_url}/?lang={lang}#/{view}")
            desk.get_by_test_id(testid).wait_for()
            desk.wait_for_load_state("networkidle")
            made.append(f"console-{name}-{tag}-1440.png")
            desk.screenshot(path=str(OUT / made[-1]), full_page=True)
    made += transfer_time(ui_url, browser, api, agent)
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
    for lang in ("zh-CN", "en"):
        tag = "zh" if lang == "zh-CN" else "en"
        desk.goto(f"{ui_url}/?lang={lang}#/platform")
        desk.locator("[data-testid=platform-key], [data-testid=tenant-table]").first.wait_for()
        if desk.get_by_test_id("platform-key").is_visible():
            desk.get_by_test_id("platform-key").fill(platform_key)
            desk.get_by_test_id("platform-sign-in").click()
        desk.get_by_test_id("tenant-table").wait_for()
        desk.wait_for_load_state("networkidle")
        made.append(f"platform-{tag}-1440.png")
        desk.screenshot(path=str(OUT / made[-1]), full_page=True)
        phone.goto(f"{ui_url}/?lang={lang}#/signup")
        phone.get_by_test_id("signup-form").wait_for()
        made.append(f"signup-{tag}-360.png")
        phone.screenshot(path=str(OUT / made[-1]), full_page=True)
    shots = ["pay-360.png", *made, *issue16(ui_url, browser, api, agent, sn)]
    print("\nwrote " + ", ".join(str(OUT / name) for name in shots))


def transfer_time(ui_url: str, browser: Any, api: ApiClient, agent: Agent) -> list[str]:
    """The transfer of time on a terminal's page, its result shown, at 1440 px and 360 px in both languages."""
    key = agent.admin_key
    names = []
    for lang, width in (("zh-CN", 1440), ("en", 1440), ("zh-CN", 360), ("en", 360)):
        giver = api.post(
            "/v1/terminals", terminal_body(expires_on=(date.today() + timedelta(days=400)).isoformat()), key=key
        )
        taker = api.post(
            "/v1/terminals", terminal_body(expires_on=(date.today() + timedelta(days=9)).isoformat()), key=key
        )
        page = browser.new_context(viewport={"width": width, "height": 900 if width > 400 else 780}).new_page()
        page.goto(f"{ui_url}/?lang={lang}#/dashboard")
        page.get_by_test_id("api-key-input").fill(key)
        page.get_by_test_id("sign-in").click()
        page.get_by_test_id("sign-out").wait_for()
        page.goto(f"{ui_url}/?lang={lang}#/terminals/{giver.json['sn']}")
        page.get_by_test_id("transfer-to").fill(taker.json["sn"][-6:])
        page.get_by_test_id("transfer-to-option").first.click()
        page.get_by_test_id("transfer-months").fill("3")
        page.get_by_test_id("transfer-reason").fill("换机 / replaced device")
        page.get_by_test_id("transfer-submit").click()
        page.get_by_test_id("transfer-confirm").click()
        page.get_by_test_id("transfer-result").wait_for()
        page.get_by_test_id("transfer-time-form").scroll_into_view_if_needed()
        names.append(f"console-transfer-time-{'zh' if lang == 'zh-CN' else 'en'}-{width}.png")
        page.get_by_test_id("transfer-time-form").screenshot(path=str(OUT / names[-1]))
        page.context.close()
    return names


def issue16(ui_url: str, browser: Any, api: ApiClient, agent: Agent, sn: str) -> list[str]:
    """The screens issue 16 changed (pay page in English, finance reports, ledger, import, keys, sticker)."""
    from tests.support.sheets import workbook_bytes

    phone = browser.new_context(viewport={"width": 360, "height": 780}, device_scale_factor=2).new_page()
    phone.goto(f"{ui_url}/pay/{sn}?lang=en")
    phone.get_by_test_id("preview-expiry").wait_for()
    phone.screenshot(path=str(OUT / "pay-en-360.png"), full_page=True)

    finance = agent.key(api, "finance")
    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    desk.goto(f"{ui_url}/#/dashboard")
    desk.get_by_test_id("api-key-input").fill(finance)
    desk.get_by_test_id("sign-in").click()
    desk.get_by_test_id("finance-banner").wait_for()
    desk.goto(f"{ui_url}/#/reports")
    desk.wait_for_load_state("networkidle")
    desk.screenshot(path=str(OUT / "console-finance-reports-1440.png"), full_page=True)
    desk.get_by_test_id("sign-out").click()

    desk.get_by_test_id("api-key-input").fill(agent.admin_key)
    desk.get_by_test_id("sign-in").click()
    desk.get_by_test_id("sign-out").wait_for()
    paid = api.get("/v1/orders?status=fulfilled", key=agent.admin_key).json["items"][0]["lines"][0]["sn"]
    desk.goto(f"{ui_url}/#/terminals/{paid}")
    desk.get_by_test_id("renewal-kind").first.wait_for()
    desk.screenshot(path=str(OUT / "console-terminal-ledger-1440.png"), full_page=True)

    rows = [terminal_body() for _ in range(3)]
    data = workbook_bytes(
        [[r["sn"], r["tid"], r["iccid"], None, "PAX A920", None, None, None, "2027/1/5", None] for r in rows]
    )
    desk.goto(f"{ui_url}/#/imports")
    desk.get_by_test_id("import-file").set_input_files(
        {
            "name": "终端清单.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": data,
        }
    )
    desk.get_by_test_id("import-start").click()
    desk.get_by_test_id("import-created").wait_for()
    desk.wait_for_function("document.querySelector('[data-testid=import-status]').innerText === '已完成'")
    desk.screenshot(path=str(OUT / "console-import-xlsx-1440.png"), full_page=True)

    desk.goto(f"{ui_url}/#/keys")
    desk.get_by_test_id("key-role").select_option("finance")
    desk.get_by_test_id("key-submit").click()
    desk.get_by_test_id("new-key").wait_for()
    desk.screenshot(path=str(OUT / "console-keys-finance-1440.png"), full_page=True)

    desk.goto(f"{ui_url}/#/stickers?sns={sn}")
    desk.get_by_test_id("sticker-phone").wait_for()
    desk.get_by_test_id("sticker-qr").wait_for()
    desk.screenshot(path=str(OUT / "console-sticker-1440.png"), full_page=True)
    return [
        "pay-en-360.png",
        "console-finance-reports-1440.png",
        "console-terminal-ledger-1440.png",
        "console-import-xlsx-1440.png",
        "console-keys-finance-1440.png",
        "console-sticker-1440.png",
    ]
