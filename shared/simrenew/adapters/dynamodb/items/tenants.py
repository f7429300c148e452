"""Tenants and API keys: an agent, its keys, and the global key look-up authentication reads."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, TenantOwned, Versioned


class TenantItem(TenantOwned, Versioned, Item, discriminator="tenant"):
    """An agent (tenant): profile, contact, status, settings and Stripe account.

    Key: PK `TENANT#<tenant_id>`, SK `PROFILE`.
    Index gsi1 `TENANTS` / `<status>#<created_at>#<tenant_id>`: every tenant by status, then age (the operator's list).
    """

    # The agent as a sub-merchant of the platform: WeChat Pay's sub_mchid, Alipay's authorised app
    # and its app_auth_token, sealed (AES-256-GCM; never returned, never stored plain).
    wechatpay_sub_mchid = UnicodeAttribute(null=True)
    alipay_auth_app_id = UnicodeAttribute(null=True)
    alipay_token_sealed = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    status = UnicodeAttribute()
    settings_json = UnicodeAttribute()
    stripe_account_id = UnicodeAttribute(null=True)
    service_phone = UnicodeAttribute(null=True)  # shown to merchants (pay page, stickers)
    approved_at = UTCDateTimeAttribute(null=True)
    suspended_at = UTCDateTimeAttribute(null=True)


class ApiKeyGrant(TenantOwned):
    """What both views of an API key carry: the key's id, and the tenant and role it grants."""

    key_id = UnicodeAttribute()
    role = UnicodeAttribute()


class ApiKeyItem(ApiKeyGrant, Item, discriminator="api_key"):
    """The tenant's view of one of its keys: never the secret, never the hash.

    Key: PK `TENANT#<tenant_id>`, SK `APIKEY#<key_id>`.
    """

    label = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class ApiKeyLookupItem(ApiKeyGrant, Item, discriminator="api_key_lookup"):
    """Global lookup: key id → tenant, role, SHA-256 of the whole key (what authentication reads).

    Key: PK `APIKEY#<key_id>`, SK `LOOKUP`.
    """

    key_hash = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
