"""WebhookRepository in memory: items built by the real builders, each delivery write conditional
on the version read (one of two retry workers wins), the retry queue as a sparse index."""

from __future__ import annotations

from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.webhooks import (
    WebhookDeliveryItem,
    WebhookEndpointItem,
    WebhookRepository,
    new_delivery,
    new_endpoint,
)
from simrenew.errors import Conflict, ValidationError
from simrenew.ports.paging import Page
from simrenew.ports.webhooks import WebhookEndpoint, WebhookEvent
from tests.support.fakes.table import FakeTable, paged


class FakeWebhookRepository(WebhookRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpointItem:
        item = new_endpoint(endpoint)
        if not self.table.put_if(item, new=True):
            raise Conflict("the webhook endpoint already exists")
        return item

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpointItem | None:
        return self.table.get(WebhookEndpointItem, keys.tenant_pk(tenant_id), keys.webhook_endpoint_sk(endpoint_id))

    def active_endpoints(self, tenant_id: str) -> list[WebhookEndpointItem]:
        found = self.table.query(WebhookEndpointItem, keys.tenant_pk(tenant_id), keys.webhook_endpoints_prefix())
        return [i for i in found if i.active]

    def list_endpoints(self, tenant_id: str, limit: int, cursor: str | None) -> Page[WebhookEndpointItem]:
        items, next_cursor = paged(self.active_endpoints(tenant_id), limit, cursor)
        return Page(items, next_cursor)

    def disable_endpoint(self, tenant_id: str, endpoint_id: str, now: datetime) -> bool:
        item = self.get_endpoint(tenant_id, endpoint_id)
        if item is None or not item.active:
            return False
        item.active, item.updated_at = False, now
        self.table.put(item)
        return True

    def _save(self, item: WebhookDeliveryItem, *, new: bool = False) -> bool:
        return self.table.put_if(item, new=new)

    def add_delivery(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> WebhookDeliveryItem:
        item = new_delivery(endpoint, delivery_id, event, next_attempt_at, now)
        if not self._save(item, new=True):
            raise Conflict("the delivery already exists")
        return item

    def add_delivery_once(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> WebhookDeliveryItem | None:
        item = new_delivery(endpoint, delivery_id, event, next_attempt_at, now)
        return item if self._save(item, new=True) else None

    def update_delivery(self, tenant_id: str, item: WebhookDeliveryItem, now: datetime) -> bool:
        if item.pk != keys.tenant_pk(tenant_id) or item.tenant_id != tenant_id:
            raise ValueError("the delivery belongs to another tenant")
        item.updated_at = now
        return self._save(item)  # versioned: refused when it changed since it was read

    def get_delivery(self, tenant_id: str, delivery_sk: str) -> WebhookDeliveryItem | None:
        return self.table.get(WebhookDeliveryItem, keys.tenant_pk(tenant_id), delivery_sk)

    def list_deliveries(
        self, tenant_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[WebhookDeliveryItem]:
        if cursor is not None and not cursor.isdigit():
            raise ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned")
        found = self.table.query(
            WebhookDeliveryItem, keys.tenant_pk(tenant_id), keys.webhook_delivery_prefix(endpoint_id)
        )
        items, next_cursor = paged(found[::-1], limit, cursor)  # newest first
        return Page(items, next_cursor)

    def due_retries(self, shard: int, before: datetime, limit: int) -> list[WebhookDeliveryItem]:
        bound = keys.webhook_retry_due_bound(before)
        found = self.table.index(WebhookDeliveryItem, "gsi2pk", keys.webhook_retry_gsi2pk(shard), "gsi2sk")
        return [i for i in found if str(i.gsi2sk) < bound][:limit]

    def deliveries(self) -> list[WebhookDeliveryItem]:
        """Every delivery of every tenant (for tests)."""
        return list(self.table.scan(WebhookDeliveryItem))
