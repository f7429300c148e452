"""Answers of the onboarding and tenant routes: agents, their settings and API keys."""

from __future__ import annotations

from chalicelib.responses._base import (
    DirectRail,
    Language,
    Out,
    Page,
    PaymentMethod,
    RenewalBasis,
    Role,
    ServiceFeeKind,
    TenantStatus,
)


class TenantState(Out):
    """An agent's id and status (signup, suspend, reinstate)."""

    tenant_id: str
    status: TenantStatus


class ServiceFee(Out):
    kind: ServiceFeeKind
    value: float


class TenantSettings(Out):
    reminder_days: list[int]
    grace_days: int
    renewal_basis: RenewalBasis
    service_fee: ServiceFee
    timezone: str
    payment_methods: list[PaymentMethod]
    language: Language
    wechatpay_sub_mchid: str | None
    alipay_app_auth_token_set: bool
    alipay_auth_app_id: str | None


class Tenant(Out):
    tenant_id: str
    name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    service_phone: str | None
    status: TenantStatus
    settings: TenantSettings
    created_at: str
    stripe_connected: bool
    direct_rails: list[DirectRail]


class TenantPage(Page[Tenant]):
    pass


class TenantCreated(Tenant):
    """A tenant created by the platform, with its first admin key (shown once)."""

    api_key: str | None
    key_id: str


class TenantApproved(Out):
    tenant_id: str
    status: TenantStatus
    api_key: str | None
    key_id: str


class Me(Out):
    """Who the calling key is (the console's sign-in)."""

    tenant_id: str
    agent_name: str
    service_phone: str | None
    tenant_status: TenantStatus
    timezone: str
    role: Role
    key_id: str


class ApiKey(Out):
    key_id: str
    role: Role
    label: str
    created_at: str
    created_by: str
    revoked_at: str | None
    active: bool


class ApiKeyCreated(ApiKey):
    """A new key with its secret (shown once; null on an idempotent replay)."""

    api_key: str | None


class ApiKeyPage(Page[ApiKey]):
    pass


MODELS = [TenantState, Tenant, TenantPage, TenantCreated, TenantApproved, Me, ApiKey, ApiKeyCreated, ApiKeyPage]
