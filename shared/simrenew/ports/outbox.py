"""The outbox port: the pending agent events and merchant notices the dispatcher delivers
(services/outbox.py). The DynamoDB adapter is simrenew.adapters.dynamodb.outbox.OutboxRepository.

An entry and a notice are opaque stored handles (type variables) that the dispatcher reads through
the views below and hands back to the store to settle them (conditional on still being pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class OutboxEvent:
    """What the dispatcher reads of an agent event waiting in the outbox."""

    pk: str
    sk: str
    tenant_id: str
    event_type: str
    event_id: str
    data_json: str  # the event's `data` object as agents receive it
    state: str  # pending | delivered | dropped
    created_at: datetime | None


Entry = TypeVar("Entry")
Notice = TypeVar("Notice")
Notice_contra = TypeVar("Notice_contra", contravariant=True)


class OutboxStore(Protocol[Entry, Notice]):
    #: The store's own failures worth trying again (its SDK's exceptions), besides SimRenewError/OSError.
    retryable: tuple[type[Exception], ...]

    def get(self, pk: str, sk: str) -> Entry | None:
        """The agent event (read consistently), None when missing."""
        ...

    def terminal_event(self, pk: str, sk: str) -> Notice | None:
        """The merchant notice (read consistently), None when missing."""
        ...

    def event(self, item: Entry) -> OutboxEvent:
        """The entry's event, as read."""
        ...

    def notice_state(self, event: Notice) -> str:
        """The notice's state: pending | sent | recorded | dropped."""
        ...

    def finish(self, item: Entry, state: str, now: datetime, error: str | None = None) -> bool:
        """Delivered or dropped: out of the pending queue. False when it was no longer pending."""
        ...

    def failed(self, item: Entry, error: str, now: datetime) -> None:
        """Still pending: count the attempt and queue it again after the backoff."""
        ...

    def event_failed(self, event: Notice, error: str, now: datetime) -> None:
        """A merchant notice not sent now: still pending, its attempt counted."""
        ...

    def due(self, now: datetime, limit: int) -> list[Entry]:
        """Pending agent events of every tenant whose next attempt is due."""
        ...


class NoticeSender(Protocol[Notice_contra]):
    """What the dispatcher needs of the merchant notifications (services/sweep.py)."""

    def send_event(self, event: Notice_contra) -> int: ...
