"""simrenew.ports.fleet_store.FleetTerminals over the terminal repository: the ledger line of a
hand-made expiry change and the carrier resume are built here, written in the terminal's own
transaction (TerminalRepository.save), so the fleet service hands over domain values only."""

from __future__ import annotations

from datetime import datetime

from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.fleet import TerminalRepository, transfer_code_item
from simrenew.adapters.dynamodb.mapping import from_item
from simrenew.adapters.dynamodb.models import Item, TerminalItem
from simrenew.adapters.dynamodb.orders import ledger_line
from simrenew.domain.carrier import CarrierAction
from simrenew.domain.fleet import Terminal
from simrenew.ports.fleet_store import Adjustment, TransferCode


class FleetTerminalStore(TerminalRepository):
    """The terminal repository with the fleet service's domain-typed writes (each one request
    sequence as before: the same reads, the same transaction)."""

    def save_change(
        self,
        stored: TerminalItem,
        updated: Terminal,
        now: datetime,
        moved: dict[str, tuple[str, str]],
        *,
        adjustment: Adjustment | None = None,
        resume: Terminal | None = None,
    ) -> Terminal:
        extra: list[Item] = []
        if adjustment is not None:
            line = ledger_line(
                updated,
                "adjustment",
                adjustment.source,
                0,
                adjustment.old_expires_on,
                updated.expires_on.isoformat(),
                0,
                0,
                now,
                actor=adjustment.actor,
                note=adjustment.note,
            )
            extra.append(line)
        if resume is not None:
            extra.append(carrier_op(resume, CarrierAction.RESUME, now))
        return self.save(stored, updated, now, moved, extra)

    def holder(self, kind: str, value: str) -> str | None:
        found = self.claim(kind, value)
        return found.tenant_id if found is not None else None

    def transfer_code_of(self, tenant_id: str, sn: str) -> TransferCode | None:
        item = self.transfer_code(tenant_id, sn)
        if item is None:
            return None
        return from_item(item, TransferCode, used=bool(item.used))

    def move_to(
        self, stored: TerminalItem, moved: Terminal, code: TransferCode, now: datetime, *, max_history: int
    ) -> bool:
        children = self.children(stored.tenant_id, stored.sn)
        if len(children) > max_history:
            return False
        self.move(stored, moved, transfer_code_item(code), children, now)
        return True
