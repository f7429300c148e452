"""What the two work queues (carrier operations, the outbox) share: how an entry leaves the queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action


def dequeued(model: Any, state: str, now: datetime, retention: timedelta) -> list[Action]:
    """The update of a queue entry that is done: its final `state`, off the due index (gsi1) with no
    next attempt, kept `retention` more (ttl)."""
    return [
        model.state.set(state),
        model.updated_at.set(now),
        model.next_attempt_at.remove(),
        model.gsi1pk.remove(),
        model.gsi1sk.remove(),
        model.ttl.set(now + retention),
    ]
