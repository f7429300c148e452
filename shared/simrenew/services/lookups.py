"""The "that agent's thing, or 404" look-ups the order services share (another tenant's id is
answered exactly like a missing one)."""

from __future__ import annotations

from simrenew.adapters.dynamodb.models import OrderItem
from simrenew.adapters.dynamodb.orders import OrderRepository
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.domain.tenant import Tenant
from simrenew.errors import NotFound


def tenant_or_404(tenants: TenantRepository, tenant_id: str) -> Tenant:
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise NotFound("no such agent", code="tenant_not_found")
    return tenant


def order_item_or_404(orders: OrderRepository, tenant_id: str, order_id: str) -> OrderItem:
    item = orders.item(tenant_id, order_id) if order_id.startswith("o_") else None
    if item is None:
        raise NotFound("no such order", code="order_not_found")
    return item
