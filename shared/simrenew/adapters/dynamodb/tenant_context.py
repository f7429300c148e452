"""The tenant context: an agent's profile (settings, status, rails) and its plans, read in one Query
and kept per container (one Lambda container is one process) for a short TTL (issue 17).

Why it is safe to serve from memory:
- `version` is the tenant item's VersionAttribute. Every write of the tenant item bumps it (PynamoDB
  adds the increment to each save and update), and every plan write bumps it in the same
  transaction as the plan (PlanRepository). So a context whose version is the stored one is exact.
- The pay page (public look-up) uses a context up to `CONTEXT_TTL_S` old: an agent's settings or
  plan change shows there within that time (at once in the container that made the change: its
  writes drop its own entry).
- An order never charges a stale price or setting: its transaction carries a ConditionCheck on the
  tenant's version; a stale context fails it, is read again and the order is made once more.

Tenant isolation: entries are keyed by tenant id and only ever filled from that tenant's partition.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item, PlanItem, TenantItem
from simrenew.domain.fleet import Plan
from simrenew.domain.tenant import Tenant

CONTEXT_TTL_S = 30  # how long a container serves the pay page from a context it read
MERCHANT_NAME_TTL_S = 300  # the masked merchant name on the pay page (a rename shows within this)
_MAX_ENTRIES = 5000  # bound on memory: the cache is cleared when it grows past this


@dataclass(frozen=True)
class TenantContext:
    tenant: Tenant
    plans: tuple[Plan, ...]  # every plan of the tenant, active or not
    version: int  # the tenant item's version when read
    read_at: datetime

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.plan_id == plan_id), None)

    def active_plans(self) -> list[Plan]:
        return [p for p in self.plans if p.active]


def read_context(tenant_id: str, now: datetime) -> TenantContext | None:
    """The profile and the plans in one consistent Query (PLAN# .. PROFILE sort together)."""
    from simrenew.adapters.dynamodb.fleet import _plan
    from simrenew.adapters.dynamodb.tenants import to_domain

    profile: TenantItem | None = None
    plans: list[Plan] = []
    sort = Item.sk.between(keys.tenant_context_lower_sk(), keys.tenant_profile_sk())
    for item in Item.query(keys.tenant_pk(tenant_id), sort, consistent_read=True):
        if isinstance(item, TenantItem):
            profile = item
        elif isinstance(item, PlanItem):
            plans.append(_plan(item))
    if profile is None or profile.tenant_id != tenant_id:
        return None
    return TenantContext(to_domain(profile), tuple(plans), int(profile.version or 0), now)


class TenantContextCache:
    """tenant id → context, per container; thread-safe; bounded."""

    def __init__(self, ttl_s: int = CONTEXT_TTL_S) -> None:
        self._ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._entries: dict[str, TenantContext] = {}

    def get(self, tenant_id: str, now: datetime, *, fresh: bool = False) -> TenantContext | None:
        """The cached context if younger than the TTL (and not `fresh`), else read (one Query)."""
        with self._lock:
            hit = self._entries.get(tenant_id)
        if hit is not None and not fresh and timedelta(0) <= now - hit.read_at < self._ttl:
            return hit
        ctx = self._read(tenant_id, now)
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            if ctx is None:
                self._entries.pop(tenant_id, None)
            else:
                self._entries[tenant_id] = ctx
        return ctx

    def _read(self, tenant_id: str, now: datetime) -> TenantContext | None:
        return read_context(tenant_id, now)

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class MerchantNameCache:
    """(tenant id, merchant id) → the merchant's name, per container, for the pay page's masked name."""

    def __init__(self, ttl_s: int = MERCHANT_NAME_TTL_S) -> None:
        self._ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[str | None, datetime]] = {}

    def get(self, tenant_id: str, merchant_id: str, now: datetime) -> tuple[bool, str | None]:
        """(found in the cache, name)."""
        with self._lock:
            hit = self._entries.get((tenant_id, merchant_id))
        if hit is not None and timedelta(0) <= now - hit[1] < self._ttl:
            return True, hit[0]
        return False, None

    def put(self, tenant_id: str, merchant_id: str, name: str | None, now: datetime) -> None:
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[(tenant_id, merchant_id)] = (name, now)

    def invalidate(self, tenant_id: str, merchant_id: str) -> None:
        with self._lock:
            self._entries.pop((tenant_id, merchant_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# One of each per container (process): the repositories' writes drop their entries here.
CONTEXTS = TenantContextCache()
MERCHANT_NAMES = MerchantNameCache()
