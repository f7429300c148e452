"""Import jobs: the uploaded file in chunks, progress counters, row errors, a worker lease."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from pynamodb.exceptions import PutError

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import store_unavailable, translated
from simrenew.adapters.dynamodb.fleet import to_terminal
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import (
    POOL_CONNECTIONS,
    ImportChunkItem,
    ImportErrorItem,
    ImportItem,
    TerminalItem,
    connection,
)
from simrenew.adapters.dynamodb.paging import Page, query_page
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.domain import imports as domain
from simrenew.domain.fleet import Terminal
from simrenew.domain.imports import Counts as Counts
from simrenew.domain.imports import ImportJob
from simrenew.domain.imports import RowError as RowError
from simrenew.errors import Conflict, TransientStoreError
from simrenew.ports.imports import Upload

CHUNK_BYTES = 350_000  # DynamoDB items are capped at 400 KB
RETENTION = timedelta(days=30)
LEASE = timedelta(minutes=2)


def to_import_job(item: ImportItem) -> ImportJob:
    counts = {
        name: int(getattr(item, name)) for name in ("total", "processed", "created", "updated", "unchanged", "failed")
    }
    size_bytes = int(item.size_bytes) if item.size_bytes is not None else None
    return from_item(item, ImportJob, size_bytes=size_bytes, **counts)


def new_job(tenant_id: str, import_id: str, created_by: str, now: datetime, **fields: Any) -> ImportItem:
    """A job's item, kept RETENTION days and listed in the tenant's history (newest first: only
    jobs are in it, never their chunks or errors); `fields` are the rest of its attributes."""
    return ImportItem(
        keys.tenant_pk(tenant_id),
        keys.import_sk(import_id),
        gsi1pk=keys.imports_gsi1pk(tenant_id),
        gsi1sk=keys.imports_gsi1sk(now, import_id),
        ttl=now + RETENTION,
        tenant_id=tenant_id,
        import_id=import_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **fields,
    )


def new_upload_job(tenant_id: str, import_id: str, upload: Upload, created_by: str, now: datetime) -> ImportItem:
    """A job waiting for its file: the client PUTs it to upload.object_key, whose arrival starts it."""
    return new_job(
        tenant_id,
        import_id,
        created_by,
        now,
        status="awaiting_upload",
        file_sha256="",
        chunks=0,
        total=0,
        source="upload",
        **attrs_of(upload, "object_key", "filename", "size_bytes"),
    )


def error_item(tenant_id: str, import_id: str, error: RowError, now: datetime) -> ImportErrorItem:
    """A row's error, keyed by its row."""
    return ImportErrorItem(
        keys.tenant_pk(tenant_id),
        keys.import_error_sk(import_id, error.row),
        **attrs_of(error, "row", "field", "code", "message"),
        ttl=now + RETENTION,
    )


def to_row_error(item: ImportErrorItem) -> RowError:
    return RowError(int(item.row), item.field, item.code, item.message)


