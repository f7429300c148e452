"""API key repository: a tenant-scoped item for listing and a global lookup item for auth."""

from __future__ import annotations

import builtins
from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import translated
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import ApiKeyItem, ApiKeyLookupItem, TenantItem, Transaction
from simrenew.adapters.dynamodb.paging import Page, query_page
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.adapters.dynamodb.tenant_context import CONTEXTS
from simrenew.adapters.dynamodb.tenants import gsi1 as tenant_gsi1
from simrenew.adapters.dynamodb.tenants import new_item as new_tenant_item
from simrenew.clock import iso_utc
from simrenew.domain.tenant import ApiKey, Role, Tenant, TenantStatus
from simrenew.errors import Conflict, NotFound
from simrenew.ports.api_keys import KeyLookup as KeyLookup
from simrenew.ports.api_keys import TenantChange


def _to_domain(item: ApiKeyItem) -> ApiKey:
    return from_item(
        item,
        ApiKey,
        role=Role[item.role.upper()],
        created_at=iso_utc(item.created_at) if item.created_at else "",
        revoked_at=iso_utc(item.revoked_at) if item.revoked_at else None,
    )


class ApiKeyRepository:
    def create(self, key: ApiKey, key_hash: str, now: datetime, *, tenant: TenantChange = "active") -> None:
        """Write both key items in one transaction, optionally with the tenant change that
        issues the key (approval, direct creation), so a key never exists for a tenant that
        did not become active, and vice versa."""
        listing, lookup = _key_items(key, key_hash, now)
        with (
            translated("tenant is not in a state that allows this", "invalid_tenant_state"),
            Transaction() as tx,
        ):
            if isinstance(tenant, Tenant):
                tx.save(new_tenant_item(tenant, now), condition=TenantItem.pk.does_not_exist())
            elif tenant == "approve":
                tenant_item = self._tenant_item(key.tenant_id)
                _, gsi1sk = tenant_gsi1(TenantStatus.ACTIVE.value, tenant_item.created_at or now, key.tenant_id)
                # The loaded item carries its version, so this is also an optimistic lock.
                tx.update(
                    tenant_item,
                    actions=[
                        TenantItem.status.set(TenantStatus.ACTIVE.value),
                        TenantItem.gsi1sk.set(gsi1sk),
                        TenantItem.approved_at.set(now),
                        TenantItem.updated_at.set(now),
                    ],
                    condition=TenantItem.status == TenantStatus.PENDING_REVIEW.value,
                )
            else:
                tx.condition_check(
                    TenantItem,
                    keys.tenant_pk(key.tenant_id),
                    keys.tenant_profile_sk(),
                    condition=TenantItem.status == TenantStatus.ACTIVE.value,
                )
            tx.save(listing, condition=ApiKeyItem.pk.does_not_exist())
            tx.save(lookup, condition=ApiKeyLookupItem.pk.does_not_exist())
        CONTEXTS.invalidate(key.tenant_id)  # an approval activates the tenant

    @staticmethod
    def _tenant_item(tenant_id: str) -> TenantItem:
        try:
            return TenantItem.get(keys.tenant_pk(tenant_id), keys.tenant_profile_sk(), consistent_read=True)
        except TenantItem.DoesNotExist:
            raise NotFound("no such tenant", code="tenant_not_found") from None

    def lookup(self, key_id: str) -> KeyLookup | None:
        item = item_or_none(ApiKeyLookupItem.get, keys.api_key_lookup_pk(key_id), keys.lookup_sk())
        if item is None:
            return None
        return KeyLookup(item.tenant_id, Role[item.role.upper()], item.key_hash, bool(item.revoked))

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        item = item_or_none(ApiKeyItem.get, keys.tenant_pk(tenant_id), keys.api_key_sk(key_id), consistent_read=True)
        return _to_domain(item) if item is not None else None

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        prefix = ApiKeyItem.sk.startswith(keys.api_key_sk(""))
        return query_page(
            ApiKeyItem.query, keys.tenant_pk(tenant_id), cursor, _to_domain, range_key_condition=prefix, limit=limit
        )

    def list_all(self, tenant_id: str) -> builtins.list[ApiKey]:
        pk = keys.tenant_pk(tenant_id)
        return [_to_domain(i) for i in ApiKeyItem.query(pk, ApiKeyItem.sk.startswith(keys.api_key_sk("")))]

    def revoke(self, tenant_id: str, key_id: str, now: datetime) -> None:
        """Revoke both items at once; the tenant-scoped condition makes another tenant's key a 404."""
        listing = ApiKeyItem(keys.tenant_pk(tenant_id), keys.api_key_sk(key_id))
        lookup = ApiKeyLookupItem(keys.api_key_lookup_pk(key_id), keys.lookup_sk())
        try:
            with translated(), Transaction() as tx:
                tx.update(
                    listing,
                    actions=[ApiKeyItem.revoked_at.set(now), ApiKeyItem.updated_at.set(now)],
                    condition=ApiKeyItem.pk.exists() & ApiKeyItem.revoked_at.does_not_exist(),
                )
                tx.update(
                    lookup,
                    actions=[ApiKeyLookupItem.revoked.set(True), ApiKeyLookupItem.updated_at.set(now)],
                    condition=ApiKeyLookupItem.tenant_id == tenant_id,
                )
        except Conflict:
            # Tell "not yours / not there" from "already revoked" only after the fact,
            # reading inside the caller's own partition.
            if self.get(tenant_id, key_id) is None:
                raise NotFound("no such API key", code="api_key_not_found") from None
            raise Conflict("API key is already revoked", code="already_revoked") from None


def _key_items(key: ApiKey, key_hash: str, now: datetime) -> tuple[ApiKeyItem, ApiKeyLookupItem]:
    """The key under its tenant (listing, no secret) and the global lookup item (key id → tenant, hash)."""
    whose = {**attrs_of(key, "tenant_id", "key_id"), "role": key.role.label}
    listing = ApiKeyItem(
        keys.tenant_pk(key.tenant_id),
        keys.api_key_sk(key.key_id),
        **whose,
        **attrs_of(key, "label", "created_by"),
        created_at=now,
        updated_at=now,
    )
    lookup = ApiKeyLookupItem(
        keys.api_key_lookup_pk(key.key_id), keys.lookup_sk(), **whose, key_hash=key_hash, revoked=False, created_at=now
    )
    return listing, lookup
