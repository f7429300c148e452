"""VoucherRepository in memory: one item per code (by its hash) and one per batch.

A code is spent by a condition on its own item (`redeemed` false, not voided): of two redemptions
exactly one wins ("used" for the other), and a terminal changed meanwhile is "terminal_changed":
the real `redeem` over `_spend`, its one transaction here a FakeTable one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item, RenewalItem, TerminalItem, VoucherBatchItem, VoucherItem
from simrenew.adapters.dynamodb.vouchers import VoucherRepository
from tests.support.fakes.table import Cancelled, FakeTable, Tx, exists


def _spendable(stored: Item | None) -> bool:
    return isinstance(stored, VoucherItem) and not stored.redeemed and stored.voided_at is None


def _count_on_batch(tx: Tx, voucher: VoucherItem, counter: str) -> None:
    def counted(stored: Item | None) -> Item | None:
        assert isinstance(stored, VoucherBatchItem)
        setattr(stored, counter, int(getattr(stored, counter) or 0) + 1)
        return stored

    tx.update((keys.tenant_pk(voucher.tenant_id), keys.voucher_batch_sk(voucher.batch_id)), counted, check=exists)


class FakeVoucherRepository(VoucherRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def _write_batch(self, codes: Sequence[VoucherItem], batch: VoucherBatchItem) -> None:
        for code in codes:
            self.table.put(code)
        self.table.put(batch)

    def batches(self, tenant_id: str) -> list[VoucherBatchItem]:
        return self.table.query(VoucherBatchItem, keys.tenant_pk(tenant_id), keys.voucher_batch_sk(""))

    def batch(self, tenant_id: str, batch_id: str) -> VoucherBatchItem | None:
        return self.table.get(VoucherBatchItem, keys.tenant_pk(tenant_id), keys.voucher_batch_sk(batch_id))

    def get(self, digest: str) -> VoucherItem | None:
        return self.table.get(VoucherItem, keys.voucher_pk(digest), keys.voucher_sk())

    def redeemed_between(self, tenant_id: str, start: datetime, end: datetime) -> list[VoucherItem]:
        return [
            v
            for v in self.table.scan(VoucherItem)
            if v.tenant_id == tenant_id and v.redeemed_at is not None and start <= v.redeemed_at < end
        ]

    def void(self, voucher: VoucherItem, actor: str, now: datetime) -> bool:
        voucher.voided_at, voucher.voided_by = now, actor
        try:
            with self.table.tx() as tx:
                tx.update((voucher.pk, voucher.sk), lambda _stored: voucher, check=_spendable)
                _count_on_batch(tx, voucher, "voided_count")
        except Cancelled:
            return False
        return True

    def _spend(
        self, voucher: VoucherItem, item: TerminalItem, ledger: RenewalItem, extra: Sequence[Item], now: datetime
    ) -> list[str | None] | None:
        spent = VoucherItem.from_raw_data(voucher.serialize())
        spent.redeemed, spent.redeemed_sn, spent.redeemed_at = True, item.sn, now
        spent.gsi1pk = keys.redeemed_vouchers_gsi1pk(voucher.tenant_id)
        spent.gsi1sk = keys.redeemed_vouchers_gsi1sk(now, item.sn)
        try:
            with self.table.tx() as tx:
                tx.update((voucher.pk, voucher.sk), lambda _stored: spent, check=_spendable)
                _count_on_batch(tx, voucher, "redeemed_count")
                tx.save(item)
                tx.save(ledger, new=True)
                for record in extra:
                    tx.save(record, new=True)
        except Cancelled as exc:
            return exc.codes
        return None
