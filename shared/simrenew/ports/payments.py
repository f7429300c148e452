"""The payment ports: the card gateway (Stripe) and the direct rails of mainland China (WeChat Pay
服务商, Alipay ISV), and the values that cross them. The adapters are simrenew.adapters.payments
(StripeGateway, PaymentRails), adapters/wechatpay.py and adapters/alipay.py; the services see only
the types below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypedDict, Unpack


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str


class IntentRequest(TypedDict):
    """What a PaymentIntent is created from (keyword arguments of `create_intent`)."""

    order_id: str
    amount_fen: int
    methods: list[str]
    connected_account: str | None
    application_fee_fen: int
    metadata: dict[str, str]


class PaymentGateway(Protocol):
    @property
    def publishable_key(self) -> str: ...

    @property
    def js_url(self) -> str:
        """Where the pay page loads Stripe.js from."""
        ...

    def create_intent(self, **request: Unpack[IntentRequest]) -> Intent: ...

    def confirm(self, intent_id: str, payment_method: str) -> str: ...

    @property
    def reports_amount_received(self) -> bool:
        """Whether payment_intent events carry `amount_received` (Stripe: always; localstripe: never)."""
        ...

    def cancel(self, intent_id: str) -> str:
        """Cancel an open PaymentIntent; returns its status afterwards ("canceled", or
        "succeeded" when it was paid before it could be cancelled)."""
        ...

    def refund(self, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
        """Refund part or all of a PaymentIntent's charge; the same idempotency key gives the
        same refund. Raises RuleViolation when Stripe refuses, ProviderUnavailable when it is
        unknown whether the refund was made."""
        ...

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]: ...

    def balance_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]: ...

    def settlement_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]:
        """Charge and refund balance transactions of [from, to), each with `payment_intent`, `stripe_fee`
        and (charges) `application_fee_amount`, `metadata`; (refunds) `refund`."""
        ...


# --- the direct rails: the platform is the service provider; each agent is a sub-merchant (特约商户),
# and the money settles to the agent's own account.

WECHATPAY = "wechatpay"
ALIPAY = "alipay"
DIRECT_RAILS = (WECHATPAY, ALIPAY)
# The pay page's method → the direct rail it goes to where the agent is onboarded.
RAIL_OF_METHOD = {"wechat_pay": WECHATPAY, "alipay": ALIPAY}
# How the payer pays: a QR on a desktop (Native / precreate), a mobile browser (H5 / WAP), or
# inside WeChat's own browser (JSAPI, WeChat only).
CLIENTS = ("desktop", "mobile", "wechat")


@dataclass(frozen=True)
class SubMerchant:
    """Who the money goes to: WeChat Pay's sub_mchid, or Alipay's authorised app (its auth_app_id,
    and the app_auth_token the platform calls on its behalf with: a secret, never stored plain)."""

    merchant_id: str
    token: str | None = None


@dataclass(frozen=True)
class Prepay:
    out_trade_no: str
    amount_fen: int
    description: str
    sub: SubMerchant
    kind: str  # wechatpay: native | h5 | jsapi; alipay: precreate | wap
    expires_at: datetime
    client_ip: str = "127.0.0.1"
    openid: str | None = None  # jsapi: the payer's openid under the platform's 公众号 (sp_openid)
    return_url: str | None = None  # where the H5/WAP page sends the payer back


@dataclass(frozen=True)
class Charge:
    """What the pay page needs to let the payer pay: one of code_url, h5_url or jsapi."""

    provider: str
    out_trade_no: str
    kind: str
    code_url: str | None = None
    h5_url: str | None = None
    jsapi: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"provider": self.provider, "out_trade_no": self.out_trade_no, "kind": self.kind}
        for name in ("code_url", "h5_url", "jsapi"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        return body


@dataclass(frozen=True)
class Trade:
    """A trade as the rail's query answers: paid | open | closed | failed | unknown."""

    state: str
    amount_fen: int | None = None
    currency: str = "CNY"
    sub_merchant: str | None = None


@dataclass(frozen=True)
class Notice:
    """A verified, decrypted notification. `key` names what it says (not its delivery): a
    redelivery or a copy says the same and is applied once."""

    provider: str
    key: str
    kind: str  # payment | refund
    out_trade_no: str
    sub_merchant: str | None
    state: str  # payment: paid | closed | failed; refund: succeeded | failed
    amount_fen: int | None = None  # payment: what the payer paid
    currency: str = "CNY"
    out_refund_no: str | None = None
    refund_fen: int | None = None  # this refund (WeChat Pay)
    refunded_total_fen: int | None = None  # all refunds of the trade so far (Alipay)
    provider_refund_id: str | None = None

    @classmethod
    def payment(cls, provider: str, otn: str, sub: str | None, said: str, state: str, **amount: Any) -> Notice:
        """A payment's notice, keyed by what the rail said of trade `otn` (`said`: its trade status)."""
        return cls(provider, f"{provider}:{otn}:{said}", "payment", otn, sub, state, **amount)

    @classmethod
    def refund(
        cls, provider: str, otn: str, sub: str | None, refund_no: str, said: str, state: str, **amounts: Any
    ) -> Notice:
        """A refund's notice, keyed by the refund and what the rail said of it (`said`: its status,
        or the trade's refunded total)."""
        key = f"{provider}:refund:{otn}:{refund_no}:{said}"
        return cls(provider, key, "refund", otn, sub, state, out_refund_no=refund_no, **amounts)


@dataclass(frozen=True)
class TradeRef:
    """A paid trade, for a refund."""

    tenant_id: str
    out_trade_no: str
    total_fen: int
    sub_merchant: str


@dataclass(frozen=True)
class BillRow:
    """One line of the rail's daily trade bill."""

    kind: str  # charge | refund
    out_trade_no: str
    amount_fen: int
    fee_fen: int
    at: datetime
    sub_merchant: str | None = None
    out_refund_no: str | None = None
    provider_id: str | None = None


class DirectRail(Protocol):
    """The port each direct rail implements (WeChat Pay partner, Alipay ISV)."""

    name: str

    def prepay(self, request: Prepay) -> Charge: ...

    def query(self, out_trade_no: str, sub: SubMerchant) -> Trade: ...

    def close(self, out_trade_no: str, sub: SubMerchant) -> None: ...

    def refund(self, trade: TradeRef, sub: SubMerchant, amount_fen: int, out_refund_no: str) -> str:
        """Refund part of a paid trade; the same out_refund_no gives the same refund. Raises
        RuleViolation when the rail refuses, ProviderUnavailable when it is unknown whether
        the refund was made."""
        ...

    def verify_notification(self, headers: dict[str, str], body: bytes) -> Notice:
        """The notification, verified and decrypted; AuthenticationError (401) otherwise."""
        ...

    def bill(self, day: date, sub: SubMerchant) -> list[BillRow]: ...


class Rails(Protocol):
    """The direct rails this deployment has, and the sub-merchant credentials of an agent."""

    def has(self, name: str) -> bool: ...

    def get(self, name: str) -> DirectRail:
        """The rail (ConfigError when this deployment has not configured it)."""
        ...

    def sub(self, name: str, tenant_id: str, merchant_id: str) -> SubMerchant: ...
