"""Handing work to the worker function: an async Lambda invoke in AWS, a thread locally.
Both deliver the same event to the same service method."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from simrenew.log import get_logger


class ThreadDispatcher:
    """Local stack and tests: run the worker in a background thread of this process."""

    def __init__(self, worker: Callable[[dict[str, Any]], Any]) -> None:
        self._worker = worker
        self.threads: list[threading.Thread] = []

    def dispatch(self, event: dict[str, Any]) -> None:
        def run() -> None:
            try:
                self._worker(event)
            except Exception:  # noqa: BLE001 - the job records its own failure; keep the thread quiet
                get_logger().exception("worker failed", extra={"event": event})

        thread = threading.Thread(target=run, name=f"worker-{event.get('import_id', '')}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 60) -> None:
        for thread in self.threads:
            thread.join(timeout)


class LambdaDispatcher:
    """AWS: invoke the worker function asynchronously (InvocationType=Event)."""

    def __init__(self, function_name: str, region: str) -> None:
        self._function_name = function_name
        self._region = region
        self._client: Any = None

    def dispatch(self, event: dict[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("lambda", region_name=self._region)
        self._client.invoke(
            FunctionName=self._function_name, InvocationType="Event", Payload=json.dumps(event).encode()
        )
