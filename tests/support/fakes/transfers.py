"""TimeTransferRepository in memory: both terminals by version, the records once, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence

from simrenew.adapters.dynamodb.models import Item, TerminalItem
from simrenew.adapters.dynamodb.transfers import TimeTransferItem, TimeTransferRepository
from simrenew.errors import TransientStoreError
from tests.support.fakes.table import FAILED, Cancelled, FakeTable


class FakeTimeTransferRepository(TimeTransferRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def _write(self, saved: Sequence[TerminalItem], records: Sequence[Item]) -> bool:
        """The real commit's staging (refilled terminals, new records), written to the FakeTable."""
        try:
            with self.table.tx() as tx:
                for item in saved:
                    tx.save(item)
                for record in records:
                    tx.save(record, new=True)
        except Cancelled as exc:
            if FAILED in exc.codes[: len(saved)]:
                return False
            raise TransientStoreError("could not transfer the time; retry") from exc
        return True

    def transfers(self, tenant_id: str) -> list[TimeTransferItem]:
        """Every transfer record of a tenant (for tests)."""
        from simrenew.adapters.dynamodb import keys

        return self.table.query(TimeTransferItem, keys.tenant_pk(tenant_id))
