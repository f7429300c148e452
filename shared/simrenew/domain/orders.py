"""Renewal orders: quotes (price + agent fee), the order state machine, renewal and refund
arithmetic. Pure rules; money is integer fen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from simrenew.domain.dates import add_months, new_expiry, whole_months_between
from simrenew.domain.fleet import Plan, Terminal, TerminalStatus
from simrenew.domain.tenant import ServiceFee
from simrenew.domain.values import json_of

CURRENCY = "CNY"
MAX_LINES = 20  # one fulfilment transaction: 2 items a line + the order + the event
MAX_ORDER_FEN = 1_000_000  # ¥10,000: risk limit on one order
ORDERS_PER_TERMINAL_PER_DAY = 20
PAYMENT_WINDOW_MINUTES = 30
RISK_RENEWALS_PER_DAY = 2  # a third paid renewal within 24 hours is flagged to the agent (风控)


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
UNPAID = frozenset({OrderStatus.PENDING_PAYMENT})  # awaiting its payment: where it fails or expires from


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
        return json_of(
            self,
            *("sn", "plan_id", "plan_name", "term_months", "data_quota_mb", "price_fen", "fee_fen", "total_fen"),
            *("expires_before", "expires_after", "refunded_fen"),
        )


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


REFUND_RESERVED = "reserved"  # amount held on the order; the provider is being asked
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"  # the provider refused or later failed it: the amount is free again


@dataclass
class RefundEntry:
    """One refund of an order: reserved first (so two cannot both pass), then confirmed."""

    refund_id: str
    amount_fen: int
    status: str
    source: str  # agent | stripe (made in the dashboard) | early (refunded before the success arrived)
    created_at: str
    reason: str = ""
    by: str = ""
    provider_refund_id: str | None = None
    months: int = 0  # whole months taken off the terminals

    def to_json(self) -> dict[str, Any]:
        return json_of(
            self,
            *("refund_id", "amount_fen", "status", "source", "reason", "by", "provider_refund_id", "months"),
            "created_at",
        )


@dataclass
class DuplicatePayment:
    """A further successful payment for an order already paid: returned in full, automatically."""

    payment_intent_id: str  # Stripe's PaymentIntent, or the out_trade_no of a direct rail
    amount_fen: int
    currency: str
    status: str  # refunding | refunded
    created_at: str
    provider_refund_id: str | None = None
    provider: str = "stripe"  # stripe | wechatpay | alipay

    def to_json(self) -> dict[str, Any]:
        return json_of(
            self,
            *("provider", "payment_intent_id", "amount_fen", "currency", "status"),
            "provider_refund_id",
            "created_at",
        )


@dataclass
class PaymentAttempt:
    """A trade opened on a direct rail (WeChat Pay, Alipay) for the order: its out_trade_no, and
    the sub-merchant (the agent's sub_mchid, or its Alipay auth_app_id) the money goes to."""

    provider: str
    out_trade_no: str
    kind: str  # native | h5 | jsapi | precreate | wap
    sub_merchant: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return json_of(self, "provider", "out_trade_no", "kind", "sub_merchant", "created_at")


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
    # The money ledger of the order itself (derived totals; every change is a conditional write):
    paid_fen: int = 0  # what the payment that fulfilled it brought in (0 until paid)
    paid_via: str | None = None  # "stripe:<payment intent>" | "cash" | None
    reserved_fen: int = 0  # refunds sent to the provider and not yet confirmed
    refunds: list[RefundEntry] = field(default_factory=list)
    duplicate_payments: list[DuplicatePayment] = field(default_factory=list)
    # What Stripe said before the order was paid (a refund or dispute delivered before the success).
    early_refunded_fen: int = 0
    early_disputed: bool = False
    attempts: list[PaymentAttempt] = field(default_factory=list)  # trades on the direct rails

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
            **json_of(self, "amount_fen", "fee_fen", "currency", "payment", "channel"),
            "lines": [line.to_json() for line in self.lines],
            **json_of(self, "payment_intent_id", "created_at", "expires_at", "paid_at", "fulfilled_at"),
            **json_of(self, "refunded_fen", "paid_fen"),
            "refund_pending_fen": self.reserved_fen,
            "refunds": [r.to_json() for r in self.refunds],
            "duplicate_payments": [d.to_json() for d in self.duplicate_payments],
            "payment_attempts": [a.to_json() for a in self.attempts],
            "audit": self.audit,
        }

    def refundable_fen(self, today: date) -> int:
        """What an agent may refund now: the unused value of the lines, never more than what
        was paid and is not refunded or on its way back already."""
        if self.status not in REFUNDABLE or self.paid_via is None:
            return 0
        left = self.paid_fen - self.refunded_fen - self.reserved_fen
        return max(0, min(left, sum(line_refund(line, today).amount_fen for line in self.lines)))

    def open_refund(self) -> RefundEntry | None:
        return next((r for r in self.refunds if r.status == REFUND_RESERVED), None)

    def duplicate(self, payment_intent_id: str) -> DuplicatePayment | None:
        return next((d for d in self.duplicate_payments if d.payment_intent_id == payment_intent_id), None)

    def attempt(self, out_trade_no: str) -> PaymentAttempt | None:
        return next((a for a in self.attempts if a.out_trade_no == out_trade_no), None)

    @property
    def paid_ref(self) -> tuple[str, str] | None:
        """(provider, reference) of the payment that paid the order: Stripe's PaymentIntent or a
        direct rail's out_trade_no; None for cash or unpaid."""
        if not self.paid_via or ":" not in self.paid_via:
            return None
        provider, ref = self.paid_via.split(":", 1)
        return provider, ref


