"""Answers of the order routes: orders with their lines, refunds and audit trail, the ledger, vouchers."""

from __future__ import annotations

from chalicelib.responses._base import (
    AuditAction,
    LedgerKind,
    OrderChannel,
    OrderStatus,
    Out,
    Page,
    PaymentAttemptKind,
    PaymentProvider,
    RefundStatus,
    absent,
)


class OrderLine(Out):
    sn: str
    plan_id: str
    plan_name: str
    term_months: int
    data_quota_mb: int
    price_fen: int
    fee_fen: int
    total_fen: int
    expires_before: str | None
    expires_after: str | None
    refunded_fen: int


class Refund(Out):
    refund_id: str
    amount_fen: int
    status: RefundStatus
    source: str
    reason: str
    by: str
    provider_refund_id: str | None
    months: int
    created_at: str


class DuplicatePayment(Out):
    """A further payment for an order already paid: returned in full, automatically."""

    provider: PaymentProvider
    payment_intent_id: str
    amount_fen: int
    currency: str
    status: str
    provider_refund_id: str | None
    created_at: str


class PaymentAttempt(Out):
    """A trade opened on a direct rail (WeChat Pay, Alipay) for the order."""

    provider: PaymentProvider
    out_trade_no: str
    kind: PaymentAttemptKind
    sub_merchant: str
    created_at: str


class AuditEntry(Out):
    """One line of an order's audit trail: what happened, when, and what it names."""

    action: AuditAction
    at: str
    by: str = absent()
    via: str = absent()
    event: str = absent()
    note: str = absent()
    reason: str = absent()
    amount_fen: int = absent()
    refund_id: str = absent()
    payment_intent_id: str = absent()
    duplicate_event: bool = absent()
    ok: bool = absent()
    paid_at: str = absent()


class Payment(Out):
    """How to pay an order: a Stripe PaymentIntent, or a trade on the agent's WeChat Pay / Alipay."""

    method: str = absent()
    client_secret: str = absent()
    publishable_key: str = absent()
    payment_intent_id: str = absent()
    stripe_js_url: str = absent()
    provider: PaymentProvider = absent()
    out_trade_no: str = absent()
    kind: PaymentAttemptKind = absent()
    code_url: str = absent()
    h5_url: str = absent()
    jsapi: dict[str, str] = absent()  # WeixinJSBridge getBrandWCPayRequest's parameters
    qr_svg: str = absent()


class _OrderFields(Out):
    order_id: str
    status: OrderStatus
    amount_fen: int
    fee_fen: int
    currency: str
    channel: OrderChannel
    lines: list[OrderLine]
    payment_intent_id: str | None
    created_at: str
    expires_at: str
    paid_at: str | None
    fulfilled_at: str | None
    refunded_fen: int
    paid_fen: int
    refund_pending_fen: int
    refunds: list[Refund]
    duplicate_payments: list[DuplicatePayment]
    payment_attempts: list[PaymentAttempt]
    audit: list[AuditEntry]


class Order(_OrderFields):
    payment: str  # online | offline | voucher


class OrderPage(Page[Order]):
    total: int | None


class OrderDetail(Order):
    """One order as the agent sees it, with what can be refunded today."""

    refundable_fen: int


class CreatedOrder(_OrderFields):
    """A new order: `payment` is "offline", or for an online one how to pay it."""

    payment: str | Payment


class RenewalRecord(Out):
    """One line of a terminal's renewal ledger (充值记录)."""

    kind: LedgerKind
    source: str  # the order or voucher batch (or the change) it came from
    old_expires_on: str
    new_expires_on: str
    amount_fen: int
    term_months: int
    by: str | None
    note: str | None
    created_at: str | None


class RenewalPage(Page[RenewalRecord]):
    pass


class VoucherBatchCreated(Out):
    batch_id: str
    plan_id: str
    count: int
    codes: list[str] | None
    created_at: str


class VoucherBatch(Out):
    batch_id: str
    plan_id: str
    count: int
    redeemed: int
    voided: int
    available: int
    created_at: str | None


class VoucherBatchPage(Page[VoucherBatch]):
    pass


class VoucherVoided(Out):
    batch_id: str
    code_status: str
    batch: VoucherBatch


MODELS: list[type[Out]] = [OrderLine, Refund, DuplicatePayment, PaymentAttempt, AuditEntry, Payment, Order]
MODELS += [
    OrderPage,
    OrderDetail,
    CreatedOrder,
    RenewalRecord,
    RenewalPage,
    VoucherBatchCreated,
    VoucherBatch,
    VoucherBatchPage,
]
MODELS += [VoucherVoided]
