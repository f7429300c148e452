"""The API-key port: the tenant's keys (listed, revoked) and the global look-up that authenticates one."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Literal, Protocol

from simrenew.domain.tenant import ApiKey, Role, Tenant
from simrenew.ports.paging import Page


class KeyLookup:
    """What authenticating a key needs: whose it is, its role, the SHA-256 of the whole key."""

    def __init__(self, tenant_id: str, role: Role, key_hash: str, revoked: bool) -> None:
        self.tenant_id = tenant_id
        self.role = role
        self.key_hash = key_hash
        self.revoked = revoked


# What becomes of the key's tenant in the key's own write: it must be "active" already, "approve"
# moves it from pending review to active, or a Tenant value is created (active) with its first key.
TenantChange = Tenant | Literal["active", "approve"]


class ApiKeys(Protocol):
    def create(self, key: ApiKey, key_hash: str, now: datetime, *, tenant: TenantChange = "active") -> None: ...

    def lookup(self, key_id: str) -> KeyLookup | None: ...

    def get(self, tenant_id: str, key_id: str) -> ApiKey | None: ...

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]: ...

    def list_all(self, tenant_id: str) -> builtins.list[ApiKey]: ...

    def revoke(self, tenant_id: str, key_id: str, now: datetime) -> None: ...


class Secret(Protocol):
    """A secret read on first use (the platform key)."""

    def get(self) -> str: ...
