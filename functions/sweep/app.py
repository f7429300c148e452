"""Expiry sweep function (EventBridge Scheduler, daily 10:00 Asia/Shanghai).

Not implemented yet (the sweep issue builds it): it logs that it did nothing and says so
in its result, so the schedule and the local scheduler thread can already be wired.
"""

from __future__ import annotations

from typing import Any

from simrenew.log import get_logger


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    get_logger().warning(
        "expiry sweep is not implemented yet; nothing was done", extra={"event_time": event.get("time")}
    )
    return {"status": "not_implemented", "reminders_sent": 0, "moved_to_grace": 0, "suspended": 0, "digests_sent": 0}
