"""Payment gateway port and its Stripe adapter. `stripe` is imported only here, on first use.

PaymentIntents in CNY, an idempotency key derived from the order, destination charges
with an application fee when the agent has a connected account. Webhook payloads are
verified on the raw body with the endpoint secret (5-minute tolerance).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from simrenew.errors import ConfigError, ProviderUnavailable, RuleViolation, ValidationError

TOLERANCE_S = 300


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str | None = None  # localstripe locally; None means api.stripe.com


STRIPE_JS = "https://js.stripe.com/v3/"
# The local stack serves localstripe's fake Stripe.js on the API's own origin (infra/localserver.py).
LOCAL_STRIPE_JS = "/_local/stripe.js"


class PaymentGateway(Protocol):
    @property
    def publishable_key(self) -> str: ...

    @property
    def js_url(self) -> str:
        """Where the pay page loads Stripe.js from."""
        ...

    def create_intent(
        self,
        *,
        order_id: str,
        amount_fen: int,
        methods: list[str],
        connected_account: str | None,
        application_fee_fen: int,
        metadata: dict[str, str],
    ) -> Intent: ...

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


@contextlib.contextmanager
def _provider_errors() -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.StripeError as exc:
        raise ProviderUnavailable(f"the payment provider answered: {exc.user_message or type(exc).__name__}") from exc


class StripeGateway:
    def __init__(self, keys_loader: Any, local: bool) -> None:
        self._load = keys_loader
        self._local = local
        self._keys: StripeKeys | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def keys(self) -> StripeKeys:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = self._load()
        assert self._keys is not None
        return self._keys

    @property
    def publishable_key(self) -> str:
        return self.keys.publishable_key

    @property
    def js_url(self) -> str:
        return LOCAL_STRIPE_JS if self.keys.api_base else STRIPE_JS

    def _v1(self) -> Any:
        if self._client is None:
            import stripe

            base: Any = {"api": self.keys.api_base} if self.keys.api_base else None
            self._client = stripe.StripeClient(self.keys.secret_key, base_addresses=base, max_network_retries=2)
        return self._client.v1

    def create_intent(
        self,
        *,
        order_id: str,
        amount_fen: int,
        methods: list[str],
        connected_account: str | None,
        application_fee_fen: int,
        metadata: dict[str, str],
    ) -> Intent:
        # localstripe knows cards only; real Stripe gets the agent's methods.
        params: dict[str, Any] = {
            "amount": amount_fen,
            "currency": "cny",
            "payment_method_types": ["card"] if self._local else methods,
            "metadata": metadata,
        }
        if connected_account and not self._local:
            params["application_fee_amount"] = application_fee_fen
            params["transfer_data"] = {"destination": connected_account}
        with _provider_errors():
            pi = self._v1().payment_intents.create(params=params, options={"idempotency_key": f"order-{order_id}"})
        return Intent(pi.id, pi.client_secret, pi.status)

    def confirm(self, intent_id: str, payment_method: str) -> str:
        import stripe

        try:
            self._v1().payment_intents.update(intent_id, params={"payment_method": payment_method})
            return str(self._v1().payment_intents.confirm(intent_id).status)
        except stripe.CardError as exc:
            raise RuleViolation(
                f"the card was declined: {exc.user_message or 'declined'}", code="card_declined"
            ) from None
        except stripe.InvalidRequestError as exc:
            raise ValidationError("payment_method", "invalid_payment_method", str(exc.user_message or exc)) from None

    @property
    def reports_amount_received(self) -> bool:
        return not self.keys.api_base

    def cancel(self, intent_id: str) -> str:
        import stripe

        with _provider_errors():
            try:
                return str(self._v1().payment_intents.cancel(intent_id).status)
            except stripe.InvalidRequestError:
                # Already succeeded or cancelled: say which.
                return str(self._v1().payment_intents.retrieve(intent_id).status)

    def refund(self, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
        import stripe

        try:
            refund = self._v1().refunds.create(
                params={"payment_intent": intent_id, "amount": amount_fen}, options={"idempotency_key": idempotency_key}
            )
        except (stripe.InvalidRequestError, stripe.CardError) as exc:
            raise RuleViolation(str(exc.user_message or exc), code="refund_rejected") from None
        except stripe.StripeError as exc:
            raise ProviderUnavailable(
                f"the payment provider answered: {exc.user_message or type(exc).__name__}"
            ) from exc
        return str(refund.id)

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        import stripe

        if not signature:
            raise ValidationError("Stripe-Signature", "missing_signature", "the Stripe-Signature header is missing")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, self.keys.webhook_secret, TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            raise ValidationError(
                "Stripe-Signature", "invalid_signature", "the signature or timestamp is wrong"
            ) from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise ValidationError("body", "invalid_json", "the event is not JSON") from None
        if not isinstance(event, dict) or "id" not in event or "type" not in event:
            raise ValidationError("body", "invalid_event", "not a Stripe event")
        return event

    def balance_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]:
        """The day's balance transactions, each with the PaymentIntent of its charge."""
        v1 = self._v1()
        # localstripe knows no `created` filter; the range is also checked on each item.
        params: dict[str, Any] = {"limit": 100}
        if not self._local:
            params["created"] = {"gte": created_from, "lt": created_to}
        with _provider_errors():
            listing = v1.balance_transactions.list(params=params)
            items = [t.to_dict() for t in listing.auto_paging_iter()]
        out = []
        for data in items:
            if not created_from <= int(data.get("created", 0)) < created_to:
                continue
            source = data.get("source")
            if data.get("type") in ("charge", "payment") and isinstance(source, str) and source.startswith("ch_"):
                with _provider_errors():
                    data["payment_intent"] = v1.charges.retrieve(source).to_dict().get("payment_intent")
            out.append(data)
        return out

    def settlement_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]:
        """Charge and refund balance transactions of [from, to) for settlement and reconciliation, each
        with the `payment_intent` it belongs to, `stripe_fee` (Stripe's own fees: fee_details without
        application fees, else `fee`), for a charge the `application_fee_amount` the platform kept on a
        destination charge (0 without) and its `metadata`, for a refund its `refund` id. Real Stripe
        expands each source in the listing; localstripe, which cannot, is asked per source."""
        v1 = self._v1()
        params: dict[str, Any] = {"limit": 100}
        if not self._local:
            params["created"] = {"gte": created_from, "lt": created_to}
            params["expand"] = ["data.source"]
        out: list[dict[str, Any]] = []
        with _provider_errors():
            listing = v1.balance_transactions.list(params=params)
            for data in (t.to_dict() for t in listing.auto_paging_iter()):
                if not created_from <= int(data.get("created", 0)) < created_to:
                    continue
                source = data.get("source")
                if isinstance(source, str) and (source.startswith("ch_") or source.startswith("re_")):
                    retrieve = v1.charges.retrieve if source.startswith("ch_") else v1.refunds.retrieve
                    source = retrieve(source).to_dict()
                if not isinstance(source, dict):
                    continue
                if data.get("type") in ("charge", "payment") and source.get("object") == "charge":
                    data["application_fee_amount"] = int(source.get("application_fee_amount") or 0)
                    data["metadata"] = dict(source.get("metadata") or {})
                elif data.get("type") in ("refund", "payment_refund") and source.get("object") == "refund":
                    data["refund"] = source.get("id")
                    if not source.get("payment_intent") and isinstance(source.get("charge"), str):
                        source["payment_intent"] = v1.charges.retrieve(source["charge"]).to_dict().get("payment_intent")
                else:
                    continue  # transfers, payouts, application fees: not an agent's order money
                data["payment_intent"] = source.get("payment_intent")
                details = data.get("fee_details") or []
                stripe_fee = sum(int(d.get("amount", 0)) for d in details if d.get("type") != "application_fee")
                data["stripe_fee"] = stripe_fee if details else int(data.get("fee") or 0)
                data["source"] = source.get("id")
                out.append(data)
        return out


