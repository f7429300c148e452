"""The payment port: fulfilment and refunds (simrenew.services.fulfilment, .refunds) write an order
together with everything its payment or refund changes in ONE conditional transaction: the order
(its status allowed and its version unchanged), the payment event's record (once), the terminals
(each by the version read), the ledger lines, the merchants' notices, the agent's events, the
carrier resumes and the paid-renewal counters. Only domain values cross it; the stored order and
terminal are opaque handles the services hand back. The DynamoDB adapter is
simrenew.adapters.dynamodb.orders.OrderRepository (its "payment port" block).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import Order, OrderStatus
from simrenew.domain.tenant import Tenant
from simrenew.ports.orders import StoredOrders
from simrenew.ports.transfers import LedgerLine, TerminalNotice

#: The stored order and terminal as the adapter holds them (their versions guard the write).
StoredOrder = TypeVar("StoredOrder")
StoredTerminal = TypeVar("StoredTerminal")
#: What the caller read already (the webhook's one BatchGetItem), as the adapter returned it.
Context_contra = TypeVar("Context_contra", contravariant=True)


@dataclass(frozen=True)
class AgentEvent:
    """An event for the agent's webhooks (the outbox delivers it), queued once per `key`."""

    event_type: str
    data: dict[str, Any]
    key: str


@dataclass(frozen=True)
class Hits:
    """`count` more on a rate-limit window (ADD, never refused: paid renewals are counted, not limited)."""

    bucket: str
    subject: str
    count: int
    window_s: int


@dataclass
class OrderChange(Generic[StoredTerminal]):
    """What one order transaction writes besides the order and the event record."""

    terminals: list[tuple[StoredTerminal, Terminal]] = field(default_factory=list)  # (as read, new state)
    lines: list[LedgerLine] = field(default_factory=list)
    notices: list[TerminalNotice] = field(default_factory=list)
    events: list[AgentEvent] = field(default_factory=list)
    resumes: list[Terminal] = field(default_factory=list)  # a carrier resume of each (the terminal as read)
    counters: list[Hits] = field(default_factory=list)

    def records(self) -> int:
        """The new items it writes (ledger lines, notices, events, carrier resumes)."""
        return len(self.lines) + len(self.notices) + len(self.events) + len(self.resumes)


@dataclass(frozen=True)
class PaymentRead(Generic[StoredOrder, StoredTerminal]):
    """An order with the terminals of `sns` as read together (`terminals` has those that exist)."""

    order: StoredOrder | None
    tenant: Tenant | None
    sns: frozenset[str]
    terminals: Mapping[str, StoredTerminal]


class StoredTerminalBatch(Protocol[StoredTerminal]):
    def get_many(self, tenant_id: str, sns: Iterable[str]) -> dict[str, StoredTerminal]:
        """The tenant's terminals of these SNs that exist, as stored (one batch read)."""
        ...


class PaymentStore(StoredOrders[StoredOrder], Protocol[StoredOrder, StoredTerminal, Context_contra]):
    def as_order(self, stored: StoredOrder) -> Order: ...

    def as_terminal(self, stored: StoredTerminal) -> Terminal: ...

    def read_context(self, context: Context_contra) -> PaymentRead[StoredOrder, StoredTerminal]:
        """What the caller read (its order, tenant and terminals) as domain values and handles."""
        ...

    def reread(self, tenant_id: str, order_id: str, sns: Sequence[str]) -> PaymentRead[StoredOrder, StoredTerminal]:
        """The order and the terminals of `sns`, read again together (consistently; no tenant)."""
        ...

    def apply(
        self,
        stored: StoredOrder,
        order: Order,
        allowed: frozenset[OrderStatus],
        now: datetime,
        change: OrderChange[StoredTerminal] | None = None,
        *,
        event: tuple[str, str] | None = None,
        event_outcome: str = "applied",
        stamps: Mapping[str, datetime] | None = None,
        first_stamps: Mapping[str, datetime] | None = None,
    ) -> str:
        """Write `order` and `change` in one transaction (`stamps` set, `first_stamps` set where not set
        yet). "ok", "order_state" (the order changed or left `allowed`), "duplicate_event" (the event was
        applied meanwhile) or "terminal_changed" (a terminal changed since it was read: reload, retry)."""
        ...

    def count_hits(self, hits: Sequence[Hits], now: datetime) -> None:
        """Counters that did not fit in the transaction, counted after it (ADD, no limit)."""
        ...
