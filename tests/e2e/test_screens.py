"""Issue 16's screens in a browser, in zh-CN and English at 360 px and at 1440 px (every screen also
in both languages at both widths, for overflow): merchant names, search, sort and totals on the
fleet; the merchant picker; orders by SN; applying as an agent and the platform operator's
approve / suspend / reinstate; registering a terminal; transfer code and claim; the import
history; voucher counts and void; undoing a deactivation; usage by CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, checked_page
from tests.e2e.console_helpers import page_width, plan, register, tenant_today
from tests.support.builders import Agent, create_agent, signup_body
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body


@dataclass
class Screen:
    page: Any
    lang: str
    width: int

    def text(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh-CN" else en

    def open(self, ui_url: str, view: str) -> None:
        self.page.goto(f"{ui_url}/?lang={self.lang}#/{view}")

    def sign_in(self, ui_url: str, key: str, view: str = "dashboard") -> None:
        self.open(ui_url, view)
        self.page.get_by_test_id("api-key-input").fill(key)
        self.page.get_by_test_id("sign-in").click()
        self.page.get_by_test_id("sign-out").wait_for()

    def fits(self) -> None:
        assert page_width(self.page) <= self.width, f"horizontal overflow at {self.width}px"


@pytest.fixture(
    params=[(360, "zh-CN"), (1440, "zh-CN"), (360, "en"), (1440, "en")], ids=["360-zh", "1440-zh", "360-en", "1440-en"]
)
def screen(request: Any, browser: Any, page_errors: PageErrors) -> Iterator[Screen]:
    width, lang = request.param
    with checked_page(browser, page_errors, width, 740 if width < 400 else 900) as page:
        yield Screen(page, lang, width)


def _shops(api: ApiClient, agent: Agent) -> dict[str, Any]:
    key = agent.admin_key
    today = tenant_today(api, key)
    shop = api.post("/v1/merchants", {"name": "深圳华强北旗舰店", "phone": "13812345678"}, key=key).json
    cafe = api.post("/v1/merchants", {"name": "Blue Cafe", "phone": "13900001111"}, key=key).json
    return {
        "shop": shop,
        "cafe": cafe,
        "a": register(api, agent, today + timedelta(days=200), shop["merchant_id"]),
        "b": register(api, agent, today + timedelta(days=5), cafe["merchant_id"]),
        "c": register(api, agent, today + timedelta(days=90), None),
    }


# --- part 2: names, search, sort, totals -----------------------------------------------------------
def test_the_fleet_shows_merchant_names_and_finds_a_terminal_by_part_of_a_merchant_name(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    w = _shops(api, agent)
    screen.sign_in(ui_url, agent.admin_key, "terminals")
    page = screen.page
    expect(page.get_by_test_id("terminal-total")).to_have_text(screen.text("共 3 台终端", "3 terminals in all"))
    row = page.get_by_test_id("terminal-row").filter(has_text=w["a"]["sn"])
    expect(row.get_by_test_id("terminal-merchant")).to_contain_text("深圳华强北旗舰店")
    expect(row.get_by_test_id("terminal-merchant")).to_contain_text("+8613812345678")
    page.get_by_test_id("terminal-search").fill("华强北")
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    expect(page.get_by_test_id("terminal-total")).to_have_text(screen.text("共 1 台终端", "1 terminal in all"))
    screen.fits()
    # By the end of a TID, then sorted by expiry, latest first.
    page.get_by_test_id("terminal-search").fill(w["b"]["tid"][-4:])
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row").filter(has_text=w["b"]["sn"])).to_have_count(1)
    page.get_by_test_id("terminal-search").fill("")
    page.get_by_test_id("filter-sort").select_option("-expires_on")
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-link").first).to_have_text(w["a"]["sn"])


def test_the_merchant_filter_is_picked_by_name(screen: Screen, ui_url: str, api: ApiClient, agent: Agent) -> None:
    w = _shops(api, agent)
    screen.sign_in(ui_url, agent.admin_key, "terminals")
    page = screen.page
    page.get_by_test_id("filter-merchant-search").fill("blue")
    page.get_by_test_id("filter-merchant-option").filter(has_text="Blue Cafe").click()
    expect(page.get_by_test_id("filter-merchant-chosen")).to_contain_text("Blue Cafe")
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    expect(page.get_by_test_id("terminal-link")).to_have_text(w["b"]["sn"])
    assert w["cafe"]["merchant_id"] in page.url  # the filter is in the address, the screen shows the name
    screen.fits()


def test_merchants_are_searched_by_part_of_a_phone_with_a_total(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    _shops(api, agent)
    screen.sign_in(ui_url, agent.admin_key, "merchants")
    page = screen.page
    expect(page.get_by_test_id("merchant-total")).to_have_text(screen.text("共 2 个商户", "2 merchants in all"))
    page.get_by_test_id("merchant-search").fill("0000 1111")
    page.get_by_test_id("merchant-search-submit").click()
    expect(page.get_by_test_id("merchant-row")).to_have_count(1)
    expect(page.get_by_test_id("merchant-row")).to_contain_text("Blue Cafe")
    screen.fits()


def test_orders_are_found_by_sn_with_a_total(screen: Screen, ui_url: str, api: ApiClient, agent: Agent) -> None:
    w = _shops(api, agent)
    p = plan(api, agent, 5000)
    for sn in (w["a"]["sn"], w["b"]["sn"]):
        api.post(
            "/v1/orders", {"lines": [{"sn": sn, "plan_id": p["plan_id"]}], "payment": "offline"}, key=agent.admin_key
        )
    screen.sign_in(ui_url, agent.admin_key, "orders")
    page = screen.page
    expect(page.get_by_test_id("order-total")).to_have_text(screen.text("共 2 笔订单", "2 orders in all"))
    page.get_by_test_id("order-sn-filter").fill(w["b"]["sn"])
    page.get_by_test_id("order-search").click()
    expect(page.get_by_test_id("order-row")).to_have_count(1)
    expect(page.get_by_test_id("order-row")).to_contain_text(w["b"]["sn"])
    screen.fits()


# --- part 3: every capability on screen ---------------------------------------------------------------
def test_a_company_applies_and_the_platform_operator_approves_suspends_and_reinstates_it(
    screen: Screen, ui_url: str, api: ApiClient, platform_key: str
) -> None:
    page = screen.page
    screen.open(ui_url, "")
    page.get_by_test_id("open-signup").click()
    body = signup_body()
    for field in ("name", "contact_name", "contact_email", "contact_phone"):
        page.get_by_test_id(f"signup-{field}").fill(body[field])
    page.get_by_test_id("signup-submit").click()
    expect(page.get_by_test_id("signup-ok")).to_contain_text(screen.text("申请已提交", "received"))
    tenant_id = next(
        w for w in page.get_by_test_id("signup-ok").inner_text().replace("。", " ").split() if w.startswith("t_")
    )
    screen.fits()

    screen.open(ui_url, "platform")
    page.get_by_test_id("platform-key").fill(platform_key)
    page.get_by_test_id("platform-sign-in").click()
    row = page.get_by_test_id("tenant-row").filter(has_text=tenant_id)
    expect(row.get_by_test_id("tenant-status")).to_have_text(screen.text("待审核", "Pending review"))
    row.get_by_test_id(f"approve-{tenant_id}").click()
    row.get_by_test_id(f"approve-{tenant_id}-confirm").click()
    expect(page.get_by_test_id("approved-key")).to_contain_text("srk_")
    key = page.get_by_test_id("approved-key").locator("strong").inner_text()
    assert api.get("/v1/me", key=key).status == 200

    page.get_by_test_id("platform-status").select_option("")
    row = page.get_by_test_id("tenant-row").filter(has_text=tenant_id)
    row.get_by_test_id(f"suspend-{tenant_id}").click()
    row.get_by_test_id(f"suspend-{tenant_id}-confirm").click()
    expect(row.get_by_test_id("tenant-status")).to_have_text(screen.text("已停用", "Suspended"))
    assert api.get("/v1/me", key=key).status == 401
    row.get_by_test_id(f"reinstate-{tenant_id}").click()
    row.get_by_test_id(f"reinstate-{tenant_id}-confirm").click()
    expect(row.get_by_test_id("tenant-status")).to_have_text(screen.text("正常", "Active"))
    assert api.get("/v1/me", key=key).status == 200
    screen.fits()


def test_an_agent_registers_a_terminal_picking_the_merchant_by_name(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    api.post("/v1/merchants", {"name": "老王面馆", "phone": "13700001234"}, key=agent.admin_key)
    screen.sign_in(ui_url, agent.admin_key, "terminals")
    page = screen.page
    page.get_by_test_id("open-register").click()
    body = terminal_body()
    # A wrong TID first: the error sits at the TID field.
    page.get_by_test_id("register-sn").fill(body["sn"])
    page.get_by_test_id("register-tid").fill("123")
    page.get_by_test_id("register-iccid").fill(body["iccid"])
    page.get_by_test_id("register-model").fill("PAX A920")
    page.get_by_test_id("register-expires_on").fill(body["expires_on"])
    page.get_by_test_id("register-merchant-search").fill("面馆")
    page.get_by_test_id("register-merchant-option").click()
    expect(page.get_by_test_id("register-merchant-chosen")).to_contain_text("老王面馆")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("error-r-tid")).to_be_visible()
    page.get_by_test_id("register-tid").fill(body["tid"])
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-ok")).to_contain_text(body["sn"])
    screen.fits()
    page.get_by_test_id("register-open").click()
    expect(page.get_by_test_id("terminal-merchant")).to_contain_text("老王面馆")
    assert api.get(f"/v1/terminals/{body['sn']}", key=agent.admin_key).json["merchant_id"].startswith("m_")


def test_a_terminal_moves_to_another_agent_with_a_transfer_code(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent, platform_key: str
) -> None:
    t = register(api, agent, tenant_today(api, agent.admin_key) + timedelta(days=30), None)
    screen.sign_in(ui_url, agent.admin_key, f"terminals/{t['sn']}")
    page = screen.page
    page.get_by_test_id("transfer-issue").click()
    code = page.get_by_test_id("transfer-code-value").inner_text()
    assert len(code.replace("-", "")) == 12
    screen.fits()
    page.get_by_test_id("sign-out").click()

    other = create_agent(api, platform_key, name="乙 Agent B")
    screen.sign_in(ui_url, other.admin_key, "claim")
    page.get_by_test_id("claim-sn").fill(t["sn"])
    page.get_by_test_id("claim-code").fill("AAAA-BBBB-CCCC")
    page.get_by_test_id("claim-submit").click()
    expect(page.get_by_test_id("claim-error")).to_be_visible()
    page.get_by_test_id("claim-code").fill(code)
    page.get_by_test_id("claim-submit").click()
    expect(page.get_by_test_id("claim-ok")).to_contain_text(t["sn"])
    assert api.get(f"/v1/terminals/{t['sn']}", key=other.admin_key).status == 200
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).status == 404
    screen.fits()


def test_the_import_history_lists_an_import_with_its_counts_and_report(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    import time

    text = IMPORT_HEADER + "\n" + "\n".join(csv_row(terminal_body()) for _ in range(2)) + "\n"
    r = api.call("POST", "/v1/imports", key=agent.admin_key, body=text.encode(), headers={"Content-Type": "text/csv"})
    for _ in range(100):
        if api.get(f"/v1/imports/{r.json['import_id']}", key=agent.admin_key).json["status"] != "running":
            break
        time.sleep(0.2)
    screen.sign_in(ui_url, agent.admin_key, "imports")
    page = screen.page
    row = page.get_by_test_id("import-history-row")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("2")
    expect(row.locator("td").nth(2)).to_have_text("2")
    screen.fits()
    row.get_by_test_id("import-report-link").click()
    assert r.json["import_id"] in page.url


def test_voucher_batches_show_redeemed_counts_and_a_code_is_voided(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    key = agent.admin_key
    p = plan(api, agent, 3000)
    t = register(api, agent, tenant_today(api, key) + timedelta(days=30), None)
    batch = api.post("/v1/vouchers/batches", {"plan_id": p["plan_id"], "count": 3}, key=key).json
    assert api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": batch["codes"][0]}).status == 200
    screen.sign_in(ui_url, key, "vouchers")
    page = screen.page
    expect(page.get_by_test_id("batch-redeemed")).to_have_text("1")
    expect(page.get_by_test_id("batch-available")).to_have_text("2")
    page.get_by_test_id("void-input").fill(batch["codes"][1])
    page.get_by_test_id("void-submit").click()
    page.get_by_test_id("void-submit-confirm").click()
    expect(page.get_by_test_id("void-ok")).to_be_visible()
    expect(page.get_by_test_id("batch-voided")).to_have_text("1")
    expect(page.get_by_test_id("batch-available")).to_have_text("1")
    # A redeemed code cannot be voided: said in the screen's language.
    page.get_by_test_id("void-input").fill(batch["codes"][0])
    page.get_by_test_id("void-submit").click()
    page.get_by_test_id("void-submit-confirm").click()
    expect(page.get_by_test_id("void-error")).to_have_text(
        screen.text("这张卡已被兑换，不能作废。", "This code was already redeemed and cannot be voided.")
    )
    screen.fits()


def test_a_deactivated_terminal_is_reactivated(screen: Screen, ui_url: str, api: ApiClient, agent: Agent) -> None:
    t = register(api, agent, tenant_today(api, agent.admin_key) + timedelta(days=30), None)
    api.post(f"/v1/terminals/{t['sn']}/deactivate", {}, key=agent.admin_key)
    screen.sign_in(ui_url, agent.admin_key, f"terminals/{t['sn']}")
    page = screen.page
    page.get_by_test_id("terminal-reactivate").click()
    page.get_by_test_id("terminal-reactivate-confirm").click()
    expect(page.get_by_test_id("reactivate-ok")).to_have_text(screen.text("已恢复启用", "Reactivated"))
    expect(page.get_by_test_id("terminal-edit")).to_be_visible()
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["status"] == "inventory"
    screen.fits()


def test_usage_is_imported_from_a_csv_and_the_bad_row_is_reported(
    screen: Screen, ui_url: str, api: ApiClient, agent: Agent
) -> None:
    body = terminal_body(data_quota_mb=100)
    assert api.post("/v1/terminals", body, key=agent.admin_key).status == 201
    data = f"序列号,已用流量(MB),日期\r\n{body['sn']},90,2030-01-02\r\nNOSUCH-SN-1,5,2030-01-02\r\n".encode("gb18030")
    screen.sign_in(ui_url, agent.admin_key, "imports")
    page = screen.page
    page.get_by_test_id("open-usage").click()
    page.get_by_test_id("usage-file").set_input_files({"name": "usage.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_test_id("usage-submit").click()
    expect(page.get_by_test_id("usage-summary")).to_have_text(
        screen.text(
            "共 2 行：应用 1，未变 0，失败 1，流量提醒 1 条",
            "2 rows: 1 applied, 0 unchanged, 1 failed; usage alerts: 1",
        )
    )
    expect(page.get_by_test_id("usage-errors").locator("tbody tr")).to_have_count(1)
    assert api.get(f"/v1/terminals/{body['sn']}", key=agent.admin_key).json["data_used_mb"] == 90
    screen.fits()


# --- every new screen, both languages, both widths ----------------------------------------------------
SCREENS = [
    "register",
    "claim",
    "usage",
    "imports",
    "vouchers",
    "terminals",
    "orders",
    "merchants",
    "carrier",
    "keys",
    "reports",
    "plans",
    "webhooks",
]


@pytest.mark.parametrize(("width", "lang"), [(360, "zh-CN"), (360, "en"), (1440, "zh-CN"), (1440, "en")])
def test_every_new_screen_fits_the_width_in_both_languages(
    browser: Any, page_errors: PageErrors, ui_url: str, api: ApiClient, agent: Agent, width: int, lang: str
) -> None:
    w = _shops(api, agent)
    p = plan(api, agent, 5000)
    line = {"sn": w["a"]["sn"], "plan_id": p["plan_id"]}
    order = api.post("/v1/orders", {"lines": [line], "payment": "offline"}, key=agent.admin_key).json
    with checked_page(browser, page_errors, width, 800) as page:
        s = Screen(page, lang, width)
        s.sign_in(ui_url, agent.admin_key)
        # A terminal's page carries the transfer of time and the transfer code; an order's page mark-paid.
        for view in [*SCREENS, f"terminals/{w['a']['sn']}", f"orders/{order['order_id']}"]:
            s.open(ui_url, view)
            s.page.locator("main h1").first.wait_for()
            s.page.wait_for_load_state("networkidle")
            expect(s.page.get_by_test_id("nav-terminals")).to_have_text(s.text("终端", "Terminals"))
            s.fits()
        s.page.get_by_test_id("sign-out").click()
        for view in ("signup", "platform"):
            s.open(ui_url, view)
            s.page.locator("h1").first.wait_for()
            s.fits()
