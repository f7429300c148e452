"""The pay page's store in memory (simrenew.ports.checkout): the real CheckoutStore's reads over the
fake repositories, its two writes as FakeTable transactions with the same guards in the same order
(tenant version and status, terminal there and not deactivated, the counters), built from the real
adapter's item builders; and a tenant-context cache that reads the FakeTable, with the real TTL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item, OpenOrderItem, OrderItem, TenantItem, TerminalItem
from simrenew.adapters.dynamodb.orders import new_order_items, with_intent
from simrenew.adapters.dynamodb.public_orders import CheckoutStore, open_order_slot
from simrenew.adapters.dynamodb.tenant_context import (
    CONTEXT_TTL_S,
    MerchantNameCache,
    TenantContext,
    TenantContextCache,
)
from simrenew.adapters.dynamodb.tenants import to_domain
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.orders import OpenSlot, Order, PublicGuards
from simrenew.errors import TransientStoreError
from tests.support.fakes.fleet import FakePlanRepository, FakeTerminalRepository
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.ratelimit import FakeRateLimiter, _key, add_hits
from tests.support.fakes.table import FAILED, Cancelled, Check, FakeTable


class FakeTenantContexts(TenantContextCache):
    """TenantContextCache over the FakeTable: the profile (with its version) and every plan, kept
    for the TTL (the real cache's own get and invalidate); `reads` counts the reads (a stale context
    read again shows there)."""

    def __init__(self, table: FakeTable, ttl_s: int = CONTEXT_TTL_S) -> None:
        super().__init__(ttl_s)
        self.table = table
        self._plans = FakePlanRepository(table)
        self.reads = 0

    def _read(self, tenant_id: str, now: datetime) -> TenantContext | None:
        self.reads += 1
        profile = self.table.get(TenantItem, keys.tenant_pk(tenant_id), keys.tenant_profile_sk())
        if profile is None:
            return None
        plans = tuple(self._plans.all(tenant_id))
        return TenantContext(to_domain(profile), plans, int(profile.version or 0), now)


def _tenant_is(version: int) -> Check:
    def check(stored: Item | None) -> bool:
        return isinstance(stored, TenantItem) and stored.version == version and stored.status == "active"

    return check


def _renewable(stored: Item | None) -> bool:
    return isinstance(stored, TerminalItem) and stored.status != TerminalStatus.DEACTIVATED.value


class FakeCheckoutStore(CheckoutStore):
    def __init__(
        self,
        table: FakeTable,
        terminals: FakeTerminalRepository,
        orders: FakeOrderRepository,
        rate: FakeRateLimiter,
        contexts: FakeTenantContexts | None = None,
    ) -> None:
        self.table = table
        super().__init__(terminals, orders, rate, contexts or FakeTenantContexts(table), MerchantNameCache())

    def public_terminal(self, kind: str, value: str) -> tuple[Terminal, Sequence[object] | None] | None:
        """The terminal (the fake repository finds it by its claim) and, as the pubsn / pubtid index
        returns them beside it, the open-order slots carrying the same public key."""
        found = super().public_terminal(kind, value)
        if found is None:
            return None
        attr, pk = ("pubtid_pk", keys.public_tid_pk(value)) if kind == "tid" else ("pubsn_pk", keys.public_sn_pk(value))
        return found[0], [i for i in self.table.scan(OpenOrderItem) if getattr(i, attr) == pk]

    def create_public(
        self, order: Order, token_hash: str, now: datetime, expires_at: datetime, guards: PublicGuards
    ) -> tuple[OrderItem | None, list[str | None]]:
        item, lookup = new_order_items(order, token_hash, now, expires_at)
        pk = keys.tenant_pk(order.tenant_id)
        epoch = int(now.timestamp())
        try:
            with self.table.tx() as tx:
                tx.condition((pk, keys.tenant_profile_sk()), _tenant_is(guards.tenant_version))
                tx.condition((pk, keys.terminal_sk(guards.sn)), _renewable)
                for bucket, subject, limit, window_s in guards.checks:
                    tx.condition(_key(bucket, subject, epoch // window_s), _below(limit))
                for bucket, subject, limit, window_s in guards.hits:
                    ttl = now + timedelta(seconds=2 * window_s)
                    add_hits(tx, _key(bucket, subject, epoch // window_s), 1, ttl, limit)
                tx.save(item, new=True)
                tx.save(lookup, new=True)
        except Cancelled as exc:
            if FAILED in exc.codes[:-2]:
                return None, exc.codes[:-2]
            raise TransientStoreError("could not save the order; retry") from None
        return item, []

    def attach_public(self, stored: OrderItem, payment_intent_id: str, now: datetime, slot: OpenSlot) -> None:
        lookup = with_intent(stored, payment_intent_id, now)
        with self.table.tx() as tx:
            tx.save(stored)
            tx.save(lookup, new=True)
            tx.save(open_order_slot(stored, slot))


def _below(limit: int) -> Check:
    def check(stored: Item | None) -> bool:
        return int(getattr(stored, "hits", None) or 0) < limit

    return check
