"""The sweep store (simrenew.ports.sweep_store.SweepStore) on DynamoDB: SweepRepository's claims,
heartbeats and expiry-index reads, and TerminalRepository's conditional save, in domain values.
Every request is the one SweepRepository / TerminalRepository makes (the same items, conditions
and count): this module only builds the items and hands domain values back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import TerminalRepository, to_terminal
from simrenew.adapters.dynamodb.models import Item, TerminalEventItem, TerminalItem
from simrenew.adapters.dynamodb.sweeps import NotificationItem, SweepRepository, finished
from simrenew.domain.fleet import Merchant, Terminal
from simrenew.domain.tenant import Tenant
from simrenew.errors import Conflict
from simrenew.ports.sweep_store import Claim, DueTerminal, Message, Offsets, Outcome, QueuedEvent


def notification_item(message: Message, run_id: str, now: datetime) -> NotificationItem:
    """The claim's record ("sending", this run's), keyed by its dedupe key."""
    if message.day is not None:
        sk = keys.digest_sk(message.day)
    else:
        sk = keys.notification_sk(message.sn or "", message.term or "", message.kind, message.channel)
    return NotificationItem(
        keys.tenant_pk(message.tenant_id),
        sk,
        tenant_id=message.tenant_id,
        sn=message.sn,
        template=message.kind,
        channel=message.channel,
        recipient_masked=message.recipient_masked,
        state="sending",
        term=message.term,
        created_at=now,
        run_id=run_id,
    )


def to_claim(item: NotificationItem) -> Claim:
    return Claim(item.sk, item.tenant_id, item.sn, item.channel, item.state, item.held_json, item)


def to_due(item: TerminalItem) -> DueTerminal:
    return DueTerminal(to_terminal(item), item.exp_sk or "", item)


def to_queued(item: TerminalEventItem) -> QueuedEvent:
    return QueuedEvent(item.tenant_id, item.sn, item.event, item.term, item.detail_json, item.state, item)


def _notification(claim: Claim) -> NotificationItem:
    if not isinstance(claim.handle, NotificationItem):
        raise TypeError(f"not a stored claim: {claim.handle!r}")
    return claim.handle


def _event(event: QueuedEvent) -> TerminalEventItem:
    if not isinstance(event.handle, TerminalEventItem):
        raise TypeError(f"not a stored event: {event.handle!r}")
    return event.handle


def _items(objects: Sequence[object]) -> list[Item]:
    items = [o for o in objects if isinstance(o, Item)]
    if len(items) != len(objects):
        raise TypeError("a carrier operation to write with a move is a stored item")
    return items


class SweepStore:
    expiry_shards: int = keys.EXPIRY_SHARDS

    def __init__(self, repo: SweepRepository | None = None, terminals: TerminalRepository | None = None) -> None:
        self._repo = repo or SweepRepository()
        self._terminals = terminals or TerminalRepository()

    # --- the expiry index and the moves --------------------------------------------------------------
    def due(self, day: date, shard: int, after: str | None = None) -> Iterator[DueTerminal]:
        for item in self._repo.due(day, shard, after):
            yield to_due(item)

    def move(self, due: DueTerminal, terminal: Terminal, now: datetime, with_items: Sequence[object] = ()) -> bool:
        if not isinstance(due.handle, TerminalItem):
            raise TypeError(f"not a stored terminal: {due.handle!r}")
        try:
            self._terminals.save(due.handle, terminal, now, {}, _items(with_items))
            return True
        except Conflict:
            return False

    # --- claims ------------------------------------------------------------------------------------------
    def claim(self, message: Message, run_id: str, now: datetime) -> Claim | None:
        mine = self._repo.claim(notification_item(message, run_id, now), now)
        return None if mine is None else to_claim(mine)

    def take(self, claim: Claim, run_id: str, now: datetime) -> bool:
        return self._repo.take(_notification(claim), run_id, now)

    def finish(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> None:
        self._repo.finish(_notification(item), state, now, outcome)
        item.state = state

    def finished(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> Claim:
        stored = finished(_notification(item), state, now, outcome)
        item.state, item.held_json = stored.state, stored.held_json
        return item

    def record(self, items: Sequence[Claim]) -> None:
        self._repo.record([_notification(c) for c in items])

    def held_due(self, now: datetime) -> list[Claim]:
        return [to_claim(item) for item in self._repo.held_due(now)]

    # --- the rest, already in domain values ----------------------------------------------------------
    def owners(
        self, tenant_ids: Iterable[str], merchants: Iterable[tuple[str, str]]
    ) -> tuple[dict[str, Tenant], dict[tuple[str, str], Merchant]]:
        return self._repo.owners(tenant_ids, merchants)

    def alive(self, run_id: str, until: datetime) -> None:
        self._repo.alive(run_id, until)

    def run_alive(self, run_id: str | None, now: datetime) -> bool:
        return self._repo.run_alive(run_id, now)

    def last_day(self) -> date | None:
        return self._repo.last_day()

    def set_last_day(self, day: date, now: datetime) -> None:
        self._repo.set_last_day(day, now)

    def offsets(self) -> Offsets | None:
        return self._repo.offsets()

    def record_offsets(
        self, reminder_days: Iterable[int], grace_days: Iterable[int], now: datetime, *, seeded: bool = False
    ) -> None:
        self._repo.record_offsets(reminder_days, grace_days, now, seeded=seeded)

    # --- queued terminal events --------------------------------------------------------------------------
    def pending_events(self) -> list[QueuedEvent]:
        return [to_queued(item) for item in self._repo.pending_events()]

    def queued(self, stored: object) -> QueuedEvent:
        if not isinstance(stored, TerminalEventItem):
            raise TypeError(f"not a stored terminal event: {stored!r}")
        return to_queued(stored)

    def event_done(self, event: QueuedEvent, state: str, now: datetime) -> None:
        self._repo.event_done(_event(event), state, now)
