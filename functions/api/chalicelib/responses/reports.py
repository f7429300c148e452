"""Answers of the report routes: revenue, settlement, reconciliation, expiring, the dashboard and the
notifications sent."""

from __future__ import annotations

from pydantic import Field

from chalicelib.responses._base import (
    NotificationChannel,
    NotificationState,
    Out,
    Page,
    PaymentProvider,
    TerminalStatus,
    absent,
)


class RevenueTotals(Out):
    gross_fen: int
    fees_fen: int
    refunds_fen: int
    net_fen: int
    orders: int


class RevenueDay(RevenueTotals):
    date: str


class RevenueReport(Out):
    from_: str = Field(alias="from")
    to: str
    currency: str
    days: list[RevenueDay]
    totals: RevenueTotals


class SettlementTotals(Out):
    orders: int
    collected_fen: int
    service_fee_fen: int
    refunds_fen: int
    stripe_fees_fen: int
    platform_fee_fen: int
    payable_fen: int
    cash_fen: int
    cash_refunds_fen: int
    voucher_count: int
    direct_fen: int
    direct_refunds_fen: int
    direct_fees_fen: int


class SettlementDay(SettlementTotals):
    date: str


class SettlementReport(Out):
    from_: str = Field(alias="from")
    to: str
    currency: str
    timezone: str
    settles_via: str  # stripe_connected_account | platform_payout
    days: list[SettlementDay]
    totals: SettlementTotals


class ReconciliationRow(Out):
    """A charge or refund on one side (Stripe's balance, a rail's trade bill, our orders) and whether the
    other side agrees; `reason` says why not."""

    kind: str
    amount_fen: int
    order_id: str | None
    provider: PaymentProvider = absent()
    balance_transaction: str | None = None
    fee_fen: int = absent()
    payment_intent_id: str | None = None
    out_trade_no: str = absent()
    out_refund_no: str = absent()
    reason: str = absent()


class ReconciliationSummary(Out):
    matched: int
    unmatched_stripe: int
    unmatched_bill: int
    unmatched_orders: int
    stripe_fees_fen: int
    direct_fees_fen: int


class ReconciliationReport(Out):
    date: str
    matched: list[ReconciliationRow]
    unmatched_stripe: list[ReconciliationRow]
    unmatched_bill: list[ReconciliationRow]
    unmatched_orders: list[ReconciliationRow]
    summary: ReconciliationSummary


class WeekCount(Out):
    week_start: str
    count: int


class ExpiringTerminal(Out):
    sn: str
    tid: str
    merchant_id: str | None
    merchant_name: str | None
    merchant_phone: str | None
    status: TerminalStatus
    expires_on: str
    days_left: int


class ExpiringReport(Out):
    days: int
    today: str
    total: int
    per_week: list[WeekCount]
    items: list[ExpiringTerminal]
    truncated: bool


class DashboardCounts(Out):
    active: int
    grace: int
    suspended: int
    inventory: int
    deactivated: int
    expiring_7: int
    expiring_30: int


class DashboardRevenue(RevenueTotals):
    from_: str = Field(alias="from")
    to: str


class Dashboard(Out):
    today: str
    currency: str
    counts: DashboardCounts
    revenue_month: DashboardRevenue
    per_week: list[WeekCount]


class Notification(Out):
    """A reminder, receipt or notice sent about a terminal."""

    # A NotificationTemplate; a reminder carries its days before expiry ("reminder_7", the console
    # shows it as "reminder"), so the field is a plain string.
    template: str
    channel: NotificationChannel
    recipient: str | None
    state: NotificationState
    term: str | None
    created_at: str | None
    dedupe_key: str


class NotificationPage(Page[Notification]):
    pass


MODELS: list[type[Out]] = [RevenueTotals, RevenueDay, RevenueReport, SettlementTotals, SettlementDay]
MODELS += [SettlementReport, ReconciliationRow, ReconciliationSummary, ReconciliationReport, WeekCount]
MODELS += [ExpiringTerminal, ExpiringReport, DashboardCounts, DashboardRevenue, Dashboard, Notification]
MODELS += [NotificationPage]
