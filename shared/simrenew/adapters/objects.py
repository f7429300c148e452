"""The uploads/exports bucket (S3 in AWS, moto's S3 server locally): presigned PUT and GET URLs,
streamed reads of uploaded fleet files and multipart writes of exports.

Key layout (the lifecycle rules and the S3 trigger in template.yaml depend on it):
`uploads/<tenant_id>/<import_id>` (the S3 event starts the import) and
`exports/<tenant_id>/<export_id>.csv`. Only this module builds those keys.
"""

from __future__ import annotations

from typing import IO, Any

from simrenew.errors import ConfigError, NotFound, ProviderUnavailable
from simrenew.ports.objects import ObjectInfo as ObjectInfo

UPLOADS_PREFIX = "uploads/"
EXPORTS_PREFIX = "exports/"
PUT_URL_TTL_S = 15 * 60  # the client starts its PUT within this; S3 lets a started PUT finish
GET_URL_TTL_S = 5 * 60  # a download link is short-lived; GET /v1/exports/{id} makes a new one


def upload_key(tenant_id: str, import_id: str) -> str:
    return f"{UPLOADS_PREFIX}{tenant_id}/{import_id}"


def export_key(tenant_id: str, export_id: str) -> str:
    return f"{EXPORTS_PREFIX}{tenant_id}/{export_id}.csv"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(tenant_id, import_id) of an upload key, None for anything else."""
    if not key.startswith(UPLOADS_PREFIX):
        return None
    parts = key[len(UPLOADS_PREFIX) :].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


class ObjectStore:
    """One bucket. The client is made on first use (cold start: boto3's S3 client is not free)."""

    put_url_ttl_s = PUT_URL_TTL_S
    get_url_ttl_s = GET_URL_TTL_S

    # The key layout (simrenew.ports.objects.Objects): the module's functions.
    def upload_key(self, tenant_id: str, import_id: str) -> str:
        return upload_key(tenant_id, import_id)

    def export_key(self, tenant_id: str, export_id: str) -> str:
        return export_key(tenant_id, export_id)

    def parse_upload_key(self, key: str) -> tuple[str, str] | None:
        return parse_upload_key(key)

    def __init__(self, bucket: str | None, region: str, endpoint: str | None, is_local: bool) -> None:
        self._bucket = bucket
        self._region = region
        self._endpoint = endpoint
        self._is_local = is_local
        self._client: Any = None

    @property
    def bucket(self) -> str:
        if not self._bucket:
            if self._is_local:
                raise ConfigError("UPLOADS_BUCKET is not set: the local stack (make dev, the tests) sets it")
            raise ConfigError("UPLOADS_BUCKET is required in AWS")
        return self._bucket

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4",
                # Path-style on the local server (one host, 127.0.0.1); virtual-hosted in AWS.
                s3={"addressing_style": "path" if self._endpoint else "virtual"},
                retries={"mode": "standard", "max_attempts": 5},
            )
            self._client = boto3.client("s3", region_name=self._region, endpoint_url=self._endpoint, config=config)
        return self._client

    # --- presigned URLs ---------------------------------------------------------------------------
    def presign_put(self, key: str, content_type: str, size_bytes: int) -> dict[str, Any]:
        """A PUT URL for exactly this key, type and length (Content-Length is signed, so S3 refuses
        another size); `headers` are what the client must send besides the body."""
        url = self.client().generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size_bytes},
            ExpiresIn=PUT_URL_TTL_S,
            HttpMethod="PUT",
        )
        return {"url": url, "method": "PUT", "headers": {"Content-Type": content_type}}

    def presign_get(self, key: str, filename: str) -> str:
        return str(
            self.client().generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": "text/csv; charset=utf-8",
                },
                ExpiresIn=GET_URL_TTL_S,
            )
        )

    # --- reads and writes -------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            meta = self.client().head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise ProviderUnavailable("the file store did not answer", code="storage_unavailable") from exc
        return ObjectInfo(key, int(meta["ContentLength"]), str(meta.get("ETag", "")).strip('"'))

    def open(self, key: str) -> IO[bytes]:
        """The object's bytes as a stream (read in pieces as they are consumed, never all at once)."""
        from botocore.exceptions import ClientError

        try:
            body = self.client().get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFound("the uploaded file is no longer there", code="upload_missing") from exc
            raise ProviderUnavailable("the file store did not answer", code="storage_unavailable") from exc
        return body  # type: ignore[no-any-return]

    def download_to(self, key: str, target: IO[bytes]) -> None:
        """For formats that need seeking (a zip: .xlsx): the object into a temporary file."""
        self.client().download_fileobj(self.bucket, key, target)

    def upload(self, key: str, source: IO[bytes], content_type: str) -> None:
        """A stream (a spooled temporary file) to the key; multipart above 8 MB, so any size fits."""
        self.client().upload_fileobj(
            source, self.bucket, key, ExtraArgs={"ContentType": content_type, "ServerSideEncryption": "AES256"}
        )
