"""The expiry sweep's stores in memory: the sweep store (simrenew.ports.sweep_store.SweepStore) and the
day's bookkeeping (simrenew.ports.sweeps.SweepDays).

`fake_sweep_store` is the real adapter (adapters/dynamodb/sweep_store.py: its item builders and
its conversions to domain values) over a FakeSweepRepository and a FakeTerminalRepository on the
shared FakeTable: a claim is a NotificationItem put only where none is stored, taken over by the
same rules as SweepRepository.claim (held and due, failed on an earlier run, left "sending" by a dead
run); a move is the fake terminal save (by version, with its carrier operation in one transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.models import Item, TerminalEventItem, TerminalItem
from simrenew.adapters.dynamodb.sweep_store import SweepStore
from simrenew.adapters.dynamodb.sweeps import HELD_SHARDS, STALE_SENDING, NotificationItem, SweepRepository, finished
from simrenew.domain.carrier import CarrierAction
from simrenew.domain.fleet import Merchant, Terminal
from simrenew.domain.tenant import Tenant
from simrenew.ports.sweep_store import Offsets, Outcome
from simrenew.ports.sweeps import DayProgress, DayState, RequestState, ShardProgress, ShardState
from tests.support.fakes.fleet import FakeMerchantRepository, FakeTerminalRepository
from tests.support.fakes.table import Cancelled, FakeTable, setting
from tests.support.fakes.tenants import FakeTenantRepository


class FakeSweepRepository(SweepRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table
        self.beats: dict[str, datetime] = {}
        self.last: date | None = None
        self.registry: Offsets | None = None
        self.read: list[tuple[date, int]] = []  # each (day, shard) of the expiry index queried

    def due(self, day: date, shard: int, after: str | None = None) -> Iterator[TerminalItem]:
        self.read.append((day, shard))
        for item in self.table.index(TerminalItem, "exp_pk", keys.expiry_pk(day, shard), "exp_sk"):
            if after is None or (item.exp_sk or "") > after:
                yield item

    def alive(self, run_id: str, until: datetime) -> None:
        self.beats[run_id] = until

    def run_alive(self, run_id: str | None, now: datetime) -> bool:
        return bool(run_id) and self.beats.get(run_id or "", now) > now

    def claim(self, item: NotificationItem, now: datetime) -> NotificationItem | None:
        try:
            self.table.put(item, new=True)
            return item
        except Cancelled:
            pass
        existing = self.table.get(NotificationItem, item.pk, item.sk)
        assert existing is not None
        run_id = item.run_id or ""
        if existing.state == "held" and existing.hold_until is not None and existing.hold_until <= now:
            return existing if self.take(existing, run_id, now) else None
        if existing.state == "failed" and existing.run_id != item.run_id:
            return existing if self.take(existing, run_id, now) else None
        if existing.state == "sending" and existing.run_id != item.run_id:
            stale = existing.created_at is not None and existing.created_at < now - STALE_SENDING
            if stale or not self.run_alive(existing.run_id, now):
                return existing if self.take(existing, run_id, now) else None
        return None

    def take(self, existing: NotificationItem, run_id: str, now: datetime) -> bool:
        def unchanged(stored: Item | None) -> bool:
            return (
                isinstance(stored, NotificationItem)
                and stored.state == existing.state
                and stored.run_id == existing.run_id
            )

        try:
            with self.table.tx() as tx:
                tx.update(
                    (existing.pk, existing.sk),
                    setting(NotificationItem, state="sending", run_id=run_id, updated_at=now),
                    check=unchanged,
                )
        except Cancelled:
            return False
        existing.state, existing.run_id, existing.updated_at = "sending", run_id, now
        return True

    def finish(self, item: NotificationItem, state: str, now: datetime, outcome: Outcome) -> None:
        self.table.put(finished(item, state, now, outcome))

    def record(self, items: Sequence[NotificationItem]) -> None:
        for item in items:
            self.table.put(item)

    def held_due(self, now: datetime) -> list[NotificationItem]:
        bound = keys.held_sms_due_bound(now)
        out: list[NotificationItem] = []
        for shard in range(HELD_SHARDS):
            found = self.table.index(NotificationItem, "gsi2pk", keys.held_sms_gsi2pk(shard), "gsi2sk")
            out += [i for i in found if (i.gsi2sk or "") <= bound]
        return out

    def owners(
        self, tenant_ids: Iterable[str], merchants: Iterable[tuple[str, str]]
    ) -> tuple[dict[str, Tenant], dict[tuple[str, str], Merchant]]:
        tenants = FakeTenantRepository(self.table)
        shops = FakeMerchantRepository(self.table)
        found = {t: tenant for t in set(tenant_ids) if (tenant := tenants.get(t)) is not None}
        return found, {key: m for key in set(merchants) if (m := shops.get(*key)) is not None}

    def last_day(self) -> date | None:
        return self.last

    def set_last_day(self, day: date, now: datetime) -> None:
        self.last = max(day, self.last or day)

    def offsets(self) -> Offsets | None:
        return self.registry

    def record_offsets(
        self, reminder_days: Iterable[int], grace_days: Iterable[int], now: datetime, *, seeded: bool = False
    ) -> None:
        old = self.registry or Offsets(frozenset(), frozenset())
        self.registry = Offsets(old.reminder_days | set(reminder_days), old.grace_days | set(grace_days))

    def pending_events(self, limit: int = 500) -> list[TerminalEventItem]:
        out: list[TerminalEventItem] = []
        for shard in range(keys.PENDING_EVENT_SHARDS):
            out += self.table.index(TerminalEventItem, "gsi1pk", keys.pending_events_gsi1pk(shard), "gsi1sk")[:limit]
        return out

    def event_done(self, event: TerminalEventItem, state: str, now: datetime) -> None:
        event.state, event.updated_at = state, now
        event.gsi1pk = event.gsi1sk = None
        self.table.put(event)


def fake_sweep_store(table: FakeTable) -> SweepStore:
    """The real sweep store over the fakes (its repository reachable as `store._repo`)."""
    return SweepStore(FakeSweepRepository(table), FakeTerminalRepository(table))


@dataclass
class FakeSweepDays:
    """The fanned-out sweep's days, shard checkpoints (leases by holder) and digest notes in memory."""

    days: dict[date, DayState] = field(default_factory=dict)
    shard_states: dict[tuple[date, int], ShardState] = field(default_factory=dict)
    notes: dict[tuple[date, str], set[str]] = field(default_factory=dict)
    requests: dict[str, RequestState] = field(default_factory=dict)

    def open_day(self, as_of: date, start: date, dates: Iterable[date], shards: int, now: datetime) -> DayState:
        known = self.days.get(as_of)
        merged = tuple(sorted(set(dates) | set(known.dates if known else ())))
        self.days[as_of] = (
            replace(known, dates=merged) if known else DayState(as_of, start, merged, shards, created_at=now)
        )
        return self.days[as_of]

    def day(self, as_of: date) -> DayState | None:
        return self.days.get(as_of)

    def add_released(self, as_of: date, count: int, now: datetime) -> None:
        day = self.days[as_of]
        self.days[as_of] = replace(day, released=day.released + count)

    def day_progress(self, as_of: date, now: datetime, progress: DayProgress) -> None:
        day = self.days[as_of]
        self.days[as_of] = replace(
            day,
            events_sent=day.events_sent + progress.events_sent,
            digests_sent=day.digests_sent + progress.digests_sent,
            digest_cursor=progress.digest_cursor or day.digest_cursor,
            finished_at=now if progress.finished else day.finished_at,
        )

    def shard(self, as_of: date, shard: int) -> ShardState:
        return self.shard_states.get((as_of, shard), ShardState(shard))

    def shards(self, as_of: date, count: int) -> list[ShardState]:
        return [self.shard(as_of, k) for k in range(count)]

    def take_shard(
        self, as_of: date, shard: int, run_id: str, expected: str | None, now: datetime
    ) -> ShardState | None:
        state = self.shard(as_of, shard)
        if state.holder != expected:
            return None
        self.shard_states[(as_of, shard)] = replace(state, holder=run_id, invocations=state.invocations + 1)
        return self.shard_states[(as_of, shard)]

    def checkpoint(self, as_of: date, shard: int, run_id: str, now: datetime, progress: ShardProgress) -> bool:
        state = self.shard(as_of, shard)
        if state.holder != run_id:
            return False
        counters = dict(state.counters)
        for name, n in progress.counts.items():
            counters[name] = counters.get(name, 0) + n
        cursor = progress.cursor
        self.shard_states[(as_of, shard)] = replace(
            state,
            holder=None if progress.release else run_id,
            done_dates=state.done_dates | set(progress.done_dates),
            cursor_date=cursor[0] if cursor else None,
            cursor_sk=cursor[1] if cursor else None,
            counters=counters,
            updated_at=now,
        )
        return True

    def add_digests(self, as_of: date, shard: int, invocation: int, notes: dict[str, set[str]], now: datetime) -> None:
        for tenant_id, suspended in notes.items():
            self.notes.setdefault((as_of, tenant_id), set()).update(suspended)

    def digests(self, as_of: date, after: str | None = None) -> Iterator[tuple[str, set[str]]]:
        for (day, tenant_id), notes in sorted(self.notes.items()):
            if day == as_of and (after is None or tenant_id > after):
                yield tenant_id, set(notes)

    def add_request(self, run_id: str, as_of: date, source: str, now: datetime) -> None:
        self.requests.setdefault(run_id, RequestState(run_id, as_of, source, now, None))

    def request(self, run_id: str) -> RequestState | None:
        return self.requests.get(run_id)

    def request_coordinated(self, run_id: str, now: datetime) -> None:
        self.requests[run_id] = replace(self.requests[run_id], coordinated_at=now)


class SuspendingCarrier:
    """The carrier operation a suspension writes in its own transaction (services/carrier.py
    OutboxCarrier's item, built by the real adapter's carrier_op)."""

    def suspension(self, terminal: Terminal, now: datetime) -> list[Item]:
        return [carrier_op(terminal, CarrierAction.SUSPEND, now)]
