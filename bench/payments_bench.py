"""Benchmark of the merchant payment journey against the local stack (all started and stopped here).

One run, side by side:
  1. DynamoDB Local (in memory), localstripe and the local API server (`python -m infra.serve`, its own
     process, as in the integration tests) with localstripe's webhook pointed at it;
  2. over HTTP, per journey, each step of the merchant journey timed: public lookup, public order,
     confirm with a test card, and confirm -> the order reads `fulfilled` (localstripe's signed webhook
     delivered and the fulfilment transaction done), polled every 20 ms;
  3. interleaved with the journeys, a bare boto3 GetItem on the same DynamoDB Local (the baseline: each
     step's median divided by the GetItem median is the figure);
  4. in this process, on the same DynamoDB Local and localstripe: the DynamoDB requests (per operation)
     and consumed capacity of a public lookup, a public order, a status read and the fulfilment of a
     one-line and a multi-line order through the webhook handler (`OrderService.handle_webhook`, the
     payload signed with the real Stripe scheme), counted by wrapping botocore's
     BaseClient._make_api_call.
Medians are printed; every raw figure goes to bench/out/payments.json.

    .venv/bin/python -m bench.payments_bench [--journeys 15] [--warmup 2] [--samples 200] [--repeats 5]
                                             [--lines 5] [--keep-alive]

Public routes are rate limited per client IP (lookups 30 a minute, orders 20 an hour) and every request
here comes from 127.0.0.1: a 429 is waited out (Retry-After), counted and reported, never hidden. With
the defaults a run places 17 public orders.

Each HTTP request goes on a new connection unless --keep-alive: on a kept-alive connection Chalice's
local server stalls every response ~40 ms (headers and body in two writes + the client's delayed ACK);
both HTTP floor rows are always measured so the difference shows.

Not a test: nothing here asserts on time. Wrong outcomes are printed as warnings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.common import (
    OUT,
    ROOT,
    RequestCounter,
    dynamodb_local,
    environment,
    handle_signals,
    median,
    op_sort_key,
    p90,
    table_client,
    write_figures,
)
from bench.replay import Captured, Replayer, capturing, lean_client
from infra.processes import free_port, spawn, start_localstripe, stop, wait_for_port
from simrenew.domain.dates import add_months
from tests.support.env import PLATFORM_KEY, function_env
from tests.support.fleet import terminal_body
from tests.support.payments import sign

TABLE = "simrenew-bench-payments"
PLAN: dict[str, Any] = {"name": "季卡", "term_months": 3, "data_quota_mb": 1024, "price_fen": 4000}
POLL_S = 0.02
FULFIL_TIMEOUT_S = 60.0
GETITEM_WARMUP = 20
STRIPE_KEY = "sk_test_bench"  # localstripe takes any test key
PUBLIC_ORDERS_PER_HOUR = 20  # the server's limit per client IP (simrenew.services.orders)
STEPS = (
    ("lookup", "(a) GET /v1/public/terminals/{sn}"),
    ("order", "(b) POST /v1/public/orders"),
    ("confirm", "(c) POST /v1/public/orders/{id}/confirm"),
    ("fulfilled", "(d) confirm -> status reads fulfilled"),
    ("status_get", "    one GET /v1/public/orders/{id}"),
    ("fulfilled_less_delay", "    (d) less localstripe's fixed 1 s delay"),
    ("journey", "    journey (a)+(b)+(c)+(d)"),
    ("webhook", "(e) signed webhook POST -> 200, fulfils 1 line"),
)
FLOOR_PATH = "/v1/bench-no-such-route"
FLOOR_PER_JOURNEY = 5
LOCALSTRIPE_WEBHOOK_DELAY_S = 1.0  # localstripe/webhooks.py: `await asyncio.sleep(1)` before each delivery
OPS_ORDER = (
    "GetItem",
    "BatchGetItem",
    "Query",
    "UpdateItem",
    "PutItem",
    "TransactWriteItems",
    "DeleteItem",
    "BatchWriteItem",
)


# --- HTTP --------------------------------------------------------------------------------------------
@dataclass
class Http:
    base: str
    session: requests.Session = field(default_factory=requests.Session)
    rate_limited: list[dict[str, Any]] = field(default_factory=list)
    max_wait_s: float = 3700.0
    keep_alive: bool = False

    def send(
        self, method: str, path: str, headers: dict[str, str], data: bytes | None = None, fresh: bool | None = None
    ) -> tuple[requests.Response, float]:
        """One request, timed. A new connection per request unless keep_alive: Chalice's local
        server writes a response's headers and body in two sends, and on a kept-alive connection
        the second waits for the client's delayed ACK (~40 ms on Linux); see the HTTP floor rows.
        (A throwaway session each time: urllib3 would otherwise reuse the socket the server
        closed after `Connection: close` and sometimes fail with RemoteDisconnected.)"""
        fresh = not self.keep_alive if fresh is None else fresh
        session = requests.Session() if fresh else self.session
        sent = {**headers, "Connection": "close"} if fresh else headers
        try:
            started = time.perf_counter()
            r = session.request(method, self.base + path, headers=sent, data=data, timeout=30)
            return r, time.perf_counter() - started
        finally:
            if fresh:
                session.close()

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[requests.Response, float]:
        """One request, timed; a 429 is waited out (Retry-After) and retried, the wait not timed."""
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None if body is None else json.dumps(body).encode()
        while True:
            r, elapsed = self.send(method, path, headers, data)
            if r.status_code != 429:
                return r, elapsed
            wait = float(r.headers.get("Retry-After", "60")) + 0.5
            self.rate_limited.append({"path": path.split("?")[0], "retry_after_s": wait, "at": _now_iso()})
            print(f"  429 on {method} {path.split('?')[0]}: waiting {wait:.0f} s (Retry-After)", flush=True)
            if sum(x["retry_after_s"] for x in self.rate_limited) > self.max_wait_s:
                raise RuntimeError("rate limited for longer than --max-wait; giving up")
            time.sleep(wait)

    def ok(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        r, _ = self.call(method, path, body, key)
        if r.status_code not in (200, 201, 202):
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Fleet:
    tenant_id: str
    admin_key: str
    merchant_id: str
    plan_id: str
    terminals: list[dict[str, Any]]
    stripe_base: str


def make_fleet(http: Http, count: int, stripe_base: str) -> Fleet:
    agent = http.ok(
        "POST",
        "/v1/admin/tenants",
        {
            "name": "基准代理商 Bench Agent",
            "contact_name": "王五",
            "contact_email": "bench@example.com",
            "contact_phone": "13800138000",
        },
        key=PLATFORM_KEY,
    )
    key = agent["api_key"]
    merchant = http.ok("POST", "/v1/merchants", {"name": "李家面馆", "phone": "13987654321"}, key=key)
    plan = http.ok("POST", "/v1/plans", PLAN, key=key)
    expires = (date.today() + timedelta(days=10)).isoformat()
    terminals = [
        http.ok(
            "POST", "/v1/terminals", terminal_body(merchant_id=merchant["merchant_id"], expires_on=expires), key=key
        )
        for _ in range(count)
    ]
    return Fleet(agent["tenant_id"], key, merchant["merchant_id"], plan["plan_id"], terminals, stripe_base)


# --- one journey over HTTP ---------------------------------------------------------------------------
def journey(
    http: Http, fleet: Fleet, terminal: dict[str, Any], other: dict[str, Any], secret: str, warnings: list[str]
) -> dict[str, Any]:
    """Steps (a)-(d) on `terminal` as a merchant would; (e) on `other`: an agent order paid by a
    payment_intent.succeeded event signed here and posted straight to /webhooks/stripe."""
    sn = terminal["sn"]
    r, lookup_s = http.call("GET", f"/v1/public/terminals/{sn}")
    if r.status_code != 200 or not r.json().get("plans"):
        raise RuntimeError(f"lookup {sn}: {r.status_code} {r.text[:300]}")
    r, order_s = http.call("POST", "/v1/public/orders", {"sn": sn, "plan_id": fleet.plan_id})
    if r.status_code != 201:
        raise RuntimeError(f"public order {sn}: {r.status_code} {r.text[:300]}")
    order = r.json()
    order_id, token = order["order_id"], order["order_token"]
    r, confirm_s = http.call(
        "POST", f"/v1/public/orders/{order_id}/confirm", {"token": token, "payment_method": "pm_card_visa"}
    )
    confirmed_at = time.perf_counter()
    if r.status_code != 200:
        raise RuntimeError(f"confirm {order_id}: {r.status_code} {r.text[:300]}")
    payment_status = r.json().get("payment_status")
    polls: list[float] = []
    status: dict[str, Any] = {}
    while True:
        r, poll_s = http.call("GET", f"/v1/public/orders/{order_id}?token={token}")
        polls.append(poll_s)
        status = r.json() if r.status_code == 200 else {}
        if status.get("status") == "fulfilled":
            fulfilled_s = time.perf_counter() - confirmed_at
            break
        if time.perf_counter() - confirmed_at > FULFIL_TIMEOUT_S:
            raise RuntimeError(f"order {order_id} not fulfilled {FULFIL_TIMEOUT_S:.0f} s after confirm: {status}")
        time.sleep(POLL_S)
    expected = add_months(date.fromisoformat(terminal["expires_on"]), PLAN["term_months"]).isoformat()
    if status.get("expires_on_after") != expected:
        warnings.append(f"order {order_id}: expires_on_after {status.get('expires_on_after')}, expected {expected}")
    if payment_status != "succeeded":
        warnings.append(f"order {order_id}: confirm answered payment_status {payment_status!r}")

    agent_order = http.ok(
        "POST", "/v1/orders", {"lines": [{"sn": other["sn"], "plan_id": fleet.plan_id}]}, key=fleet.admin_key
    )
    payload = succeeded_event(
        fleet.stripe_base,
        agent_order["payment_intent_id"],
        agent_order["amount_fen"],
        f"evt_bench_{agent_order['order_id']}",
    )
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)}
    r, webhook_s = http.send("POST", "/webhooks/stripe", headers, payload)
    if r.status_code != 200 or r.json().get("outcome") != "ok":
        warnings.append(f"webhook for {agent_order['order_id']}: {r.status_code} {r.text[:200]}")
    return {
        "sn": sn,
        "order_id": order_id,
        "lookup": lookup_s,
        "order": order_s,
        "confirm": confirm_s,
        "fulfilled": fulfilled_s,
        "status_get": median(polls),
        "polls": len(polls),
        "fulfilled_less_delay": fulfilled_s - LOCALSTRIPE_WEBHOOK_DELAY_S,
        "journey": lookup_s + order_s + confirm_s + fulfilled_s,
        "webhook": webhook_s,
        "payment_status": payment_status,
    }


def floor_samples(http: Http, n: int, fresh: bool) -> list[float]:
    """The server's floor: an unknown /v1 route (404 from the same handler, no DynamoDB), on the
    kept-alive session or on a fresh connection each time."""
    out = []
    for _ in range(n):
        r, seconds = http.send("GET", FLOOR_PATH, {}, fresh=fresh)
        out.append(seconds)
        if r.status_code != 404:
            raise RuntimeError(f"GET {FLOOR_PATH}: {r.status_code}, expected 404")
    return out


def getitem_samples(client: Any, key: dict[str, Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        client.get_item(TableName=TABLE, Key=key)
        out.append(time.perf_counter() - started)
    return out


# --- in-process request counts -----------------------------------------------------------------------
def succeeded_event(stripe_base: str, intent_id: str, amount_fen: int, event_id: str) -> bytes:
    """The payment_intent.succeeded event Stripe would send: the PaymentIntent as localstripe holds
    it (our metadata included, as in every real Stripe event), now succeeded."""
    r = requests.get(f"{stripe_base}/v1/payment_intents/{intent_id}", auth=(STRIPE_KEY, ""), timeout=10)
    if r.status_code != 200:
        raise RuntimeError(f"localstripe GET /v1/payment_intents/{intent_id}: {r.status_code} {r.text[:200]}")
    obj = {**r.json(), "amount": amount_fen, "amount_received": amount_fen, "currency": "cny", "status": "succeeded"}
    return json.dumps({"id": event_id, "type": "payment_intent.succeeded", "data": {"object": obj}}).encode()


def count_in_process(
    env: dict[str, str],
    fleet: Fleet,
    terminals: list[dict[str, Any]],
    counter: RequestCounter,
    repeats: int,
    lines: int,
    warnings: list[str],
    captures: dict[str, Captured],
) -> dict[str, list[dict[str, Any]]]:
    """Each operation once per repeat on fresh terminals of the fleet, its DynamoDB calls counted;
    the requests of the first look-up and the first one-line fulfilment kept in `captures` (the
    floor replayed after)."""
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    # The default gateway of the local config: StripeGateway on localstripe (STRIPE_API_BASE).
    svc = build_services(load_config(env))
    secret = env["STRIPE_WEBHOOK_SECRET"]
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def measure(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        with ExitStack() as keep:
            if name in REPLAYED and name not in captures:
                captures[name] = keep.enter_context(capturing())
            with counter.phase(name) as phase:
                started = time.perf_counter()
                value = fn(*args)
                seconds = time.perf_counter() - started
        results[name].append({**phase.to_json(), "seconds": seconds})
        return value

    orders = svc.orders
    orders.public_lookup(terminals[0]["sn"], "bench-warmup")  # first clients and reads: not counted
    spare = iter(terminals)
    for i in range(repeats):
        sn = next(spare)["sn"]
        measure("public_lookup", orders.public_lookup, sn, f"bench-lookup-{i}")
        public, _payment, token = measure(
            "public_order", orders.public_create, {"sn": sn, "plan_id": fleet.plan_id}, f"bench-order-{i}"
        )
        measure("status_read", orders.public_status, public.order_id, token)

        for name, count in (("fulfil_1_line", 1), (f"fulfil_{lines}_lines", lines)):
            body = {"lines": [{"sn": next(spare)["sn"], "plan_id": fleet.plan_id} for _ in range(count)]}
            order, _pay = orders.create(fleet.tenant_id, {**body, "payment": "online"}, actor="bench")
            assert order.payment_intent_id
            payload = succeeded_event(
                fleet.stripe_base, order.payment_intent_id, order.amount_fen, f"evt_bench_{order.order_id}"
            )
            res = measure(name, orders.handle_webhook, payload, sign(payload, secret))
            if res.get("outcome") != "ok":
                warnings.append(f"in-process fulfilment of {order.order_id} ({count} lines): {res}")
            if count == 1:
                res = measure("duplicate_event", orders.handle_webhook, payload, sign(payload, secret))
                if not res.get("duplicate"):
                    warnings.append(f"in-process duplicate delivery for {order.order_id}: {res}")
    return dict(results)


# --- the floor: the paths' own requests replayed -----------------------------------------------------
# The captured operation, the journey step its floor belongs to, and whether the path sends its
# requests side by side (the look-up: the rate-limit write beside the read).
REPLAYED = {"public_lookup": ("lookup", True), "fulfil_1_line": ("webhook", False)}


def replay_floors(
    client: Any, replay_client: Any, captures: dict[str, Captured], samples: int, key: dict[str, Any]
) -> dict[str, list[float]]:
    """Each captured path's requests sent again `samples` times with `replay_client`, interleaved
    with as many bare GetItems sent with the plain `client` (bench.replay)."""
    replayers = {
        REPLAYED[name][0]: Replayer(replay_client, captured, side_by_side=REPLAYED[name][1])
        for name, captured in captures.items()
    }
    out: dict[str, list[float]] = {"getitem": [], **{step: [] for step in replayers}}
    try:
        for r in replayers.values():
            for _ in range(GETITEM_WARMUP):
                r.once()
        for _ in range(samples):
            out["getitem"] += getitem_samples(client, key, 1)
            for step, r in replayers.items():
                out[step].append(r.once())
    finally:
        for r in replayers.values():
            r.close()
    return out


def summarize_replayed(
    replayed: dict[str, list[float]], captures: dict[str, Captured], http: dict[str, Any]
) -> dict[str, Any]:
    """Each path's replayed requests ÷ the GetItem interleaved with them, and that floor plus the
    HTTP floor (new connection) ÷ the journeys' GetItem: what the step over HTTP cannot go under here."""
    base = median(replayed.get("getitem") or [0.0])
    http_floor_s = http["http_floor"]["fresh_connection"]["median_ms"] / 1000
    journey_getitem_s = http["getitem"]["median_ms"] / 1000
    out: dict[str, Any] = {"getitem_median_ms": round(base * 1000, 3)}
    for name, captured in captures.items():
        step = REPLAYED[name][0]
        values = replayed.get(step) or []
        if not values or not base:
            continue
        ratio = median(values) / base
        out[step] = {
            "operations": captured.operations,
            "side_by_side": REPLAYED[name][1],
            "dropped_condition_checks": captured.dropped_condition_checks,
            "median_ms": round(median(values) * 1000, 3),
            "ratio_to_getitem": round(ratio, 2),
            "with_http_floor_ratio": round(ratio + http_floor_s / journey_getitem_s, 2),
        }
    return out


