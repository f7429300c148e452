"""TenantRepository in memory: the tenant's profile item, by version (a concurrent PATCH is a 409)."""

from __future__ import annotations

import builtins
from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import ApiKeyItem, TenantItem
from simrenew.adapters.dynamodb.paging import Page
from simrenew.adapters.dynamodb.tenants import TenantRepository, fill_profile, gsi1, new_item, to_domain
from simrenew.domain.tenant import Tenant, TenantStatus
from simrenew.errors import Conflict, NotFound
from tests.support.fakes.table import Cancelled, FakeTable


class FakeTenantRepository(TenantRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, tenant: Tenant, now: datetime) -> None:
        try:
            self.table.put(new_item(tenant, now), new=True)
        except Cancelled:
            raise Conflict("tenant already exists", code="conflict") from None

    def _item(self, tenant_id: str) -> TenantItem | None:
        return self.table.get(TenantItem, keys.tenant_pk(tenant_id), keys.tenant_profile_sk())

    def get(self, tenant_id: str) -> Tenant | None:
        item = self._item(tenant_id)
        return to_domain(item) if item else None

    def list(self, status: TenantStatus | None, limit: int, cursor: str | None) -> Page[Tenant]:
        found = [to_domain(i) for i in self.table.scan(TenantItem) if status is None or i.status == status.value]
        found.sort(key=lambda t: t.created_at, reverse=True)
        return Page(found[:limit], None)

    def was_approved(self, tenant_id: str) -> bool:
        item = self._item(tenant_id)
        if item is None:
            return False
        return bool(item.approved_at) or bool(self.table.query(ApiKeyItem, item.pk, keys.api_key_sk("")))

    def set_status(
        self, tenant_id: str, allowed_from: builtins.set[TenantStatus], to: TenantStatus, now: datetime
    ) -> Tenant:
        item = self._item(tenant_id)
        if item is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        if TenantStatus(item.status) not in allowed_from:
            raise Conflict(f"tenant is {item.status}", code="invalid_tenant_state")
        read_status = item.status
        item.status = to.value
        _, item.gsi1sk = gsi1(to.value, item.created_at or now, tenant_id)
        item.updated_at = now
        if to is TenantStatus.ACTIVE:
            item.approved_at = now
        if to is TenantStatus.SUSPENDED:
            item.suspended_at = now
        try:
            with self.table.tx() as tx:
                # PynamoDB's update of a versioned item: by version, and on the status read.
                tx.save(item, check=lambda stored: isinstance(stored, TenantItem) and stored.status == read_status)
        except Cancelled:
            raise Conflict("tenant changed meanwhile; retry", code="invalid_tenant_state") from None
        return to_domain(item)

    def update_profile(self, tenant: Tenant, now: datetime) -> Tenant:
        item = self._item(tenant.tenant_id)
        if item is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        try:
            self.table.put(fill_profile(item, tenant, now))  # by version: a concurrent PATCH is refused
        except Cancelled:
            raise Conflict(
                "tenant was changed by another request; reload and retry", code="concurrent_update"
            ) from None
        return to_domain(item)
