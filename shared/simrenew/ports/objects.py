"""The file store port: the uploads/exports bucket (presigned URLs, streamed reads and writes) and
its key layout. The adapter is simrenew.adapters.objects.ObjectStore (S3; moto's S3 server locally).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str


class Objects(Protocol):
    #: How long a presigned PUT (an upload) and a presigned GET (a download) stay valid.
    put_url_ttl_s: int
    get_url_ttl_s: int

    def upload_key(self, tenant_id: str, import_id: str) -> str:
        """Where an import's file is uploaded (the upload event starts the import)."""
        ...

    def export_key(self, tenant_id: str, export_id: str) -> str: ...

    def parse_upload_key(self, key: str) -> tuple[str, str] | None:
        """(tenant_id, import_id) of an upload key, None for anything else."""
        ...

    def presign_put(self, key: str, content_type: str, size_bytes: int) -> dict[str, Any]: ...

    def presign_get(self, key: str, filename: str) -> str: ...

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size and ETag; None when there is no such object."""
        ...

    def open(self, key: str) -> IO[bytes]: ...

    def download_to(self, key: str, target: IO[bytes]) -> None: ...

    def upload(self, key: str, source: IO[bytes], content_type: str) -> None: ...
