"""Renewal orders: quotes (price + agent fee), the order state machine, renewal and refund
arithmetic. Pure rules; money is integer fen."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from simrenew.domain.dates import add_months, new_expiry, whole_months_between
from simrenew.domain.fleet import Plan, Terminal, TerminalStatus
from simrenew.domain.tenant import ServiceFee

CURRENCY = "CNY"
MAX_LINES = 20  # one fulfilment transaction: 2 items a line + the order + the event
MAX_ORDER_FEN = 1_000_000  # ¥10,000: risk limit on one order
ORDERS_PER_TERMINAL_PER_DAY = 20
PAYMENT_WINDOW_MINUTES = 30


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    NEEDS_REVIEW = "needs_review"


# A payment that really arrived is honoured from any unpaid state (a late webhook after
# the 30-minute expiry still renews: the merchant paid).
PAYABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.PAID})
REFUNDABLE = frozenset({OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED})


@dataclass
class OrderLine:
    sn: str
    plan_id: str
    plan_name: str
    term_months: int
    data_quota_mb: int
    price_fen: int
    fee_fen: int
    expires_before: str | None = None  # filled at fulfilment
    expires_after: str | None = None
    refunded_fen: int = 0
    refunded_months: int = 0

    @property
    def total_fen(self) -> int:
        return self.price_fen + self.fee_fen

    def to_json(self) -> dict[str, Any]:
        return {
            "sn": self.sn,
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "term_months": self.term_months,
            "data_quota_mb": self.data_quota_mb,
            "price_fen": self.price_fen,
            "fee_fen": self.fee_fen,
            "total_fen": self.total_fen,
            "expires_before": self.expires_before,
            "expires_after": self.expires_after,
            "refunded_fen": self.refunded_fen,
        }


def quote_line(sn: str, plan: Plan, fee: ServiceFee) -> OrderLine:
    return OrderLine(
        sn=sn,
        plan_id=plan.plan_id,
        plan_name=plan.name,
        term_months=plan.term_months,
        data_quota_mb=plan.data_quota_mb,
        price_fen=plan.price_fen,
        fee_fen=fee.fee_fen(plan.price_fen),
    )


@dataclass
class Order:
    order_id: str
    tenant_id: str
    status: OrderStatus
    lines: list[OrderLine]
    payment: str  # online | offline | voucher
    channel: str  # agent | public
    created_at: str
    expires_at: str
    currency: str = CURRENCY
    payment_intent_id: str | None = None
    paid_at: str | None = None
    fulfilled_at: str | None = None
    refunded_fen: int = 0
    audit: list[dict[str, Any]] = field(default_factory=list)
    version: int | None = None

    @property
    def amount_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)

    @property
    def fee_fen(self) -> int:
        return sum(line.fee_fen for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "amount_fen": self.amount_fen,
            "fee_fen": self.fee_fen,
            "currency": self.currency,
            "payment": self.payment,
            "channel": self.channel,
            "lines": [line.to_json() for line in self.lines],
            "payment_intent_id": self.payment_intent_id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "paid_at": self.paid_at,
            "fulfilled_at": self.fulfilled_at,
            "refunded_fen": self.refunded_fen,
            "audit": self.audit,
        }


def renewed_expiry(current: date, today: date, term_months: int, basis: str) -> date:
    """DOMAIN.md: stack on the current expiry if it is today or later, else from today."""
    return new_expiry(current, today, term_months, basis)


def renewed_terminal(
    current: Terminal, today: date, *, term_months: int, data_quota_mb: int, plan_id: str, basis: str
) -> Terminal:
    """One paid renewal (order line or voucher): new expiry, fresh quota, a grace or
    suspended terminal reactivated. The caller refuses deactivated terminals first."""
    status = current.status
    if status in (TerminalStatus.GRACE, TerminalStatus.SUSPENDED):
        status = TerminalStatus.ACTIVE
    return replace(
        current,
        expires_on=renewed_expiry(current.expires_on, today, term_months, basis),
        status=status,
        data_quota_mb=data_quota_mb,
        data_used_mb=0,
        plan_id=plan_id,
    )


@dataclass(frozen=True)
class LineRefund:
    amount_fen: int
    months: int  # whole months taken off the terminal's expiry


def line_refund(line: OrderLine, today: date) -> LineRefund:
    """Full before the renewed term starts; else pro rata for unused whole months."""
    if line.expires_before is None or line.expires_after is None:
        return LineRefund(0, 0)
    remaining_months = line.term_months - line.refunded_months
    start = date.fromisoformat(line.expires_before)
    end = date.fromisoformat(line.expires_after)
    if today < start:
        return LineRefund(line.total_fen - line.refunded_fen, remaining_months)
    unused = min(whole_months_between(today, end), remaining_months)
    amount = line.price_fen * unused // line.term_months
    return LineRefund(min(amount, line.total_fen - line.refunded_fen), unused)


def expiry_after_refund(current: date, months: int) -> date:
    return add_months(current, -months)


def expiry_after_line_refund(line: OrderLine, current: date, today: date, months: int) -> date:
    """The terminal's expiry once `months` of `line` are refunded.

    A full refund before the renewed term starts puts back exactly the expiry the renewal replaced,
    as long as nothing moved it since: moving back by whole months would lose days at month end
    (Jan 31 + 1 month = Feb 28, and Feb 28 - 1 month = Jan 28). Otherwise the expiry moves back by
    the refunded months.
    """
    if line.expires_before is not None and line.expires_after is not None:
        before, after = date.fromisoformat(line.expires_before), date.fromisoformat(line.expires_after)
        whole = months == line.term_months - line.refunded_months
        if whole and today < before and current == after:
            return before
    return expiry_after_refund(current, months)
