"""The dispatch port: hand an event to another function's worker (an async Lambda invoke in AWS, a
thread or an in-process queue locally: simrenew.adapters.dispatch)."""

from __future__ import annotations

from typing import Any, Protocol


class Dispatcher(Protocol):
    """Hands an import, a sweep shard or a carrier sync to its worker, without waiting for it."""

    def dispatch(self, event: dict[str, Any]) -> None: ...