class ImportRepository:
    """simrenew.ports.imports.ImportStore over the single table."""

    max_writers = POOL_CONNECTIONS

    def job(self, item: ImportItem) -> ImportJob:
        return to_import_job(item)

    def terminal(self, item: TerminalItem) -> Terminal:
        return to_terminal(item)

    def warm(self) -> None:
        connection()

    def unavailable(self, exc: BaseException) -> TransientStoreError | None:
        return store_unavailable(exc)

    def create(
        self, tenant_id: str, import_id: str, data: bytes, total: int, sha256: str, created_by: str, now: datetime
    ) -> None:
        pk = keys.tenant_pk(tenant_id)
        chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        # Chunks first, job last: a job that exists always has its whole file.
        with ImportChunkItem.batch_write() as batch:
            for index, chunk in enumerate(chunks):
                batch.save(ImportChunkItem(pk, keys.import_chunk_sk(import_id, index), data=chunk, ttl=now + RETENTION))
        job = new_job(
            tenant_id, import_id, created_by, now, status="queued", file_sha256=sha256, chunks=len(chunks), total=total
        )
        job.save(condition=ImportItem.pk.does_not_exist())

    def create_upload(
        self, tenant_id: str, import_id: str, upload: Upload, created_by: str, now: datetime
    ) -> ImportItem:
        job = new_upload_job(tenant_id, import_id, upload, created_by, now)
        job.save(condition=ImportItem.pk.does_not_exist())
        return job

    def uploaded(self, job: ImportItem, size_bytes: int, etag: str, now: datetime) -> bool:
        """The file arrived: awaiting_upload → queued, once (S3 may deliver its event twice). The
        declared size stays: the worker compares the object's own size with it."""
        try:
            with translated():
                job.update(
                    actions=[
                        ImportItem.status.set("queued"),
                        ImportItem.file_sha256.set(f"etag:{etag}"),
                        ImportItem.updated_at.set(now),
                    ],
                    condition=ImportItem.status == "awaiting_upload",
                )
            return True
        except Conflict:
            return False

    def detected(self, job: ImportItem, encoding: str, total: int, now: datetime) -> None:
        """The worker's first pass over an uploaded file: its encoding and row count."""
        job.update(
            actions=[
                ImportItem.encoding.set(encoding),
                ImportItem.total.set(total),
                ImportItem.updated_at.set(now),
                ImportItem.heartbeat_at.set(now),
            ],
            condition=ImportItem.status == "running",
        )

    def get(self, tenant_id: str, import_id: str) -> ImportItem | None:
        return item_or_none(ImportItem.get, keys.tenant_pk(tenant_id), keys.import_sk(import_id), consistent_read=True)

    def open_file(self, job: ImportItem) -> BinaryIO:
        """A body import's file (at most a few MB in chunks) as a stream."""
        return io.BytesIO(self.file(job))

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ImportItem]:
        """The tenant's imports, newest first (kept RETENTION days, like the files)."""
        return query_page(
            ImportItem.gsi1.query,
            keys.imports_gsi1pk(tenant_id),
            cursor,
            lambda item: item,
            hash_attr="gsi1pk",
            kind=ImportItem,
            limit=limit,
            scan_index_forward=False,
        )

    def file(self, job: ImportItem) -> bytes:
        pk = keys.tenant_pk(job.tenant_id)
        wanted = [(pk, keys.import_chunk_sk(job.import_id, i)) for i in range(int(job.chunks))]
        parts = {c.sk: bytes(c.data or b"") for c in ImportChunkItem.batch_get(wanted)}
        return b"".join(parts[sk] for _, sk in wanted)

    def acquire(self, job: ImportItem, now: datetime) -> bool:
        """Take the worker lease: a job runs in one worker at a time; a dead worker's lease lapses."""
        try:
            with translated():
                job.update(
                    actions=[ImportItem.status.set("running"), ImportItem.heartbeat_at.set(now)],
                    condition=ImportItem.status.is_in("queued", "running", "failed")
                    & (ImportItem.heartbeat_at.does_not_exist() | (ImportItem.heartbeat_at < now - LEASE)),
                )
            return True
        except Conflict:
            return False

    def progress(self, job: ImportItem, counts: Counts, now: datetime) -> None:
        """Add a batch's counts and move the checkpoint (processed) in one conditional write."""
        job.update(
            actions=[
                ImportItem.processed.add(counts.processed),
                ImportItem.created.add(counts.created),
                ImportItem.updated.add(counts.updated),
                ImportItem.unchanged.add(counts.unchanged),
                ImportItem.failed.add(counts.failed),
                ImportItem.heartbeat_at.set(now),
                ImportItem.updated_at.set(now),
            ],
            condition=ImportItem.status == "running",
        )

    def release(self, job: ImportItem, now: datetime) -> None:
        """Hand the job back (time limit reached) so the next invocation can take it at once."""
        job.update(actions=[ImportItem.heartbeat_at.remove(), ImportItem.updated_at.set(now)])

    def interrupt(self, job: ImportItem, now: datetime, message: str) -> None:
        """The worker gave up for now (the data store stayed busy): "failed" with the reason, the
        lease dropped, so a retry of the invocation (or the agent's Resume) continues at once
        from the checkpoint."""
        job.update(
            actions=[
                ImportItem.status.set("failed"),
                ImportItem.error_message.set(message),
                ImportItem.heartbeat_at.remove(),
                ImportItem.updated_at.set(now),
            ]
        )

    def finish(self, job: ImportItem, status: str, now: datetime, message: str | None = None) -> None:
        actions: list[Any] = [
            ImportItem.status.set(status),
            ImportItem.finished_at.set(now),
            ImportItem.updated_at.set(now),
        ]
        # A finished run's message replaces an interrupted one's (or clears it).
        actions.append(ImportItem.error_message.set(message) if message else ImportItem.error_message.remove())
        job.update(actions=actions)

    def add_errors(self, tenant_id: str, import_id: str, errors: Sequence[RowError], now: datetime) -> None:
        """Keyed by row, so a rerun overwrites instead of duplicating."""
        try:
            with ImportErrorItem.batch_write() as batch:
                for e in errors:
                    batch.save(error_item(tenant_id, import_id, e, now))
        except PutError as exc:  # pragma: no cover - surfaced as a failed import
            raise Conflict("could not record row errors") from exc

    def errors(self, tenant_id: str, import_id: str, limit: int | None = None) -> list[RowError]:
        pk = keys.tenant_pk(tenant_id)
        items = ImportErrorItem.query(
            pk, ImportErrorItem.sk.startswith(keys.import_errors_prefix(import_id)), limit=limit
        )
        return [to_row_error(i) for i in items]


def job_json(job: ImportItem, errors: list[RowError], error_limit: int) -> dict[str, Any]:
    return domain.job_json(to_import_job(job), errors, error_limit)
