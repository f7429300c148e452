"""A hot path's DynamoDB floor on this machine: the very requests the path sent, captured in
process, sent again with a plain boto3 client and nothing else (no service code, no HTTP), timed
next to a bare GetItem on the same DynamoDB Local.

A write is replayed on a key of its own (its `pk` prefixed `REPLAY<n>#`) without its condition,
over an item the replay wrote there first, untimed (the same write sent on its own): like the
path, it replaces an item of the same size and moves its index entries. The expression names and
values only the condition used are dropped with it (DynamoDB refuses unused ones); a
transaction's ConditionChecks are dropped (they write nothing) and counted. Reads go again as
they were. So the floor leaves out the conditions' evaluation: it is slightly under what the path
can reach, never over.

The replay's client is configured as PynamoDB configures its own (`lean_client`: no client-side
parameter validation), so it spends no more time in botocore than the path's requests do; the
bare GetItem it is compared with stays a default boto3 client's.

Requests the path sends side by side (the look-up's rate-limit write and its read) are replayed
side by side; the others one after another, in their order.

Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

WRITES = ("PutItem", "UpdateItem", "DeleteItem")
READS = ("GetItem", "BatchGetItem", "Query")
EXPRESSIONS = ("UpdateExpression", "ProjectionExpression", "KeyConditionExpression", "FilterExpression")
_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")


@dataclass
class Captured:
    """The DynamoDB requests of one call of a path, in the order they were sent."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    dropped_condition_checks: int = 0

    @property
    def operations(self) -> list[str]:
        return [op for op, _ in self.requests]


@contextmanager
def capturing() -> Iterator[Captured]:
    """Record every DynamoDB request sent in this block (any client, any thread), as sent."""
    import botocore.client

    seen = Captured()
    original = botocore.client.BaseClient._make_api_call

    def capture(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen.requests.append((operation_name, copy.deepcopy(api_params)))
        return original(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = capture  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def lean_client(endpoint: str, region: str = "us-east-1", pool: int | None = None) -> Any:
    """A boto3 DynamoDB client without parameter validation, like PynamoDB's (pynamodb 6.1:
    `Connection.client`, `parameter_validation=False`); with `pool`, that many connections (as
    the import's client, for threads sending at once)."""
    import boto3
    from botocore.config import Config

    config = Config(parameter_validation=False, **({"max_pool_connections": pool} if pool else {}))
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=region, config=config)


def _pruned(body: dict[str, Any]) -> dict[str, Any]:
    """`body` without its condition and the expression names and values nothing else uses."""
    out = {k: v for k, v in body.items() if k not in ("ConditionExpression", "ReturnValuesOnConditionCheckFailure")}
    used = {t for name in EXPRESSIONS for t in _TOKEN.findall(str(out.get(name, "")))}
    for attr in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if attr in out:
            kept = {k: v for k, v in out[attr].items() if k in used}
            if kept:
                out[attr] = kept
            else:
                del out[attr]
    return out


def _renamed(body: dict[str, Any], n: int) -> dict[str, Any]:
    out = _pruned(body)
    for part in ("Key", "Item"):
        if part in out:
            out[part] = {**out[part], "pk": {"S": f"REPLAY{n}#{out[part]['pk']['S']}"}}
    return out


def for_replay(op: str, params: dict[str, Any], n: int) -> tuple[dict[str, Any], int]:
    """The request to send again as replay `n`, and how many ConditionChecks it dropped."""
    if op in READS:
        return params, 0
    if op in WRITES:
        return _renamed(params, n), 0
    if op == "TransactWriteItems":
        items, dropped = [], 0
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind == "ConditionCheck":
                dropped += 1
                continue
            items.append({kind: _renamed(body, n)})
        return {**params, "TransactItems": items}, dropped
    raise ValueError(f"no replay for {op}")


@dataclass
class Replayer:
    """Sends a captured path's requests again with `client` (a plain boto3 DynamoDB client)."""

    client: Any
    captured: Captured
    side_by_side: bool = False
    _n: int = 0
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=4))

    def _send(self, op: str, params: dict[str, Any]) -> None:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()
        getattr(self.client, method)(**params)

    def _prime(self, op: str, body: dict[str, Any]) -> None:
        if op in WRITES:
            self._send(op, body)
        elif op == "TransactWriteItems":
            for entry in body["TransactItems"]:
                ((kind, item),) = entry.items()
                if kind in ("Put", "Update"):
                    self._send(f"{kind}Item", item)

    def once(self) -> float:
        """One replay, timed (seconds)."""
        self._n += 1
        requests = []
        for op, params in self.captured.requests:
            body, dropped = for_replay(op, params, self._n)
            self.captured.dropped_condition_checks = max(self.captured.dropped_condition_checks, dropped)
            requests.append((op, body))
        for op, body in requests:  # untimed: the items the timed writes replace
            self._prime(op, body)
        started = time.perf_counter()
        if self.side_by_side and len(requests) > 1:
            beside = [self._pool.submit(self._send, op, body) for op, body in requests[1:]]
            self._send(*requests[0])
            for future in beside:
                future.result()
        else:
            for op, body in requests:
                self._send(op, body)
        return time.perf_counter() - started

    def close(self) -> None:
        self._pool.shutdown(wait=True)
