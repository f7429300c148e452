"""OutboxRepository in memory: entries built by the real `outbox_event`, settled only while pending."""

from __future__ import annotations

from datetime import datetime

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item, TerminalEventItem
from simrenew.adapters.dynamodb.outbox import (
    MAX_ERROR_LENGTH,
    RETENTION,
    OutboxItem,
    OutboxRepository,
    backoff_after,
)
from simrenew.clock import iso_utc
from tests.support.fakes.table import Cancelled, FakeTable


def _pending(stored: Item | None) -> bool:
    return isinstance(stored, OutboxItem | TerminalEventItem) and stored.state == "pending"


class FakeOutboxRepository(OutboxRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def put(self, item: OutboxItem) -> bool:
        return self.table.put_if(item, new=True)

    def get(self, pk: str, sk: str) -> OutboxItem | None:
        return self.table.get(OutboxItem, pk, sk)

    def terminal_event(self, pk: str, sk: str) -> TerminalEventItem | None:
        return self.table.get(TerminalEventItem, pk, sk)

    def _update(self, item: Item) -> bool:
        try:
            with self.table.tx() as tx:
                tx.update((item.pk, item.sk), lambda _stored: item, check=_pending)
        except Cancelled:
            return False
        return True

    def finish(self, item: OutboxItem, state: str, now: datetime, error: str | None = None) -> bool:
        item.state, item.updated_at, item.ttl = state, now, now + RETENTION
        item.gsi1pk = item.gsi1sk = item.next_attempt_at = None
        if state == "delivered":
            item.delivered_at = now
        if error:
            item.last_error = error[:MAX_ERROR_LENGTH]
        return self._update(item)

    def failed(self, item: OutboxItem, error: str, now: datetime) -> None:
        item.attempts = int(item.attempts or 0) + 1
        at = now + backoff_after(item.attempts)
        item.last_error, item.next_attempt_at, item.updated_at = error[:MAX_ERROR_LENGTH], at, now
        item.gsi1pk = keys.outbox_pending_gsi1pk(keys.outbox_shard(item.sk))
        item.gsi1sk = keys.outbox_pending_gsi1sk(iso_utc(at), item.tenant_id, item.sk)
        self._update(item)

    def event_failed(self, event: TerminalEventItem, error: str, now: datetime) -> None:
        event.attempts = int(event.attempts or 0) + 1
        event.last_error = error[:MAX_ERROR_LENGTH]
        event.next_attempt_at, event.updated_at = now + backoff_after(event.attempts), now
        self._update(event)

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        bound = keys.outbox_due_bound(iso_utc(now))
        out: list[OutboxItem] = []
        for shard in range(keys.OUTBOX_SHARDS):
            found = self.table.index(OutboxItem, "gsi1pk", keys.outbox_pending_gsi1pk(shard), "gsi1sk")
            out += [i for i in found if str(i.gsi1sk) < bound and i.state == "pending"]
        return out[:limit]

    def entries(self, tenant_id: str) -> list[OutboxItem]:
        return self.table.query(OutboxItem, keys.tenant_pk(tenant_id), keys.outbox_prefix())
