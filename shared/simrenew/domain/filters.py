"""The filters of each list (terminals, merchants, orders) as one value each: parsed and validated
once (a bad value is a 400 naming its parameter), whether they come from a query string, a CSV
export or an asynchronous export's `filters`, so every way of reading a list reads the same rows.

Search text is normalised here too (full-width to half-width, case folded, spaces dropped), the
same way for what is stored in the search index and for what an agent types.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from simrenew.domain.dates import parse_date
from simrenew.domain.fleet import LIST_STATUSES
from simrenew.domain.identifiers import normalize_sn
from simrenew.errors import ValidationError

MAX_Q = 64
PAGING = ("limit", "cursor")  # read by the route, never a filter
TERMINAL_SORTS = ("sn", "expires_on", "-expires_on", "name")
MERCHANT_SORTS = ("name", "-name")
ORDER_STATUSES = (
    "pending_payment",
    "paid",
    "fulfilled",
    "failed",
    "expired",
    "refunded",
    "partially_refunded",
    "needs_review",
)
ORDER_CHANNELS = ("agent", "public")  # agent: console or API key; public: the pay page


def normalize_text(raw: str) -> str:
    """What search compares: NFKC (全角 "ＡＢＣ１２３" is "abc123"), case folded, no spaces, no "|"
    (the separator between the fields of an index entry)."""
    text = unicodedata.normalize("NFKC", raw).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch != "|")


def terminal_search_text(sn: str, tid: str, iccid: str) -> str:
    return "|".join(normalize_text(v) for v in (sn, tid, iccid))


def merchant_search_text(name: str, phone: str, contact_name: str | None) -> str:
    """Name, contact and phone; the phone also without +86, as agents type it (138…)."""
    national = phone[3:] if phone.startswith("+86") else phone
    return "|".join(normalize_text(v) for v in (name, contact_name or "", phone, national))


def _str(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(name, "invalid_type", f"{name} must be a string")
    return value.strip() or None


def _reject_unknown(raw: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(raw) - set(allowed) - set(PAGING))
    if unknown:
        raise ValidationError(unknown[0], "unknown_field", f"unknown filter {unknown[0]!r}")


def _q(raw: Mapping[str, Any]) -> str | None:
    q = _str(raw, "q")
    if q is None:
        return None
    if len(q) > MAX_Q:
        raise ValidationError("q", "too_long", f"q is at most {MAX_Q} characters")
    return normalize_text(q) or None


def _choice(raw: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = _str(raw, name)
    if value is not None and value not in choices:
        raise ValidationError(name, "invalid_choice", f"{name} must be one of {', '.join(choices)}")
    return value


def _id(raw: Mapping[str, Any], name: str, prefix: str) -> str | None:
    value = _str(raw, name)
    if value is not None and (not value.startswith(prefix) or len(value) > 40):
        raise ValidationError(name, f"invalid_{name}", f"{name} is not an id this API issued")
    return value


class _Filters:
    """What the filters of every list share: FIELDS, their query parameters, one a field in the
    order the fields are declared, and the way back to a query."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def to_query(self) -> dict[str, str]:
        """The same filters as query parameters (links, exports): the ones set, days as ISO dates."""
        out: dict[str, str] = {}
        for name, value in zip(self.FIELDS, vars(self).values(), strict=True):
            if value:
                out[name] = value.isoformat() if isinstance(value, date) else value
        return out


@dataclass(frozen=True)
class TerminalFilters(_Filters):
    """GET /v1/terminals: q (SN, TID, ICCID: any part; merchant name or phone), status (a stored
    status or "expiring"), merchant_id, expires_before (exclusive), sort."""

    q: str | None = None
    status: str | None = None
    merchant_id: str | None = None
    expires_before: date | None = None
    sort: str | None = None  # None: the order of the index that answers (SN, or expiry with a status)

    FIELDS = ("q", "status", "merchant_id", "expires_before", "sort")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> TerminalFilters:
        _reject_unknown(raw, cls.FIELDS)
        before = _str(raw, "expires_before")
        return cls(
            q=_q(raw),
            status=_choice(raw, "status", LIST_STATUSES),
            merchant_id=_id(raw, "merchant_id", "m_"),
            expires_before=parse_date(before, "expires_before") if before else None,
            sort=_choice(raw, "sort", TERMINAL_SORTS),
        )


@dataclass(frozen=True)
class MerchantFilters(_Filters):
    """GET /v1/merchants: q (name, contact, phone: any part), sort (name, -name)."""

    q: str | None = None
    sort: str | None = None

    FIELDS = ("q", "sort")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> MerchantFilters:
        _reject_unknown(raw, cls.FIELDS)
        return cls(q=_q(raw), sort=_choice(raw, "sort", MERCHANT_SORTS))


@dataclass(frozen=True)
class OrderFilters(_Filters):
    """GET /v1/orders: sn (a terminal on any line), status, channel, from/to (creation day, UTC,
    both inclusive)."""

    sn: str | None = None
    status: str | None = None
    channel: str | None = None
    from_day: date | None = None
    to_day: date | None = None

    FIELDS = ("sn", "status", "channel", "from", "to")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> OrderFilters:
        _reject_unknown(raw, cls.FIELDS)
        sn = _str(raw, "sn")
        start, end = _str(raw, "from"), _str(raw, "to")
        from_day = parse_date(start, "from") if start else None
        to_day = parse_date(end, "to") if end else None
        if from_day and to_day and to_day < from_day:
            raise ValidationError("to", "invalid_range", "to must be on or after from")
        try:
            sn = normalize_sn(sn) if sn else None
        except ValidationError:
            raise ValidationError("sn", "invalid_sn", "sn is not a valid SN") from None
        return cls(
            sn=sn,
            status=_choice(raw, "status", ORDER_STATUSES),
            channel=_choice(raw, "channel", ORDER_CHANNELS),
            from_day=from_day,
            to_day=to_day,
        )
