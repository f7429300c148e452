"""The local origin under hostile input and load, over real HTTP: bad Content-Length values, odd
content types, a spoofed client identity, wrong-code lock-outs, and a burst of 200 concurrent
signed Stripe deliveries."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from simrenew.domain.dates import add_months
from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.fuzz import error_shape_problems
from tests.support.payments import sign, succeeded_for


def _raw(server_url: str, request: bytes, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidying them up); the status, headers, body."""
    parts = urlsplit(server_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    ("content_length", "sent", "status"),
    [
        ("abc", b'{"sn":"X"}', 400),
        ("-1", b'{"sn":"X"}', 400),
        ("1e3", b'{"sn":"X"}', 400),
        ("99999999999", b"", 413),
        ("100", b'{"sn":', 400),  # shorter than announced, then the client stops sending
    ],
)
def test_a_bad_content_length_is_a_4xx_in_the_error_shape(
    server_url: str, content_length: str, sent: bytes, status: int
) -> None:
    request = (
        b"POST /v1/public/vouchers/redeem HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n".encode()
        + sent
    )
    code, headers, body = _raw(server_url, request, half_close=True)
    assert code == status, body[:200]
    assert "json" in headers.get("content-type", "")
    assert error_shape_problems(body) == []


def test_a_100_kb_header_is_431_in_the_error_shape_not_html(server_url: str) -> None:
    r = requests.get(f"{server_url}/v1/health", headers={"X-Padding": "a" * 102_400}, timeout=30)
    assert r.status_code == 431
    assert "json" in r.headers["content-type"]
    assert r.json()["error"]["code"] == "headers_too_large"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
        "application/json; charset=utf-16",
        "image/png",
        "application/json; charset=nonsense",
        ";;;",
    ],
)
def test_odd_content_types_on_public_routes_answer_4xx_in_the_error_shape(server_url: str, content_type: str) -> None:
    for route in ("/v1/signup", "/v1/public/orders", "/v1/public/vouchers/redeem"):
        for body in (b'{"sn": 1}', b"\xff\xfe\x00garbage", "名=值".encode()):
            r = requests.post(f"{server_url}{route}", data=body, headers={"Content-Type": content_type}, timeout=30)
            assert 400 <= r.status_code < 500, (route, content_type, body, r.status_code, r.text[:200])
            assert error_shape_problems(r.content) == [], (route, content_type, r.text[:200])


def test_deep_json_on_each_public_route_is_400_body_too_deep(server_url: str) -> None:
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    for route in ("/v1/signup", "/v1/public/orders", "/v1/public/vouchers/redeem"):
        r = requests.post(f"{server_url}{route}", data=deep, headers={"Content-Type": "application/json"}, timeout=30)
        assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["field"]) == (400, "body_too_deep", "body")


# --- client identity and wrong-code lock-outs --------------------------------------------------------------------
def _voucher_world(api: ApiClient, platform_key: str) -> tuple[Any, str, list[dict[str, Any]]]:
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "半年卡", "term_months": 6, "data_quota_mb": 1, "price_fen": 100}, key=agent.admin_key
    ).json
    expires = (date.today() + timedelta(days=20)).isoformat()
    terminals = [
        api.post("/v1/terminals", terminal_body(expires_on=expires), key=agent.admin_key).json for _ in range(2)
    ]
    codes = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 2}, key=agent.admin_key).json
    return agent, plan["plan_id"], [*terminals, *[{"code": c} for c in codes["codes"]]]


def _wrong(code: str) -> str:
    """Another well-formed code (its check character recomputed would be too much here: change a
    middle character and keep the check, so it is refused as unknown or by its check character)."""
    return code[:5] + ("A" if code[5] != "A" else "B") + code[6:]


def test_a_spoofed_viewer_address_is_ignored_and_the_lock_out_holds_for_that_client_and_terminal_only(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    _agent, _plan, (t1, t2, good1, good2) = _voucher_world(api, platform_key)
    url = f"{server_url}/v1/public/vouchers/redeem"
    statuses = []
    for n in range(6):  # a different forged identity on every try: the socket peer is what counts
        forged = {"CloudFront-Viewer-Address": f"203.0.113.{n}:4000{n}", "X-Origin-Verify": "guess"}
        r = requests.post(url, json={"sn": t1["sn"], "code": _wrong(good1["code"])}, headers=forged, timeout=30)
        statuses.append(r.status_code)
    assert statuses[-1] == 429 and statuses[:5] != [429] * 5, statuses  # five wrong tries, then closed

    # Closed for this client and terminal, the right code included, with when to come back.
    blocked = requests.post(url, json={"sn": t1["sn"], "code": good1["code"]}, timeout=30)
    assert blocked.status_code == 429
    error = blocked.json()["error"]
    assert error["code"] == "rate_limited" and 0 < error["retry_after_s"] <= 3600
    assert int(blocked.headers["Retry-After"]) == error["retry_after_s"]

    # The same client's other terminal is not locked by it.
    other = requests.post(url, json={"sn": t2["sn"], "code": good2["code"]}, timeout=30)
    assert other.status_code == 200, other.text


# --- a burst of signed deliveries ----------------------------------------------------------------------------------
def test_200_concurrent_signed_deliveries_for_200_orders_are_all_answered_200_and_applied_once(
    api: ApiClient, platform_key: str, server_url: str
) -> None:
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 1000}, key=agent.admin_key
    ).json
    expires = (date.today() + timedelta(days=40)).isoformat()

    def order_for_new_terminal(_: int) -> tuple[dict[str, Any], dict[str, Any]]:
        t = api.post("/v1/terminals", terminal_body(expires_on=expires), key=agent.admin_key).json
        order = api.post(
            "/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key
        ).json
        return t, order

    with ThreadPoolExecutor(max_workers=6) as pool:
        world = list(pool.map(order_for_new_terminal, range(200)))

    def deliver(item: tuple[dict[str, Any], dict[str, Any]]) -> int:
        _t, order = item
        payload = succeeded_for(order, f"evt_burst_{order['order_id']}")
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
        try:
            return requests.post(
                f"{server_url}/webhooks/stripe", data=payload, headers=headers, timeout=300
            ).status_code
        except requests.ConnectionError:
            return 0  # reset or refused: what the burst must never get

    with ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(deliver, world))
    assert codes.count(200) == 200, sorted(set(codes))

    renewed = add_months(date.fromisoformat(expires), 1).isoformat()
    for t, order in world:
        assert api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "fulfilled"
        ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
        assert [x["new_expires_on"] for x in ledger] == [renewed], json.dumps(ledger)[:300]
