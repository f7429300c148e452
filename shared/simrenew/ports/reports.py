"""The reports port: the agent's orders as the money reports read them (revenue, settlement,
reconciliation), and when its vouchers were redeemed. Read only; domain values only. The DynamoDB
adapters are simrenew.adapters.dynamodb.reports (over OrderRepository and VoucherRepository)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from simrenew.domain.orders import Order


@dataclass(frozen=True)
class ReportedOrder:
    """An order with what the reports read as stored: the amount it charged, when it was paid, by
    what and how much (`paid_via`, `paid_fen` as recorded: None and 0 for an order fulfilled before
    orders kept their money ledger)."""

    order: Order
    amount_fen: int
    paid_at: datetime | None
    paid_via: str | None
    paid_fen: int

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def tenant_id(self) -> str:
        return self.order.tenant_id

    @property
    def payment(self) -> str:
        return self.order.payment

    @property
    def payment_intent_id(self) -> str | None:
        return self.order.payment_intent_id

    @property
    def status(self) -> str:
        return self.order.status.value

    @property
    def refunded_fen(self) -> int:
        return self.order.refunded_fen

    @property
    def audit(self) -> list[dict[str, Any]]:
        return self.order.audit


class ReportOrders(Protocol):
    def created_between(self, tenant_id: str, lower: str, upper: str) -> list[ReportedOrder]:
        """The agent's orders created in [lower, upper] (ISO UTC instants, both ends included)."""
        ...

    def by_payment(self, payment_id: str) -> ReportedOrder | None:
        """The order of a PaymentIntent or a direct-rail trade (out_trade_no), any agent's."""
        ...


class Redemptions(Protocol):
    def redeemed_at(self, tenant_id: str, start: datetime, end: datetime) -> list[datetime | None]:
        """When each of the agent's vouchers redeemed in [start, end) was redeemed."""
        ...
