"""The DynamoDB adapters of the reports port (simrenew.ports.reports): the orders by creation time
(the tenant's order index, gsi1) and the vouchers' redemptions, as domain values."""

from __future__ import annotations

from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import OrderItem
from simrenew.adapters.dynamodb.orders import OrderRepository, to_order
from simrenew.adapters.dynamodb.vouchers import VoucherRepository
from simrenew.ports.reports import ReportedOrder


def reported(item: OrderItem) -> ReportedOrder:
    return ReportedOrder(to_order(item), int(item.amount_fen), item.paid_at, item.paid_via, int(item.paid_fen or 0))


class ReportOrderStore:
    def __init__(self, orders: OrderRepository) -> None:
        self._orders = orders

    def created_between(self, tenant_id: str, lower: str, upper: str) -> list[ReportedOrder]:
        query = OrderItem.gsi1.query(keys.orders_gsi1pk(tenant_id), OrderItem.gsi1sk.between(lower, upper))
        return [reported(i) for i in query if isinstance(i, OrderItem)]

    def by_payment(self, payment_id: str) -> ReportedOrder | None:
        item = self._orders.by_intent(payment_id)
        return reported(item) if item is not None else None


class RedemptionStore:
    def __init__(self, vouchers: VoucherRepository) -> None:
        self._vouchers = vouchers

    def redeemed_at(self, tenant_id: str, start: datetime, end: datetime) -> list[datetime | None]:
        return [v.redeemed_at for v in self._vouchers.redeemed_between(tenant_id, start, end)]
