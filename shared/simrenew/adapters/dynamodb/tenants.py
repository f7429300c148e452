"""Tenant repository: profiles, statuses and settings; every call names its tenant."""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import translated
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import TenantItem
from simrenew.adapters.dynamodb.paging import Page, query_page
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.adapters.dynamodb.sweeps import SweepRepository
from simrenew.adapters.dynamodb.tenant_context import CONTEXTS
from simrenew.clock import iso_utc
from simrenew.domain.tenant import Tenant, TenantSettings, TenantStatus
from simrenew.errors import Conflict, NotFound

ALL_TENANTS = keys.tenants_gsi1pk()


def gsi1(status: str, created_at: datetime, tenant_id: str) -> tuple[str, str]:
    """A tenant's place in the tenants-by-status list (one platform-wide gsi1 partition)."""
    return keys.tenants_gsi1pk(), keys.tenants_gsi1sk(status, created_at, tenant_id)


# What a tenant's new item stores as it is; a profile update rewrites these and the PROFILE_RAILS.
CONTACT = ("name", "contact_name", "contact_email", "contact_phone", "service_phone")
PROFILE_RAILS = ("wechatpay_sub_mchid", "alipay_auth_app_id", "alipay_token_sealed")


def to_domain(item: TenantItem) -> Tenant:
    return from_item(
        item,
        Tenant,
        status=TenantStatus(item.status),
        settings=TenantSettings.from_stored(json.loads(item.settings_json)),
        created_at=iso_utc(item.created_at) if item.created_at else "",
    )


def stored_settings(tenant: Tenant) -> str:
    return json.dumps(tenant.settings.to_stored(), ensure_ascii=False)


def new_item(tenant: Tenant, now: datetime) -> TenantItem:
    gsi1pk, gsi1sk = gsi1(tenant.status.value, now, tenant.tenant_id)
    return TenantItem(
        keys.tenant_pk(tenant.tenant_id),
        keys.tenant_profile_sk(),
        **attrs_of(tenant, "tenant_id", *CONTACT),
        status=tenant.status.value,
        settings_json=stored_settings(tenant),
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        created_at=now,
        updated_at=now,
    )


def fill_profile(item: TenantItem, tenant: Tenant, now: datetime) -> TenantItem:
    """Copy the tenant's editable profile (contact, settings, direct-rail ids) onto its item."""
    for name, value in attrs_of(tenant, *CONTACT, *PROFILE_RAILS).items():
        setattr(item, name, value)
    item.settings_json = stored_settings(tenant)
    item.updated_at = now
    return item


class TenantRepository:
    def create(self, tenant: Tenant, now: datetime) -> None:
        item = new_item(tenant, now)
        with translated("tenant already exists"):
            item.save(condition=TenantItem.pk.does_not_exist())
        CONTEXTS.invalidate(tenant.tenant_id)

    def _item(self, tenant_id: str) -> TenantItem | None:
        return item_or_none(TenantItem.get, keys.tenant_pk(tenant_id), keys.tenant_profile_sk(), consistent_read=True)

    def get(self, tenant_id: str) -> Tenant | None:
        item = self._item(tenant_id)
        return to_domain(item) if item else None

    def list(self, status: TenantStatus | None, limit: int, cursor: str | None) -> Page[Tenant]:
        condition = TenantItem.gsi1sk.startswith(keys.tenants_by_status_prefix(status.value)) if status else None
        return query_page(
            TenantItem.gsi1.query,
            ALL_TENANTS,
            cursor,
            to_domain,
            hash_attr="gsi1pk",
            kind=TenantItem,
            range_key_condition=condition,
            limit=limit,
            scan_index_forward=False,
        )

    def was_approved(self, tenant_id: str) -> bool:
        """Approved (or created active) at some point: it was, or it has had a key."""
        from simrenew.adapters.dynamodb.models import ApiKeyItem

        item = self._item(tenant_id)
        if item is None:
            return False
        if item.approved_at:
            return True
        pk = keys.tenant_pk(tenant_id)
        return any(True for _ in ApiKeyItem.query(pk, ApiKeyItem.sk.startswith(keys.api_key_sk("")), limit=1))

    def set_status(self, tenant_id: str, allowed_from: set[TenantStatus], to: TenantStatus, now: datetime) -> Tenant:
        """Move a tenant between statuses; refuse (409) if it is not in one of `allowed_from`."""
        item = self._item(tenant_id)
        if item is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        if TenantStatus(item.status) not in allowed_from:
            raise Conflict(f"tenant is {item.status}", code="invalid_tenant_state")
        _, gsi1sk = gsi1(to.value, item.created_at or now, tenant_id)
        actions: list[Action] = [
            TenantItem.status.set(to.value),
            TenantItem.gsi1sk.set(gsi1sk),
            TenantItem.updated_at.set(now),
        ]
        if to is TenantStatus.ACTIVE:
            actions.append(TenantItem.approved_at.set(now))
        if to is TenantStatus.SUSPENDED:
            actions.append(TenantItem.suspended_at.set(now))
        CONTEXTS.invalidate(tenant_id)  # this container's pay page and orders see the change at once
        with translated("tenant changed meanwhile; retry", "invalid_tenant_state"):
            item.update(actions=actions, condition=TenantItem.status == item.status)
        CONTEXTS.invalidate(tenant_id)
        return to_domain(item)

    def update_profile(self, tenant: Tenant, now: datetime) -> Tenant:
        item = self._item(tenant.tenant_id)
        if item is None:
            raise NotFound("no such tenant", code="tenant_not_found")
        before = TenantSettings.from_stored(json.loads(item.settings_json))
        new = tenant.settings
        if (before.reminder_days, before.grace_days) != (new.reminder_days, new.grace_days):
            # The sweep plans its dates from the registry of every agent's values: recorded
            # first, so a crash before the save below leaves an unused value, never a missing one.
            SweepRepository().record_offsets(new.reminder_days, {new.grace_days}, now)
        fill_profile(item, tenant, now)
        # VersionAttribute makes this a conditional write: a concurrent PATCH gets a 409.
        CONTEXTS.invalidate(tenant.tenant_id)
        with translated("tenant was changed by another request; reload and retry", "concurrent_update"):
            item.save()
        CONTEXTS.invalidate(tenant.tenant_id)
        return to_domain(item)
