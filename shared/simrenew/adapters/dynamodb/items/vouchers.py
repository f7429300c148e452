"""Vouchers: batches of prepaid codes and each code, keyed by its hash."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, TenantOwned


class VoucherBatchOf(TenantOwned):
    """A batch and each of its codes: the tenant's batch id and the plan a code renews."""

    batch_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()


class VoucherBatchItem(VoucherBatchOf, Item, discriminator="voucher_batch"):
    """A batch of prepaid voucher codes for one plan.

    Key: PK `TENANT#<tenant_id>`, SK `VBATCH#<batch_id>`.
    """

    size = NumberAttribute()
    created_by = UnicodeAttribute()
    # Changed in the same transaction as the code they count (ADD), so they cannot drift.
    redeemed_count = NumberAttribute(default=0)
    voided_count = NumberAttribute(default=0)


class VoucherItem(VoucherBatchOf, Item, discriminator="voucher"):
    """One voucher, global and keyed by the code's hash (codes are shown once and never stored).

    Key: PK `VOUCHER#<code_hash>`, SK `VOUCHER`.
    Index gsi1 `TENANT#<tenant_id>#VOUCHERS_REDEEMED` / `<redeemed_at>#<sn>`: redemptions by time (sparse).
    """

    redeemed = BooleanAttribute(default=False)
    redeemed_sn = UnicodeAttribute(null=True)
    redeemed_at = UTCDateTimeAttribute(null=True)
    voided_at = UTCDateTimeAttribute(null=True)  # a voided code is never redeemable
    voided_by = UnicodeAttribute(null=True)
