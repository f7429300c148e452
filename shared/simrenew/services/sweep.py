"""The expiry sweep: for one day, read only the terminals due through the sparse, sharded
expiry index; send each reminder once; move lapsed terminals to grace and then suspension;
send each agent a digest; catch up missed days (up to 7) without stale reminders.

Ports it needs are passed in: a notifier (SMS/email), an event emitter (agent webhooks),
a carrier (SIM suspension). Everything it sends is claimed first with a conditional write.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from simrenew.clock import Clock
from simrenew.domain.contact import mask_email, mask_phone
from simrenew.domain.fleet import MAX_EXPIRY, MIN_EXPIRY, Merchant, Terminal, TerminalStatus
from simrenew.domain.tenant import Tenant, TenantSettings, TenantStatus
from simrenew.errors import ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.fleet import Merchants, Terminals
from simrenew.ports.notify import Outgoing, Sender
from simrenew.ports.sweep_store import (
    RUN_LEASE,
    Claim,
    DueTerminal,
    Finish,
    Message,
    Offsets,
    Outcome,
    QueuedEvent,
    SweepStore,
)
from simrenew.ports.sweeps import COUNTERS, DayProgress, DayState, ShardProgress, ShardState, SweepDays
from simrenew.ports.tenants import Tenants
from simrenew.services.sweep_sends import Counts, SendPool

CATCH_UP_DAYS = 7
# A send that failed for a reason that may pass is queued with the held SMS for this long at least
# (the next run's coordinator sends what is due: the next day's, or a run asked for meanwhile).
RETRY_AFTER = timedelta(hours=1)
STOP_BEFORE_MS = 60_000
# How often a running sweep refreshes its heartbeat (well inside RUN_LEASE).
HEARTBEAT_EVERY = timedelta(seconds=30)
# A shard worker's checkpoint (cursor, counters, digest notes) every this many due terminals: what a
# killed worker's successor reads again (their messages are claimed: none goes out twice).
CHECKPOINT_EVERY = 100
DIGEST_PROGRESS_EVERY = 50
# How often a run waiting for a shard another live run holds looks again, and for how long at most:
# a holder still beating after a whole lease (by the clock, or by this many looks) is alive.
LEASE_POLL_S = 1.0
LEASE_POLLS = int((RUN_LEASE + HEARTBEAT_EVERY).total_seconds() / LEASE_POLL_S) + 1
# Queued terminal events that are messages to the merchant (the rest are records for operations).
MERCHANT_EVENT_KINDS = ("receipt", "quota_80", "quota_100", "time_transfer_out", "time_transfer_in", "refund")


class Emitter(Protocol):
    """Agent webhooks (services/webhooks.py WebhookService). The sweep hands its events over at each
    checkpoint, per agent, to `emit_many` when the emitter has it (one endpoint read per agent)."""

    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int: ...


class Carrier(Protocol):
    """The carrier operation a suspension writes in its own transaction (adapters/dynamodb/carrier.py
    OutboxCarrier: the outbox dispatcher carries it out at the carrier's platform): stored items,
    opaque here, handed to the store's `move`."""

    def suspension(self, terminal: Terminal, now: datetime) -> Sequence[object]: ...


@dataclass
class SweepResult:
    as_of: str
    reminders_sent: int = 0
    held_for_daytime: int = 0
    moved_to_grace: int = 0
    suspended: int = 0
    digests_sent: int = 0
    events_sent: int = 0
    items_read: int = 0
    queries: int = 0
    status: str = "done"
    days: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def add(self, other: SweepResult) -> None:
        for name in (*COUNTERS, "digests_sent", "events_sent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ShardOutcome:
    result: SweepResult
    status: str  # done | continued | held | busy | lost (see SweepService.sweep_shard)
    day_complete: bool = False


@dataclass
class DayEnd:
    status: str  # done | continued | waiting (a shard is not complete yet)
    events_sent: int = 0
    digests_sent: int = 0


class _DigestNotes:
    """What a shard worker learns for the day's digests: each active agent it met and the terminals
    it suspended, written (SweepDays.add_digests, batched) before each checkpoint: the
    agents whose notes changed since the last one, in this invocation's own items."""

    def __init__(self, shard: int = 0, invocation: int = 0) -> None:
        self.suspended: dict[str, list[dict[str, Any]]] = {}  # filled by SweepService._one
        self._shard, self._invocation = shard, invocation
        self._notes: dict[str, set[str]] = {}  # this invocation's, per agent, all of them
        self._changed: set[str] = set()

    def saw(self, tenant_id: str, tenants: dict[str, Tenant | None]) -> None:
        if tenants.get(tenant_id) is not None and tenant_id not in self._notes:
            self._notes[tenant_id] = set()
            self._changed.add(tenant_id)

    def flush(self, days: SweepDays, as_of: date, now: datetime) -> None:
        for tenant_id, terminals in self.suspended.items():
            notes = self._notes.setdefault(tenant_id, set())
            notes.update(json.dumps(t, ensure_ascii=False, sort_keys=True) for t in terminals)
            self._changed.add(tenant_id)
        self.suspended.clear()
        if self._changed:
            changed = {tenant_id: self._notes[tenant_id] for tenant_id in self._changed}
            days.add_digests(as_of, self._shard, self._invocation, changed, now)
        self._changed.clear()


@dataclass
class _Owners:
    """Agents and merchants read by a step (None: not active, or gone), shared by the shards of a
    whole day swept in one process (`run`)."""

    tenants: dict[str, Tenant | None] = field(default_factory=dict)
    merchants: dict[tuple[str, str], Merchant | None] = field(default_factory=dict)


@dataclass
class _Pass:
    """What one step keeps while it works: the agents and merchants it read, its digest notes and
    its sends (a bounded pool, settled before each checkpoint)."""

    sends: SendPool[Claim]
    digest: _DigestNotes
    tenants: dict[str, Tenant | None] = field(default_factory=dict)
    merchants: dict[tuple[str, str], Merchant | None] = field(default_factory=dict)
    events: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # per agent, until saved

    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> None:
        self.events.setdefault(tenant_id, []).append((event_type, data))


@dataclass(frozen=True)
class _Notice:
    """Who is told what: the merchant of a terminal, by its agent, a message kind with the values
    it adds to the context; `term` names the claim (default: the terminal's current expiry)."""

    tenant: Tenant
    terminal: Terminal
    merchant: Merchant
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)
    term: str | None = None


def _short(remaining_ms: Callable[[], int] | None) -> bool:
    return remaining_ms is not None and remaining_ms() < STOP_BEFORE_MS


def _pages(items: Iterable[DueTerminal], size: int) -> Iterator[list[DueTerminal]]:
    it = iter(items)
    while page := list(itertools.islice(it, size)):
        yield page


def _counts(result: SweepResult) -> dict[str, int]:
    return {name: int(getattr(result, name)) for name in COUNTERS}


class SweepService:
    def __init__(
        self,
        tenants: Tenants,
        terminals: Terminals,
        merchants: Merchants,
        repo: SweepStore,
        sender: Sender,
        emitter: Emitter,
        carrier: Carrier,
        clock: Clock,
        public_base_url: str,
        days: SweepDays,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tenants = tenants
        self._terminals = terminals
        self._merchants = merchants
        self._repo = repo
        self._sender = sender
        self._emitter = emitter
        self._carrier = carrier
        self._clock = clock
        self._base = public_base_url
        self._days = days
        self._sleep = sleep
        self._local = threading.local()

    # --- which dates to read -------------------------------------------------------------------
    def plan(self, as_of: date, start: date) -> list[date]:
        """Expiry dates worth reading for the days start..as_of (catch-up included): for each
        day, the expiry day itself, each reminder offset, yesterday (enters grace) and the day
        after each grace length (suspended), over the settings of every agent (the registry
        of distinct values, plus the defaults). Reading a date no agent needs costs reads,
        never correctness; a date left out would be a message never sent."""
        offsets = self.offsets()
        dates: set[date] = set()
        day = start
        while day <= as_of:
            dates.add(day)  # expires today
            dates.update(day + timedelta(days=r) for r in offsets.reminder_days)
            dates.add(day - timedelta(days=1))  # lapsed yesterday: enters grace
            dates.update(day - timedelta(days=g + 1) for g in offsets.grace_days)  # grace over: suspend
            day += timedelta(days=1)
        return sorted(dates)

    def offsets(self) -> Offsets:
        """Every reminder offset and grace length in use, defaults included. The first run
        after the registry appeared seeds it once from the active tenants (the tenants index
        by status, a few thousand small items, never the table); after that one GetItem."""
        defaults = TenantSettings()
        registry = self._repo.offsets()
        if registry is None:
            reminders: set[int] = set()
            graces: set[int] = set()
            cursor: str | None = None
            while True:
                page = self._tenants.list(TenantStatus.ACTIVE, 200, cursor)
                for tenant in page.items:
                    reminders.update(tenant.settings.reminder_days)
                    graces.add(tenant.settings.grace_days)
                cursor = page.next_cursor
                if not cursor:
                    break
            self._repo.record_offsets(reminders, graces, self._clock.now(), seeded=True)
            registry = Offsets(frozenset(reminders), frozenset(graces))
        return Offsets(
            registry.reminder_days | set(defaults.reminder_days),
            registry.grace_days | {defaults.grace_days},
        )

    # --- the run ----------------------------------------------------------------------------------
    # A day is swept in three steps, each its own Lambda invocation in AWS (services/sweep_runs.py):
    # `begin` (the coordinator: the day's window and dates, held SMS), `sweep_shard` once per expiry
    # shard (the workers, each under a lease with its own checkpoint, continued in a fresh
    # invocation near the time limit) and `finish_day` (queued receipts, each agent's digest, the
    # last swept day), run by whichever worker completes the last shard. `run` does all three in
    # this process, one shard after the other (tests, benchmarks, the local stack's callers).
    def check_day(self, as_of: date) -> None:
        # Only days of the supported calendar (that of expires_on): at datetime's ends the plan's day
        # arithmetic overflows (POST /v1/admin/sweeps {"as_of": "0001-01-01"} was a 500, found by fuzzing).
        if not MIN_EXPIRY <= as_of <= MAX_EXPIRY:
            raise ValidationError("as_of", "out_of_range", f"as_of must be between {MIN_EXPIRY} and {MAX_EXPIRY}")

    def run(self, as_of: date, remaining_ms: Callable[[], int] | None = None) -> SweepResult:
        self.check_day(as_of)
        with self._running():
            return self._run(as_of, remaining_ms)

    def _run(self, as_of: date, remaining_ms: Callable[[], int] | None) -> SweepResult:
        result = SweepResult(as_of=as_of.isoformat(), days=[])
        owners = _Owners()  # one process sweeps every shard: each agent and merchant read once
        day, released = self.begin(as_of)
        result.reminders_sent += released
        pending = list(range(day.shards))
        # Every shard's checkpoint in one BatchGetItem (not a GetItem each): a state gone stale
        # meanwhile is safe, the lease is taken on the holder it names and read again if refused.
        known: dict[int, ShardState] = {s.shard: s for s in self._days.shards(day.as_of, day.shards)}
        waiting_since: datetime | None = None
        polls = 0
        while pending:
            held: list[int] = []
            for shard in pending:
                if _short(remaining_ms):
                    result.status = "continued"
                    return result
                outcome = self._sweep_shard(
                    day, shard, remaining_ms, wait=False, check_day=False, owners=owners, known=known.pop(shard, None)
                )
                result.add(outcome.result)
                if outcome.status == "continued":
                    result.status = "continued"
                    return result
                if outcome.status in ("held", "lost"):
                    held.append(shard)  # another live run has it: come back to it
            if held:
                now = self._clock.now()
                waiting_since, polls = waiting_since or now, polls + 1
                if now - waiting_since > RUN_LEASE + HEARTBEAT_EVERY or polls > LEASE_POLLS:
                    result.status = "busy"  # their holders are alive and finish the day
                    return result
                self._sleep(LEASE_POLL_S)
            pending = held
        end = self._finish_day(as_of, remaining_ms, owners)
        result.events_sent += end.events_sent
        result.digests_sent += end.digests_sent
        if end.status == "continued":
            result.status = "continued"
        get_logger().info("sweep finished", extra=result.to_json())
        return result

    def begin(self, as_of: date) -> tuple[DayState, int]:
        """The coordinator's step: the day's catch-up window (from the last swept day, fixed by the
        day's first run) and the expiry dates to read; held SMS whose window opened are sent."""
        self.check_day(as_of)
        with self._running():
            now = self._clock.now()
            known = self._days.day(as_of)
            if known is not None:
                start = known.start
            else:
                last = self._repo.last_day()
                start = as_of if last is None else max(last + timedelta(days=1), as_of - timedelta(days=CATCH_UP_DAYS))
                start = min(start, as_of)
            day = self._days.open_day(as_of, start, self.plan(as_of, start), self._repo.expiry_shards, now)
            released = self._release_held(now)
            self._days.add_released(as_of, released, now)
            return day, released

    def sweep_shard(
        self, as_of: date, shard: int, remaining_ms: Callable[[], int] | None = None, *, wait: bool = True
    ) -> ShardOutcome:
        """A worker's step: every due terminal of one expiry shard over the day's dates, from the
        shard's checkpoint. Statuses: done (the shard is complete; `day_complete` says whether
        every shard is), continued (near the time limit, at a checkpoint), held (wait=False and
        another live run holds the shard), busy (it held it for a whole lease: it is alive and
        finishes it), lost (another run took the lease over: this one was silent too long)."""
        with self._running():
            day = self._days.day(as_of)
            if day is None:
                day, _ = self.begin(as_of)
            return self._sweep_shard(day, shard, remaining_ms, wait=wait, check_day=True)

    def finish_day(self, as_of: date, remaining_ms: Callable[[], int] | None = None) -> DayEnd:
        """The day's end, once every shard is complete: receipts and alerts queued meanwhile, the
        digest of every agent that had terminals due (its suspended ones listed), the last swept
        day. Each digest is claimed, so a repeated or continued end sends none twice."""
        with self._running():
            return self._finish_day(as_of, remaining_ms)

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """This thread's run: a run id and its heartbeat, ended when the step ends (done, continued
        or failed), so its claims and its lease are free to take over at once."""
        if self._run_id:  # nested (run -> begin): the outer step's run
            yield
            return
        self._run_id = new_id("run")
        self._beat(force=True)
        try:
            yield
        finally:
            self._repo.alive(self._run_id, self._clock.now())
            self._run_id = ""

    def drain_queued(self) -> int:
        """Receipts and quota alerts queued since the last run, sent now (the 5-minute schedule
        calls this, so a merchant's receipt does not wait for tomorrow's sweep). Claims make each
        message go out once even beside a running sweep."""
        with self._running():
            return self._drain_events(self._clock.now(), {}, {})

    def send_event(self, event: object) -> int:
        """Send one queued receipt or quota alert now (the outbox dispatcher calls this for each
        one it reads from the table's stream: the stored event, read by the store). The same claims
        as the drain make each message go out once, beside a running sweep or drain too. Returns 1
        when a message went out."""
        with self._running():
            return self._send_event(self._repo.queued(event), self._clock.now(), {}, {})

    # The run id and heartbeat belong to the thread running the step: the local stack runs the
    # scheduler and the dispatcher on threads of one process, sharing this service.
    @property
    def _run_id(self) -> str:
        return str(getattr(self._local, "run_id", ""))

    @_run_id.setter
    def _run_id(self, value: str) -> None:
        self._local.run_id = value
        self._local.beat_at = datetime.min.replace(tzinfo=UTC)

    def _beat(self, force: bool = False) -> None:
        """Tell concurrent runs this one is alive (every HEARTBEAT_EVERY at most)."""
        now = self._clock.now()
        if force or now - self._local.beat_at >= HEARTBEAT_EVERY:
            self._repo.alive(self._run_id, now + RUN_LEASE)
            self._local.beat_at = now

    def _take(
        self,
        day: DayState,
        shard: int,
        remaining_ms: Callable[[], int] | None,
        wait: bool,
        known: ShardState | None = None,
    ) -> tuple[str, Any]:
        """The shard's lease: ("mine", state), ("done", state), or why not. A holder whose heartbeat
        stopped (a Lambda killed at its time limit, a crash) is taken over at once; a live one is
        waited for (wait=True) until it finishes or stops beating, for one lease at most. `known`:
        the shard's state already read (its first look), else it is read."""
        waiting_since: datetime | None = None
        polls = 0
        while True:
            state, known = known or self._days.shard(day.as_of, shard), None
            if state.complete(day):
                return "done", state
            now = self._clock.now()
            holder = state.holder
            if holder is None or not self._repo.run_alive(holder, now):
                taken = self._days.take_shard(day.as_of, shard, self._run_id, holder, now)
                if taken is not None:
                    return "mine", taken
                continue  # another run took it at the same moment: look again
            if not wait:
                return "held", state
            waiting_since, polls = waiting_since or now, polls + 1
            if now - waiting_since > RUN_LEASE + HEARTBEAT_EVERY or polls > LEASE_POLLS:
                return "busy", state
            if _short(remaining_ms):
                return "continued", state
            self._beat()
            self._sleep(LEASE_POLL_S)

    def _sweep_shard(
        self,
        day: DayState,
        shard: int,
        remaining_ms: Callable[[], int] | None,
        *,
        wait: bool,
        check_day: bool,
        owners: _Owners | None = None,
        known: ShardState | None = None,
    ) -> ShardOutcome:
        result = SweepResult(as_of=day.as_of.isoformat(), days=[])
        taken, state = self._take(day, shard, remaining_ms, wait, known)
        if taken == "done":
            return ShardOutcome(result, "done", check_day and self._day_complete(day))
        if taken != "mine":
            return ShardOutcome(result, taken, False)
        with SendPool(self._repo.record, self._repo.finished) as sends:
            owners = owners or _Owners()
            work = _Pass(sends, _DigestNotes(shard, state.invocations), owners.tenants, owners.merchants)
            status = self._shard_pass(day, shard, state, result, work, remaining_ms)
        if status == "continued":
            result.status = "continued"
        return ShardOutcome(result, status, status == "done" and check_day and self._day_complete(day))

    def _shard_pass(
        self,
        day: DayState,
        shard: int,
        state: ShardState,
        result: SweepResult,
        work: _Pass,
        remaining_ms: Callable[[], int] | None,
    ) -> str:
        """The shard's due terminals from its checkpoint: done, continued (near the time limit, at a
        checkpoint) or lost (another run took the lease over)."""
        as_of = day.as_of
        counted = _counts(result)
        finished: list[date] = []  # dates read completely since the last checkpoint
        now = self._clock.now()

        def save(cursor: tuple[date, str] | None, release: bool = False) -> bool:
            """The checkpoint: the sends' outcomes and digest notes first, then the cursor, dates and
            counters they cover."""
            nonlocal counted, now
            work.sends.settle()
            self._hand_over(work)
            work.digest.flush(self._days, as_of, self._clock.now())
            counts = _counts(result)
            delta = {name: counts[name] - counted.get(name, 0) for name in counts}
            counted, now = counts, self._clock.now()
            progress = ShardProgress(cursor=cursor, done_dates=tuple(finished), counts=delta, release=release)
            ok = self._days.checkpoint(as_of, shard, self._run_id, now, progress)
            finished.clear()
            return ok

        for expiry in day.dates:
            if expiry in state.done_dates:
                continue
            after = state.cursor_sk if state.cursor_date == expiry else None
            last: str | None = after
            result.queries += 1
            for page in _pages(self._repo.due(expiry, shard, after), CHECKPOINT_EVERY):
                self._prefetch(page, work)
                for item in page:
                    if _short(remaining_ms):
                        return "continued" if save((expiry, last) if last else None, release=True) else "lost"
                    self._beat()
                    result.items_read += 1
                    self._one(item, as_of, day.start, now, result, work)
                    work.digest.saw(item.terminal.tenant_id, work.tenants)
                    last = item.cursor
                if len(page) == CHECKPOINT_EVERY and last and not save((expiry, last)):
                    return "lost"
            finished.append(expiry)
        return "done" if save(None, release=True) else "lost"

    def _hand_over(self, work: _Pass) -> None:
        """The events since the last checkpoint to the agents' webhooks, each agent's at once."""
        emit_many = getattr(self._emitter, "emit_many", None)
        for tenant_id, events in work.events.items():
            if emit_many is not None:
                emit_many(tenant_id, events)
            else:
                for event_type, data in events:
                    self._emitter.emit(tenant_id, event_type, data)
        work.events.clear()

    def _prefetch(self, page: Sequence[DueTerminal], work: _Pass) -> None:
        """The agents and merchants of a page of due terminals not read yet: one BatchGetItem, not
        a GetItem each (an agent not active, or gone, is None: its terminals are left alone)."""
        terminals = [due.terminal for due in page]
        tenant_ids = {t.tenant_id for t in terminals} - work.tenants.keys()
        wanted = {(t.tenant_id, t.merchant_id) for t in terminals if t.merchant_id} - work.merchants.keys()
        if not tenant_ids and not wanted:
            return
        tenants, merchants = self._repo.owners(tenant_ids, wanted)
        for tenant_id in tenant_ids:
            tenant = tenants.get(tenant_id)
            work.tenants[tenant_id] = tenant if tenant is not None and tenant.status is TenantStatus.ACTIVE else None
        for key in wanted:
            work.merchants[key] = merchants.get(key)

    def _day_complete(self, day: DayState) -> bool:
        """Every shard has read every date of the day (read after this worker's own checkpoint, so
        of two workers completing the last shards at once, at least one sees it)."""
        return all(s.complete(day) for s in self._days.shards(day.as_of, day.shards))

    def _finish_day(self, as_of: date, remaining_ms: Callable[[], int] | None, owners: _Owners | None = None) -> DayEnd:
        day = self._days.day(as_of)
        if day is None or not self._day_complete(day):
            return DayEnd("waiting")
        now = self._clock.now()
        owners = owners or _Owners()
        tenants, merchants = owners.tenants, owners.merchants
        events = self._drain_events(now, tenants, merchants)
        if day.finished_at is not None:
            return DayEnd("done", events_sent=events)
        if events:
            self._days.day_progress(as_of, now, DayProgress(events_sent=events))
        with SendPool(self._repo.record, self._repo.finished) as sends:
            status, sent = self._digests(as_of, day.digest_cursor, now, tenants, sends, remaining_ms)
        return DayEnd(status, events_sent=events, digests_sent=sent)

    def _digests(
        self,
        as_of: date,
        cursor: str | None,
        now: datetime,
        tenants: dict[str, Tenant | None],
        sends: SendPool[Claim],
        remaining_ms: Callable[[], int] | None,
    ) -> tuple[str, int]:
        """Each agent's digest after `cursor`, on the pool; progress (count, cursor) after the pool
        is settled, so the cursor never passes a digest whose outcome is not written."""
        done = [0]
        counted = queued = 0
        last: str | None = None

        def progress(finished: bool = False) -> None:
            nonlocal counted
            sends.settle()
            progress = DayProgress(digests_sent=done[0] - counted, digest_cursor=last, finished=finished)
            self._days.day_progress(as_of, self._clock.now(), progress)
            counted = done[0]

        def add(counts: Counts) -> None:
            done[0] += counts[0]

        for tenant_id, entries in self._agents(self._days.digests(as_of, after=cursor), tenants):
            if _short(remaining_ms):
                progress()
                return "continued", done[0]
            self._beat()
            tenant = self._tenant(tenant_id, tenants)
            if tenant is not None:
                suspended = sorted((json.loads(e) for e in entries), key=lambda s: (s["sn"], s["merchant_name"]))
                task = self._digest(tenant, as_of, now, suspended, sends.finish)
                if task is not None:
                    sends.submit(task, add)
                    queued += 1
            last = tenant_id
            if queued >= DIGEST_PROGRESS_EVERY:
                progress()
                queued = 0
        sends.settle()
        self._repo.set_last_day(as_of, now)
        progress(finished=True)
        return "done", done[0]

    def _agents(
        self, digests: Iterable[tuple[str, set[str]]], cache: dict[str, Tenant | None]
    ) -> Iterator[tuple[str, set[str]]]:
        """The digests, the agents of each hundred read first with one BatchGetItem (into `cache`)."""
        it = iter(digests)
        while page := list(itertools.islice(it, 100)):
            wanted = {tenant_id for tenant_id, _ in page} - cache.keys()
            if wanted:
                found, _ = self._repo.owners(wanted, ())
                for tenant_id in wanted:
                    tenant = found.get(tenant_id)
                    cache[tenant_id] = tenant if tenant is not None and tenant.status is TenantStatus.ACTIVE else None
            yield from page

    def _tenant(self, tenant_id: str, cache: dict[str, Tenant | None]) -> Tenant | None:
        if tenant_id not in cache:
            tenant = self._tenants.get(tenant_id)
            cache[tenant_id] = tenant if tenant is not None and tenant.status.value == "active" else None
        return cache[tenant_id]

    def _one(
        self,
        item: DueTerminal,
        as_of: date,
        start: date,
        now: datetime,
        result: SweepResult,
        work: _Pass,
    ) -> None:
        terminal = item.terminal
        tenant = self._tenant(terminal.tenant_id, work.tenants)
        if tenant is None or terminal.merchant_id is None:
            return
        key = (tenant.tenant_id, terminal.merchant_id)
        if key not in work.merchants:
            work.merchants[key] = self._merchants.get(*key)
        merchant = work.merchants[key]
        sends = work.sends
        settings = tenant.settings
        left = (terminal.expires_on - as_of).days
        if left >= 0:
            # Pre-expiry: the most urgent reminder whose day fell in the window start..as_of.
            kinds = [r for r in settings.reminder_days if start <= terminal.expires_on - timedelta(days=r) <= as_of]
            if left == 0:
                kind: str | None = "expires_today"
            elif kinds:
                kind = f"reminder_{min(kinds)}"
            else:
                kind = None
            if kind and merchant:
                self._notify(_Notice(tenant, terminal, merchant, kind, {"days_left": left}), now, result, sends)
                work.emit(tenant.tenant_id, "terminal.expiring", self._event(terminal, left))
            return
        lapsed = -left
        if terminal.status is TerminalStatus.ACTIVE and lapsed <= settings.grace_days:
            if self._move(item, terminal, TerminalStatus.GRACE, now):
                result.moved_to_grace += 1
                grace_end = (terminal.expires_on + timedelta(days=settings.grace_days)).isoformat()
                if merchant:
                    notice = _Notice(tenant, terminal, merchant, "grace_started", {"grace_end": grace_end})
                    self._notify(notice, now, result, sends)
                work.emit(tenant.tenant_id, "terminal.expired", self._event(terminal, left))
        elif (
            lapsed > settings.grace_days
            and terminal.status in (TerminalStatus.ACTIVE, TerminalStatus.GRACE)
            and self._move(item, terminal, TerminalStatus.SUSPENDED, now, self._carrier.suspension(terminal, now))
        ):
            result.suspended += 1
            if merchant:
                self._notify(_Notice(tenant, terminal, merchant, "suspended"), now, result, sends)
            work.digest.suspended.setdefault(tenant.tenant_id, []).append(
                {"sn": terminal.sn, "merchant_name": merchant.name if merchant else ""}
            )
            work.emit(tenant.tenant_id, "terminal.suspended", self._event(terminal, left))

    def _drain_events(
        self, now: datetime, tenants: dict[str, Tenant | None], merchants: dict[tuple[str, str], Merchant | None]
    ) -> int:
        """Quota alerts and renewal receipts queued by other paths, each sent once."""
        return sum(self._send_event(event, now, tenants, merchants) for event in self._repo.pending_events())

    def _send_event(
        self,
        event: QueuedEvent,
        now: datetime,
        tenants: dict[str, Tenant | None],
        merchants: dict[tuple[str, str], Merchant | None],
    ) -> int:
        if event.state != "pending":
            return 0  # sent or settled by another run since it was read
        tenant = self._tenant(event.tenant_id, tenants)
        terminal = self._terminals.get(event.tenant_id, event.sn) if tenant else None
        if tenant is None or terminal is None:
            self._repo.event_done(event, "dropped", now)
            return 0
        kind = event.name.split("#", 1)[0]  # receipt#<order>, refund#<refund>, time_transfer_out#<transfer>, quota_80
        if kind not in MERCHANT_EVENT_KINDS or terminal.merchant_id is None:
            # Records for operations (older carrier_suspend items and the like), not messages.
            self._repo.event_done(event, "recorded", now)
            return 0
        key = (tenant.tenant_id, terminal.merchant_id)
        if key not in merchants:
            merchants[key] = self._merchants.get(*key)
        merchant = merchants[key]
        sent = 0
        if merchant is not None:
            detail = event.detail()
            extra = {"days_left": (terminal.expires_on - self._clock.now().date()).days, **detail}
            if kind == "receipt":
                # A refund since the payment moved the expiry back: the receipt never claims more.
                extra["expires_on"] = min(detail.get("expires_on", "9999-12-31"), terminal.expires_on.isoformat())
            notice = _Notice(tenant, terminal, merchant, kind, extra, term=f"{event.term}#{event.name}")
            sent = self._notify(notice, now, SweepResult(as_of=""))
        self._repo.event_done(event, "sent", now)
        return sent

    def _release_held(self, now: datetime) -> int:
        """SMS held for daytime whose window opened, and sends that failed for a reason that may
        pass: sent now, once (a second failure is recorded, not queued again)."""
        sent = 0
        for item in self._repo.held_due(now):
            if item.state not in ("held", "failed") or not item.held_json:
                continue  # (failed: a send that may pass later, queued again by _send_claimed)
            if not self._repo.take(item, self._run_id, now):
                continue  # a concurrent run is sending it
            # On its claim's channel: sms (held for daytime) or either (a failed send tried again).
            sent += self._send_claimed(item, json.loads(item.held_json), now, self._repo.finish)
        return sent

    def _event(self, terminal: Terminal, days_left: int) -> dict[str, Any]:
        return {
            "sn": terminal.sn,
            "tid": terminal.tid,
            "expires_on": terminal.expires_on.isoformat(),
            "days_left": days_left,
            "merchant_id": terminal.merchant_id,
            "pay_url": f"{self._base}/pay/{terminal.sn}",
        }

    def _move(
        self,
        item: DueTerminal,
        terminal: Terminal,
        to: TerminalStatus,
        now: datetime,
        with_items: Sequence[object] = (),
    ) -> bool:
        """Conditional on the version read: a renewal that landed meanwhile wins. `with_items`
        (the carrier operation) are written in the same transaction."""
        return self._repo.move(item, replace(terminal, status=to), now, with_items)

    def _notify(self, notice: _Notice, now: datetime, result: SweepResult, sends: SendPool[Claim] | None = None) -> int:
        """The message on each of the merchant's channels, claimed here, then sent and recorded: at
        once (returns 1 when it went out on a channel), or as a task of `sends` (returns 0: counted
        into `result` when the pool is settled)."""
        finish = sends.finish if sends is not None else self._repo.finish
        claimed = self._claim(notice, now, finish, result)

        def task() -> Counts:
            sent = 0
            for mine, message in claimed:
                sent += self._send_claimed(mine, message, now, finish, retry=True)
            return (1 if sent else 0), 0

        def counted(counts: Counts) -> None:
            result.reminders_sent += counts[0]

        if not claimed:
            return 0
        if sends is not None:
            sends.submit(task, counted)
            return 0
        return task()[0]

    def _claim(
        self, notice: _Notice, now: datetime, finish: Finish, result: SweepResult
    ) -> list[tuple[Claim, dict[str, Any]]]:
        """Each channel's claim (its record: one conditional PutItem) and what to send on it; an SMS
        outside daytime is held (its outcome to `finish`, counted in `result`)."""
        tenant, terminal, merchant, kind = notice.tenant, notice.terminal, notice.merchant, notice.kind
        term = notice.term or terminal.expires_on.isoformat()
        ctx = {
            "sn": terminal.sn,
            "tid": terminal.tid,
            "expires_on": terminal.expires_on.isoformat(),
            "agent_name": tenant.name,
            "merchant_name": merchant.name,
            "pay_url": f"{self._base}/pay/{terminal.sn}",
            **notice.extra,
        }
        template = "reminder" if kind.startswith("reminder_") else kind
        claimed: list[tuple[Claim, dict[str, Any]]] = []
        targets = [("sms", merchant.phone, mask_phone(merchant.phone))]
        if merchant.email:
            targets.append(("email", merchant.email, mask_email(merchant.email)))
        for channel, to, masked in targets:
            claim = Message(tenant.tenant_id, kind, channel, masked, sn=terminal.sn, term=term)
            mine = self._repo.claim(claim, self._run_id, now)
            if mine is None:
                continue
            window = self._sender.sms_allowed(now, tenant.settings.timezone) if channel == "sms" else None
            message = {"to": to, "kind": template, "language": tenant.settings.language, "ctx": ctx}
            if window is None:
                claimed.append((mine, message))
                continue
            finish(mine, "held", now, Outcome(hold_until=window, held_json=json.dumps(message)))
            result.held_for_daytime += 1
        return claimed

    def _send_claimed(
        self, mine: Claim, message: dict[str, Any], now: datetime, finish: Finish, retry: bool = False
    ) -> int:
        """Send a claimed message (`message`: to, kind, language and ctx, the held SMS's form) on its
        claim's channel; its outcome to `finish`. 1 when the provider accepted it. With `retry`, a
        failure the provider says may pass (throttling, an outage: SendError.retryable) is queued
        like a held SMS: the next run sends it again."""
        outgoing = Outgoing(channel=mine.channel, tenant_id=mine.tenant_id, sn=mine.sn, dedupe_key=mine.key, **message)
        try:
            provider_id = self._sender.send_to(outgoing)
        except Exception as exc:  # noqa: BLE001 - one bad number must not stop the sweep
            if retry and getattr(exc, "retryable", False):
                again = now + RETRY_AFTER
                finish(mine, "failed", now, Outcome(error=repr(exc), hold_until=again, held_json=json.dumps(message)))
            else:
                finish(mine, "failed", now, Outcome(error=repr(exc)))
            return 0
        finish(mine, "sent", now, Outcome(provider_id=provider_id))
        return 1

    def _digest(
        self,
        tenant: Tenant,
        as_of: date,
        now: datetime,
        suspended: list[dict[str, Any]],
        finish: Finish,
    ) -> Callable[[], Counts] | None:
        """The agent's digest claimed and composed here; the task that sends it (its outcome to
        `finish`, (1, 0) when it went out), or None: it was sent already."""
        claim = Message(tenant.tenant_id, "digest", "email", mask_email(tenant.contact_email), day=as_of)
        mine = self._repo.claim(claim, self._run_id, now)
        if mine is None:
            return None
        week = self._terminals.page(
            tenant.tenant_id,
            status=TerminalStatus.ACTIVE.value,
            merchant_id=None,
            expires_from=as_of,
            expires_before=as_of + timedelta(days=8),
            limit=200,
            cursor=None,
        )
        ctx = {
            "agent_name": tenant.name,
            "date": as_of.isoformat(),
            "expiring": [
                {
                    "sn": t.sn,
                    "merchant_name": "",
                    "expires_on": t.expires_on.isoformat(),
                    "pay_url": f"{self._base}/pay/{t.sn}",
                }
                for t in week.items
            ],
            "suspended": suspended,
            "pay_url": self._base,
        }
        message = {"to": tenant.contact_email, "kind": "digest", "language": tenant.settings.language, "ctx": ctx}
        return lambda: (self._send_claimed(mine, message, now, finish), 0)


class NoEmitter:
    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int:
        return 0
