"""CSV exports: the job (the file itself is in the bucket)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from simrenew.adapters.dynamodb.items.base import Item, Job


class ExportItem(Job, Item, discriminator="export"):
    """A CSV export job; the worker writes the file to the bucket (exports/<tenant_id>/<export_id>.csv).

    Key: PK `TENANT#<tenant_id>`, SK `EXPORT#<export_id>`.
    TTL: 2 days (the file's lifecycle rule removes it after 1).
    """

    # status: queued|running|done|failed
    export_id = UnicodeAttribute()
    export_kind = UnicodeAttribute()  # terminals|orders|ledger|notifications|expiring
    filters = UnicodeAttribute()  # JSON object, as given
    rows = NumberAttribute(default=0)
    size_bytes = NumberAttribute(default=0)
