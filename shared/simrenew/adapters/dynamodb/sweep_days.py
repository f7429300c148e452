"""The fanned-out sweep's bookkeeping: one item per swept day (its catch-up window and the expiry
dates it reads), one checkpoint per (day, expiry shard) held by one worker at a time (a lease),
the run requests (`POST /v1/admin/sweeps`, the schedule) and each agent's digest contributions.

    SWEEP / DAY#<as_of>                 start, dates, shards; the day's end (digests, finished_at)
    SWEEP / DAY#<as_of>#SHARD#<k>       holder (lease), done_dates, cursor (date, exp_sk), counters
    SWEEP / REQ#<run_id>                as_of, source, requested_at, coordinated_at
    TENANT#<id> / SWEEPDIGEST#<as_of>#<shard>#<invocation>
                                        one worker's digest notes: the agent is due the day's digest,
                                        the terminals it suspended; on gsi1 by day

Every write is conditional or atomic (ADD on sets and counters): shard workers run at the same
time and a Lambda may deliver one event twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import is_condition_failure
from simrenew.adapters.dynamodb.models import Item, SweepDayItem, SweepDigestItem, SweepRequestItem, SweepShardItem
from simrenew.ports.sweeps import COUNTERS as COUNTERS
from simrenew.ports.sweeps import DayProgress, ShardProgress
from simrenew.ports.sweeps import DayState as DayState
from simrenew.ports.sweeps import RequestState as RequestState
from simrenew.ports.sweeps import ShardState as ShardState

KEEP_FOR = timedelta(days=30)


def _day(item: SweepDayItem) -> DayState:
    return DayState(
        as_of=date.fromisoformat(item.as_of),
        start=date.fromisoformat(item.start),
        dates=tuple(sorted(date.fromisoformat(d) for d in item.dates or set())),
        shards=int(item.shards),
        released=int(item.released or 0),
        events_sent=int(item.events_sent or 0),
        digests_sent=int(item.digests_sent or 0),
        digest_cursor=item.digest_cursor,
        finished_at=item.finished_at,
        created_at=item.created_at,
    )


def _shard(item: SweepShardItem) -> ShardState:
    return ShardState(
        shard=int(item.sk.rsplit("#", 1)[1]),
        holder=item.holder,
        done_dates=frozenset(date.fromisoformat(d) for d in item.done_dates or set()),
        cursor_date=date.fromisoformat(item.cursor_date) if item.cursor_date else None,
        cursor_sk=item.cursor_sk,
        invocations=int(item.invocations or 0),
        counters={name: int(getattr(item, name) or 0) for name in COUNTERS},
        updated_at=item.updated_at,
    )


def _updated(item: Item, actions: list[Action], condition: object = None) -> bool:
    """UpdateItem; False when its condition failed."""
    try:
        item.update(actions=actions, condition=condition)  # type: ignore[arg-type]
        return True
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise


class SweepDayRepository:
    # --- the day -------------------------------------------------------------------------------------
    def open_day(self, as_of: date, start: date, dates: Iterable[date], shards: int, now: datetime) -> DayState:
        """The day's state, created by its first run; a later run adds the dates its own plan
        reads (an agent chose a new offset meanwhile) and keeps the first run's window."""
        wanted = {d.isoformat() for d in dates}
        try:
            SweepDayItem(
                keys.sweep_pk(),
                keys.sweep_day_sk(as_of),
                as_of=as_of.isoformat(),
                start=start.isoformat(),
                dates=wanted or None,
                shards=shards,
                created_at=now,
                updated_at=now,
                ttl=now + KEEP_FOR,
            ).save(condition=SweepDayItem.pk.does_not_exist())
            # The day's first run: its state is what it wrote (no read back).
            return DayState(as_of, start, tuple(sorted(date.fromisoformat(d) for d in wanted)), shards, created_at=now)
        except PutError as exc:  # the usual case after the first run of the day
            if not is_condition_failure(exc):
                raise
        current = self.day(as_of)
        assert current is not None
        missing = wanted - {d.isoformat() for d in current.dates}
        if missing:
            SweepDayItem(keys.sweep_pk(), keys.sweep_day_sk(as_of)).update(
                actions=[SweepDayItem.dates.add(missing), SweepDayItem.updated_at.set(now)]
            )
            current = self.day(as_of)
            assert current is not None
        return current

    def day(self, as_of: date) -> DayState | None:
        try:
            return _day(SweepDayItem.get(keys.sweep_pk(), keys.sweep_day_sk(as_of), consistent_read=True))
        except SweepDayItem.DoesNotExist:
            return None

    def add_released(self, as_of: date, count: int, now: datetime) -> None:
        if count:
            SweepDayItem(keys.sweep_pk(), keys.sweep_day_sk(as_of)).update(
                actions=[SweepDayItem.released.add(count), SweepDayItem.updated_at.set(now)]
            )

    def day_progress(self, as_of: date, now: datetime, progress: DayProgress) -> None:
        actions: list[Action] = [SweepDayItem.updated_at.set(now)]
        if progress.events_sent:
            actions.append(SweepDayItem.events_sent.add(progress.events_sent))
        if progress.digests_sent:
            actions.append(SweepDayItem.digests_sent.add(progress.digests_sent))
        if progress.digest_cursor:
            actions.append(SweepDayItem.digest_cursor.set(progress.digest_cursor))
        if progress.finished:
            actions.append(SweepDayItem.finished_at.set(now))
        SweepDayItem(keys.sweep_pk(), keys.sweep_day_sk(as_of)).update(
            actions=actions, condition=SweepDayItem.pk.exists()
        )

    # --- the shards --------------------------------------------------------------------------------------
    def shard(self, as_of: date, shard: int) -> ShardState:
        try:
            return _shard(SweepShardItem.get(keys.sweep_pk(), keys.sweep_shard_sk(as_of, shard), consistent_read=True))
        except SweepShardItem.DoesNotExist:
            return ShardState(shard=shard)

    def shards(self, as_of: date, count: int) -> list[ShardState]:
        """Every shard's checkpoint of the day (one consistent BatchGetItem)."""
        wanted = [(keys.sweep_pk(), keys.sweep_shard_sk(as_of, k)) for k in range(count)]
        found = {state.shard: state for state in map(_shard, SweepShardItem.batch_get(wanted, consistent_read=True))}
        return [found.get(k, ShardState(shard=k)) for k in range(count)]

    def take_shard(
        self, as_of: date, shard: int, run_id: str, expected: str | None, now: datetime
    ) -> ShardState | None:
        """The lease: this run holds the shard, if the holder is still the one it saw (none, or a
        run whose heartbeat stopped); the shard's state then, or None (another run won). Creates
        the checkpoint on the shard's first take (one UpdateItem either way)."""
        free = SweepShardItem.holder.does_not_exist()
        condition = free if expected is None else free | (SweepShardItem.holder == expected)
        item = SweepShardItem(keys.sweep_pk(), keys.sweep_shard_sk(as_of, shard))
        taken = _updated(
            item,
            [
                SweepShardItem.kind.set(SweepShardItem),  # type: ignore[arg-type]
                SweepShardItem.as_of.set(as_of.isoformat()),
                SweepShardItem.shard.set(shard),
                SweepShardItem.holder.set(run_id),
                SweepShardItem.invocations.add(1),
                SweepShardItem.created_at.set(SweepShardItem.created_at | now),
                SweepShardItem.ttl.set(SweepShardItem.ttl | (now + KEEP_FOR)),
                SweepShardItem.updated_at.set(now),
            ],
            condition,
        )
        return _shard(item) if taken else None

    def checkpoint(self, as_of: date, shard: int, run_id: str, now: datetime, progress: ShardProgress) -> bool:
        """Record progress under the lease (False: this run no longer holds it)."""
        actions: list[Action] = [SweepShardItem.updated_at.set(now)]
        cursor = progress.cursor
        if cursor is not None:
            actions += [
                SweepShardItem.cursor_date.set(cursor[0].isoformat()),
                SweepShardItem.cursor_sk.set(cursor[1]),
            ]
        else:
            actions += [SweepShardItem.cursor_date.remove(), SweepShardItem.cursor_sk.remove()]
        finished = {d.isoformat() for d in progress.done_dates}
        if finished:
            actions.append(SweepShardItem.done_dates.add(finished))
        for name, value in progress.counts.items():
            if value:
                actions.append(getattr(SweepShardItem, name).add(value))
        if progress.release:
            actions.append(SweepShardItem.holder.remove())
        return _updated(
            SweepShardItem(keys.sweep_pk(), keys.sweep_shard_sk(as_of, shard)), actions, SweepShardItem.holder == run_id
        )

    # --- digests ------------------------------------------------------------------------------------------
    def add_digests(self, as_of: date, shard: int, invocation: int, notes: dict[str, set[str]], now: datetime) -> None:
        """Agents due a digest for the day, each with the terminals suspended, as noted so far by
        this worker invocation of the shard: its own items, rewritten whole (BatchWriteItem, 25 a
        request; a later flush of the same invocation writes the same entries and more)."""
        with SweepDigestItem.batch_write() as batch:
            for tenant_id, suspended in sorted(notes.items()):
                batch.save(
                    SweepDigestItem(
                        keys.tenant_pk(tenant_id),
                        keys.sweep_digest_part_sk(as_of, shard, invocation),
                        tenant_id=tenant_id,
                        as_of=as_of.isoformat(),
                        suspended=set(suspended) or None,
                        gsi1pk=keys.sweep_digests_gsi1pk(as_of),
                        gsi1sk=tenant_id,
                        created_at=now,
                        updated_at=now,
                        ttl=now + KEEP_FOR,
                    )
                )

    def digests(self, as_of: date, after: str | None = None) -> Iterator[tuple[str, set[str]]]:
        """(tenant_id, suspended entries) of every agent due a digest for the day, by tenant id:
        the notes of every worker merged (the index keeps one agent's items together)."""
        condition = SweepDigestItem.gsi1sk > after if after else None
        current: str | None = None
        merged: set[str] = set()
        for item in SweepDigestItem.gsi1.query(keys.sweep_digests_gsi1pk(as_of), condition):
            if not isinstance(item, SweepDigestItem):
                continue
            if current is not None and item.tenant_id != current:
                yield current, merged
                merged = set()
            current = item.tenant_id
            merged |= set(item.suspended or set())
        if current is not None:
            yield current, merged

    # --- requests -----------------------------------------------------------------------------------------
    def add_request(self, run_id: str, as_of: date, source: str, now: datetime) -> None:
        SweepRequestItem(
            keys.sweep_pk(),
            keys.sweep_request_sk(run_id),
            run_id=run_id,
            as_of=as_of.isoformat(),
            source=source,
            created_at=now,
            ttl=now + KEEP_FOR,
        ).save(condition=SweepRequestItem.pk.does_not_exist())

    def request(self, run_id: str) -> RequestState | None:
        try:
            item = SweepRequestItem.get(keys.sweep_pk(), keys.sweep_request_sk(run_id), consistent_read=True)
        except SweepRequestItem.DoesNotExist:
            return None
        return RequestState(
            run_id=item.run_id,
            as_of=date.fromisoformat(item.as_of),
            source=item.source,
            requested_at=item.created_at,
            coordinated_at=item.coordinated_at,
        )

    def request_coordinated(self, run_id: str, now: datetime) -> None:
        SweepRequestItem(keys.sweep_pk(), keys.sweep_request_sk(run_id)).update(
            actions=[SweepRequestItem.coordinated_at.set(now), SweepRequestItem.updated_at.set(now)],
            condition=SweepRequestItem.pk.exists(),
        )
