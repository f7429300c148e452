"""WeChat Pay APIv3, partner (服务商) mode: the platform's sp_mchid pays into each agent's sub_mchid.

Requests are signed and answers verified by the `wechatpayv3` SDK (WECHATPAY2-SHA256-RSA2048 with
the platform's merchant key; answers and notifications against WeChat Pay's public key, the
微信支付公钥 mode); notifications are decrypted with the APIv3 key (AEAD_AES_256_GCM). What the
SDK leaves to its caller is done here: the timestamp of a notification must be within 5 minutes,
the key it names must be the one we hold, and what it says must be for our sp_mchid.

Routes used (all documented under /v3/pay/partner/transactions/ and /v3/refund/domestic/):
Native, H5 and JSAPI prepay, query and close by out_trade_no, refunds, trade bills.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.adapters.payments import (
    WECHATPAY,
    BillRow,
    Charge,
    Notice,
    Prepay,
    RailGateway,
    SubMerchant,
    Trade,
    TradeRef,
    unavailable_on,
)
from simrenew.domain.values import json_of
from simrenew.errors import AuthenticationError, ConfigError, ProviderUnavailable, RuleViolation

API_BASE = "https://api.mch.weixin.qq.com"
TOLERANCE_S = 300
CHINA = ZoneInfo("Asia/Shanghai")
# trade_state → ours
_STATES = {
    "SUCCESS": "paid",
    "REFUND": "paid",  # paid, and refunded since (in part or all)
    "NOTPAY": "open",
    "USERPAYING": "open",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}


@dataclass(frozen=True)
class WeChatPayKeys:
    sp_mchid: str
    sp_appid: str
    apiv3_key: str
    private_key: str  # PEM: the platform's merchant API key (商户API私钥)
    cert_serial_no: str  # its certificate's serial (商户API证书序列号)
    public_key: str  # PEM: WeChat Pay's public key (微信支付公钥)
    public_key_id: str  # PUB_KEY_ID_…
    sp_appsecret: str | None = None  # the 公众号's AppSecret: the payer's openid for JSAPI
    api_base: str = API_BASE  # the local platform under `make dev` and the tests

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeChatPayKeys:
        if len(str(data.get("apiv3_key", ""))) != 32:
            raise ConfigError("the WeChat Pay APIv3 key must be 32 characters")
        try:
            return cls(
                sp_mchid=str(data["sp_mchid"]),
                sp_appid=str(data["sp_appid"]),
                apiv3_key=str(data["apiv3_key"]),
                private_key=str(data["private_key"]),
                cert_serial_no=str(data["cert_serial_no"]),
                public_key=str(data["public_key"]),
                public_key_id=str(data["public_key_id"]),
                sp_appsecret=data.get("sp_appsecret") or None,
                api_base=str(data.get("api_base") or API_BASE).rstrip("/"),
            )
        except KeyError as exc:
            raise ConfigError(f"the WeChat Pay secret lacks {exc.args[0]}") from None

    def sdk_keys(self) -> dict[str, Any]:
        """The SDK's keyword arguments for the service provider's ids and keys (its names are ours,
        but for mchid and appid)."""
        same = json_of(self, "private_key", "cert_serial_no", "apiv3_key", "public_key", "public_key_id")
        return {"mchid": self.sp_mchid, "appid": self.sp_appid, **same}


def yuan_time(moment: datetime) -> str:
    """RFC 3339 in China time, as WeChat Pay writes its times."""
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def _fen(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _network() -> contextlib.AbstractContextManager[None]:
    import requests

    return unavailable_on(requests.RequestException, lambda exc: f"WeChat Pay did not answer: {type(exc).__name__}")


class WeChatPayGateway(RailGateway[WeChatPayKeys]):
    name = WECHATPAY
    _client: Any = None  # the SDK's client, made on first use

    def _pay(self) -> Any:
        if self._client is None:
            from wechatpayv3 import WeChatPay, WeChatPayType

            client = WeChatPay(
                wechatpay_type=WeChatPayType.NATIVE,
                **self.keys.sdk_keys(),
                notify_url=self._notify_url,
                partner_mode=True,
                timeout=(5, 15),
            )
            client._core._gate_way = self.keys.api_base  # the SDK's one base address (the local platform locally)
            self._client = client
        return self._client

    def _call(self, fn: Callable[[], tuple[int, Any]]) -> tuple[int, dict[str, Any]]:
        """One SDK call: a network failure or a wrong signature on the answer is 'unknown' (503)."""
        with _network():
            try:
                code, text = fn()
            except ProviderUnavailable:
                raise
            except Exception as exc:
                if "signature" in str(exc):
                    raise ProviderUnavailable("WeChat Pay's answer was not signed by WeChat Pay") from exc
                raise
        try:
            body = json.loads(text) if isinstance(text, str) and text else {}
        except ValueError:
            body = {}
        if code >= 500:
            raise ProviderUnavailable(f"WeChat Pay answered {code}: {body.get('message', '')}")
        return code, body if isinstance(body, dict) else {}

    # --- paying ---------------------------------------------------------------------------------------
    def prepay(self, request: Prepay) -> Charge:
        from wechatpayv3 import WeChatPayType

        kind = {"native": WeChatPayType.NATIVE, "h5": WeChatPayType.H5, "jsapi": WeChatPayType.JSAPI}[request.kind]
        extra: dict[str, Any] = {}
        if request.kind == "h5":
            extra["scene_info"] = {"payer_client_ip": request.client_ip, "h5_info": {"type": "Wap"}}
        elif request.kind == "native":
            extra["scene_info"] = {"payer_client_ip": request.client_ip}
        if request.kind == "jsapi":
            if not request.openid:
                raise RuleViolation("paying inside WeChat needs the payer's openid", code="openid_required")
            extra["payer"] = {"sp_openid": request.openid}
        code, body = self._call(
            lambda: self._pay().pay(
                description=request.description[:127],
                out_trade_no=request.out_trade_no,
                amount={"total": request.amount_fen, "currency": "CNY"},
                time_expire=yuan_time(request.expires_at),
                sub_mchid=request.sub.merchant_id,
                pay_type=kind,
                **extra,
            )
        )
        if code not in (200, 204):
            raise RuleViolation(
                f"WeChat Pay refused the order: {body.get('code', code)} {body.get('message', '')}".strip(),
                code="payment_rejected",
            )
        if request.kind == "native":
            return Charge(WECHATPAY, request.out_trade_no, "native", code_url=str(body["code_url"]))
        if request.kind == "h5":
            url = str(body["h5_url"])
            if request.return_url:
                from urllib.parse import quote

                url += ("&" if "?" in url else "?") + "redirect_url=" + quote(request.return_url, safe="")
            return Charge(WECHATPAY, request.out_trade_no, "h5", h5_url=url)
        return Charge(WECHATPAY, request.out_trade_no, "jsapi", jsapi=self.jsapi_params(str(body["prepay_id"])))

    def jsapi_params(self, prepay_id: str, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """What WeixinJSBridge.invoke('getBrandWCPayRequest', …) takes: signed with the platform's key
        over appId, timeStamp, nonceStr and package (the documented RSA paySign)."""
        import secrets

        stamp = timestamp or str(int(time.time()))
        nonce_str = nonce or secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        sign = self._pay().sign([self.keys.sp_appid, stamp, nonce_str, package])
        return {
            "appId": self.keys.sp_appid,
            "timeStamp": stamp,
            "nonceStr": nonce_str,
            "package": package,
            "signType": "RSA",
            "paySign": sign,
        }

    def oauth_url(self) -> str | None:
        """Where the pay page inside WeChat gets the payer's openid (snsapi_base, silent): the page adds
        &redirect_uri=… and #wechat_redirect. None when the platform has no 公众号 AppSecret."""
        keys = self.keys
        if not keys.sp_appsecret:
            return None
        base = keys.api_base if keys.api_base != API_BASE else "https://open.weixin.qq.com"
        return f"{base}/connect/oauth2/authorize?appid={keys.sp_appid}&response_type=code&scope=snsapi_base&state=pay"

    def openid(self, code: str) -> str:
        """The payer's openid under the platform's 公众号, from the OAuth code (snsapi_base)."""
        import requests

        keys = self.keys
        if not keys.sp_appsecret:
            raise RuleViolation("paying inside WeChat is not set up (no 公众号 AppSecret)", code="jsapi_unavailable")
        base = keys.api_base if keys.api_base != API_BASE else "https://api.weixin.qq.com"
        with _network():
            r = requests.get(
                f"{base}/sns/oauth2/access_token",
                params={
                    "appid": keys.sp_appid,
                    "secret": keys.sp_appsecret,
                    "code": code,
                    "grant_type": "authorization_code",
                },
                timeout=10,
            )
        data = r.json() if r.headers.get("Content-Type", "").startswith(("application/json", "text/plain")) else {}
        if not isinstance(data, dict) or not data.get("openid"):
            raise RuleViolation("WeChat did not accept the sign-in code; open the page again", code="invalid_wx_code")
        return str(data["openid"])

    def query(self, out_trade_no: str, sub: SubMerchant) -> Trade:
        code, body = self._call(lambda: self._pay().query(out_trade_no=out_trade_no, sub_mchid=sub.merchant_id))
        if code == 404 or body.get("code") == "ORDER_NOT_EXIST":
            return Trade("unknown")
        if code != 200:
            raise ProviderUnavailable(f"WeChat Pay answered {code} to a query")
        raw_amount = body.get("amount")
        amount: dict[str, Any] = raw_amount if isinstance(raw_amount, dict) else {}
        return Trade(
            _STATES.get(str(body.get("trade_state")), "unknown"),
            _fen(amount.get("payer_total", amount.get("total"))),
            str(amount.get("currency") or "CNY"),
            str(body.get("sub_mchid") or "") or None,
        )

    def close(self, out_trade_no: str, sub: SubMerchant) -> None:
        code, body = self._call(lambda: self._pay().close(out_trade_no=out_trade_no, sub_mchid=sub.merchant_id))
        if code not in (200, 204) and body.get("code") not in ("ORDER_NOT_EXIST", "ORDERPAID", "ORDER_CLOSED"):
            raise ProviderUnavailable(f"WeChat Pay could not close {out_trade_no}: {body.get('code', code)}")

    def refund(self, trade: TradeRef, sub: SubMerchant, amount_fen: int, out_refund_no: str) -> str:
        code, body = self._call(
            lambda: self._pay().refund(
                out_refund_no=out_refund_no,
                amount={"refund": amount_fen, "total": trade.total_fen, "currency": "CNY"},
                out_trade_no=trade.out_trade_no,
                sub_mchid=sub.merchant_id,
            )
        )
        if code != 200:
            raise RuleViolation(
                f"WeChat Pay refused the refund: {body.get('code', code)} {body.get('message', '')}".strip(),
                code="refund_rejected",
            )
        if body.get("status") in ("CLOSED", "ABNORMAL"):
            raise RuleViolation(f"WeChat Pay closed the refund: {body.get('status')}", code="refund_rejected")
        return str(body.get("refund_id") or out_refund_no)

    # --- what WeChat Pay tells us --------------------------------------------------------------------
    def verify_notification(self, headers: dict[str, str], body: bytes) -> Notice:
        """The signature over timestamp, nonce and the raw body with WeChat Pay's public key (the
        serial it names must be ours), the time within 5 minutes, the resource decrypted with the
        APIv3 key: otherwise 401 and nothing is read."""
        h = {k.lower(): v for k, v in headers.items()}
        bad = AuthenticationError("the WeChat Pay signature is missing or wrong", code="invalid_signature")
        stamp = h.get("wechatpay-timestamp", "")
        if not stamp.isdigit() or abs(int(time.time()) - int(stamp)) > TOLERANCE_S:
            raise bad
        if h.get("wechatpay-serial") != self.keys.public_key_id:
            raise bad  # else the SDK would go and download certificates for any serial it is shown
        try:
            text = body.decode("utf-8")
            data = self._pay().callback(h, text)
        except Exception:  # noqa: BLE001 - SDK: bare Exception for an unknown algorithm or signature type
            raise bad from None
        if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
            raise bad  # wrong signature, or a resource our APIv3 key does not decrypt
        return self.notice(data)

    def notice(self, data: dict[str, Any]) -> Notice:
        """A decrypted notification as a Notice (sp_mchid must be ours)."""
        resource: dict[str, Any] = data["resource"]
        event_type = str(data.get("event_type", ""))
        otn = str(resource.get("out_trade_no") or "")
        if resource.get("sp_mchid") != self.keys.sp_mchid or not otn:
            raise AuthenticationError("the notification is not for this service provider", code="invalid_signature")
        sub = str(resource.get("sub_mchid") or "") or None
        raw_amount = resource.get("amount")
        amount: dict[str, Any] = raw_amount if isinstance(raw_amount, dict) else {}
        if event_type.startswith("REFUND."):
            status = str(resource.get("refund_status") or event_type.removeprefix("REFUND."))
            refund_no = str(resource.get("out_refund_no") or "")
            refund_id = str(resource.get("refund_id") or "") or None
            refund_fen = _fen(amount.get("refund"))
            state = "succeeded" if status == "SUCCESS" else "failed"
            return Notice.refund(
                WECHATPAY, otn, sub, refund_no, status, state, refund_fen=refund_fen, provider_refund_id=refund_id
            )
        state = str(resource.get("trade_state") or "")
        paid = _STATES.get(state, "failed") if state != "SUCCESS" else "paid"
        amount_fen = _fen(amount.get("payer_total", amount.get("total")))
        currency = str(amount.get("currency") or "CNY").upper()
        return Notice.payment(WECHATPAY, otn, sub, state, paid, amount_fen=amount_fen, currency=currency)

    # --- the daily trade bill ----------------------------------------------------------------------------
    def bill(self, day: date, sub: SubMerchant) -> list[BillRow]:
        code, body = self._call(
            lambda: self._pay().trade_bill(bill_date=day.isoformat(), bill_type="ALL", sub_mchid=sub.merchant_id)
        )
        if code == 400 and body.get("code") in ("NO_STATEMENT_EXIST", "STATEMENT_CREATING"):
            return []
        if code != 200 or not body.get("download_url"):
            raise ProviderUnavailable(f"WeChat Pay answered {code} for the bill of {day}")
        with _network():
            dl_code, content = self._pay().download_bill(str(body["download_url"]))
        if dl_code != 200:
            raise ProviderUnavailable(f"WeChat Pay answered {dl_code} for the bill file of {day}")
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        if body.get("hash_type") == "SHA1" and body.get("hash_value"):
            import hashlib

            if hashlib.sha1(raw).hexdigest() != str(body["hash_value"]).lower():  # noqa: S324 - WeChat's checksum
                raise ProviderUnavailable("the bill file does not match its checksum")
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return parse_trade_bill(raw.decode("utf-8-sig"))


