"""TimeTransferRepository in memory: both terminals by version, the records once, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from simrenew.adapters.dynamodb.fleet import refilled
from simrenew.adapters.dynamodb.models import Item, TerminalItem
from simrenew.adapters.dynamodb.transfers import TimeTransferItem, TimeTransferRepository
from simrenew.domain.fleet import Terminal
from simrenew.errors import TransientStoreError
from tests.support.fakes.table import FAILED, Cancelled, FakeTable


class FakeTimeTransferRepository(TimeTransferRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def commit(
        self,
        terminals: Sequence[tuple[TerminalItem, Terminal]],
        records: Sequence[Item],
        now: datetime,
    ) -> bool:
        try:
            with self.table.tx() as tx:
                for item, terminal in terminals:
                    tx.save(refilled(item, terminal, now))
                for record in records:
                    tx.save(record, new=True)
        except Cancelled as exc:
            if FAILED in exc.codes[: len(terminals)]:
                return False
            raise TransientStoreError("could not transfer the time; retry") from exc
        return True

    def transfers(self, tenant_id: str) -> list[TimeTransferItem]:
        """Every transfer record of a tenant (for tests)."""
        from simrenew.adapters.dynamodb import keys

        return self.table.query(TimeTransferItem, keys.tenant_pk(tenant_id))
