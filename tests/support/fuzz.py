"""Helpers of the OpenAPI fuzz test: which key each operation takes (its `x-auth`), the exact
error shape of docs/api.md as a schemathesis check, and guards that keep fuzzing from disturbing the
rest of the integration suite that shares the table and the client address."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from simrenew.adapters.dynamodb.keys import rate_limit_pk

# docs/api.md: {"error": {"code": "snake_case_code", "message": "human text", "field": "optional field name"}}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
# A 429 adds `retry_after_s` (also the Retry-After header).
ERROR_KEYS = frozenset({"code", "message", "field", "retry_after_s"})

# Every request of the suite comes from this address (Chalice's local gateway fixes the sourceIp),
# so the per-client limits of the public routes are shared by all integration tests.
LOCAL_CLIENT = "127.0.0.1"
# (bucket, window) of every per-client limit a fuzzed request can count against.
CLIENT_BUCKETS: tuple[tuple[str, int], ...] = (
    ("signup", 3600),
    ("public-lookup", 60),
    ("public-order", 3600),
    ("voucher-client", 3600),
)


def error_shape_problems(body: bytes) -> list[str]:
    """Why `body` is not exactly the documented error shape; empty when it is."""
    try:
        data = json.loads(body)
    except ValueError:
        return [f"the body is not JSON: {body[:200]!r}"]
    if not isinstance(data, dict) or set(data) != {"error"}:
        return [f"the body must be an object with the single key 'error': {data!r}"[:300]]
    error = data["error"]
    if not isinstance(error, dict):
        return [f"'error' must be an object: {error!r}"[:300]]
    problems = []
    if set(error) - ERROR_KEYS:
        problems.append(f"unexpected keys in 'error': {sorted(set(error) - ERROR_KEYS)}")
    code = error.get("code")
    if not isinstance(code, str) or not SNAKE_CASE.match(code):
        problems.append(f"'error.code' must be a snake_case string: {code!r}")
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        problems.append(f"'error.message' must be a non-empty string: {message!r}")
    if "field" in error and (not isinstance(error["field"], str) or not error["field"]):
        problems.append(f"'error.field' must be a non-empty string when present: {error['field']!r}")
    return problems


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis check: every 4xx answer is JSON in exactly the error shape of docs/api.md."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), f"{response.status_code} with Content-Type {content_type!r}"
    problems = error_shape_problems(response.content)
    assert not problems, f"{response.status_code} answer is not the documented error shape: " + "; ".join(problems)
    return True


@dataclass(frozen=True)
class Keys:
    platform: str
    agent_admin: str

    def headers_for(self, x_auth: str) -> dict[str, str]:
        """The Authorization header an operation needs: none for public routes, the platform key for
        /v1/admin/*, else the fuzz tenant's admin key (admin is the highest agent role)."""
        if x_auth == "public":
            return {}
        if x_auth == "platform":
            return {"Authorization": f"Bearer {self.platform}"}
        return {"Authorization": f"Bearer {self.agent_admin}"}


def with_path_examples(schema: dict[str, Any], examples: dict[str, str]) -> dict[str, Any]:
    """The OpenAPI document with an `example` on each path parameter named in `examples`, so the
    examples phase reaches real resources of the fuzz tenant rather than only 404s."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in examples:
                    parameter["example"] = examples[parameter["name"]]
    return schema


def would_run_a_sweep(method: str, path: str, body: Any) -> bool:
    """True for a well-formed POST /v1/admin/sweeps: it would sweep every tenant of the shared table."""
    if method.upper() != "POST" or path != "/v1/admin/sweeps" or not isinstance(body, dict):
        return False
    as_of = body.get("as_of")
    return isinstance(as_of, str) and re.fullmatch(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*", as_of) is not None


@contextmanager
def client_limits_restored(ddb_client: Any, table: str) -> Iterator[None]:
    """Put the per-client rate-limit counters of the local client back as they were: fuzzing the public
    routes must not use up the budget of the tests that run after it in the same hour."""
    started = time.time()
    saved: dict[str, dict[str, Any] | None] = {}

    def pks(at: float) -> list[str]:
        return [rate_limit_pk(bucket, LOCAL_CLIENT, int(at) // window) for bucket, window in CLIENT_BUCKETS]

    for pk in pks(started):
        saved[pk] = ddb_client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "RATE"}}).get("Item")
    try:
        yield
    finally:
        ended = time.time()
        # A window that began during the fuzzing started empty.
        touched = {pk for at in range(int(started), int(ended) + 2, 30) for pk in pks(at)}
        for pk in sorted(touched | set(saved)):
            key = {"pk": {"S": pk}, "sk": {"S": "RATE"}}
            before = saved.get(pk)
            if before is None:
                ddb_client.delete_item(TableName=table, Key=key)
            else:
                ddb_client.put_item(TableName=table, Item=before)


# --- hostile shapes no schema describes (issue 13) ----------------------------------------------------------
def nested_json(depth: int, kinds: str) -> str:
    """A JSON value nested `depth` levels deep, each level an array or an object as `kinds`
    says ("[" or "{" per level, cycled)."""
    opening, closing = [], []
    for level in range(depth):
        if kinds[level % len(kinds)] == "[":
            opening.append("[")
            closing.append("]")
        else:
            opening.append('{"a":')
            closing.append("}")
    return "".join(opening) + "1" + "".join(reversed(closing))


def nesting_strategy() -> Any:
    """(depth, kinds) from shallow to far beyond the recursion limit."""
    from hypothesis import strategies as st

    return st.tuples(
        st.one_of(st.integers(1, 40), st.integers(40, 5000), st.sampled_from([32, 33, 1000, 100_000])),
        st.text(alphabet="[{", min_size=1, max_size=4),
    )


def header_size_strategy() -> Any:
    """(header name, value length) from ordinary to far above what http.server reads (64 KB)."""
    from hypothesis import strategies as st

    return st.tuples(
        st.sampled_from(["X-Padding", "Cookie", "User-Agent", "Authorization", "Idempotency-Key"]),
        st.one_of(st.integers(1, 8_000), st.integers(8_000, 200_000), st.sampled_from([65_535, 65_536, 102_400])),
    )
