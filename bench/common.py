"""What the benchmarks share: DynamoDB Local on a free port, the table, the services, the
botocore request/capacity counter, medians, the environment block and JSON output.

Not a test helper: nothing here asserts on time.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
REGION = "us-east-1"
PLATFORM_KEY = "srp_bench-platform-key-0000000000000000"  # 40 characters, local only
LOCAL_BASE_URL = "http://127.0.0.1:8000"
T = TypeVar("T")


# --- process and environment --------------------------------------------------------------------------
def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def handle_signals() -> None:
    """SIGTERM and SIGINT both end a benchmark through KeyboardInterrupt, so its `finally`
    blocks stop the processes it started (even when started with SIGINT ignored)."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def environment() -> dict[str, Any]:
    import boto3

    from infra.processes import DDB_VERSION

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "dynamodb_local": f"amplify-dynamodb-simulator {DDB_VERSION}, -inMemory -sharedDb",
        "boto3": boto3.__version__,
    }


def git_commit() -> str | None:
    """The checked-out commit, read only (`git rev-parse`); uncommitted changes are not shown."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --- DynamoDB Local, the table, the services ---------------------------------------------------------
@contextmanager
def dynamodb_local(log_name: str) -> Iterator[str]:
    """DynamoDB Local in memory on a free 127.0.0.1 port (log in bench/out); yields the endpoint
    and stops it at the end, Ctrl-C included. Sets dummy local credentials in this process."""
    from infra.processes import free_port, local_aws_env, start_dynamodb_local, stop

    os.environ.update(local_aws_env())
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (OUT / log_name).open("ab") as log:
        proc = start_dynamodb_local(port, None, log)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


def table_client(endpoint: str, table: str) -> Any:
    """A plain boto3 client on DynamoDB Local with the table created from template.yaml."""
    import boto3

    from infra.table import ensure_table

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    ensure_table(client, table)
    return client


def local_services(table: str, endpoint: str, extra_env: dict[str, str] | None = None) -> Any:
    """The app's services in this process (SIMRENEW_ENV=local: imports run on the ThreadDispatcher)."""
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    env = {
        "SIMRENEW_ENV": "local",
        "TABLE_NAME": table,
        "AWS_REGION": REGION,
        "PUBLIC_BASE_URL": LOCAL_BASE_URL,
        "SIMRENEW_PLATFORM_KEY": PLATFORM_KEY,
        "DDB_ENDPOINT": endpoint,
        **(extra_env or {}),
    }
    return build_services(load_config(env))


@contextmanager
def local_stack(log_name: str, table: str, extra_env: dict[str, str] | None = None) -> Iterator[tuple[Any, Any]]:
    """DynamoDB Local in memory with the table (`dynamodb_local`, `table_client`) and the app's
    services over it (`local_services`): yields the plain client and the services."""
    with dynamodb_local(log_name) as endpoint:
        client = table_client(endpoint, table)
        svc = local_services(table, endpoint, extra_env)
        print(f"DynamoDB Local (in memory) on {endpoint}, table {table}", flush=True)
        yield client, svc


BATCH_WRITE_MAX = 25  # puts in one BatchWriteItem


def batch_write(
    client: Any, table: str, chunk: list[dict[str, Any]], backoff: tuple[float, float], **options: Any
) -> int:
    """One BatchWriteItem of up to 25 puts, UnprocessedItems resent with backoff (first delay, longest delay);
    returns the resends."""
    request: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
    resends = 0
    delay, longest = backoff
    while request:
        response = client.batch_write_item(RequestItems=request, **options)
        request = response.get("UnprocessedItems") or {}
        if request:
            resends += 1
            time.sleep(delay)
            delay = min(delay * 2, longest)
    return resends


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """What `work` returns, and the seconds it took."""
    started = time.perf_counter()
    done = work()
    return done, time.perf_counter() - started


def print_warnings(label: str, warnings: list[str]) -> None:
    for w in warnings:
        print(f"{label}WARNING: {w}", flush=True)


def write_figures(path: Path, data: Any) -> None:
    """The benchmark's raw figures as JSON, and where they are."""
    write_json(path, data)
    print(f"raw figures: {shown(path)}")


# --- the request counter -----------------------------------------------------------------------------
@dataclass
class OpStats:
    calls: int = 0
    errors: int = 0
    retries: int = 0
    seconds: float = 0.0
    capacity: float = 0.0
    capacity_reported: int = 0  # responses that carried ConsumedCapacity
    capacity_requested: int = 0  # requests that asked for it
    items_returned: int = 0  # Query/Scan Count

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "errors": self.errors,
            "retries": self.retries,
            "consumed_capacity": round(self.capacity, 3),
            "seconds_in_calls": round(self.seconds, 4),
            "items_returned": self.items_returned,
        }


@dataclass
class Phase:
    name: str
    ops: dict[str, OpStats] = field(default_factory=lambda: defaultdict(OpStats))
    capacity_by_target: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    clients_created: int = 0
    client_create_seconds: float = 0.0
    sessions_created: int = 0

    def total_calls(self) -> int:
        return sum(s.calls for s in self.ops.values())

    def total_capacity(self) -> float:
        return sum(s.capacity for s in self.ops.values())

    def seconds_in_calls(self) -> float:
        return sum(s.seconds for s in self.ops.values())

    def to_json(self) -> dict[str, Any]:
        ops = dict(sorted(self.ops.items()))
        return {
            "ops": {op: s.to_json() for op, s in ops.items()},
            "calls": {op: s.calls for op, s in ops.items()},
            "errors": {op: s.errors for op, s in ops.items() if s.errors},
            "capacity_by_op": {op: round(s.capacity, 3) for op, s in ops.items()},
            "responses_with_capacity": {op: s.capacity_reported for op, s in ops.items()},
            "requests_asking_capacity": {op: s.capacity_requested for op, s in ops.items()},
            "consumed_capacity_by_target": {k: round(v, 3) for k, v in sorted(self.capacity_by_target.items())},
            "total_calls": self.total_calls(),
            "consumed_capacity": round(self.total_capacity(), 3),
            "seconds_in_calls": round(self.seconds_in_calls(), 4),
            "botocore_clients_created": self.clients_created,
            "client_create_seconds": round(self.client_create_seconds, 4),
            "botocore_sessions_created": self.sessions_created,
        }


