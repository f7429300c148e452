"""Agent onboarding (signup, approval, suspension), the tenant profile, and API keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from simrenew.clock import Clock, iso_utc
from simrenew.domain.contact import clean_text, normalize_email, normalize_phone
from simrenew.domain.tenant import (
    ApiKey,
    Principal,
    Role,
    Tenant,
    TenantSettings,
    TenantStatus,
    apply_settings_patch,
)
from simrenew.errors import NotFound, RuleViolation, ValidationError
from simrenew.ids import new_id
from simrenew.ports.api_keys import ApiKeys, TenantChange
from simrenew.ports.paging import Page
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.tenants import Tenants
from simrenew.services.auth import hash_key, mint_key

SIGNUPS_PER_HOUR_PER_CLIENT = 5


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the only moment its secret exists outside the caller's hands."""

    key: ApiKey
    secret: str


def _required_text(value: object, field: str, *, min_len: int = 1, max_len: int) -> str:
    text = clean_text(value, field, min_len=min_len, max_len=max_len)
    assert text is not None  # clean_text raises on empty when required
    return text


_PROFILE_CHECKS: dict[str, Callable[[object], str]] = {
    "name": lambda v: _required_text(v, "name", min_len=2, max_len=100),
    "contact_name": lambda v: _required_text(v, "contact_name", max_len=60),
    "contact_email": lambda v: normalize_email(_str(v, "contact_email"), "contact_email"),
    "contact_phone": lambda v: normalize_phone(_str(v, "contact_phone"), "contact_phone"),
}


def _profile_fields(body: dict[str, Any], *, partial: bool) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, check in _PROFILE_CHECKS.items():
        if name not in body:
            if not partial:
                raise ValidationError(name, "required", f"{name} is required")
            continue
        fields[name] = check(body[name])
    return fields


def _service_phone(value: object) -> str | None:
    """The agent's service number for merchants: a mobile, a landline with area code or a 400/800
    number, stored in E.164; null or "" removes it."""
    if value is None or value == "":
        return None
    return normalize_phone(_str(value, "service_phone"), "service_phone")


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "invalid_type", f"{field} must be a string")
    return value


