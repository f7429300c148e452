"""Answers of the fleet routes: merchants, plans, terminals and their transfers."""

from __future__ import annotations

from pydantic import Field

from chalicelib.responses._base import Carrier, MerchantStatus, Out, Page, TerminalStatus
from chalicelib.responses.carrier import CarrierState


class Merchant(Out):
    merchant_id: str
    name: str
    contact_name: str | None
    phone: str  # masked (138****5678) for a readonly key in lists
    email: str | None
    status: MerchantStatus
    created_at: str


class MerchantPage(Page[Merchant]):
    total: int | None


class Plan(Out):
    plan_id: str
    name: str
    term_months: int
    data_quota_mb: int
    price_fen: int
    currency: str
    active: bool
    created_at: str


class PlanPage(Page[Plan]):
    pass


class MerchantCard(Out):
    """Who a terminal's merchant is, on each row of the fleet list."""

    merchant_id: str
    name: str
    phone: str


class Terminal(Out):
    sn: str
    tid: str
    iccid: str
    carrier: Carrier
    model: str
    merchant_id: str | None
    plan_id: str | None
    expires_on: str
    days_left: int
    status: TerminalStatus
    expiring: bool
    data_quota_mb: int | None
    data_used_mb: int
    usage_as_of: str | None
    last_renewed_at: str | None
    risk_flagged_at: str | None
    pay_url: str
    created_at: str
    updated_at: str
    carrier_state: CarrierState | None = None
    merchant: MerchantCard | None = None  # on the fleet list's rows (and a reactivation's answer)


class TerminalPage(Page[Terminal]):
    total: int | None = None


class TerminalUsage(Terminal):
    """A terminal after a usage reading, with the quota alerts it raised."""

    alerts: list[str]


class TransferCode(Out):
    sn: str
    code: str
    expires_at: str


class TransferSide(Out):
    sn: str
    expires_on_before: str
    expires_on_after: str


class TimeTransfer(Out):
    """Whole months moved from one terminal to another of the same agent (转赠)."""

    transfer_id: str
    months: int
    reason: str
    created_at: str
    from_: TransferSide = Field(alias="from")
    to: TransferSide


MODELS = [Merchant, MerchantPage, Plan, PlanPage, MerchantCard, Terminal, TerminalPage, TerminalUsage, TransferCode]
MODELS += [TransferSide, TimeTransfer]
