"""The orders port: renewal orders, their listing, and the record of applied payment events.

Only domain values cross it (simrenew.domain.orders). The DynamoDB adapter is
simrenew.adapters.dynamodb.orders.OrderRepository; the money writes (fulfil, refund, attach a
payment) are each one conditional transaction inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from simrenew.clock import iso_utc
from simrenew.domain.orders import Order
from simrenew.ports.paging import Page

#: A stored order as the adapter holds it: opaque to the services, which only hand it back to the
#: adapter (its version guards the conditional write that follows).
StoredOrder = TypeVar("StoredOrder", covariant=True)


class StoredOrders(Protocol[StoredOrder]):
    def item(self, tenant_id: str, order_id: str) -> StoredOrder | None:
        """The tenant's stored order (None when missing or another tenant's)."""
        ...


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


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a terminal's renewal ledger (充值记录): a movement of money and/or time."""

    kind: str  # renewal | refund | reversal | transfer_out | transfer_in | ...
    source: str
    old_expires_on: str
    new_expires_on: str
    amount_fen: int
    term_months: int
    by: str | None
    note: str | None
    created_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "old_expires_on": self.old_expires_on,
            "new_expires_on": self.new_expires_on,
            "amount_fen": self.amount_fen,
            "term_months": self.term_months,
            "by": self.by,
            "note": self.note,
            "created_at": iso_utc(self.created_at) if self.created_at else None,
        }


class Ledger(Protocol):
    def ledger(self, tenant_id: str, sn: str) -> list[LedgerEntry]:
        """The terminal's ledger lines, oldest first (as stored: by time, source, index)."""
        ...
