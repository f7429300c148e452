"""The public (pay page) order's writes at their floor (issue 17): the order is written in one
transaction that also carries every rule that used to be a request of its own, and its
PaymentIntent is attached in one more, together with the open-order slot the next merchant reuses.

1. create: Put the order and its look-up, ConditionCheck the tenant's version and status (a price or
   setting read from the per-container context is the stored one), ConditionCheck the terminal
   (still there, not deactivated: it was read from an eventually consistent index), ConditionCheck the
   paid-renewals counter, Update the open-orders counter. Cancelled → nothing written.
2. attach: Put the order with its PaymentIntent id, the PaymentIntent look-up and the open-order slot
   (which carries the pubsn / pubtid keys, so the pay page's one Query finds it with the terminal).

CheckoutStore is simrenew.ports.checkout.CheckoutStore over these writes and the terminal and order
repositories' reads: the checkout service speaks only to it (and hands the per-container caches of
tenant_context.py to the service as `contexts` and `merchant_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.exceptions import TransactWriteError

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import TerminalRepository, to_terminal
from simrenew.adapters.dynamodb.models import (
    Item,
    OpenOrderItem,
    OrderItem,
    PaymentIntentItem,
    TenantItem,
    TerminalItem,
    Transaction,
)
from simrenew.adapters.dynamodb.orders import PENDING_SHARDS, OrderRepository, new_order_items, to_order, with_intent
from simrenew.adapters.dynamodb.ratelimit import RateLimiter
from simrenew.adapters.dynamodb.tenant_context import CONTEXTS, MERCHANT_NAMES
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.orders import OpenSlot, Order, PublicGuards
from simrenew.errors import TransientStoreError

if TYPE_CHECKING:
    from simrenew.ports.checkout import MerchantNames, TenantContexts


class GuardsFailed(Exception):
    """The create transaction was cancelled by one of the guards: `codes` in the order they were added
    (tenant, terminal, then the caller's), None where that one was fine."""

    def __init__(self, codes: list[str | None]) -> None:
        super().__init__(f"public order refused: {codes}")
        self.codes = codes


class PublicOrderRepository:
    def create(
        self,
        order: Order,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
        guards: PublicGuards,
        limits: Callable[[Transaction], None],
    ) -> OrderItem:
        item, lookup = new_order_items(order, token_hash, now, expires_at)
        tenant_pk = keys.tenant_pk(order.tenant_id)
        try:
            with Transaction() as tx:
                tx.condition_check(
                    TenantItem,
                    tenant_pk,
                    keys.tenant_profile_sk(),
                    condition=(TenantItem.version == guards.tenant_version) & (TenantItem.status == "active"),
                )
                tx.condition_check(
                    TerminalItem,
                    tenant_pk,
                    keys.terminal_sk(guards.sn),
                    condition=TerminalItem.pk.exists() & (TerminalItem.status != TerminalStatus.DEACTIVATED.value),
                )
                limits(tx)
                tx.save(item, condition=OrderItem.pk.does_not_exist())
                tx.save(lookup, condition=PaymentIntentItem.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = tx.codes(exc)
            if "ConditionalCheckFailed" in codes[:-2]:
                raise GuardsFailed(codes[:-2]) from None
            raise TransientStoreError("could not save the order; retry") from exc
        return item

    def attach(self, item: OrderItem, payment_intent_id: str, now: datetime, slot: OpenSlot) -> None:
        """The PaymentIntent on the order, its look-up, and the slot the next merchant reuses: one write."""
        lookup = with_intent(item, payment_intent_id, now)
        with Transaction() as tx:
            tx.save(item)
            tx.save(lookup, condition=PaymentIntentItem.pk.does_not_exist())
            tx.save(open_order_slot(item, slot))


def open_order_slot(item: OrderItem, slot: OpenSlot) -> OpenOrderItem:
    """The open-order slot of an order with its PaymentIntent: under the tenant, with the terminal's
    pubsn / pubtid keys (the pay page's one Query finds it beside the terminal), gone at expiry."""
    return OpenOrderItem(
        item.pk,
        keys.open_public_order_sk(slot.sn, slot.plan_id),
        order_id=item.order_id,
        order_token=slot.token,
        client_secret=slot.client_secret,
        payment_intent_id=item.payment_intent_id,
        expires_at=item.expires_at,
        ttl=item.expires_at,
        pubsn_pk=keys.public_sn_pk(slot.sn),
        pubtid_pk=keys.public_tid_pk(slot.tid),
    )


def found_with(items: list[Item], tenant_id: str, sn: str, plan_id: str) -> OpenOrderItem | None:
    """The open-order slot for this terminal and plan among what the pay page's Query returned."""
    want = (keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id))
    return next((i for i in items if isinstance(i, OpenOrderItem) and (i.pk, i.sk) == want), None)


class CheckoutStore:
    """simrenew.ports.checkout.CheckoutStore over the table: the pay page's reads (through the
    terminal and order repositories it is given) and its two writes (PublicOrderRepository). The
    per-container caches are this module's state (tenant_context.CONTEXTS, MERCHANT_NAMES)."""

    pending_shards = PENDING_SHARDS

    def __init__(
        self,
        terminals: TerminalRepository,
        orders: OrderRepository,
        rate: RateLimiter,
        contexts: TenantContexts = CONTEXTS,
        merchant_names: MerchantNames = MERCHANT_NAMES,
    ) -> None:
        self._terminals = terminals
        self._orders = orders
        self._rate = rate
        self._writes = PublicOrderRepository()
        self.contexts = contexts
        self.merchant_names = merchant_names

    def order(self, stored: OrderItem) -> Order:
        return to_order(stored)

    def record(self, stored: OrderItem) -> OrderItem:
        return stored

    def claimed(self, kind: str, value: str) -> tuple[str, str] | None:
        claim = self._terminals.claim(kind, value)
        return (claim.tenant_id, claim.sn) if claim is not None else None

    def public_terminal(self, kind: str, value: str) -> tuple[Terminal, Sequence[object] | None] | None:
        item, others = self._terminals.public(kind, value)
        return (to_terminal(item), others) if item is not None else None

    def open_order(
        self, tenant_id: str, sn: str, slot: str, beside: Sequence[object] | None = None
    ) -> OpenOrderItem | None:
        if beside is None:  # nothing read beside the terminal: the slot on its own (one GetItem)
            return self._orders.open_public(tenant_id, sn, slot)
        return found_with([i for i in beside if isinstance(i, Item)], tenant_id, sn, slot)

    def create_public(
        self, order: Order, token_hash: str, now: datetime, expires_at: datetime, guards: PublicGuards
    ) -> tuple[OrderItem | None, list[str | None]]:
        def limits(tx: Transaction) -> None:
            for bucket, subject, limit, window_s in guards.checks:
                self._rate.check_in(tx, bucket, subject, limit=limit, window_s=window_s, now=now)
            for bucket, subject, limit, window_s in guards.hits:
                self._rate.hit_in(tx, bucket, subject, limit=limit, window_s=window_s, now=now)

        try:
            item = self._writes.create(order, token_hash, now, expires_at, guards, limits)
        except GuardsFailed as exc:
            return None, exc.codes
        return item, []

    def attach_public(self, stored: OrderItem, payment_intent_id: str, now: datetime, slot: OpenSlot) -> None:
        self._writes.attach(stored, payment_intent_id, now, slot)
