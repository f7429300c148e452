"""The fleet service's terminal store: the domain-typed terminal port (simrenew.ports.fleet.Terminals)
plus the conditional writes of a change to a terminal read before (its handle is opaque to the
service: the version read is the condition of the write), the transfer code of a terminal, and the
move of a terminal to another agent. The DynamoDB adapter is
simrenew.adapters.dynamodb.fleet_store.FleetTerminalStore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from simrenew.domain.fleet import Terminal
from simrenew.ports.fleet import Terminals

#: A terminal as the store holds it, handed back with the terminal's new state.
StoredTerminal = TypeVar("StoredTerminal")


@dataclass(frozen=True)
class Adjustment:
    """A hand-made move of the expiry: an `adjustment` line in the renewal ledger, with who and why."""

    source: str
    old_expires_on: str
    actor: str | None
    note: str | None


@dataclass(frozen=True)
class TransferCode:
    """The single-use code that lets another agent claim a terminal (only its hash is kept)."""

    tenant_id: str
    sn: str
    code_hash: str
    expires_at: datetime
    used: bool


class FleetTerminals(Terminals, Protocol[StoredTerminal]):
    def stored(self, tenant_id: str, sn: str) -> tuple[StoredTerminal, Terminal] | None:
        """The tenant's terminal (read consistently) and the handle its write is conditional on."""
        ...

    def save_change(
        self,
        stored: StoredTerminal,
        updated: Terminal,
        now: datetime,
        moved: dict[str, tuple[str, str]],
        *,
        adjustment: Adjustment | None = None,
        resume: Terminal | None = None,
    ) -> Terminal:
        """One transaction: the terminal (conditional on the version read: Conflict
        concurrent_update), the claims of its changed identifiers {field: (old, new)}, the
        `adjustment` ledger line, and the carrier resume of `resume` (the terminal as read)."""
        ...

    def record_usage(
        self, stored: StoredTerminal, terminal: Terminal, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> Terminal:
        """The new usage and each quota crossing once per term (Conflict when changed meanwhile)."""
        ...

    def holder(self, kind: str, value: str) -> str | None:
        """The agent holding this identifier (sn, tid, iccid), if any."""
        ...

    def transfer_code_of(self, tenant_id: str, sn: str) -> TransferCode | None: ...

    def move_to(
        self, stored: StoredTerminal, moved: Terminal, code: TransferCode, now: datetime, *, max_history: int
    ) -> bool:
        """Move the terminal, its claims and its history to `moved.tenant_id` spending the code,
        in one transaction (Conflict transfer_conflict when either changed meanwhile); False,
        with nothing written, when its history has more than `max_history` items."""
        ...
