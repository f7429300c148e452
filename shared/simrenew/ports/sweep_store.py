"""The sweep-store port: what the expiry sweep (services/sweep.py) reads and writes besides the
day's bookkeeping (ports/sweeps.py SweepDays): the terminals due on a day of the expiry index, the
move of a lapsed terminal (grace, suspension with its carrier operation, one conditional
transaction), the claim of each message before it is sent (exactly once per terminal, term, kind and
channel), the queued terminal events, run heartbeats, the last swept day and the settings registry.

Only domain values cross it; a stored terminal, claim or event is handed back to the store as the
opaque `handle` it came with. The DynamoDB adapter is
simrenew.adapters.dynamodb.sweep_store.SweepStore.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from simrenew.domain.fleet import Merchant, Terminal
from simrenew.domain.tenant import Tenant

# A running sweep says it is alive at least this often; a run silent for longer is dead (its
# Lambda was killed), and the claims it left "sending" may be taken over.
RUN_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Offsets:
    """Distinct reminder offsets and grace lengths in use (the settings registry)."""

    reminder_days: frozenset[int]
    grace_days: frozenset[int]


@dataclass(frozen=True)
class DueTerminal:
    """A terminal of the expiry index for a (day, shard)."""

    terminal: Terminal
    cursor: str  # its sort key in the index: a checkpoint's cursor
    handle: object  # the stored terminal: its version read is the condition of a move


@dataclass(frozen=True)
class Message:
    """What to claim: one message to one recipient (`sn` and `term` for a terminal's message,
    `day` for the agent's digest)."""

    tenant_id: str
    kind: str  # reminder_<n> | expires_today | grace_started | suspended | receipt | ... | digest
    channel: str  # sms | email
    recipient_masked: str
    sn: str | None = None
    term: str | None = None
    day: date | None = None


@dataclass
class Claim:
    """A message claimed by this run (a new claim, or one taken over): to send, then finish."""

    key: str  # the dedupe key (the same for every attempt of this message)
    tenant_id: str
    sn: str | None
    channel: str
    state: str  # sending | sent | held | failed
    held_json: str | None
    handle: object


@dataclass(frozen=True)
class QueuedEvent:
    """A terminal event queued by another path (a receipt, a quota alert, a refund, a transfer)."""

    tenant_id: str
    sn: str
    name: str  # receipt#<order>, refund#<refund>, quota_80, ...
    term: str
    detail_json: str  # what the message says (read only for a message that is sent: see `detail`)
    state: str  # pending | sent | recorded | dropped
    handle: object

    def detail(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.detail_json)
        return parsed


@dataclass(frozen=True)
class Outcome:
    """What a claim's send came to, besides its state: the provider's message id, the error, and
    when to send it again and what (an SMS held for daytime, a failed send queued again)."""

    provider_id: str | None = None
    error: str | None = None
    hold_until: datetime | None = None
    held_json: str | None = None


#: A claim's outcome (SweepStore.finish, or SendPool.finish queueing it for `record`).
Finish = Callable[[Claim, str, datetime, Outcome], None]


class SweepStore(Protocol):
    #: The shards of the expiry index (each a query per due date).
    expiry_shards: int

    def due(self, day: date, shard: int, after: str | None = None) -> Iterator[DueTerminal]:
        """Terminals of the expiry index for (day, shard), by cursor; after a checkpoint's cursor."""
        ...

    def move(self, due: DueTerminal, terminal: Terminal, now: datetime, with_items: Sequence[object] = ()) -> bool:
        """Write the terminal's new state, conditional on the version read (False: it changed
        meanwhile, nothing written); `with_items` (a carrier operation) in the same transaction."""
        ...

    def claim(self, message: Message, run_id: str, now: datetime) -> Claim | None:
        """Claim a message before sending. None: it was sent, or is being sent by a live run."""
        ...

    def take(self, claim: Claim, run_id: str, now: datetime) -> bool:
        """Move a held or failed claim to this run, unless another run moved it first."""
        ...

    def finish(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> None:
        """A claim's outcome, written at once."""
        ...

    def finished(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> Claim:
        """The claim with its outcome, in memory (for `record` to write whole)."""
        ...

    def record(self, items: Sequence[Claim]) -> None:
        """Outcomes set by `finished`, written in batches."""
        ...

    def held_due(self, now: datetime) -> list[Claim]:
        """SMS held for daytime (and failed sends queued again) whose time came."""
        ...

    def owners(
        self, tenant_ids: Iterable[str], merchants: Iterable[tuple[str, str]]
    ) -> tuple[dict[str, Tenant], dict[tuple[str, str], Merchant]]:
        """The agents and merchants named, in one batch read; a key not found is absent."""
        ...

    def alive(self, run_id: str, until: datetime) -> None: ...

    def run_alive(self, run_id: str | None, now: datetime) -> bool: ...

    def last_day(self) -> date | None: ...

    def set_last_day(self, day: date, now: datetime) -> None: ...

    def offsets(self) -> Offsets | None:
        """The settings registry (None until seeded from the active tenants once)."""
        ...

    def record_offsets(
        self, reminder_days: Iterable[int], grace_days: Iterable[int], now: datetime, *, seeded: bool = False
    ) -> None: ...

    def pending_events(self) -> list[QueuedEvent]: ...

    def queued(self, stored: object) -> QueuedEvent:
        """A queued event as another reader (the outbox dispatcher) read it from the store."""
        ...

    def event_done(self, event: QueuedEvent, state: str, now: datetime) -> None: ...
