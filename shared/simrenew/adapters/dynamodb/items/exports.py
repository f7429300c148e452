"""CSV exports: the job (the file itself is in the bucket)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item


class ExportItem(Item, discriminator="export"):
    """A CSV export job; the worker writes the file to the bucket (exports/<tenant_id>/<export_id>.csv).

    Key: PK `TENANT#<tenant_id>`, SK `EXPORT#<export_id>`.
    TTL: 2 days (the file's lifecycle rule removes it after 1).
    """

    tenant_id = UnicodeAttribute()
    export_id = UnicodeAttribute()
    export_kind = UnicodeAttribute()  # terminals|orders|ledger|notifications|expiring
    filters = UnicodeAttribute()  # JSON object, as given
    status = UnicodeAttribute()  # queued|running|done|failed
    rows = NumberAttribute(default=0)
    size_bytes = NumberAttribute(default=0)
    object_key = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    heartbeat_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