class RequestCounter:
    """Wraps botocore's BaseClient._make_api_call (every client, PynamoDB's included) and records the
    DynamoDB calls of the active phase from any thread: operation, time in the call, errors, retries
    and ConsumedCapacity where returned. With `split_indexes`, a call asking for TOTAL capacity (as
    PynamoDB does) asks for INDEXES instead: the same total, split per table and index. With
    `count_clients`, botocore sessions and clients created are counted (and timed) too."""

    def __init__(self, *, split_indexes: bool = False, count_clients: bool = False) -> None:
        self._lock = threading.Lock()
        self._phase: Phase | None = None
        self._split_indexes = split_indexes
        self._count_clients = count_clients
        self._restore: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        import botocore.client
        import botocore.session
        from botocore.exceptions import ClientError

        counter = self
        orig_call = botocore.client.BaseClient._make_api_call

        def counted_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return orig_call(client, operation_name, api_params)
            asked = api_params.get("ReturnConsumedCapacity") not in (None, "NONE")
            if counter._split_indexes and api_params.get("ReturnConsumedCapacity") == "TOTAL":
                api_params = {**api_params, "ReturnConsumedCapacity": "INDEXES"}
            started = time.perf_counter()
            try:
                response = orig_call(client, operation_name, api_params)
            except ClientError as exc:
                counter._record(operation_name, exc.response, time.perf_counter() - started, asked, error=True)
                raise
            counter._record(operation_name, response, time.perf_counter() - started, asked, error=False)
            return response

        self._patch(botocore.client.BaseClient, "_make_api_call", counted_call)
        if not self._count_clients:
            return
        orig_create = botocore.session.Session.create_client
        orig_init = botocore.session.Session.__init__

        def counted_create(session: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return orig_create(session, *args, **kwargs)
            finally:
                with counter._lock:
                    if counter._phase is not None:
                        counter._phase.clients_created += 1
                        counter._phase.client_create_seconds += time.perf_counter() - started

        def counted_init(session: Any, *args: Any, **kwargs: Any) -> None:
            orig_init(session, *args, **kwargs)
            with counter._lock:
                if counter._phase is not None:
                    counter._phase.sessions_created += 1

        self._patch(botocore.session.Session, "create_client", counted_create)
        self._patch(botocore.session.Session, "__init__", counted_init)

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._restore.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def uninstall(self) -> None:
        while self._restore:
            owner, name, original = self._restore.pop()
            setattr(owner, name, original)

    def _record(self, op: str, response: dict[str, Any] | None, seconds: float, asked: bool, error: bool) -> None:
        with self._lock:
            phase = self._phase
            if phase is None:
                return
            stats = phase.ops[op]
            stats.calls += 1
            stats.seconds += seconds
            stats.capacity_requested += int(asked)
            if error:
                stats.errors += 1
            if not response:
                return
            stats.retries += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
            stats.items_returned += int(response.get("Count", 0) or 0)
            capacity = response.get("ConsumedCapacity")
            entries = capacity if isinstance(capacity, list) else [capacity] if capacity else []
            if entries:
                stats.capacity_reported += 1
            for entry in entries:
                stats.capacity += float(entry.get("CapacityUnits", 0) or 0)
                if "Table" in entry:
                    phase.capacity_by_target[f"{op} table"] += float(entry["Table"].get("CapacityUnits", 0) or 0)
                for index, used in (entry.get("GlobalSecondaryIndexes") or {}).items():
                    phase.capacity_by_target[f"{op} {index}"] += float(used.get("CapacityUnits", 0) or 0)

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        current = Phase(name)
        with self._lock:
            self._phase = current
        try:
            yield current
        finally:
            with self._lock:
                self._phase = None

    @contextmanager
    def installed(self) -> Iterator[RequestCounter]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()


# --- statistics ----------------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    data = [float(v) for v in values]
    return float(statistics.median(data)) if data else 0.0


def p90(values: Iterable[float]) -> float:
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def ratio(numerator: float, denominator: float, digits: int = 2) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def op_sort_key(order: tuple[str, ...]) -> Any:
    """A sort key putting the operations named in `order` first, in that order."""

    def key(op: str) -> tuple[int, str]:
        return (order.index(op) if op in order else len(order), op)

    return key


Column = tuple[str, Callable[[dict[str, Any]], float], str]


def print_repeats(results: list[dict[str, Any]], columns: list[Column]) -> None:
    """One line of each column's figure per repeat (`label s: a, b, c`), then the warnings count."""
    parts = [f"{label} s: " + ", ".join(format(pick(r), spec) for r in results) for label, pick, spec in columns]
    print("per repeat, " + "; ".join(parts))
    warnings = [w for r in results for w in r["warnings"]]
    print(f"warnings: {len(warnings)}" + ("" if not warnings else " (see above and the JSON file)"))
