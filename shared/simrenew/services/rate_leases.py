"""Rate-limit leases: a container counts a client's hits in DynamoDB a few at a time and spends them
itself, so a client's repeated look-ups do not each wait on the counter's write (issue 17).

The bound stays exact: a lease is counted in the window's shared counter before it is spent, and only
while the counter stays within the limit, so every container together never serves more than the
limit in a window. What it costs is the other way: hits a container leased and has not spent are
counted, so a client whose requests are spread over many containers can be refused a little early.
That is kept small by growing a container's lease only as it serves the same client again (1, 2,
then MAX_LEASE): a container that sees a client once leases exactly one hit, as before, and one that
saw it twice holds at most MAX_LEASE - 1 unspent. Near the limit the lease falls back to one hit.

A container that has nothing left asks the counter again, whatever it saw before: a refusal is never
cached here, so a counter that is removed or expires lets the client in at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from simrenew.errors import RateLimited

if TYPE_CHECKING:
    from simrenew.ports.ratelimit import RateLimits

MAX_LEASE = 4  # hits leased at once once a container has served the client twice
MAX_HELD = 4096  # clients whose leases a container keeps; past it, leases of older windows go


@dataclass
class _Lease:
    window: int
    left: int = 0  # hits this container counted and has not spent
    next: int = 1  # how many it asks for the next time
    near: bool = False  # a lease did not fit: one at a time for the rest of the window


class RateLeases:
    """One container's leases on one kind of counter (`RateLimits.reserve`)."""

    def __init__(self, rate: RateLimits) -> None:
        self._rate = rate
        self._held: dict[tuple[str, str], _Lease] = {}
        self._lock = threading.Lock()

    def take(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> Callable[[], None] | None:
        """Spend one hit: None when this container's lease had one (nothing to send), else the
        reservation to run (beside the caller's read), which raises RateLimited when the window is full."""
        window = int(now.timestamp()) // window_s
        with self._lock:
            lease = self._held.get((bucket, subject))
            if lease is None or lease.window != window:
                lease = self._fresh(bucket, subject, window)
            if lease.left > 0:
                lease.left -= 1
                return None
            count = lease.next

        def reserve() -> None:
            self._reserve(lease, bucket, subject, count, limit=limit, window_s=window_s, now=now)

        return reserve

    def _fresh(self, bucket: str, subject: str, window: int) -> _Lease:
        if len(self._held) >= MAX_HELD:
            stale = [key for key, held in self._held.items() if held.window < window]
            for key in stale or list(self._held):
                del self._held[key]
        lease = self._held[(bucket, subject)] = _Lease(window)
        return lease

    def _reserve(
        self, lease: _Lease, bucket: str, subject: str, count: int, *, limit: int, window_s: int, now: datetime
    ) -> None:
        """Count `count` hits (one is this request's); when they do not fit, one; else refused."""
        try:
            self._rate.reserve(bucket, subject, count=count, limit=limit, window_s=window_s, now=now)
        except RateLimited:
            if count == 1:
                raise
            with self._lock:  # near the limit: one at a time, so nothing leased goes unspent and a
                lease.next, lease.near = 1, True  # refused client costs one write a request, as before
            self._rate.reserve(bucket, subject, count=1, limit=limit, window_s=window_s, now=now)
            return
        with self._lock:
            lease.left += count - 1
            lease.next = 1 if lease.near else min(2 * count, MAX_LEASE)
