"""ImportRepository in memory: jobs keyed like the real ones, each write conditional on the job's
stored state (the lease, the checkpoint), applied to the caller's handle only once it succeeded."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import BinaryIO

from simrenew.adapters.dynamodb import imports as real
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import ImportErrorItem, ImportItem, Item
from simrenew.domain.imports import Counts, RowError
from simrenew.ports.imports import Upload
from tests.support.fakes.table import Cancelled, FakeTable


class FakeImportRepository(real.ImportRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table
        self.files: dict[tuple[str, str], bytes] = {}  # a body import's file (the chunks' bytes)

    def warm(self) -> None:
        pass  # no client to build

    def _change(
        self, job: ImportItem, change: Callable[[ImportItem], None], check: Callable[[ImportItem], bool] | None = None
    ) -> bool:
        new = copy.deepcopy(job)
        change(new)

        def holds(stored: Item | None) -> bool:
            return isinstance(stored, ImportItem) and (check is None or check(stored))

        try:
            with self.table.tx() as tx:
                tx.update((job.pk, job.sk), lambda _stored: new, check=holds)
        except Cancelled:
            return False
        for name in ImportItem.get_attributes():
            setattr(job, name, getattr(new, name))
        return True

    def create(
        self, tenant_id: str, import_id: str, data: bytes, total: int, sha256: str, created_by: str, now: datetime
    ) -> None:
        self.files[(tenant_id, import_id)] = data
        job = real.new_job(
            tenant_id, import_id, created_by, now, status="queued", file_sha256=sha256, chunks=1, total=total
        )
        self.table.put(job, new=True)

    def create_upload(
        self, tenant_id: str, import_id: str, upload: Upload, created_by: str, now: datetime
    ) -> ImportItem:
        job = real.new_upload_job(tenant_id, import_id, upload, created_by, now)
        self.table.put(job, new=True)
        return job

    def get(self, tenant_id: str, import_id: str) -> ImportItem | None:
        return self.table.get(ImportItem, keys.tenant_pk(tenant_id), keys.import_sk(import_id))

    def open_file(self, job: ImportItem) -> BinaryIO:
        return io.BytesIO(self.files[(job.tenant_id, job.import_id)])

    def uploaded(self, job: ImportItem, size_bytes: int, etag: str, now: datetime) -> bool:
        def change(j: ImportItem) -> None:
            j.status, j.file_sha256, j.updated_at = "queued", f"etag:{etag}", now

        return self._change(job, change, lambda s: s.status == "awaiting_upload")

    def detected(self, job: ImportItem, encoding: str, total: int, now: datetime) -> None:
        def change(j: ImportItem) -> None:
            j.encoding, j.total, j.updated_at, j.heartbeat_at = encoding, total, now, now

        self._change(job, change, lambda s: s.status == "running")

    def acquire(self, job: ImportItem, now: datetime) -> bool:
        def free(s: ImportItem) -> bool:
            return s.status in ("queued", "running", "failed") and (
                s.heartbeat_at is None or s.heartbeat_at < now - real.LEASE
            )

        def change(j: ImportItem) -> None:
            j.status, j.heartbeat_at = "running", now

        return self._change(job, change, free)

    def progress(self, job: ImportItem, counts: Counts, now: datetime) -> None:
        stored = self.get(job.tenant_id, job.import_id)
        assert stored is not None

        def change(j: ImportItem) -> None:  # ADD: onto the stored counters
            j.processed = int(stored.processed) + counts.processed
            j.created = int(stored.created) + counts.created
            j.updated = int(stored.updated) + counts.updated
            j.unchanged = int(stored.unchanged) + counts.unchanged
            j.failed = int(stored.failed) + counts.failed
            j.heartbeat_at = j.updated_at = now

        self._change(job, change, lambda s: s.status == "running")

    def release(self, job: ImportItem, now: datetime) -> None:
        def change(j: ImportItem) -> None:
            j.heartbeat_at, j.updated_at = None, now

        self._change(job, change)

    def interrupt(self, job: ImportItem, now: datetime, message: str) -> None:
        def change(j: ImportItem) -> None:
            j.status, j.error_message, j.heartbeat_at, j.updated_at = "failed", message, None, now

        self._change(job, change)

    def finish(self, job: ImportItem, status: str, now: datetime, message: str | None = None) -> None:
        def change(j: ImportItem) -> None:
            j.status, j.finished_at, j.updated_at, j.error_message = status, now, now, message or None

        self._change(job, change)

    def add_errors(self, tenant_id: str, import_id: str, errors: Sequence[RowError], now: datetime) -> None:
        for e in errors:
            self.table.put(real.error_item(tenant_id, import_id, e, now))

    def errors(self, tenant_id: str, import_id: str, limit: int | None = None) -> list[RowError]:
        found = self.table.query(ImportErrorItem, keys.tenant_pk(tenant_id), keys.import_errors_prefix(import_id))
        return [real.to_row_error(i) for i in found[:limit]]
