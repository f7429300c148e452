"""The reports port in memory: the orders by creation time on the tenant's order index (gsi1,
both ends included, as DynamoDB's `between`) and by payment, built by the real adapter's `reported`;
the redemptions are the real adapter over the in-memory vouchers."""

from __future__ import annotations

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import OrderItem
from simrenew.adapters.dynamodb.reports import RedemptionStore, reported
from simrenew.ports.reports import ReportedOrder
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.table import FakeTable
from tests.support.fakes.vouchers import FakeVoucherRepository


class FakeReportOrders:
    def __init__(self, table: FakeTable) -> None:
        self.table = table
        self._orders = FakeOrderRepository(table)

    def created_between(self, tenant_id: str, lower: str, upper: str) -> list[ReportedOrder]:
        found = self.table.index(OrderItem, "gsi1pk", keys.orders_gsi1pk(tenant_id), "gsi1sk")
        return [reported(i) for i in found if lower <= (i.gsi1sk or "") <= upper]

    def by_payment(self, payment_id: str) -> ReportedOrder | None:
        item = self._orders.by_intent(payment_id)
        return reported(item) if item is not None else None


def fake_redemptions(table: FakeTable) -> RedemptionStore:
    return RedemptionStore(FakeVoucherRepository(table))
