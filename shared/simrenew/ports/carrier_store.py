"""The carrier connection's ports: the agent's carrier accounts, what the carrier said of each SIM,
the carrier operations (outbox items) and their runner's lease, the keys in the secret store, the
factory that opens an account's platform, and the terminals the sync reads and measures. Only
domain values cross them (simrenew.domain.carrier, simrenew.domain.fleet).

The adapters: simrenew.adapters.dynamodb.carrier_store (CarrierStore, CarrierTerminalStore),
simrenew.adapters.carrier.secrets and simrenew.adapters.carrier.factory.PlatformFactory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from simrenew.domain.carrier import AccountStatus, CarrierAccount, CarrierOp, SimRecord
from simrenew.domain.fleet import Terminal
from simrenew.ports.carrier import CarrierPlatform

#: A terminal as the store holds it: opaque to the sync, handed back with its measured usage (the
#: version read is the condition of that write).
StoredTerminal = TypeVar("StoredTerminal")


@dataclass(frozen=True)
class SyncMark:
    """What a sync run marks on its account: its state (queued | running | done | failed) and, once
    it ended, its figures and (done) up to when it read the changes (the next sync's `since`)."""

    state: str
    stats: dict[str, Any] | None = None
    synced_through: datetime | None = None


class CarrierKeys(Protocol):
    """The accounts' API keys (one secret per account): never in the table, an answer or a log."""

    def put(self, tenant_id: str, account_id: str, api_key: str) -> None: ...

    def get(self, tenant_id: str, account_id: str) -> str: ...

    def delete(self, tenant_id: str, account_id: str) -> None: ...


class Platforms(Protocol):
    def open(self, account: CarrierAccount) -> CarrierPlatform:
        """The account's platform client, with its key from the secret store."""
        ...


class AccountStore(Protocol):
    def create_account(self, account: CarrierAccount, now: datetime) -> None:
        """Conflict carrier_account_exists when the agent has an account of that carrier."""
        ...

    def account(self, tenant_id: str, account_id: str) -> CarrierAccount | None: ...

    def accounts(self, tenant_id: str) -> list[CarrierAccount]: ...

    def account_for(self, tenant_id: str, carrier: str) -> CarrierAccount | None: ...

    def delete_account(self, tenant_id: str, account_id: str) -> CarrierAccount: ...

    def set_account_status(self, tenant_id: str, account_id: str, status: AccountStatus, now: datetime) -> None: ...

    def mark_sync(self, tenant_id: str, account_id: str, mark: SyncMark, now: datetime) -> None: ...

    def synced_through(self, tenant_id: str, account_id: str) -> datetime | None:
        """Up to when the account's last finished sync read the changes (None: never synced)."""
        ...

    def all_accounts(self) -> Iterator[tuple[str, str]]:
        """(tenant_id, account_id) of every connected account."""
        ...


class SimStore(Protocol):
    def sim(self, tenant_id: str, sn: str) -> SimRecord | None: ...

    def sims_for(self, tenant_id: str, sns: Iterable[str]) -> dict[str, SimRecord]: ...

    def sims(self, tenant_id: str) -> dict[str, SimRecord]: ...

    def save_sims(self, tenant_id: str, records: Iterable[SimRecord], now: datetime) -> int:
        """Write the records (batched); how many were written."""
        ...

    def delete_sims(self, tenant_id: str, sns: Iterable[str]) -> int: ...

    def drifting(self, tenant_id: str) -> list[SimRecord]: ...


class OpStore(Protocol):
    def operation(self, pk: str, sk: str) -> CarrierOp | None: ...

    def operation_by_id(self, tenant_id: str, raw_id: str) -> CarrierOp | None:
        """The tenant's operation of this API id (None when malformed, missing or another's)."""
        ...

    def latest_operation(self, tenant_id: str, sn: str) -> CarrierOp | None: ...

    def operations(self, tenant_id: str, sn: str) -> list[CarrierOp]: ...

    def claim(self, op: CarrierOp, owner: str, now: datetime) -> bool:
        """Take the runner's lease: False while another runner holds it, or once not pending."""
        ...

    def renew(self, op: CarrierOp, owner: str, now: datetime) -> bool:
        """Keep the lease for another round: False when it lapsed and another runner took it."""
        ...

    def run_failed(self, op: CarrierOp, error: str, now: datetime, at: datetime, *, final: bool) -> None:
        """One run failed: pending again at `at`, or failed (the agent's list), under op's lease."""
        ...

    def finish(
        self, op: CarrierOp, state: str, now: datetime, *, outcome: str | None = None, error: str | None = None
    ) -> bool:
        """The run's outcome under op's lease (released with it); False when the lease was lost."""
        ...

    def retry(self, op: CarrierOp, now: datetime) -> bool:
        """A failed (or manual) operation back to pending, due now, with a fresh retry budget."""
        ...

    def due(self, now: datetime, limit: int) -> list[CarrierOp]: ...

    def failed(self, tenant_id: str) -> list[CarrierOp]: ...


class CarrierStore(AccountStore, SimStore, OpStore, Protocol):
    """Everything the carrier connection keeps in the agent's partition."""


class CarrierTerminals(Protocol[StoredTerminal]):
    """The terminals as the carrier connection reads them (the sync measures their usage)."""

    def get(self, tenant_id: str, sn: str) -> Terminal | None: ...

    def terminals(self, tenant_id: str, sns: Iterable[str]) -> dict[str, Terminal]: ...

    def stored(self, tenant_id: str, sn: str) -> tuple[StoredTerminal, Terminal] | None: ...

    def of_carrier(self, tenant_id: str, carrier: str) -> list[tuple[StoredTerminal, Terminal]]:
        """The agent's terminals of one carrier (the sync's list of SIMs)."""
        ...

    def record_usage(
        self, stored: StoredTerminal, terminal: Terminal, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> Terminal:
        """Save the measured usage and each quota crossing once per term; Conflict when the
        terminal changed since it was read."""
        ...
