"""The carrier connection in memory: the carrier repository over the FakeTable (accounts and their
guards, SIM records, operations with their runner's lease), so that the real CarrierStore and
CarrierTerminalStore adapters run on it; a carrier platform that counts what it is sent; the
secret store; the platform factory."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import (
    MAX_ERROR,
    OP_LEASE,
    OPS_RETENTION,
    CarrierAccountItem,
    CarrierOpItem,
    CarrierSimItem,
    _account,
    _record,
    account_items,
    sim_item,
)
from simrenew.adapters.dynamodb.carrier_store import CarrierStore, CarrierTerminalStore
from simrenew.adapters.dynamodb.models import CarrierAccountGuardItem, Item, TerminalItem
from simrenew.domain.carrier import (
    AccountStatus,
    CarrierAccount,
    CarrierError,
    SimRecord,
    SimState,
    SimStatus,
    SimUnknown,
    SimUsage,
)
from simrenew.errors import Conflict, NotFound
from simrenew.ports.carrier_store import SyncMark
from tests.support.fakes.carrier import FakeCarrierRepository
from tests.support.fakes.fleet import FakeTerminalRepository
from tests.support.fakes.table import Cancelled, FakeTable


class FakeCarrierStoreRepository(FakeCarrierRepository):
    """Every read and write of CarrierRepository, on the FakeTable, keyed like the real one."""

    # --- accounts --------------------------------------------------------------------------------
    def create_account(self, account: CarrierAccount, now: datetime) -> None:
        item, guard = account_items(account, now)
        try:
            with self.table.tx() as tx:
                tx.save(guard, new=True)
                tx.save(item, new=True)
        except Cancelled:
            raise Conflict(
                f"a carrier account for {account.carrier} is already connected; remove it first",
                code="carrier_account_exists",
                field="carrier",
            ) from None

    def account_item(self, tenant_id: str, account_id: str) -> CarrierAccountItem | None:
        return self.table.get(CarrierAccountItem, keys.tenant_pk(tenant_id), keys.carrier_account_sk(account_id))

    def accounts(self, tenant_id: str) -> builtins.list[CarrierAccount]:
        found = self.table.query(CarrierAccountItem, keys.tenant_pk(tenant_id), keys.carrier_accounts_prefix())
        return [_account(i) for i in found]

    def delete_account(self, tenant_id: str, account_id: str) -> CarrierAccount:
        item = self.account_item(tenant_id, account_id)
        if item is None:
            raise NotFound("no such carrier account", code="carrier_account_not_found")
        pk = keys.tenant_pk(tenant_id)
        guard = (pk, keys.carrier_account_guard_sk(item.carrier))
        with self.table.tx() as tx:
            tx.delete((item.pk, item.sk))
            tx.delete(guard, lambda s: isinstance(s, CarrierAccountGuardItem) and s.account_id == account_id)
        return _account(item)

    def _edit_account(self, tenant_id: str, account_id: str, change: Callable[[CarrierAccountItem], None]) -> None:
        item = self.account_item(tenant_id, account_id)
        if item is None:
            return
        change(item)
        self.table.put_if(item)  # versioned: only over the version read

    def set_account_status(self, tenant_id: str, account_id: str, status: AccountStatus, now: datetime) -> None:
        def change(item: CarrierAccountItem) -> None:
            item.status, item.checked_at, item.updated_at = status.value, now, now

        self._edit_account(tenant_id, account_id, change)

    def mark_sync(self, tenant_id: str, account_id: str, mark: SyncMark, now: datetime) -> None:
        def change(item: CarrierAccountItem) -> None:
            item.sync_state, item.updated_at = mark.state, now
            if mark.stats is not None:
                item.last_sync_json = json.dumps(mark.stats)
            if mark.synced_through is not None:
                item.synced_through = mark.synced_through

        self._edit_account(tenant_id, account_id, change)

    def all_accounts(self) -> Iterator[tuple[str, str]]:
        for item in self.table.index(CarrierAccountItem, "gsi1pk", keys.carrier_accounts_gsi1pk(), "gsi1sk"):
            yield item.tenant_id, item.account_id

    def terminal_items(self, tenant_id: str, carrier: str) -> builtins.list[TerminalItem]:
        found = self.table.query(TerminalItem, keys.tenant_pk(tenant_id), keys.terminal_sk(""))
        return [i for i in found if i.carrier == carrier]

    # --- SIM records -----------------------------------------------------------------------------
    def sims_for(self, tenant_id: str, sns: Iterable[str]) -> dict[str, SimRecord]:
        found = (self.sim(tenant_id, sn) for sn in dict.fromkeys(sns))
        return {r.sn: r for r in found if r is not None}

    def sims(self, tenant_id: str) -> dict[str, SimRecord]:
        found = self.table.query(CarrierSimItem, keys.tenant_pk(tenant_id), keys.carrier_sims_prefix())
        return {i.sn: _record(i) for i in found}

    def save_sims(self, tenant_id: str, records: Iterable[SimRecord], now: datetime) -> int:
        count = 0
        for r in records:
            self.table.put(sim_item(tenant_id, r, now))
            count += 1
        return count

    def delete_sims(self, tenant_id: str, sns: Iterable[str]) -> int:
        count = 0
        for sn in sns:
            with self.table.tx() as tx:
                tx.delete((keys.tenant_pk(tenant_id), keys.carrier_sim_sk(sn)))
            count += 1
        return count

    def drifting(self, tenant_id: str) -> builtins.list[SimRecord]:
        found = self.table.index(CarrierSimItem, "gsi1pk", keys.carrier_drift_gsi1pk(tenant_id), "gsi1sk")
        return [_record(i) for i in found]

    # --- operations --------------------------------------------------------------------------------
    def op(self, pk: str, sk: str) -> CarrierOpItem | None:
        return self.table.get(CarrierOpItem, pk, sk)

    def put_op(self, item: CarrierOpItem) -> bool:
        return self.table.put_if(item, new=True)

    def _update(
        self, item: CarrierOpItem, check: Callable[[CarrierOpItem], bool], change: Callable[[CarrierOpItem], None]
    ) -> bool:
        """UpdateItem with a condition on what is stored; the caller's item takes the new values."""

        def write(stored: Item | None) -> Item | None:
            assert isinstance(stored, CarrierOpItem)
            change(stored)
            return stored

        try:
            with self.table.tx() as tx:
                tx.update((item.pk, item.sk), write, lambda s: isinstance(s, CarrierOpItem) and check(s))
        except Cancelled:
            return False
        change(item)
        return True

    def claim_op(self, item: CarrierOpItem, owner: str, now: datetime, lease: timedelta = OP_LEASE) -> bool:
        def free(s: CarrierOpItem) -> bool:
            return s.state == "pending" and (s.lease_until is None or s.lease_until < now)

        return self._update(item, free, lambda s: _lease(s, owner, now + lease))

    def renew_op(self, item: CarrierOpItem, owner: str, now: datetime, lease: timedelta = OP_LEASE) -> bool:
        def held(s: CarrierOpItem) -> bool:
            return s.state == "pending" and s.lease_owner == owner

        return self._update(item, held, lambda s: _lease(s, owner, now + lease))

    def op_attempt_failed(self, item: CarrierOpItem, error: str, now: datetime, at: datetime, *, final: bool) -> None:
        def change(s: CarrierOpItem) -> None:
            s.attempts, s.last_error, s.updated_at = int(item.attempts or 0) + 1, error[:MAX_ERROR], now
            if final:
                s.state, s.next_attempt_at = "failed", None
                s.gsi1pk = keys.carrier_ops_failed_gsi1pk(item.tenant_id)
                s.gsi1sk = keys.carrier_ops_failed_gsi1sk(now, item.sk)
            else:
                s.next_attempt_at = at
                s.gsi1pk = keys.carrier_ops_due_gsi1pk(keys.carrier_op_shard(item.sk))
                s.gsi1sk = keys.carrier_ops_due_gsi1sk(at, item.tenant_id, item.sk)
            _lease(s, None, None)

        self._update(item, _under_lease(item), change)

    def finish_op(
        self, item: CarrierOpItem, state: str, now: datetime, *, outcome: str | None = None, error: str | None = None
    ) -> bool:
        def change(s: CarrierOpItem) -> None:
            s.state, s.updated_at, s.done_at, s.next_attempt_at = state, now, now, None
            s.gsi1pk = s.gsi1sk = None
            s.ttl = now + OPS_RETENTION
            if outcome:
                s.outcome = outcome
            if error:
                s.last_error = error[:MAX_ERROR]
            _lease(s, None, None)

        return self._update(item, _under_lease(item), change)

    def retry_op(self, item: CarrierOpItem, now: datetime) -> bool:
        def change(s: CarrierOpItem) -> None:
            s.state, s.attempts, s.updated_at, s.next_attempt_at = "pending", 0, now, now
            s.gsi1pk = keys.carrier_ops_due_gsi1pk(keys.carrier_op_shard(item.sk))
            s.gsi1sk = keys.carrier_ops_due_gsi1sk(now, item.tenant_id, item.sk)

        return self._update(item, lambda s: s.state in ("failed", "manual"), change)

    def due_ops(self, now: datetime, limit: int) -> builtins.list[CarrierOpItem]:
        bound = keys.carrier_ops_due_bound(now)
        out: list[CarrierOpItem] = []
        for shard in range(keys.CARRIER_OP_SHARDS):
            found = self.table.index(CarrierOpItem, "gsi1pk", keys.carrier_ops_due_gsi1pk(shard), "gsi1sk")
            out += [i for i in found if str(i.gsi1sk) < bound and i.state == "pending"]
        return out[:limit]

    def failed_ops(self, tenant_id: str, limit: int = 200) -> builtins.list[CarrierOpItem]:
        found = self.table.index(CarrierOpItem, "gsi1pk", keys.carrier_ops_failed_gsi1pk(tenant_id), "gsi1sk")
        return [i for i in reversed(found) if i.state == "failed"][:limit]


