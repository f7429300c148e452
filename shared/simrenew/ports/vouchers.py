"""The vouchers port: prepaid renewal codes (充值卡, stored by the digest of the code only), in domain
terms. The DynamoDB adapter is simrenew.adapters.dynamodb.vouchers.VoucherRepository: a redemption
(the code, its batch's count, the terminal, the ledger line, a carrier resume) is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from simrenew.domain.fleet import Terminal
from simrenew.ports.transfers import LedgerLine

#: A voucher and a terminal as the store holds them: opaque, handed back for the conditional write.
StoredVoucher = TypeVar("StoredVoucher")
StoredTerminal_contra = TypeVar("StoredTerminal_contra", contravariant=True)


@dataclass(frozen=True)
class Voucher:
    tenant_id: str
    batch_id: str
    plan_id: str
    code_id: str  # a prefix of the code's digest: tells two codes of one batch apart in the ledger
    redeemed: bool
    redeemed_sn: str | None
    voided: bool


@dataclass(frozen=True)
class VoucherBatch:
    batch_id: str
    plan_id: str
    size: int
    redeemed: int
    voided: int
    created_at: datetime | None


class Vouchers(Protocol[StoredVoucher, StoredTerminal_contra]):
    def create_batch(
        self, tenant_id: str, batch_id: str, plan_id: str, hashes: Sequence[str], created_by: str, now: datetime
    ) -> None:
        """Store a batch of vouchers for `plan_id`, each by the digest of its code."""
        ...

    def batch_list(self, tenant_id: str) -> list[VoucherBatch]: ...

    def has_batch(self, tenant_id: str, batch_id: str) -> bool: ...

    def voucher(self, digest: str) -> tuple[StoredVoucher, Voucher] | None:
        """The voucher of this code digest (read consistently), with its stored handle."""
        ...

    def void(self, voucher: StoredVoucher, actor: str, now: datetime) -> bool:
        """Void an unredeemed code and count it on its batch; False when a redemption got there first."""
        ...

    def redeem_renewal(
        self,
        voucher: StoredVoucher,
        stored: StoredTerminal_contra,
        terminal: Terminal,
        line: LedgerLine,
        resume: Terminal | None,
        now: datetime,
    ) -> str:
        """Spend the code on the terminal (its new state `terminal`, conditional on the version read),
        with its ledger line and a carrier resume of `resume` when given: "ok", "used" (another
        redemption won) or "terminal_changed" (reload and retry)."""
        ...
