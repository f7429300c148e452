"""Transfers of unused time (转赠): both terminals, both ledger lines, both merchant notices and
the transfer record in one TransactWriteItems, version-checked on both terminals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.fleet import pending_event, refilled
from simrenew.adapters.dynamodb.models import Item, TerminalItem, Transaction
from simrenew.adapters.dynamodb.models import TimeTransferItem as TimeTransferItem
from simrenew.adapters.dynamodb.orders import ledger_line
from simrenew.domain.carrier import CarrierAction
from simrenew.domain.fleet import Terminal
from simrenew.errors import TransientStoreError
from simrenew.ports.transfers import LedgerLine, TerminalNotice, TimeTransfer


def transfer_item(
    tenant_id: str,
    transfer_id: str,
    source: Terminal,
    target: Terminal,
    months: int,
    reason: str,
    actor: str,
    before: tuple[str, str],
    now: datetime,
) -> TimeTransferItem:
    return TimeTransferItem(
        keys.tenant_pk(tenant_id),
        keys.time_transfer_sk(source.sn, transfer_id),
        tenant_id=tenant_id,
        transfer_id=transfer_id,
        from_sn=source.sn,
        to_sn=target.sn,
        months=months,
        reason=reason,
        actor=actor,
        from_before=before[0],
        from_after=source.expires_on.isoformat(),
        to_before=before[1],
        to_after=target.expires_on.isoformat(),
        created_at=now,
    )


class TimeTransferRepository:
    def commit(
        self,
        terminals: Sequence[tuple[TerminalItem, Terminal]],
        records: Sequence[Item],
        now: datetime,
    ) -> bool:
        """Save both terminals (each conditional on the version read) and write the new records
        (ledger lines, notices, the transfer) once. False when a terminal changed since it was
        read (nothing was written: reload and retry)."""
        return self._write([refilled(item, terminal, now) for item, terminal in terminals], records)

    def _write(self, saved: Sequence[TerminalItem], records: Sequence[Item]) -> bool:
        """The one transaction `commit` stages: the refilled terminals, then the records."""
        try:
            with Transaction() as tx:
                for item in saved:
                    tx.save(item)  # VersionAttribute: the version read is the condition
                for record in records:
                    tx.save(record, condition=Item.pk.does_not_exist())
            return True
        except TransactWriteError as exc:
            codes = tx.codes(exc)
            if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in codes[: len(saved)]):
                return False
            raise TransientStoreError("could not transfer the time; retry") from exc

    def apply(
        self,
        transfer: TimeTransfer,
        terminals: Sequence[tuple[TerminalItem, Terminal]],
        lines: Sequence[LedgerLine],
        notices: Sequence[TerminalNotice],
        resume: Terminal | None,
        now: datetime,
    ) -> bool:
        """The time-transfer port (simrenew.ports.transfers): the records built here, written by `commit`."""
        t = transfer
        records: list[Item] = [
            *([carrier_op(resume, CarrierAction.RESUME, now)] if resume is not None else []),
            *(
                ledger_line(
                    x.terminal,
                    x.kind,
                    x.source,
                    x.index,
                    x.old_expires_on,
                    x.new_expires_on,
                    x.amount_fen,
                    x.term_months,
                    now,
                )
                for x in lines
            ),
            *(pending_event(n.terminal, n.name, n.term, n.detail, now) for n in notices),
            transfer_item(t.tenant_id, t.transfer_id, t.source, t.target, t.months, t.reason, t.actor, t.before, now),
        ]
        return self.commit(terminals, records, now)
