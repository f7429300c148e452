"""services/rate_leases.py on the in-memory rate limiter: what a container keeps of its clients'
leases when many clients pass through it, and leases across clients and buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simrenew.errors import RateLimited
from simrenew.services import rate_leases
from simrenew.services.rate_leases import RateLeases
from tests.support.fakes.ratelimit import FakeRateLimiter
from tests.support.fakes.table import FakeTable

T0 = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)


def _hit(leases: RateLeases, subject: str, now: datetime = T0, bucket: str = "b", limit: int = 30) -> bool:
    """One hit; True when it sent a reservation (the counter was written)."""
    reserve = leases.take(bucket, subject, limit=limit, window_s=60, now=now)
    if reserve is not None:
        reserve()
    return reserve is not None


def test_a_lease_is_one_clients_in_one_bucket() -> None:
    limiter = FakeRateLimiter(FakeTable())
    leases = RateLeases(limiter)
    assert [_hit(leases, "a") for _ in range(3)] == [True, True, False]  # leases of 1, then 2
    assert _hit(leases, "b")  # another client: a lease of its own
    assert _hit(leases, "a", bucket="other")  # another bucket, the same client: too
    assert limiter.hits("b", "a", window_s=60, now=T0) == 3
    assert limiter.hits("other", "a", window_s=60, now=T0) == 1


def test_many_clients_drop_the_leases_of_past_windows_first_then_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded (MAX_HELD clients): past it, a container forgets leases of windows that
    are over, and if all are current, all of them; a forgotten lease only means a write more."""
    monkeypatch.setattr(rate_leases, "MAX_HELD", 4)
    leases = RateLeases(FakeRateLimiter(FakeTable()))
    for client in ("a", "b", "c"):
        _hit(leases, client)
    _hit(leases, "d", now=T0 + timedelta(seconds=60))  # the next minute
    assert len(leases._held) == 4
    _hit(leases, "e", now=T0 + timedelta(seconds=60))  # full: a, b and c (last minute) go
    assert sorted(s for _, s in leases._held) == ["d", "e"]
    for client in ("f", "g"):
        _hit(leases, client, now=T0 + timedelta(seconds=60))
    _hit(leases, "h", now=T0 + timedelta(seconds=60))  # full of this minute: all go
    assert sorted(s for _, s in leases._held) == ["h"]


class _Counting(FakeRateLimiter):
    def __init__(self) -> None:
        super().__init__(FakeTable())
        self.sent: list[int] = []

    def reserve(self, bucket: str, subject: str, *, count: int, limit: int, window_s: int, now: datetime) -> None:
        self.sent.append(count)
        super().reserve(bucket, subject, count=count, limit=limit, window_s=window_s, now=now)


def test_a_small_limit_is_never_passed_and_a_refused_client_costs_one_write_a_request() -> None:
    limiter = _Counting()
    leases = RateLeases(limiter)
    served = 0
    with pytest.raises(RateLimited) as refused:
        for _ in range(10):
            _hit(leases, "a", limit=3)
            served += 1
    assert served == 3
    assert refused.value.retry_after_s == 55  # the window ends at 10:01:00
    # leases of 1 and 2; a lease of 4 does not fit, nor does one hit: refused
    assert limiter.sent == [1, 2, 4, 1]
    for _ in range(3):
        with pytest.raises(RateLimited):
            _hit(leases, "a", limit=3)
    assert limiter.sent == [1, 2, 4, 1, 1, 1, 1]  # once refused, one hit asked a request