class TenantService:
    def __init__(
        self,
        tenants: Tenants,
        api_keys: ApiKeys,
        rate_limiter: RateLimits,
        clock: Clock,
        rails: Any = None,
    ) -> None:
        self._rails = rails  # PaymentRails: checks and seals an Alipay app_auth_token
        self._tenants = tenants
        self._keys = api_keys
        self._rate = rate_limiter
        self._clock = clock

    # --- onboarding -------------------------------------------------------------------
    def signup(self, body: dict[str, Any], client_id: str) -> Tenant:
        fields = _profile_fields(body, partial=False)
        now = self._clock.now()
        # Counted only for well-formed signups, so a typo does not cost a try.
        self._rate.hit("signup", client_id, limit=SIGNUPS_PER_HOUR_PER_CLIENT, window_s=3600, now=now)
        tenant = Tenant(
            tenant_id=new_id("t"),
            status=TenantStatus.PENDING_REVIEW,
            settings=TenantSettings(),
            created_at=iso_utc(now),
            **fields,
        )
        self._tenants.create(tenant, now)
        return tenant

    def create_active(self, body: dict[str, Any]) -> tuple[Tenant, IssuedKey]:
        """Platform shortcut: an active tenant and its first admin key, written together."""
        fields = _profile_fields(body, partial=False)
        now = self._clock.now()
        tenant = Tenant(
            tenant_id=new_id("t"),
            status=TenantStatus.ACTIVE,
            settings=TenantSettings(),
            created_at=iso_utc(now),
            **fields,
        )
        issued = self._issue(tenant.tenant_id, Role.ADMIN, "first admin key", "platform", tenant=tenant)
        return tenant, issued

    def approve(self, tenant_id: str) -> IssuedKey:
        if self._tenants.get(tenant_id) is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        return self._issue(tenant_id, Role.ADMIN, "first admin key", "platform", tenant="approve")

    def suspend(self, tenant_id: str) -> Tenant:
        return self._tenants.set_status(
            tenant_id, {TenantStatus.ACTIVE, TenantStatus.PENDING_REVIEW}, TenantStatus.SUSPENDED, self._clock.now()
        )

    def reinstate(self, tenant_id: str) -> Tenant:
        """Lift a suspension: an agent that had been approved is active again (its keys work again,
        none is re-issued); one suspended while still pending review goes back to review."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        approved = self._tenants.was_approved(tenant_id)
        to = TenantStatus.ACTIVE if approved else TenantStatus.PENDING_REVIEW
        return self._tenants.set_status(tenant_id, {TenantStatus.SUSPENDED}, to, self._clock.now())

    def list_tenants(self, status: str | None, limit: int, cursor: str | None) -> Page[Tenant]:
        wanted = None
        if status:
            try:
                wanted = TenantStatus(status)
            except ValueError:
                choices = ", ".join(s.value for s in TenantStatus)
                raise ValidationError("status", "invalid_choice", f"status must be one of {choices}") from None
        return self._tenants.list(wanted, limit, cursor)

    # --- the tenant's own profile -------------------------------------------------------
    def get(self, tenant_id: str) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        return tenant

    def update(self, tenant_id: str, body: dict[str, Any]) -> Tenant:
        if not body:
            raise ValidationError("body", "empty_patch", "nothing to change")
        fields: dict[str, str | None] = {**_profile_fields(body, partial=True)}
        if "service_phone" in body:
            fields["service_phone"] = _service_phone(body["service_phone"])
        current = self.get(tenant_id)
        settings = current.settings
        rails: dict[str, Any] = {}
        if "settings" in body:
            patch = dict(body["settings"]) if isinstance(body["settings"], dict) else body["settings"]
            if isinstance(patch, dict):
                rails = self._rail_settings(patch)
            settings = apply_settings_patch(current.settings, patch)
        updated = replace(current, settings=settings, **fields, **rails)  # type: ignore[arg-type]
        return self._tenants.update_profile(updated, self._clock.now())

    def _rail_settings(self, patch: dict[str, Any]) -> dict[str, Any]:
        """The agent as a sub-merchant: `wechatpay_sub_mchid` (its 特约商户号) and
        `alipay_app_auth_token` (from its authorisation of the platform's app: checked with Alipay,
        then sealed; never returned). null removes either. Taken out of `patch`."""
        out: dict[str, Any] = {}
        if "wechatpay_sub_mchid" in patch:
            raw = patch.pop("wechatpay_sub_mchid")
            if raw is not None and (not isinstance(raw, str) or not re.fullmatch(r"\d{8,10}", raw.strip())):
                raise ValidationError(
                    "settings.wechatpay_sub_mchid",
                    "invalid_sub_mchid",
                    "wechatpay_sub_mchid is the 8-10 digit 特约商户号",
                )
            if raw is not None:
                self._rail_ready("wechatpay")
            out["wechatpay_sub_mchid"] = raw.strip() if isinstance(raw, str) else None
        if "alipay_app_auth_token" in patch:
            raw = patch.pop("alipay_app_auth_token")
            if raw is None:
                out.update(alipay_auth_app_id=None, alipay_token_sealed=None)
            elif not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z0-9._-]{16,128}", raw.strip()):
                raise ValidationError(
                    "settings.alipay_app_auth_token",
                    "invalid_token",
                    "alipay_app_auth_token is the token Alipay issued",
                )
            else:
                gateway = self._rail_ready("alipay")
                out["alipay_auth_app_id"] = gateway.authorised_app(raw.strip())
                out["alipay_token_sealed"] = gateway.seal_token(raw.strip())
        return out

    def _rail_ready(self, rail: str) -> Any:
        """The rail's gateway with its platform credentials loaded; 422 where the platform has none."""
        from simrenew.errors import ConfigError

        if self._rails is None or not self._rails.has(rail):
            raise RuleViolation(f"{rail} is not set up on this platform", code=f"{rail}_unavailable")
        gateway = self._rails.get(rail)
        try:
            _keys = gateway.keys
        except ConfigError:
            raise RuleViolation(f"{rail} is not set up on this platform", code=f"{rail}_unavailable") from None
        del _keys
        return gateway

    def alipay_token(self, tenant_id: str) -> str | None:
        """The agent's app_auth_token, opened for a call to Alipay on its behalf."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None or not tenant.alipay_token_sealed or self._rails is None:
            return None
        token: str = self._rails.get("alipay").unseal_token(tenant.alipay_token_sealed)
        return token

    # --- API keys -----------------------------------------------------------------------
    def create_key(self, principal: Principal, body: dict[str, Any]) -> IssuedKey:
        assert principal.tenant_id is not None
        if "role" not in body:
            raise ValidationError("role", "required", "role is required")
        role = Role.parse(body["role"])
        label = clean_text(body.get("label", ""), "label", max_len=60, required=False) or role.label
        return self._issue(principal.tenant_id, role, label, principal.key_id)

    def list_keys(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        return self._keys.page(tenant_id, limit, cursor)

    def revoke_key(self, tenant_id: str, key_id: str) -> None:
        target = self._keys.get(tenant_id, key_id)
        if target is None:
            raise NotFound("no such API key", code="api_key_not_found")
        if target.role is Role.ADMIN and target.revoked_at is None:
            other_admins = [
                k
                for k in self._keys.list_all(tenant_id)
                if k.role is Role.ADMIN and k.revoked_at is None and k.key_id != key_id
            ]
            if not other_admins:
                raise RuleViolation(
                    "this is the last active admin key; create another admin key first", code="last_admin_key"
                )
        self._keys.revoke(tenant_id, key_id, self._clock.now())

    def _issue(
        self, tenant_id: str, role: Role, label: str, created_by: str, *, tenant: TenantChange = "active"
    ) -> IssuedKey:
        now = self._clock.now()
        key_id, secret = mint_key()
        key = ApiKey(
            key_id=key_id,
            tenant_id=tenant_id,
            role=role,
            label=label,
            created_at=iso_utc(now),
            created_by=created_by,
            revoked_at=None,
        )
        self._keys.create(key, hash_key(secret), now, tenant=tenant)
        return IssuedKey(key, secret)
