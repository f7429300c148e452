"""The pay page paying straight to the agent's WeChat Pay / Alipay account (the platform as 服务商 /
ISV), against the local WeChat Pay platform and Alipay gateway: a desktop scans the QR, a phone
browser goes to the rail's own page (its "pay" and "fail" buttons) and comes back."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from simrenew.domain.dates import add_months
from tests.e2e.conftest import CHROMIUM_FLAGS, PageErrors  # noqa: F401
from tests.e2e.test_pay_page import fleet, zh_day
from tests.support.builders import Agent
from tests.support.client import ApiClient

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def renewal(api: ApiClient, agent: Agent, alipay_base: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The agent onboarded on both rails, and its plan and terminal to renew."""
    token = requests.post(f"{alipay_base}/_sim/app_auth_tokens", timeout=10).json()["app_auth_token"]
    body = {"settings": {"wechatpay_sub_mchid": str(random.randrange(10**9, 10**10)), "alipay_app_auth_token": token}}
    assert api.patch("/v1/tenant", body, key=agent.admin_key).status == 200
    return fleet(api, agent)


def choose(page: Any, label: str) -> None:
    """On the pay page: the rail labelled `label`, then continue."""
    page.get_by_test_id("terminal").wait_for()
    page.get_by_text(label, exact=True).click()
    page.get_by_test_id("continue").click()


def renewed(page: Any, plan: dict[str, Any], terminal: dict[str, Any]) -> bool:
    """The pay page says it is done and shows the terminal's new expiry."""
    page.get_by_test_id("done").wait_for(timeout=30_000)
    new = add_months(date.fromisoformat(terminal["expires_on"]), plan["term_months"])
    return zh_day(new) in page.get_by_test_id("new-expiry").inner_text()


