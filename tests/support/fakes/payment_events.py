"""The payment events port in memory: the real adapter (PaymentEventStore, which only turns the
orders repository's items into domain values) over the in-memory orders repository, whose writes
(a direct-rail trade on its order with the trade's global look-up, `attach_attempt`, among them)
are the real repository's over one FakeTable transaction: the real items and keys, the order by
version, all or nothing."""

from __future__ import annotations

from simrenew.adapters.dynamodb.payment_events import PaymentEventStore
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.table import FakeTable


def fake_payment_events(table: FakeTable) -> PaymentEventStore:
    return PaymentEventStore(FakeOrderRepository(table))
