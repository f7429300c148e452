"""Carrier connection: an agent's carrier accounts, the carrier operations the outbox carries out
(the sweep's suspension; the resume of a stopped SIM whose terminal has service again: a paid
renewal, a voucher, a time transfer, a reactivation) and the daily sync of status and usage.

- Accounts: the API key goes to the secret store (one secret per account), never into an answer
  or a log line; a terminal uses the account of its carrier, always the agent's own.
- Operations: written in the same transaction as the status change (`OutboxCarrier` for the sweep,
  `resume_op` for every change that gives a stopped SIM its service back);
  `CarrierOperations.deliver` runs one for the outbox dispatcher under the operation's lease (one
  runner at a time; a dead runner's lease lapses). It reads the SIM's status first and sends the
  change only when the SIM is not already there, so a dispatcher killed mid-call, a timeout after
  the platform applied the change, or two deliveries of the same item cause one status change at
  most. A run that fails is tried again after a backoff (1, 5, 30, 120 minutes); after MAX_RUNS it
  is `failed`, listed for the agent with a retry.
- Sync: for each account, the SIMs of the agent's terminals of that carrier, read in batches
  (Control Center: Search Devices with modifiedSince, usage by rate plan, 50 a page); usage becomes
  the terminal's data_used_mb (bytes ÷ 1,048,576) with its quota alerts; a SIM whose carrier status
  disagrees with ours is listed as drift. Only what changed is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from simrenew.clock import Clock, iso_utc
from simrenew.domain.carrier import (
    SERVICE_STATUSES,
    AccountStatus,
    CarrierAccount,
    CarrierAction,
    CarrierAuthFailed,
    CarrierError,
    CarrierOp,
    CarrierUnreachable,
    SimRecord,
    SimState,
    SimStatus,
    SimUnknown,
    SimUsage,
    account_fields,
    drift,
    resumes,
    usage_mb,
)
from simrenew.domain.fleet import Terminal, TerminalStatus, quota_crossings
from simrenew.errors import Conflict, NotFound, RuleViolation
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.carrier import CarrierPlatform
from simrenew.ports.carrier_store import CarrierKeys, CarrierStore, CarrierTerminals, Platforms, SyncMark
from simrenew.ports.fleet import Terminals
from simrenew.ports.tenants import Tenants

RUN_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_RUNS = 5  # runs of one operation (each with the client's own retries) before it is failed
CHANGE_ATTEMPTS = 3  # read → send → read rounds within one run
SYNC_OVERLAP = timedelta(minutes=10)  # modifiedSince reaches back a little: clocks differ
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CARRIER_OP_KIND = "carrier_op"


def mask_iccid(iccid: str) -> str:
    return f"{iccid[:6]}…{iccid[-4:]}" if len(iccid) > 10 else "…"


# --- accounts ------------------------------------------------------------------------------------------
@dataclass(eq=False, repr=False)
class CarrierAccounts:
    _repo: CarrierStore
    _secrets: CarrierKeys
    _platforms: Platforms
    _clock: Clock
    _: KW_ONLY
    local: bool  # the local stack: a base_url may be http:// to 127.0.0.1 or localhost

    def create(self, tenant_id: str, body: dict[str, Any]) -> CarrierAccount:
        new = account_fields(body, allow_local=self.local)
        if self._repo.account_for(tenant_id, new.carrier) is not None:
            raise Conflict(
                f"a carrier account for {new.carrier} is already connected; remove it first",
                code="carrier_account_exists",
                field="carrier",
            )
        now = self._clock.now()
        account = CarrierAccount(
            account_id=new_id("ca"),
            tenant_id=tenant_id,
            carrier=new.carrier,
            platform=new.platform,
            base_url=new.base_url,
            username=new.username,
            status=AccountStatus.UNCHECKED,
            created_at=iso_utc(now),
        )
        self._secrets.put(tenant_id, account.account_id, new.api_key)  # the secret first: no account without it
        try:
            self._repo.create_account(account, now)
        except Exception:
            self._secrets.delete(tenant_id, account.account_id)
            raise
        get_logger().info(
            "carrier account connected",
            extra={"tenant_id": tenant_id, "account_id": account.account_id, "carrier": account.carrier},
        )
        return account

    def list(self, tenant_id: str) -> list[CarrierAccount]:
        return self._repo.accounts(tenant_id)

    def get(self, tenant_id: str, account_id: str) -> CarrierAccount:
        account = self._repo.account(tenant_id, account_id) if account_id.startswith("ca_") else None
        if account is None:
            raise NotFound("no such carrier account", code="carrier_account_not_found")
        return account

    def check(self, tenant_id: str, account_id: str) -> dict[str, Any]:
        """One authenticated call to the platform: 200 {ok: true}, else 422 carrier_auth_failed or
        carrier_unreachable (the account's status says the same)."""
        account = self.get(tenant_id, account_id)
        now = self._clock.now()
        try:
            self._platforms.open(account).check()
        except CarrierAuthFailed as exc:
            self._repo.set_account_status(tenant_id, account_id, AccountStatus.AUTH_FAILED, now)
            raise RuleViolation("the carrier platform refused these credentials", code="carrier_auth_failed") from exc
        except CarrierError as exc:
            self._repo.set_account_status(tenant_id, account_id, AccountStatus.UNREACHABLE, now)
            raise RuleViolation(
                f"the carrier platform did not answer as expected ({exc.code})", code="carrier_unreachable"
            ) from exc
        self._repo.set_account_status(tenant_id, account_id, AccountStatus.OK, now)
        return {"ok": True, "account_id": account_id, "status": AccountStatus.OK.value}

    def delete(self, tenant_id: str, account_id: str) -> None:
        self.get(tenant_id, account_id)
        self._repo.delete_account(tenant_id, account_id)
        self._secrets.delete(tenant_id, account_id)


# --- operations written with the change ----------------------------------------------------------------------
# The carrier operation itself is written by the store, in the change's own transaction (the sweep's
# suspension, `resume_op` for a change whose `resumes` rule holds: simrenew.adapters.dynamodb.carrier).


def stopped_at_carrier(repo: CarrierStore, tenant_id: str, sn: str) -> bool:
    """Whether a terminal's SIM is (or is about to be) stopped at its carrier as far as we know: its
    latest carrier operation is a suspension that was not called off, or the last read found it
    suspended. A deactivation does not stop the SIM (docs/domain.md's lifecycle), so a terminal
    deactivated while suspended keeps its SIM stopped, and one deactivated while active does not."""
    latest = repo.latest_operation(tenant_id, sn)
    called_off = ("superseded", "dropped")
    if latest is not None and latest.action == CarrierAction.SUSPEND.value and latest.state not in called_off:
        return True
    record = repo.sim(tenant_id, sn)
    return record is not None and record.state is SimState.SUSPENDED


class LeaseLost(Exception):
    """The runner's lease lapsed and another runner took the operation over: stop, send nothing."""


@dataclass(eq=False, repr=False)
class CarrierOperations:
    """Carries out carrier operations for the outbox dispatcher (stream and 5-minute drain). A run
    holds the operation's lease (CarrierStore.claim), so the stream and the drain never run
    the same operation at once; a runner that died lets it go when the lease lapses."""

    _repo: CarrierStore
    _terminals: Terminals
    _platforms: Platforms
    _clock: Clock

    def deliver(self, pk: str, sk: str) -> str:
        """Run one operation now. Returns done | already_done | missing | in_progress (another
        runner holds its lease) | manual | superseded | dropped | retry_later | failed."""
        item = self._repo.operation(pk, sk)
        if item is None:
            return "missing"
        if item.state != "pending":
            return "already_done"
        now, owner = self._clock.now(), new_id("run")
        if not self._repo.claim(item, owner, now):
            return "in_progress"
        item = replace(item, lease_owner=owner)
        log = get_logger()
        terminal = self._terminals.get(item.tenant_id, item.sn)
        if terminal is None:
            self._repo.finish(item, "dropped", now, error="the terminal no longer belongs to this agent")
            return "dropped"
        action = CarrierAction(item.action)
        if not _still_wanted(action, terminal.status):
            self._repo.finish(item, "superseded", now, outcome=f"terminal is {terminal.status.value} now")
            self._note(terminal, pending=None, error=None)
            return "superseded"
        account = self._repo.account_for(item.tenant_id, terminal.carrier)
        if account is None:
            message = f"no {terminal.carrier} carrier account connected: change the SIM in the carrier's portal"
            self._repo.finish(item, "manual", now, error=message)
            self._note(terminal, pending=None, error=message)
            return "manual"
        self._note(terminal, pending=action.value, error=None, account_id=account.account_id)
        try:
            outcome, status = self._apply(account, terminal.iccid, action, item)
        except LeaseLost:
            return "in_progress"
        except CarrierError as exc:
            return self._failed_run(item, terminal, account, action, exc, now)
        self._repo.finish(item, "done", self._clock.now(), outcome=outcome)
        self._record_status(terminal, account, status)
        log.info(
            "carrier operation done",
            extra={
                "tenant_id": item.tenant_id,
                "sn": item.sn,
                "action": action.value,
                "outcome": outcome,
                "iccid": mask_iccid(terminal.iccid),
            },
        )
        return "done"

    def _failed_run(
        self,
        item: CarrierOp,
        terminal: Terminal,
        account: CarrierAccount,
        action: CarrierAction,
        exc: CarrierError,
        now: datetime,
    ) -> str:
        """Pending again after the backoff, or failed after MAX_RUNS (at once for a refusal)."""
        runs = item.attempts + 1
        final = runs >= MAX_RUNS or not exc.retryable  # a refusal will not pass by itself
        error = f"{exc.code}: {exc.message}"
        retry_at = now + RUN_BACKOFF[min(runs, len(RUN_BACKOFF)) - 1]
        self._repo.run_failed(item, error, now, retry_at, final=final)
        self._note(terminal, pending=None if final else action.value, error=error, account_id=account.account_id)
        get_logger().warning(
            "carrier operation not done",
            extra={
                "tenant_id": item.tenant_id,
                "sn": item.sn,
                "action": action.value,
                "runs": runs,
                "final": final,
                "error": exc.code,
            },
        )
        return "failed" if final else "retry_later"

    def _apply(
        self, account: CarrierAccount, iccid: str, action: CarrierAction, item: CarrierOp
    ) -> tuple[str, SimStatus]:
        """Read, send only if needed, read again: at most one status change per intended change.
        Each round first renews the runner's lease, so no other runner can be at it meanwhile."""
        platform = self._platforms.open(account)
        sent = False
        last: CarrierError | None = None
        for _round in range(CHANGE_ATTEMPTS):
            if _round and not self._repo.renew(item, str(item.lease_owner), self._clock.now()):
                raise LeaseLost
            try:
                current = platform.status(iccid)
            except SimUnknown:
                raise
            except CarrierUnreachable as exc:
                last = exc
                continue
            if current.state is action.target:
                return ("changed" if sent else "already"), current
            try:
                if action is CarrierAction.SUSPEND:
                    platform.suspend(iccid)
                else:
                    platform.resume(iccid)
                sent = True
            except CarrierUnreachable as exc:  # maybe applied: the next round reads before resending
                sent = True
                last = exc
        if last is not None:
            raise last
        raise CarrierUnreachable("the SIM did not reach the requested status")

    def _note(
        self, terminal: Terminal, *, pending: str | None, error: str | None, account_id: str | None = None
    ) -> None:
        old = self._repo.sim(terminal.tenant_id, terminal.sn)
        base = old if old is not None and old.iccid == terminal.iccid else SimRecord(terminal.sn, terminal.iccid)
        record = replace(base, pending=pending, last_error=error, account_id=account_id or base.account_id)
        if not record.same_reading(old):
            self._repo.save_sims(terminal.tenant_id, [record], self._clock.now())

    def _record_status(self, terminal: Terminal, account: CarrierAccount, status: SimStatus) -> None:
        now = self._clock.now()
        old = self._repo.sim(terminal.tenant_id, terminal.sn)
        base = old if old is not None and old.iccid == terminal.iccid else SimRecord(terminal.sn, terminal.iccid)
        record = replace(
            base,
            account_id=account.account_id,
            status=status.status,
            state=status.state,
            rate_plan=status.rate_plan or base.rate_plan,
            synced_at=now,
            drift=drift(terminal.status.value, status.state),
            pending=None,
            last_error=None,
        )
        self._repo.save_sims(terminal.tenant_id, [record], now)

    def drain_due(self, limit: int = 100) -> int:
        """The safety net (5-minute schedule): operations whose next run is due."""
        done = 0
        for item in self._repo.due(self._clock.now(), limit):
            try:
                done += self.deliver(item.pk, item.sk) == "done"
            except Exception:  # noqa: BLE001 - one broken operation must not stop the others
                get_logger().exception("carrier operation crashed", extra={"tenant_id": item.tenant_id})
        return done

    # --- the agent's view ----------------------------------------------------------------------------------
    def failed(self, tenant_id: str) -> list[dict[str, Any]]:
        return [op.to_json() for op in self._repo.failed(tenant_id)]

    def for_terminal(self, tenant_id: str, sn: str) -> list[dict[str, Any]]:
        return [op.to_json() for op in sorted(self._repo.operations(tenant_id, sn), key=lambda o: o.sk, reverse=True)]

    def retry(self, tenant_id: str, raw_op_id: str) -> dict[str, Any]:
        item = self._repo.operation_by_id(tenant_id, raw_op_id)
        if item is None or item.tenant_id != tenant_id:
            raise NotFound("no such carrier operation", code="carrier_operation_not_found")
        if item.state not in ("failed", "manual"):
            raise Conflict(f"the operation is {item.state}; only failed ones are retried", code="operation_not_failed")
        self._repo.retry(item, self._clock.now())
        outcome = self.deliver(item.pk, item.sk)
        fresh = self._repo.operation(item.pk, item.sk)
        assert fresh is not None
        return {**fresh.to_json(), "result": outcome}


def _still_wanted(action: CarrierAction, status: TerminalStatus) -> bool:
    if action is CarrierAction.SUSPEND:
        return status in (TerminalStatus.SUSPENDED, TerminalStatus.DEACTIVATED)
    return status in (TerminalStatus.ACTIVE, TerminalStatus.GRACE, TerminalStatus.INVENTORY)


# --- the sync ------------------------------------------------------------------------------------------------
Stored = TypeVar("Stored")


@dataclass(eq=False, repr=False)
class CarrierSync(Generic[Stored]):
    _repo: CarrierStore
    _tenants: Tenants
    _terminals: CarrierTerminals[Stored]
    _platforms: Platforms
    _clock: Clock
    _dispatch: Callable[[dict[str, Any]], None]

    def request(self, tenant_id: str) -> dict[str, Any]:
        """POST /v1/carrier-sync: queue a sync of the agent's accounts (202)."""
        accounts = self._repo.accounts(tenant_id)
        if not accounts:
            raise RuleViolation(
                "connect a carrier account first (POST /v1/carrier-accounts)", code="no_carrier_account"
            )
        now = self._clock.now()
        sync_id = new_id("cs")
        for account in accounts:
            self._repo.mark_sync(tenant_id, account.account_id, SyncMark("queued"), now)
        self._dispatch({"task": "carrier_sync", "tenant_id": tenant_id, "sync_id": sync_id})
        return {"sync_id": sync_id, "status": "queued", "accounts": [a.account_id for a in accounts]}

    def run_all(self) -> int:
        """The daily schedule: one sync per agent (AWS: one invocation each; here in turn)."""
        tenants = sorted({t for t, _a in self._repo.all_accounts()})
        for tenant_id in tenants:
            self._dispatch({"task": "carrier_sync", "tenant_id": tenant_id})
        return len(tenants)

    def run(self, tenant_id: str) -> list[dict[str, Any]]:
        return [self.run_account(tenant_id, a.account_id) for a in self._repo.accounts(tenant_id)]

    def run_account(self, tenant_id: str, account_id: str) -> dict[str, Any]:
        account = self._repo.account(tenant_id, account_id)
        if account is None:
            raise NotFound("no such carrier account", code="carrier_account_not_found")
        started = self._clock.now()
        self._repo.mark_sync(tenant_id, account_id, SyncMark("running"), started)
        try:
            stats = self._sync(account, started)
        except CarrierError as exc:
            stats = {"started_at": iso_utc(started), "finished_at": iso_utc(self._clock.now()), "error": exc.code}
            if isinstance(exc, CarrierAuthFailed):
                self._repo.set_account_status(tenant_id, account_id, AccountStatus.AUTH_FAILED, self._clock.now())
            self._repo.mark_sync(tenant_id, account_id, SyncMark("failed", stats), self._clock.now())
            get_logger().warning("carrier sync failed", extra={"tenant_id": tenant_id, "error": exc.code})
            return stats
        self._repo.mark_sync(tenant_id, account_id, SyncMark("done", stats, synced_through=started), self._clock.now())
        get_logger().info("carrier sync done", extra={"tenant_id": tenant_id, **stats})
        return stats

    def _sync(self, account: CarrierAccount, started: datetime) -> dict[str, Any]:
        tenant_id = account.tenant_id
        platform = self._platforms.open(account)
        items = self._terminals.of_carrier(tenant_id, account.carrier)
        terminals = {t.iccid: t for _stored, t in items}
        old = self._repo.sims(tenant_id)
        statuses = self._statuses(platform, account, terminals, old)
        status_requests = platform.requests
        usages = self._usages(platform, terminals, statuses, old)
        usage_requests = platform.requests - status_requests
        sim_writes, usage_writes, drifting = self._write(account, items, terminals, old, statuses, usages)
        return {
            "started_at": iso_utc(started),
            "finished_at": iso_utc(self._clock.now()),
            "sims": len(terminals),
            "statuses_read": len(statuses),
            "usages_read": len(usages),
            "carrier_requests": platform.requests,
            "status_requests": status_requests,
            "usage_requests": usage_requests,
            "page_size": platform.page_size,
            "sim_writes": sim_writes,
            "usage_writes": usage_writes,
            "drift": drifting,
        }

    def _statuses(
        self,
        platform: CarrierPlatform,
        account: CarrierAccount,
        terminals: dict[str, Terminal],
        old: dict[str, SimRecord],
    ) -> dict[str, SimStatus]:
        """What changed since the last sync (where the platform can say), and every SIM never read."""
        statuses: dict[str, SimStatus] = {}
        synced_through = self._repo.synced_through(account.tenant_id, account.account_id)
        incremental = platform.supports_changed_since and synced_through is not None
        if platform.supports_changed_since:
            since = (synced_through - SYNC_OVERLAP) if synced_through else EPOCH
            statuses = {s.iccid: s for s in platform.changed_since(since) if s.iccid in terminals}

        def never_read(iccid: str, t: Terminal) -> bool:
            before = old.get(t.sn)
            return before is None or before.iccid != iccid or before.state is None

        unread = [i for i, t in terminals.items() if i not in statuses and (not incremental or never_read(i, t))]
        statuses.update({s.iccid: s for s in platform.statuses(unread)})
        return statuses

    @staticmethod
    def _usages(
        platform: CarrierPlatform,
        terminals: dict[str, Terminal],
        statuses: dict[str, SimStatus],
        old: dict[str, SimRecord],
    ) -> dict[str, SimUsage]:
        """Usage this cycle, in batches (Control Center: by the rate plans the SIMs are on)."""

        def plan_of(iccid: str, t: Terminal) -> str | None:
            reading, before = statuses.get(iccid), old.get(t.sn)
            return (reading.rate_plan if reading else None) or (before.rate_plan if before else None)

        plans = [plan_of(i, t) for i, t in terminals.items()]
        known = sorted({p for p in plans if p}) if all(plans) else []
        return {u.iccid: u for u in platform.usages(list(terminals), known) if u.iccid in terminals}

    def _write(
        self,
        account: CarrierAccount,
        items: list[tuple[Stored, Terminal]],
        terminals: dict[str, Terminal],
        old: dict[str, SimRecord],
        statuses: dict[str, SimStatus],
        usages: dict[str, SimUsage],
    ) -> tuple[int, int, int]:
        """Write only what changed: SIM records (batched) and the terminals' measured usage."""
        now = self._clock.now()
        raw = {t.iccid: stored for stored, t in items}
        records: list[SimRecord] = []
        usage_writes = drifting = 0
        for iccid, terminal in terminals.items():
            before = old.get(terminal.sn)
            record = self._record(account, terminal, before, statuses.get(iccid), usages.get(iccid))
            drifting += record.drift is not None
            if not record.same_reading(before):
                records.append(replace(record, synced_at=now))
            usage = usages.get(iccid)
            measured_anew = usage is not None and usage.mb != terminal.data_used_mb
            if usage is not None and measured_anew and terminal.status is not TerminalStatus.DEACTIVATED:
                usage_writes += self._usage(raw[iccid], terminal, usage, now)
        sim_writes = self._repo.save_sims(account.tenant_id, records, now)
        ours = {t.sn for t in terminals.values()}
        gone = [sn for sn, r in old.items() if r.account_id == account.account_id and sn not in ours]
        sim_writes += self._repo.delete_sims(account.tenant_id, gone) if gone else 0
        return sim_writes, usage_writes, drifting

    @staticmethod
    def _record(
        account: CarrierAccount,
        terminal: Terminal,
        before: SimRecord | None,
        reading: SimStatus | None,
        usage: SimUsage | None,
    ) -> SimRecord:
        base = (
            before if before is not None and before.iccid == terminal.iccid else SimRecord(terminal.sn, terminal.iccid)
        )
        record = replace(
            base,
            account_id=account.account_id,
            status=reading.status if reading else base.status,
            state=reading.state if reading else base.state,
            rate_plan=(reading.rate_plan if reading and reading.rate_plan else base.rate_plan),
            bytes_used=usage.bytes_used if usage else base.bytes_used,
            usage_as_of=usage.as_of if usage else base.usage_as_of,
        )
        return replace(record, drift=drift(terminal.status.value, record.state))

    def _usage(self, stored: Stored, current: Terminal, usage: SimUsage, now: datetime) -> int:
        """The measured usage on the terminal (its quota alerts once per term); a concurrent change
        of the terminal makes it reload and try again."""
        from simrenew.errors import Conflict as _Conflict

        for _attempt in range(3):
            used = usage.mb
            crossings = quota_crossings(current.data_quota_mb, current.data_used_mb, used)
            events = [
                (f"quota_{pct}", {"percent": pct, "data_used_mb": used, "data_quota_mb": current.data_quota_mb})
                for pct in crossings
            ]
            as_of = usage.as_of.astimezone(UTC).date().isoformat()
            updated = replace(current, data_used_mb=used, usage_as_of=max(as_of, current.usage_as_of or as_of))
            try:
                self._terminals.record_usage(stored, updated, events, now)
                return 1
            except _Conflict:
                fresh = self._terminals.stored(current.tenant_id, current.sn)
                if fresh is None:
                    return 0
                stored, current = fresh
        return 0

    # --- reading it back ---------------------------------------------------------------------------------
    def state_of(
        self, tenant_id: str, terminals: Sequence[Terminal], *, with_ops: bool = False
    ) -> dict[str, dict[str, Any]]:
        """carrier_state for each terminal (one BatchGet, one accounts query; with_ops: the latest
        operation of each, for a single terminal's page)."""
        if not terminals:
            return {}
        records = self._repo.sims_for(tenant_id, [t.sn for t in terminals])
        accounts = {a.account_id: a for a in self._repo.accounts(tenant_id)}
        out: dict[str, dict[str, Any]] = {}
        for t in terminals:
            r = records.get(t.sn)
            if r is not None and r.iccid != t.iccid:
                r = None  # the SIM was changed since: what we knew was about the old one
            state = carrier_state(t, r, accounts.get(r.account_id) if r and r.account_id else None)
            if with_ops:
                latest = self._repo.latest_operation(tenant_id, t.sn)
                if latest is not None:
                    if latest.state == "pending":
                        state["pending"] = latest.action
                    if latest.state in ("failed", "manual"):
                        state["last_error"] = latest.last_error
                    state["last_operation"] = latest.to_json()
            out[t.sn] = state
        return out

    def drift_report(self, tenant_id: str) -> dict[str, Any]:
        """SIMs whose carrier status disagrees with ours, re-checked against each terminal now."""
        records = self._repo.drifting(tenant_id)
        loaded = self._terminals.terminals(tenant_id, [r.sn for r in records])
        items = []
        for r in sorted(records, key=lambda r: r.sn):
            t = loaded.get(r.sn)
            if t is None or t.iccid != r.iccid:
                continue
            reason = drift(t.status.value, r.state)
            if reason is None:
                continue
            items.append(
                {
                    "sn": t.sn,
                    "iccid": t.iccid,
                    "carrier": t.carrier,
                    "status": t.status.value,
                    "carrier_status": r.status,
                    "carrier_state": r.state.value if r.state else None,
                    "reason": reason,
                    "synced_at": iso_utc(r.synced_at) if r.synced_at else None,
                }
            )
        return {"items": items, "count": len(items), "generated_at": iso_utc(self._clock.now())}

    def status(self, tenant_id: str) -> dict[str, Any]:
        return {
            "accounts": [
                {"account_id": a.account_id, "carrier": a.carrier, "last_sync": a.last_sync}
                for a in self._repo.accounts(tenant_id)
            ]
        }


DRIFT_COLUMNS = ["sn", "iccid", "carrier", "status", "carrier_status", "carrier_state", "reason", "synced_at"]


def drift_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DRIFT_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in report["items"]:
        writer.writerow(row)
    return out.getvalue()


def carrier_state(terminal: Terminal, record: SimRecord | None, account: CarrierAccount | None) -> dict[str, Any]:
    """A terminal's `carrier_state`: the carrier's status as the platform names it, the data it
    measured, when it was last read (the state held at the account's last sync), and whether a
    change is on its way or failed."""
    if record is None:
        return {
            "status": None,
            "state": None,
            "data_used_mb": None,
            "usage_as_of": None,
            "synced_at": None,
            "pending": None,
            "last_error": None,
            "drift": None,
        }
    synced_at = record.synced_at
    last = (account.last_sync if account else None) or {}
    finished = last.get("finished_at")
    if finished and last.get("state") == "done" and record.state is not None:
        moment = datetime.fromisoformat(str(finished).replace("Z", "+00:00"))
        synced_at = max(synced_at, moment) if synced_at else moment
    return {
        "status": record.status,
        "state": record.state.value if record.state else None,
        "data_used_mb": usage_mb(record.bytes_used) if record.bytes_used is not None else None,
        "usage_as_of": iso_utc(record.usage_as_of) if record.usage_as_of else None,
        "synced_at": iso_utc(synced_at) if synced_at else None,
        "pending": record.pending,
        "last_error": record.last_error,
        "drift": drift(terminal.status.value, record.state),
    }


def iter_chunks(values: Iterable[str], size: int) -> Iterable[list[str]]:
    chunk: list[str] = []
    for v in values:
        chunk.append(v)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = [
    "CARRIER_OP_KIND",
    "SERVICE_STATUSES",
    "CarrierAccounts",
    "CarrierOperations",
    "CarrierSync",
    "SimState",
    "carrier_state",
    "drift_csv",
    "resumes",
    "stopped_at_carrier",
]
