"""RateLimiter in memory: one counter item per (bucket, subject, fixed window), as in the table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action, AddAction

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item, RateLimitItem
from simrenew.adapters.dynamodb.ratelimit import RateLimiter, _limited
from tests.support.fakes.table import Cancelled, FakeTable, Tx


def _key(bucket: str, subject: str, window: int) -> tuple[str, str]:
    return keys.rate_limit_pk(bucket, subject, window), keys.rate_limit_sk()


def add_hits(tx: Tx, key: tuple[str, str], count: int, ttl: datetime, limit: int | None = None) -> None:
    """ADD `count` to a window's counter (creating it), refused once `limit` are counted."""

    def added(stored: Item | None) -> Item:
        item = stored if isinstance(stored, RateLimitItem) else RateLimitItem(*key)
        item.hits = int(item.hits or 0) + count
        item.ttl = ttl
        return item

    def below(stored: Item | None) -> bool:
        hits = int(getattr(stored, "hits", None) or 0)
        return limit is None or hits < limit

    tx.update(key, added, check=below)


def apply_counters(tx: Tx, counters: Sequence[tuple[RateLimitItem, list[Action]]]) -> None:
    """The `counted_hits` updates another write carries (ADD hits n, SET ttl), in its transaction."""
    for counter, actions in counters:
        count, ttl = 0, None
        for action in actions:
            values: dict[str, Any] = {}
            action.serialize({}, values)
            (value,) = values.values()  # {"N": "<number>"}
            if isinstance(action, AddAction):
                count = int(value["N"])
            else:
                ttl = datetime.fromtimestamp(int(value["N"]), UTC)
        assert ttl is not None
        add_hits(tx, (counter.pk, counter.sk), count, ttl)


class FakeRateLimiter(RateLimiter):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def hit(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        self.reserve(bucket, subject, count=1, limit=limit, window_s=window_s, now=now)

    def reserve(self, bucket: str, subject: str, *, count: int, limit: int, window_s: int, now: datetime) -> None:
        epoch = int(now.timestamp())
        window = epoch // window_s
        try:
            with self.table.tx() as tx:
                # refused once more than `limit - count` are counted: the `count` must fit
                ttl = now + timedelta(seconds=2 * window_s)
                add_hits(tx, _key(bucket, subject, window), count, ttl, limit - count + 1)
        except Cancelled:
            raise _limited(window, window_s, epoch) from None

    def check(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        epoch = int(now.timestamp())
        window = epoch // window_s
        item = self.table.get(RateLimitItem, *_key(bucket, subject, window))
        if item is not None and int(item.hits or 0) >= limit:
            raise _limited(window, window_s, epoch)

    def hits(self, bucket: str, subject: str, *, window_s: int, now: datetime) -> int:
        """What this window has counted (for tests)."""
        item = self.table.get(RateLimitItem, *_key(bucket, subject, int(now.timestamp()) // window_s))
        return int(item.hits or 0) if item else 0
