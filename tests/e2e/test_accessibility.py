"""Accessibility a user notices: every control has a name a screen reader reads, the pay page
works from the keyboard alone, and no page scrolls sideways from 360 px to 1920 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body

# Controls without an accessible name: no <label>, aria-label or aria-labelledby.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.offsetParent !== null)
  .filter(el => {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim()) || el.title;
    return !named;
  })
  .map(el => el.outerHTML.slice(0, 120))"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
CONSOLE_VIEWS = (
    *("dashboard", "terminals", "merchants", "imports", "plans", "orders"),
    *("vouchers", "settings", "keys", "webhooks", "reports", "carrier"),
)


def test_every_pay_page_control_is_named_and_the_look_up_works_from_the_keyboard(
    ui_url: str, phone: Any, api: ApiClient, agent: Agent
) -> None:
    plan = {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 6000}
    assert api.post("/v1/plans", plan, key=agent.admin_key).status == 201
    sn = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json["sn"]
    phone.goto(f"{ui_url}/pay")
    for _ in range(4):  # language switch, then the SN field
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.id") == "sn":
            break
    assert phone.evaluate("document.activeElement.id") == "sn"
    phone.keyboard.type(sn)
    phone.keyboard.press("Enter")
    phone.get_by_test_id("terminal").wait_for()
    assert phone.evaluate(UNLABELLED) == []
    phone.get_by_test_id("continue").focus()
    phone.keyboard.press("Enter")
    phone.get_by_test_id("card-element").locator("input").first.wait_for()
    assert phone.evaluate(UNLABELLED) == []


@pytest.mark.parametrize("width", [360, 768, 1920])
def test_no_page_scrolls_sideways(ui_url: str, browser: Any, api: ApiClient, agent: Agent, width: int) -> None:
    sn = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json["sn"]
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    try:
        page.goto(f"{ui_url}/pay/{sn}")
        page.get_by_test_id("terminal").wait_for()
        assert page.evaluate(OVERFLOW) <= 0, "pay page"
        page.goto(f"{ui_url}/")
        page.get_by_test_id("api-key-input").fill(agent.admin_key)
        page.get_by_test_id("sign-in").click()
        page.get_by_test_id("dashboard-title").wait_for()
        for view in CONSOLE_VIEWS:
            page.goto(f"{ui_url}/#/{view}")
            page.wait_for_load_state("networkidle")
            assert page.evaluate(OVERFLOW) <= 0, view
            assert page.evaluate(UNLABELLED) == [], view
    finally:
        page.context.close()
