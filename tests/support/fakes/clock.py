"""The clock port: `simrenew.clock.FixedClock` already stands still until told to move."""

from __future__ import annotations

from datetime import UTC, datetime

from simrenew.clock import Clock, FixedClock

__all__ = ["Clock", "FixedClock", "fixed_clock"]


def fixed_clock(at: str = "2026-03-10T04:00:00") -> FixedClock:
    """Noon in Shanghai on `at`'s day by default (04:00 UTC): a day with no date-line surprises."""
    return FixedClock(datetime.fromisoformat(at).replace(tzinfo=UTC))
