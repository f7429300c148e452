"""In-memory exports (simrenew.ports.exports.Exports) and file store (simrenew.ports.objects.Objects):
jobs as domain ExportJob values and objects as bytes, so the export service runs in the service tier
without DynamoDB or S3."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import IO, Any

from simrenew.errors import TransientStoreError
from simrenew.ports.exports import ExportJob
from simrenew.ports.objects import ObjectInfo


class FakeExports:
    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], ExportJob] = {}

    def create(self, job: ExportJob, created_by: str, expires: datetime) -> None:
        assert (job.tenant_id, job.export_id) not in self.jobs, "an export id is created once"
        self.jobs[job.tenant_id, job.export_id] = job

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        return self.jobs.get((tenant_id, export_id))

    def running(self, job: ExportJob, now: datetime) -> None:
        self.jobs[job.tenant_id, job.export_id] = replace(self.jobs[job.tenant_id, job.export_id], status="running")

    def finish(
        self, job: ExportJob, status: str, rows: int, size: int, key: str | None, message: str, now: datetime
    ) -> None:
        stored = self.jobs[job.tenant_id, job.export_id]
        self.jobs[job.tenant_id, job.export_id] = replace(
            stored,
            status=status,
            rows=rows,
            size_bytes=size,
            object_key=key or stored.object_key,
            error_message=message or stored.error_message,
            finished_at=now,
        )


class FakeObjects:
    """The bucket as a dict; `fail_uploads` makes every upload a throttled store (a 503 the worker sees)."""

    put_url_ttl_s = 900
    get_url_ttl_s = 300

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.uploads = 0
        self.fail_uploads = False

    def upload_key(self, tenant_id: str, import_id: str) -> str:
        return f"uploads/{tenant_id}/{import_id}.csv"

    def export_key(self, tenant_id: str, export_id: str) -> str:
        return f"exports/{tenant_id}/{export_id}.csv"

    def parse_upload_key(self, key: str) -> tuple[str, str] | None:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "uploads" or not parts[2].endswith(".csv"):
            return None
        return parts[1], parts[2].removesuffix(".csv")

    def presign_put(self, key: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        return {"url": f"memory://{key}", "headers": {"Content-Type": content_type}}

    def presign_get(self, key: str, filename: str) -> str:
        return f"memory://{key}?filename={filename}"

    def head(self, key: str) -> ObjectInfo | None:
        data = self.files.get(key)
        return None if data is None else ObjectInfo(key, len(data), f"etag-{len(data)}")

    def open(self, key: str) -> IO[bytes]:
        import io

        return io.BytesIO(self.files[key])

    def download_to(self, key: str, target: IO[bytes]) -> None:
        target.write(self.files[key])

    def upload(self, key: str, source: IO[bytes], content_type: str) -> None:
        if self.fail_uploads:
            raise TransientStoreError("the bucket is throttling")
        self.uploads += 1
        self.files[key] = source.read()


class FakeDispatcher:
    """The events handed to the worker, in order (nothing runs until the test runs it)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def dispatch(self, event: dict[str, Any]) -> None:
        self.events.append(event)
