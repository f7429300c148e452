"""Agents' webhooks: the endpoints and each delivery."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, Retried, TenantOwned, Versioned


# --- items -------------------------------------------------------------------------------------
class WebhookEndpointItem(TenantOwned, Item, discriminator="webhook_endpoint"):
    """An agent's outbound webhook endpoint (URL, event types, signing secret).

    Key: PK `TENANT#<tenant_id>`, SK `WHEP#<endpoint_id>`.
    """

    endpoint_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = UnicodeAttribute()  # JSON list of event types
    secret = UnicodeAttribute()  # needed to sign every delivery, so kept as is
    active = BooleanAttribute(default=True)
    description = UnicodeAttribute(null=True)


class WebhookDeliveryItem(TenantOwned, Retried, Versioned, Item, discriminator="webhook_delivery"):
    """One delivery of one event to one endpoint, with its attempts.

    Key: PK `TENANT#<tenant_id>`, SK `WHDL#<endpoint_id>#<at>#<delivery_id>`.
    Index gsi2 `WEBHOOK_RETRY#<shard>` / `<next_attempt_at>#<tenant_id>#<sk>`: pending deliveries by due time (sparse).
    TTL: 30 days.
    """

    endpoint_id = UnicodeAttribute()
    delivery_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    event_id = UnicodeAttribute()
    payload_json = UnicodeAttribute()  # the exact body sent, so every retry sends the same bytes
    state = UnicodeAttribute()  # pending | delivered | failed
    last_status = NumberAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
