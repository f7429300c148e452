"""A fault-injecting HTTP proxy in front of DynamoDB Local, on 127.0.0.1.

Every DynamoDB request the code under test sends goes through it unchanged, except the ones
a rule picks: those are answered the way DynamoDB answers under load, so botocore's retry
logic (and the app's own handling after it gives up) runs end to end:

- ``throughput``: 400 ``ProvisionedThroughputExceededException``
- ``throttling``: 400 ``ThrottlingException``
- ``request_limit``: 400 ``RequestLimitExceeded``
- ``internal``: 500 ``InternalServerError``
- ``conflict``: on ``TransactWriteItems`` a 400 ``TransactionCanceledException`` whose
  reasons are ``TransactionConflict`` for the first item and ``None`` for the rest (what a
  concurrent transaction on one item gives); on a single-item write a 400
  ``TransactionConflictException``
- ``unprocessed``: on ``BatchWriteItem`` / ``BatchGetItem`` only the first half of the
  request is forwarded and the rest comes back in ``UnprocessedItems`` / ``UnprocessedKeys``
  (DynamoDB's way of throttling part of a batch)

A rule picks every k-th request of each operation it covers (optionally at most n in all).
A picked request is refused ``burst`` times in a row (botocore's retries of it carry the same
body), and the attempt after that goes through untouched: ``burst=1`` is one throttle that a
single retry absorbs, a large ``burst`` is an outage for that request. Everything injected and
forwarded is counted per operation.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_PREFIX = "com.amazonaws.dynamodb.v20120810#"
ERRORS: dict[str, tuple[int, str, str]] = {
    "throughput": (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    "throttling": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "request_limit": (
        400,
        "RequestLimitExceeded",
        "Throughput exceeds the current throughput limit for your account. Please contact AWS Support.",
    ),
    "internal": (500, "InternalServerError", "Internal server error"),
}
FAULTS = (*ERRORS, "conflict", "unprocessed")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "host"}


@dataclass
class Rule:
    """Which requests get which fault. `ops` empty means every operation. Requests are counted
    per operation: the rule picks the n-th request of an operation when n % every == phase
    (phase 0: the every-th, the 2·every-th, …), after `skip` of them, at most `limit` in all."""

    fault: str
    ops: frozenset[str] = frozenset()
    every: int = 1
    phase: int = 0
    limit: int | None = None  # at most this many requests picked (a burst counts once)
    skip: int = 0
    burst: int = 1  # the picked request is refused this many times in a row
    matched: Counter[str] = field(default_factory=Counter)
    picked: int = 0

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; one of {FAULTS}")
        if self.every < 1 or self.burst < 1:
            raise ValueError("every and burst must be at least 1")

    def applies(self, op: str) -> bool:
        return not self.ops or op in self.ops

    def pick(self, op: str) -> bool:
        """Called for each matching request (under the proxy's lock)."""
        self.matched[op] += 1
        n = self.matched[op] - self.skip
        if n <= 0 or (self.limit is not None and self.picked >= self.limit):
            return False
        if n % self.every != self.phase % self.every:
            return False
        self.picked += 1
        return True


def rule(fault: str, ops: Iterable[str] = (), **kw: Any) -> Rule:
    return Rule(fault, frozenset(ops), **kw)


@dataclass
class Tally:
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (op, fault) -> answers injected
    forwarded: Counter[str] = field(default_factory=Counter)  # op -> requests DynamoDB Local saw

    def total(self, fault: str | None = None, op: str | None = None) -> int:
        return sum(
            n for (o, f), n in self.injected.items() if (fault is None or f == fault) and (op is None or o == op)
        )

    def by_op(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (op, _fault), n in self.injected.items():
            out[op] += n
        return dict(out)


class FaultProxy:
    """`with FaultProxy(upstream) as proxy:` … `proxy.endpoint` is what the code under test uses."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._bursts: dict[str, tuple[str, int]] = {}  # body digest -> (fault, refusals still to give)
        self._passes: set[str] = set()  # digests whose next arrival (the retry after a burst) goes through
        self.tally = Tally()
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ddb-fault-proxy", daemon=True)

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rules -----------------------------------------------------------------------------------
    def set_rules(self, *rules: Rule) -> Tally:
        """Replace the rules and start a fresh tally (returned)."""
        with self._lock:
            self._rules = list(rules)
            self._bursts.clear()
            self._passes.clear()
            self.tally = Tally()
            return self.tally

    def clear(self) -> None:
        with self._lock:
            self._rules = []
            self._bursts.clear()
            self._passes.clear()

    @contextmanager
    def faults(self, *rules: Rule) -> Iterator[Tally]:
        tally = self.set_rules(*rules)
        try:
            yield tally
        finally:
            self.clear()

    def _decide(self, op: str, body: bytes) -> str | None:
        digest = hashlib.sha256(op.encode() + b"\0" + body).hexdigest()
        with self._lock:
            if digest in self._passes:
                self._passes.discard(digest)
                return None
            pending = self._bursts.get(digest)
            if pending is not None:
                fault, left = pending
                if left <= 1:
                    del self._bursts[digest]
                    self._passes.add(digest)
                else:
                    self._bursts[digest] = (fault, left - 1)
                self.tally.injected[(op, fault)] += 1
                return fault
            for r in self._rules:
                if not r.applies(op) or not _can_inject(r.fault, op):
                    continue
                if r.pick(op):
                    if r.burst > 1:
                        self._bursts[digest] = (r.fault, r.burst - 1)
                    else:
                        self._passes.add(digest)
                    self.tally.injected[(op, r.fault)] += 1
                    return r.fault
            return None

    # --- HTTP --------------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                fault = proxy._decide(op, body)
                if fault is None:
                    status, out_headers, out = proxy._forward(self.path, headers, body)
                    with proxy._lock:
                        proxy.tally.forwarded[op] += 1
                elif fault == "unprocessed":
                    status, out_headers, out = proxy._partial(op, self.path, headers, body)
                    with proxy._lock:
                        proxy.tally.forwarded[op] += 1
                else:
                    status, out = _error(fault, op, body)
                    out_headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "injected")]
                self.send_response(status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(*self._upstream, timeout=60)
            self._local.conn = conn
        return conn  # type: ignore[no-any-return]

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
                return resp.status, kept, data
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _partial(
        self, op: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Forward the first half of a batch; hand the rest back as unprocessed."""
        request = json.loads(body)
        key = "RequestItems"
        sent: dict[str, Any] = {}
        held: dict[str, Any] = {}
        for table, entry in request[key].items():
            if op == "BatchWriteItem":
                half = max(1, len(entry) // 2)
                sent[table], rest = entry[:half], entry[half:]
                if rest:
                    held[table] = rest
            else:
                wanted = entry["Keys"]
                half = max(1, len(wanted) // 2)
                sent[table] = {**entry, "Keys": wanted[:half]}
                if wanted[half:]:
                    held[table] = {**entry, "Keys": wanted[half:]}
        status, kept, data = self._forward(path, headers, json.dumps({**request, key: sent}).encode())
        if status != 200:
            return status, kept, data
        answer = json.loads(data)
        answer["UnprocessedItems" if op == "BatchWriteItem" else "UnprocessedKeys"] = held
        kept = [(k, v) for k, v in kept if k.lower() != "x-amz-crc32"]  # the body changed
        return status, kept, json.dumps(answer).encode()


def _can_inject(fault: str, op: str) -> bool:
    if fault == "unprocessed":
        return op in ("BatchWriteItem", "BatchGetItem")
    if fault == "conflict":
        return op in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem")
    return True


def _error(fault: str, op: str, body: bytes) -> tuple[int, bytes]:
    if fault == "conflict":
        if op == "TransactWriteItems":
            count = len(json.loads(body).get("TransactItems", []))
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            reasons += [{"Code": "None"}] * (count - 1)
            listed = ", ".join(r["Code"] for r in reasons)
            message = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]"
            payload = {"__type": _PREFIX + "TransactionCanceledException", "Message": message}
            payload["CancellationReasons"] = reasons  # type: ignore[assignment]
            return 400, json.dumps(payload).encode()
        return 400, json.dumps(
            {"__type": _PREFIX + "TransactionConflictException", "message": "Transaction is ongoing for the item"}
        ).encode()
    status, code, message = ERRORS[fault]
    return status, json.dumps({"__type": _PREFIX + code, "message": message}).encode()
