"""The merchant pay page in a 360 px phone screen, against the local stack: look up, pay by
card through localstripe's Stripe.js and its signed webhook, see the new expiry; a declined
card; a voucher; plain-words errors; the language switch."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from simrenew.domain.dates import add_months
from tests.support.builders import Agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body

ZH_MONTH_DAY = "{y}年{m}月{d}日"


def zh_day(d: date) -> str:
    return ZH_MONTH_DAY.format(y=d.year, m=d.month, d=d.day)


def fleet(api: ApiClient, agent: Agent, months: int = 12) -> tuple[dict[str, Any], dict[str, Any]]:
    key = agent.admin_key
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": months, "data_quota_mb": 1024, "price_fen": 6000}, key=key
    ).json
    merchant = api.post("/v1/merchants", {"name": "张记便利店", "phone": "13812345678"}, key=key).json
    expires = (date.today() + timedelta(days=10)).isoformat()
    body = terminal_body(merchant_id=merchant["merchant_id"], expires_on=expires)
    terminal = api.post("/v1/terminals", body, key=key).json
    assert terminal.get("sn"), terminal
    return plan, terminal


def open_pay_page(phone: Any, ui_url: str, api: ApiClient, agent: Agent) -> dict[str, Any]:
    """The pay page of a new terminal of the agent (a 12-month plan to renew it with) open on the
    phone: the terminal."""
    _, terminal = fleet(api, agent)
    phone.goto(f"{ui_url}/pay/{terminal['sn']}")
    return terminal


def fill_card(page: Any, number: str) -> None:
    card = page.get_by_test_id("card-element")
    fields = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123", "postal_code": "100000"}
    for name, value in fields.items():
        card.locator(f"input[placeholder='{name}']").fill(value)


def no_horizontal_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_merchant_pays_by_card_from_the_qr_link_and_sees_the_new_expiry(
    ui_url: str, phone: Any, api: ApiClient, agent: Agent
) -> None:
    plan, terminal = fleet(api, agent)
    old = date.fromisoformat(terminal["expires_on"])

    phone.goto(f"{ui_url}/pay/{terminal['sn']}")

    card = phone.get_by_test_id("terminal")
    card.wait_for()
    assert terminal["sn"] in card.inner_text() and zh_day(old) in card.inner_text()
    assert phone.get_by_test_id("status").inner_text() == "正常"
    assert "合计 ¥60.00" in phone.get_by_test_id("plan").first.inner_text()
    assert no_horizontal_overflow(phone)
    phone.get_by_test_id("continue").click()
    phone.get_by_test_id("card-element").locator("input").first.wait_for()
    # A declined card is explained and the merchant can pay again on the same order.
    fill_card(phone, "4000000000000002")
    phone.get_by_test_id("pay").click()
    error = phone.get_by_test_id("pay-error")
    error.wait_for()
    assert "银行卡被拒绝，未扣款" in error.inner_text()
    fill_card(phone, "4242424242424242")
    phone.get_by_test_id("pay").click()
    # A weak connection drops and the merchant reloads while the payment is confirmed:
    # the page picks the order up again instead of offering to pay twice.
    phone.get_by_test_id("waiting").wait_for()
    phone.reload()

    done = phone.get_by_test_id("done")
    done.wait_for(timeout=30_000)
    new = add_months(old, plan["term_months"])
    assert zh_day(new) in phone.get_by_test_id("new-expiry").inner_text()
    assert api.get(f"/v1/terminals/{terminal['sn']}", key=agent.admin_key).json["expires_on"] == new.isoformat()
    orders = api.get("/v1/orders?status=fulfilled", key=agent.admin_key).json["items"]
    assert [o["amount_fen"] for o in orders] == [6000]
    assert no_horizontal_overflow(phone)


def test_a_merchant_redeems_a_voucher_instead_of_paying(ui_url: str, phone: Any, api: ApiClient, agent: Agent) -> None:
    plan, terminal = fleet(api, agent, months=6)
    batch = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key)
    codes = batch.json["codes"]
    phone.goto(f"{ui_url}/pay/{terminal['tid']}")  # the terminal number works as well as the SN
    phone.get_by_test_id("terminal").wait_for()
    phone.get_by_test_id("voucher").locator("summary").click()

    phone.get_by_test_id("voucher-input").fill("ABCD-EFGH-JKLM-NPQ2")
    phone.get_by_test_id("redeem").click()
    assert "兑换码无效" in phone.get_by_test_id("voucher-error").inner_text()
    phone.get_by_test_id("voucher-input").fill(codes[0].lower())
    phone.get_by_test_id("redeem").click()

    new = add_months(date.fromisoformat(terminal["expires_on"]), 6)
    notice = phone.get_by_test_id("notice")
    notice.wait_for()
    assert "兑换成功" in notice.inner_text() and zh_day(new) in notice.inner_text()
    phone.wait_for_function(
        "t => document.querySelector('[data-testid=expires-on]').innerText.includes(t)", arg=zh_day(new)
    )
    assert api.get(f"/v1/terminals/{terminal['sn']}", key=agent.admin_key).json["expires_on"] == new.isoformat()


def test_an_unknown_terminal_is_explained_in_plain_words(ui_url: str, phone: Any) -> None:
    phone.goto(f"{ui_url}/pay")
    phone.get_by_label("终端序列号 (SN) 或终端号 (TID)").fill("NO-SUCH-TERMINAL-1")
    phone.get_by_test_id("find").click()
    error = phone.get_by_test_id("error")
    error.wait_for()
    assert "没有找到这台终端" in error.inner_text()
    assert phone.get_by_test_id("sn-input").input_value() == "NO-SUCH-TERMINAL-1"


def test_the_language_switch_changes_every_label_and_is_remembered(
    ui_url: str, phone: Any, api: ApiClient, agent: Agent
) -> None:
    terminal = open_pay_page(phone, ui_url, api, agent)
    phone.get_by_test_id("terminal").wait_for()
    assert phone.locator("h1").inner_text() == "流量卡续费"

    phone.get_by_test_id("lang-switch").click()

    assert phone.locator("h1").inner_text() == "Data SIM renewal"
    assert phone.get_by_test_id("status").inner_text() == "Active"
    assert re.search(r"Total ¥60\.00", phone.get_by_test_id("plan").first.inner_text())
    assert phone.evaluate("document.documentElement.lang") == "en"
    phone.reload()
    phone.get_by_test_id("terminal").wait_for()
    assert phone.locator("h1").inner_text() == "Data SIM renewal"
    expires = date.fromisoformat(terminal["expires_on"])
    assert expires.strftime("%b") in phone.get_by_test_id("expires-on").inner_text()


def test_a_wallet_the_local_stripe_cannot_do_is_refused_in_plain_words(
    ui_url: str, phone: Any, api: ApiClient, agent: Agent
) -> None:
    open_pay_page(phone, ui_url, api, agent)
    phone.get_by_label("支付宝").check()
    phone.get_by_test_id("continue").click()
    notice = phone.get_by_test_id("notice")
    notice.wait_for()
    assert "暂时无法使用这种支付方式" in notice.inner_text()
    assert phone.get_by_test_id("continue").is_enabled()  # the merchant can choose the card instead
