"""Handing work to another invocation (the import worker, the sweep's steps): an async Lambda
invoke in AWS, a thread locally. Both deliver the same event to the same service method."""

from __future__ import annotations

import json
import queue
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


class QueueDispatcher:
    """Local stack and tests: the sweep's steps (its coordinator, one worker per shard, the day's
    end) run one after the other on one background thread of this process, in the order they
    were dispatched, as the sweep function would run them (in parallel there)."""

    def __init__(self, worker: Callable[[dict[str, Any]], Any], name: str = "sweep") -> None:
        self._worker = worker
        self._name = name
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def dispatch(self, event: dict[str, Any]) -> None:
        self._queue.put(event)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"{self._name}-dispatcher", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            event = self._queue.get()
            try:
                self._worker(event)
            except Exception:  # noqa: BLE001 - a failed step is retried by the next run; keep going
                get_logger().exception(f"{self._name} step failed", extra={"event": event})
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Until every event dispatched so far (and every event those dispatched) has run."""
        self._queue.join()


class LambdaDispatcher:
    """AWS: invoke the function asynchronously (InvocationType=Event)."""

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
