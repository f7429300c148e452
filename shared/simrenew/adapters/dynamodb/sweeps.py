"""Sweep bookkeeping: notification claims (exactly once per terminal, term, kind, channel),
run heartbeats, the last completed day, and the reads of the expiry index. The fanned-out
sweep's days, shard checkpoints and requests are in sweep_days.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import is_condition_failure
from simrenew.adapters.dynamodb.models import (
    Item,
    MerchantItem,
    SweepRunItem,
    TenantItem,
    TerminalEventItem,
    TerminalItem,
)
from simrenew.adapters.dynamodb.models import NotificationItem as NotificationItem
from simrenew.adapters.dynamodb.models import SweepStateItem as SweepStateItem
from simrenew.domain.fleet import Merchant
from simrenew.domain.tenant import Tenant
from simrenew.ports.sweep_store import RUN_LEASE as RUN_LEASE  # (defined with the port, re-exported here)
from simrenew.ports.sweep_store import Offsets, Outcome

# A claim still "sending" after this long belongs to a sweep that died mid-send.
STALE_SENDING = timedelta(minutes=15)
HELD_SHARDS = keys.HELD_SMS_SHARDS


OFFSETS_KEY = (keys.sweep_pk(), keys.sweep_offsets_sk())


def finished(item: NotificationItem, state: str, now: datetime, outcome: Outcome) -> NotificationItem:
    """The claim with its outcome, in memory (what `finish` writes, for `record` to write whole)."""
    item.state, item.updated_at = state, now
    if outcome.provider_id:
        item.provider_id = outcome.provider_id
    if outcome.error:
        item.error = outcome.error[:500]
    if outcome.hold_until and outcome.held_json:
        shard = keys.held_sms_shard(item.sk)
        item.hold_until, item.held_json = outcome.hold_until, outcome.held_json
        item.gsi2pk = keys.held_sms_gsi2pk(shard)
        item.gsi2sk = keys.held_sms_gsi2sk(outcome.hold_until, item.pk, item.sk)
    else:
        item.gsi2pk = item.gsi2sk = item.held_json = None
    return item


class SweepRepository:
    def due(self, day: date, shard: int, after: str | None = None) -> Iterator[TerminalItem]:
        """Terminals of the expiry index for (day, shard), by exp_sk; after a checkpoint's cursor."""
        condition = TerminalItem.exp_sk > after if after else None
        for item in TerminalItem.expiry.query(keys.expiry_pk(day, shard), condition):
            if isinstance(item, TerminalItem):
                yield item

    # --- runs ----------------------------------------------------------------------------------------
    def alive(self, run_id: str, until: datetime) -> None:
        """This run's heartbeat (written at the start, refreshed while it runs, ended at its end)."""
        beat = SweepRunItem(keys.sweep_pk(), keys.sweep_alive_sk(run_id), alive_until=until)
        beat.ttl = until + timedelta(days=2)
        beat.save()

    def run_alive(self, run_id: str | None, now: datetime) -> bool:
        if not run_id:
            return False
        try:
            beat = SweepRunItem.get(keys.sweep_pk(), keys.sweep_alive_sk(run_id), consistent_read=True)
        except SweepRunItem.DoesNotExist:
            return False
        return beat.alive_until > now

    # --- claims ---------------------------------------------------------------------------------------
    def claim(self, item: NotificationItem, now: datetime) -> NotificationItem | None:
        """Claim a message before sending. None: it was sent, or is being sent by a live run.
        Returns the claim to send: a new one, a held SMS whose time came, one an earlier run
        failed to send, or one left "sending"
        by a run that is dead (its heartbeat stopped: only a message the provider accepted in the
        instant before such a kill can repeat). Taking a claim over is conditional on nobody
        else having taken it, so two live runs never both send one message."""
        try:
            item.save(condition=NotificationItem.pk.does_not_exist())
            return item
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
        existing = NotificationItem.get(item.pk, item.sk, consistent_read=True)
        if existing.state == "held" and existing.hold_until is not None and existing.hold_until <= now:
            return existing if self.take(existing, item.run_id or "", now) else None
        if existing.state == "failed" and existing.run_id != item.run_id:
            # The provider refused it or was unreachable on an earlier run: this run tries again.
            return existing if self.take(existing, item.run_id or "", now) else None
        if existing.state == "sending" and existing.run_id != item.run_id:
            stale = existing.created_at is not None and existing.created_at < now - STALE_SENDING
            if stale or not self.run_alive(existing.run_id, now):
                return existing if self.take(existing, item.run_id or "", now) else None
        return None

    def take(self, existing: NotificationItem, run_id: str, now: datetime) -> bool:
        """Move a held, failed or orphaned claim to this run, unless another run moved it first."""
        unchanged = (NotificationItem.state == existing.state) & (
            NotificationItem.run_id == existing.run_id if existing.run_id else NotificationItem.run_id.does_not_exist()
        )
        try:
            existing.update(
                actions=[
                    NotificationItem.state.set("sending"),
                    NotificationItem.run_id.set(run_id),
                    NotificationItem.updated_at.set(now),
                ],
                condition=unchanged,
            )
            return True
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise

    def finish(self, item: NotificationItem, state: str, now: datetime, outcome: Outcome) -> None:
        """A claim's outcome, one UpdateItem (the held SMS and digests sent one at a time; the sweep's
        reminders record theirs with `record`, in batches)."""
        actions: list[Action] = [NotificationItem.state.set(state), NotificationItem.updated_at.set(now)]
        if outcome.provider_id:
            actions.append(NotificationItem.provider_id.set(outcome.provider_id))
        if outcome.error:
            actions.append(NotificationItem.error.set(outcome.error[:500]))
        if outcome.hold_until and outcome.held_json:
            # Sparse queue of SMS waiting for daytime, read by every sweep run.
            shard = keys.held_sms_shard(item.sk)
            actions += [
                NotificationItem.hold_until.set(outcome.hold_until),
                NotificationItem.held_json.set(outcome.held_json),
                NotificationItem.gsi2pk.set(keys.held_sms_gsi2pk(shard)),
                NotificationItem.gsi2sk.set(keys.held_sms_gsi2sk(outcome.hold_until, item.pk, item.sk)),
            ]
        else:
            actions += [
                NotificationItem.gsi2pk.remove(),
                NotificationItem.gsi2sk.remove(),
                NotificationItem.held_json.remove(),
            ]
        item.update(actions=actions)

    def owners(
        self, tenant_ids: Iterable[str], merchants: Iterable[tuple[str, str]]
    ) -> tuple[dict[str, Tenant], dict[tuple[str, str], Merchant]]:
        """The agents and merchants of a page of due terminals, in one consistent BatchGetItem
        (100 keys a request): tenant id → tenant, (tenant id, merchant id) → merchant; a key
        not found is absent."""
        from simrenew.adapters.dynamodb.fleet import _merchant as merchant_of  # tenants.py imports this module
        from simrenew.adapters.dynamodb.tenants import to_domain as tenant_of

        wanted = [(keys.tenant_pk(t), keys.tenant_profile_sk()) for t in sorted(set(tenant_ids))]
        wanted += [(keys.tenant_pk(t), keys.merchant_sk(m)) for t, m in sorted(set(merchants))]
        tenants: dict[str, Tenant] = {}
        found: dict[tuple[str, str], Merchant] = {}
        for item in Item.batch_get(wanted, consistent_read=True):
            if isinstance(item, TenantItem):
                tenants[item.tenant_id] = tenant_of(item)
            elif isinstance(item, MerchantItem):
                found[(item.tenant_id, item.merchant_id)] = merchant_of(item)
        return tenants, found

    def record(self, items: Sequence[NotificationItem]) -> None:
        """Outcomes of claims this run holds (each set by `finished`), written whole with
        BatchWriteItem, 25 a request: unconditional like `finish`, as only the claim's holder
        writes its outcome (a claim is taken over only from a run whose heartbeat stopped)."""
        with NotificationItem.batch_write() as batch:
            for item in items:
                batch.save(item)

    def held_due(self, now: datetime) -> list[NotificationItem]:
        out: list[NotificationItem] = []
        for shard in range(HELD_SHARDS):
            for item in NotificationItem.gsi2.query(
                keys.held_sms_gsi2pk(shard), NotificationItem.gsi2sk <= keys.held_sms_due_bound(now)
            ):
                if isinstance(item, NotificationItem):
                    out.append(item)
        return out

    def notifications(self, tenant_id: str, sn: str) -> list[NotificationItem]:
        prefix = keys.notifications_prefix(sn)
        return list(NotificationItem.query(keys.tenant_pk(tenant_id), NotificationItem.sk.startswith(prefix)))

    def last_day(self) -> date | None:
        try:
            raw = SweepStateItem.get(keys.sweep_pk(), keys.sweep_last_sk(), consistent_read=True).last_day
        except SweepStateItem.DoesNotExist:
            return None
        return date.fromisoformat(raw) if raw else None

    def set_last_day(self, day: date, now: datetime) -> None:
        """Only ever forward (days finishing at once on different workers: the later day wins): one
        conditional PutItem, no read first."""
        later = SweepStateItem.pk.does_not_exist() | (SweepStateItem.last_day < day.isoformat())
        with contextlib.suppress(PutError):  # the same or a later day is recorded already
            SweepStateItem(keys.sweep_pk(), keys.sweep_last_sk(), last_day=day.isoformat(), updated_at=now).save(
                condition=later
            )

    def offsets(self) -> Offsets | None:
        """The settings registry: every reminder offset and grace length any agent has chosen.
        None until it has been seeded from the active tenants once (see SweepService.plan).

        Why a registry item and not the tenants themselves: the sweep needs only the *distinct*
        values (at most 365 offsets and 91 grace lengths, so the item stays small whatever the
        number of agents) and reads it with one GetItem a run. It only grows: a value no agent
        uses any more costs EXPIRY_SHARDS empty queries per day, never a missed message, and
        a settings change is recorded here *before* the tenant item is written (a crash in
        between leaves an extra value, never a missing one)."""
        try:
            item = SweepStateItem.get(*OFFSETS_KEY, consistent_read=True)
        except SweepStateItem.DoesNotExist:
            return None
        if item.seeded_at is None:
            return None
        return Offsets(
            frozenset(int(x) for x in item.reminder_days or set()),
            frozenset(int(x) for x in item.grace_days or set()),
        )

    def record_offsets(
        self, reminder_days: Iterable[int], grace_days: Iterable[int], now: datetime, *, seeded: bool = False
    ) -> None:
        """Add values to the registry (an agent changed its settings, or the seeding pass).
        ADD on sets is atomic: concurrent settings changes never lose each other's values."""
        reminders = {int(r) for r in reminder_days}
        graces = {int(g) for g in grace_days}
        with contextlib.suppress(PutError):  # the item exists already (the usual case)
            SweepStateItem(*OFFSETS_KEY, created_at=now).save(condition=SweepStateItem.pk.does_not_exist())
        actions: list[Action] = [SweepStateItem.updated_at.set(now)]
        if reminders:
            actions.append(SweepStateItem.reminder_days.add(reminders))
        if graces:
            actions.append(SweepStateItem.grace_days.add(graces))
        if seeded:
            actions.append(SweepStateItem.seeded_at.set(now))
        SweepStateItem(*OFFSETS_KEY).update(actions=actions)

    def pending_events(self, limit: int = 500) -> list[TerminalEventItem]:
        out: list[TerminalEventItem] = []
        for shard in range(keys.PENDING_EVENT_SHARDS):
            for item in TerminalEventItem.gsi1.query(keys.pending_events_gsi1pk(shard), limit=limit):
                if isinstance(item, TerminalEventItem):
                    out.append(item)
        return out

    def event_done(self, event: TerminalEventItem, state: str, now: datetime) -> None:
        event.update(
            actions=[
                TerminalEventItem.state.set(state),
                TerminalEventItem.gsi1pk.remove(),
                TerminalEventItem.gsi1sk.remove(),
                TerminalEventItem.updated_at.set(now),
            ]
        )
