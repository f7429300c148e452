"""ApiKeyRepository in memory: the key under its tenant and its global look-up, written together
with the tenant change that issues it (creation, approval), or on the tenant being active."""

from __future__ import annotations

import builtins
from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.api_keys import ApiKeyRepository, KeyLookup, _key_items, _to_domain
from simrenew.adapters.dynamodb.models import ApiKeyItem, ApiKeyLookupItem, Item, TenantItem
from simrenew.adapters.dynamodb.paging import Page
from simrenew.adapters.dynamodb.tenants import gsi1 as tenant_gsi1
from simrenew.adapters.dynamodb.tenants import new_item as new_tenant_item
from simrenew.domain.tenant import ApiKey, Role, Tenant, TenantStatus
from simrenew.errors import Conflict, NotFound
from simrenew.ports.api_keys import TenantChange
from tests.support.fakes.table import Cancelled, FakeTable, paged, setting


class FakeApiKeyRepository(ApiKeyRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, key: ApiKey, key_hash: str, now: datetime, *, tenant: TenantChange = "active") -> None:
        listing, lookup = _key_items(key, key_hash, now)
        tenant_key = (keys.tenant_pk(key.tenant_id), keys.tenant_profile_sk())
        try:
            with self.table.tx() as tx:
                if isinstance(tenant, Tenant):
                    tx.save(new_tenant_item(tenant, now), new=True)
                elif tenant == "approve":
                    item = self.table.get(TenantItem, *tenant_key)
                    if item is None:
                        raise NotFound("no such tenant", code="tenant_not_found")
                    item.status = TenantStatus.ACTIVE.value
                    _, item.gsi1sk = tenant_gsi1(item.status, item.created_at or now, key.tenant_id)
                    item.approved_at = item.updated_at = now
                    # By the version read (an optimistic lock), and only from pending review.
                    tx.save(item, check=_pending)
                else:
                    tx.condition(tenant_key, lambda s: isinstance(s, TenantItem) and s.status == "active")
                tx.save(listing, new=True)
                tx.save(lookup, new=True)
        except Cancelled:
            raise Conflict("tenant is not in a state that allows this", code="invalid_tenant_state") from None

    def lookup(self, key_id: str) -> KeyLookup | None:
        item = self.table.get(ApiKeyLookupItem, keys.api_key_lookup_pk(key_id), keys.lookup_sk())
        if item is None:
            return None
        return KeyLookup(item.tenant_id, Role[item.role.upper()], item.key_hash, bool(item.revoked))

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        item = self.table.get(ApiKeyItem, keys.tenant_pk(tenant_id), keys.api_key_sk(key_id))
        return _to_domain(item) if item else None

    def list_all(self, tenant_id: str) -> builtins.list[ApiKey]:
        return [_to_domain(i) for i in self.table.query(ApiKeyItem, keys.tenant_pk(tenant_id), keys.api_key_sk(""))]

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        items, next_cursor = paged(self.list_all(tenant_id), limit, cursor)
        return Page(items, next_cursor)

    def revoke(self, tenant_id: str, key_id: str, now: datetime) -> None:
        try:
            with self.table.tx() as tx:
                tx.update(
                    (keys.tenant_pk(tenant_id), keys.api_key_sk(key_id)),
                    setting(ApiKeyItem, revoked_at=now, updated_at=now),
                    check=lambda s: isinstance(s, ApiKeyItem) and s.revoked_at is None,
                )
                tx.update(
                    (keys.api_key_lookup_pk(key_id), keys.lookup_sk()),
                    setting(ApiKeyLookupItem, revoked=True, updated_at=now),
                    check=lambda s: isinstance(s, ApiKeyLookupItem) and s.tenant_id == tenant_id,
                )
        except Cancelled:
            if self.get(tenant_id, key_id) is None:
                raise NotFound("no such API key", code="api_key_not_found") from None
            raise Conflict("API key is already revoked", code="already_revoked") from None


def _pending(stored: Item | None) -> bool:
    return isinstance(stored, TenantItem) and stored.status == TenantStatus.PENDING_REVIEW.value
