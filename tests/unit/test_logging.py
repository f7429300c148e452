"""Structured JSON logs carry tenant_id and request id; an unexpected failure is a 500 in
the API error shape, logged without the caller's key."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from simrenew.log import get_logger
from tests.support.builders import create_agent
from tests.support.client import ApiClient


def test_an_unexpected_error_is_a_logged_500_with_tenant_id_and_no_secret(
    api: ApiClient, services: Any, platform_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = create_agent(api, platform_key)

    def boom(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.listing, "merchants", boom)
    handler = get_logger().registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        r = api.get("/v1/merchants", key=agent.admin_key)
    finally:
        handler.setStream(previous)
    assert r.status == 500
    assert r.error["code"] == "internal_error"
    assert "disk on fire" not in r.body.decode()

    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    errors = [entry for entry in lines if entry.get("level") == "ERROR"]
    assert errors, lines
    entry = errors[-1]
    assert entry["tenant_id"] == agent.tenant_id
    assert entry["route"] == "GET /v1/merchants"
    assert "disk on fire" in json.dumps(entry)
    assert agent.admin_key not in json.dumps(lines)


def test_log_context_is_per_request_thread_and_never_leaks_into_another_requests_lines() -> None:
    """Two requests served at once by two threads: each line carries only its own request's keys."""
    import threading

    from simrenew.log import begin_request, bind

    handler = get_logger().registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    a_bound, b_logged = threading.Event(), threading.Event()

    def request_a() -> None:
        begin_request(request_id="req-a", route="GET /v1/merchants")
        bind(tenant_id="t_agent_a")
        a_bound.set()
        b_logged.wait(timeout=10)
        get_logger().warning("line of a")

    def request_b() -> None:
        a_bound.wait(timeout=10)
        begin_request(request_id="req-b", route="POST /v1/public/orders")
        get_logger().warning("line of b")
        b_logged.set()

    try:
        threads = [threading.Thread(target=request_a), threading.Thread(target=request_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        handler.setStream(previous)
    lines = {e["message"]: e for e in (json.loads(x) for x in buffer.getvalue().splitlines() if x.startswith("{"))}
    assert "tenant_id" not in lines["line of b"] and lines["line of b"]["route"] == "POST /v1/public/orders"
    assert (lines["line of a"]["tenant_id"], lines["line of a"]["route"]) == ("t_agent_a", "GET /v1/merchants")
