"""The agent console in a browser: sign-in, CSV import with progress and row errors, language
switch, dashboard counts, fleet search and stickers, orders in yuan, roles, and a 360 px screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.console_helpers import csv_with_bad_row, fleet, go, page_width, plan, sign_in
from tests.support.builders import Agent
from tests.support.client import ApiClient


def test_an_agent_signs_in_imports_a_csv_with_a_bad_row_and_sees_progress_reach_100_and_the_row_error(
    desktop: Any, ui_url: str, agent: Agent, tmp_path: Path
) -> None:
    page = desktop
    sign_in(page, ui_url, agent.admin_key)
    expect(page.get_by_test_id("agent-name")).to_contain_text("测试代理商")
    # The key lives in sessionStorage only, never in the address.
    assert agent.admin_key not in page.url
    assert page.evaluate("JSON.parse(sessionStorage.getItem('simrenew.console.session')).key") == agent.admin_key
    assert agent.admin_key not in (page.evaluate("JSON.stringify(localStorage)") or "")

    page.get_by_test_id("nav-imports").click()
    expect(page.get_by_test_id("import-header")).to_have_text(
        "sn,tid,iccid,carrier,model,merchant_name,merchant_phone,plan_name,expires_on,data_quota_mb"
    )
    data, good, bad_line = csv_with_bad_row()
    page.get_by_test_id("import-file").set_input_files({"name": "fleet.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_test_id("import-start").click()

    expect(page.get_by_test_id("import-progress-text")).to_have_text("4 / 4", timeout=60_000)
    expect(page.get_by_test_id("import-percent")).to_have_text("(100%)")
    expect(page.get_by_test_id("import-status")).to_have_text("已完成")
    bar = page.get_by_test_id("import-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "4"
    expect(page.get_by_test_id("import-created")).to_have_text("3")
    expect(page.get_by_test_id("import-failed")).to_have_text("1")
    error_row = page.get_by_test_id("import-error-row")
    expect(error_row).to_have_count(1)
    expect(error_row.get_by_test_id("import-error-rowno")).to_have_text(str(bad_line))
    expect(error_row.get_by_test_id("import-error-field")).to_have_text("iccid")
    expect(error_row).to_contain_text("ICCID 校验位错误")

    with page.expect_download() as dl:
        page.get_by_test_id("import-error-report").click()
    saved = tmp_path / "errors.csv"
    dl.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads Chinese"
    lines = raw.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "row,field,code,message"
    assert lines[1].startswith(f"{bad_line},iccid,iccid_checksum,")

    # The good rows are in the fleet: the search finds one.
    page.get_by_test_id("nav-terminals").click()
    page.get_by_test_id("terminal-search").fill(good[1]["sn"])
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    expect(page.get_by_test_id("terminal-link")).to_have_text(good[1]["sn"])


def test_switching_language_relabels_the_dashboard_and_the_choice_survives_a_reload(
    desktop: Any, ui_url: str, agent: Agent
) -> None:
    page = desktop
    sign_in(page, ui_url, agent.admin_key)
    expect(page.get_by_test_id("label-active")).to_have_text("正常使用")
    expect(page.get_by_test_id("label-expiring_7")).to_have_text("7 天内到期")
    expect(page.get_by_test_id("nav-terminals")).to_have_text("终端")

    page.get_by_test_id("lang-switch").select_option("en")
    expect(page.get_by_test_id("label-active")).to_have_text("Active")
    expect(page.get_by_test_id("label-expiring_7")).to_have_text("Expiring in 7 days")
    expect(page.get_by_test_id("label-revenue")).to_have_text("Net revenue this month")
    expect(page.get_by_test_id("nav-terminals")).to_have_text("Terminals")
    assert page.evaluate("document.documentElement.lang") == "en"

    page.reload()
    expect(page.get_by_test_id("label-active")).to_have_text("Active")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Dashboard")
    assert page.evaluate("document.documentElement.lang") == "en"

    page.get_by_test_id("lang-switch").select_option("zh-CN")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("概览")


def test_the_dashboard_counts_match_the_fleet_and_the_search_and_sticker_sheet_find_a_terminal(
    desktop: Any, ui_url: str, agent: Agent, api: ApiClient
) -> None:
    page = desktop
    made = fleet(api, agent)
    sign_in(page, ui_url, agent.admin_key)
    expected = {"active": "3", "expiring_7": "1", "expiring_30": "2", "grace": "1", "suspended": "1", "inventory": "1"}
    for name, value in expected.items():
        expect(page.get_by_test_id(f"count-{name}")).to_have_text(value)
    expect(page.get_by_test_id("revenue-month")).to_have_text("¥0.00")
    chart = page.get_by_test_id("dashboard-chart")
    expect(chart.locator("svg[role=img]")).to_have_attribute("aria-label", re.compile(r"\b3\b"))
    expect(page.get_by_test_id("chart-table").locator("tbody tr")).to_have_count(12)

    # A dashboard card opens the fleet filtered to it.
    page.get_by_test_id("count-grace").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    expect(page.get_by_test_id("terminal-link")).to_have_text(made["grace"][0]["sn"])

    target = made["active"][1]
    page.get_by_test_id("nav-terminals").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(6)  # the unfiltered view is on screen
    page.get_by_test_id("terminal-search").fill(target["tid"])
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    page.get_by_test_id(f"select-{target['sn']}").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("已选 1 台")
    page.get_by_test_id("print-stickers").click()
    sticker = page.get_by_test_id("sticker")
    expect(sticker).to_have_count(1)
    expect(sticker.get_by_test_id("sticker-sn")).to_have_text(target["sn"])
    expect(sticker.get_by_test_id("sticker-tid")).to_have_text(target["tid"])
    qr = sticker.get_by_test_id("sticker-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())

    page.get_by_role("link", name="返回终端列表").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(6)
    page.get_by_test_id("terminal-search").fill(target["sn"])
    page.get_by_test_id("terminal-search-submit").click()
    expect(page.get_by_test_id("terminal-row")).to_have_count(1)
    page.get_by_test_id("terminal-link").click()
    expect(page.get_by_test_id("terminal-tid")).to_have_text(target["tid"])
    expect(page.get_by_test_id("renewals-table")).to_be_visible()
    expect(page.get_by_test_id("notifications-table")).to_be_visible()


def test_an_offline_order_is_marked_paid_and_refunded_in_yuan_after_a_confirm_step(
    desktop: Any, ui_url: str, agent: Agent, api: ApiClient
) -> None:
    page = desktop
    plan(api, agent, price_fen=9900)
    target = fleet(api, agent)["active"][2]
    sign_in(page, ui_url, agent.admin_key)
    go(page, ui_url, f"terminals/{target['sn']}")
    page.get_by_test_id("order-create").click()
    page.get_by_test_id("order-created").get_by_role("link").click()

    expect(page.get_by_test_id("order-amount")).to_have_text("¥99.00")
    page.get_by_test_id("mark-paid-note").fill("现金 收款人 王五")
    page.get_by_test_id("mark-paid-submit").click()
    expect(page.get_by_test_id("order-status")).to_have_text("待支付")  # nothing happens before the confirm
    page.get_by_test_id("mark-paid-submit").click()
    expect(page.get_by_test_id("order-status")).to_have_text("已完成")

    page.get_by_test_id("refund-amount").fill("12.34")
    page.get_by_test_id("refund-reason").fill("商户多付")
    page.get_by_test_id("refund-submit").click()
    expect(page.get_by_test_id("refund-question")).to_contain_text("¥12.34")
    page.get_by_test_id("refund-submit").click()
    expect(page.get_by_test_id("order-status")).to_have_text("部分退款")
    expect(page.get_by_test_id("order-refunded")).to_have_text("¥12.34")
    order_id = page.url.rsplit("/", 1)[-1]
    assert api.get(f"/v1/orders/{order_id}", key=agent.admin_key).json["refunded_fen"] == 1234


def test_a_readonly_key_is_told_clearly_when_it_tries_to_write(
    desktop: Any, ui_url: str, agent: Agent, api: ApiClient
) -> None:
    page = desktop
    page.goto(f"{ui_url}/")
    page.get_by_test_id("api-key-input").fill("srk_k_0000000000000000_" + "x" * 43)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("error-api-key")).to_have_text("API 密钥无效，请检查后重新粘贴。")

    sign_in(page, ui_url, agent.key(api, "readonly"))
    expect(page.get_by_test_id("agent-name")).to_have_text(api.get("/v1/me", key=agent.admin_key).json["agent_name"])
    expect(page.get_by_test_id("session-role")).to_have_text("只读")
    expect(page.get_by_test_id("readonly-banner")).to_be_visible()
    page.get_by_test_id("nav-plans").click()
    expect(page.get_by_test_id("admin-only")).to_be_visible()
    expect(page.get_by_test_id("plan-form")).to_have_count(0)

    # No import form to fail with 403: the page says so, and the templates are still offered.
    page.get_by_test_id("nav-imports").click()
    expect(page.get_by_test_id("import-readonly")).to_contain_text("只能查看")
    expect(page.get_by_test_id("import-form")).to_have_count(0)
    expect(page.get_by_test_id("import-template")).to_be_visible()

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("api-key-input")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('simrenew.console.session')") is None


def test_every_view_fits_a_360px_screen_without_horizontal_scrolling(
    phone: Any, ui_url: str, agent: Agent, api: ApiClient
) -> None:
    page = phone
    made = fleet(api, agent)
    page.goto(f"{ui_url}/")
    assert page_width(page) <= 360, "sign-in page"
    sign_in(page, ui_url, agent.admin_key)
    expect(page.get_by_test_id("count-active")).to_have_text("3")
    sn = made["active"][0]["sn"]
    views = {
        "dashboard": "view-dashboard",
        "terminals": "view-terminals",
        f"terminals/{sn}": "view-terminal",
        "imports": "view-imports",
        "orders": "view-orders",
        "plans": "view-plans",
        "vouchers": "view-vouchers",
        "reports": "view-reports",
        "settings": "view-settings",
        "keys": "view-keys",
        "webhooks": "view-webhooks",
        "carrier": "view-carrier",
        f"stickers?sns={sn}": "view-stickers",
    }
    for view, testid in views.items():
        go(page, ui_url, view)
        expect(page.get_by_test_id(testid)).to_be_visible()
        expect(page.get_by_test_id("loading")).to_have_count(0)  # its data is on screen
        page.wait_for_load_state("networkidle")
        assert page_width(page) <= 360, f"#{view} is {page_width(page)} px wide"
    expect(page.get_by_test_id("sticker-qr")).to_be_visible()
    assert page_width(page) <= 360

    # The navigation collapses into a menu button.
    nav = page.get_by_test_id("nav-orders")
    expect(nav).to_be_hidden()
    page.get_by_test_id("menu-toggle").click()
    nav.click()
    expect(page.get_by_test_id("view-orders")).to_be_visible()
    assert page_width(page) <= 360


def test_an_agent_adds_and_edits_a_merchant_and_a_readonly_key_cannot(
    desktop: Any, ui_url: str, agent: Agent, api: ApiClient
) -> None:
    page = desktop
    sign_in(page, ui_url, agent.admin_key)
    page.get_by_test_id("nav-merchants").click()
    form = page.get_by_test_id("merchant-form")
    form.get_by_test_id("merchant-name").fill("东街便利店")
    form.get_by_test_id("merchant-phone").fill("12345")
    form.get_by_test_id("merchant-submit").click()
    expect(form.get_by_test_id("merchant-phone")).to_have_attribute("aria-invalid", "true")  # named next to it
    form.get_by_test_id("merchant-phone").fill("13812349999")
    form.get_by_test_id("merchant-submit").click()
    row = page.get_by_test_id("merchant-row").filter(has_text="东街便利店")
    expect(row).to_contain_text("+8613812349999")

    row.get_by_test_id("merchant-edit").click()
    edit = page.get_by_test_id("merchant-edit-form")
    edit.get_by_test_id("merchant-email").fill("east@example.com")
    edit.get_by_test_id("merchant-submit").click()
    expect(page.get_by_test_id("merchant-row").filter(has_text="东街便利店")).to_contain_text("east@example.com")
    stored = api.get("/v1/merchants", key=agent.admin_key).json["items"]
    expected = [("东街便利店", "+8613812349999", "east@example.com")]
    assert [(m["name"], m["phone"], m["email"]) for m in stored] == expected

    page.get_by_test_id("sign-out").click()
    sign_in(page, ui_url, agent.key(api, "readonly"))
    go(page, ui_url, "merchants")
    expect(page.get_by_test_id("merchant-row")).to_have_count(1)
    expect(page.get_by_test_id("staff-only")).to_be_visible()
    expect(page.get_by_test_id("merchant-edit")).to_have_count(0)