@pytest.fixture
def mobile(browser: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A phone browser (not WeChat's): the rails' H5 / WAP pages."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, user_agent=IPHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
    yield page
    context.close()
    assert not page_errors, page_errors


@pytest.fixture
def rail_bases(wechatpay_base: str, alipay_base: str) -> dict[str, str]:
    """The pay page's method -> its local platform's address."""
    return {"wechat_pay": wechatpay_base, "alipay": alipay_base}


def latest_trade(api: ApiClient, agent: Agent) -> tuple[str, str]:
    order = api.get("/v1/orders", key=agent.admin_key).json["items"][0]
    full = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    return full["order_id"], full["payment_attempts"][-1]["out_trade_no"]


@pytest.mark.parametrize(("method", "label"), [("wechat_pay", "微信支付"), ("alipay", "支付宝")])
def test_a_desktop_scans_the_qr_and_the_page_shows_the_renewal(
    method: str, label: str, ui_url: str, desktop: Any, api: ApiClient, agent: Agent, renewal: Any, rail_bases: Any
) -> None:
    plan, terminal = renewal
    desktop.goto(f"{ui_url}/pay/{terminal['sn']}")
    choose(desktop, label)
    qr = desktop.get_by_test_id("qr")
    qr.wait_for()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert label in desktop.get_by_test_id("qr-pay").inner_text()
    _order_id, otn = latest_trade(api, agent)
    base = rail_bases[method]
    assert requests.post(f"{base}/_sim/transactions/{otn}/pay", timeout=30).status_code == 200  # the phone pays
    assert renewed(desktop, plan, terminal)
    # The agent's settlement shows the payment as direct (paid to the agent, not in payable).
    from tests.e2e.console_helpers import go, sign_in

    sign_in(desktop, ui_url, agent.admin_key)
    go(desktop, ui_url, "reports")
    total = desktop.get_by_test_id("settlement-total")
    total.wait_for()
    table = desktop.get_by_test_id("settlement-table")
    assert "直连收款（微信支付/支付宝）" in table.inner_text()
    headers = table.locator("thead th").all_inner_texts()
    cells = total.locator("td").all_inner_texts()
    assert cells[headers.index("直连收款（微信支付/支付宝）") - 1] == "¥60.00", (headers, cells)
    assert cells[headers.index("应结算") - 1] == "¥0.00", (headers, cells)


@pytest.mark.parametrize(("method", "label"), [("wechat_pay", "微信支付"), ("alipay", "支付宝")])
def test_a_phone_goes_to_the_rails_page_pays_and_comes_back_renewed(
    method: str, label: str, ui_url: str, mobile: Any, renewal: Any, rail_bases: Any
) -> None:
    plan, terminal = renewal
    mobile.goto(f"{ui_url}/pay/{terminal['sn']}")
    choose(mobile, label)
    mobile.wait_for_url(f"{rail_bases[method]}/**")
    assert "60.00" in mobile.get_by_test_id("sim-amount").inner_text()
    assert mobile.get_by_test_id("sim-fail").is_visible()
    mobile.get_by_test_id("sim-pay").click()
    mobile.wait_for_url(f"{ui_url}/pay/**")
    assert renewed(mobile, plan, terminal)


def test_a_phone_payment_that_fails_on_wechat_pays_page_says_so_and_charges_nothing(
    ui_url: str, mobile: Any, api: ApiClient, agent: Agent, wechatpay_base: str, renewal: Any
) -> None:
    _plan, terminal = renewal
    mobile.goto(f"{ui_url}/pay/{terminal['sn']}")
    choose(mobile, "微信支付")
    mobile.wait_for_url(f"{wechatpay_base}/**")
    mobile.get_by_test_id("sim-fail").click()
    mobile.wait_for_url(f"{ui_url}/pay/**")
    notice = mobile.get_by_test_id("notice")
    notice.wait_for(timeout=30_000)
    assert "支付失败，未扣款" in notice.inner_text()
    order_id, otn = latest_trade(api, agent)
    assert api.get(f"/v1/orders/{order_id}", key=agent.admin_key).json["status"] == "failed"
    assert requests.get(f"{wechatpay_base}/_sim/transactions/{otn}", timeout=10).json()["trade_state"] == "PAYERROR"
    assert api.get(f"/v1/terminals/{terminal['sn']}", key=agent.admin_key).json["expires_on"] == terminal["expires_on"]


WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin"
)
# WeChat's in-app bridge, as the page meets it inside WeChat: it records what it was asked to pay.
BRIDGE = """
window.__paid = [];
window.WeixinJSBridge = { invoke: function (name, params, done) {
  window.__paid.push({ name: name, params: params });
  setTimeout(function () { done({ err_msg: "get_brand_wcpay_request:ok" }); }, 50);
} };
"""


def test_inside_wechat_the_page_gets_the_openid_and_pays_through_the_bridge(
    ui_url: str, browser: Any, page_errors: PageErrors, api: ApiClient, agent: Agent, wechatpay_base: str, renewal: Any
) -> None:
    plan, terminal = renewal
    context = browser.new_context(viewport={"width": 375, "height": 740}, user_agent=WECHAT_UA, locale="zh-CN")
    context.add_init_script(BRIDGE)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
    try:
        page.goto(f"{ui_url}/pay/{terminal['sn']}")
        choose(page, "微信支付")
        # The silent OAuth round trip (snsapi_base) brings the page back with ?code=…
        page.wait_for_url("**/pay/**code=**")
        choose(page, "微信支付")
        page.get_by_test_id("waiting").wait_for()
        paid = page.evaluate("window.__paid")
        assert paid[0]["name"] == "getBrandWCPayRequest"
        params = paid[0]["params"]
        assert params["package"].startswith("prepay_id=wx") and params["signType"] == "RSA" and params["paySign"]
        _order_id, otn = latest_trade(api, agent)
        assert otn.endswith("_wj")
        assert requests.post(f"{wechatpay_base}/_sim/transactions/{otn}/pay", timeout=30).status_code == 200
        assert renewed(page, plan, terminal)
    finally:
        context.close()
    assert not page_errors, page_errors


def test_the_agent_onboards_both_rails_in_the_console_and_the_token_is_never_shown(
    ui_url: str, desktop: Any, api: ApiClient, agent: Agent, alipay_base: str
) -> None:
    from tests.e2e.console_helpers import go, sign_in

    token = requests.post(f"{alipay_base}/_sim/app_auth_tokens", timeout=10).json()
    sign_in(desktop, ui_url, agent.admin_key)
    go(desktop, ui_url, "settings")
    form = desktop.get_by_test_id("rails-form")
    form.wait_for()
    assert "未设置" in desktop.get_by_test_id("rails-alipay-state").inner_text()
    desktop.get_by_test_id("rails-sub-mchid").fill("1900000109")
    desktop.get_by_test_id("rails-alipay-token").fill(token["app_auth_token"])
    form.locator("button[type=submit]").click()
    state = desktop.get_by_test_id("rails-alipay-state")
    desktop.wait_for_function(
        "id => document.querySelector('[data-testid=rails-alipay-state]').innerText.includes(id)",
        arg=token["auth_app_id"],
    )
    assert "已设置" in state.inner_text()
    assert desktop.get_by_test_id("rails-alipay-token").input_value() == ""
    assert token["app_auth_token"] not in desktop.content()
    got = api.get("/v1/tenant", key=agent.admin_key).json
    assert got["direct_rails"] == ["wechatpay", "alipay"]
    # A token Alipay does not know is refused in the merchant's words, and nothing changes.
    desktop.get_by_test_id("rails-alipay-token").fill("202612BB2021000000000999" + "0" * 24)
    form.locator("button[type=submit]").click()
    form.locator("[role=alert], .error").first.wait_for()
    assert api.get("/v1/tenant", key=agent.admin_key).json["settings"]["alipay_auth_app_id"] == token["auth_app_id"]
