"""The vouchers port: prepaid renewal codes (stored by digest only), in domain terms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class Vouchers(Protocol):
    def create_batch(
        self, tenant_id: str, batch_id: str, plan_id: str, hashes: Sequence[str], created_by: str, now: datetime
    ) -> None:
        """Store a batch of vouchers for `plan_id`, each by the digest of its code."""
        ...
