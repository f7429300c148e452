"""Tenant (agent) rules: statuses, roles, and the validated settings an agent may change."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from simrenew.domain.values import json_of
from simrenew.errors import ValidationError


class TenantStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(IntEnum):
    """READONLY < STAFF < ADMIN are ordered: a higher one may do everything a lower one may.

    FINANCE stands apart (财务): it reads what readonly reads plus the money reports (revenue,
    settlement, reconciliation) that staff and admin read, and changes nothing. It ranks below every
    ordered role, so any `role < needed` comparison refuses it: it passes only where a route grants
    it by name (`Api.route(finance=...)`, GET routes only)."""

    FINANCE = 0
    READONLY = 1
    STAFF = 2
    ADMIN = 3

    @classmethod
    def parse(cls, raw: object, field_name: str = "role") -> Role:
        if isinstance(raw, str) and raw.upper() in cls.__members__:
            return cls[raw.upper()]
        raise ValidationError(field_name, "invalid_role", "role must be one of admin, staff, readonly, finance")

    @property
    def label(self) -> str:
        return self.name.lower()


PAYMENT_METHODS = ("card", "alipay", "wechat_pay")
LANGUAGES = ("zh-CN", "en")
MAX_FLAT_FEE_FEN = 100_000
MAX_PERCENT_FEE = Decimal("50")


@dataclass(frozen=True)
class ServiceFee:
    kind: str  # "flat" (fen per order line) or "percent" (of the plan price)
    value: Decimal

    def fee_fen(self, price_fen: int) -> int:
        """The fee for one order line, in whole fen (percent rounds half up)."""
        if self.kind == "flat":
            return int(self.value)
        return int((Decimal(price_fen) * self.value / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def to_json(self) -> dict[str, Any]:
        value: int | float = int(self.value) if self.kind == "flat" else float(self.value)
        return {"kind": self.kind, "value": value}


@dataclass(frozen=True)
class TenantSettings:
    reminder_days: tuple[int, ...] = (30, 7, 1)
    grace_days: int = 7
    renewal_basis: str = "stack"
    service_fee: ServiceFee = field(default_factory=lambda: ServiceFee("flat", Decimal(0)))
    timezone: str = "Asia/Shanghai"
    payment_methods: tuple[str, ...] = PAYMENT_METHODS
    language: str = "zh-CN"

    def to_stored(self) -> dict[str, Any]:
        """JSON-safe and exact: percent fees kept as decimal strings."""
        data = self.to_json()
        fee = self.service_fee
        data["service_fee"] = {"kind": fee.kind, "value": int(fee.value) if fee.kind == "flat" else str(fee.value)}
        return data

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["reminder_days"] = list(self.reminder_days)
        data["payment_methods"] = list(self.payment_methods)
        data["service_fee"] = self.service_fee.to_json()
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> TenantSettings:
        """Rebuild from what the store holds (already validated when written)."""
        return apply_settings_patch(cls(), data)


def _int_in(raw: object, field_name: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise ValidationError(field_name, "invalid_type", f"{field_name} must be a whole number")
    value = int(raw)
    if value != raw or not low <= value <= high:
        raise ValidationError(field_name, "out_of_range", f"{field_name} must be between {low} and {high}")
    return value


def _reminder_days(raw: object) -> tuple[int, ...]:
    if not isinstance(raw, list | tuple):
        raise ValidationError("settings.reminder_days", "invalid_type", "reminder_days must be a list of days")
    if len(raw) > 10:
        raise ValidationError("settings.reminder_days", "too_many", "at most 10 reminder days")
    days = {_int_in(d, "settings.reminder_days", 1, 365) for d in raw}
    return tuple(sorted(days, reverse=True))


def _service_fee(raw: object) -> ServiceFee:
    name = "settings.service_fee"
    if not isinstance(raw, dict):
        raise ValidationError(name, "invalid_type", "service_fee must be an object {kind, value}")
    kind = raw.get("kind")
    value = raw.get("value")
    if kind not in ("flat", "percent"):
        raise ValidationError(f"{name}.kind", "invalid_choice", "service_fee.kind must be 'flat' or 'percent'")
    if kind == "flat":
        return ServiceFee("flat", Decimal(_int_in(value, f"{name}.value", 0, MAX_FLAT_FEE_FEN)))
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError(f"{name}.value", "invalid_type", "percent value must be a number")
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"{name}.value", "invalid_type", "percent value must be a number") from None
    if not percent.is_finite() or not Decimal(0) <= percent <= MAX_PERCENT_FEE:
        raise ValidationError(f"{name}.value", "out_of_range", "percent must be between 0 and 50")
    if percent != percent.quantize(Decimal("0.01")):
        raise ValidationError(f"{name}.value", "too_precise", "percent takes at most 2 decimals")
    return ServiceFee("percent", percent.normalize())


def _timezone(raw: object) -> str:
    if not isinstance(raw, str) or raw not in _known_timezones():
        raise ValidationError(
            "settings.timezone", "invalid_timezone", "timezone must be an IANA name such as Asia/Shanghai"
        )
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("settings.timezone", "invalid_timezone", "unknown timezone") from None
    return raw


_TZ_CACHE: set[str] = set()


def _known_timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
    return _TZ_CACHE


def _payment_methods(raw: object) -> tuple[str, ...]:
    name = "settings.payment_methods"
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationError(name, "invalid_type", "payment_methods must be a non-empty list")
    for method in raw:
        if method not in PAYMENT_METHODS:
            raise ValidationError(name, "invalid_choice", f"payment methods are {', '.join(PAYMENT_METHODS)}")
    return tuple(m for m in PAYMENT_METHODS if m in raw)


_SETTERS: dict[str, Any] = {
    "reminder_days": _reminder_days,
    "grace_days": lambda raw: _int_in(raw, "settings.grace_days", 0, 90),
    "renewal_basis": lambda raw: _choice(raw, "settings.renewal_basis", ("stack", "from_payment")),
    "service_fee": _service_fee,
    "timezone": _timezone,
    "payment_methods": _payment_methods,
    "language": lambda raw: _choice(raw, "settings.language", LANGUAGES),
}


def _choice(raw: object, field_name: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise ValidationError(field_name, "invalid_choice", f"{field_name} must be one of {', '.join(choices)}")
    assert isinstance(raw, str)
    return raw


def apply_settings_patch(current: TenantSettings, patch: object) -> TenantSettings:
    """Validate a partial settings object and return the merged settings (all or nothing)."""
    if not isinstance(patch, dict):
        raise ValidationError("settings", "invalid_type", "settings must be an object")
    unknown = sorted(set(patch) - set(_SETTERS))
    if unknown:
        raise ValidationError(f"settings.{unknown[0]}", "unknown_field", f"unknown setting {unknown[0]!r}")
    changes = {key: _SETTERS[key](value) for key, value in patch.items()}
    return TenantSettings(**{**current.__dict__, **changes})


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    status: TenantStatus
    settings: TenantSettings
    created_at: str
    stripe_account_id: str | None = None
    # The number merchants call (服务电话): on the pay page and the QR stickers; None until the agent sets it.
    service_phone: str | None = None
    # The agent as a sub-merchant on the direct rails (platform = 服务商 / ISV).
    wechatpay_sub_mchid: str | None = None
    alipay_auth_app_id: str | None = None
    alipay_token_sealed: str | None = None  # never shown: only whether it is set

    def direct_rail(self, method: str) -> str | None:
        """The direct rail a payment method goes to for this agent, if onboarded there."""
        if method == "wechat_pay" and self.wechatpay_sub_mchid:
            return "wechatpay"
        if method == "alipay" and self.alipay_auth_app_id and self.alipay_token_sealed:
            return "alipay"
        return None

    def sub_merchant_of(self, rail: str) -> str | None:
        return self.wechatpay_sub_mchid if rail == "wechatpay" else self.alipay_auth_app_id

    def to_json(self) -> dict[str, Any]:
        settings = {
            **self.settings.to_json(),
            "wechatpay_sub_mchid": self.wechatpay_sub_mchid,
            "alipay_app_auth_token_set": self.alipay_token_sealed is not None,
            "alipay_auth_app_id": self.alipay_auth_app_id,
        }
        return {
            **json_of(self, "tenant_id", "name", "contact_name", "contact_email", "contact_phone", "service_phone"),
            "status": self.status.value,
            "settings": settings,
            "created_at": self.created_at,
            "stripe_connected": self.stripe_account_id is not None,
            "direct_rails": [
                r
                for r, on in (("wechatpay", self.direct_rail("wechat_pay")), ("alipay", self.direct_rail("alipay")))
                if on
            ],
        }


@dataclass(frozen=True)
class ApiKey:
    """A key as its tenant sees it: never the secret."""

    key_id: str
    tenant_id: str
    role: Role
    label: str
    created_at: str
    created_by: str
    revoked_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "role": self.role.label,
            **json_of(self, "label", "created_at", "created_by", "revoked_at"),
            "active": self.revoked_at is None,
        }


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant key (tenant_id set) or the platform operator."""

    tenant_id: str | None
    role: Role | None
    key_id: str
    is_platform: bool = False
