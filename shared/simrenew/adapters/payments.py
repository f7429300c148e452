"""The Stripe adapter of the payment gateway port (simrenew.ports.payments), and the direct rails'
registry. `stripe` is imported only here, on first use.

PaymentIntents in CNY, an idempotency key derived from the order, destination charges
with an application fee when the agent has a connected account. Webhook payloads are
verified on the raw body with the endpoint secret (5-minute tolerance).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, Unpack

from simrenew.adapters.secrets import Once
from simrenew.errors import ConfigError, ProviderUnavailable, RuleViolation, ValidationError
from simrenew.ports.payments import (
    ALIPAY as ALIPAY,
)
from simrenew.ports.payments import (
    CLIENTS as CLIENTS,
)
from simrenew.ports.payments import (
    DIRECT_RAILS as DIRECT_RAILS,
)
from simrenew.ports.payments import (
    RAIL_OF_METHOD as RAIL_OF_METHOD,
)
from simrenew.ports.payments import (
    WECHATPAY as WECHATPAY,
)
from simrenew.ports.payments import (
    BillRow as BillRow,
)
from simrenew.ports.payments import (
    Charge as Charge,
)
from simrenew.ports.payments import (
    DirectRail as DirectRail,
)
from simrenew.ports.payments import (
    Intent as Intent,
)
from simrenew.ports.payments import (
    IntentRequest as IntentRequest,
)
from simrenew.ports.payments import (
    Notice as Notice,
)
from simrenew.ports.payments import (
    PaymentGateway as PaymentGateway,
)
from simrenew.ports.payments import (
    Prepay as Prepay,
)
from simrenew.ports.payments import (
    SubMerchant as SubMerchant,
)
from simrenew.ports.payments import (
    Trade as Trade,
)
from simrenew.ports.payments import (
    TradeRef as TradeRef,
)

TOLERANCE_S = 300


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str | None = None  # localstripe locally; None means api.stripe.com


STRIPE_JS = "https://js.stripe.com/v3/"
# The local stack serves localstripe's fake Stripe.js on the API's own origin (infra/localserver.py).
LOCAL_STRIPE_JS = "/_local/stripe.js"


@contextlib.contextmanager
def unavailable_on(errors: type[Exception], say: Callable[[Any], str]) -> Iterator[None]:
    """A provider's `errors` (the network, or its SDK's) as ProviderUnavailable: what `say` says of one."""
    try:
        yield
    except errors as exc:
        raise ProviderUnavailable(say(exc)) from exc


def _stripe_said(exc: Any) -> str:
    return f"the payment provider answered: {exc.user_message or type(exc).__name__}"


def _provider_errors() -> contextlib.AbstractContextManager[None]:
    import stripe

    return unavailable_on(stripe.StripeError, _stripe_said)


class StripeGateway:
    def __init__(self, keys_loader: Any, local: bool) -> None:
        self._keys: Once[StripeKeys] = Once(keys_loader)
        self._local = local
        self._client: Any = None

    @property
    def keys(self) -> StripeKeys:
        return self._keys.get()

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

    def create_intent(self, **request: Unpack[IntentRequest]) -> Intent:
        # localstripe knows cards only; real Stripe gets the agent's methods.
        params: dict[str, Any] = {
            "amount": request["amount_fen"],
            "currency": "cny",
            "payment_method_types": ["card"] if self._local else request["methods"],
            "metadata": request["metadata"],
        }
        connected_account = request["connected_account"]
        if connected_account and not self._local:
            params["application_fee_amount"] = request["application_fee_fen"]
            params["transfer_data"] = {"destination": connected_account}
        idempotency_key = f"order-{request['order_id']}"
        with _provider_errors():
            pi = self._v1().payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
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
            raise ProviderUnavailable(_stripe_said(exc)) from exc
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
# speak their rail's documented formats; the services see only the port's types (simrenew.ports.payments).


K = TypeVar("K")


class RailGateway(Generic[K]):
    """What the adapters of the two direct rails share: their credentials (keys), read on first
    use, and the address the rail sends its notifications to."""

    name: str

    def __init__(self, keys_loader: Callable[[], K], notify_url: str) -> None:
        self._keys = Once(keys_loader)
        self._notify_url = notify_url

    @property
    def keys(self) -> K:
        return self._keys.get()


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