def stripe_keys_loader(config: Any) -> Any:
    """Where the Stripe keys come from: the environment locally, Secrets Manager in AWS.
    Read on first use; a missing key fails loudly (webhooks are never left unverified)."""

    def load() -> StripeKeys:
        if config.is_local:
            if not config.stripe_secret_key or not config.stripe_webhook_secret:
                raise ConfigError("set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for the local stack")
            return StripeKeys(
                config.stripe_secret_key,
                config.stripe_publishable_key or "pk_test_local",
                config.stripe_webhook_secret,
                config.stripe_api_base,
            )
        if not config.stripe_secret_arn:
            raise ConfigError("STRIPE_SECRET_ARN is required in AWS")
        from simrenew.adapters.secrets import SecretValue

        raw = SecretValue(secret_arn=config.stripe_secret_arn, region=config.region).get()
        data = json.loads(raw)
        try:
            return StripeKeys(data["secret_key"], data["publishable_key"], data["webhook_secret"])
        except KeyError as exc:
            raise ConfigError(f"the Stripe secret lacks {exc.args[0]}") from None

    return load


# --- the direct rails of mainland China: WeChat Pay (服务商, partner APIs) and Alipay (ISV) ------------
# The platform is the service provider; each agent is a sub-merchant (特约商户), and the money
# settles to the agent's own account. The two adapters (adapters/wechatpay.py, adapters/alipay.py)
# speak their rail's documented formats; the services see only the types below.

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


class PaymentRails:
    """The direct rails this deployment has (each built on first use), and the sub-merchant
    credentials of an agent (its Alipay token decrypted only when a call needs it)."""

    def __init__(self, rails: dict[str, Any], token_of: Any = None) -> None:
        self._rails = rails  # name -> DirectRail, or a zero-argument factory of one
        self._built: dict[str, DirectRail] = {}
        self._token_of = token_of  # (tenant_id) -> the agent's Alipay app_auth_token
        self._lock = threading.Lock()

    def has(self, name: str) -> bool:
        return name in self._rails

    def get(self, name: str) -> DirectRail:
        if name not in self._built:
            with self._lock:
                if name not in self._built:
                    if name not in self._rails:
                        raise ConfigError(f"the {name} rail is not configured")
                    made = self._rails[name]
                    self._built[name] = made() if callable(made) and not hasattr(made, "prepay") else made
        return self._built[name]

    def sub(self, name: str, tenant_id: str, merchant_id: str) -> SubMerchant:
        if name == ALIPAY:
            token = self._token_of(tenant_id) if self._token_of else None
            return SubMerchant(merchant_id, token)
        return SubMerchant(merchant_id)
