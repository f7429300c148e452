"""simrenew.ports.exports.Exports over the single table: one ExportItem per job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import ExportItem
from simrenew.ports.exports import ExportJob


def to_export(item: ExportItem) -> ExportJob:
    return ExportJob(
        tenant_id=item.tenant_id,
        export_id=item.export_id,
        kind=item.export_kind,
        filters_json=item.filters,
        status=item.status,
        rows=int(item.rows),
        size_bytes=int(item.size_bytes),
        object_key=item.object_key,
        error_message=item.error_message,
        created_at=item.created_at,
        finished_at=item.finished_at,
    )


def _item(job: ExportJob) -> ExportItem:
    """The job's item by its key (an update names only the key and the actions)."""
    return ExportItem(keys.tenant_pk(job.tenant_id), keys.export_sk(job.export_id))


class ExportRepository:
    def create(
        self,
        tenant_id: str,
        export_id: str,
        kind: str,
        filters_json: str,
        created_by: str,
        now: datetime,
        expires: datetime,
    ) -> None:
        ExportItem(
            keys.tenant_pk(tenant_id),
            keys.export_sk(export_id),
            tenant_id=tenant_id,
            export_id=export_id,
            export_kind=kind,
            filters=filters_json,
            status="queued",
            created_by=created_by,
            created_at=now,
            updated_at=now,
            ttl=expires,
        ).save(condition=ExportItem.pk.does_not_exist())

    def get(self, tenant_id: str, export_id: str) -> ExportJob | None:
        try:
            item = ExportItem.get(keys.tenant_pk(tenant_id), keys.export_sk(export_id), consistent_read=True)
        except ExportItem.DoesNotExist:
            return None
        return to_export(item)

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
