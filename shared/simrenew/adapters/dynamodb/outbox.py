"""The transactional outbox: every side effect of a change is an item written in the same
TransactWriteItems as the change, and delivered afterwards, at least once and never twice.

Two kinds of outbox item live in the single table, both under the tenant (pk `TENANT#<id>`):
- `OutboxItem` (kind "outbox"): an agent webhook event (`order.fulfilled`, `order.refunded`, ...),
  built by `outbox_event`;
- `TerminalEventItem` (kind "terminal_event"): a merchant notice (receipt, quota alert), built by
  `simrenew.adapters.dynamodb.fleet.pending_event`.

How a service writes an agent event with its change (one transaction, all or nothing):

    from simrenew.adapters.dynamodb.models import Transaction
    from simrenew.adapters.dynamodb.outbox import outbox_condition, outbox_event

    with Transaction() as tx:
        tx.update(order_item, actions=[...], condition=...)         # the change itself
        tx.save(
            outbox_event(tenant_id, "order.fulfilled", data, dedupe_key=order_id, now=now),
            condition=outbox_condition(),                           # pk does not exist
        )

- `dedupe_key` names the change, not the attempt (an order id, a refund id): the entry's sort key
  is derived from (event_type, dedupe_key), so the same event written twice is one entry. With
  `outbox_condition()` a second write of it fails its condition: alone (`OutboxRepository.put`)
  that is a no-op; inside a transaction it cancels that transaction (`Transaction.codes(exc)`
  shows "ConditionalCheckFailed" at the entry), so the change it belongs to is not applied twice.
- `data` is the event's `data` object as agents receive it (JSON-serialisable; the outbox does not
  add fields). The event id agents dedupe on is derived from the entry, so it never changes.
- `now` is the change's time (tz-aware UTC): the event's `created` and the delivery log's order.

Delivery (services/outbox.py, `OutboxDispatcher`): in AWS a Lambda on the table's DynamoDB Stream
(functions/dispatcher), locally the same handler fed by infra/outbox_poller.py, and every 5
minutes the sweep function drains what is still pending (the sparse, sharded OUTBOX_PENDING queue
on gsi1, due time first; the stream gets STREAM_GRACE to deliver before that poll considers it).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import is_condition_failure
from simrenew.adapters.dynamodb.models import OutboxItem as OutboxItem
from simrenew.adapters.dynamodb.models import TerminalEventItem
from simrenew.adapters.dynamodb.queues import dequeued
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.clock import iso_utc
from simrenew.ports.outbox import OutboxEvent

# The fallback poll leaves a new entry to the stream for this long before it delivers it itself.
STREAM_GRACE = timedelta(minutes=1)
# Wait after failed attempt n (1-based) before the fallback poll tries again; the last repeats.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
RETENTION = timedelta(days=30)  # a delivered entry is kept this long, then TTL removes it
MAX_ERROR_LENGTH = 300
_EVENT_TYPE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")


def outbox_event_id(pk: str, sk: str) -> str:
    return "evt_" + hashlib.sha256(f"{pk}\x00{sk}".encode()).hexdigest()[:24]


def outbox_event(tenant_id: str, event_type: str, data: dict[str, Any], dedupe_key: str, now: datetime) -> OutboxItem:
    """The outbox entry for one agent webhook event, to add to the change's transaction with
    `condition=outbox_condition()` (see the module docstring)."""
    if not tenant_id or not dedupe_key:
        raise ValueError("an outbox event needs a tenant id and a dedupe key")
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ValueError(f"not an event type: {event_type!r}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    pk, sk = keys.tenant_pk(tenant_id), keys.outbox_sk(event_type, dedupe_key)
    item = OutboxItem(
        pk,
        sk,
        tenant_id=tenant_id,
        event_type=event_type,
        event_id=outbox_event_id(pk, sk),
        dedupe_key=dedupe_key,
        data_json=json.dumps(data, ensure_ascii=False, separators=(",", ":")),  # TypeError: a caller's bug
        state="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    _queue(item, now + STREAM_GRACE)
    return item


def outbox_condition() -> Condition:
    """The condition every outbox write carries: the entry does not exist yet."""
    return OutboxItem.pk.does_not_exist()


def _queue(item: OutboxItem, at: datetime) -> None:
    item.next_attempt_at = at
    item.gsi1pk = keys.outbox_pending_gsi1pk(keys.outbox_shard(item.sk))
    item.gsi1sk = keys.outbox_pending_gsi1sk(iso_utc(at), item.tenant_id, item.sk)


def backoff_after(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


class OutboxRepository:
    """simrenew.ports.outbox.OutboxStore over the single table."""

    #: A PynamoDB failure is worth trying again (the dispatcher leaves the item pending).
    retryable: tuple[type[Exception], ...] = (PynamoDBException,)

    def put(self, item: OutboxItem) -> bool:
        """Write one entry on its own (outside a change's transaction). False: it already exists."""
        try:
            item.save(condition=outbox_condition())
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def get(self, pk: str, sk: str) -> OutboxItem | None:
        return item_or_none(OutboxItem.get, pk, sk, consistent_read=True)

    def event(self, item: OutboxItem) -> OutboxEvent:
        return OutboxEvent(
            item.pk,
            item.sk,
            item.tenant_id,
            item.event_type,
            item.event_id,
            item.data_json,
            item.state,
            item.created_at,
        )

    def notice_state(self, event: TerminalEventItem) -> str:
        return event.state

    def terminal_event(self, pk: str, sk: str) -> TerminalEventItem | None:
        try:
            return TerminalEventItem.get(pk, sk, consistent_read=True)
        except TerminalEventItem.DoesNotExist:
            return None

    def finish(self, item: OutboxItem, state: str, now: datetime, error: str | None = None) -> bool:
        """Delivered (or dropped): out of the pending queue. False when it was no longer pending
        (another dispatcher finished it first)."""
        actions = dequeued(OutboxItem, state, now, RETENTION)
        if state == "delivered":
            actions.append(OutboxItem.delivered_at.set(now))
        if error:
            actions.append(OutboxItem.last_error.set(error[:MAX_ERROR_LENGTH]))
        try:
            item.update(actions=actions, condition=OutboxItem.state == "pending")
        except UpdateError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def failed(self, item: OutboxItem, error: str, now: datetime) -> None:
        """Still pending: count the attempt and queue it again after the backoff."""
        attempts = int(item.attempts or 0) + 1
        at = now + backoff_after(attempts)
        try:
            item.update(
                actions=[
                    OutboxItem.attempts.set(attempts),
                    OutboxItem.last_error.set(error[:MAX_ERROR_LENGTH]),
                    OutboxItem.next_attempt_at.set(at),
                    OutboxItem.gsi1pk.set(keys.outbox_pending_gsi1pk(keys.outbox_shard(item.sk))),
                    OutboxItem.gsi1sk.set(keys.outbox_pending_gsi1sk(iso_utc(at), item.tenant_id, item.sk)),
                    OutboxItem.updated_at.set(now),
                ],
                condition=OutboxItem.state == "pending",
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise

    def event_failed(self, event: TerminalEventItem, error: str, now: datetime) -> None:
        """A merchant notice that could not be sent now: still pending (the 5-minute drain retries)."""
        attempts = int(event.attempts or 0) + 1
        try:
            event.update(
                actions=[
                    TerminalEventItem.attempts.set(attempts),
                    TerminalEventItem.last_error.set(error[:MAX_ERROR_LENGTH]),
                    TerminalEventItem.next_attempt_at.set(now + backoff_after(attempts)),
                    TerminalEventItem.updated_at.set(now),
                ],
                condition=TerminalEventItem.state == "pending",
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Pending entries of every tenant whose next attempt is due, oldest due first per shard."""
        out: list[OutboxItem] = []
        for shard in range(keys.OUTBOX_SHARDS):
            if len(out) >= limit:
                break
            result = OutboxItem.gsi1.query(
                keys.outbox_pending_gsi1pk(shard),
                OutboxItem.gsi1sk < keys.outbox_due_bound(iso_utc(now)),
                limit=limit - len(out),
            )
            out += [i for i in result if isinstance(i, OutboxItem) and i.state == "pending"]
        return out

    def entries(self, tenant_id: str) -> list[OutboxItem]:
        """Every outbox entry of a tenant (the console and tests; bounded by RETENTION)."""
        result = OutboxItem.query(keys.tenant_pk(tenant_id), OutboxItem.sk.startswith(keys.outbox_prefix()))
        return [i for i in result if isinstance(i, OutboxItem)]
