"""Bulk imports: the job, the uploaded file's chunks and the refused rows."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute

from simrenew.adapters.dynamodb.items.base import Item, Job


class ImportItem(Job, Item, discriminator="import"):
    """A bulk import job: status, counters (the checkpoint) and the worker lease.

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>`.
    Index gsi1 `TENANT#<tenant_id>#IMPORTS` / `<created_at µs>#<import_id>`: the tenant's import history.
    TTL: 30 days.
    """

    # status: awaiting_upload|queued|running|done|failed
    import_id = UnicodeAttribute()
    file_sha256 = UnicodeAttribute()
    chunks = NumberAttribute()
    # Presigned uploads (source "upload"): the file is the S3 object (object_key), read as a stream;
    # else the body's chunks in the table. encoding is found by the worker's first pass over the file.
    source = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    total = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)


class ImportChunkItem(Item, discriminator="import_chunk"):
    """A slice of the uploaded file (items are capped at 400 KB).

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>#CHUNK#<index:05d>`.
    TTL: 30 days.
    """

    data = BinaryAttribute(legacy_encoding=False)


class ImportErrorItem(Item, discriminator="import_error"):
    """One refused row of an import, keyed by row so a rerun overwrites it.

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>#ERR#<row:07d>`.
    TTL: 30 days.
    """

    row = NumberAttribute()
    field = UnicodeAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()
