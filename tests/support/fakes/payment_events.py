"""The payment events port in memory: the real adapter (PaymentEventStore, which only turns the
orders repository's items into domain values) over the in-memory orders repository, which here
also records a direct-rail trade on its order (`attach_attempt`) with the trade's global look-up,
in the real items and keys, the order by version, all or nothing."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import OrderItem, PaymentIntentItem
from simrenew.adapters.dynamodb.orders import to_order
from simrenew.adapters.dynamodb.payment_events import PaymentEventStore
from simrenew.domain.orders import PaymentAttempt
from simrenew.errors import TransientStoreError
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.table import Cancelled, FakeTable


class FakePaymentOrderRepository(FakeOrderRepository):
    def attach_attempt(self, item: OrderItem, attempt: PaymentAttempt, now: datetime) -> OrderItem:
        for _attempt in range(8):
            order = to_order(item)
            if order.attempt(attempt.out_trade_no) is not None:
                return item
            order.attempts.append(attempt)
            item.attempts_json = json.dumps([asdict(a) for a in order.attempts], ensure_ascii=False)
            item.updated_at = now
            lookup = PaymentIntentItem(
                keys.payment_intent_pk(attempt.out_trade_no),
                keys.lookup_sk(),
                tenant_id=item.tenant_id,
                order_id=item.order_id,
                created_at=now,
            )
            try:
                with self.table.tx() as tx:
                    tx.save(item)
                    tx.save(lookup)
                return item
            except Cancelled:
                fresh = self.item(item.tenant_id, item.order_id)
                if fresh is None:
                    raise TransientStoreError("the order is gone") from None
                item = fresh
        raise TransientStoreError("the order kept changing; retry")


def fake_payment_events(table: FakeTable) -> PaymentEventStore:
    return PaymentEventStore(FakePaymentOrderRepository(table))
