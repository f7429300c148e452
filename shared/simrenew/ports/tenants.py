"""The tenants port: agents (租户), their status and profile, in domain terms."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from simrenew.domain.tenant import Tenant, TenantStatus
from simrenew.ports.paging import Page


class Tenants(Protocol):
    def create(self, tenant: Tenant, now: datetime) -> None: ...

    def get(self, tenant_id: str) -> Tenant | None: ...

    def list(self, status: TenantStatus | None, limit: int, cursor: str | None) -> Page[Tenant]: ...

    def was_approved(self, tenant_id: str) -> bool:
        """Whether the agent was ever approved (a signup key activates it only the first time)."""
        ...

    def set_status(self, tenant_id: str, allowed_from: set[TenantStatus], to: TenantStatus, now: datetime) -> Tenant:
        """Move the agent to `to` if its status is one of `allowed_from` (Conflict otherwise)."""
        ...

    def update_profile(self, tenant: Tenant, now: datetime) -> Tenant: ...