def print_replayed(replayed: dict[str, Any]) -> None:
    print(
        f"\nThe floor: each path's own DynamoDB requests replayed with boto3 alone (bench.replay), "
        f"next to a bare GetItem of {replayed['getitem_median_ms']:.2f} ms"
    )
    for step, label in (("lookup", "(a) look-up"), ("webhook", "(e) webhook")):
        r = replayed.get(step)
        if r:
            how = "side by side" if r["side_by_side"] else "in order"
            print(
                f"{label}: {' + '.join(r['operations'])} ({how}) {r['median_ms']:.2f} ms = "
                f"{r['ratio_to_getitem']:.1f}x GetItem; + the HTTP floor = {r['with_http_floor_ratio']:.1f}x"
            )


# --- summary ----------------------------------------------------------------------------------------
def summarize_http(
    journeys: list[dict[str, Any]], getitem: list[float], floors: dict[str, list[float]]
) -> dict[str, Any]:
    base = median(getitem)
    steps = {}
    for key, _label in STEPS:
        values = [j[key] for j in journeys]
        med = median(values)
        steps[key] = {
            "median_ms": round(med * 1000, 3),
            "p90_ms": round(p90(values) * 1000, 3),
            "min_ms": round(min(values) * 1000, 3),
            "max_ms": round(max(values) * 1000, 3),
            "ratio_to_getitem": round(med / base, 2) if base else None,
        }
    return {
        "steps": steps,
        "getitem": {
            "samples": len(getitem),
            "median_ms": round(base * 1000, 3),
            "p90_ms": round(p90(getitem) * 1000, 3),
            "min_ms": round(min(getitem) * 1000, 3),
        },
        "http_floor": {
            name: {
                "samples": len(values),
                "median_ms": round(median(values) * 1000, 3),
                "p90_ms": round(p90(values) * 1000, 3),
                "ratio_to_getitem": round(median(values) / base, 2) if base else None,
            }
            for name, values in floors.items()
        },
        "polls_median": median([float(j["polls"]) for j in journeys]),
        "fulfilled_on_first_poll": sum(1 for j in journeys if j["polls"] == 1),
    }


