"""Fleet entities (merchants, plans, terminals) and the validation of what agents send for them.

Pure rules: the same functions check an API body and a CSV import row, so both give the
same error for the same mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypedDict

from simrenew.domain.contact import clean_text, normalize_email, normalize_phone
from simrenew.domain.dates import parse_date
from simrenew.domain.identifiers import normalize_sn, resolve_carrier, validate_iccid, validate_tid
from simrenew.domain.values import json_of
from simrenew.errors import ValidationError

MAX_QUOTA_MB = 10_000_000
MAX_PRICE_FEN = 100_000_000
MIN_EXPIRY = date(2000, 1, 1)
MAX_EXPIRY = date(2100, 12, 31)


class TerminalStatus(StrEnum):
    """Stored statuses. "expiring" is derived from expires_on and never stored."""

    INVENTORY = "inventory"
    ACTIVE = "active"
    GRACE = "grace"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


LIST_STATUSES = (*(s.value for s in TerminalStatus), "expiring")
# Statuses the sweep must watch (reminders, grace, suspension): only they carry the sparse
# expiry-index keys, so the sweep never reads stock, suspended or deactivated terminals.
SWEPT_STATUSES = frozenset({TerminalStatus.ACTIVE, TerminalStatus.GRACE})


def _int(raw: object, name: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationError(name, "invalid_type", f"{name} must be a whole number")
    if not low <= raw <= high:
        raise ValidationError(name, "out_of_range", f"{name} must be between {low} and {high}")
    return raw


def _optional_int(raw: object, name: str, low: int, high: int) -> int | None:
    return None if raw is None else _int(raw, name, low, high)


def _id(raw: object, name: str, prefix: str) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.startswith(prefix) or len(raw) > 40:
        raise ValidationError(name, f"invalid_{name}", f"{name} is not an id this API issued")
    return raw


def _copy_checked(
    body: dict[str, Any], out: dict[str, Any], name: str, ok: Callable[[object], bool], code: str, message: str
) -> None:
    """`body[name]` into `out` as it is, when the body has it: refused (`code`, `message`) unless `ok`."""
    if name in body:
        if not ok(body[name]):
            raise ValidationError(name, code, message)
        out[name] = body[name]


def _changes(out: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The validated fields; a partial change (PATCH) must change something."""
    if partial and not out:
        raise ValidationError("body", "empty_patch", "nothing to change")
    return out


def reject_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}")


# --- merchants -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    tenant_id: str
    name: str
    phone: str
    contact_name: str | None = None
    email: str | None = None
    status: str = "active"
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return json_of(self, "merchant_id", "name", "contact_name", "phone", "email", "status", "created_at")


