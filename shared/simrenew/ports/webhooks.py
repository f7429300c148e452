"""The agent webhooks port: endpoints and their deliveries (the retry queue included). The DynamoDB
adapter is simrenew.adapters.dynamodb.webhooks.WebhookRepository.

Endpoints and deliveries are opaque stored handles (type variables): the service reads them through
`endpoint` and `delivery` (domain values) and hands a delivery back to record what happened to it;
each delivery write is conditional on the version read, so two retry workers never both own one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from simrenew.ports.paging import Page

StoredEndpoint = TypeVar("StoredEndpoint")
StoredDelivery = TypeVar("StoredDelivery")


@dataclass(frozen=True)
class WebhookEndpoint:
    tenant_id: str
    endpoint_id: str
    url: str
    events_json: str  # a JSON list of event types
    secret: str
    description: str | None
    active: bool
    created_at: datetime | None


@dataclass(frozen=True)
class WebhookDelivery:
    tenant_id: str
    endpoint_id: str
    delivery_id: str
    event_id: str
    event_type: str
    payload_json: str
    state: str  # pending | delivered | failed
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime | None


@dataclass(frozen=True)
class WebhookEvent:
    """One event as every subscribed endpoint is sent it: `at` is when it happened (the time its
    deliveries' keys are made from) and `payload_json` the exact body."""

    event_id: str
    event_type: str
    payload_json: str
    at: datetime


@dataclass(frozen=True)
class Attempt:
    """What one attempt at a delivery came to: its HTTP status (None: no answer) and error, and the
    delivery's new state: delivered, pending (queued again at `retry_at`) or failed (out of the queue)."""

    status: int | None
    error: str | None
    state: str
    retry_at: datetime | None


class WebhookStore(Protocol[StoredEndpoint, StoredDelivery]):
    #: The store's own failures (its SDK's exceptions), handled like SimRenewError.
    store_errors: tuple[type[Exception], ...]
    #: How many shards the retry queue has.
    retry_shards: int

    def endpoint(self, item: StoredEndpoint) -> WebhookEndpoint: ...

    def delivery(self, item: StoredDelivery) -> WebhookDelivery: ...

    def create_endpoint(self, endpoint: WebhookEndpoint) -> StoredEndpoint:
        """Store a new endpoint as given (it was created at `endpoint.created_at`)."""
        ...

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> StoredEndpoint | None: ...

    def list_endpoints(self, tenant_id: str, limit: int, cursor: str | None) -> Page[StoredEndpoint]: ...

    def active_endpoints(self, tenant_id: str) -> list[StoredEndpoint]: ...

    def disable_endpoint(self, tenant_id: str, endpoint_id: str, now: datetime) -> bool:
        """False when there is no such endpoint."""
        ...

    def add_delivery(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> StoredDelivery:
        """A new pending delivery of `event` to `endpoint`, already queued for `next_attempt_at`."""
        ...

    def add_delivery_once(
        self, endpoint: WebhookEndpoint, delivery_id: str, event: WebhookEvent, next_attempt_at: datetime, now: datetime
    ) -> StoredDelivery | None:
        """add_delivery with a derived key: None when that delivery already exists."""
        ...

    def list_deliveries(
        self, tenant_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[StoredDelivery]: ...

    def due_retries(self, shard: int, before: datetime, limit: int) -> list[StoredDelivery]: ...

    def close_delivery(self, item: StoredDelivery, error: str, now: datetime) -> bool:
        """Failed for good without an attempt (its endpoint is gone): out of the retry queue.
        False when it changed since it was read."""
        ...

    def claim_delivery(self, item: StoredDelivery, lease_until: datetime, now: datetime) -> bool:
        """Take a due delivery for an attempt: queued again at `lease_until` (if this worker dies,
        it is retried then). False when another worker took it first."""
        ...

    def record_attempt(self, item: StoredDelivery, attempt: Attempt, now: datetime) -> bool:
        """One attempt more, as `attempt` says (delivered at `now`). False when the delivery changed
        since it was read."""
        ...
