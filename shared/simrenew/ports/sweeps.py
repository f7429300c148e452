"""The sweep-days port: the fanned-out sweep's bookkeeping (a day's window, each expiry shard's
checkpoint under a lease, the run requests, the agents' digest notes), in domain values. The DynamoDB
adapter is simrenew.adapters.dynamodb.sweep_days.SweepDayRepository (every write conditional or atomic).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

COUNTERS = ("items_read", "queries", "reminders_sent", "held_for_daytime", "moved_to_grace", "suspended")


@dataclass(frozen=True)
class DayState:
    as_of: date
    start: date
    dates: tuple[date, ...]
    shards: int
    released: int = 0
    events_sent: int = 0
    digests_sent: int = 0
    digest_cursor: str | None = None
    finished_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class ShardState:
    shard: int
    holder: str | None = None
    done_dates: frozenset[date] = frozenset()
    cursor_date: date | None = None
    cursor_sk: str | None = None
    invocations: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    updated_at: datetime | None = None

    def complete(self, day: DayState) -> bool:
        return set(day.dates) <= self.done_dates


@dataclass(frozen=True)
class RequestState:
    run_id: str
    as_of: date
    source: str
    requested_at: datetime | None
    coordinated_at: datetime | None


@dataclass(frozen=True)
class ShardProgress:
    """What a shard's checkpoint records under the lease. `cursor`: every item of that date up to
    that exp_sk is done (None: no date is part-read); `done_dates`: those dates are read completely;
    `counts`: what to add to the counters; `release`: the lease ends (finished, or continued)."""

    cursor: tuple[date, str] | None = None
    done_dates: tuple[date, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    release: bool = False


@dataclass(frozen=True)
class DayProgress:
    """What the day's end adds to the day: events and digests sent, the digests' cursor, its finish."""

    events_sent: int = 0
    digests_sent: int = 0
    digest_cursor: str | None = None
    finished: bool = False


class SweepDays(Protocol):
    def open_day(self, as_of: date, start: date, dates: Iterable[date], shards: int, now: datetime) -> DayState:
        """The day's state, created by its first run; a later run adds the dates its own plan reads."""
        ...

    def day(self, as_of: date) -> DayState | None: ...

    def add_released(self, as_of: date, count: int, now: datetime) -> None: ...

    def day_progress(self, as_of: date, now: datetime, progress: DayProgress) -> None: ...

    def shard(self, as_of: date, shard: int) -> ShardState: ...

    def shards(self, as_of: date, count: int) -> list[ShardState]:
        """Every shard's checkpoint of the day (in one request)."""
        ...

    def take_shard(
        self, as_of: date, shard: int, run_id: str, expected: str | None, now: datetime
    ) -> ShardState | None:
        """The lease: this run holds the shard if the holder is still `expected`; None when another run won."""
        ...

    def checkpoint(self, as_of: date, shard: int, run_id: str, now: datetime, progress: ShardProgress) -> bool:
        """Record progress under the lease (False: this run no longer holds it)."""
        ...

    def add_digests(self, as_of: date, shard: int, invocation: int, notes: dict[str, set[str]], now: datetime) -> None:
        """Agents due a digest for the day, with the terminals suspended, as noted by this invocation."""
        ...

    def digests(self, as_of: date, after: str | None = None) -> Iterator[tuple[str, set[str]]]:
        """(tenant_id, suspended entries) of every agent due a digest for the day, by tenant id."""
        ...

    def add_request(self, run_id: str, as_of: date, source: str, now: datetime) -> None: ...

    def request(self, run_id: str) -> RequestState | None: ...

    def request_coordinated(self, run_id: str, now: datetime) -> None: ...
