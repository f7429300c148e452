"""The outbox: an agent webhook event written in the same transaction as its change."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, Retried, TenantOwned


class OutboxItem(TenantOwned, Retried, Item, discriminator="outbox"):
    """An agent webhook event waiting to be (or already) handed to the webhook deliveries.

    Key: PK `TENANT#<tenant_id>`, SK `OUTBOX#<sha256(event_type, dedupe_key)[:40]>`.
    Index gsi1 `OUTBOX_PENDING#<shard>` / `<next_attempt_at>#<tenant_id>#<sk>`: not yet delivered, by due time (sparse).
    TTL: 30 days after it is delivered or dropped.
    """

    event_type = UnicodeAttribute()
    event_id = UnicodeAttribute()  # derived from the entry: the `id` agents dedupe on
    dedupe_key = UnicodeAttribute()
    data_json = UnicodeAttribute()
    state = UnicodeAttribute()  # pending | delivered | dropped
    delivered_at = UTCDateTimeAttribute(null=True)
