"""Answers of the public routes (the merchant's pay page): the look-up, public orders, vouchers."""

from __future__ import annotations

from chalicelib.responses._base import Carrier, OrderStatus, Out, PaymentMethod, TerminalStatus
from chalicelib.responses.orders import OrderLine, Payment


class PublicPlan(Out):
    plan_id: str
    plan_name: str
    name: str
    term_months: int
    data_quota_mb: int
    price_fen: int
    fee_fen: int
    total_fen: int
    new_expires_on: str


class PublicTerminal(Out):
    """A terminal as the pay page shows it: the merchant's name masked, the plans with their fees."""

    sn: str
    tid: str
    carrier: Carrier
    model: str
    status: TerminalStatus
    expires_on: str
    days_left: int
    data_quota_mb: int | None
    data_used_mb: int
    merchant_name_masked: str | None
    agent_name: str
    agent_phone: str | None
    renewable: bool
    last_renewed_at: str | None
    renewed_minutes_ago: int | None
    plans: list[PublicPlan]
    payment_methods: list[PaymentMethod]
    direct_methods: list[PaymentMethod]
    wechat_oauth_url: str | None
    currency: str


class PublicOrder(Out):
    order_id: str
    order_token: str | None
    amount_fen: int
    currency: str
    status: OrderStatus
    payment: Payment
    lines: list[OrderLine]


class PublicOrderStatus(Out):
    order_id: str
    status: OrderStatus
    amount_fen: int
    sn: str
    expires_on_before: str | None
    expires_on_after: str | None


class PublicPaymentConfirmed(Out):
    order_id: str
    payment_status: str


class VoucherRedeemed(Out):
    status: str
    sn: str
    expires_on: str
    plan_name: str


MODELS = [PublicPlan, PublicTerminal, PublicOrder, PublicOrderStatus, PublicPaymentConfirmed, VoucherRedeemed]
