"""The "that agent's thing, or 404" look-ups the order services share (another tenant's id is
answered exactly like a missing one)."""

from __future__ import annotations

from typing import TypeVar

from simrenew.domain.tenant import Tenant
from simrenew.errors import NotFound
from simrenew.ports.orders import StoredOrders
from simrenew.ports.tenants import Tenants

Stored = TypeVar("Stored")


def tenant_or_404(tenants: Tenants, tenant_id: str, message: str = "no such agent") -> Tenant:
    """The agent, or a 404 `tenant_not_found` (the fleet's routes say "no such tenant")."""
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise NotFound(message, code="tenant_not_found")
    return tenant


def order_item_or_404(orders: StoredOrders[Stored], tenant_id: str, order_id: str) -> Stored:
    item = orders.item(tenant_id, order_id) if order_id.startswith("o_") else None
    if item is None:
        raise NotFound("no such order", code="order_not_found")
    return item
