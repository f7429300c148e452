"""Scheduled function (EventBridge Scheduler).

Daily at 10:00 Asia/Shanghai: the expiry sweep for that day (reminders, grace, suspension,
digests, queued alerts and receipts). Every 5 minutes (`detail.task = expire_orders`):
expire unpaid orders, retry agent webhooks, and deliver the outbox items (agent events, receipts,
quota alerts) the stream dispatcher has not: the outbox's safety net.
Near the Lambda time limit the sweep stops at a checkpoint and invokes itself to go on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.bootstrap import Services, build_services
from simrenew.config import load_config
from simrenew.log import get_logger

SCHEDULE_TZ = ZoneInfo("Asia/Shanghai")


@cache
def services() -> Services:
    return build_services(load_config())


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
    expired, retried, outbox = queues["orders_expired"], queues["webhooks_retried"], queues["outbox_delivered"]
    as_of = sweep_day(event)
    remaining = (lambda: int(context.get_remaining_time_in_millis())) if context is not None else None
    result = svc.sweep.run(as_of, remaining)
    if result.status == "continued":
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if name:
            from simrenew.adapters.dispatch import LambdaDispatcher

            LambdaDispatcher(name, svc.config.region).dispatch({**event, "detail": {"as_of": as_of.isoformat()}})
        get_logger().info("sweep continues in a new invocation", extra={"as_of": as_of.isoformat()})
    return {
        **result.to_json(),
        "orders_expired": expired,
        "webhooks_retried": retried,
        "outbox_delivered": outbox,
        "failed_steps": queues["failed_steps"],
    }
