"""The fleet ports: terminals (SIM-carrying devices), the agent's merchants and its renewal plans.

Only domain values cross them (simrenew.domain.fleet). The DynamoDB adapters are
simrenew.adapters.dynamodb.fleet's TerminalRepository, MerchantRepository and PlanRepository.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol, Unpack

from simrenew.domain.fleet import ExpiryWindow, Merchant, Plan, Terminal, TerminalWindow
from simrenew.errors import Conflict
from simrenew.ports.paging import Page


class Merchants(Protocol):
    def create(self, merchant: Merchant, now: datetime) -> None: ...

    def find_by_key(self, tenant_id: str, name: str, phone: str) -> str | None:
        """The id of the tenant's merchant with this (name, phone), if there is one."""
        ...

    def find_many_by_key(self, tenant_id: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]: ...

    def get(self, tenant_id: str, merchant_id: str) -> Merchant | None: ...

    def get_many(self, tenant_id: str, merchant_ids: Iterable[str]) -> dict[str, Merchant]: ...

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Merchant]: ...

    def update(self, tenant_id: str, merchant_id: str, changes: dict[str, Any], now: datetime) -> Merchant: ...

    def create_many(self, merchants: Sequence[Merchant], now: datetime) -> dict[tuple[str, str], str]:
        """Create the merchants not yet there; (name, phone) -> id of each, old or new."""
        ...


class Plans(Protocol):
    def create(self, plan: Plan, now: datetime) -> None: ...

    def get(self, tenant_id: str, plan_id: str) -> Plan | None: ...

    def ids_by_name(self, tenant_id: str, names: Iterable[str]) -> dict[str, str]: ...

    def all(self, tenant_id: str) -> builtins.list[Plan]: ...

    def update(self, tenant_id: str, plan_id: str, changes: dict[str, Any], now: datetime) -> Plan: ...


class Terminals(Protocol):
    """The domain-typed part of the terminal store (reads, registration, listing)."""

    def get(self, tenant_id: str, sn: str) -> Terminal | None: ...

    def existing(self, tenant_id: str, raw_sn: str) -> Terminal:
        """The tenant's terminal with this SN (NotFound otherwise; another tenant's is not found)."""
        ...

    def find_by_tid(self, tenant_id: str, tid: str) -> Terminal | None: ...

    def terminals(self, tenant_id: str, sns: Iterable[str]) -> dict[str, Terminal]:
        """The tenant's terminals of these SNs that exist, by SN (one batch read)."""
        ...

    def page(
        self, tenant_id: str, *, limit: int, cursor: str | None, **window: Unpack[TerminalWindow]
    ) -> Page[Terminal]:
        """One page of the tenant's terminals in the window (every key of it given, None for no filter)."""
        ...

    def by_expiry(
        self, tenant_id: str, *, forward: bool, limit: int, cursor: str | None, **window: Unpack[ExpiryWindow]
    ) -> Page[Terminal]:
        """The same, soonest expiry first (forward) or latest first; no merchant filter."""
        ...

    def count(
        self, tenant_id: str, status: str, expires_from: date | None = None, expires_before: date | None = None
    ) -> int: ...

    def search(self, tenant_id: str, prefix: str, limit: int) -> list[Terminal]: ...

    def iterate(self, tenant_id: str) -> Iterator[Terminal]: ...

    def register(self, terminal: Terminal, now: datetime) -> None:
        """Register a new terminal and claim its identifiers (Conflict when one is taken)."""
        ...

    def register_many(self, terminals: Sequence[Terminal], now: datetime) -> dict[str, Conflict]:
        """Register many; SN -> the Conflict of each that could not be."""
        ...

    def put_transfer_code(
        self, tenant_id: str, sn: str, code_hash: str, expires_at: datetime, now: datetime
    ) -> None: ...