def _yuan(raw: str) -> int:
    from decimal import Decimal

    return int((Decimal(raw.strip() or "0") * 100).to_integral_value())


def parse_trade_bill(text: str) -> list[BillRow]:
    """WeChat Pay's trade bill (交易账单, bill_type ALL): a header row, one row per trade or refund with
    each field prefixed by a backtick, then the totals. Charges are SUCCESS rows (应结订单金额),
    refunds REFUND rows (退款金额, 商户退款单号)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    out: list[BillRow] = []
    for raw in rows[1:]:
        if len(raw) != len(header):
            continue  # the totals
        row = {name: value.strip().lstrip("`") for name, value in zip(header, raw, strict=True)}
        if row.get("交易状态") not in ("SUCCESS", "REFUND"):
            continue
        at = datetime.strptime(row["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        refund = row["交易状态"] == "REFUND"
        out.append(
            BillRow(
                kind="refund" if refund else "charge",
                out_trade_no=row.get("商户订单号", ""),
                amount_fen=_yuan(row.get("退款金额" if refund else "应结订单金额", "0")),
                fee_fen=abs(_yuan(row.get("手续费", "0"))),
                at=at,
                sub_merchant=row.get("特约商户号") or None,
                out_refund_no=(row.get("商户退款单号") or None) if refund else None,
                provider_id=(row.get("微信退款单号") if refund else row.get("微信订单号")) or None,
            )
        )
    return out


BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
    "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def wechatpay_keys_loader(config: Any) -> Callable[[], WeChatPayKeys]:
    """The 服务商 credentials: a JSON file under .local/ locally (written by infra/local_wechatpay.py),
    Secrets Manager in AWS (WECHATPAY_SECRET_ARN), read on first use."""

    from simrenew.adapters.secrets import rail_credentials

    return rail_credentials(config, WECHATPAY, WeChatPayKeys.from_json)
