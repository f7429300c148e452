"""Fixed-window rate limits shared by every Lambda container: one atomic counter per window."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import translated
from simrenew.adapters.dynamodb.models import RateLimitItem, Transaction
from simrenew.errors import Conflict, RateLimited


class RateLimiter:
    def hit(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """Count one request; raise RateLimited once `limit` were counted in this window."""
        self.reserve(bucket, subject, count=1, limit=limit, window_s=window_s, now=now)

    def reserve(self, bucket: str, subject: str, *, count: int, limit: int, window_s: int, now: datetime) -> None:
        """Count `count` hits at once if the window stays within `limit` (one conditional ADD; a
        container's lease, services/rate_leases.py); RateLimited, nothing counted, when they do not fit."""
        epoch = int(now.timestamp())
        window = epoch // window_s
        item = RateLimitItem(keys.rate_limit_pk(bucket, subject, window), keys.rate_limit_sk())
        try:
            with translated():
                item.update(
                    actions=[
                        RateLimitItem.hits.add(count),
                        RateLimitItem.ttl.set(now + timedelta(seconds=2 * window_s)),
                    ],
                    condition=RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits <= limit - count),
                )
        except Conflict:
            raise _limited(window, window_s, epoch) from None

    def check(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """Count nothing; raise RateLimited while `limit` hits are counted in this window (a
        lock-out: the path stays closed, whatever the request, until the window passes)."""
        epoch = int(now.timestamp())
        window = epoch // window_s
        try:
            item = RateLimitItem.get(
                keys.rate_limit_pk(bucket, subject, window), keys.rate_limit_sk(), consistent_read=True
            )
        except RateLimitItem.DoesNotExist:
            return
        if int(item.hits or 0) >= limit:
            raise _limited(window, window_s, epoch)

    # --- the same limits inside another write's transaction (issue 17: no request of their own) ---------
    @staticmethod
    def _item(bucket: str, subject: str, window_s: int, now: datetime) -> RateLimitItem:
        window = int(now.timestamp()) // window_s
        return RateLimitItem(keys.rate_limit_pk(bucket, subject, window), keys.rate_limit_sk())

    def check_in(self, tx: Transaction, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """`check` as a ConditionCheck of `tx`: the transaction is cancelled while `limit` are counted."""
        item = self._item(bucket, subject, window_s, now)
        tx.condition_check(
            RateLimitItem,
            item.pk,
            item.sk,
            condition=RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits < limit),
        )

    def hit_in(self, tx: Transaction, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """`hit` as an Update of `tx`: counted only if the transaction is written."""
        tx.update(
            self._item(bucket, subject, window_s, now),
            actions=[RateLimitItem.hits.add(1), RateLimitItem.ttl.set(now + timedelta(seconds=2 * window_s))],
            condition=RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits < limit),
        )

    @staticmethod
    def limited(window_s: int, now: datetime) -> RateLimited:
        """The RateLimited a refused `check_in` / `hit_in` means (retry when the window passes)."""
        epoch = int(now.timestamp())
        return _limited(epoch // window_s, window_s, epoch)


def _limited(window: int, window_s: int, epoch: int) -> RateLimited:
    retry_after = (window + 1) * window_s - epoch
    return RateLimited(f"too many requests; try again in {retry_after} seconds", retry_after_s=retry_after)


def counted_hits(
    bucket: str, subject: str, count: int, *, window_s: int, now: datetime
) -> tuple[RateLimitItem, list[Action]]:
    """`count` hits on this window as an update to put in another write's transaction (ADD, no
    limit: for counts that are never refused, like paid renewals, counted with the payment)."""
    window = int(now.timestamp()) // window_s
    item = RateLimitItem(keys.rate_limit_pk(bucket, subject, window), keys.rate_limit_sk())
    return item, [RateLimitItem.hits.add(count), RateLimitItem.ttl.set(now + timedelta(seconds=2 * window_s))]
