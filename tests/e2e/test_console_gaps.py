"""Issue 16's console gaps in a browser (Debian chromium), in both languages: a key sees only the actions its
role can do (readonly and finance: none; staff: not the admin-only ones); the transfer of time (转赠) with the
receiving terminal found as you type, both new expiries and the API's refusals in plain words, at 360 px and
1440 px; and the .xlsx import template, downloaded and imported as it is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from simrenew.domain.dates import add_months
from simrenew.domain.transfers import transferable_months
from tests.e2e.conftest import PageErrors, checked_page
from tests.e2e.console_helpers import page_width, plan, register, tenant_today
from tests.support.builders import Agent
from tests.support.client import ApiClient

EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SCREENS = [("zh-CN", 360), ("zh-CN", 1440), ("en", 360), ("en", 1440)]
IDS = ["zh-360", "zh-1440", "en-360", "en-1440"]


class Screen:
    def __init__(self, page: Any, lang: str, width: int) -> None:
        self.page, self.lang, self.width = page, lang, width

    def text(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh-CN" else en

    def day(self, d: date) -> str:
        if self.lang == "zh-CN":
            return f"{d.year}年{d.month}月{d.day}日"
        return f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year}"

    def open(self, ui_url: str, view: str) -> None:
        self.page.goto(f"{ui_url}/?lang={self.lang}#/{view}")
        self.page.locator("main h1").first.wait_for()
        self.page.wait_for_load_state("networkidle")

    def sign_in(self, ui_url: str, key: str, view: str | None = None) -> Any:
        """Signed in with `key` on the dashboard, then on `view` if one is given: the page."""
        self.page.goto(f"{ui_url}/?lang={self.lang}#/dashboard")
        self.page.get_by_test_id("api-key-input").fill(key)
        self.page.get_by_test_id("sign-in").click()
        self.page.get_by_test_id("sign-out").wait_for()
        if view is not None:
            self.open(ui_url, view)
        return self.page

    def fits(self) -> None:
        assert page_width(self.page) <= self.width, f"horizontal overflow at {self.width}px"


@pytest.fixture
def screen(request: pytest.FixtureRequest, browser: Any, page_errors: PageErrors) -> Iterator[Screen]:
    lang, width = request.param
    with checked_page(browser, page_errors, width, 800 if width > 400 else 740) as page:
        yield Screen(page, lang, width)


def _world(api: ApiClient, agent: Agent) -> dict[str, Any]:
    """Two live terminals, a deactivated one, an offline order waiting for its cash, a voucher batch."""
    key = agent.admin_key
    today = tenant_today(api, key)
    p = plan(api, agent, 5000)
    live = register(api, agent, today + timedelta(days=120), None)
    other = register(api, agent, today + timedelta(days=30), None)
    gone = register(api, agent, today + timedelta(days=30), None)
    assert api.post(f"/v1/terminals/{gone['sn']}/deactivate", {}, key=key).status == 200
    order = api.post(
        "/v1/orders", {"lines": [{"sn": live["sn"], "plan_id": p["plan_id"]}], "payment": "offline"}, key=key
    ).json
    assert api.post("/v1/vouchers/batches", {"plan_id": p["plan_id"], "count": 2}, key=key).status == 201
    return {"live": live, "other": other, "gone": gone, "order": order, "plan": p}


# Write controls, by view: none of them may be on the screen of a key that cannot use them.
WRITES = {
    "terminals": ["open-register", "open-claim"],
    "terminal": ["terminal-edit", "terminal-deactivate", "new-order-form", "transfer-code", "transfer-time-form"],
    "deactivated": ["terminal-reactivate"],
    "orders": ["order-new-toggle", "new-order-form"],
    "order": ["mark-paid-form", "refund-form"],
    "vouchers": ["voucher-form", "void-code"],
    "imports": ["import-form", "import-start", "open-usage"],
    "usage": ["usage-form"],
    "register": ["register-form"],
    "merchants": ["merchant-form"],
    "plans": ["plan-form"],
    "keys": ["key-form"],
    "webhooks": ["endpoint-form"],
    "carrier": ["carrier-form", "carrier-sync"],
}
ADMIN_ONLY = {
    "terminals": ["open-claim"],
    "terminal": ["transfer-code", "transfer-time-form", "edit-expires"],
    "order": ["mark-paid-form"],
    "vouchers": ["voucher-form", "void-code"],
    "plans": ["plan-form"],
    "keys": ["key-form"],
    "webhooks": ["endpoint-form"],
    "carrier": ["carrier-form"],
}


def _views(w: dict[str, Any]) -> dict[str, str]:
    return {
        "terminals": "terminals",
        "terminal": f"terminals/{w['live']['sn']}",
        "deactivated": f"terminals/{w['gone']['sn']}",
        "orders": "orders",
        "order": f"orders/{w['order']['order_id']}",
        "vouchers": "vouchers",
        "imports": "imports",
        "usage": "usage",
        "register": "register",
        "merchants": "merchants",
        "plans": "plans",
        "keys": "keys",
        "webhooks": "webhooks",
        "carrier": "carrier",
    }


def _absent(s: Screen, ui_url: str, view: str, testids: list[str]) -> None:
    s.open(ui_url, view)
    for testid in testids:
        expect(s.page.get_by_test_id(testid), f"#{view} shows {testid}").to_have_count(0)


@pytest.mark.parametrize("role", ["readonly", "finance"])
@pytest.mark.parametrize("screen", [SCREENS[1], SCREENS[2]], ids=[IDS[1], IDS[2]], indirect=True)
def test_readonly_and_finance_keys_see_no_write_button(
    screen: Screen, role: str, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    w = _world(api, agent)
    screen.sign_in(ui_url, agent.key(api, role))
    views = _views(w)
    for name, testids in WRITES.items():
        _absent(screen, ui_url, views[name], testids)
        screen.fits()
    # What they may do is still there: read the terminal, print its sticker, search, export, get templates.
    screen.open(ui_url, views["terminal"])
    expect(screen.page.get_by_test_id("terminal-details")).to_contain_text(w["live"]["sn"])
    expect(screen.page.get_by_test_id("renewals-table")).to_be_visible()
    screen.open(ui_url, "terminals")
    expect(screen.page.get_by_test_id("terminal-export")).to_be_visible()
    expect(screen.page.get_by_test_id("terminal-row")).to_have_count(3)
    screen.open(ui_url, "imports")
    expect(screen.page.get_by_test_id("import-template-xlsx")).to_be_visible()
    expect(screen.page.get_by_test_id("import-readonly")).to_have_text(
        screen.text(
            "只读和财务密钥只能查看，不能执行此操作。", "Read-only and finance keys can only look: they cannot do this."
        )
    )
    # The admin-only pages are not in their menu (a link still says the page needs an admin).
    for page in ("settings", "keys", "webhooks", "carrier"):
        expect(screen.page.get_by_test_id(f"nav-{page}")).to_have_count(0)
    expect(screen.page.get_by_test_id("nav-reports")).to_have_count(1)
    banner = "readonly-banner" if role == "readonly" else "finance-banner"
    expect(screen.page.get_by_test_id(banner)).to_contain_text(
        screen.text("只读密钥", "Read-only key") if role == "readonly" else screen.text("财务密钥", "Finance key")
    )


@pytest.mark.parametrize("screen", [SCREENS[0], SCREENS[3]], ids=[IDS[0], IDS[3]], indirect=True)
def test_a_staff_key_does_the_daily_work_but_sees_no_admin_only_action(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    w = _world(api, agent)
    screen.sign_in(ui_url, agent.key(api, "staff"))
    views = _views(w)
    for name, testids in ADMIN_ONLY.items():
        if name == "terminal":
            screen.open(ui_url, views[name])
            screen.page.get_by_test_id("terminal-edit").click()
            expect(screen.page.get_by_test_id("terminal-edit-form")).to_be_visible()
            for testid in testids:
                expect(screen.page.get_by_test_id(testid), testid).to_have_count(0)
        else:
            _absent(screen, ui_url, views[name], testids)
        screen.fits()
    for page in ("settings", "keys", "webhooks", "carrier"):
        expect(screen.page.get_by_test_id(f"nav-{page}")).to_have_count(0)
    # The staff's own work is on screen: register, edit, deactivate, a new order, import.
    screen.open(ui_url, "terminals")
    expect(screen.page.get_by_test_id("open-register")).to_be_visible()
    screen.open(ui_url, views["terminal"])
    for testid in ("terminal-edit", "terminal-deactivate", "new-order-form"):
        expect(screen.page.get_by_test_id(testid)).to_be_visible()
    screen.open(ui_url, views["deactivated"])
    expect(screen.page.get_by_test_id("terminal-reactivate")).to_be_visible()
    screen.open(ui_url, "imports")
    expect(screen.page.get_by_test_id("import-form")).to_be_visible()
    # An edit without the expiry goes through for staff.
    screen.open(ui_url, views["terminal"])
    screen.page.get_by_test_id("terminal-edit").click()
    screen.page.locator("#e-model").fill("Sunmi P2")
    screen.page.get_by_test_id("terminal-save").click()
    expect(screen.page.get_by_test_id("terminal-details")).to_contain_text("Sunmi P2")


@pytest.mark.parametrize("screen", SCREENS, ids=IDS, indirect=True)
def test_an_admin_transfers_whole_months_to_a_terminal_found_as_you_type(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    key = agent.admin_key
    today = tenant_today(api, key)
    giver = register(api, agent, today + timedelta(days=200), None)
    taker = register(api, agent, today + timedelta(days=10), None)
    left = transferable_months(date.fromisoformat(giver["expires_on"]), today)
    assert left >= 2
    page = screen.sign_in(ui_url, key, f"terminals/{giver['sn']}")

    # Nothing found for an SN that is not the agent's; typed in full and sent, the API's 404 in words.
    page.get_by_test_id("transfer-to").fill("NOSUCH-SN-99")
    expect(page.get_by_test_id("transfer-to-options")).to_contain_text(
        screen.text("没有匹配的终端", "No matching terminal")
    )
    page.get_by_test_id("transfer-reason").fill("换机")
    page.get_by_test_id("transfer-submit").click()
    page.get_by_test_id("transfer-confirm").click()
    expect(page.get_by_test_id("error-tt-to")).to_have_text(
        screen.text(
            "没有找到这台终端：只能转给本代理商名下的终端，请从搜索结果中选择。",
            "That terminal was not found: time moves only to a terminal of your own; choose one from the search.",
        )
    )
    screen.fits()

    # Found by the end of its SN, chosen from the list; more months than are left: said with the number.
    page.get_by_test_id("transfer-to").fill(taker["sn"][-6:])
    page.get_by_test_id("transfer-to-option").filter(has_text=taker["sn"]).click()
    expect(page.get_by_test_id("transfer-to")).to_have_value(taker["sn"])
    page.get_by_test_id("transfer-months").fill(str(left + 1))
    page.get_by_test_id("transfer-submit").click()
    expect(page.get_by_test_id("transfer-question")).to_contain_text(taker["sn"])
    page.get_by_test_id("transfer-confirm").click()
    expect(page.get_by_test_id("error-tt-months")).to_contain_text(
        screen.text(f"最多可转 {left} 个月", f"at most {left} can move")
    )

    page.get_by_test_id("transfer-months").fill("2")
    page.get_by_test_id("transfer-submit").click()
    page.get_by_test_id("transfer-confirm").click()
    giver_after = add_months(date.fromisoformat(giver["expires_on"]), -2)
    taker_after = add_months(date.fromisoformat(taker["expires_on"]), 2)
    rows = page.get_by_test_id("transfer-result-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(giver["sn"])
    expect(rows.nth(0).get_by_test_id("transfer-result-after")).to_have_text(screen.day(giver_after))
    expect(rows.nth(1)).to_contain_text(taker["sn"])
    expect(rows.nth(1).get_by_test_id("transfer-result-after")).to_have_text(screen.day(taker_after))
    # The page itself shows the new expiry, and the ledger the move in words.
    expect(page.get_by_test_id("terminal-expires")).to_contain_text(screen.day(giver_after))
    expect(page.get_by_test_id("renewal-kind").first).to_have_text(screen.text("有效期转出", "Time transferred out"))
    assert "transfer_out" not in page.locator("main").inner_text()
    assert api.get(f"/v1/terminals/{taker['sn']}", key=key).json["expires_on"] == taker_after.isoformat()
    screen.fits()


@pytest.mark.parametrize("screen", [SCREENS[0], SCREENS[3]], ids=[IDS[0], IDS[3]], indirect=True)
def test_the_xlsx_template_downloaded_from_the_console_imports_as_it_is(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    import io

    from openpyxl import load_workbook

    page = screen.sign_in(ui_url, agent.admin_key, "imports")
    with page.expect_download() as got:
        page.get_by_test_id("import-template-xlsx").click()
    download = got.value
    assert download.suggested_filename == "simrenew-import-template.xlsx"
    data = Path(download.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["序列号", "终端号", "ICCID"]
    sn = sheet["A2"].value
    assert sheet["C2"].number_format == "@"

    page.get_by_test_id("import-file").set_input_files(
        {
            "name": "simrenew-import-template.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": data,
        }
    )
    page.get_by_test_id("import-start").click()
    expect(page.get_by_test_id("import-status")).to_have_text(screen.text("已完成", "Done"), timeout=60_000)
    expect(page.get_by_test_id("import-created")).to_have_text("1")
    expect(page.get_by_test_id("import-failed")).to_have_text("0")
    made = api.get(f"/v1/terminals/{sn}", key=agent.admin_key)
    assert made.status == 200, made.body
    assert made.json["iccid"] == sheet["C2"].value
    screen.fits()


@pytest.mark.parametrize("screen", SCREENS, ids=IDS, indirect=True)
def test_an_admin_connects_and_removes_a_carrier_account(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    page = screen.sign_in(ui_url, agent.admin_key, "carrier")
    page.get_by_test_id("carrier-url").fill("cc.example.com")
    page.get_by_test_id("carrier-username").fill("agent-a")
    page.get_by_test_id("carrier-key").fill("secret-key-1")
    page.get_by_test_id("carrier-submit").click()
    expect(page.get_by_test_id("error-c-url")).to_have_text(
        screen.text("请输入完整的 https:// 地址。", "Enter a full https:// URL.")
    )
    page.get_by_test_id("carrier-url").fill("https://cc.example.com")
    page.get_by_test_id("carrier-submit").click()
    expect(page.get_by_test_id("carrier-connect-ok")).to_have_text(
        screen.text("运营商账号已连接", "Carrier account connected")
    )
    row = page.get_by_test_id("carrier-account-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("agent-a")
    expect(row).to_contain_text(screen.text("未检查", "Not checked"))
    assert "secret-key-1" not in page.locator("main").inner_text()
    assert [a["username"] for a in api.get("/v1/carrier-accounts", key=agent.admin_key).json["items"]] == ["agent-a"]
    screen.fits()
    row.get_by_role("button", name=screen.text("删除", "Delete")).click()
    row.get_by_role("button", name=screen.text("确认删除", "Yes, delete")).click()
    expect(page.get_by_test_id("carrier-account-row")).to_have_count(0)
    assert api.get("/v1/carrier-accounts", key=agent.admin_key).json["items"] == []


@pytest.mark.parametrize("screen", [SCREENS[1], SCREENS[2]], ids=[IDS[1], IDS[2]], indirect=True)
def test_an_admin_moves_an_expiry_by_hand_only_with_a_reason_and_the_ledger_says_so(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    key = agent.admin_key
    t = register(api, agent, tenant_today(api, key) + timedelta(days=30), None)
    later = date.fromisoformat(t["expires_on"]) + timedelta(days=15)
    page = screen.sign_in(ui_url, key, f"terminals/{t['sn']}")
    page.get_by_test_id("terminal-edit").click()
    page.get_by_test_id("edit-expires").fill(later.isoformat())
    page.get_by_test_id("terminal-save").click()
    expect(page.get_by_test_id("error-e-reason")).to_have_text(
        screen.text("修改到期日请填写原因", "Say why the expiry changes")
    )
    assert api.get(f"/v1/terminals/{t['sn']}", key=key).json["expires_on"] == t["expires_on"]
    page.get_by_test_id("edit-reason").fill("补偿停机 15 天")
    page.get_by_test_id("terminal-save").click()
    expect(page.get_by_test_id("terminal-expires")).to_contain_text(screen.day(later))
    expect(page.get_by_test_id("renewal-kind").first).to_have_text(screen.text("手工调整", "Manual adjustment"))
    assert api.get(f"/v1/terminals/{t['sn']}", key=key).json["expires_on"] == later.isoformat()
    screen.fits()
