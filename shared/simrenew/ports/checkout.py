"""The checkout ports: what the pay page (public look-up, public order) and the agent's orders need
beyond the ordinary repositories, in domain types (issue 17's hot path).

Nothing here is needed at run time by the service (it imports this module for typing only), so the
look-up's cold start loads no module for it. The DynamoDB adapter is
simrenew.adapters.dynamodb.public_orders.CheckoutStore; the per-container caches (tenant context,
merchant names) are the adapter's module-level state (simrenew.adapters.dynamodb.tenant_context),
handed to the service through `CheckoutStore.contexts` and `.merchant_names`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from simrenew.domain.fleet import Plan, Terminal
from simrenew.domain.orders import OpenSlot, Order, PublicGuards, StatusMove
from simrenew.domain.tenant import Tenant
from simrenew.ports.paging import Page


class OrderRecord(Protocol):
    """What the checkout reads of a stored order (the rest of it is opaque: handed back)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def order_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def token_hash(self) -> str | None: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def payment_intent_id(self) -> str | None: ...
    @property
    def attempts_json(self) -> str | None: ...


#: A stored order as the adapter holds it (an OrderItem): opaque, read through `CheckoutStore.record`.
StoredOrder = TypeVar("StoredOrder")

#: A rate-limit counter a transaction carries: (bucket, subject, limit, window_s).
Counter = tuple[str, str, int, int]


class OpenOrder(Protocol):
    """The pay page's unpaid order for a terminal and plan (the slot the next merchant reuses)."""

    @property
    def order_id(self) -> str: ...
    @property
    def order_token(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def payment_intent_id(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


class TenantContext(Protocol):
    """An agent's profile and every plan of it, read together, with the profile's version."""

    @property
    def tenant(self) -> Tenant: ...
    @property
    def plans(self) -> tuple[Plan, ...]: ...
    @property
    def version(self) -> int: ...

    def plan(self, plan_id: str) -> Plan | None: ...

    def active_plans(self) -> list[Plan]: ...


class TenantContexts(Protocol):
    def get(self, tenant_id: str, now: datetime, *, fresh: bool = False) -> TenantContext | None:
        """The context if this container read it within its TTL (and not `fresh`), else read now."""
        ...


class MerchantNames(Protocol):
    def get(self, tenant_id: str, merchant_id: str, now: datetime) -> tuple[bool, str | None]:
        """(found in this container's cache, the name)."""
        ...

    def put(self, tenant_id: str, merchant_id: str, name: str | None, now: datetime) -> None: ...


class CheckoutOrders(Protocol[StoredOrder]):
    """The order store as the checkout uses it (OrderRepository)."""

    def item(self, tenant_id: str, order_id: str) -> StoredOrder | None: ...

    def by_order_id(self, order_id: str) -> StoredOrder | None: ...

    def create(self, order: Order, token_hash: str | None, now: datetime, expires_at: datetime) -> StoredOrder: ...

    def attach_intent(self, item: StoredOrder, payment_intent_id: str, now: datetime) -> None: ...

    def transition(self, item: StoredOrder, move: StatusMove, now: datetime) -> bool: ...

    def pending_due(self, shard: int, before: datetime, limit: int) -> list[StoredOrder]: ...

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]: ...

    def remember_open_public(
        self, order: Order, sn: str, plan_id: str, token: str, client_secret: str, expires_at: datetime
    ) -> None: ...

    def forget_open_public(self, tenant_id: str, sn: str, plan_id: str, order_id: str) -> None: ...


class CheckoutStore(Protocol[StoredOrder]):
    """The pay page's reads and its two order writes at their floor (issue 17)."""

    @property
    def contexts(self) -> TenantContexts: ...
    @property
    def merchant_names(self) -> MerchantNames: ...
    @property
    def pending_shards(self) -> int:
        """How many shards the unpaid orders to expire are spread over."""
        ...

    def order(self, stored: StoredOrder) -> Order:
        """The stored order as a domain value."""
        ...

    def record(self, stored: StoredOrder) -> OrderRecord:
        """What the checkout reads of the stored order (no request)."""
        ...

    def claimed(self, kind: str, value: str) -> tuple[str, str] | None:
        """(tenant id, SN) of the terminal holding this SN or TID (`kind` "sn" or "tid")."""
        ...

    def public_terminal(self, kind: str, value: str) -> tuple[Terminal, Sequence[object] | None] | None:
        """The terminal holding this SN or TID, whichever tenant it is in, with what was read beside
        it (its open orders, opaque; None when nothing was): one Query of the public index."""
        ...

    def open_order(
        self, tenant_id: str, sn: str, slot: str, beside: Sequence[object] | None = None
    ) -> OpenOrder | None:
        """The open order of this terminal and slot: among `beside` (no request), else read."""
        ...

    def create_public(
        self, order: Order, token_hash: str, now: datetime, expires_at: datetime, guards: PublicGuards
    ) -> tuple[StoredOrder | None, list[str | None]]:
        """The order in one transaction guarded by the tenant's version and status, the terminal
        (there, not deactivated), `checks` (refused at their limit) and `hits` (counted, refused at
        their limit). Written: (the stored order, []). Refused: (None, one code per guard in that
        order, "ConditionalCheckFailed" where it failed), nothing written."""
        ...

    def attach_public(self, stored: StoredOrder, payment_intent_id: str, now: datetime, slot: OpenSlot) -> None:
        """The PaymentIntent on the order, its look-up and the open-order slot: one write."""
        ...
