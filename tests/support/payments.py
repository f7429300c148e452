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
        self.cancelled: list[str] = []

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

    def cancel(self, intent_id: str) -> None:
        self.cancelled.append(intent_id)

    def refund(self, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
        self.refunds.append((intent_id, amount_fen, idempotency_key))
        return f"re_fake_{len(self.refunds)}"

    def succeeded_event(
        self, intent_id: str, amount: int | None = None, currency: str = "cny", event_id: str | None = None
    ) -> bytes:
        pi = dict(self.intents[intent_id])
        pi.update(status="succeeded", amount_received=pi["amount"] if amount is None else amount, currency=currency)
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
