"""The local S3 of `make dev` and the tests: moto's server mode on 127.0.0.1 (its own process), the
uploads bucket created from template.yaml's UploadsBucket, and the bucket's S3 trigger delivered to
the worker function within a second, as Lambda would.

In AWS an object created under uploads/ invokes ImportWorkerFunction (the S3 event in
template.yaml). Locally the same notification (events and key filter read from the template) goes
to a queue on the same moto server, and `S3EventPoller` long-polls it and calls the worker
handler with the message body, which is the S3 event itself ({"Records": [...]}).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO, Any

from infra.processes import spawn, wait_for_port
from infra.table import TEMPLATE, load_template

BUCKET_RESOURCE = "UploadsBucket"
WORKER_RESOURCE = "ImportWorkerFunction"
EVENTS_QUEUE = "simrenew-local-upload-events"


def start_local_s3(port: int, log: IO[bytes] | int | None) -> Any:
    """moto's S3 (and the queue of its notifications) on 127.0.0.1:port, in memory."""
    code = "import sys; from moto.server import main; main(['-H', '127.0.0.1', '-p', sys.argv[1]])"
    proc = spawn([sys.executable, "-c", code, str(port)], log)
    wait_for_port(port, proc, 60, "local S3 (moto server)")
    return proc


def _local_client(service: str, endpoint: str, **extra: Any) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local server's dummy credentials
        **extra,
    )


def s3_client(endpoint: str) -> Any:
    from botocore.config import Config

    return _local_client("s3", endpoint, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def sqs_client(endpoint: str) -> Any:
    return _local_client("sqs", endpoint)


def bucket_properties(path: Path = TEMPLATE) -> dict[str, Any]:
    props = load_template(path)["Resources"][BUCKET_RESOURCE]["Properties"]
    assert isinstance(props, dict)
    return props


def upload_trigger(path: Path = TEMPLATE) -> dict[str, Any]:
    """The worker's S3 event in the template: {"Events": ..., "Filter": ...}."""
    events = load_template(path)["Resources"][WORKER_RESOURCE]["Properties"].get("Events", {})
    found = [e["Properties"] for e in events.values() if e.get("Type") == "S3"]
    if len(found) != 1:
        raise RuntimeError(f"{WORKER_RESOURCE} should have one S3 event in template.yaml, has {len(found)}")
    return dict(found[0])


def _lifecycle(props: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
        out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
        if "ExpirationInDays" in rule:
            out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        rules.append(out)
    return {"Rules": rules}


def _cors(props: dict[str, Any], origin: str) -> dict[str, Any]:
    rules = []
    for rule in props.get("CorsConfiguration", {}).get("CorsRules", []):
        rules.append(
            {
                # The template's one origin is PublicBaseUrl: locally, the local origin.
                "AllowedOrigins": [origin],
                "AllowedMethods": list(rule["AllowedMethods"]),
                "AllowedHeaders": list(rule.get("AllowedHeaders", [])),
                "MaxAgeSeconds": int(rule.get("MaxAge", 0)),
            }
        )
    return {"CORSRules": rules}


def ensure_bucket(endpoint: str, bucket: str, origin: str, with_events: bool = True) -> str | None:
    """The bucket as template.yaml defines it (encryption, public access block, CORS for `origin`,
    lifecycle rules) and, with_events, its upload trigger to a local queue; returns the queue URL."""
    s3 = s3_client(endpoint)
    props = bucket_properties()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()},
    )
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": dict(rule)}]},
    )
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=_cors(props, origin))
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=_lifecycle(props))
    if not with_events:
        return None
    sqs = sqs_client(endpoint)
    queue_url = str(sqs.create_queue(QueueName=EVENTS_QUEUE)["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    trigger = upload_trigger()
    events = trigger["Events"] if isinstance(trigger["Events"], list) else [trigger["Events"]]
    rules = trigger.get("Filter", {}).get("S3Key", {}).get("Rules", [])
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "upload-starts-import",
                    "QueueArn": queue_arn,
                    "Events": events,
                    "Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}},
                }
            ]
        },
    )
    return queue_url


class S3EventPoller:
    """Delivers the bucket's S3 events to the worker handler, as Lambda's S3 trigger does: one
    invocation per notification, the body as the event. A failed invocation is retried twice
    (the template's MaximumRetryAttempts), then dropped with a log line, like Lambda."""

    RETRIES = 2

    def __init__(self, endpoint: str, queue_url: str, handler: Any, context: Any) -> None:
        self._sqs = sqs_client(endpoint)
        self._queue_url = queue_url
        self._handler = handler
        self._context = context
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="s3-events", daemon=True)

    def start(self) -> S3EventPoller:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                answer = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception as exc:  # noqa: BLE001 - the local S3 went away (shutdown): stop quietly
                if self._stopping.wait(1):
                    return
                print(f"[s3-events] receive failed: {exc!r}", flush=True)
                continue
            for message in answer.get("Messages", []):
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        """Taken off the queue at once and run in its own thread: S3 invokes Lambda asynchronously,
        so one long import never holds up the next upload's start."""
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        event = json.loads(message["Body"])
        if "Records" not in event:  # moto also sends an s3:TestEvent when the configuration is set
            return
        threading.Thread(target=self._invoke, args=(event,), name="s3-event-worker", daemon=True).start()

    def _invoke(self, event: dict[str, Any]) -> None:
        for attempt in range(1 + self.RETRIES):
            try:
                result = self._handler(event, self._context())
                print(f"[s3-events] {json.dumps(result, ensure_ascii=False)[:300]}", flush=True)
                return
            except Exception as exc:  # noqa: BLE001 - as Lambda: log, retry, then drop
                print(f"[s3-events] worker failed (attempt {attempt + 1}): {exc!r}", flush=True)
