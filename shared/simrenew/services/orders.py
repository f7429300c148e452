"""Renewal orders, one name for the routes: checkout (look-up, orders, expiry), fulfilment
(paid orders, offline payment), refunds, Stripe events and the ledger each live in their own
module; this facade wires them over the same repositories and gateway."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any

from simrenew.clock import Clock, today_in
from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import Order
from simrenew.domain.tenant import Tenant
from simrenew.ports.orders import StoredOrders
from simrenew.ports.paging import Page
from simrenew.ports.payments import Rails
from simrenew.ports.tenants import Tenants
from simrenew.services.checkout import CheckoutService
from simrenew.services.direct_payments import DirectPaymentService
from simrenew.services.fulfilment import FulfilmentService
from simrenew.services.ledger import LedgerService
from simrenew.services.refunds import RefundService
from simrenew.services.stripe_events import StripeEventService


@dataclass(eq=False, repr=False)
class OrderService:
    """The parts are wired over the same repositories and gateway by the composition root
    (simrenew.bootstrap.order_service)."""

    _tenants: Tenants
    orders: StoredOrders[Any]
    rails: Rails
    _clock: Clock
    _: KW_ONLY
    checkout: CheckoutService[Any]
    # Agent events (order.fulfilled, order.refunded, terminal.risk_flagged) are outbox items written
    # in the same transaction as the change; the dispatcher delivers them.
    fulfilment: FulfilmentService
    refunds: RefundService
    stripe_events: StripeEventService[Any, Any]
    # WeChat Pay (服务商) and Alipay (ISV): the agent is the sub-merchant, the money settles to it.
    direct: DirectPaymentService[Any, Any]
    ledger: LedgerService

    def __post_init__(self) -> None:
        self.checkout.direct = self.direct

    def answer(self, order: Order) -> dict[str, Any]:
        """An order as the API shows it, with what can be refunded today."""
        tenant = self._tenants.get(order.tenant_id)
        today = today_in(self._clock, tenant.settings.timezone) if tenant else self._clock.now().date()
        return {**order.to_json(), "refundable_fen": order.refundable_fen(today)}

    # --- checkout ---------------------------------------------------------------------------------------
    def find_public(self, sn_or_tid: str) -> tuple[Tenant, Terminal]:
        return self.checkout.find_public(sn_or_tid)

    def public_lookup(self, sn_or_tid: str, client_id: str) -> dict[str, Any]:
        return self.checkout.public_lookup(sn_or_tid, client_id)

    def create(self, tenant_id: str, body: dict[str, Any], *, actor: str) -> tuple[Order, dict[str, Any] | None]:
        return self.checkout.create(tenant_id, body, actor=actor)

    def public_create(
        self, body: dict[str, Any], client_id: str, client_ip: str = "127.0.0.1"
    ) -> tuple[Order, dict[str, Any], str]:
        return self.checkout.public_create(body, client_id, client_ip)

    def get(self, tenant_id: str, order_id: str) -> Order:
        return self.checkout.get(tenant_id, order_id)

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        return self.checkout.page(tenant_id, status, limit, cursor)

    def public_status(self, order_id: str, token: str | None, check: bool = False) -> dict[str, Any]:
        return self.checkout.public_status(order_id, token, check)

    def public_confirm(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.checkout.public_confirm(order_id, body)

    def expire_due(self, limit: int = 500) -> int:
        return self.checkout.expire_due(limit)

    # --- payment, refunds, events, ledger ---------------------------------------------------------------
    def mark_paid(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        from simrenew.errors import Conflict

        if self.direct.paid_online_meanwhile(tenant_id, order_id):
            # Paid on WeChat Pay / Alipay meanwhile (its trade is applied now): take no cash.
            raise Conflict(
                "this order has just been paid online; it is fulfilled by that payment, take no cash",
                code="order_paid_online",
            )
        return self.fulfilment.mark_paid(tenant_id, order_id, body, actor)

    def refund(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        return self.refunds.refund(tenant_id, order_id, body, actor)

    def handle_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        return self.stripe_events.handle(payload, signature)

    def handle_direct_webhook(self, rail: str, headers: dict[str, str], payload: bytes) -> dict[str, Any]:
        """POST /webhooks/wechatpay and /webhooks/alipay: verified, applied once."""
        return self.direct.handle(rail, headers, payload)

    def renewals(self, tenant_id: str, sn: str) -> list[dict[str, Any]]:
        return self.ledger.renewals(tenant_id, sn)
