"""Carrier data in the single table, all under the agent's partition (pk `TENANT#<id>`):

- `CarrierAccountItem` (sk `CARRIER#ACCOUNT#<account_id>`): an agent's login at a carrier platform
  (never the API key: that is in the secret store), with a guard item per carrier
  (`CARRIER#BY#<carrier>`) so a terminal's carrier names exactly one account; every account is on a
  sparse registry (gsi1 `CARRIER_ACCOUNTS`) the daily sync reads instead of scanning.
- `CarrierSimItem` (sk `CARRIER#SIM#<sn>`): what the carrier last said about a terminal's SIM
  (status as the platform names it, usage, drift). Its own item, so the sync never bumps the
  terminal's version (a sweep or a renewal in flight is not made to retry); a drifting SIM is on a
  sparse per-agent index (gsi1 `CARRIER_DRIFT#<tenant>`), so the drift report reads only those.
- `CarrierOpItem` (sk `CARRIER#OP#<sn>#<version>#<action>`): a carrier operation, the third kind of
  outbox item, written in the same transaction as the status change it carries out (the sweep's
  suspension; a renewal, voucher, time transfer or reactivation that gives a stopped SIM its service
  back): keyed by the terminal version that change created, so it exists once per intended change. A
  runner holds it under a lease (`lease_owner`, `lease_until`: `claim_op`, `renew_op`). Pending ones
  wait on a sharded due queue (gsi1 `CARRIER_OPS_DUE#<shard>`), failed ones on a per-agent list
  (gsi1 `CARRIER_OPS_FAILED#<tenant>`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import translated
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import CarrierAccountGuardItem, Item, TerminalItem, Transaction
from simrenew.adapters.dynamodb.models import CarrierAccountItem as CarrierAccountItem
from simrenew.adapters.dynamodb.models import CarrierOpItem as CarrierOpItem
from simrenew.adapters.dynamodb.models import CarrierSimItem as CarrierSimItem
from simrenew.adapters.dynamodb.queues import dequeued
from simrenew.clock import iso_utc
from simrenew.domain.carrier import (
    AccountStatus,
    CarrierAccount,
    CarrierAction,
    CarrierOp,
    Platform,
    SimRecord,
    SimState,
    resumes,
)
from simrenew.domain.fleet import Terminal
from simrenew.errors import Conflict, NotFound, TransientStoreError
from simrenew.ports.carrier_store import SyncMark

OPS_RETENTION = timedelta(days=90)  # a finished operation is kept this long, then TTL removes it
# How long a runner holds an operation (renewed before each read → send → read round, which takes
# well under it even with the client's retries); a runner that died lets it go when it lapses.
OP_LEASE = timedelta(minutes=2)
MAX_ERROR = 300


# --- keys (built in keys.py) ----------------------------------------------------------------------------
account_sk = keys.carrier_account_sk
account_guard_sk = keys.carrier_account_guard_sk
sim_sk = keys.carrier_sim_sk
op_prefix = keys.carrier_ops_prefix
op_sk = keys.carrier_op_sk


def parse_op_id(raw: str) -> tuple[str, int, str] | None:
    parts = raw.split("_", 3)
    if len(parts) != 4 or parts[0] != "cop" or not parts[1].isdigit() or parts[2] not in ("suspend", "resume"):
        return None
    if not parts[3] or len(parts[3]) > 40:
        return None
    return parts[3], int(parts[1]), parts[2]


def _record(item: CarrierSimItem) -> SimRecord:
    return from_item(
        item,
        SimRecord,
        state=SimState(item.state) if item.state else None,
        bytes_used=int(item.bytes_used) if item.bytes_used is not None else None,
    )


def _account(item: CarrierAccountItem) -> CarrierAccount:
    return from_item(
        item,
        CarrierAccount,
        platform=Platform(item.platform),
        status=AccountStatus(item.status),
        created_at=iso_utc(item.created_at) if item.created_at else "",
        checked_at=iso_utc(item.checked_at) if item.checked_at else None,
        last_sync={**json.loads(item.last_sync_json), "state": item.sync_state} if item.last_sync_json else None,
    )


def carrier_op(terminal: Terminal, action: CarrierAction, now: datetime) -> CarrierOpItem:
    """The outbox item for one carrier operation, to write in the same transaction as the terminal
    change that calls for it (`condition=Item.pk.does_not_exist()`). `terminal` is the terminal as
    that change leaves it: its version + 1 is the version the change writes."""
    version = int(terminal.version or 0) + 1
    sk = op_sk(terminal.sn, version, action.value)
    item = CarrierOpItem(
        keys.tenant_pk(terminal.tenant_id),
        sk,
        **attrs_of(terminal, "tenant_id", "sn", "iccid", "carrier"),
        action=action.value,
        terminal_version=version,
        state="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    _queue(item, now)
    return item


def _queue(item: CarrierOpItem, at: datetime) -> None:
    item.next_attempt_at = at
    item.gsi1pk = keys.carrier_ops_due_gsi1pk(keys.carrier_op_shard(item.sk))
    item.gsi1sk = keys.carrier_ops_due_gsi1sk(at, item.tenant_id, item.sk)


def to_op(item: CarrierOpItem) -> CarrierOp:
    """The stored operation as a domain value (what the services read of it)."""
    return from_item(item, CarrierOp, terminal_version=int(item.terminal_version), attempts=int(item.attempts or 0))


def op_json(item: CarrierOpItem) -> dict[str, Any]:
    return to_op(item).to_json()


class OutboxCarrier:
    """The sweep's carrier port: a suspension is a carrier operation written in the suspension's
    own transaction (the dispatcher carries it out)."""

    def suspension(self, terminal: Terminal, now: datetime) -> Sequence[Item]:
        return [carrier_op(terminal, CarrierAction.SUSPEND, now)]


def resume_op(current: Terminal, updated: Terminal, now: datetime, *, stopped_at_carrier: bool = False) -> list[Item]:
    """The carrier resume for a change that gives a stopped SIM its service back, to write in that
    change's own transaction (the rule: simrenew.domain.carrier.resumes). Keyed by the version the
    change writes: one per change."""
    if resumes(current, updated, stopped_at_carrier=stopped_at_carrier):
        return [carrier_op(current, CarrierAction.RESUME, now)]
    return []


def account_items(account: CarrierAccount, now: datetime) -> tuple[CarrierAccountItem, CarrierAccountGuardItem]:
    """A new account's item and its carrier's guard (both written only where nothing is)."""
    pk = keys.tenant_pk(account.tenant_id)
    item = CarrierAccountItem(
        pk,
        account_sk(account.account_id),
        tenant_id=account.tenant_id,
        account_id=account.account_id,
        carrier=account.carrier,
        platform=account.platform.value,
        base_url=account.base_url,
        username=account.username,
        status=account.status.value,
        created_at=now,
        updated_at=now,
        gsi1pk=keys.carrier_accounts_gsi1pk(),
        gsi1sk=keys.carrier_accounts_gsi1sk(account.tenant_id, account.account_id),
    )
    return item, CarrierAccountGuardItem(pk, account_guard_sk(account.carrier), account_id=account.account_id)


def sim_item(tenant_id: str, r: SimRecord, now: datetime) -> CarrierSimItem:
    """The stored record of a SIM (on the agent's drift index while it drifts)."""
    item = CarrierSimItem(
        keys.tenant_pk(tenant_id),
        sim_sk(r.sn),
        tenant_id=tenant_id,
        sn=r.sn,
        iccid=r.iccid,
        account_id=r.account_id,
        status=r.status,
        state=r.state.value if r.state else None,
        rate_plan=r.rate_plan,
        bytes_used=r.bytes_used,
        usage_as_of=r.usage_as_of,
        synced_at=r.synced_at,
        drift=r.drift,
        pending=r.pending,
        last_error=r.last_error[:MAX_ERROR] if r.last_error else None,
        updated_at=now,
    )
    if r.drift:
        item.gsi1pk, item.gsi1sk = keys.carrier_drift_gsi1pk(tenant_id), keys.carrier_drift_gsi1sk(r.sn)
    return item


class CarrierRepository:
    # --- accounts ------------------------------------------------------------------------------------
    def create_account(self, account: CarrierAccount, now: datetime) -> None:
        item, guard = account_items(account, now)
        try:
            with Transaction() as tx:
                tx.save(guard, condition=CarrierAccountGuardItem.pk.does_not_exist())
                tx.save(item, condition=CarrierAccountItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in tx.codes(exc):
                raise Conflict(
                    f"a carrier account for {account.carrier} is already connected; remove it first",
                    code="carrier_account_exists",
                    field="carrier",
                ) from None
            raise TransientStoreError("could not save the carrier account; retry") from exc

    def account_item(self, tenant_id: str, account_id: str) -> CarrierAccountItem | None:
        with contextlib.suppress(CarrierAccountItem.DoesNotExist):
            return CarrierAccountItem.get(keys.tenant_pk(tenant_id), account_sk(account_id), consistent_read=True)
        return None

    def account(self, tenant_id: str, account_id: str) -> CarrierAccount | None:
        item = self.account_item(tenant_id, account_id)
        return _account(item) if item else None

    def accounts(self, tenant_id: str) -> list[CarrierAccount]:
        pk = keys.tenant_pk(tenant_id)
        found = CarrierAccountItem.query(pk, CarrierAccountItem.sk.startswith(keys.carrier_accounts_prefix()))
        return [_account(i) for i in found if isinstance(i, CarrierAccountItem)]

    def account_for(self, tenant_id: str, carrier: str) -> CarrierAccount | None:
        """The account a terminal of this carrier uses (one per carrier per agent)."""
        for account in self.accounts(tenant_id):
            if account.carrier == carrier:
                return account
        return None

    def delete_account(self, tenant_id: str, account_id: str) -> CarrierAccount:
        item = self.account_item(tenant_id, account_id)
        if item is None:
            raise NotFound("no such carrier account", code="carrier_account_not_found")
        pk = keys.tenant_pk(tenant_id)
        with Transaction() as tx:
            tx.delete(item)
            tx.delete(
                CarrierAccountGuardItem(pk, account_guard_sk(item.carrier)),
                condition=CarrierAccountGuardItem.account_id == account_id,
            )
        return _account(item)

    def set_account_status(self, tenant_id: str, account_id: str, status: AccountStatus, now: datetime) -> None:
        item = self.account_item(tenant_id, account_id)
        if item is None:
            return
        with contextlib.suppress(Conflict), translated():  # changed meanwhile: the other write stands
            item.update(
                actions=[
                    CarrierAccountItem.status.set(status.value),
                    CarrierAccountItem.checked_at.set(now),
                    CarrierAccountItem.updated_at.set(now),
                ]
            )

    def mark_sync(self, tenant_id: str, account_id: str, mark: SyncMark, now: datetime) -> None:
        item = self.account_item(tenant_id, account_id)
        if item is None:
            return
        actions: list[Action] = [CarrierAccountItem.sync_state.set(mark.state), CarrierAccountItem.updated_at.set(now)]
        if mark.stats is not None:
            actions.append(CarrierAccountItem.last_sync_json.set(json.dumps(mark.stats)))
        if mark.synced_through is not None:
            actions.append(CarrierAccountItem.synced_through.set(mark.synced_through))
        for _ in range(3):
            try:
                with translated():
                    item.update(actions=actions)  # Item.update sends a copy: a retry sets version once
                return
            except Conflict:
                fresh = self.account_item(tenant_id, account_id)
                if fresh is None:
                    return
                item = fresh

    def all_accounts(self) -> Iterator[tuple[str, str]]:
        """(tenant_id, account_id) of every connected account: the daily schedule's list."""
        for item in Item.gsi1.query(keys.carrier_accounts_gsi1pk()):
            if isinstance(item, CarrierAccountItem):
                yield item.tenant_id, item.account_id

    def terminal_items(self, tenant_id: str, carrier: str) -> list[TerminalItem]:
        """The agent's terminals of one carrier (the sync's list of SIMs), page by page."""
        pk = keys.tenant_pk(tenant_id)
        found = TerminalItem.query(pk, TerminalItem.sk.startswith(keys.terminal_sk("")), page_size=500)
        return [i for i in found if isinstance(i, TerminalItem) and i.carrier == carrier]

    # --- what the carrier said about each SIM ------------------------------------------------------------
    def sim(self, tenant_id: str, sn: str) -> SimRecord | None:
        with contextlib.suppress(CarrierSimItem.DoesNotExist):
            return _record(CarrierSimItem.get(keys.tenant_pk(tenant_id), sim_sk(sn), consistent_read=True))
        return None

    def sims_for(self, tenant_id: str, sns: Iterable[str]) -> dict[str, SimRecord]:
        pk = keys.tenant_pk(tenant_id)
        wanted = list(dict.fromkeys(sns))
        found: dict[str, SimRecord] = {}
        for start in range(0, len(wanted), 100):
            for item in CarrierSimItem.batch_get([(pk, sim_sk(sn)) for sn in wanted[start : start + 100]]):
                found[item.sn] = _record(item)
        return found

    def sims(self, tenant_id: str) -> dict[str, SimRecord]:
        pk = keys.tenant_pk(tenant_id)
        found = CarrierSimItem.query(pk, CarrierSimItem.sk.startswith(keys.carrier_sims_prefix()), page_size=500)
        return {i.sn: _record(i) for i in found if isinstance(i, CarrierSimItem)}

    def save_sims(self, tenant_id: str, records: Iterable[SimRecord], now: datetime) -> int:
        """Write the records (BatchWriteItem, 25 a request); returns how many were written."""
        count = 0
        with CarrierSimItem.batch_write() as batch:
            for r in records:
                batch.save(sim_item(tenant_id, r, now))
                count += 1
        return count

    def delete_sims(self, tenant_id: str, sns: Iterable[str]) -> int:
        pk = keys.tenant_pk(tenant_id)
        count = 0
        with CarrierSimItem.batch_write() as batch:
            for sn in sns:
                batch.delete(CarrierSimItem(pk, sim_sk(sn)))
                count += 1
        return count

    def drifting(self, tenant_id: str) -> list[SimRecord]:
        found = CarrierSimItem.gsi1.query(keys.carrier_drift_gsi1pk(tenant_id))
        return [_record(i) for i in found if isinstance(i, CarrierSimItem)]

    # --- operations ----------------------------------------------------------------------------------------
    def op(self, pk: str, sk: str) -> CarrierOpItem | None:
        with contextlib.suppress(CarrierOpItem.DoesNotExist):
            return CarrierOpItem.get(pk, sk, consistent_read=True)
        return None

    def op_by_id(self, tenant_id: str, raw_id: str) -> CarrierOpItem | None:
        parsed = parse_op_id(raw_id)
        if parsed is None:
            return None
        sn, version, action = parsed
        return self.op(keys.tenant_pk(tenant_id), op_sk(sn, version, action))

    def latest_op(self, tenant_id: str, sn: str) -> CarrierOpItem | None:
        found = CarrierOpItem.query(
            keys.tenant_pk(tenant_id), CarrierOpItem.sk.startswith(op_prefix(sn)), scan_index_forward=False, limit=1
        )
        for item in found:
            if isinstance(item, CarrierOpItem):
                return item
        return None

    def ops(self, tenant_id: str, sn: str) -> list[CarrierOpItem]:
        found = CarrierOpItem.query(keys.tenant_pk(tenant_id), CarrierOpItem.sk.startswith(op_prefix(sn)))
        return [i for i in found if isinstance(i, CarrierOpItem)]

    def put_op(self, item: CarrierOpItem) -> bool:
        try:
            with translated():
                item.save(condition=CarrierOpItem.pk.does_not_exist())
        except Conflict:
            return False
        return True

    def claim_op(self, item: CarrierOpItem, owner: str, now: datetime, lease: timedelta = OP_LEASE) -> bool:
        """Take the runner's lease on a pending operation: False while another runner holds it (the
        stream and the 5-minute drain may both be at it), or once it is no longer pending."""
        free = CarrierOpItem.lease_until.does_not_exist() | (CarrierOpItem.lease_until < now)
        return self._leased_update(item, owner, now + lease, (CarrierOpItem.state == "pending") & free)

    def renew_op(self, item: CarrierOpItem, owner: str, now: datetime, lease: timedelta = OP_LEASE) -> bool:
        """Keep the lease for another round; False when it lapsed and another runner took it."""
        held = (CarrierOpItem.state == "pending") & (CarrierOpItem.lease_owner == owner)
        return self._leased_update(item, owner, now + lease, held)

    def _leased_update(self, item: CarrierOpItem, owner: str, until: datetime, condition: Any) -> bool:
        try:
            with translated():
                item.update(
                    actions=[CarrierOpItem.lease_owner.set(owner), CarrierOpItem.lease_until.set(until)],
                    condition=condition,
                )
        except Conflict:
            return False
        return True

    def op_attempt_failed(self, item: CarrierOpItem, error: str, now: datetime, at: datetime, *, final: bool) -> None:
        """One run failed: pending again after the backoff, or failed (the agent's list)."""
        attempts = int(item.attempts or 0) + 1
        actions: list[Action] = [
            CarrierOpItem.attempts.set(attempts),
            CarrierOpItem.last_error.set(error[:MAX_ERROR]),
            CarrierOpItem.updated_at.set(now),
        ]
        if final:
            actions += [
                CarrierOpItem.state.set("failed"),
                CarrierOpItem.next_attempt_at.remove(),
                CarrierOpItem.gsi1pk.set(keys.carrier_ops_failed_gsi1pk(item.tenant_id)),
                CarrierOpItem.gsi1sk.set(keys.carrier_ops_failed_gsi1sk(now, item.sk)),
            ]
        else:
            actions += [
                CarrierOpItem.next_attempt_at.set(at),
                CarrierOpItem.gsi1pk.set(keys.carrier_ops_due_gsi1pk(keys.carrier_op_shard(item.sk))),
                CarrierOpItem.gsi1sk.set(keys.carrier_ops_due_gsi1sk(at, item.tenant_id, item.sk)),
            ]
        self._update_pending(item, actions)

    def finish_op(
        self, item: CarrierOpItem, state: str, now: datetime, *, outcome: str | None = None, error: str | None = None
    ) -> bool:
        actions = [*dequeued(CarrierOpItem, state, now, OPS_RETENTION), CarrierOpItem.done_at.set(now)]
        if outcome:
            actions.append(CarrierOpItem.outcome.set(outcome))
        if error:
            actions.append(CarrierOpItem.last_error.set(error[:MAX_ERROR]))
        return self._update_pending(item, actions)

    def retry_op(self, item: CarrierOpItem, now: datetime) -> bool:
        """A failed operation back to pending, due now, with a fresh retry budget."""
        actions: list[Action] = [
            CarrierOpItem.state.set("pending"),
            CarrierOpItem.attempts.set(0),
            CarrierOpItem.updated_at.set(now),
            CarrierOpItem.next_attempt_at.set(now),
            CarrierOpItem.gsi1pk.set(keys.carrier_ops_due_gsi1pk(keys.carrier_op_shard(item.sk))),
            CarrierOpItem.gsi1sk.set(keys.carrier_ops_due_gsi1sk(now, item.tenant_id, item.sk)),
        ]
        try:
            with translated():
                item.update(actions=actions, condition=CarrierOpItem.state.is_in("failed", "manual"))
        except Conflict:
            return False
        return True

    def _update_pending(self, item: CarrierOpItem, actions: list[Action]) -> bool:
        """An outcome of the run that holds the lease (released with it); False when that lease
        lapsed and another runner took the operation over, or it is no longer pending."""
        condition = CarrierOpItem.state == "pending"
        if item.lease_owner is not None:
            condition &= CarrierOpItem.lease_owner == item.lease_owner
        try:
            with translated():
                item.update(
                    actions=[*actions, CarrierOpItem.lease_owner.remove(), CarrierOpItem.lease_until.remove()],
                    condition=condition,
                )
        except Conflict:
            return False
        return True

    def due_ops(self, now: datetime, limit: int) -> list[CarrierOpItem]:
        out: list[CarrierOpItem] = []
        bound = keys.carrier_ops_due_bound(now)
        for shard in range(keys.CARRIER_OP_SHARDS):
            if len(out) >= limit:
                break
            found = CarrierOpItem.gsi1.query(
                keys.carrier_ops_due_gsi1pk(shard), CarrierOpItem.gsi1sk < bound, limit=limit - len(out)
            )
            out += [i for i in found if isinstance(i, CarrierOpItem) and i.state == "pending"]
        return out

    def failed_ops(self, tenant_id: str, limit: int = 200) -> list[CarrierOpItem]:
        found = CarrierOpItem.gsi1.query(
            keys.carrier_ops_failed_gsi1pk(tenant_id), scan_index_forward=False, limit=limit
        )
        return [i for i in found if isinstance(i, CarrierOpItem) and i.state == "failed"]

    def delete_quietly(self, item: Item) -> None:
        with contextlib.suppress(DeleteError):
            item.delete()
