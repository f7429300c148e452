"""OrderRepository in memory: orders, their look-ups (order id, PaymentIntent), applied Stripe
events and the renewal ledger, in the real items and keys.

The writes are the real repository's: `_write` is its one transaction (the order, its status in
`allowed` and its version unchanged, the Stripe event once, the terminals by version, the new
items each written once and the counters) as one FakeTable transaction, all or nothing, with the
same cancellation codes, so `commit`, `transition` and `attach_attempt` answer what the real ones do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import (
    OpenOrderItem,
    OrderItem,
    PaymentIntentItem,
    RenewalItem,
    StripeEventItem,
    TenantItem,
    TerminalItem,
)
from simrenew.adapters.dynamodb.order_changes import hit_updates
from simrenew.adapters.dynamodb.orders import (
    RETRYABLE,
    OrderRepository,
    OrderWrite,
    PaymentContext,
    _event_item,
    new_order_items,
    open_public_item,
    to_order,
    with_intent,
)
from simrenew.adapters.dynamodb.paging import Page
from simrenew.clock import iso_utc
from simrenew.domain.orders import Order, OrderStatus
from simrenew.errors import Conflict
from simrenew.ports.fulfilment import Hits
from tests.support.fakes.ratelimit import apply_counters
from tests.support.fakes.table import Cancelled, FakeTable, paged


def _status_in(allowed: frozenset[OrderStatus]) -> Any:
    values = {s.value for s in allowed}
    return lambda stored: isinstance(stored, OrderItem) and stored.status in values


class FakeOrderRepository(OrderRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, order: Order, token_hash: str | None, now: datetime, expires_at: datetime) -> OrderItem:
        item, lookup = new_order_items(order, token_hash, now, expires_at)
        try:
            with self.table.tx() as tx:
                tx.save(item, new=True)
                tx.save(lookup, new=True)
        except Cancelled:
            raise Conflict("the order exists", code="conflict") from None
        return item

    # --- reads --------------------------------------------------------------------------------------
    def item(self, tenant_id: str, order_id: str) -> OrderItem | None:
        return self.table.get(OrderItem, keys.tenant_pk(tenant_id), keys.order_sk(order_id))

    def _via(self, pk: str) -> OrderItem | None:
        lookup = self.table.get(PaymentIntentItem, pk, keys.lookup_sk())
        return self.item(lookup.tenant_id, lookup.order_id) if lookup else None

    def by_order_id(self, order_id: str) -> OrderItem | None:
        return self._via(keys.order_lookup_pk(order_id))

    def by_intent(self, payment_intent_id: str) -> OrderItem | None:
        return self._via(keys.payment_intent_pk(payment_intent_id))

    def event_seen(self, event_id: str) -> bool:
        return self.table.get(StripeEventItem, keys.stripe_event_pk(event_id), keys.stripe_event_sk()) is not None

    def event_and_lookup(self, event_id: str, lookup_id: str) -> tuple[bool, PaymentIntentItem | None]:
        lookup = self.table.get(PaymentIntentItem, keys.payment_intent_pk(lookup_id), keys.lookup_sk())
        return self.event_seen(event_id), lookup

    def payment_context(self, tenant_id: str, order_id: str, sns: Sequence[str], **read: Any) -> PaymentContext:
        """The real one's reads (`with_tenant`, default True; `event_id`), from the fake table."""
        pk = keys.tenant_pk(tenant_id)
        context = PaymentContext(self.item(tenant_id, order_id), sns=frozenset(sns))
        context.event_seen = read.get("event_id") is not None and self.event_seen(read["event_id"])
        if read.get("with_tenant", True):
            context.tenant = self.table.get(TenantItem, pk, keys.tenant_profile_sk())
        for sn in set(sns):
            found = self.table.get(TerminalItem, pk, keys.terminal_sk(sn))
            if found is not None:
                context.terminals[sn] = found
        return context

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        items, next_cursor = paged(self._matching(tenant_id, {"status": status}), limit, cursor)
        return Page([to_order(i) for i in items], next_cursor)

    def _matching(self, tenant_id: str, conditions: dict[str, str | None]) -> list[OrderItem]:
        """Newest first on gsi1; created-at range, status, channel and an SN on any line."""
        lower, upper = conditions.get("lower"), conditions.get("upper")
        status, channel, sn = conditions.get("status"), conditions.get("channel"), conditions.get("sn")
        found = self.table.index(OrderItem, "gsi1pk", keys.orders_gsi1pk(tenant_id), "gsi1sk")[::-1]
        return [
            i
            for i in found
            if (not lower or (i.gsi1sk or "") >= lower)
            and (not upper or (i.gsi1sk or "") < upper)
            and (not status or i.status == status)
            and (not channel or i.channel == channel)
            and (not sn or f'"sn": "{sn}"' in i.lines_json)
        ]

    def filtered_page(
        self, tenant_id: str, conditions: dict[str, str | None], limit: int, cursor: str | None, budget: int
    ) -> Page[Order]:
        items, next_cursor = paged(self._matching(tenant_id, conditions), limit, cursor)
        return Page([to_order(i) for i in items], next_cursor)

    def count_filtered(self, tenant_id: str, conditions: dict[str, str | None], budget: int) -> int | None:
        return len(self._matching(tenant_id, conditions))

    def pending_due(self, shard: int, before: datetime, limit: int) -> list[OrderItem]:
        due = [
            i
            for i in self.table.scan(OrderItem)
            if i.gsi2pk == keys.pending_orders_gsi2pk(shard) and (i.gsi2sk or "") < iso_utc(before)
        ]
        return sorted(due, key=lambda i: i.gsi2sk or "")[:limit]

    def renewals(self, tenant_id: str, sn: str) -> list[RenewalItem]:
        return self.table.query(RenewalItem, keys.tenant_pk(tenant_id), keys.renewals_prefix(sn))

    # --- the pay page's open orders ---------------------------------------------------------------------
    def open_public(self, tenant_id: str, sn: str, plan_id: str) -> OpenOrderItem | None:
        return self.table.get(OpenOrderItem, keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id))

    def remember_open_public(
        self, order: Order, sn: str, plan_id: str, token: str, client_secret: str, expires_at: datetime
    ) -> None:
        self.table.put(open_public_item(order, sn, plan_id, token, client_secret, expires_at))

    def forget_open_public(self, tenant_id: str, sn: str, plan_id: str, order_id: str) -> None:
        key = (keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id))
        try:
            with self.table.tx() as tx:
                tx.delete(key, check=lambda stored: getattr(stored, "order_id", None) == order_id)
        except Cancelled:
            pass  # another order holds the slot (or none): nothing to forget

    # --- writes: the real methods over `_write`, one FakeTable transaction -------------------------------
    def attach_intent(self, item: OrderItem, payment_intent_id: str, now: datetime) -> None:
        lookup = with_intent(item, payment_intent_id, now)
        with self.table.tx() as tx:
            tx.save(item)
            tx.save(lookup, new=True)

    def _write(self, write: OrderWrite, failure: str, handled: tuple[str, ...] = RETRYABLE) -> list[str | None] | None:
        try:
            with self.table.tx() as tx:
                tx.save(write.order, check=None if write.allowed is None else _status_in(write.allowed))
                if write.event is not None:
                    tx.save(write.event, new=True)
                for saved in write.saves:
                    tx.save(saved)
                for line in write.items:
                    tx.save(line, new=True)
                apply_counters(tx, write.counters)
        except Cancelled as exc:
            return exc.codes
        return None

    def record_event(self, event_id: str, event_type: str, outcome: str, now: datetime) -> bool:
        try:
            self.table.put(_event_item(event_id, event_type, outcome, now), new=True)
        except Cancelled:
            return False
        return True

    # --- the payment port (simrenew.ports.fulfilment): `apply` is the real one, over the real `commit` ---
    def count_hits(self, hits: Sequence[Hits], now: datetime) -> None:
        with self.table.tx() as tx:
            apply_counters(tx, hit_updates(hits, now))