def summarize_counts(counts: dict[str, list[dict[str, Any]]], lines: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, runs in counts.items():
        ops = sorted({op for r in runs for op in r["calls"]}, key=_op_order)
        out[name] = {
            "calls": {op: median([float(r["calls"].get(op, 0)) for r in runs]) for op in ops},
            "total_calls": median([float(r["total_calls"]) for r in runs]),
            "calls_min_max": [min(r["total_calls"] for r in runs), max(r["total_calls"] for r in runs)],
            "errors": median([float(sum(r["errors"].values())) for r in runs]),
            "capacity": round(median([float(r["consumed_capacity"]) for r in runs]), 3),
            "capacity_by_op": {
                op: round(median([float(r["capacity_by_op"].get(op, 0.0)) for r in runs]), 3) for op in ops
            },
            "responses_with_capacity": median([float(sum(r["responses_with_capacity"].values())) for r in runs]),
            "ms": round(median([r["seconds"] for r in runs]) * 1000, 2),
        }
    many, one = out.get(f"fulfil_{lines}_lines"), out.get("fulfil_1_line")
    if many and one:
        ops = sorted(set(many["calls"]) | set(one["calls"]), key=_op_order)
        out["per_line_in_multi_line_order"] = {
            "calls": {op: round(many["calls"].get(op, 0.0) / lines, 2) for op in ops},
            "total_calls": round(many["total_calls"] / lines, 2),
            "capacity": round(many["capacity"] / lines, 3),
            "ms": round(many["ms"] / lines, 2),
        }
        out["each_extra_line"] = {
            "calls": {
                op: round((many["calls"].get(op, 0.0) - one["calls"].get(op, 0.0)) / (lines - 1), 2) for op in ops
            },
            "total_calls": round((many["total_calls"] - one["total_calls"]) / (lines - 1), 2),
            "capacity": round((many["capacity"] - one["capacity"]) / (lines - 1), 3),
            "ms": round((many["ms"] - one["ms"]) / (lines - 1), 2),
        }
    return out


_op_order = op_sort_key(OPS_ORDER)


SHORT = {"BatchGetItem": "BatchGet", "TransactWriteItems": "TransactWr", "BatchWriteItem": "BatchWr"}


def print_table(http_summary: dict[str, Any], counts: dict[str, Any], args: argparse.Namespace, waits: int) -> None:
    g = http_summary["getitem"]
    print()
    print(
        f"Merchant journey over HTTP (local API server, localstripe, DynamoDB Local in memory), "
        f"median of {args.journeys} journeys, "
        + ("one kept-alive connection" if args.keep_alive else "a new connection per request")
    )
    print()
    print(f"{'step':44}{'median ms':>11}{'p90 ms':>10}{'÷ GetItem':>11}")
    for key, label in STEPS:
        s = http_summary["steps"][key]
        print(f"{label:44}{s['median_ms']:>11.1f}{s['p90_ms']:>10.1f}{s['ratio_to_getitem']:>10.1f}x")
    for name, label in (
        ("keep_alive", "HTTP floor: 404 route, kept-alive session"),
        ("fresh_connection", "HTTP floor: 404 route, new connection"),
    ):
        f = http_summary["http_floor"][name]
        print(f"{label:44}{f['median_ms']:>11.1f}{f['p90_ms']:>10.1f}{f['ratio_to_getitem']:>10.1f}x")
    print(f"{'bare GetItem, boto3, same DynamoDB Local':44}{g['median_ms']:>11.2f}{g['p90_ms']:>10.2f}{'1.0x':>11}")
    print(
        f"(GetItem: {g['samples']} samples interleaved with the journeys; status polled every "
        f"{POLL_S * 1000:.0f} ms, median {http_summary['polls_median']:.0f} polls, fulfilled at the first poll in "
        f"{http_summary['fulfilled_on_first_poll']} of {args.journeys}; 429 answers waited out: {waits})"
    )
    print_replayed(http_summary["replayed"])
    rows = [
        ("public_lookup", "public lookup"),
        ("public_order", "public order (create + PaymentIntent)"),
        ("status_read", "public status read"),
        ("fulfil_1_line", "fulfil a 1-line order (webhook)"),
        (f"fulfil_{args.lines}_lines", f"fulfil a {args.lines}-line order (webhook)"),
        ("per_line_in_multi_line_order", f"  per line of the {args.lines}-line order"),
        ("each_extra_line", "  each line beyond the first"),
        ("duplicate_event", "duplicate event (no-op)"),
    ]
    ops = sorted({op for name, _ in rows if name in counts for op in counts[name]["calls"]}, key=_op_order)
    print()
    print(f"DynamoDB requests in this process, median of {args.repeats} (same DynamoDB Local and localstripe)")
    print()
    header = "".join(f"{SHORT.get(op, op):>11}" for op in ops)
    print(f"{'operation':40}{header}{'total':>8}{'cap. units':>12}{'ms':>8}")
    for name, label in rows:
        c = counts.get(name)
        if c is None:
            continue
        cells = "".join(f"{_num(c['calls'].get(op, 0.0)):>11}" for op in ops)
        print(f"{label:40}{cells}{_num(c['total_calls']):>8}{c['capacity']:>12.2f}{c['ms']:>8.1f}")
    unreported = [
        name
        for name, _ in rows
        if name in counts
        and "responses_with_capacity" in counts[name]
        and counts[name]["responses_with_capacity"] < counts[name]["total_calls"]
    ]
    print(
        "(capacity: DynamoDB Local's ConsumedCapacity where it returned one"
        + (f"; missing on some calls of: {', '.join(unreported)}" if unreported else ", returned on every call")
        + ")"
    )


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


# --- main ---------------------------------------------------------------------------------------------
@contextmanager
def running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        stop(proc)


# The whole-number options: flag, default, what it counts.
COUNTS = (
    ("--journeys", 15, "timed merchant journeys"),
    ("--warmup", 2, "untimed journeys first"),
    ("--samples", 200, "bare GetItem samples"),
    ("--repeats", 5, "in-process counts per operation"),
    ("--lines", 5, "lines of the multi-line order"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag, default, what in COUNTS:
        parser.add_argument(flag, type=int, default=default, help=f"{what} (default {default})")
    parser.add_argument(
        "--keep-alive", action="store_true", help="send the journey's requests on one kept-alive connection"
    )
    parser.add_argument("--max-wait", type=float, default=3700, help="give up after this many s of 429 waits")
    parser.add_argument("--out", type=Path, default=OUT / "payments.json", help="JSON file with every raw figure")
    args = parser.parse_args(argv)
    if args.journeys < 1 or args.warmup < 0 or args.samples < 1 or args.repeats < 1:
        parser.error("--journeys, --samples and --repeats must be at least 1, --warmup at least 0")
    if not 2 <= args.lines <= 20:
        parser.error("--lines must be between 2 and 20 (an order's line limit)")
    if args.journeys + args.warmup > PUBLIC_ORDERS_PER_HOUR:
        print(
            f"note: {args.journeys + args.warmup} public orders from 127.0.0.1 exceed the server's "
            f"{PUBLIC_ORDERS_PER_HOUR} an hour: the run will wait out 429s (up to the next hour)",
            flush=True,
        )

    handle_signals()
    started_at = datetime.now(UTC)
    counter = RequestCounter(split_indexes=True)
    warnings: list[str] = []
    journeys: list[dict[str, Any]] = []
    getitem: list[float] = []
    floors: dict[str, list[float]] = {"keep_alive": [], "fresh_connection": []}
    rate_limited: list[dict[str, Any]] = []
    captures: dict[str, Captured] = {}
    replayed: dict[str, list[float]] = {}
    with ExitStack() as stack:
        try:
            ddb_endpoint = stack.enter_context(dynamodb_local("payments-dynamodb-local.log"))
            stripe_port, server_port = free_port(), free_port()
            stripe_base = f"http://127.0.0.1:{stripe_port}"
            server_url = f"http://127.0.0.1:{server_port}"
            env = {
                **function_env(TABLE, ddb_endpoint, server_url),
                "STRIPE_API_BASE": stripe_base,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
                "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            }
            # This process talks to the same DynamoDB Local with the same dummy credentials.
            os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "POWERTOOLS_"))})
            http = Http(server_url, max_wait_s=args.max_wait, keep_alive=args.keep_alive)
            rate_limited = http.rate_limited
            stripe_log = stack.enter_context((OUT / "payments-localstripe.log").open("ab"))
            server_log = stack.enter_context((OUT / "payments-server.log").open("ab"))
            stack.enter_context(running(start_localstripe(stripe_port, stripe_log)))
            client = table_client(ddb_endpoint, TABLE)
            child_env = {**os.environ, **env, "PYTHONPATH": f"{ROOT}:{ROOT / 'shared'}"}
            server = stack.enter_context(
                running(
                    spawn(
                        [sys.executable, "-m", "infra.serve", "--port", str(server_port)],
                        server_log,
                        cwd=ROOT,
                        env=child_env,
                    )
                )
            )
            wait_for_port(server_port, server, 60, "local API server")
            hook = requests.post(
                f"{stripe_base}/_config/webhooks/simrenew",
                data={"url": f"{server_url}/webhooks/stripe", "secret": env["STRIPE_WEBHOOK_SECRET"]},
                timeout=10,
            )
            if hook.status_code >= 300:
                raise RuntimeError(f"localstripe webhook registration: {hook.status_code} {hook.text[:200]}")
            print(
                f"DynamoDB Local {ddb_endpoint} (in memory), localstripe {stripe_base}, API server {server_url}",
                flush=True,
            )

            in_process = args.repeats * (2 + args.lines)
            http_terminals = 2 * (args.warmup + args.journeys)
            fleet = make_fleet(http, http_terminals + in_process, stripe_base)
            print(f"agent {fleet.tenant_id}: plan {fleet.plan_id}, {len(fleet.terminals)} terminals", flush=True)
            ddb_key = {"pk": {"S": f"TENANT#{fleet.tenant_id}"}, "sk": {"S": "PROFILE"}}
            if "Item" not in client.get_item(TableName=TABLE, Key=ddb_key):
                warnings.append(f"GetItem baseline: no item at {ddb_key}; it measures a miss")
            getitem_samples(client, ddb_key, GETITEM_WARMUP)
            pairs = [(fleet.terminals[2 * n], fleet.terminals[2 * n + 1]) for n in range(http_terminals // 2)]
            secret = env["STRIPE_WEBHOOK_SECRET"]
            for n in range(args.warmup):
                journey(http, fleet, pairs[n][0], pairs[n][1], secret, warnings)
            chunk = math.ceil(args.samples / args.journeys)
            for n in range(args.journeys):
                pair = pairs[args.warmup + n]
                j = journey(http, fleet, pair[0], pair[1], secret, warnings)
                journeys.append(j)
                getitem += getitem_samples(client, ddb_key, min(chunk, args.samples - len(getitem)))
                floors["keep_alive"] += floor_samples(http, FLOOR_PER_JOURNEY, fresh=False)
                floors["fresh_connection"] += floor_samples(http, FLOOR_PER_JOURNEY, fresh=True)
                print(
                    f"[journey {n + 1:2}/{args.journeys}] lookup {j['lookup'] * 1000:6.1f} ms  order "
                    f"{j['order'] * 1000:6.1f} ms  confirm {j['confirm'] * 1000:6.1f} ms  fulfilled after "
                    f"{j['fulfilled'] * 1000:6.1f} ms ({j['polls']} polls)  webhook {j['webhook'] * 1000:6.1f} ms",
                    flush=True,
                )

            spare = fleet.terminals[http_terminals:]
            with counter.installed():
                counts = count_in_process(env, fleet, spare, counter, args.repeats, args.lines, warnings, captures)
            replayed = replay_floors(client, lean_client(ddb_endpoint), captures, args.samples, ddb_key)
        except KeyboardInterrupt:
            print("\ninterrupted; stopping the API server, localstripe and DynamoDB Local", file=sys.stderr)
            return 130
        # ExitStack stops the API server, then localstripe, then DynamoDB Local.

    for w in warnings:
        print(f"WARNING: {w}")
    http_summary = summarize_http(journeys, getitem, floors)
    http_summary["replayed"] = summarize_replayed(replayed, captures, http_summary)
    count_summary = summarize_counts(counts, args.lines)
    print_table(http_summary, count_summary, args, len(rate_limited))
    print(f"warnings: {len(warnings)}")
    report = {
        "benchmark": "merchant payment journey vs bare GetItem; DynamoDB requests per lookup and per order line",
        "started_at": started_at.isoformat(),
        "settings": {
            "journeys": args.journeys,
            "warmup": args.warmup,
            "getitem_samples": args.samples,
            "repeats": args.repeats,
            "lines": args.lines,
            "poll_s": POLL_S,
            "http_connections": "one kept-alive session" if args.keep_alive else "a new connection per request",
            "table": TABLE,
            "plan": PLAN,
        },
        "environment": environment(),
        "http": http_summary,
        "ddb_requests": count_summary,
        "rate_limited": rate_limited,
        "warnings": warnings,
        "raw": {
            "journeys": [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in j.items()} for j in journeys],
            "getitem_ms": [round(s * 1000, 4) for s in getitem],
            "http_floor_ms": {k: [round(s * 1000, 4) for s in v] for k, v in floors.items()},
            "replayed_ms": {k: [round(s * 1000, 4) for s in v] for k, v in replayed.items()},
            "ddb_requests": counts,
        },
    }
    write_figures(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
