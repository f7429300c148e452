"""The WeChat Pay (APIv3 partner) and Alipay (ISV) adapters against the documented request, answer
and notification shapes, with keys made here: what goes out is what the platforms document, and
what comes in is believed only when its signature (and, for WeChat Pay, its encryption) holds."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses

from infra.local_rails import new_key_pem, private_key, public_key, public_pem, rsa_sign, rsa_verify
from infra.local_wechatpay import encrypted, signed_headers
from simrenew.adapters import alipay as ali
from simrenew.adapters import wechatpay as wx
from simrenew.adapters.payments import Prepay, SubMerchant, TradeRef
from simrenew.errors import AuthenticationError, ProviderUnavailable, RuleViolation

MERCHANT = new_key_pem()
PLATFORM = new_key_pem()
APIV3 = "0123456789abcdef0123456789abcdef"
BASE = "https://api.mch.weixin.qq.com"


def wx_keys() -> wx.WeChatPayKeys:
    return wx.WeChatPayKeys.from_json(
        {
            "sp_mchid": "1900000100",
            "sp_appid": "wx8888888888888888",
            "apiv3_key": APIV3,
            "private_key": MERCHANT,
            "cert_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
            "public_key": public_pem(PLATFORM),
            "public_key_id": "PUB_KEY_ID_0114232134912410000000000000",
            "sp_appsecret": "s3cr3t",
        }
    )


def gateway() -> wx.WeChatPayGateway:
    keys = wx_keys()
    return wx.WeChatPayGateway(lambda: keys, "https://example.com/webhooks/wechatpay")


def signed(body: str, *, stamp: int | None = None, serial: str | None = None) -> dict[str, str]:
    """Signed as the platform signs (infra/local_wechatpay.py), with its key here."""
    return signed_headers(private_key(PLATFORM), serial or wx_keys().public_key_id, body, stamp)


# The decrypted partner transaction of the docs (支付成功回调通知, 服务商模式), with our ids.
TRANSACTION = {
    "sp_appid": "wx8888888888888888",
    "sp_mchid": "1900000100",
    "sub_mchid": "1900000109",
    "out_trade_no": "o_0123456789abcdef_wn",
    "transaction_id": "1217752501201407033233368018",
    "trade_type": "NATIVE",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "bank_type": "CMC",
    "attach": "",
    "success_time": "2018-06-08T10:34:56+08:00",
    "payer": {"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 4000, "payer_total": 4000, "currency": "CNY", "payer_currency": "CNY"},
}


def notification(resource: dict[str, Any], event_type: str = "TRANSACTION.SUCCESS", key: str = APIV3) -> str:
    kind = "refund" if event_type.startswith("REFUND") else "transaction"
    return json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2015-05-20T13:29:35+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功",
            "resource": encrypted(key, resource, kind),
        }
    )


# A refund's decrypted notification of the docs (退款结果通知, 服务商模式), with our ids.
REFUND = {
    "sp_mchid": "1900000100",
    "sub_mchid": "1900000109",
    "transaction_id": "4200000000000000000000000000",
    "out_trade_no": "o_0123456789abcdef_wn",
    "refund_id": "50000000382019052709732678859",
    "out_refund_no": "rf_0123456789abcdef",
    "refund_status": "SUCCESS",
    "success_time": "2018-06-08T10:34:56+08:00",
    "user_received_account": "招商银行信用卡0403",
    "amount": {"total": 4000, "refund": 1000, "payer_total": 4000, "payer_refund": 1000},
}


@pytest.mark.parametrize(
    ("resource", "event_type", "expected"),
    [
        (
            TRANSACTION,
            "TRANSACTION.SUCCESS",
            {"kind": "payment", "state": "paid", "amount_fen": 4000, "sub_merchant": "1900000109"}
            | {"key": "wechatpay:o_0123456789abcdef_wn:SUCCESS"},
        ),
        (
            REFUND,
            "REFUND.SUCCESS",
            {"kind": "refund", "out_refund_no": "rf_0123456789abcdef", "refund_fen": 1000, "state": "succeeded"},
        ),
    ],
    ids=["payment", "refund"],
)
def test_a_wechatpay_notification_is_verified_and_decrypted_and_names_its_trade_or_refund(
    resource: dict[str, Any], event_type: str, expected: dict[str, Any]
) -> None:
    body = notification(resource, event_type)
    notice = gateway().verify_notification(signed(body), body.encode())
    assert {name: getattr(notice, name) for name in expected} == expected


@pytest.mark.parametrize(
    "case", ["wrong_key", "another_body", "stale", "future", "serial", "no_headers", "other_provider"]
)
def test_a_wechatpay_notification_that_does_not_hold_is_401(case: str) -> None:
    body = notification(TRANSACTION)
    headers = signed(body)
    if case == "wrong_key":  # re-encrypted with a key that is not our APIv3 key, freshly signed
        body = notification({**TRANSACTION, "amount": {"total": 1, "currency": "CNY"}}, key="f" * 32)
        headers = signed(body)
    elif case == "another_body":
        body = body.replace("EV-2018022511223320873", "EV-1")
    elif case == "stale":
        headers = signed(body, stamp=int(time.time()) - 310)
    elif case == "future":
        headers = signed(body, stamp=int(time.time()) + 310)
    elif case == "serial":
        headers = signed(body, serial="PUB_KEY_ID_SOMEONE_ELSE")
    elif case == "no_headers":
        headers = {}
    elif case == "other_provider":
        body = notification({**TRANSACTION, "sp_mchid": "1900000999"})
        headers = signed(body)
    with pytest.raises(AuthenticationError):
        gateway().verify_notification(headers, body.encode())


def _answer(status: int, data: dict[str, Any] | None) -> tuple[int, dict[str, str], str]:
    text = json.dumps(data) if data is not None else ""
    return status, {"Content-Type": "application/json", **signed(text)}, text


@responses.activate
def test_wechatpay_native_prepay_sends_the_documented_partner_request() -> None:
    seen: dict[str, Any] = {}

    def native(request: Any) -> tuple[int, dict[str, str], str]:
        seen["body"] = json.loads(request.body)
        seen["auth"] = request.headers["Authorization"]
        seen["raw"] = request.body.decode() if isinstance(request.body, bytes) else request.body
        return _answer(200, {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"})

    responses.add_callback(responses.POST, f"{BASE}/v3/pay/partner/transactions/native", callback=native)
    expires = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    sub = SubMerchant("1900000109")
    charge = gateway().prepay(Prepay("o_0123456789abcdef_wn", 4000, "流量卡续费", sub, "native", expires))
    assert charge.code_url == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"
    body = seen["body"]
    assert body["sp_mchid"] == "1900000100" and body["sp_appid"] == "wx8888888888888888"
    assert body["sub_mchid"] == "1900000109" and body["out_trade_no"] == "o_0123456789abcdef_wn"
    assert body["amount"] == {"total": 4000, "currency": "CNY"}
    assert body["notify_url"] == "https://example.com/webhooks/wechatpay"
    assert body["time_expire"] == "2026-12-01T10:30:00+08:00"
    # WECHATPAY2-SHA256-RSA2048 over method, path, timestamp, nonce and the body, with our key.
    fields = dict(part.split("=", 1) for part in seen["auth"].split(" ", 1)[1].split(","))
    fields = {k: v.strip('"') for k, v in fields.items()}
    assert fields["mchid"] == "1900000100" and fields["serial_no"] == wx_keys().cert_serial_no
    message = (
        f"POST\n/v3/pay/partner/transactions/native\n{fields['timestamp']}\n{fields['nonce_str']}\n{seen['raw']}\n"
    )
    assert rsa_verify(public_key(public_pem(MERCHANT)), message, fields["signature"])


@responses.activate
def test_wechatpay_answers_not_signed_by_wechatpay_are_not_believed() -> None:
    forged = json.dumps({"code_url": "weixin://attacker"})
    headers = {"Content-Type": "application/json", **signed(forged)}
    headers["Wechatpay-Signature"] = base64.b64encode(b"x" * 256).decode()
    responses.add(responses.POST, f"{BASE}/v3/pay/partner/transactions/native", body=forged, headers=headers)
    with pytest.raises(ProviderUnavailable):
        gateway().prepay(
            Prepay("o_0123456789abcdef_wn", 4000, "x", SubMerchant("1900000109"), "native", datetime.now(UTC))
        )


@responses.activate
def test_wechatpay_refund_uses_out_refund_no_and_the_trade_total() -> None:
    seen: dict[str, Any] = {}

    def refund(request: Any) -> tuple[int, dict[str, str], str]:
        seen.update(json.loads(request.body))
        return _answer(200, {"refund_id": "50000000382019052709732678859", "status": "PROCESSING"})

    responses.add_callback(responses.POST, f"{BASE}/v3/refund/domestic/refunds", callback=refund)
    trade = TradeRef("t_1", "o_0123456789abcdef_wn", 4000, "1900000109")
    assert gateway().refund(trade, SubMerchant("1900000109"), 1000, "rf_x") == "50000000382019052709732678859"
    assert seen["out_refund_no"] == "rf_x" and seen["sub_mchid"] == "1900000109"
    assert seen["amount"] == {"refund": 1000, "total": 4000, "currency": "CNY"}
    responses.replace(
        responses.POST,
        f"{BASE}/v3/refund/domestic/refunds",
        body=json.dumps({"code": "NOT_ENOUGH", "message": "余额不足"}),
        status=403,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(RuleViolation):
        gateway().refund(trade, SubMerchant("1900000109"), 1000, "rf_y")


def test_wechatpay_jsapi_pay_sign_is_the_documented_rsa_over_four_lines() -> None:
    params = gateway().jsapi_params("wx201410272009395522657a690389285100", timestamp="1414561699", nonce="abc")
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100" and params["signType"] == "RSA"
    message = f"{params['appId']}\n1414561699\nabc\n{params['package']}\n"
    assert rsa_verify(public_key(public_pem(MERCHANT)), message, params["paySign"])


def test_wechatpay_trade_bill_parses_charges_and_refunds() -> None:
    text = "\r\n".join(
        [
            wx.BILL_HEADER,
            "`2026-12-01 10:00:00,`wx8888888888888888,`1900000100,`1900000109,`,`4200000001,`o_a_wn,`oUp,`NATIVE,"
            "`SUCCESS,`CMC,`CNY,`40.00,`0.00,`0,`0,`0.00,`0.00,`,`,`续费,`,`0.24000,`0.60%,`40.00,`0.00,`",
            "`2026-12-01 11:00:00,`wx8888888888888888,`1900000100,`1900000109,`,`4200000001,`o_a_wn,`oUp,`NATIVE,"
            "`REFUND,`CMC,`CNY,`0.00,`0.00,`5030001,`rf_1,`10.00,`0.00,`ORIGINAL,`SUCCESS,`续费,`,`0.00000,`0.60%,"
            "`0.00,`10.00,`",
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
            "`2,`40.00,`10.00,`0.00,`0.24000,`40.00,`10.00",
        ]
    )
    rows = wx.parse_trade_bill(text)
    assert [(r.kind, r.out_trade_no, r.amount_fen, r.fee_fen, r.out_refund_no) for r in rows] == [
        ("charge", "o_a_wn", 4000, 24, None),
        ("refund", "o_a_wn", 1000, 0, "rf_1"),
    ]
    assert rows[0].at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


# --- Alipay ------------------------------------------------------------------------------------------------
APP = new_key_pem()
ALIPAY = new_key_pem()
TOKEN_KEY = base64.b64encode(b"k" * 32).decode()


def alipay() -> ali.AlipayGateway:
    keys = ali.AlipayKeys.from_json(
        {
            "app_id": "2021000000000100",
            "app_private_key": APP,
            "alipay_public_key": public_pem(ALIPAY),
            "token_key": TOKEN_KEY,
        }
    )
    return ali.AlipayGateway(lambda: keys, "https://example.com/webhooks/alipay")


def alipay_form(**over: str) -> dict[str, str]:
    """An async notification (异步通知) of the docs, for the ISV's app on behalf of a merchant's."""
    form = {
        "gmt_create": "2026-12-01 10:00:00",
        "charset": "utf-8",
        "seller_email": "merchant@example.com",
        "subject": "流量卡续费",
        "buyer_id": "2088102122524333",
        "invoice_amount": "40.00",
        "notify_id": "2026120100222100000000000000000000",
        "fund_bill_list": '[{"amount":"40.00","fundChannel":"ALIPAYACCOUNT"}]',
        "notify_type": "trade_status_sync",
        "trade_status": "TRADE_SUCCESS",
        "receipt_amount": "40.00",
        "app_id": "2021000000000100",
        "auth_app_id": "2021000000000109",
        "buyer_pay_amount": "40.00",
        "seller_id": "2088102119685838",
        "gmt_payment": "2026-12-01 10:00:05",
        "notify_time": "2026-12-01 10:00:06",
        "version": "1.0",
        "out_trade_no": "o_0123456789abcdef_aq",
        "total_amount": "40.00",
        "trade_no": "2026120122001433330000000000",
        "point_amount": "0.00",
        **over,
    }
    message = "&".join(f"{k}={v}" for k, v in sorted(form.items()))
    return {**form, "sign": rsa_sign(private_key(ALIPAY), message), "sign_type": "RSA2"}


def test_an_alipay_payment_notification_verified() -> None:
    notice = alipay().verify_notification({}, urlencode(alipay_form()).encode())
    assert (notice.kind, notice.state, notice.amount_fen, notice.sub_merchant) == (
        "payment",
        "paid",
        4000,
        "2021000000000109",
    )


def test_an_alipay_refund_notification_carries_the_refunded_total() -> None:
    form = alipay_form(
        refund_fee="15.00", gmt_refund="2026-12-01 11:00:00", out_biz_no="rf_1", trade_status="TRADE_SUCCESS"
    )
    notice = alipay().verify_notification({}, urlencode(form).encode())
    assert (notice.kind, notice.out_refund_no, notice.refunded_total_fen) == ("refund", "rf_1", 1500)


@pytest.mark.parametrize("case", ["amount", "unsigned", "garbage", "other_app", "md5"])
def test_an_alipay_notification_that_does_not_hold_is_401(case: str) -> None:
    form = alipay_form()
    if case == "amount":
        form["total_amount"] = "0.01"
    elif case == "unsigned":
        form.pop("sign")
    elif case == "garbage":
        form["sign"] = "%%%"
    elif case == "other_app":
        form = alipay_form(app_id="2021999999999999")
    elif case == "md5":
        form["sign_type"] = "RSA"
    with pytest.raises(AuthenticationError):
        alipay().verify_notification({}, urlencode(form).encode())


def test_alipay_precreate_is_signed_for_the_merchants_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import alipay as sdk

    seen: dict[str, str] = {}

    def urlopen(url: str, timeout: float) -> Any:
        params = dict(parse_qsl(urlsplit(url).query))
        seen.update(params)
        inner = json.dumps(
            {"code": "10000", "msg": "Success", "out_trade_no": "o_x_aq", "qr_code": "https://qr.alipay.com/bax1"}
        )
        raw = f'{{"alipay_trade_precreate_response":{inner},"sign":"{rsa_sign(private_key(ALIPAY), inner)}"}}'
        return io.BytesIO(raw.encode())

    monkeypatch.setattr(sdk, "urlopen", urlopen)
    sub = SubMerchant("2021000000000109", "202612BBmerchanttoken0000")
    charge = alipay().prepay(
        Prepay("o_x_aq", 4000, "流量卡续费", sub, "precreate", datetime.now(UTC) + timedelta(minutes=30))
    )
    assert charge.code_url == "https://qr.alipay.com/bax1"
    assert seen["method"] == "alipay.trade.precreate" and seen["app_auth_token"] == "202612BBmerchanttoken0000"
    assert seen["app_id"] == "2021000000000100" and seen["notify_url"] == "https://example.com/webhooks/alipay"
    biz = json.loads(seen["biz_content"])
    assert (biz["out_trade_no"], biz["total_amount"]) == ("o_x_aq", "40.00")
    # RSA2 over every parameter but sign, sorted, with the app's private key.
    message = "&".join(f"{k}={v}" for k, v in sorted(seen.items()) if k != "sign")
    assert rsa_verify(public_key(public_pem(APP)), message, seen["sign"])


def test_alipay_answers_not_signed_by_alipay_are_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    import alipay as sdk

    inner = json.dumps({"code": "10000", "msg": "Success", "qr_code": "https://attacker"})
    raw = f'{{"alipay_trade_precreate_response":{inner},"sign":"{rsa_sign(private_key(APP), inner)}"}}'
    monkeypatch.setattr(sdk, "urlopen", lambda url, timeout: io.BytesIO(raw.encode()))
    sub = SubMerchant("2021000000000109", "202612BBmerchanttoken0000")
    with pytest.raises(ProviderUnavailable):
        alipay().prepay(Prepay("o_x_aq", 4000, "x", sub, "precreate", datetime.now(UTC)))


def test_an_app_auth_token_is_sealed_and_opens_only_with_its_key() -> None:
    from simrenew.errors import ConfigError

    sealed = alipay().seal_token("202612BBmerchanttoken0000")
    assert "merchanttoken" not in sealed and alipay().unseal_token(sealed) == "202612BBmerchanttoken0000"
    assert alipay().seal_token("202612BBmerchanttoken0000") != sealed  # a fresh nonce each time
    with pytest.raises(ConfigError):
        ali.unseal(b"z" * 32, sealed)


def test_alipay_trade_bill_parses_the_gbk_zip() -> None:
    lines = [
        "#支付宝业务明细查询",
        ali.BILL_HEADER,
        "2026120122001,o_a_aq,交易,续费,2026-12-01 10:00:00,2026-12-01 10:00:05,,,,,buyer,40.00,40.00,"
        + ",".join([""] * 8)
        + ",,-0.24,0.00,",
        "2026120122001,o_a_aq,退款,续费,2026-12-01 10:00:00,2026-12-01 11:00:00,,,,,buyer,-10.00,-10.00,"
        + ",".join([""] * 8)
        + ",rf_1,0.00,0.00,",
        "#业务明细列表结束",
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("20880000_20261201_业务明细.csv", "\r\n".join(lines).encode("gbk"))
        archive.writestr("20880000_20261201_业务明细(汇总).csv", "#汇总".encode("gbk"))
    rows = ali.parse_trade_bill(out.getvalue(), "2021000000000109")
    assert [(r.kind, r.amount_fen, r.fee_fen, r.out_refund_no) for r in rows] == [
        ("charge", 4000, 24, None),
        ("refund", 1000, 0, "rf_1"),
    ]
    assert rows[1].at.date() == date(2026, 12, 1)


def test_yuan_and_fen_are_exact() -> None:
    assert ali.yuan(4000) == "40.00" and ali.yuan(5) == "0.05" and ali.fen_of("0.01") == 1
    assert ali.fen_of("1.005") is None and ali.fen_of("abc") is None
