"""The DynamoDB adapter of the payment events port (simrenew.ports.payment_events): the stored
order is the OrderItem, what a payment reads with it the PaymentContext of one BatchGetItem.

It reads and writes through the OrderRepository it is given (each call is that repository's one
request or one transaction, unchanged), and turns its items into domain values.
"""

from __future__ import annotations

from datetime import datetime

from simrenew.adapters.dynamodb.models import OrderItem
from simrenew.adapters.dynamodb.orders import OrderRepository, PaymentContext, to_order
from simrenew.domain.orders import Order, OrderStatus, PaymentAttempt, StatusMove
from simrenew.ports.payment_events import IntentLookup


class PaymentEventStore:
    def __init__(self, orders: OrderRepository) -> None:
        self.orders = orders

    def item(self, tenant_id: str, order_id: str) -> OrderItem | None:
        return self.orders.item(tenant_id, order_id)

    def order(self, stored: OrderItem) -> Order:
        return to_order(stored)

    def charged(self, stored: OrderItem) -> tuple[int, str]:
        return int(stored.amount_fen), stored.currency

    def by_intent(self, payment_intent_id: str) -> OrderItem | None:
        return self.orders.by_intent(payment_intent_id)

    def event_and_intent(self, event_id: str, lookup_id: str) -> tuple[bool, IntentLookup | None]:
        seen, lookup = self.orders.event_and_lookup(event_id, lookup_id)
        if lookup is None:
            return seen, None
        return seen, IntentLookup(lookup.tenant_id, lookup.order_id, tuple(str(sn) for sn in lookup.sns or []))

    def payment_read(
        self, tenant_id: str, order_id: str, sns: tuple[str, ...]
    ) -> tuple[OrderItem | None, PaymentContext]:
        context = self.orders.payment_context(tenant_id, order_id, list(sns))
        return context.order, context

    def event_and_payment(
        self, event_id: str, tenant_id: str, order_id: str, sns: tuple[str, ...]
    ) -> tuple[bool, OrderItem | None, PaymentContext]:
        context = self.orders.payment_context(tenant_id, order_id, list(sns), event_id=event_id)
        return context.event_seen, context.order, context

    def event_seen(self, event_id: str) -> bool:
        return self.orders.event_seen(event_id)

    def record_event(self, event_id: str, event_type: str, outcome: str, now: datetime) -> bool:
        return self.orders.record_event(event_id, event_type, outcome, now)

    def transition(self, item: OrderItem, move: StatusMove, now: datetime) -> bool:
        return self.orders.transition(item, move, now)

    def commit(
        self,
        order_item: OrderItem,
        order: Order,
        allowed: frozenset[OrderStatus],
        now: datetime,
        *,
        event: tuple[str, str] | None = None,
        event_outcome: str = "applied",
    ) -> str:
        return self.orders.commit(order_item, order, allowed, now, event=event, event_outcome=event_outcome)

    def attach_attempt(self, item: OrderItem, attempt: PaymentAttempt, now: datetime) -> OrderItem:
        return self.orders.attach_attempt(item, attempt, now)
