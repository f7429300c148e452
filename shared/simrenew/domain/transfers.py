"""转赠: moving whole unused months of SIM time from one terminal to another of the same agent.

Pure rules: the request's fields, how many whole months a terminal can give away, and both
terminals after the move. Dates are tenant-local; months are calendar months clamped at month
end (domain/dates.py), the same arithmetic as renewals and refunds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from simrenew.domain.dates import add_months, renewal_basis, whole_months_between
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.identifiers import normalize_sn
from simrenew.errors import RuleViolation, ValidationError

MIN_MONTHS = 1
MAX_MONTHS = 36  # the longest plan term
MAX_REASON = 500
OUT, IN = "transfer_out", "transfer_in"  # ledger line kinds
EVENT_OUT, EVENT_IN = "time_transfer_out", "time_transfer_in"  # merchant notices


@dataclass(frozen=True)
class TransferRequest:
    to_sn: str
    months: int
    reason: str


def transfer_request(body: dict[str, Any]) -> TransferRequest:
    """The validated body of POST /v1/terminals/{sn}/transfer-time (400 naming the field)."""
    raw_to = body.get("to_sn")
    if not isinstance(raw_to, str) or not raw_to.strip():
        raise ValidationError("to_sn", "required", "to_sn is required: the SN of the terminal receiving the time")
    try:
        to_sn = normalize_sn(raw_to)
    except ValidationError as err:
        raise ValidationError("to_sn", err.code, f"to_sn: {err.message}") from None
    months = body.get("months")
    # bool is an int subclass and 2.0 is not a whole number of months here: both refused.
    if isinstance(months, bool) or not isinstance(months, int) or not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationError(
            "months", "invalid_months", f"months must be a whole number from {MIN_MONTHS} to {MAX_MONTHS}"
        )
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > MAX_REASON:
        raise ValidationError("reason", "required", f"reason is required (up to {MAX_REASON} characters)")
    return TransferRequest(to_sn, months, reason.strip())


def transferable_months(expires_on: date, today: date) -> int:
    """Whole unused months a terminal can give: the most m such that m whole months fit between
    today and its expiry and the expiry moved back by m (clamped at month end) is not before today.
    A terminal that expired (grace, suspended) has none."""
    months = whole_months_between(today, expires_on)
    while months > 0 and add_months(expires_on, -months) < today:
        months -= 1  # month-end clamping: Feb 28 - 1 month is Jan 28, before a Jan 31 today
    return months


@dataclass(frozen=True)
class TransferPlan:
    source: Terminal  # after the move
    target: Terminal
    source_before: date
    target_before: date


def plan_transfer(source: Terminal, target: Terminal, months: int, today: date) -> TransferPlan:
    """Both terminals after moving `months` from source to target, or RuleViolation (422)."""
    for terminal in (source, target):
        if terminal.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation(
                f"terminal {terminal.sn} is deactivated: no time moves from or to it", code="terminal_deactivated"
            )
    left = transferable_months(source.expires_on, today)
    if months > left:
        raise RuleViolation(
            f"terminal {source.sn} has {left} whole unused month(s) left; at most {left} can be transferred",
            code="not_enough_time",
        )
    # Like a renewal: on top of the current expiry when it is today or later, else from today.
    target_expiry = add_months(renewal_basis(target.expires_on, today, "stack"), months)
    status = target.status
    if status in (TerminalStatus.GRACE, TerminalStatus.SUSPENDED):
        status = TerminalStatus.ACTIVE  # paid-up time again, as after a renewal
    return TransferPlan(
        source=replace(source, expires_on=add_months(source.expires_on, -months)),
        target=replace(target, expires_on=target_expiry, status=status),
        source_before=source.expires_on,
        target_before=target.expires_on,
    )
