"""The payment events port: what the Stripe events and the direct rails' notifications read and
write about an order, in domain values. The stored order and what a payment reads with it (its
tenant and terminals) stay opaque: the services hand them back to the adapter, whose writes are
each one conditional transaction (the event's record in it). The DynamoDB adapter is
simrenew.adapters.dynamodb.payment_events.PaymentEventStore.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from simrenew.domain.orders import Order, OrderStatus, PaymentAttempt, StatusMove

#: An order as the store holds it, and what a payment reads with it: opaque to the services.
StoredOrder = TypeVar("StoredOrder")
PaymentRead_co = TypeVar("PaymentRead_co", covariant=True)
StoredOrder_contra = TypeVar("StoredOrder_contra", contravariant=True)
PaymentRead_contra = TypeVar("PaymentRead_contra", contravariant=True)


@dataclass(frozen=True)
class IntentLookup:
    """A payment's global look-up (PaymentIntent or out_trade_no → the order and its lines' SNs)."""

    tenant_id: str
    order_id: str
    sns: tuple[str, ...]


class PaymentEvents(Protocol[StoredOrder, PaymentRead_co]):
    def item(self, tenant_id: str, order_id: str) -> StoredOrder | None:
        """The tenant's stored order (None when missing or another tenant's), read consistently."""
        ...

    def order(self, stored: StoredOrder) -> Order:
        """The stored order as the domain sees it."""
        ...

    def charged(self, stored: StoredOrder) -> tuple[int, str]:
        """What the order asks the payer for: (amount in fen, currency), as stored."""
        ...

    def by_intent(self, payment_intent_id: str) -> StoredOrder | None:
        """The order of a PaymentIntent or a direct-rail trade (out_trade_no)."""
        ...

    def event_and_intent(self, event_id: str, lookup_id: str) -> tuple[bool, IntentLookup | None]:
        """In one read: was this event applied already, and the look-up of the payment it is about."""
        ...

    def payment_read(
        self, tenant_id: str, order_id: str, sns: tuple[str, ...]
    ) -> tuple[StoredOrder | None, PaymentRead_co]:
        """In one read: the order, its tenant and the terminals of `sns` (handed on to fulfilment)."""
        ...

    def event_and_payment(
        self, event_id: str, tenant_id: str, order_id: str, sns: tuple[str, ...]
    ) -> tuple[bool, StoredOrder | None, PaymentRead_co]:
        """In one read: was this event applied already, the order, its tenant and the terminals of
        `sns` (a payment whose event names its order: no look-up first)."""
        ...

    def event_seen(self, event_id: str) -> bool: ...

    def record_event(self, event_id: str, event_type: str, outcome: str, now: datetime) -> bool:
        """Record an event that changed nothing; False when it was already recorded."""
        ...

    def transition(self, item: StoredOrder, move: StatusMove, now: datetime) -> bool:
        """Move the order to `move.to` if its status is in `move.allowed`, with the event's record (once)."""
        ...

    def commit(
        self,
        order_item: StoredOrder,
        order: Order,
        allowed: frozenset[OrderStatus],
        now: datetime,
        *,
        event: tuple[str, str] | None = None,
        event_outcome: str = "applied",
    ) -> str:
        """Write the order's new state (its status in `allowed`, its version unchanged) with the
        event's record: "ok", "order_state" or "duplicate_event"."""
        ...

    def attach_attempt(self, item: StoredOrder, attempt: PaymentAttempt, now: datetime) -> StoredOrder:
        """Record a direct-rail trade on the order and its global look-up (out_trade_no → order), once."""
        ...


# --- what an event is applied through: the fulfilment and refund services (simrenew.services) ------


class Fulfilments(Protocol[StoredOrder_contra, PaymentRead_contra]):
    def fulfil(
        self,
        item: StoredOrder_contra,
        event: tuple[str, str] | None,
        audit: dict[str, Any],
        *,
        paid_via: str,
        paid_fen: int,
        context: PaymentRead_contra | None = None,
    ) -> str:
        """Renew every line, paid by `paid_via`, in one transaction with the event's record."""
        ...

    def review(
        self,
        item: StoredOrder_contra,
        event: tuple[str, str] | None,
        reason: str,
        paid_via: str | None = None,
        paid_fen: int = 0,
    ) -> str:
        """Record the money on the order and park it for the agent (nothing renewed)."""
        ...


class Refunds(Protocol[StoredOrder_contra]):
    def from_charge(
        self, item: StoredOrder_contra, payment_intent_id: str, amount_refunded: int, ref: tuple[str, str]
    ) -> str:
        """Book what the payment's cumulative refunded amount says beyond what the order knows."""
        ...

    def refund_failed(self, item: StoredOrder_contra, provider_refund_id: str, ref: tuple[str, str]) -> str: ...

    def return_duplicate(
        self,
        item: StoredOrder_contra,
        payment_intent_id: str,
        amount_fen: int,
        currency: str,
        ref: tuple[str, str],
        provider: str = "stripe",
    ) -> str:
        """Record a second payment of the order and return it in full."""
        ...

    def confirm_reserved(self, tenant_id: str, order_id: str, refund_id: str, provider_id: str | None) -> None: ...
