"""The items of an order transaction (simrenew.ports.fulfilment.OrderChange): the carrier resumes,
the ledger lines, the merchants' notices and the agent's events, built from domain values for
OrderRepository.apply to write in the order's one TransactWriteItems; and the paid-renewal counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb.carrier import carrier_op
from simrenew.adapters.dynamodb.fleet import pending_event
from simrenew.adapters.dynamodb.models import Item, RateLimitItem
from simrenew.adapters.dynamodb.orders import ledger_line
from simrenew.adapters.dynamodb.outbox import outbox_event
from simrenew.adapters.dynamodb.ratelimit import counted_hits
from simrenew.domain.carrier import CarrierAction
from simrenew.ports.fulfilment import Hits, OrderChange


def change_items(tenant_id: str, change: OrderChange[Any], now: datetime) -> list[Item]:
    """The new items of `change` (each written once: `condition=Item.pk.does_not_exist()`)."""
    items: list[Item] = [carrier_op(t, CarrierAction.RESUME, now) for t in change.resumes]
    items += [
        ledger_line(
            x.terminal, x.kind, x.source, x.index, x.old_expires_on, x.new_expires_on, x.amount_fen, x.term_months, now
        )
        for x in change.lines
    ]
    items += [pending_event(n.terminal, n.name, n.term, n.detail, now) for n in change.notices]
    items += [outbox_event(tenant_id, e.event_type, e.data, e.key, now) for e in change.events]
    return items


def hit_updates(hits: Sequence[Hits], now: datetime) -> list[tuple[RateLimitItem, list[Action]]]:
    """Each counter as an ADD to its window's item (see `counted_hits`)."""
    return [counted_hits(h.bucket, h.subject, h.count, window_s=h.window_s, now=now) for h in hits]
