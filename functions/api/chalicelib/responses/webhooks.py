"""Answers of the outbound webhook routes: the agent's endpoints and their deliveries."""

from __future__ import annotations

from typing import Any

from chalicelib.responses._base import Out, Page, WebhookDeliveryState, WebhookEvent


class WebhookEndpoint(Out):
    endpoint_id: str
    url: str
    events: list[WebhookEvent]
    description: str | None
    active: bool
    created_at: str | None


class WebhookEndpointCreated(WebhookEndpoint):
    """A new endpoint with its signing secret (shown once; null on an idempotent replay)."""

    secret: str | None


class WebhookEndpointPage(Page[WebhookEndpoint]):
    pass


class WebhookDelivery(Out):
    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: WebhookEvent
    state: WebhookDeliveryState
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None
    created_at: str | None
    payload: dict[str, Any]  # the event as it was signed and sent: its own schema per event type


class WebhookDeliveryPage(Page[WebhookDelivery]):
    pass


MODELS = [WebhookEndpoint, WebhookEndpointCreated, WebhookEndpointPage, WebhookDelivery, WebhookDeliveryPage]
