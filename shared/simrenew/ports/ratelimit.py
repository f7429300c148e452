"""The rate-limit port: fixed-window counters shared by every container, in domain terms."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from simrenew.errors import RateLimited


class RateLimits(Protocol):
    def hit(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """Count one request; raise RateLimited once `limit` were counted in this window."""
        ...

    def reserve(self, bucket: str, subject: str, *, count: int, limit: int, window_s: int, now: datetime) -> None:
        """Count `count` hits at once if the window stays within `limit` (a container's lease);
        raise RateLimited, counting nothing, when they do not fit."""
        ...

    def check(self, bucket: str, subject: str, *, limit: int, window_s: int, now: datetime) -> None:
        """Count nothing; raise RateLimited while `limit` hits are counted in this window."""
        ...

    def limited(self, window_s: int, now: datetime) -> RateLimited:
        """The RateLimited a refused limit means (retry when the window passes)."""
        ...
