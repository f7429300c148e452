"""The carrier connection's stores in domain values (simrenew.ports.carrier_store), over the
DynamoDB repositories of simrenew.adapters.dynamodb.carrier and .fleet: the same requests, each
operation read handed out as a CarrierOp and its writes rebuilt from it (a key, the lease owner)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from simrenew.adapters.dynamodb.carrier import CarrierOpItem, CarrierRepository, to_op
from simrenew.adapters.dynamodb.fleet import TerminalRepository, to_terminal
from simrenew.adapters.dynamodb.models import TerminalItem
from simrenew.domain.carrier import AccountStatus, CarrierAccount, CarrierOp, SimRecord
from simrenew.domain.fleet import Terminal
from simrenew.ports.carrier_store import SyncMark


def _item(op: CarrierOp) -> CarrierOpItem:
    """The operation's item as far as its updates read it: the key, and what the conditions and
    the index keys are built from (an UpdateItem sends only the key, the actions and the condition)."""
    return CarrierOpItem(
        op.pk,
        op.sk,
        tenant_id=op.tenant_id,
        sn=op.sn,
        action=op.action,
        state=op.state,
        attempts=op.attempts,
        lease_owner=op.lease_owner,
    )


def _op(item: CarrierOpItem | None) -> CarrierOp | None:
    return to_op(item) if item is not None else None


class CarrierStore:
    """simrenew.ports.carrier_store.CarrierStore over a CarrierRepository."""

    def __init__(self, repo: CarrierRepository | None = None) -> None:
        self.repo = repo if repo is not None else CarrierRepository()

    # --- accounts --------------------------------------------------------------------------------
    def create_account(self, account: CarrierAccount, now: datetime) -> None:
        self.repo.create_account(account, now)

    def account(self, tenant_id: str, account_id: str) -> CarrierAccount | None:
        return self.repo.account(tenant_id, account_id)

    def accounts(self, tenant_id: str) -> list[CarrierAccount]:
        return self.repo.accounts(tenant_id)

    def account_for(self, tenant_id: str, carrier: str) -> CarrierAccount | None:
        return self.repo.account_for(tenant_id, carrier)

    def delete_account(self, tenant_id: str, account_id: str) -> CarrierAccount:
        return self.repo.delete_account(tenant_id, account_id)

    def set_account_status(self, tenant_id: str, account_id: str, status: AccountStatus, now: datetime) -> None:
        self.repo.set_account_status(tenant_id, account_id, status, now)

    def mark_sync(self, tenant_id: str, account_id: str, mark: SyncMark, now: datetime) -> None:
        self.repo.mark_sync(tenant_id, account_id, mark, now)

    def synced_through(self, tenant_id: str, account_id: str) -> datetime | None:
        item = self.repo.account_item(tenant_id, account_id)
        return item.synced_through if item else None

    def all_accounts(self) -> Iterator[tuple[str, str]]:
        return self.repo.all_accounts()

    # --- what the carrier said about each SIM ------------------------------------------------------
    def sim(self, tenant_id: str, sn: str) -> SimRecord | None:
        return self.repo.sim(tenant_id, sn)

    def sims_for(self, tenant_id: str, sns: Iterable[str]) -> dict[str, SimRecord]:
        return self.repo.sims_for(tenant_id, sns)

    def sims(self, tenant_id: str) -> dict[str, SimRecord]:
        return self.repo.sims(tenant_id)

    def save_sims(self, tenant_id: str, records: Iterable[SimRecord], now: datetime) -> int:
        return self.repo.save_sims(tenant_id, records, now)

    def delete_sims(self, tenant_id: str, sns: Iterable[str]) -> int:
        return self.repo.delete_sims(tenant_id, sns)

    def drifting(self, tenant_id: str) -> list[SimRecord]:
        return self.repo.drifting(tenant_id)

    # --- operations ----------------------------------------------------------------------------------
    def operation(self, pk: str, sk: str) -> CarrierOp | None:
        return _op(self.repo.op(pk, sk))

    def operation_by_id(self, tenant_id: str, raw_id: str) -> CarrierOp | None:
        return _op(self.repo.op_by_id(tenant_id, raw_id))

    def latest_operation(self, tenant_id: str, sn: str) -> CarrierOp | None:
        return _op(self.repo.latest_op(tenant_id, sn))

    def operations(self, tenant_id: str, sn: str) -> list[CarrierOp]:
        return [to_op(i) for i in self.repo.ops(tenant_id, sn)]

    def claim(self, op: CarrierOp, owner: str, now: datetime) -> bool:
        return self.repo.claim_op(_item(op), owner, now)

    def renew(self, op: CarrierOp, owner: str, now: datetime) -> bool:
        return self.repo.renew_op(_item(op), owner, now)

    def run_failed(self, op: CarrierOp, error: str, now: datetime, at: datetime, *, final: bool) -> None:
        self.repo.op_attempt_failed(_item(op), error, now, at, final=final)

    def finish(
        self, op: CarrierOp, state: str, now: datetime, *, outcome: str | None = None, error: str | None = None
    ) -> bool:
        return self.repo.finish_op(_item(op), state, now, outcome=outcome, error=error)

    def retry(self, op: CarrierOp, now: datetime) -> bool:
        return self.repo.retry_op(_item(op), now)

    def due(self, now: datetime, limit: int) -> list[CarrierOp]:
        return [to_op(i) for i in self.repo.due_ops(now, limit)]

    def failed(self, tenant_id: str) -> list[CarrierOp]:
        return [to_op(i) for i in self.repo.failed_ops(tenant_id)]


class CarrierTerminalStore:
    """simrenew.ports.carrier_store.CarrierTerminals[TerminalItem] over the terminal repository."""

    def __init__(self, terminals: TerminalRepository, carrier: CarrierRepository | None = None) -> None:
        self._terminals = terminals
        self._carrier = carrier if carrier is not None else CarrierRepository()

    def get(self, tenant_id: str, sn: str) -> Terminal | None:
        return self._terminals.get(tenant_id, sn)

    def terminals(self, tenant_id: str, sns: Iterable[str]) -> dict[str, Terminal]:
        return self._terminals.terminals(tenant_id, sns)

    def stored(self, tenant_id: str, sn: str) -> tuple[TerminalItem, Terminal] | None:
        return self._terminals.stored(tenant_id, sn)

    def of_carrier(self, tenant_id: str, carrier: str) -> list[tuple[TerminalItem, Terminal]]:
        return [(i, to_terminal(i)) for i in self._carrier.terminal_items(tenant_id, carrier)]

    def record_usage(
        self, stored: TerminalItem, terminal: Terminal, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> Terminal:
        return self._terminals.record_usage(stored, terminal, events, now)
