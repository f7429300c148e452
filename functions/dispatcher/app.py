"""Outbox dispatcher function: a batch of the table's DynamoDB Stream records (already filtered by
the event source mapping to INSERTs of pending outbox items; template.yaml), each delivered once.

Answers `{"batchItemFailures": [...]}` (ReportBatchItemFailures): the records that failed are
retried by Lambda, then go to the on-failure queue, and stay pending in the table for the
5-minute drain. Locally infra/outbox_poller.py calls this same handler with the same event shape.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simrenew.bootstrap import NEEDS, DispatcherServices, build_dispatcher
from simrenew.config import load_config
from simrenew.errors import OutboxDeliveryFailed
from simrenew.log import get_logger
from simrenew.services.outbox import OutboxRef


@cache
def services() -> DispatcherServices:
    return build_dispatcher(load_config(needs=NEEDS["dispatcher"]))


def outbox_ref(record: dict[str, Any]) -> OutboxRef | None:
    """The item a stream record is about (None for a record that is not an outbox item's)."""
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    kind = ((change.get("NewImage") or {}).get("kind") or {}).get("S")
    pk, sk = (keys.get("pk") or {}).get("S"), (keys.get("sk") or {}).get("S")
    if not (isinstance(pk, str) and isinstance(sk, str) and isinstance(kind, str)):
        return None
    return OutboxRef(pk=pk, sk=sk, kind=kind)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outbox = services().outbox
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        ref = outbox_ref(record)
        if ref is None:
            continue
        try:
            outbox.deliver(ref)
        except OutboxDeliveryFailed:
            # Lambda retries from the lowest failed sequence number; later records that were
            # delivered meanwhile are skipped then (already_done).
            failures.append({"itemIdentifier": str(record["dynamodb"]["SequenceNumber"])})
        except Exception:  # noqa: BLE001 - one bad record must not fail the others of the batch
            get_logger().exception("outbox record failed", extra={"kind": ref.kind})
            failures.append({"itemIdentifier": str(record["dynamodb"]["SequenceNumber"])})
    return {"batchItemFailures": failures}
