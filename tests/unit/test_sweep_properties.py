"""Property test of the sweep's date plan over random agent settings: several agents, each with
its own reminder_days and grace_days, swept once a day. Every reminder an agent chose is sent
exactly once, on its day; the expiry day, grace start and suspension fall on theirs; nothing
else is ever sent.

The sweep runs for real (SweepService) on in-memory fakes of its repositories: a daily run over
weeks of days against moto costs seconds per example, and what is under test is which dates the
sweep reads and what it decides, not DynamoDB (tests/cases/sweep.py runs the same rules on moto
and DynamoDB Local).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import new_terminal_item, to_terminal
from simrenew.adapters.dynamodb.models import TerminalItem
from simrenew.adapters.dynamodb.paging import Page
from simrenew.adapters.dynamodb.sweep_days import DayState, ShardState
from simrenew.adapters.dynamodb.sweep_store import notification_item
from simrenew.clock import FixedClock
from simrenew.domain.fleet import Merchant, Terminal, TerminalStatus
from simrenew.domain.tenant import Tenant, TenantSettings, TenantStatus
from simrenew.ports.sweep_store import Claim, DueTerminal, Message, Offsets, Outcome, QueuedEvent
from simrenew.ports.sweeps import DayProgress, ShardProgress
from simrenew.services.sweep import SweepService
from tests.support.sweep import RecordingEmitter, RecordingSender

DAY0 = date(2031, 3, 1)


class MemoryTenants:
    def __init__(self, tenants: list[Tenant]) -> None:
        self.by_id = {t.tenant_id: t for t in tenants}

    def get(self, tenant_id: str) -> Tenant | None:
        return self.by_id.get(tenant_id)

    def list(self, status: TenantStatus | None, limit: int, cursor: str | None) -> Page[Tenant]:
        # Two pages at most, so the seeding pass follows the cursor.
        items = [t for t in self.by_id.values() if status is None or t.status is status]
        start = int(cursor or 0)
        page = items[start : start + 2]
        return Page(page, str(start + 2) if start + 2 < len(items) else None)


class MemoryTerminals:
    def __init__(self) -> None:
        self.items: dict[str, TerminalItem] = {}

    def add(self, terminal: Terminal, now: datetime) -> None:
        self.items[terminal.sn] = new_terminal_item(terminal, now)

    def save(
        self,
        item: TerminalItem,
        terminal: Terminal,
        now: datetime,
        moved: dict[str, Any],
        with_items: Any = (),
    ) -> Terminal:
        self.items[terminal.sn] = new_terminal_item(terminal, now)
        return terminal

    def item(self, tenant_id: str, sn: str) -> TerminalItem | None:
        return self.items.get(sn)

    def get(self, tenant_id: str, sn: str) -> Terminal | None:
        item = self.items.get(sn)
        return None if item is None else to_terminal(item)

    def page(self, tenant_id: str, **_: Any) -> Page[Terminal]:
        return Page([], None)


class MemoryMerchants:
    def get(self, tenant_id: str, merchant_id: str) -> Merchant | None:
        return Merchant(merchant_id=merchant_id, tenant_id=tenant_id, name="张记", phone="+8613812345678")


class MemorySweepRepo:
    """The sweep's bookkeeping and its one index read (the sparse expiry index) in memory."""

    expiry_shards = keys.EXPIRY_SHARDS

    def __init__(self, terminals: MemoryTerminals, tenants: MemoryTenants) -> None:
        self._terminals = terminals
        self._tenants = tenants
        self.claims: dict[tuple[str, str], Claim] = {}
        self.registry: Offsets | None = None
        self.last: date | None = None
        self.read_dates: set[date] = set()

    def offsets(self) -> Offsets | None:
        return self.registry

    def record_offsets(self, reminders: Any, graces: Any, now: datetime, *, seeded: bool = False) -> None:
        old = self.registry or Offsets(frozenset(), frozenset())
        self.registry = Offsets(old.reminder_days | set(reminders), old.grace_days | set(graces))

    def due(self, day: date, shard: int, after: str | None = None) -> Iterator[DueTerminal]:
        self.read_dates.add(day)
        wanted = keys.expiry_pk(day, shard)
        found = [i for i in self._terminals.items.values() if i.exp_pk == wanted]
        for i in sorted((i for i in found if after is None or i.exp_sk > after), key=lambda i: i.exp_sk):
            yield DueTerminal(to_terminal(i), i.exp_sk, i)

    def move(self, due: DueTerminal, terminal: Terminal, now: datetime, with_items: Any = ()) -> bool:
        self._terminals.items[terminal.sn] = new_terminal_item(terminal, now)
        return True

    def claim(self, message: Message, run_id: str, now: datetime) -> Claim | None:
        item = notification_item(message, run_id, now)
        key = (item.pk, item.sk)
        if key in self.claims:
            return None
        self.claims[key] = Claim(item.sk, item.tenant_id, item.sn, item.channel, "sending", None, item)
        return self.claims[key]

    def take(self, claim: Claim, run_id: str, now: datetime) -> bool:
        return True

    def finish(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> None:
        item.state = state

    def finished(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> Claim:
        item.state = state
        return item

    def owners(self, tenant_ids: Any, merchants: Any) -> tuple[dict[str, Tenant], dict[tuple[str, str], Merchant]]:
        found = {t: self._tenants.by_id[t] for t in tenant_ids if t in self._tenants.by_id}
        return found, {(t, m): m_ for t, m in merchants if (m_ := MemoryMerchants().get(t, m))}

    def record(self, items: Any) -> None: ...  # outcomes set on the claims themselves (`finished`)

    def alive(self, run_id: str, until: datetime) -> None: ...

    def run_alive(self, run_id: str | None, now: datetime) -> bool:
        return False

    def last_day(self) -> date | None:
        return self.last

    def set_last_day(self, day: date, now: datetime) -> None:
        self.last = max(day, self.last or day)

    def held_due(self, now: datetime) -> list[Claim]:
        return []

    def pending_events(self) -> list[QueuedEvent]:
        return []

    def queued(self, stored: object) -> QueuedEvent:
        raise AssertionError("no queued events in this test")

    def event_done(self, event: QueuedEvent, state: str, now: datetime) -> None: ...


class MemorySweepDays:
    """The fanned-out sweep's days, shard checkpoints and digest notes in memory (one run at a time)."""

    def __init__(self) -> None:
        self.days: dict[date, DayState] = {}
        self.shard_states: dict[tuple[date, int], ShardState] = {}
        self.digest_notes: dict[tuple[date, str], set[str]] = {}

    def day(self, as_of: date) -> DayState | None:
        return self.days.get(as_of)

    def open_day(self, as_of: date, start: date, dates: Any, shards: int, now: datetime) -> DayState:
        known = self.days.get(as_of)
        merged = set(dates) | set(known.dates if known else ())
        self.days[as_of] = DayState(as_of, known.start if known else start, tuple(sorted(merged)), shards)
        return self.days[as_of]

    def add_released(self, as_of: date, count: int, now: datetime) -> None: ...

    def shard(self, as_of: date, shard: int) -> ShardState:
        return self.shard_states.get((as_of, shard), ShardState(shard))

    def shards(self, as_of: date, count: int) -> list[ShardState]:
        return [self.shard(as_of, k) for k in range(count)]

    def take_shard(self, as_of: date, shard: int, run_id: str, expected: str | None, now: datetime) -> ShardState:
        state = replace(self.shard(as_of, shard), holder=run_id)
        self.shard_states[(as_of, shard)] = state
        return state

    def checkpoint(self, as_of: date, shard: int, run_id: str, now: datetime, progress: ShardProgress) -> bool:
        state = self.shard(as_of, shard)
        cursor = progress.cursor
        self.shard_states[(as_of, shard)] = replace(
            state,
            holder=None if progress.release else state.holder,
            done_dates=state.done_dates | set(progress.done_dates),
            cursor_date=cursor[0] if cursor else None,
            cursor_sk=cursor[1] if cursor else None,
        )
        return True

    def add_digests(self, as_of: date, shard: int, invocation: int, notes: Any, now: datetime) -> None:
        for tenant_id, suspended in notes.items():
            self.digest_notes.setdefault((as_of, tenant_id), set()).update(suspended)

    def digests(self, as_of: date, after: str | None = None) -> Iterator[tuple[str, set[str]]]:
        for (day, tenant_id), notes in sorted(self.digest_notes.items()):
            if day == as_of and (after is None or tenant_id > after):
                yield tenant_id, notes

    def day_progress(self, as_of: date, now: datetime, progress: DayProgress) -> None:
        if progress.finished:
            self.days[as_of] = replace(self.days[as_of], finished_at=now)


class NoCarrier:
    """No carrier account: a suspension writes no carrier operation."""

    def suspension(self, terminal: Terminal, now: datetime) -> list[Any]:
        return []


agent_settings = st.fixed_dictionaries(
    {
        "reminder_days": st.lists(st.integers(1, 45), min_size=0, max_size=5, unique=True),
        "grace_days": st.integers(0, 20),
        "expires_in": st.integers(0, 50),  # days after the first run
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=st.lists(agent_settings, min_size=1, max_size=3))
def test_every_chosen_reminder_is_sent_exactly_once_on_its_day_and_nothing_else(agents: list[dict[str, Any]]) -> None:
    now = datetime(DAY0.year, DAY0.month, DAY0.day, 2, tzinfo=UTC)
    clock = FixedClock(now)
    tenants, terminals, expected = [], MemoryTerminals(), {}
    for n, agent in enumerate(agents):
        tenant_id = f"t_prop{n}"
        chosen = TenantSettings(
            reminder_days=tuple(sorted(agent["reminder_days"], reverse=True)), grace_days=agent["grace_days"]
        )
        tenants.append(
            Tenant(tenant_id, f"Agent {n}", "钱", "a@example.com", "+8613800138000", TenantStatus.ACTIVE, chosen, "")
        )
        sn = f"PROP-{n:04d}"
        expires = DAY0 + timedelta(days=agent["expires_in"])
        terminals.add(
            Terminal(
                tenant_id, sn, f"{n:08d}", "89860000000000000000", "CMCC", "A920", expires, TerminalStatus.ACTIVE, "m_1"
            ),
            now,
        )
        want: dict[date, list[str]] = {}
        for r in chosen.reminder_days:
            if expires - timedelta(days=r) >= DAY0:  # due before the first run: never sent
                want.setdefault(expires - timedelta(days=r), []).append(f"reminder_{r}")
        want[expires] = ["expires_today"]
        g = chosen.grace_days
        if g > 0:
            want[expires + timedelta(days=1)] = ["grace_started"]
        want[expires + timedelta(days=g + 1)] = ["suspended"]
        expected[sn] = want

    repo = MemorySweepRepo(terminals, MemoryTenants(tenants))
    repo.last = DAY0 - timedelta(days=1)
    service = SweepService(
        MemoryTenants(tenants),  # type: ignore[arg-type]
        terminals,  # type: ignore[arg-type]
        MemoryMerchants(),  # type: ignore[arg-type]
        repo,  # type: ignore[arg-type]
        sender := RecordingSender(),
        RecordingEmitter(),
        NoCarrier(),
        clock,
        "https://pay.example.com",
        MemorySweepDays(),  # type: ignore[arg-type]
    )
    got: dict[str, dict[date, list[str]]] = {sn: {} for sn in expected}
    last_day = DAY0 + timedelta(days=50 + 20 + 3)
    day = DAY0
    while day <= last_day:
        clock.set(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
        before = len(sender.sent)
        service.run(day)
        for message in sender.sent[before:]:
            if message["channel"] == "sms":
                got[message["sn"]].setdefault(day, []).append(message["key"].split("#")[-2])
        day += timedelta(days=1)

    assert got == expected
    for sn, item in terminals.items.items():
        assert to_terminal(item).status is TerminalStatus.SUSPENDED, sn


def test_the_plan_reads_each_agents_own_dates_and_the_defaults() -> None:
    """The union: an agent with [15, 3] and grace 10 adds its dates to the defaults 30/7/1 and 7."""
    terminals = MemoryTerminals()
    tenant = Tenant(
        "t_a",
        "A",
        "钱",
        "a@example.com",
        "+8613800138000",
        TenantStatus.ACTIVE,
        replace(TenantSettings(), reminder_days=(15, 3), grace_days=10),
        "",
    )
    repo = MemorySweepRepo(terminals, MemoryTenants([tenant]))
    clock = FixedClock(datetime(2031, 3, 1, 2, tzinfo=UTC))
    service = SweepService(
        MemoryTenants([tenant]),
        terminals,
        MemoryMerchants(),
        repo,  # type: ignore[arg-type]
        RecordingSender(),
        RecordingEmitter(),
        NoCarrier(),
        clock,
        "https://pay.example.com",
        MemorySweepDays(),  # type: ignore[arg-type]
    )
    d = date(2031, 3, 1)
    offsets = sorted((x - d).days for x in service.plan(d, d))
    assert offsets == [-11, -8, -1, 0, 1, 3, 7, 15, 30]
