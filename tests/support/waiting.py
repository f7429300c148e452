"""Waiting for what the local stack does in the background: a condition, an import's end."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.client import ApiClient

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 30, what: str = "condition", every: float = 0.2) -> T:
    """The first truthy value `check` returns within `timeout` seconds; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s")


def import_finished(
    api: ApiClient, key: str, import_id: str, timeout: float = 120, every: float = 0.2
) -> tuple[dict[str, Any], list[int]]:
    """The import's status once it is done or failed, and the `processed` counts seen on the way."""
    seen: list[int] = []
    status: dict[str, Any] = {}

    def finished() -> bool:
        nonlocal status
        r = api.get(f"/v1/imports/{import_id}", key=key)
        assert r.status == 200, r.body
        status = r.json
        seen.append(int(status["processed"]))
        return status["status"] in ("done", "failed")

    wait_for(finished, timeout, f"the end of import {import_id}", every)
    return status, seen
