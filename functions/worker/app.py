"""Import and export worker function. Three kinds of event:

- an S3 `ObjectCreated` notification for `uploads/<tenant_id>/<import_id>` (template.yaml's
  trigger on the uploads bucket; locally infra/s3_events.py delivers the same shape): the
  presigned upload of an import arrived, so the import starts;
- `{tenant_id, import_id}` from the API (a small body import, a resume) or from itself: the
  import goes on from its checkpoint and, near the Lambda time limit, hands the rest to a fresh
  invocation of itself;
- `{task: "export", tenant_id, export_id}` from the API: the CSV export is written to the bucket.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from simrenew.bootstrap import NEEDS, WorkerServices, build_worker, run_worker_task
from simrenew.config import load_config
from simrenew.services.imports import lambda_deadline

CONFIG = load_config(needs=NEEDS["worker"])


@cache
def services() -> WorkerServices:
    return build_worker(CONFIG)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    if "Records" in event:
        return {"uploads": [_upload(svc, record, context) for record in event["Records"]]}
    if event.get("task") == "export":
        return {"export_id": event["export_id"], "outcome": run_worker_task(svc, event)}
    return {"import_id": event["import_id"], "outcome": _run_import(svc, event, context)}


def _run_import(svc: WorkerServices, event: dict[str, Any], context: Any) -> str:
    job = {"tenant_id": str(event["tenant_id"]), "import_id": str(event["import_id"])}
    return svc.imports.run(
        job["tenant_id"],
        job["import_id"],
        lambda_deadline(context),
        redispatch=lambda: svc.dispatcher.dispatch(job),
    )


def _upload(svc: WorkerServices, record: dict[str, Any], context: Any) -> dict[str, Any]:
    s3 = record.get("s3") or {}
    if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return {"outcome": "ignored"}
    bucket = str((s3.get("bucket") or {}).get("name", ""))
    if bucket != svc.objects.bucket:
        return {"outcome": "ignored"}
    obj = s3.get("object") or {}
    key = unquote_plus(str(obj.get("key", "")))  # S3 events carry the key URL-encoded
    job = svc.imports.object_arrived(key, int(obj.get("size") or 0), str(obj.get("eTag", "")))
    if job is None:
        return {"key": key, "outcome": "ignored"}
    tenant_id, import_id = job
    outcome = _run_import(svc, {"tenant_id": tenant_id, "import_id": import_id}, context)
    return {"import_id": import_id, "outcome": outcome}
