"""Voucher batches and redemption: the voucher, the terminal and the ledger line commit in
one transaction; the voucher's `redeemed = false` condition lets exactly one redemption win."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.fleet import fill_item
from simrenew.adapters.dynamodb.mapping import from_item
from simrenew.adapters.dynamodb.models import (
    Item,
    RenewalItem,
    TerminalItem,
    Transaction,
    VoucherBatchItem,
    VoucherItem,
)
from simrenew.adapters.dynamodb.orders import ledger_line
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.clock import iso_utc
from simrenew.domain.carrier import CarrierAction
from simrenew.domain.fleet import Terminal
from simrenew.errors import TransientStoreError
from simrenew.ports.transfers import LedgerLine
from simrenew.ports.vouchers import Voucher, VoucherBatch


class VoucherRepository:
    def create_batch(
        self, tenant_id: str, batch_id: str, plan_id: str, hashes: Sequence[str], created_by: str, now: datetime
    ) -> None:
        codes = [
            VoucherItem(
                keys.voucher_pk(digest),
                keys.voucher_sk(),
                tenant_id=tenant_id,
                batch_id=batch_id,
                plan_id=plan_id,
                redeemed=False,
                created_at=now,
            )
            for digest in hashes
        ]
        batch = VoucherBatchItem(
            keys.tenant_pk(tenant_id),
            keys.voucher_batch_sk(batch_id),
            tenant_id=tenant_id,
            batch_id=batch_id,
            plan_id=plan_id,
            size=len(hashes),
            created_by=created_by,
            created_at=now,
        )
        self._write_batch(codes, batch)

    def _write_batch(self, codes: Sequence[VoucherItem], batch: VoucherBatchItem) -> None:
        """A new batch's codes (one BatchWriteItem a 25), then the batch itself."""
        with VoucherItem.batch_write() as writer:
            for code in codes:
                writer.save(code)
        batch.save()

    def batches(self, tenant_id: str) -> list[VoucherBatchItem]:
        pk = keys.tenant_pk(tenant_id)
        return list(VoucherBatchItem.query(pk, VoucherBatchItem.sk.startswith(keys.voucher_batch_sk(""))))

    def redeemed_between(self, tenant_id: str, start: datetime, end: datetime) -> list[VoucherItem]:
        """The agent's vouchers redeemed in [start, end): reads grow with the redemptions asked for."""
        result = VoucherItem.gsi1.query(
            keys.redeemed_vouchers_gsi1pk(tenant_id), VoucherItem.gsi1sk.between(iso_utc(start), iso_utc(end))
        )
        return [i for i in result if isinstance(i, VoucherItem) and i.redeemed_at is not None and i.redeemed_at < end]

    def batch(self, tenant_id: str, batch_id: str) -> VoucherBatchItem | None:
        pk, sk = keys.tenant_pk(tenant_id), keys.voucher_batch_sk(batch_id)
        return item_or_none(VoucherBatchItem.get, pk, sk, consistent_read=True)

    def void(self, voucher: VoucherItem, actor: str, now: datetime) -> bool:
        """Void an unredeemed code and count it on its batch, together; False when a redemption
        (or another void) got there first."""
        try:
            with Transaction() as tx:
                tx.update(
                    voucher,
                    actions=[VoucherItem.voided_at.set(now), VoucherItem.voided_by.set(actor)],
                    condition=(VoucherItem.redeemed == False) & VoucherItem.voided_at.does_not_exist(),  # noqa: E712
                )
                tx.update(
                    VoucherBatchItem(keys.tenant_pk(voucher.tenant_id), keys.voucher_batch_sk(voucher.batch_id)),
                    actions=[VoucherBatchItem.voided_count.add(1)],
                    condition=VoucherBatchItem.pk.exists(),
                )
            return True
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in tx.codes(exc):
                return False
            raise TransientStoreError("could not void the code; retry") from exc

    def get(self, digest: str) -> VoucherItem | None:
        return item_or_none(VoucherItem.get, keys.voucher_pk(digest), keys.voucher_sk(), consistent_read=True)

    def redeem(
        self,
        voucher: VoucherItem,
        item: TerminalItem,
        terminal: Terminal,
        ledger: RenewalItem,
        now: datetime,
        *,
        extra: Sequence[Item] = (),
    ) -> str:
        """ "ok", "used" (another redemption won) or "terminal_changed" (reload and retry). `extra`:
        outbox items the redemption causes (a carrier resume), written once with it."""
        fill_item(item, terminal)
        item.updated_at = now
        codes = self._spend(voucher, item, ledger, extra, now)
        if codes is None:
            return "ok"
        return "used" if codes[0] == "ConditionalCheckFailed" else "terminal_changed"

    def _spend(
        self, voucher: VoucherItem, item: TerminalItem, ledger: RenewalItem, extra: Sequence[Item], now: datetime
    ) -> list[str | None] | None:
        """One transaction: the code spent on the terminal (not redeemed nor voided yet), counted on its batch,
        the terminal (by version), its ledger line and `extra` (each once). None when written, else
        each write's cancellation code (raises TransientStoreError unless one is a refusal or a conflict)."""
        try:
            with Transaction() as tx:
                tx.update(
                    voucher,
                    actions=[
                        VoucherItem.redeemed.set(True),
                        VoucherItem.redeemed_sn.set(item.sn),
                        VoucherItem.redeemed_at.set(now),
                        # The settlement report counts redemptions per day from this sparse list.
                        VoucherItem.gsi1pk.set(keys.redeemed_vouchers_gsi1pk(voucher.tenant_id)),
                        VoucherItem.gsi1sk.set(keys.redeemed_vouchers_gsi1sk(now, item.sn)),
                    ],
                    condition=(VoucherItem.redeemed == False) & VoucherItem.voided_at.does_not_exist(),  # noqa: E712
                )
                tx.update(
                    VoucherBatchItem(keys.tenant_pk(voucher.tenant_id), keys.voucher_batch_sk(voucher.batch_id)),
                    actions=[VoucherBatchItem.redeemed_count.add(1)],
                    condition=VoucherBatchItem.pk.exists(),
                )
                tx.save(item)
                tx.save(ledger, condition=RenewalItem.pk.does_not_exist())
                for record in extra:
                    tx.save(record, condition=Item.pk.does_not_exist())
            return None
        except TransactWriteError as exc:
            codes = tx.codes(exc)
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                return codes
            raise TransientStoreError("could not redeem the voucher; retry") from exc

    # --- the vouchers port (simrenew.ports.vouchers): the same reads and writes in domain values -------
    def batch_list(self, tenant_id: str) -> list[VoucherBatch]:
        return [
            from_item(
                b, VoucherBatch, size=int(b.size), redeemed=int(b.redeemed_count or 0), voided=int(b.voided_count or 0)
            )
            for b in self.batches(tenant_id)
        ]

    def has_batch(self, tenant_id: str, batch_id: str) -> bool:
        return self.batch(tenant_id, batch_id) is not None

    def voucher(self, digest: str) -> tuple[VoucherItem, Voucher] | None:
        item = self.get(digest)
        if item is None:
            return None
        return item, Voucher(
            tenant_id=item.tenant_id,
            batch_id=item.batch_id,
            plan_id=item.plan_id,
            code_id=item.pk[-12:],
            redeemed=bool(item.redeemed),
            redeemed_sn=item.redeemed_sn,
            voided=item.voided_at is not None,
        )

    def redeem_renewal(
        self,
        voucher: VoucherItem,
        stored: TerminalItem,
        terminal: Terminal,
        line: LedgerLine,
        resume: Terminal | None,
        now: datetime,
    ) -> str:
        x = line
        ledger = ledger_line(
            x.terminal, x.kind, x.source, x.index, x.old_expires_on, x.new_expires_on, x.amount_fen, x.term_months, now
        )
        extra = [carrier_op(resume, CarrierAction.RESUME, now)] if resume is not None else []
        return self.redeem(voucher, stored, terminal, ledger, now, extra=extra)
