"""The exports port: CSV export jobs (queued by the API, written by the worker). The DynamoDB
adapter is simrenew.adapters.dynamodb.exports.ExportRepository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ExportJob:
    tenant_id: str
    export_id: str
    kind: str  # terminals|orders|ledger|notifications|expiring
    filters_json: str  # JSON object, as given
    status: str = "queued"  # queued|running|done|failed
    rows: int = 0
    size_bytes: int = 0
    object_key: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None


class Exports(Protocol):
    def create(self, job: ExportJob, created_by: str, expires: datetime) -> None:
        """A new job as given, at `job.created_at` (created once: its id is new)."""
        ...

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        """The tenant's job, read consistently; None when missing."""
        ...

    def running(self, job: ExportJob, now: datetime) -> None:
        """The worker took the job (its heartbeat is now)."""
        ...

    def finish(
        self, job: ExportJob, status: str, rows: int, size: int, key: str | None, message: str, now: datetime
    ) -> None:
        """Done (rows, bytes and the object's key) or failed (with its message)."""
        ...