def _lease(item: CarrierOpItem, owner: str | None, until: datetime | None) -> None:
    item.lease_owner, item.lease_until = owner, until


def _under_lease(item: CarrierOpItem) -> Callable[[CarrierOpItem], bool]:
    """The condition of a run's outcome: still pending, and still under the lease `item` holds."""
    return lambda s: s.state == "pending" and (item.lease_owner is None or s.lease_owner == item.lease_owner)


def fake_carrier_store(table: FakeTable) -> CarrierStore:
    """The real CarrierStore adapter on the in-memory table."""
    return CarrierStore(FakeCarrierStoreRepository(table))


def fake_carrier_terminals(table: FakeTable) -> CarrierTerminalStore:
    """The real CarrierTerminalStore adapter on the in-memory table."""
    return CarrierTerminalStore(FakeTerminalRepository(table), FakeCarrierStoreRepository(table))


# --- the platform, its keys and its factory -----------------------------------------------------------
@dataclass
class FakeCarrierPlatform:
    """One carrier platform account in memory: each SIM's state and usage; `sent` is every status
    change it was asked for; `fail_with` raises, in turn, at the next status reads."""

    states: dict[str, SimState] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)  # bytes this cycle
    as_of: datetime | None = None
    fail_with: list[CarrierError] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    supports_changed_since: bool = False
    page_size: int = 50
    _requests: int = 0

    @property
    def requests(self) -> int:
        return self._requests

    def check(self) -> None:
        self._requests += 1
        if self.fail_with:
            raise self.fail_with.pop(0)

    def status(self, iccid: str) -> SimStatus:
        self._requests += 1
        if self.fail_with:
            raise self.fail_with.pop(0)
        if iccid not in self.states:
            raise SimUnknown(f"no such SIM {iccid[-4:]}")
        return _status(iccid, self.states[iccid])

    def usage(self, iccid: str) -> SimUsage:
        self._requests += 1
        return SimUsage(iccid, self.used.get(iccid, 0), self._as_of())

    def suspend(self, iccid: str) -> None:
        self._requests += 1
        self.sent.append(("suspend", iccid))
        self.states[iccid] = SimState.SUSPENDED

    def resume(self, iccid: str) -> None:
        self._requests += 1
        self.sent.append(("resume", iccid))
        self.states[iccid] = SimState.ACTIVE

    def changed_since(self, since: datetime) -> Iterator[SimStatus]:
        self._requests += 1
        yield from (_status(i, s) for i, s in self.states.items())

    def statuses(self, iccids: Iterable[str]) -> Iterator[SimStatus]:
        wanted = list(iccids)
        self._requests += -(-len(wanted) // self.page_size)
        yield from (_status(i, self.states.get(i, SimState.UNKNOWN)) for i in wanted)

    def usages(self, iccids: Iterable[str], rate_plans: Collection[str] = ()) -> Iterator[SimUsage]:
        wanted = [i for i in iccids if i in self.used]
        self._requests += -(-len(wanted) // self.page_size)
        yield from (SimUsage(i, self.used[i], self._as_of()) for i in wanted)

    def _as_of(self) -> datetime:
        assert self.as_of is not None, "set as_of before usage is read"
        return self.as_of


def _status(iccid: str, state: SimState) -> SimStatus:
    names = {SimState.ACTIVE: "ACTIVATED", SimState.SUSPENDED: "DEACTIVATED"}
    return SimStatus(iccid, names.get(state, state.value.upper()), state, rate_plan="IOT-1G")


@dataclass
class FakeCarrierKeys:
    """The secret store: one key per (tenant, account)."""

    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def put(self, tenant_id: str, account_id: str, api_key: str) -> None:
        self.keys[(tenant_id, account_id)] = api_key

    def get(self, tenant_id: str, account_id: str) -> str:
        return self.keys[(tenant_id, account_id)]

    def delete(self, tenant_id: str, account_id: str) -> None:
        self.keys.pop((tenant_id, account_id), None)


@dataclass
class FakePlatforms:
    """Opens each account's platform (one per account id), reading its key as the real one does."""

    keys: FakeCarrierKeys
    platforms: dict[str, FakeCarrierPlatform] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)

    def open(self, account: CarrierAccount) -> FakeCarrierPlatform:
        self.keys.get(account.tenant_id, account.account_id)  # no key, no platform (KeyError)
        self.opened.append(account.account_id)
        return self.platforms.setdefault(account.account_id, FakeCarrierPlatform())
