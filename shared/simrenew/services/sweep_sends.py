"""The sweep's sends on a bounded thread pool, their outcomes written in batches.

The caller claims each message first, on its own thread (one conditional PutItem each: the claim
is the notification's record, state "sending"); a task sends the claimed messages and leaves their
outcomes (sent, failed) here. The calling thread writes them whole with BatchWriteItem, 25 a
request, and all of them before a shard's checkpoint (`settle`), so a checkpoint never covers a
message whose outcome is not written. The pool's threads only call the providers: every DynamoDB
request stays on the calling thread, beside the sweep's transactions (moto, the unit tests' table,
is not safe for concurrent transactions). A run
killed without a chance to settle leaves those claims "sending" under a dead run: the next run
takes them over and sends them (as when a run is killed mid-send, only messages accepted by the
provider since the last written batch can repeat).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Generic, TypeVar

from simrenew.ports.sweep_store import Outcome

# Sends in flight at once per sweep step (SNS and SES calls wait on the network, not on the CPU;
# botocore's connection pool holds 10, so the pool's DynamoDB writes never wait for a connection).
SEND_WORKERS = 8
RECORD_BATCH = 25  # BatchWriteItem's limit

Counts = tuple[int, int]  # what a task returns, handed to its callback when settled
# A claimed message as the sweep's store holds it (opaque here: the pool only queues and hands it back).
Claim = TypeVar("Claim")


class SendPool(Generic[Claim]):
    """Tasks run on SEND_WORKERS threads; `finish` (called by the tasks) queues outcomes; `settle`
    waits for every task, writes every queued outcome and runs the tasks' callbacks on the
    calling thread (the counters are the caller's)."""

    def __init__(
        self,
        record: Callable[[Sequence[Claim]], None],
        mark: Callable[[Claim, str, datetime, Outcome], Claim],
        workers: int = SEND_WORKERS,
    ) -> None:
        self._record = record
        self._mark = mark
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep-send")
        self._lock = threading.Lock()
        self._tasks: list[tuple[Future[Counts], Callable[[Counts], None]]] = []
        self._outcomes: list[Claim] = []

    def submit(self, task: Callable[[], Counts], done: Callable[[Counts], None]) -> None:
        self._tasks.append((self._executor.submit(task), done))
        with self._lock:
            batch: list[Claim] = []
            if len(self._outcomes) >= RECORD_BATCH:
                batch, self._outcomes[:RECORD_BATCH] = self._outcomes[:RECORD_BATCH], []
        if batch:
            self._record(batch)

    def finish(self, item: Claim, state: str, now: datetime, outcome: Outcome) -> None:
        """The store's `finish`, queued: `mark` (the store's `finished`) sets the outcome, the calling
        thread writes it (the next `submit` once 25 are queued, or `settle`)."""
        self._mark(item, state, now, outcome)
        with self._lock:
            self._outcomes.append(item)

    def settle(self) -> None:
        """Every task submitted so far has ended and every outcome is written; the callbacks of the
        tasks that succeeded have run. A task's failure (a store error, a killed process) is raised
        again here, after the outcomes of the others are written."""
        tasks, self._tasks = self._tasks, []
        failure: BaseException | None = None
        for future, done in tasks:
            try:
                counts = future.result()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, once the rest is recorded
                failure = failure or exc
                continue
            done(counts)
        with self._lock:
            batch, self._outcomes = self._outcomes, []
        for start in range(0, len(batch), RECORD_BATCH):
            self._record(batch[start : start + RECORD_BATCH])
        if failure is not None:
            raise failure

    def __enter__(self) -> SendPool[Claim]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            try:
                self.settle()
            finally:
                self._executor.shutdown(wait=True)
            return
        # The step failed: tasks not started yet are dropped (they claimed nothing); those running
        # end and their outcomes are written; the step's own exception is the one that propagates.
        self._executor.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(BaseException):  # the step's exception is raised instead
            self.settle()
