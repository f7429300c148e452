"""Issue 16 in the browser (Debian chromium), in both languages at 360 px and 1440 px: the pay page shows the
agent's service phone and a recognisable masked shop name, previews the new expiry and refreshes the card
after paying; a finance key reads orders and the money reports and is told it changes nothing; codes are
shown as words (ledger kinds, audit actions, roles), English plurals are right, and a workbook imports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from simrenew.domain.dates import add_months
from tests.e2e.conftest import PageErrors, checked_page
from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body
from tests.support.sheets import workbook_bytes

SCREENS = [("zh-CN", 360), ("zh-CN", 1440), ("en", 360), ("en", 1440)]
IDS = ["zh-360", "zh-1440", "en-360", "en-1440"]
EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def shown_day(d: date, lang: str) -> str:
    """A date as the pages format it (Intl: 2027年1月5日 / Jan 5, 2027)."""
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh-CN" else f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year}"


@pytest.fixture(params=SCREENS, ids=IDS)
def screen(request: pytest.FixtureRequest, browser: Any, page_errors: PageErrors) -> Iterator[tuple[Any, str]]:
    """Each test at each of SCREENS: the page and its language."""
    lang, width = request.param
    with checked_page(browser, page_errors, width, 800 if width > 400 else 740) as page:
        yield page, lang


def no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def pay_fleet(api: ApiClient, agent: Agent) -> tuple[dict[str, Any], dict[str, Any]]:
    key = agent.admin_key
    assert api.patch("/v1/tenant", {"service_phone": "400-812-3456"}, key=key).status == 200
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 6000}, key=key
    ).json
    merchant = api.post("/v1/merchants", {"name": "深圳市福田区便利店", "phone": "13812345678"}, key=key).json
    body = terminal_body(
        merchant_id=merchant["merchant_id"], expires_on=(date.today() + timedelta(days=10)).isoformat()
    )
    return plan, api.post("/v1/terminals", body, key=key).json


def fill_card(page: Any, number: str) -> None:
    card = page.get_by_test_id("card-element")
    for name, value in {
        "number": number,
        "exp_month": "12",
        "exp_year": "34",
        "cvc": "123",
        "postal_code": "100000",
    }.items():
        card.locator(f"input[placeholder='{name}']").fill(value)


def test_the_pay_page_shows_the_phone_previews_the_expiry_and_refreshes_the_card_after_paying(
    screen: tuple[Any, str], ui_url: str, api: ApiClient, agent: Agent
) -> None:
    page, lang = screen
    plan, terminal = pay_fleet(api, agent)
    old = date.fromisoformat(terminal["expires_on"])
    new = add_months(old, plan["term_months"])
    page.goto(f"{ui_url}/pay/{terminal['sn']}?lang={lang}")

    card = page.get_by_test_id("terminal")
    card.wait_for()
    assert "深圳******店" in card.inner_text()  # first two and last character: the owner knows the shop
    phone_link = page.get_by_test_id("agent-phone")
    expect(phone_link).to_have_text("400 812 3456")
    assert phone_link.get_attribute("href") == "tel:+864008123456"
    # Before paying: each plan says what the expiry becomes, and the button's summary too.
    expect(page.get_by_test_id("plan-new-expiry").first).to_contain_text(shown_day(new, lang))
    preview = page.get_by_test_id("preview-expiry")
    expect(preview).to_contain_text(shown_day(old, lang))
    expect(preview).to_contain_text(shown_day(new, lang))
    assert no_horizontal_overflow(page)

    page.get_by_test_id("continue").click()
    page.get_by_test_id("card-element").locator("input").first.wait_for()
    fill_card(page, "4242424242424242")
    page.get_by_test_id("pay").click()
    page.get_by_test_id("done").wait_for(timeout=30_000)
    expect(page.get_by_test_id("new-expiry")).to_contain_text(shown_day(new, lang))
    # The card beside it says the new expiry too, not the old one.
    expect(page.get_by_test_id("expires-on")).to_contain_text(shown_day(new, lang))
    assert shown_day(old, lang) not in page.get_by_test_id("terminal").inner_text()
    assert no_horizontal_overflow(page)


def sign_in(page: Any, ui_url: str, key: str, lang: str, view: str | None = None) -> None:
    """Signed in with `key` on the dashboard, then on `view` if one is given."""
    page.goto(f"{ui_url}/?lang={lang}#/dashboard")
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("sign-out").wait_for()
    if view is not None:
        open_view(page, view)


def open_view(page: Any, view: str) -> None:
    """Navigate inside the console (the menu is folded on a phone)."""
    if page.get_by_test_id("menu-toggle").is_visible():
        page.get_by_test_id("menu-toggle").click()
    page.get_by_test_id(f"nav-{view}").click()


def paid_cash_order(api: ApiClient, agent: Agent, months: int = 1) -> dict[str, Any]:
    key = agent.admin_key
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": months, "data_quota_mb": 100, "price_fen": 990}, key=key
    ).json
    t = api.post("/v1/terminals", terminal_body(), key=key).json
    order = api.post(
        "/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}], "payment": "offline"}, key=key
    ).json
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "现金"}, key=key).status == 200
    return {"sn": t["sn"], "order_id": order["order_id"]}


def test_a_finance_key_reads_orders_and_the_money_reports_and_is_told_it_changes_nothing(
    screen: tuple[Any, str], ui_url: str, api: ApiClient, agent: Agent
) -> None:
    page, lang = screen
    made = paid_cash_order(api, agent)
    sign_in(page, ui_url, agent.key(api, "finance"), lang)
    expect(page.get_by_test_id("session-role")).to_have_text("财务" if lang == "zh-CN" else "Finance")
    expect(page.get_by_test_id("finance-banner")).to_contain_text("财务密钥" if lang == "zh-CN" else "Finance key")

    open_view(page, "orders")
    expect(page.get_by_text(made["order_id"])).to_be_visible()
    page.goto(f"{ui_url}/?lang={lang}#/orders/{made['order_id']}")
    audit = page.get_by_test_id("audit-action")
    expect(audit.first).to_be_visible()
    texts = audit.all_inner_texts()
    assert ("标记线下收款" if lang == "zh-CN" else "Marked paid (cash)") in texts, texts
    assert "mark_paid" not in page.locator("main").inner_text()

    open_view(page, "reports")
    main = page.locator("main")
    expect(main).to_contain_text("结算报表" if lang == "zh-CN" else "Settlement")
    expect(main).to_contain_text("¥9.90")
    assert no_horizontal_overflow(page)


def test_an_admin_creates_a_finance_key_and_codes_are_shown_as_words(
    screen: tuple[Any, str], ui_url: str, api: ApiClient, agent: Agent
) -> None:
    page, lang = screen
    made = paid_cash_order(api, agent, months=1)
    sign_in(page, ui_url, agent.admin_key, lang, "keys")
    page.get_by_test_id("key-role").select_option("finance")
    page.get_by_test_id("key-label").fill("会计")
    page.get_by_test_id("key-submit").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("财务" if lang == "zh-CN" else "Finance")
    key = page.get_by_test_id("new-key-value").input_value()
    assert api.get("/v1/me", key=key).json["role"] == "finance"

    # The terminal's ledger says what happened in words, not "renewal".
    page.goto(f"{ui_url}/?lang={lang}#/terminals/{made['sn']}")
    kind = page.get_by_test_id("renewal-kind").first
    expect(kind).to_have_text("续费" if lang == "zh-CN" else "Renewal")
    # English plurals: a one-month plan is "1 month", not "1 months".
    open_view(page, "plans")
    expect(page.locator("main")).to_contain_text("1 个月" if lang == "zh-CN" else "1 month")
    assert "1 months" not in page.locator("main").inner_text()
    assert no_horizontal_overflow(page)


def test_a_workbook_imports_from_the_console_with_its_count_labelled_and_the_sticker_shows_the_phone(
    screen: tuple[Any, str], ui_url: str, api: ApiClient, agent: Agent
) -> None:
    page, lang = screen
    assert api.patch("/v1/tenant", {"service_phone": "13900001111"}, key=agent.admin_key).status == 200
    rows = [terminal_body() for _ in range(3)]
    expiry = datetime.combine(date.today() + timedelta(days=60), datetime.min.time())
    data = workbook_bytes(
        [[r["sn"], r["tid"], r["iccid"], None, "PAX A920", None, None, None, expiry, None] for r in rows]
    )
    sign_in(page, ui_url, agent.admin_key, lang, "imports")
    page.get_by_test_id("import-file").set_input_files(
        {
            "name": "终端清单.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": data,
        }
    )
    page.get_by_test_id("import-start").click()
    expect(page.get_by_test_id("import-status")).to_have_text("已完成" if lang == "zh-CN" else "Done", timeout=60_000)
    counts = page.get_by_test_id("import-counts")
    expect(page.get_by_test_id("import-created")).to_have_text("3")
    assert ("新增" if lang == "zh-CN" else "Created") in counts.inner_text()
    assert "创建时间" not in counts.inner_text()
    assert api.get(f"/v1/terminals/{rows[0]['sn']}", key=agent.admin_key).json["model"] == "PAX A920"

    page.goto(f"{ui_url}/?lang={lang}#/stickers?sns={rows[0]['sn']}")
    expect(page.get_by_test_id("sticker-phone")).to_contain_text("139 0000 1111")
    assert no_horizontal_overflow(page)
