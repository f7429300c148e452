"""Calendar rules for renewals and refunds: month arithmetic clamped at month end, the renewal basis,
the new expiry date, strict date parsing (and the lenient forms spreadsheets write, for imports) and
whole months between two dates."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from enum import StrEnum

from simrenew.errors import ValidationError

_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RenewalBasis(StrEnum):
    """Tenant setting `renewal_basis`."""

    STACK = "stack"  # from the current expiry when it is not past: renewing early loses nothing
    FROM_PAYMENT = "from_payment"  # always from the payment date


def add_months(d: date, months: int) -> date:
    """`d` moved by whole calendar months (negative allowed), clamped at month end: Jan 31 + 1 = Feb 28/29.

    Raises ValueError when the result falls outside years 1-9999.
    """
    month_index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{d.isoformat()} moved by {months} months is outside the supported years")
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def renewal_basis(current_expires_on: date | None, payment_date: date, basis: str) -> date:
    """The date a renewal's term starts from.

    "stack": the current expiry when it is the payment date or later, else the payment date;
    "from_payment": the payment date. Any other basis is a programming error (ValueError).
    """
    if basis == RenewalBasis.STACK:
        if current_expires_on is not None and current_expires_on >= payment_date:
            return current_expires_on
        return payment_date
    if basis == RenewalBasis.FROM_PAYMENT:
        return payment_date
    raise ValueError(f"unknown renewal basis {basis!r}")


def new_expiry(current_expires_on: date | None, payment_date: date, term_months: int, basis: str) -> date:
    """The expiry after renewing for `term_months` (at least 1) on `payment_date`."""
    # A zero or negative term would let a "renewal" shorten a paid-up expiry; refunds use add_months.
    if term_months < 1:
        raise ValueError(f"a renewal term must be at least 1 month, got {term_months}")
    return add_months(renewal_basis(current_expires_on, payment_date, basis), term_months)


def parse_date(raw: object, field: str) -> date:
    """A calendar date from a strict "YYYY-MM-DD" string (surrounding spaces allowed)."""
    invalid = ValidationError(field, "invalid_date", f"{field} must be a date written as YYYY-MM-DD")
    if not isinstance(raw, str):
        raise invalid
    value = raw.strip()
    # date.fromisoformat alone would also accept "20250131" and week dates; the API promises one form.
    if not _ISO_DATE_RE.fullmatch(value):
        raise invalid
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "invalid_date", f"{field} is not a real calendar date") from None


def whole_months_between(start: date, end: date) -> int:
    """The largest m with add_months(start, m) <= end; 0 when end <= start. Used for pro-rata refunds."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    # The month count lands in end's month; one fewer when start's day of month is not reached yet.
    if add_months(start, months) > end:
        months -= 1
    return months


# --- dates as spreadsheets write them (fleet imports) --------------------------------------------
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Excel's day 0 is 1899-12-30 for every serial after 1900-02-28 (its fictitious 1900-02-29 is day 60).
_EXCEL_EPOCH = date(1899, 12, 30)
# Serials of 2000-01-01 .. 2100-12-31 (wider than the import's expiry range so it reports out_of_range).
_EXCEL_SERIALS = range(61, 2958466)
_SHEET_DATE_RES = (
    # 2027-01-05, 2027/1/5, 2027.1.5 (the separator must repeat), with an optional time Excel adds
    re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?:[ T][0-9:.]+)?"),
    # 2027年1月5日 (Chinese Excel's long date), optionally with a time after it
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日?(?:\s*[0-9:.]+)?"),
    # 20270105, as many Chinese back-office systems export it
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
)
# A date-time serial carries the time as a fraction of the day: 46392.5 is noon of 2027-01-05.
_EXCEL_SERIAL_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?")
SHEET_DATE_FORMATS = "2027-01-05, 2027/1/5, 2027.1.5, 2027年1月5日, 20270105 or an Excel date serial"


def parse_sheet_date(raw: str, field: str) -> date:
    """A date cell from a spreadsheet export: ISO, slashes or dots (year first, as Chinese Excel writes
    them), 年月日, YYYYMMDD, or an Excel serial number (a date cell exported as a plain number).

    Day-first and month-first forms (5/1/2027) are refused rather than guessed: 1/5 would be read as
    January by some and May by others, and an expiry a few months off is worse than a clear error.
    """
    # Full-width digits and slashes (２０２７／１／５) as a Chinese IME types them; see identifiers.halfwidth.
    value = raw.translate(_HALFWIDTH).strip() if isinstance(raw, str) else ""
    invalid = ValidationError(field, "invalid_date", f"{field} must be a date such as {SHEET_DATE_FORMATS}")
    if not value:
        raise ValidationError(field, "required", f"{field} is required")
    if _EXCEL_SERIAL_RE.fullmatch(value):
        serial = int(value.split(".")[0])
        if serial not in _EXCEL_SERIALS:
            raise invalid
        return _EXCEL_EPOCH + timedelta(days=serial)
    for pattern in _SHEET_DATE_RES:
        match = pattern.fullmatch(value)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValidationError(field, "invalid_date", f"{field} is not a real calendar date") from None
    raise invalid
