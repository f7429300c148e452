"""The time-transfer port (转赠): both terminals, their ledger lines, each merchant's notice, the
carrier resume and the transfer record, written in one transaction, in domain values. The DynamoDB
adapter is simrenew.adapters.dynamodb.transfers.TimeTransferRepository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from simrenew.domain.fleet import Terminal

#: A terminal as the store holds it: opaque to the services, handed back to the store with the
#: terminal's new state (its version read is the condition of the write).
StoredTerminal_co = TypeVar("StoredTerminal_co", covariant=True)
StoredTerminal_contra = TypeVar("StoredTerminal_contra", contravariant=True)


class StoredTerminals(Protocol[StoredTerminal_co]):
    def stored(self, tenant_id: str, sn: str) -> tuple[StoredTerminal_co, Terminal] | None:
        """The tenant's terminal (read consistently) and the handle its write is conditional on."""
        ...


@dataclass(frozen=True)
class LedgerLine:
    """One renewal-ledger line to write with a change (see simrenew.ports.orders.LedgerEntry)."""

    terminal: Terminal  # as the change leaves it
    kind: str
    source: str
    index: int
    old_expires_on: str
    new_expires_on: str
    amount_fen: int
    term_months: int


@dataclass(frozen=True)
class TerminalNotice:
    """A notice to the terminal's merchant, queued in the change's own transaction (sent once)."""

    terminal: Terminal
    name: str
    term: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class TimeTransfer:
    """The transfer record: `months` moved from `source` to `target` (both as the transfer leaves them)."""

    tenant_id: str
    transfer_id: str
    source: Terminal
    target: Terminal
    months: int
    reason: str
    actor: str
    before: tuple[str, str]  # the source's and the target's expiry before


class TimeTransfers(Protocol[StoredTerminal_contra]):
    def apply(
        self,
        transfer: TimeTransfer,
        terminals: Sequence[tuple[StoredTerminal_contra, Terminal]],
        lines: Sequence[LedgerLine],
        notices: Sequence[TerminalNotice],
        resume: Terminal | None,
        now: datetime,
    ) -> bool:
        """Write it all in one transaction: both terminals (each conditional on the version read), the
        ledger lines, the notices, a carrier resume of `resume` (the receiving terminal as read, when
        its SIM gets its service back) and the record. False when a terminal changed since it was
        read (nothing written: reload and retry)."""
        ...
