"""The expiry sweep: for one day, read only the terminals due through the sparse, sharded
expiry index; send each reminder once; move lapsed terminals to grace and then suspension;
send each agent a digest; catch up missed days (up to 7) without stale reminders.

Ports it needs are passed in: a notifier (SMS/email), an event emitter (agent webhooks),
a carrier (SIM suspension). Everything it sends is claimed first with a conditional write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import MerchantRepository, TerminalRepository, to_terminal
from simrenew.adapters.dynamodb.models import Item, TerminalEventItem, TerminalItem
from simrenew.adapters.dynamodb.sweeps import (
    RUN_LEASE,
    NotificationItem,
    Offsets,
    SweepRepository,
    digest_sk,
    notification_sk,
)
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.clock import Clock
from simrenew.domain.contact import mask_email, mask_phone
from simrenew.domain.fleet import MAX_EXPIRY, MIN_EXPIRY, Merchant, Terminal, TerminalStatus
from simrenew.domain.tenant import Tenant, TenantSettings, TenantStatus
from simrenew.errors import Conflict, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger

CATCH_UP_DAYS = 7
STOP_BEFORE_MS = 60_000
# How often a running sweep refreshes its heartbeat (well inside RUN_LEASE).
HEARTBEAT_EVERY = timedelta(seconds=30)
# Queued terminal events that are messages to the merchant (the rest are records for operations).
MERCHANT_EVENT_KINDS = ("receipt", "quota_80", "quota_100", "time_transfer_out", "time_transfer_in", "refund")


class Sender(Protocol):
    """What the sweep needs of the notification channels (see adapters/notify.py)."""

    def send_to(
        self,
        *,
        channel: str,
        to: str,
        kind: str,
        language: str,
        ctx: dict[str, Any],
        tenant_id: str,
        sn: str | None,
        dedupe_key: str,
    ) -> str: ...

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        """None if an SMS may go now, else when the next window opens."""
        ...


class Emitter(Protocol):
    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int: ...


class Carrier(Protocol):
    """The carrier operation a suspension writes in its own transaction (services/carrier.py
    OutboxCarrier: the outbox dispatcher carries it out at the carrier's platform)."""

    def suspension(self, terminal: Terminal, now: datetime) -> Sequence[Item]: ...


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


class SweepService:
    def __init__(
        self,
        tenants: TenantRepository,
        terminals: TerminalRepository,
        merchants: MerchantRepository,
        repo: SweepRepository,
        sender: Sender,
        emitter: Emitter,
        carrier: Carrier,
        clock: Clock,
        public_base_url: str,
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
        self._run_id = ""
        self._beat_at = datetime.min.replace(tzinfo=UTC)

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
    def run(self, as_of: date, remaining_ms: Callable[[], int] | None = None) -> SweepResult:
        # Only days of the supported calendar (that of expires_on): at datetime's ends the plan's day
        # arithmetic overflows (POST /v1/admin/sweeps {"as_of": "0001-01-01"} was a 500, found by fuzzing).
        if not MIN_EXPIRY <= as_of <= MAX_EXPIRY:
            raise ValidationError("as_of", "out_of_range", f"as_of must be between {MIN_EXPIRY} and {MAX_EXPIRY}")
        now = self._clock.now()
        last = self._repo.last_day()
        start = as_of if last is None else max(last + timedelta(days=1), as_of - timedelta(days=CATCH_UP_DAYS))
        start = min(start, as_of)
        self._run_id = new_id("run")
        self._beat(force=True)
        try:
            return self._run(as_of, start, now, remaining_ms)
        finally:
            # Ended (done, continued or failed): its claims are settled or free to take over.
            self._repo.alive(self._run_id, self._clock.now())

    def drain_queued(self) -> int:
        """Receipts and quota alerts queued since the last run, sent now (the 5-minute schedule
        calls this, so a merchant's receipt does not wait for tomorrow's sweep). Claims make each
        message go out once even beside a running sweep."""
        self._run_id = new_id("run")
        self._beat(force=True)
        try:
            return self._drain_events(self._clock.now(), {}, {})
        finally:
            self._repo.alive(self._run_id, self._clock.now())

    def send_event(self, event: TerminalEventItem) -> int:
        """Send one queued receipt or quota alert now (the outbox dispatcher calls this for each
        one it reads from the table's stream). The same claims as the drain make each message go
        out once, beside a running sweep or drain too. Returns 1 when a message went out."""
        self._run_id = new_id("run")
        self._beat(force=True)
        try:
            return self._send_event(event, self._clock.now(), {}, {})
        finally:
            self._repo.alive(self._run_id, self._clock.now())

    def _beat(self, force: bool = False) -> None:
        """Tell concurrent runs this one is alive (every HEARTBEAT_EVERY at most)."""
        now = self._clock.now()
        if force or now - self._beat_at >= HEARTBEAT_EVERY:
            self._repo.alive(self._run_id, now + RUN_LEASE)
            self._beat_at = now

    def _run(self, as_of: date, start: date, now: datetime, remaining_ms: Callable[[], int] | None) -> SweepResult:
        result = SweepResult(as_of=as_of.isoformat(), days=[])
        result.reminders_sent += self._release_held(now)
        done = set(self._repo.state(as_of))
        tenants: dict[str, Tenant | None] = {}
        merchants: dict[tuple[str, str], Merchant | None] = {}
        suspended_by_tenant: dict[str, list[dict[str, Any]]] = {}
        for day in self.plan(as_of, start):
            for shard in range(keys.EXPIRY_SHARDS):
                part = f"{day.isoformat()}#{shard}"
                if part in done:
                    continue
                if remaining_ms is not None and remaining_ms() < STOP_BEFORE_MS:
                    result.status = "continued"
                    return result
                result.queries += 1
                for item in self._repo.due(day, shard):
                    self._beat()
                    result.items_read += 1
                    self._one(item, as_of, start, now, result, tenants, merchants, suspended_by_tenant)
                self._repo.mark_part(as_of, part, now)
        result.events_sent += self._drain_events(now, tenants, merchants)
        for tenant_id, tenant in tenants.items():
            if tenant is not None:
                result.digests_sent += self._digest(tenant, as_of, now, suspended_by_tenant.get(tenant_id, []))
        self._repo.set_last_day(as_of, now)
        get_logger().info("sweep finished", extra=result.to_json())
        return result

    def _tenant(self, tenant_id: str, cache: dict[str, Tenant | None]) -> Tenant | None:
        if tenant_id not in cache:
            tenant = self._tenants.get(tenant_id)
            cache[tenant_id] = tenant if tenant is not None and tenant.status.value == "active" else None
        return cache[tenant_id]

    def _one(
        self,
        item: TerminalItem,
        as_of: date,
        start: date,
        now: datetime,
        result: SweepResult,
        tenants: dict[str, Tenant | None],
        merchants: dict[tuple[str, str], Merchant | None],
        suspended: dict[str, list[dict[str, Any]]],
    ) -> None:
        terminal = to_terminal(item)
        tenant = self._tenant(terminal.tenant_id, tenants)
        if tenant is None or terminal.merchant_id is None:
            return
        key = (tenant.tenant_id, terminal.merchant_id)
        if key not in merchants:
            merchants[key] = self._merchants.get(*key)
        merchant = merchants[key]
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
                result.reminders_sent += self._notify(
                    tenant, terminal, merchant, kind, {"days_left": left}, now, result
                )
                self._emitter.emit(tenant.tenant_id, "terminal.expiring", self._event(terminal, left))
            return
        lapsed = -left
        if terminal.status is TerminalStatus.ACTIVE and lapsed <= settings.grace_days:
            if self._move(item, terminal, TerminalStatus.GRACE, now):
                result.moved_to_grace += 1
                grace_end = (terminal.expires_on + timedelta(days=settings.grace_days)).isoformat()
                if merchant:
                    result.reminders_sent += self._notify(
                        tenant, terminal, merchant, "grace_started", {"grace_end": grace_end}, now, result
                    )
                self._emitter.emit(tenant.tenant_id, "terminal.expired", self._event(terminal, left))
        elif (
            lapsed > settings.grace_days
            and terminal.status in (TerminalStatus.ACTIVE, TerminalStatus.GRACE)
            and self._move(item, terminal, TerminalStatus.SUSPENDED, now, self._carrier.suspension(terminal, now))
        ):
            result.suspended += 1
            if merchant:
                result.reminders_sent += self._notify(tenant, terminal, merchant, "suspended", {}, now, result)
            suspended.setdefault(tenant.tenant_id, []).append(
                {"sn": terminal.sn, "merchant_name": merchant.name if merchant else ""}
            )
            self._emitter.emit(tenant.tenant_id, "terminal.suspended", self._event(terminal, left))

    def _drain_events(
        self, now: datetime, tenants: dict[str, Tenant | None], merchants: dict[tuple[str, str], Merchant | None]
    ) -> int:
        """Quota alerts and renewal receipts queued by other paths, each sent once."""
        return sum(self._send_event(event, now, tenants, merchants) for event in self._repo.pending_events())

    def _send_event(
        self,
        event: TerminalEventItem,
        now: datetime,
        tenants: dict[str, Tenant | None],
        merchants: dict[tuple[str, str], Merchant | None],
    ) -> int:
        if event.state != "pending":
            return 0  # sent or settled by another run since it was read
        tenant = self._tenant(event.tenant_id, tenants)
        item = self._terminals.item(event.tenant_id, event.sn) if tenant else None
        if tenant is None or item is None:
            self._repo.event_done(event, "dropped", now)
            return 0
        terminal = to_terminal(item)
        kind = event.event.split("#", 1)[0]  # receipt#<order>, refund#<refund>, time_transfer_out#<transfer>, quota_80
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
            detail = json.loads(event.detail_json)
            extra = {"days_left": (terminal.expires_on - self._clock.now().date()).days, **detail}
            if kind == "receipt":
                # A refund since the payment moved the expiry back: the receipt never claims more.
                extra["expires_on"] = min(detail.get("expires_on", "9999-12-31"), terminal.expires_on.isoformat())
            sent = self._notify(
                tenant,
                terminal,
                merchant,
                kind,
                extra,
                now,
                SweepResult(as_of=""),
                term=f"{event.term}#{event.event}",
            )
        self._repo.event_done(event, "sent", now)
        return sent

    def _release_held(self, now: datetime) -> int:
        """SMS held for daytime whose window opened: sent now, once."""
        sent = 0
        for item in self._repo.held_due(now):
            if item.state != "held" or not item.held_json:
                continue
            if not self._repo.take(item, self._run_id, now):
                continue  # a concurrent run is sending it
            held = json.loads(item.held_json)
            try:
                provider_id = self._sender.send_to(
                    channel="sms",
                    to=held["to"],
                    kind=held["kind"],
                    language=held["language"],
                    ctx=held["ctx"],
                    tenant_id=item.tenant_id,
                    sn=item.sn,
                    dedupe_key=item.sk,
                )
                self._repo.finish(item, "sent", now, provider_id=provider_id)
                sent += 1
            except Exception as exc:  # noqa: BLE001 - a bad number must not stop the sweep
                self._repo.finish(item, "failed", now, error=repr(exc))
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
        self, item: TerminalItem, terminal: Terminal, to: TerminalStatus, now: datetime, with_items: Sequence[Item] = ()
    ) -> bool:
        """Conditional on the version read: a renewal that landed meanwhile wins. `with_items`
        (the carrier operation) are written in the same transaction."""
        try:
            self._terminals.save(item, replace(terminal, status=to), now, {}, with_items)
            return True
        except Conflict:
            return False

    def _notify(
        self,
        tenant: Tenant,
        terminal: Terminal,
        merchant: Merchant,
        kind: str,
        extra: dict[str, Any],
        now: datetime,
        result: SweepResult,
        term: str | None = None,
    ) -> int:
        term = term or terminal.expires_on.isoformat()
        ctx = {
            "sn": terminal.sn,
            "tid": terminal.tid,
            "expires_on": terminal.expires_on.isoformat(),
            "agent_name": tenant.name,
            "merchant_name": merchant.name,
            "pay_url": f"{self._base}/pay/{terminal.sn}",
            **extra,
        }
        template = "reminder" if kind.startswith("reminder_") else kind
        sent = 0
        targets = [("sms", merchant.phone, mask_phone(merchant.phone))]
        if merchant.email:
            targets.append(("email", merchant.email, mask_email(merchant.email)))
        for channel, to, masked in targets:
            claim = NotificationItem(
                keys.tenant_pk(tenant.tenant_id),
                notification_sk(terminal.sn, term, kind, channel),
                tenant_id=tenant.tenant_id,
                sn=terminal.sn,
                template=kind,
                channel=channel,
                recipient_masked=masked,
                state="sending",
                term=term,
                created_at=now,
                run_id=self._run_id,
            )
            mine = self._repo.claim(claim, now)
            if mine is None:
                continue
            if channel == "sms":
                window = self._sender.sms_allowed(now, tenant.settings.timezone)
                if window is not None:
                    held = {"to": to, "kind": template, "language": tenant.settings.language, "ctx": ctx}
                    self._repo.finish(mine, "held", now, hold_until=window, held_json=json.dumps(held))
                    result.held_for_daytime += 1
                    continue
            try:
                provider_id = self._sender.send_to(
                    channel=channel,
                    to=to,
                    kind=template,
                    language=tenant.settings.language,
                    ctx=ctx,
                    tenant_id=tenant.tenant_id,
                    sn=terminal.sn,
                    dedupe_key=mine.sk,
                )
                self._repo.finish(mine, "sent", now, provider_id=provider_id)
                sent += 1
            except Exception as exc:  # noqa: BLE001 - one bad number must not stop the sweep
                self._repo.finish(mine, "failed", now, error=repr(exc))
        return 1 if sent else 0

    def _digest(self, tenant: Tenant, as_of: date, now: datetime, suspended: list[dict[str, Any]]) -> int:
        claim = NotificationItem(
            keys.tenant_pk(tenant.tenant_id),
            digest_sk(as_of),
            tenant_id=tenant.tenant_id,
            template="digest",
            channel="email",
            recipient_masked=mask_email(tenant.contact_email),
            state="sending",
            created_at=now,
            run_id=self._run_id,
        )
        mine = self._repo.claim(claim, now)
        if mine is None:
            return 0
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
        try:
            provider_id = self._sender.send_to(
                channel="email",
                to=tenant.contact_email,
                kind="digest",
                language=tenant.settings.language,
                ctx=ctx,
                tenant_id=tenant.tenant_id,
                sn=None,
                dedupe_key=mine.sk,
            )
            self._repo.finish(mine, "sent", now, provider_id=provider_id)
            return 1
        except Exception as exc:  # noqa: BLE001 - the digest is best effort; the next day brings another
            self._repo.finish(mine, "failed", now, error=repr(exc))
            return 0


class NotifierSender:
    """Adapts the notification channels (adapters/notify.py) and templates (domain/messages.py)
    to what the sweep needs."""

    def __init__(self, notifier_factory: Callable[[], Any]) -> None:
        # Built on first send: only the function that sends needs SENDER_EMAIL and SNS/SES.
        self._factory = notifier_factory
        self._notifier: Any = None

    def send_to(
        self,
        *,
        channel: str,
        to: str,
        kind: str,
        language: str,
        ctx: dict[str, Any],
        tenant_id: str,
        sn: str | None,
        dedupe_key: str,
    ) -> str:
        from simrenew.domain.messages import Message, render

        subject, body = render(kind, language, ctx, channel)
        message = Message(
            channel=channel,
            to=to,
            subject=subject,
            body=body,
            template=kind,
            language=language,
            tenant_id=tenant_id,
            sn=sn,
            dedupe_key=dedupe_key,
        )
        if self._notifier is None:
            self._notifier = self._factory()
        return str(self._notifier.send(message))

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        from simrenew.domain.messages import next_sms_window, sms_allowed_at

        return None if sms_allowed_at(now, tz) else next_sms_window(now, tz)


class NoEmitter:
    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int:
        return 0
