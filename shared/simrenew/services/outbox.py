"""The outbox dispatcher: delivers one outbox item at least once and never twice.

Items are written by the change that causes them (adapters/dynamodb/outbox.py says how). They
reach `deliver` from the table's DynamoDB Stream (functions/dispatcher; locally
infra/outbox_poller.py) within seconds, and from `drain_due` on the 5-minute schedule for
whatever the stream could not deliver. Both may see the same item, any number of times:
- an agent event becomes one webhook delivery per subscribed endpoint, with the entry's event id
  and a delivery id derived from it (conditional create), then the entry is marked delivered;
- a merchant notice (receipt, quota alert) goes through the sweep's send path, whose notification
  claims send each message once.
A failure leaves the item pending, its next attempt after a backoff, and is raised as
`OutboxDeliveryFailed` so the stream reports the record as failed and retries it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from simrenew.clock import Clock
from simrenew.errors import OutboxDeliveryFailed, SimRenewError
from simrenew.log import get_logger
from simrenew.ports.outbox import Entry, Notice, NoticeSender, OutboxStore

Found = TypeVar("Found")  # the stored item a delivery reads (an entry or a notice)

OUTBOX_KIND = "outbox"
NOTICE_KIND = "terminal_event"
CARRIER_KIND = "carrier_op"  # a carrier operation (services/carrier.py carries it out)
KINDS = (OUTBOX_KIND, NOTICE_KIND, CARRIER_KIND)


class EventDeliverer(Protocol):
    """What the dispatcher needs of the agent webhooks (services/webhooks.py)."""

    def emit_once(
        self, tenant_id: str, event_type: str, event_id: str, data: dict[str, Any], created: datetime
    ) -> int: ...


class CarrierRunner(Protocol):
    """What the dispatcher needs of the carrier operations (services/carrier.py)."""

    def deliver(self, pk: str, sk: str) -> str: ...

    def drain_due(self, limit: int = 100) -> int: ...


@dataclass(frozen=True)
class OutboxRef:
    """Which item to deliver: its key and kind (what a stream record carries)."""

    pk: str
    sk: str
    kind: str


# What may fail while delivering and is worth trying again: the providers' ports, and the store's
# own failures (`OutboxStore.retryable`).
RETRYABLE: tuple[type[Exception], ...] = (SimRenewError, OSError)


class OutboxDispatcher(Generic[Entry, Notice]):
    def __init__(
        self,
        repo: OutboxStore[Entry, Notice],
        webhooks: EventDeliverer,
        notices: NoticeSender[Notice],
        clock: Clock,
        carrier: CarrierRunner | None = None,
    ) -> None:
        self._retryable = (*repo.retryable, *RETRYABLE)
        self._carrier = carrier
        self._repo = repo
        self._webhooks = webhooks
        self._notices = notices
        self._clock = clock

    def deliver(self, ref: OutboxRef) -> str:
        """Deliver one item now. Returns what happened: "delivered" (agent event handed to its
        webhook deliveries), "sent" (merchant notice settled), "already_done" (delivered before:
        nothing sent again), "missing", "dropped" (not deliverable, logged) or "ignored" (not an
        outbox kind). Raises OutboxDeliveryFailed when it should be tried again."""
        if ref.kind == OUTBOX_KIND:
            return self._deliver_event(ref)
        if ref.kind == NOTICE_KIND:
            return self._deliver_notice(ref)
        if ref.kind == CARRIER_KIND and self._carrier is not None:
            try:  # failures stay pending with their own backoff (the 5-minute drain runs them)
                return self._carrier.deliver(ref.pk, ref.sk)
            except self._retryable as exc:
                raise self._failed(ref, exc) from exc
        return "ignored"

    def drain_due(self, limit: int = 200) -> int:
        """The safety net (5-minute schedule): agent events still pending whose next attempt is
        due, delivered now. Returns how many were delivered; failures stay queued."""
        delivered = 0
        for entry in self._repo.due(self._clock.now(), limit):
            item = self._repo.event(entry)
            try:
                delivered += self.deliver(OutboxRef(item.pk, item.sk, OUTBOX_KIND)) == "delivered"
            except OutboxDeliveryFailed:
                continue  # logged and queued again by deliver
        if self._carrier is not None:
            delivered += self._carrier.drain_due(limit)
        return delivered

    # --- agent events ---------------------------------------------------------------------------------
    def _read(self, ref: OutboxRef, read: Callable[[str, str], Found | None]) -> Found | None:
        """The item `ref` names, None when missing; a store failure fails the delivery (retried)."""
        try:
            return read(ref.pk, ref.sk)
        except self._retryable as exc:
            raise self._failed(ref, exc) from exc

    def _deliver_event(self, ref: OutboxRef) -> str:
        entry = self._read(ref, self._repo.get)
        if entry is None:
            return "missing"
        item = self._repo.event(entry)
        if item.state != "pending":
            return "already_done"
        log = get_logger()
        try:
            data = json.loads(item.data_json)
            created = item.created_at or self._clock.now()
            count = self._webhooks.emit_once(item.tenant_id, item.event_type, item.event_id, data, created)
        except ValueError as exc:  # an unknown event type or bad data: trying again will not help
            log.error(
                "outbox event dropped",
                extra={"tenant_id": item.tenant_id, "event_type": item.event_type, "error": str(exc)},
            )
            self._repo.finish(entry, "dropped", self._clock.now(), error=str(exc))
            return "dropped"
        except self._retryable as exc:
            self._note_failure(entry, exc)
            raise self._failed(ref, exc) from exc
        try:
            self._repo.finish(entry, "delivered", self._clock.now())
        except self._retryable as exc:  # its deliveries exist: a retry creates none again
            raise self._failed(ref, exc) from exc
        log.info(
            "outbox event delivered",
            extra={
                "tenant_id": item.tenant_id,
                "event_type": item.event_type,
                "event_id": item.event_id,
                "deliveries": count,
            },
        )
        return "delivered"

    # --- merchant notices -------------------------------------------------------------------------------
    def _deliver_notice(self, ref: OutboxRef) -> str:
        event = self._read(ref, self._repo.terminal_event)
        if event is None:
            return "missing"
        if self._repo.notice_state(event) != "pending":
            return "already_done"
        try:
            self._notices.send_event(event)
        except self._retryable as exc:
            # Not recorded? The stream's retry (or the 5-minute drain) finds it pending all the same.
            with contextlib.suppress(*self._retryable):
                self._repo.event_failed(event, f"{type(exc).__name__}: {exc}", self._clock.now())
            raise self._failed(ref, exc) from exc
        return "sent"

    # --- failures -------------------------------------------------------------------------------------
    def _note_failure(self, item: Entry, exc: Exception) -> None:
        # Not recorded? Still pending with its old due time: the stream's retry or the poll finds it.
        with contextlib.suppress(*self._retryable):
            self._repo.failed(item, f"{type(exc).__name__}: {exc}", self._clock.now())

    def _failed(self, ref: OutboxRef, exc: Exception) -> OutboxDeliveryFailed:
        get_logger().warning(
            "outbox item not delivered; will retry",
            extra={"kind": ref.kind, "sk": ref.sk, "error": f"{type(exc).__name__}: {exc}"[:300]},
        )
        return OutboxDeliveryFailed(f"outbox item not delivered: {type(exc).__name__}")