def merchant_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated merchant fields (all required ones unless partial)."""
    out: dict[str, Any] = {}
    if "name" in body or not partial:
        out["name"] = clean_text(body.get("name"), "name", max_len=100)
    if "phone" in body or not partial:
        if not isinstance(body.get("phone"), str):
            raise ValidationError(
                "phone", "required" if body.get("phone") is None else "invalid_type", "phone is required"
            )
        out["phone"] = normalize_phone(body["phone"], "phone")
    if "contact_name" in body:
        out["contact_name"] = clean_text(body["contact_name"], "contact_name", max_len=60, required=False)
    if "email" in body:
        email = body["email"]
        if email in (None, ""):
            out["email"] = None
        elif not isinstance(email, str):
            raise ValidationError("email", "invalid_type", "email must be a string")
        else:
            out["email"] = normalize_email(email, "email")
    _copy_checked(
        body,
        out,
        "status",
        lambda v: v in ("active", "inactive"),
        "invalid_choice",
        "status must be active or inactive",
    )
    return _changes(out, partial=partial)


# --- plans -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    plan_id: str
    tenant_id: str
    name: str
    term_months: int
    data_quota_mb: int
    price_fen: int
    active: bool = True
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            **json_of(self, "plan_id", "name", "term_months", "data_quota_mb", "price_fen"),
            "currency": "CNY",
            **json_of(self, "active", "created_at"),
        }


def plan_fields(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    checks: dict[str, Callable[[object], object]] = {
        "name": lambda v: clean_text(v, "name", max_len=60),
        "term_months": lambda v: _int(v, "term_months", 1, 36),
        "data_quota_mb": lambda v: _int(v, "data_quota_mb", 0, MAX_QUOTA_MB),
        "price_fen": lambda v: _int(v, "price_fen", 1, MAX_PRICE_FEN),
    }
    for name, check in checks.items():
        if name in body:
            out[name] = check(body[name])
        elif not partial:
            raise ValidationError(name, "required", f"{name} is required")
    _copy_checked(body, out, "active", lambda v: isinstance(v, bool), "invalid_type", "active must be true or false")
    return _changes(out, partial=partial)


# --- terminals -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Terminal:
    tenant_id: str
    sn: str
    tid: str
    iccid: str
    carrier: str
    model: str
    expires_on: date
    status: TerminalStatus
    merchant_id: str | None = None
    plan_id: str | None = None
    data_quota_mb: int | None = None
    data_used_mb: int = 0
    usage_as_of: str | None = None
    created_at: str = ""
    updated_at: str = ""
    version: int | None = field(default=None, compare=False)
    renewed_at: tuple[str, ...] = ()  # paid renewals of the last 24 hours (ISO UTC), for risk control
    risk_flagged_at: str | None = None  # renewed more than twice within 24 hours

    def days_left(self, today: date) -> int:
        return (self.expires_on - today).days

    def is_expiring(self, today: date, window_days: int) -> bool:
        return self.status is TerminalStatus.ACTIVE and 0 <= self.days_left(today) <= window_days

    def to_json(self, today: date, window_days: int, pay_base_url: str) -> dict[str, Any]:
        return {
            **json_of(self, "sn", "tid", "iccid", "carrier", "model", "merchant_id", "plan_id"),
            "expires_on": self.expires_on.isoformat(),
            "days_left": self.days_left(today),
            "status": self.status.value,
            "expiring": self.is_expiring(today, window_days),
            **json_of(self, "data_quota_mb", "data_used_mb", "usage_as_of"),
            "last_renewed_at": self.renewed_at[-1] if self.renewed_at else None,
            "risk_flagged_at": self.risk_flagged_at,
            "pay_url": f"{pay_base_url}/pay/{self.sn}",
            **json_of(self, "created_at", "updated_at"),
        }


class ExpiryWindow(TypedDict):
    """Which terminals a listing by expiry reads: a stored status, expiry in [from, before) (None: open)."""

    status: str | None
    expires_from: date | None
    expires_before: date | None


class TerminalWindow(ExpiryWindow):
    """Which terminals a page reads: the expiry window, and the merchant they are assigned to."""

    merchant_id: str | None


def expiring_window(today: date, window_days: int, expires_before: date | None) -> ExpiryWindow:
    """The listed status "expiring" as stored ones: active terminals expiring from today through the
    reminder window (and before `expires_before`, when it is sooner)."""
    window_end = today + timedelta(days=window_days + 1)
    before = min(expires_before, window_end) if expires_before else window_end
    return {"status": TerminalStatus.ACTIVE.value, "expires_from": today, "expires_before": before}


def _expiry(raw: object) -> date:
    value = raw if isinstance(raw, date) else parse_date(raw, "expires_on")
    if not MIN_EXPIRY <= value <= MAX_EXPIRY:
        raise ValidationError("expires_on", "out_of_range", "expires_on must be between 2000-01-01 and 2100-12-31")
    return value


def _str_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ValidationError(name, "required", f"{name} is required")
    if not isinstance(value, str):
        raise ValidationError(name, "invalid_type", f"{name} must be a string")
    return value


def terminal_fields(body: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate a full terminal (registration, or one import row). An import may leave out the `optional`
    "tid" (None: a stored terminal keeps its TID, a new one is refused later) and "model" ("")."""
    sn = normalize_sn(_str_field(body, "sn"))
    tid = None if "tid" in optional and not body.get("tid") else validate_tid(_str_field(body, "tid"))
    iccid = validate_iccid(_str_field(body, "iccid"))
    model = "" if "model" in optional and not body.get("model") else clean_text(body.get("model"), "model", max_len=64)
    carrier_raw = body.get("carrier")
    if carrier_raw is not None and not isinstance(carrier_raw, str):
        raise ValidationError("carrier", "invalid_type", "carrier must be a string")
    return {
        "sn": sn,
        "tid": tid,
        "iccid": iccid,
        "carrier": resolve_carrier(carrier_raw, iccid).value,
        "model": model,
        "merchant_id": _id(body.get("merchant_id"), "merchant_id", "m_"),
        "plan_id": _id(body.get("plan_id"), "plan_id", "p_"),
        "expires_on": _expiry(body.get("expires_on")),
        "data_quota_mb": _optional_int(body.get("data_quota_mb"), "data_quota_mb", 0, MAX_QUOTA_MB),
    }


