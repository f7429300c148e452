"""A payment gateway for unit tests that signs its webhook events with the real Stripe
scheme (t=…,v1=HMAC-SHA256), so the webhook function verifies them as in production."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
import time
from typing import Any, Unpack

from simrenew.adapters.payments import Intent, IntentRequest, Notice, StripeGateway, StripeKeys
from simrenew.errors import ProviderUnavailable, RuleViolation

_ids = itertools.count(1)


def sign(payload: bytes, secret: str, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    body = {
        "id": event_id or f"evt_{next(_ids):08d}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def succeeded_for(order: dict[str, Any], event_id: str) -> bytes:
    """The payment_intent.succeeded event Stripe sends for an order answered by the API."""
    obj = {
        "id": order["payment_intent_id"],
        "object": "payment_intent",
        "amount": order["amount_fen"],
        "amount_received": order["amount_fen"],
        "currency": "cny",
        "status": "succeeded",
    }
    return event("payment_intent.succeeded", obj, event_id)


class FakeGateway(StripeGateway):
    """Stripe's API faked in memory; verification is the real StripeGateway code."""

    def __init__(self, webhook_secret: str) -> None:
        super().__init__(lambda: StripeKeys("sk_test_fake", "pk_test_fake", webhook_secret), local=True)
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: list[tuple[str, int, str]] = []
        self._refund_ids: dict[str, str] = {}  # idempotency key → refund id, as Stripe keeps them
        self.cancelled: list[str] = []
        self.refund_faults: list[Exception] = []  # raised by the next refund calls, in order
        self.lost_answers = 0  # the next refunds are made, but their answer never arrives

    def create_intent(self, **request: Unpack[IntentRequest]) -> Intent:
        pi = f"pi_fake_{next(_ids):08d}"
        self.intents[pi] = {
            "id": pi,
            "object": "payment_intent",
            "amount": request["amount_fen"],
            "amount_received": 0,
            "currency": "cny",
            "status": "requires_payment_method",
            "metadata": request["metadata"],
            "methods": request["methods"],
            "application_fee_amount": request["application_fee_fen"],
            "connected_account": request["connected_account"],
        }
        return Intent(pi, f"{pi}_secret_x", "requires_payment_method")

    def confirm(self, intent_id: str, payment_method: str) -> str:
        pi = self.intents[intent_id]
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        return "succeeded"

    def cancel(self, intent_id: str) -> str:
        pi = self.intents.get(intent_id)
        if pi is None:  # another test's PaymentIntent (the table is shared): gone already
            return "canceled"
        if pi["status"] == "succeeded":
            return "succeeded"
        pi["status"] = "canceled"
        self.cancelled.append(intent_id)
        return "canceled"

    def refund(self, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
        """Stripe's rules: the same key gives the same refund; refunds never exceed the charge."""
        if self.refund_faults:
            raise self.refund_faults.pop(0)
        if idempotency_key in self._refund_ids:
            return self._refund_ids[idempotency_key]
        pi = self.intents.get(intent_id, {})
        done = sum(a for i, a, _k in self.refunds if i == intent_id)
        if pi.get("status") != "succeeded" or done + amount_fen > pi.get("amount_received", 0):
            raise RuleViolation("the refund is more than is left on the charge", code="refund_rejected")
        self.refunds.append((intent_id, amount_fen, idempotency_key))
        self._refund_ids[idempotency_key] = f"re_fake_{len(self.refunds)}"
        if self.lost_answers:
            self.lost_answers -= 1
            raise ProviderUnavailable("the connection dropped before Stripe answered")
        return self._refund_ids[idempotency_key]

    def refunded(self, intent_id: str) -> int:
        return sum(a for i, a, _k in self.refunds if i == intent_id)

    def charge_refunded_event(self, intent_id: str, event_id: str | None = None) -> bytes:
        """The charge.refunded event Stripe sends after any refund: the cumulative amount."""
        obj = {
            "id": f"ch_{intent_id}",
            "object": "charge",
            "payment_intent": intent_id,
            "amount_refunded": self.refunded(intent_id),
        }
        return event("charge.refunded", obj, event_id)

    def succeeded_event(
        self, intent_id: str, amount: int | None = None, currency: str = "cny", event_id: str | None = None
    ) -> bytes:
        # The event says the payment succeeded: so it has, on this fake Stripe too.
        self.intents[intent_id].update(
            status="succeeded", amount_received=self.intents[intent_id]["amount"] if amount is None else amount
        )
        pi = dict(self.intents[intent_id], currency=currency)
        return event("payment_intent.succeeded", pi, event_id)

    def balance_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]:
        return [
            {"id": f"txn_{pi['id']}", "type": "charge", "amount": pi["amount_received"], "payment_intent": pi["id"]}
            for pi in self.intents.values()
            if pi["status"] == "succeeded"
        ]

    # --- settlement: what Stripe's balance shows (charges and refunds with their fees) ---------
    fees: dict[str, int]  # payment intent -> Stripe's fee on its charge (fen), set by a test
    stripe_only: list[dict[str, Any]]  # balance transactions our orders know nothing about

    def settlement_transactions(self, created_from: int, created_to: int) -> list[dict[str, Any]]:
        fees: dict[str, int] = getattr(self, "fees", {})
        now = int(time.time())
        out = [
            {
                "id": f"txn_{pi['id']}",
                "type": "charge",
                "created": now,
                "amount": pi["amount_received"],
                "payment_intent": pi["id"],
                "stripe_fee": fees.get(pi["id"], 0),
                "application_fee_amount": pi["application_fee_amount"] if pi["connected_account"] else 0,
                "metadata": pi["metadata"],
                "source": f"ch_{pi['id']}",
            }
            for pi in self.intents.values()
            if pi["status"] == "succeeded"
        ]
        out += [
            {
                "id": f"txn_re_{i}",
                "type": "refund",
                "created": now,
                "amount": -refund[1],
                "payment_intent": refund[0],
                "stripe_fee": 0,
                "refund": f"re_fake_{i}",
                "source": f"re_fake_{i}",
            }
            for i, refund in enumerate(self.refunds, start=1)
        ]
        return out + list(getattr(self, "stripe_only", []))


