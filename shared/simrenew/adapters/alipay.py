"""Alipay open platform as an ISV (服务商): the platform's app calls on behalf of each agent's
authorised app (its app_auth_token), and the money settles to the agent's Alipay account.

Requests are signed and synchronous answers verified (RSA2) by `python-alipay-sdk`
(ISVAliPay); asynchronous notifications are verified with Alipay's public key over the sorted
form without sign and sign_type, as documented. The agent's app_auth_token is a secret: it is
stored sealed (AES-256-GCM under the ISV secret's `token_key`) and opened only for a call.

Methods used: alipay.trade.precreate (QR), alipay.trade.wap.pay (mobile browsers),
alipay.trade.query, alipay.trade.close, alipay.trade.refund (out_request_no), alipay.open.auth.
token.app.query (whose app a token is), alipay.data.dataservice.bill.downloadurl.query.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from simrenew.adapters.payments import (
    ALIPAY,
    BillRow,
    Charge,
    Notice,
    Prepay,
    RailGateway,
    SubMerchant,
    Trade,
    TradeRef,
)
from simrenew.errors import AuthenticationError, ConfigError, ProviderUnavailable, RuleViolation

GATEWAY = "https://openapi.alipay.com/gateway.do"
CHINA = ZoneInfo("Asia/Shanghai")
_STATES = {"TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "WAIT_BUYER_PAY": "open", "TRADE_CLOSED": "closed"}


@dataclass(frozen=True)
class AlipayKeys:
    app_id: str  # the platform's (ISV's) app
    app_private_key: str  # PEM: the app's private key (应用私钥)
    alipay_public_key: str  # PEM: Alipay's public key (支付宝公钥)
    token_key: bytes  # 32 bytes: seals the agents' app_auth_tokens at rest
    gateway: str = GATEWAY

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlipayKeys:
        try:
            key = base64.b64decode(str(data["token_key"]))
            keys = cls(
                app_id=str(data["app_id"]),
                app_private_key=str(data["app_private_key"]),
                alipay_public_key=str(data["alipay_public_key"]),
                token_key=key,
                gateway=str(data.get("gateway") or GATEWAY),
            )
        except KeyError as exc:
            raise ConfigError(f"the Alipay secret lacks {exc.args[0]}") from None
        size = len(keys.token_key)
        if size != 32:
            raise ConfigError("the Alipay secret's token_key must be 32 bytes, base64")
        return keys

    def sdk_keys(self) -> dict[str, str]:
        """The SDK's keyword arguments for the platform's app and Alipay's key (RSA2)."""
        return {
            "appid": self.app_id,
            "app_private_key_string": self.app_private_key,
            "alipay_public_key_string": self.alipay_public_key,
            "sign_type": "RSA2",
        }


