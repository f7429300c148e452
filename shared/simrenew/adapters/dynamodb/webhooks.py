"""Agents' outbound webhook endpoints and the log of every delivery, in the single table.

Pending deliveries also sit in a sparse, sharded retry queue on gsi2 (due time first), so
the retry job reads only what is due, never the whole log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import PynamoDBException

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import condition_held, translated
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import WebhookDeliveryItem as WebhookDeliveryItem
from simrenew.adapters.dynamodb.models import WebhookEndpointItem as WebhookEndpointItem
from simrenew.adapters.dynamodb.paging import Page, decode_cursor, encode_cursor, query_page
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.errors import ValidationError
from simrenew.ports.webhooks import Attempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

RETRY_SHARDS = keys.WEBHOOK_RETRY_SHARDS
DELIVERY_RETENTION = timedelta(days=30)


def queue_for_retry(item: WebhookDeliveryItem, at: datetime) -> None:
    """Put a pending delivery (back) in the retry queue, due at `at`."""
    item.next_attempt_at = at
    item.gsi2pk = keys.webhook_retry_gsi2pk(keys.webhook_retry_shard(item.delivery_id))
    item.gsi2sk = keys.webhook_retry_gsi2sk(at, item.tenant_id, item.sk)


def leave_retry_queue(item: WebhookDeliveryItem) -> None:
    """Delivered or failed: out of the sparse queue for good."""
    item.next_attempt_at = None
    item.gsi2pk = item.gsi2sk = None


def new_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpointItem:
    return WebhookEndpointItem(
        keys.tenant_pk(endpoint.tenant_id),
        keys.webhook_endpoint_sk(endpoint.endpoint_id),
        **attrs_of(endpoint, "tenant_id", "endpoint_id", "url", "secret", "active", "description", "created_at"),
        events=endpoint.events_json,
        updated_at=endpoint.created_at,
    )


def new_delivery(
    endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
) -> WebhookDeliveryItem:
    """A pending delivery (its key from the event time), already queued for `next_attempt_at`."""
    item = WebhookDeliveryItem(
        keys.tenant_pk(endpoint.tenant_id),
        keys.webhook_delivery_sk(endpoint.endpoint_id, event.at, delivery_id),
        tenant_id=endpoint.tenant_id,
        endpoint_id=endpoint.endpoint_id,
        delivery_id=delivery_id,
        **attrs_of(event, "event_type", "event_id", "payload_json"),
        attempts=0,
        state="pending",
        ttl=now + DELIVERY_RETENTION,
        created_at=now,
        updated_at=now,
    )
    queue_for_retry(item, next_attempt_at)
    return item


# --- repository --------------------------------------------------------------------------------
class WebhookRepository:
    """simrenew.ports.webhooks.WebhookStore over the single table."""

    store_errors: tuple[type[Exception], ...] = (PynamoDBException,)
    retry_shards = RETRY_SHARDS

    def endpoint(self, item: WebhookEndpointItem) -> WebhookEndpoint:
        return from_item(item, WebhookEndpoint, events_json=item.events, active=bool(item.active))

    def delivery(self, item: WebhookDeliveryItem) -> WebhookDelivery:
        last_status = int(item.last_status) if item.last_status is not None else None
        return from_item(item, WebhookDelivery, attempts=int(item.attempts), last_status=last_status)

    def close_delivery(self, item: WebhookDeliveryItem, error: str, now: datetime) -> bool:
        item.state = "failed"
        item.last_error = error
        leave_retry_queue(item)
        return self.update_delivery(item.tenant_id, item, now)

    def claim_delivery(self, item: WebhookDeliveryItem, lease_until: datetime, now: datetime) -> bool:
        queue_for_retry(item, lease_until)
        return self.update_delivery(item.tenant_id, item, now)

    def record_attempt(self, item: WebhookDeliveryItem, attempt: Attempt, now: datetime) -> bool:
        item.attempts = int(item.attempts) + 1
        item.last_status = attempt.status
        item.state = attempt.state
        item.last_error = attempt.error
        if attempt.state == "delivered":
            item.delivered_at = now
        if attempt.retry_at is None:
            leave_retry_queue(item)
        else:
            queue_for_retry(item, attempt.retry_at)
        return self.update_delivery(item.tenant_id, item, now)

    def create_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpointItem:
        item = new_endpoint(endpoint)
        with translated("the webhook endpoint already exists"):
            item.save(condition=WebhookEndpointItem.pk.does_not_exist())
        return item

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpointItem | None:
        sk = keys.webhook_endpoint_sk(endpoint_id)
        return item_or_none(WebhookEndpointItem.get, keys.tenant_pk(tenant_id), sk, consistent_read=True)

    def list_endpoints(self, tenant_id: str, limit: int, cursor: str | None) -> Page[WebhookEndpointItem]:
        """Active endpoints only (a deleted endpoint is disabled, its delivery log kept)."""
        return query_page(
            WebhookEndpointItem.query,
            keys.tenant_pk(tenant_id),
            cursor,
            lambda item: item,
            kind=WebhookEndpointItem,
            range_key_condition=WebhookEndpointItem.sk.startswith(keys.webhook_endpoints_prefix()),
            filter_condition=WebhookEndpointItem.active == True,  # noqa: E712 - a PynamoDB condition
            limit=limit,
        )

    def active_endpoints(self, tenant_id: str) -> list[WebhookEndpointItem]:
        result = WebhookEndpointItem.query(
            keys.tenant_pk(tenant_id),
            WebhookEndpointItem.sk.startswith(keys.webhook_endpoints_prefix()),
            filter_condition=WebhookEndpointItem.active == True,  # noqa: E712 - a PynamoDB condition
        )
        return [i for i in result if isinstance(i, WebhookEndpointItem)]

    def disable_endpoint(self, tenant_id: str, endpoint_id: str, now: datetime) -> bool:
        """False when there is no active endpoint with that id in this tenant."""
        item = WebhookEndpointItem(keys.tenant_pk(tenant_id), keys.webhook_endpoint_sk(endpoint_id))
        return condition_held(
            lambda: item.update(
                actions=[WebhookEndpointItem.active.set(False), WebhookEndpointItem.updated_at.set(now)],
                condition=WebhookEndpointItem.pk.exists() & (WebhookEndpointItem.active == True),  # noqa: E712
            )
        )

    def add_delivery(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> WebhookDeliveryItem:
        """A new pending delivery, already queued for `next_attempt_at` (so a crash before the
        first attempt is retried rather than lost)."""
        item = new_delivery(endpoint, delivery_id, event, next_attempt_at, now)
        with translated("the delivery already exists"):
            item.save(condition=WebhookDeliveryItem.pk.does_not_exist())
        return item

    def add_delivery_once(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> WebhookDeliveryItem | None:
        """add_delivery with a key the caller derived (delivery id and event time): None when
        that delivery already exists, so a rerun of the same outbox entry creates nothing."""
        item = new_delivery(endpoint, delivery_id, event, next_attempt_at, now)
        return item if condition_held(lambda: item.save(condition=WebhookDeliveryItem.pk.does_not_exist())) else None

    def update_delivery(self, tenant_id: str, item: WebhookDeliveryItem, now: datetime) -> bool:
        """Save a delivery's new state; False if someone else changed it since it was read
        (its version moved), so two retry workers never both own one attempt."""
        if item.pk != keys.tenant_pk(tenant_id) or item.tenant_id != tenant_id:
            raise ValueError("the delivery belongs to another tenant")
        item.updated_at = now
        return condition_held(item.save)

    def get_delivery(self, tenant_id: str, delivery_sk: str) -> WebhookDeliveryItem | None:
        return item_or_none(WebhookDeliveryItem.get, keys.tenant_pk(tenant_id), delivery_sk, consistent_read=True)

    def list_deliveries(
        self, tenant_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[WebhookDeliveryItem]:
        """Newest first."""
        pk = keys.tenant_pk(tenant_id)
        start = decode_cursor(cursor, hash_attr="pk", hash_value=pk)
        prefix = keys.webhook_delivery_prefix(endpoint_id)
        if start is not None and not start.get("sk", {}).get("S", "").startswith(prefix):
            raise ValidationError("cursor", "invalid_cursor", "cursor belongs to another list")
        result = WebhookDeliveryItem.query(
            pk,
            WebhookDeliveryItem.sk.startswith(prefix),
            limit=limit,
            last_evaluated_key=start,
            scan_index_forward=False,
        )
        items = [i for i in result if isinstance(i, WebhookDeliveryItem)]
        return Page(items, encode_cursor(result.last_evaluated_key))

    def due_retries(self, shard: int, before: datetime, limit: int) -> list[WebhookDeliveryItem]:
        """Pending deliveries of every tenant in one queue shard, due at or before `before`,
        oldest due first."""
        result = WebhookDeliveryItem.gsi2.query(
            keys.webhook_retry_gsi2pk(shard),
            WebhookDeliveryItem.gsi2sk < keys.webhook_retry_due_bound(before),
            limit=limit,
        )
        return [i for i in result if isinstance(i, WebhookDeliveryItem)]
