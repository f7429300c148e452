"""Single-table PynamoDB models: one base model (pk, sk, kind), one subclass per entity.

The table itself is declared once, in template.yaml; `bind_table` points these models
at it (name, region, endpoint) at start-up, and a test keeps the two definitions equal.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

UNBOUND_TABLE = "simrenew-unbound"


class Gsi1(GlobalSecondaryIndex["Item"]):
    """Overloaded lookups: tenants by status; terminals by merchant."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["Item"]):
    """Overloaded lookups: terminals by TID prefix and by status."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ExpiryIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and sharded: only terminals the sweep must look at carry exp_pk."""

    class Meta:
        index_name = "expiry"
        projection = AllProjection()

    exp_pk = UnicodeAttribute(hash_key=True)
    exp_sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Base of every item in the table."""

    class Meta:
        table_name = UNBOUND_TABLE
        region = "us-east-1"
        host: str | None = None
        max_retry_attempts = 5
        connect_timeout_seconds = 5
        read_timeout_seconds = 10

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    exp_pk = UnicodeAttribute(null=True)
    exp_sk = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    expiry = ExpiryIndex()


class TenantItem(Item, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    status = UnicodeAttribute()
    settings_json = UnicodeAttribute()
    stripe_account_id = UnicodeAttribute(null=True)
    approved_at = UTCDateTimeAttribute(null=True)
    suspended_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


class ApiKeyItem(Item, discriminator="api_key"):
    """The tenant's view of one of its keys: never the secret, never the hash."""

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    role = UnicodeAttribute()
    label = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class ApiKeyLookupItem(Item, discriminator="api_key_lookup"):
    """Global lookup: key id → tenant, role, SHA-256 of the whole key."""

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    role = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)


class RateLimitItem(Item, discriminator="rate"):
    hits = NumberAttribute(default=0)


class IdempotencyItem(Item, discriminator="idempotency"):
    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()  # "in_progress" | "done"
    status_code = NumberAttribute(null=True)
    response_json = UnicodeAttribute(null=True)


def all_models() -> list[type[Item]]:
    return [Item, *_subclasses(Item)]


def _subclasses(cls: type[Any]) -> list[type[Item]]:
    found: list[type[Item]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def bind_table(table_name: str, region: str, host: str | None) -> None:
    """Point every model at the configured table (called once at start-up)."""
    Item.Meta.table_name = table_name
    Item.Meta.region = region
    Item.Meta.host = host
    for model in all_models():
        model._connection = None