# --- the direct rails (WeChat Pay partner, Alipay ISV) faked in memory, for the stateful money test --
# The money rules run through the same services as with the real adapters; the adapters themselves
# (signatures, encryption, documented shapes) are tested against the local platforms.


class FakeRail:
    """A direct rail's rules: one trade per out_trade_no, refunds idempotent by out_refund_no and
    never more than was paid, notifications keyed by what they say (as the real adapters key them)."""

    keys = "fake credentials"

    def __init__(self, name: str) -> None:
        self.name = name
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: list[tuple[str, int, str]] = []  # (out_trade_no, fen, out_refund_no)
        self._refund_ids: dict[str, str] = {}
        self.refund_faults: list[Exception] = []
        self.lost_answers = 0

    # DirectRail ------------------------------------------------------------------------------------
    def prepay(self, request: Any) -> Any:
        from simrenew.adapters.payments import Charge

        trade = self.trades.setdefault(
            request.out_trade_no,
            {"amount": request.amount_fen, "state": "open", "sub": request.sub.merchant_id, "received": 0},
        )
        if request.kind in ("h5", "wap"):
            return Charge(self.name, request.out_trade_no, request.kind, h5_url=f"fake://{request.out_trade_no}")
        del trade
        return Charge(self.name, request.out_trade_no, request.kind, code_url=f"fake://{request.out_trade_no}")

    def query(self, out_trade_no: str, sub: Any) -> Any:
        from simrenew.adapters.payments import Trade

        trade = self.trades.get(out_trade_no)
        if trade is None:
            return Trade("unknown")
        return Trade(trade["state"], trade["received"] if trade["state"] == "paid" else trade["amount"])

    def close(self, out_trade_no: str, sub: Any) -> None:
        trade = self.trades.get(out_trade_no)
        if trade is not None and trade["state"] == "open":
            trade["state"] = "closed"

    def refund(self, trade: Any, sub: Any, amount_fen: int, out_refund_no: str) -> str:
        if self.refund_faults:
            raise self.refund_faults.pop(0)
        if out_refund_no in self._refund_ids:
            return self._refund_ids[out_refund_no]
        got = self.trades.get(trade.out_trade_no, {})
        if got.get("state") != "paid" or self.refunded(trade.out_trade_no) + amount_fen > got.get("received", 0):
            raise RuleViolation("the refund is more than is left on the trade", code="refund_rejected")
        self.refunds.append((trade.out_trade_no, amount_fen, out_refund_no))
        self._refund_ids[out_refund_no] = f"{self.name}_refund_{len(self.refunds)}"
        if self.lost_answers:
            self.lost_answers -= 1
            raise ProviderUnavailable("the connection dropped before the rail answered")
        return self._refund_ids[out_refund_no]

    def verify_notification(self, headers: dict[str, str], body: bytes) -> Any:
        from simrenew.errors import AuthenticationError

        if headers.get("x-fake-signature") != "ok":
            raise AuthenticationError("unsigned", code="invalid_signature")
        return Notice(**json.loads(body))

    def bill(self, day: Any, sub: Any) -> list[Any]:
        return []

    # onboarding (Alipay: whose app a token is; the token sealed at rest) -----------------------------
    def authorised_app(self, token: str) -> str:
        return "2021000000000555"

    def seal_token(self, token: str) -> str:
        return "sealed:" + token

    def unseal_token(self, sealed: str) -> str:
        return sealed.removeprefix("sealed:")

    # what the rail sends -----------------------------------------------------------------------------
    def refunded(self, out_trade_no: str) -> int:
        return sum(a for o, a, _k in self.refunds if o == out_trade_no)

    def paid_notice(self, out_trade_no: str) -> bytes:
        trade = self.trades[out_trade_no]
        if trade["state"] != "closed":
            trade.update(state="paid", received=trade["amount"])
        said = "SUCCESS" if self.name == "wechatpay" else "TRADE_SUCCESS"
        return self._sent(
            Notice.payment(self.name, out_trade_no, trade["sub"], said, "paid", amount_fen=trade["amount"])
        )

    def refund_notice(self, out_trade_no: str, amount_fen: int, out_refund_no: str) -> bytes:
        """WeChat Pay tells each refund; Alipay the trade's refunded total so far."""
        sub = self.trades[out_trade_no]["sub"]
        amounts: dict[str, Any]
        if self.name == "wechatpay":
            refund_id = self._refund_ids.get(out_refund_no)
            said, amounts = "SUCCESS", {"refund_fen": amount_fen, "provider_refund_id": refund_id}
        else:
            total = self.refunded(out_trade_no)
            said, amounts = str(total), {"refunded_total_fen": total}
        notice = Notice.refund(self.name, out_trade_no, sub, out_refund_no, said, "succeeded", **amounts)
        return self._sent(notice)

    @staticmethod
    def _sent(notice: Notice) -> bytes:
        """What the rail sends, as verify_notification reads it back."""
        return json.dumps(dataclasses.asdict(notice)).encode()
