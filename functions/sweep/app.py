"""The sweep function: scheduled (EventBridge Scheduler), and the steps of each sweep run.

Daily at 10:00 Asia/Shanghai: the expiry sweep for that day (reminders, grace, suspension,
digests, queued alerts and receipts), fanned out: this invocation coordinates and invokes this
function once per expiry shard (`{"sweep": "shard", ...}`, asynchronously); each worker stops at a
checkpoint near the Lambda time limit and invokes itself to go on (services/sweep_runs.py).
`POST /v1/admin/sweeps` starts a run the same way (`{"sweep": "coordinate", ...}`).
Every 5 minutes (`detail.task = expire_orders`): expire unpaid orders, retry agent webhooks, and
deliver the outbox items (agent events, receipts, quota alerts) the stream dispatcher has not:
the outbox's safety net.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.bootstrap import NEEDS, SweepServices, build_sweep
from simrenew.config import load_config
from simrenew.log import get_logger

SCHEDULE_TZ = ZoneInfo("Asia/Shanghai")


@cache
def services() -> SweepServices:
    return build_sweep(load_config(needs=NEEDS["sweep"]))


def sweep_day(event: dict[str, Any]) -> date:
    """The day to sweep: `as_of` if given, else the scheduled time's date in China."""
    detail = event.get("detail") or {}
    if isinstance(detail.get("as_of"), str):
        return date.fromisoformat(detail["as_of"])
    raw = event.get("time")
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        moment = services().clock.now()
    return moment.astimezone(SCHEDULE_TZ).date()


def _each_on_its_own(steps: dict[str, Callable[[], int]]) -> dict[str, Any]:
    """Run every step even when one fails (Stripe unreachable while expiring orders must not keep
    receipts from going out); a failed step is logged and named in the answer, and its work stays
    due for the next run."""
    out: dict[str, Any] = {}
    failed: list[str] = []
    for name, step in steps.items():
        try:
            out[name] = step()
        except Exception:  # noqa: BLE001 - isolating the steps is the point
            get_logger().exception("scheduled step failed", extra={"step": name})
            out[name] = None
            failed.append(name)
    out["failed_steps"] = failed
    return out


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    svc = services()
    remaining = (lambda: int(context.get_remaining_time_in_millis())) if context is not None else None
    if "sweep" in event:  # a step of a sweep run: its coordinator, a shard worker, the day's end
        return svc.sweep_runs.handle(event, remaining)
    steps: dict[str, Callable[[], int]] = {
        "orders_expired": svc.orders.expire_due,
        "webhooks_retried": svc.webhooks.retry_due,
        # The outbox's safety net: agent events the stream dispatcher did not deliver (services/outbox.py).
        "outbox_delivered": svc.outbox.drain_due,
    }
    if (event.get("detail") or {}).get("task") == "expire_orders":  # the 5-minute schedule
        steps["queued_messages_sent"] = svc.sweep.drain_queued  # receipts and alerts left pending
        return _each_on_its_own(steps)
    queues = _each_on_its_own(steps)
    run = svc.sweep_runs.scheduled(sweep_day(event))
    get_logger().info("daily sweep started", extra=run)
    return {**run, **queues}
