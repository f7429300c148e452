"""simrenew.ports.exports.Exports over the single table: one ExportItem per job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.mapping import attrs_of, from_item
from simrenew.adapters.dynamodb.models import ExportItem
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.ports.exports import ExportJob


def to_export(item: ExportItem) -> ExportJob:
    return from_item(
        item,
        ExportJob,
        kind=item.export_kind,
        filters_json=item.filters,
        rows=int(item.rows),
        size_bytes=int(item.size_bytes),
    )


def _item(job: ExportJob) -> ExportItem:
    """The job's item by its key (an update names only the key and the actions)."""
    return ExportItem(keys.tenant_pk(job.tenant_id), keys.export_sk(job.export_id))


class ExportRepository:
    def create(self, job: ExportJob, created_by: str, expires: datetime) -> None:
        ExportItem(
            keys.tenant_pk(job.tenant_id),
            keys.export_sk(job.export_id),
            **attrs_of(job, "tenant_id", "export_id", "status", "created_at"),
            export_kind=job.kind,
            filters=job.filters_json,
            created_by=created_by,
            updated_at=job.created_at,
            ttl=expires,
        ).save(condition=ExportItem.pk.does_not_exist())

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        item = item_or_none(ExportItem.get, keys.tenant_pk(tenant_id), keys.export_sk(export_id), consistent_read=True)
        return to_export(item) if item is not None else None

    def running(self, job: ExportJob, now: datetime) -> None:
        _item(job).update(actions=[ExportItem.status.set("running"), ExportItem.heartbeat_at.set(now)])

    def finish(
        self, job: ExportJob, status: str, rows: int, size: int, key: str | None, message: str, now: datetime
    ) -> None:
        actions: list[Any] = [
            ExportItem.status.set(status),
            ExportItem.rows.set(rows),
            ExportItem.size_bytes.set(size),
            ExportItem.finished_at.set(now),
            ExportItem.updated_at.set(now),
        ]
        if key:
            actions.append(ExportItem.object_key.set(key))
        if message:
            actions.append(ExportItem.error_message.set(message))
        _item(job).update(actions=actions)
