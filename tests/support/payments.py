"""A payment gateway for unit tests that signs its webhook events with the real Stripe
scheme (t=…,v1=HMAC-SHA256), so the webhook function verifies them as in production."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from simrenew.adapters.payments import Intent, StripeGateway, StripeKeys
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
        pi = f"pi_fake_{next(_ids):08d}"
        self.intents[pi] = {
            "id": pi,
            "object": "payment_intent",
            "amount": amount_fen,
            "amount_received": 0,
            "currency": "cny",
            "status": "requires_payment_method",
            "metadata": metadata,
            "methods": methods,
            "application_fee_amount": application_fee_fen,
            "connected_account": connected_account,
        }
        return Intent(pi, f"{pi}_secret_x", "requires_payment_method")

    def confirm(self, intent_id: str, payment_method: str) -> str:
        pi = self.intents[intent_id]
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        return "succeeded"

    def cancel(self, intent_id: str) -> str:
        pi = self.intents[intent_id]
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
