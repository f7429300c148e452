"""A fleet import job as the services see it: its state and counters, its row errors, and the
agent's view of it (GET /v1/imports/{id})."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simrenew.clock import iso_utc


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Counts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ImportJob:
    tenant_id: str
    import_id: str
    status: str  # awaiting_upload|queued|running|done|failed
    source: str | None  # "upload" (the bucket) or body (None: the file in chunks)
    object_key: str | None
    filename: str | None
    size_bytes: int | None
    encoding: str | None  # known after the worker's first pass
    total: int
    processed: int  # the checkpoint: rows before it are written
    created: int
    updated: int
    unchanged: int
    failed: int
    error_message: str | None
    heartbeat_at: datetime | None
    created_at: datetime | None
    finished_at: datetime | None


def job_json(job: ImportJob, errors: list[RowError], error_limit: int) -> dict[str, Any]:
    status = job.status if job.status != "queued" else "running"
    return {
        "import_id": job.import_id,
        "status": status,
        "source": job.source or "body",
        "filename": job.filename,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "failed": job.failed,
        "errors": [e.to_json() for e in errors[:error_limit]],
        "errors_truncated": job.failed > error_limit,
        "message": job.error_message,
        "created_at": iso_utc(job.created_at) if job.created_at else None,
        "finished_at": iso_utc(job.finished_at) if job.finished_at else None,
    }