@dataclass(frozen=True)
class StatusMove:
    """An order's move to `to` when its status is in `allowed`, with an entry for its audit trail and
    the payment event's record (event id, type), written with it once."""

    to: OrderStatus
    allowed: frozenset[OrderStatus]
    audit: dict[str, Any] | None = None
    event: tuple[str, str] | None = None


@dataclass(frozen=True)
class PublicGuards:
    """What a pay-page order is written under, in its one transaction: the tenant's version (and
    status), the terminal `sn` (there, not deactivated), the rate-limit `checks` (refused at their
    limit) and `hits` (counted, refused at their limit), each (bucket, subject, limit, window_s)."""

    tenant_version: int
    sn: str
    checks: Sequence[tuple[str, str, int, int]]
    hits: Sequence[tuple[str, str, int, int]]


@dataclass(frozen=True)
class OpenSlot:
    """Where a pay-page order waits once its PaymentIntent is attached: the terminal (SN, TID) and
    the plan it renews, with the order token and the intent's client secret the next merchant reuses."""

    sn: str
    tid: str
    plan_id: str
    token: str
    client_secret: str


def renewed_expiry(current: date, today: date, term_months: int, basis: str) -> date:
    """docs/domain.md: stack on the current expiry if it is today or later, else from today."""
    return new_expiry(current, today, term_months, basis)


def renewed_terminal(current: Terminal, today: date, terms: OrderLine | Plan, basis: str) -> Terminal:
    """One paid renewal of an order line's or a voucher's plan's terms: new expiry, fresh quota,
    a grace or suspended terminal reactivated. The caller refuses deactivated terminals first."""
    status = current.status
    if status in (TerminalStatus.GRACE, TerminalStatus.SUSPENDED):
        status = TerminalStatus.ACTIVE
    return replace(
        current,
        expires_on=renewed_expiry(current.expires_on, today, terms.term_months, basis),
        status=status,
        data_quota_mb=terms.data_quota_mb,
        data_used_mb=0,
        plan_id=terms.plan_id,
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


@dataclass(frozen=True)
class LineShare:
    index: int
    amount_fen: int
    months: int  # whole months this share takes back (0: a money-only refund)


def allocate_refund(lines: list[OrderLine], amount_fen: int, today: date) -> list[LineShare]:
    """Spread a refund over the order's lines. A share that covers a line's whole unused value
    takes back its unused whole months; a smaller one is money only. What is left after the
    unused value (a refund made in Stripe's dashboard may be larger) is money only, up to each
    line's total: the sum of shares is `amount_fen` as long as it fits what the lines cost."""
    shares: dict[int, list[int]] = {}
    left = amount_fen
    for index, line in enumerate(lines):
        part = line_refund(line, today)
        if left <= 0 or part.amount_fen <= 0:
            continue
        take = min(left, part.amount_fen)
        shares[index] = [take, part.months if take == part.amount_fen else 0]
        left -= take
    for index, line in enumerate(lines):
        if left <= 0:
            break
        room = line.total_fen - line.refunded_fen - (shares.get(index, [0, 0])[0])
        if room > 0:
            take = min(left, room)
            shares.setdefault(index, [0, 0])[0] += take
            left -= take
    return [LineShare(i, amount, months) for i, (amount, months) in sorted(shares.items())]


def note_renewal(terminal: Terminal, now: datetime) -> tuple[Terminal, bool]:
    """Remember a paid renewal; True when it is one more than RISK_RENEWALS_PER_DAY in 24 hours."""
    since = now - timedelta(hours=24)
    recent = [at for at in terminal.renewed_at if datetime.fromisoformat(at.replace("Z", "+00:00")) > since]
    recent.append(now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    flagged = len(recent) > RISK_RENEWALS_PER_DAY
    return (
        replace(
            terminal,
            renewed_at=tuple(recent[-(RISK_RENEWALS_PER_DAY + 1) :]),
            risk_flagged_at=recent[-1] if flagged else terminal.risk_flagged_at,
        ),
        flagged,
    )


def order_event_data(order: Order) -> dict[str, Any]:
    """The `data` of the agent's `order.fulfilled` / `order.refunded` webhook events."""
    return {
        "order_id": order.order_id,
        "amount_fen": order.amount_fen,
        "currency": order.currency,
        "status": order.status.value,
        "paid_fen": order.paid_fen,
        "refunded_fen": order.refunded_fen,
        "duplicate_payments": [d.to_json() for d in order.duplicate_payments],
        "lines": [line.to_json() for line in order.lines],
    }