def terminal_patch(body: dict[str, Any], current: Terminal) -> dict[str, Any]:
    """Validate a partial change; returns only the fields that really change."""
    if "sn" in body:
        raise ValidationError("sn", "immutable", "a terminal's SN cannot change; register the new device instead")
    if not body:
        raise ValidationError("body", "empty_patch", "nothing to change")
    out: dict[str, Any] = {}
    if "tid" in body:
        out["tid"] = validate_tid(_str_field(body, "tid"))
    iccid = current.iccid
    if "iccid" in body:
        iccid = out["iccid"] = validate_iccid(_str_field(body, "iccid"))
    if "carrier" in body or "iccid" in body:
        stated = body.get("carrier", current.carrier if "iccid" not in body else None)
        if stated is not None and not isinstance(stated, str):
            raise ValidationError("carrier", "invalid_type", "carrier must be a string")
        out["carrier"] = resolve_carrier(stated, iccid).value
    if "model" in body:
        out["model"] = clean_text(body["model"], "model", max_len=64)
    if "merchant_id" in body:
        out["merchant_id"] = _id(body["merchant_id"], "merchant_id", "m_")
    if "plan_id" in body:
        out["plan_id"] = _id(body["plan_id"], "plan_id", "p_")
    if "expires_on" in body:
        out["expires_on"] = _expiry(body["expires_on"])
    if "data_quota_mb" in body:
        out["data_quota_mb"] = _optional_int(body["data_quota_mb"], "data_quota_mb", 0, MAX_QUOTA_MB)
    return {k: v for k, v in out.items() if getattr(current, k) != v}


def status_after_assignment(current: TerminalStatus, merchant_id: str | None) -> TerminalStatus:
    """inventory ↔ active follows whether a merchant is assigned; other statuses stay."""
    if current is TerminalStatus.INVENTORY and merchant_id:
        return TerminalStatus.ACTIVE
    if current is TerminalStatus.ACTIVE and not merchant_id:
        return TerminalStatus.INVENTORY
    return current


def initial_status(merchant_id: str | None, expires_on: date, today: date, grace_days: int) -> TerminalStatus:
    """Status of a newly registered terminal: without a merchant it is stock; with one, its
    expiry decides (an import of an already lapsed fleet lands in grace or suspended)."""
    if not merchant_id:
        return TerminalStatus.INVENTORY
    if expires_on >= today:
        return TerminalStatus.ACTIVE
    if today - expires_on <= timedelta(days=grace_days):
        return TerminalStatus.GRACE
    return TerminalStatus.SUSPENDED


def usage_fields(body: dict[str, Any]) -> tuple[int, date]:
    if "data_used_mb" not in body:
        raise ValidationError("data_used_mb", "required", "data_used_mb is required")
    used = _int(body["data_used_mb"], "data_used_mb", 0, MAX_QUOTA_MB * 10)
    if "as_of" not in body:
        raise ValidationError("as_of", "required", "as_of is required (YYYY-MM-DD)")
    return used, parse_date(body["as_of"], "as_of")


def quota_crossings(quota_mb: int | None, before_mb: int, after_mb: int) -> list[int]:
    """The alert thresholds (80, 100 percent) this usage update crosses upwards."""
    if not quota_mb:
        return []
    return [pct for pct in (80, 100) if before_mb * 100 < pct * quota_mb <= after_mb * 100]
