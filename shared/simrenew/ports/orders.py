"""The orders port: renewal orders, their listing, and the record of applied payment events.

Only domain values cross it (simrenew.domain.orders). The DynamoDB adapter is
simrenew.adapters.dynamodb.orders.OrderRepository; the money writes (fulfil, refund, attach a
payment) are each one conditional transaction inside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from simrenew.domain.orders import Order
from simrenew.ports.paging import Page


class Orders(Protocol):
    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]: ...

    def filtered_page(
        self, tenant_id: str, conditions: dict[str, str | None], limit: int, cursor: str | None, budget: int
    ) -> Page[Order]:
        """One page of the orders matching `conditions`, reading at most `budget` items."""
        ...

    def count_filtered(self, tenant_id: str, conditions: dict[str, str | None], budget: int) -> int | None:
        """How many orders match, or None when more than `budget` items would have to be read."""
        ...

    def remember_open_public(
        self, order: Order, sn: str, plan_id: str, token: str, client_secret: str, expires_at: datetime
    ) -> None:
        """Remember the pay page's open order for (sn, plan), to hand the same one back."""
        ...

    def forget_open_public(self, tenant_id: str, sn: str, plan_id: str, order_id: str) -> None: ...

    def record_event(self, event_id: str, event_type: str, outcome: str, now: datetime) -> bool:
        """Record a payment event as handled; False when it was already recorded."""
        ...

    def event_seen(self, event_id: str) -> bool: ...
