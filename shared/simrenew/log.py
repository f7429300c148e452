"""Structured JSON logs (aws-lambda-powertools) carrying tenant_id and request_id.

Request context (request_id, route, tenant_id) is kept per thread: the local server serves
requests from a thread pool, and one request's tenant must never appear on another's lines.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def get_logger() -> Any:
    # Imported on first use: the Logger pulls in a few modules we do not want on the
    # import path of every cold start.
    from aws_lambda_powertools import Logger

    return Logger(service="simrenew")


def begin_request(**keys: Any) -> None:
    """Start a request's log context on this thread: whatever the thread's last request
    added is dropped first."""
    logger = get_logger()
    logger.thread_safe_clear_keys()
    bind(**keys)


def bind(**keys: Any) -> None:
    """Add keys to this thread's log context (None values are left out)."""
    present = {k: v for k, v in keys.items() if v is not None}
    if present:
        get_logger().thread_safe_append_keys(**present)