def seal(key: bytes, plain: str) -> str:
    """AES-256-GCM, a fresh 96-bit nonce per value: base64(nonce + ciphertext + tag)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plain.encode(), b"alipay_app_auth_token")).decode()


def unseal(key: bytes, sealed: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], b"alipay_app_auth_token").decode()
    except InvalidTag:
        raise ConfigError("an agent's Alipay token does not open with this token_key") from None


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fen_of(raw: object) -> int | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    fen = value * 100
    return int(fen) if fen == fen.to_integral_value() else None


@contextlib.contextmanager
def _sdk() -> Iterator[None]:
    """Network failures and answers not signed by Alipay: unknown outcome (503)."""
    from alipay.exceptions import AliPayException, AliPayValidationError

    try:
        yield
    except (OSError, ValueError, AliPayValidationError) as exc:
        raise ProviderUnavailable(f"Alipay did not answer (or not signed): {type(exc).__name__}") from exc
    except AliPayException as exc:
        raise ProviderUnavailable(f"Alipay answered an error: {exc}") from exc


class AlipayGateway(RailGateway[AlipayKeys]):
    name = ALIPAY

    def __init__(self, keys_loader: Callable[[], AlipayKeys], notify_url: str) -> None:
        super().__init__(keys_loader, notify_url)
        self._clients: dict[str, Any] = {}  # app_auth_token -> its ISVAliPay
        self._lock = threading.Lock()

    def _client(self, token: str | None) -> Any:
        """An ISVAliPay per agent token (the SDK keeps the token on the client), cached."""
        if not token:
            raise ConfigError("the agent has no Alipay app_auth_token")
        with self._lock:
            client = self._clients.get(token)
        if client is None:
            from alipay import ISVAliPay

            client = ISVAliPay(**self.keys.sdk_keys(), app_notify_url=self._notify_url, app_auth_token=token)
            client._gateway = self.keys.gateway  # the SDK's one address (the local gateway locally)
            with self._lock:
                self._clients[token] = client
        return client

    def seal_token(self, token: str) -> str:
        return seal(self.keys.token_key, token)

    def unseal_token(self, sealed: str) -> str:
        return unseal(self.keys.token_key, sealed)

    def authorised_app(self, token: str) -> str:
        """Whose app a token was issued for (auth_app_id), asking Alipay; RuleViolation if it is not valid."""
        with _sdk():
            answer = self._client(token).api_alipay_open_auth_token_app_query()
        if answer.get("code") != "10000" or not answer.get("auth_app_id"):
            raise RuleViolation(
                "Alipay does not know this app_auth_token (or it expired)", code="invalid_app_auth_token"
            )
        return str(answer["auth_app_id"])

    # --- paying ---------------------------------------------------------------------------------------
    def prepay(self, request: Prepay) -> Charge:
        client = self._client(request.sub.token)
        trade = {
            "subject": request.description[:256],
            "out_trade_no": request.out_trade_no,
            "total_amount": yuan(request.amount_fen),
            "notify_url": self._notify_url,
            "time_expire": request.expires_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if request.kind == "wap":
            with _sdk():
                signed = client.api_alipay_trade_wap_pay(
                    **trade, return_url=request.return_url, quit_url=request.return_url
                )
            return Charge(ALIPAY, request.out_trade_no, "wap", h5_url=f"{self.keys.gateway}?{signed}")
        with _sdk():
            answer = client.api_alipay_trade_precreate(**trade)
        if answer.get("code") != "10000" or not answer.get("qr_code"):
            raise RuleViolation(
                f"Alipay refused the order: {answer.get('sub_code', answer.get('code'))}", code="payment_rejected"
            )
        return Charge(ALIPAY, request.out_trade_no, "precreate", code_url=str(answer["qr_code"]))

    def query(self, out_trade_no: str, sub: SubMerchant) -> Trade:
        with _sdk():
            answer = self._client(sub.token).api_alipay_trade_query(out_trade_no=out_trade_no)
        if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return Trade("unknown")
        if answer.get("code") != "10000":
            raise ProviderUnavailable(f"Alipay answered {answer.get('code')} to a query")
        return Trade(_STATES.get(str(answer.get("trade_status")), "unknown"), fen_of(answer.get("total_amount")))

    def close(self, out_trade_no: str, sub: SubMerchant) -> None:
        with _sdk():
            answer = self._client(sub.token).api_alipay_trade_close(out_trade_no=out_trade_no)
        if answer.get("code") != "10000" and answer.get("sub_code") not in (
            "ACQ.TRADE_NOT_EXIST",
            "ACQ.TRADE_STATUS_ERROR",
        ):
            raise ProviderUnavailable(f"Alipay could not close {out_trade_no}: {answer.get('sub_code')}")

    def refund(self, trade: TradeRef, sub: SubMerchant, amount_fen: int, out_refund_no: str) -> str:
        with _sdk():
            answer = self._client(sub.token).api_alipay_trade_refund(
                refund_amount=yuan(amount_fen), out_trade_no=trade.out_trade_no, out_request_no=out_refund_no
            )
        if answer.get("code") == "20000":
            raise ProviderUnavailable("Alipay was unavailable; the refund is unknown")
        if answer.get("code") != "10000":
            raise RuleViolation(
                f"Alipay refused the refund: {answer.get('sub_code', answer.get('code'))}", code="refund_rejected"
            )
        return f"{answer.get('trade_no', trade.out_trade_no)}:{out_refund_no}"

    # --- what Alipay tells us ---------------------------------------------------------------------------
    def verify_notification(self, headers: dict[str, str], body: bytes) -> Notice:
        """RSA2 over the sorted form without sign and sign_type, with Alipay's public key; for our
        app_id: otherwise 401 and nothing is read."""
        bad = AuthenticationError("the Alipay signature is missing or wrong", code="invalid_signature")
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise bad from None
        sign = form.pop("sign", "")
        if not sign or form.get("sign_type", "RSA2") != "RSA2":
            raise bad
        from alipay import AliPay

        verifier = AliPay(**self.keys.sdk_keys())
        try:
            ok = verifier.verify(dict(form), sign)
        except (ValueError, TypeError, IndexError):  # a signature that is not base64
            ok = False
        if not ok or form.get("app_id") != self.keys.app_id or not form.get("out_trade_no"):
            raise bad
        return self.notice(form)

    def notice(self, form: dict[str, str]) -> Notice:
        otn = form["out_trade_no"]
        sub = form.get("auth_app_id") or None
        status = form.get("trade_status", "")
        if form.get("out_biz_no") and form.get("refund_fee"):
            total = form["refund_fee"]  # the trade's refunds so far
            return Notice.refund(
                ALIPAY, otn, sub, form["out_biz_no"], total, "succeeded", refunded_total_fen=fen_of(total)
            )
        paid = _STATES.get(status, "failed")
        return Notice.payment(ALIPAY, otn, sub, status, paid, amount_fen=fen_of(form.get("total_amount")))

    # --- the daily trade bill ----------------------------------------------------------------------------
    def bill(self, day: date, sub: SubMerchant) -> list[BillRow]:
        import urllib.request

        client = self._client(sub.token)
        with _sdk():
            answer = client.server_api(
                "alipay.data.dataservice.bill.downloadurl.query",
                {"bill_type": "trade", "bill_date": day.isoformat()},
            )
        if answer.get("sub_code") in ("isp.bill_not_exist", "BILL_NOT_EXIST"):
            return []
        if answer.get("code") != "10000" or not answer.get("bill_download_url"):
            raise ProviderUnavailable(f"Alipay answered {answer.get('code')} for the bill of {day}")
        url = str(answer["bill_download_url"])
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ProviderUnavailable("the bill address is not one we fetch")
        with _sdk(), urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - checked above
            raw = resp.read()
        return parse_trade_bill(raw, sub.merchant_id)


def parse_trade_bill(raw: bytes, sub_merchant: str | None = None) -> list[BillRow]:
    """Alipay's trade bill (业务明细): a zip of GBK CSV files; the detail file has '#' comment lines,
    a header, one row per trade (业务类型 交易) or refund (退款, negative amounts, 退款批次号/请求号)."""
    texts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for name in archive.namelist():
            if "汇总" in name:
                continue  # the summary file
            data = archive.read(name)
            try:
                texts.append(data.decode("gbk"))
            except UnicodeDecodeError:
                texts.append(data.decode("utf-8-sig"))
    out: list[BillRow] = []
    for text in texts:
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        rows = list(csv.reader(lines))
        if not rows:
            continue
        header = [h.strip() for h in rows[0]]
        for raw_row in rows[1:]:
            if len(raw_row) != len(header):
                continue
            row = {name: value.strip() for name, value in zip(header, raw_row, strict=True)}
            kind = row.get("业务类型")
            if kind not in ("交易", "退款"):
                continue
            amount = fen_of(row.get("订单金额（元）", "0")) or 0
            fee = fen_of(row.get("服务费（元）", "0")) or 0
            at = datetime.strptime(row.get("完成时间") or row["创建时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
            out.append(
                BillRow(
                    kind="refund" if kind == "退款" else "charge",
                    out_trade_no=row.get("商户订单号", ""),
                    amount_fen=abs(amount),
                    fee_fen=abs(fee),
                    at=at,
                    sub_merchant=sub_merchant,
                    out_refund_no=(row.get("退款批次号/请求号") or None) if kind == "退款" else None,
                    provider_id=row.get("支付宝交易号") or None,
                )
            )
    return out


BILL_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def alipay_keys_loader(config: Any) -> Callable[[], AlipayKeys]:
    """The ISV credentials: a JSON file under .local/ locally (written by infra/local_alipay.py),
    Secrets Manager in AWS (ALIPAY_SECRET_ARN), read on first use."""

    from simrenew.adapters.secrets import rail_credentials

    return rail_credentials(config, ALIPAY, AlipayKeys.from_json)
