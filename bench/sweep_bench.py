"""Benchmark of the expiry sweep against DynamoDB Local (in memory, started and stopped here).

One run, on the same DynamoDB Local:
  0. load (not a figure of merit, timed apart): ~20 active agents with one merchant each, made through
     the services, and a fleet of N terminals written with plain BatchWriteItem, each item built the
     way the app builds it (terminal_fields -> Terminal -> new_terminal_item). Per repeat, a fresh
     sweep day D_r with `--due` terminals expiring on D_r + 7 (the 7-day reminder); every other
     terminal expires on a date that no sweep of the run reads;
  1. per repeat: the sweep's last day set to D_r - 1, then SweepService.run(D_r) timed, with
     recording sender, emitter and carrier; DynamoDB requests counted per operation;
  2. per repeat, the baseline: a bare paginated boto3 Query of the expiry index for D_r + 7 over its
     shards (the due items and nothing else), timed (median of --query-samples after one warm-up).
DynamoDB requests are counted by wrapping botocore's BaseClient._make_api_call in this process only.
Medians over the repeats are printed; every raw figure goes to bench/out/sweep.json.

    .venv/bin/python -m bench.sweep_bench [--fleet 100000] [--due 1000] [--repeats 3]

Not a test: nothing here asserts on time. Count mismatches are printed as warnings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import (
    BATCH_WRITE_MAX,
    OUT,
    RequestCounter,
    batch_write,
    environment,
    handle_signals,
    local_stack,
    median,
    op_sort_key,
    print_repeats,
    print_warnings,
    timed,
    write_figures,
)
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import OutboxCarrier
from simrenew.adapters.dynamodb.fleet import MerchantRepository, TerminalRepository, new_terminal_item
from simrenew.adapters.dynamodb.models import SweepStateItem
from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
from simrenew.adapters.dynamodb.sweep_store import SweepStore
from simrenew.adapters.dynamodb.sweeps import SweepRepository
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.bootstrap import Services
from simrenew.clock import FixedClock
from simrenew.domain.fleet import Terminal, TerminalStatus, terminal_fields
from simrenew.domain.identifiers import luhn_check_digit
from simrenew.services.sweep import SweepService
from tests.support.sweep import RecordingEmitter, RecordingSender

TABLE = "simrenew-bench-sweep"
PUBLIC_BASE = "https://pay.example.com"
FIRST_DAY = date(2031, 3, 1)  # D of repeat 1; repeat r sweeps FIRST_DAY + r * DAY_STRIDE
DAY_STRIDE = 1000
REMINDER = 7  # the due terminals expire on D + 7 (default reminder_days 30, 7, 1)
OTHER_FROM, OTHER_TO = 40, 400  # the rest expire on D_1 + 40 .. D_1 + 400, minus any date a sweep reads
SWEEP_HOUR_UTC = 2  # 10:00 Asia/Shanghai: inside the SMS window
LOAD_THREADS = 8
OPS_ORDER = ("Query", "GetItem", "BatchGetItem", "PutItem", "UpdateItem", "TransactWriteItems", "DeleteItem")


_op_order = op_sort_key(OPS_ORDER)


# --- the fleet ---------------------------------------------------------------------------------------
@dataclass
class Owner:
    tenant_id: str
    merchant_id: str


def sweep_days(repeats: int) -> list[date]:
    return [FIRST_DAY + timedelta(days=DAY_STRIDE * r) for r in range(repeats)]


def make_owners(svc: Services, count: int) -> list[Owner]:
    owners: list[Owner] = []
    for i in range(count):
        tenant, _key = svc.tenants.create_active(
            {
                "name": f"基准代理{i:02d}",
                "contact_name": "张三",
                "contact_email": f"agent{i:02d}@example.com",
                "contact_phone": f"13900139{i:03d}",
            }
        )
        merchant = svc.fleet.create_merchant(
            tenant.tenant_id, {"name": f"基准商户{i:02d}", "phone": f"13800138{i:03d}"}
        )
        owners.append(Owner(tenant.tenant_id, merchant.merchant_id))
    return owners


def other_dates(read_by_sweeps: set[date]) -> list[date]:
    dates = [FIRST_DAY + timedelta(days=n) for n in range(OTHER_FROM, OTHER_TO + 1)]
    return [d for d in dates if d not in read_by_sweeps]


@dataclass(frozen=True)
class Series:
    """A benchmark's terminals: SN prefix, ICCID prefix and first TID, so that no two benchmarks' SNs meet."""

    sn: str
    iccid: str
    first_tid: int


SWEEP_SERIES = Series("SWP", "898600", 20_000_000)


def terminal_items(
    owners: list[Owner], fleet: int, due: int, days: list[date], others: list[date], now: datetime
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every terminal's attribute map (as the app would write it) and how many expire per date."""
    items: list[dict[str, Any]] = []
    per_date: dict[str, int] = defaultdict(int)
    due_total = due * len(days)
    for i in range(fleet):
        owner = owners[i % len(owners)]
        due_day = days[i // due] if i < due_total else None
        expires = due_day + timedelta(days=REMINDER) if due_day else others[(i - due_total) % len(others)]
        items.append(terminal_item(owner, i, expires, now))
        per_date[expires.isoformat()] += 1
    return items, dict(per_date)


def terminal_item(owner: Owner, n: int, expires: date, now: datetime, series: Series = SWEEP_SERIES) -> dict[str, Any]:
    """The attribute map of the series' terminal number `n` (as the app would write it), active until `expires`."""
    payload = f"{series.iccid}{n:013d}"
    fields = terminal_fields(
        {
            "sn": f"{series.sn}-{n:07d}",
            "tid": f"{series.first_tid + n:08d}",
            "iccid": payload + luhn_check_digit(payload),
            "model": "PAX A920",
            "merchant_id": owner.merchant_id,
            "expires_on": expires.isoformat(),
        }
    )
    item = new_terminal_item(Terminal(tenant_id=owner.tenant_id, status=TerminalStatus.ACTIVE, **fields), now)
    item.version = 1  # what PynamoDB's save sets on a new versioned item
    return item.serialize()  # type: ignore[no-any-return]


def load(client: Any, items: list[dict[str, Any]]) -> int:
    chunks = [items[i : i + BATCH_WRITE_MAX] for i in range(0, len(items), BATCH_WRITE_MAX)]
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        return sum(pool.map(lambda c: batch_write(client, TABLE, c, (0.05, 2.0)), chunks))


# --- one measurement -------------------------------------------------------------------------------
def bare_query(client: Any, day: date) -> tuple[int, int, float]:
    """(items, requests, seconds) of a paginated Query of the expiry index for `day`, every shard."""
    items = requests = 0
    started = time.perf_counter()
    for shard in range(keys.EXPIRY_SHARDS):
        params: dict[str, Any] = {
            "TableName": TABLE,
            "IndexName": "expiry",
            "KeyConditionExpression": "exp_pk = :p",
            "ExpressionAttributeValues": {":p": {"S": keys.expiry_pk(day, shard)}},
            "ReturnConsumedCapacity": "TOTAL",
        }
        while True:
            response = client.query(**params)
            requests += 1
            items += len(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
    return items, requests, time.perf_counter() - started


def measure(
    client: Any,
    counter: RequestCounter,
    day: date,
    due: int,
    tenants_with_due: int,
    repeat: int,
    samples: int,
) -> dict[str, Any]:
    warnings: list[str] = []
    label = f"[repeat {repeat + 1}] D = {day.isoformat()}"
    SweepStateItem("SWEEP", "LAST", last_day=(day - timedelta(days=1)).isoformat()).save()
    target = day + timedelta(days=REMINDER)
    bare_query(client, target)  # warm-up, not counted

    sender, emitter = RecordingSender(), RecordingEmitter()
    service = SweepService(
        TenantRepository(),
        TerminalRepository(),
        MerchantRepository(),
        SweepStore(SweepRepository()),
        sender,
        emitter,
        OutboxCarrier(),
        FixedClock(datetime.combine(day, dtime(SWEEP_HOUR_UTC), tzinfo=UTC)),
        PUBLIC_BASE,
        SweepDayRepository(),
    )
    with counter.phase("sweep") as sweep_phase:
        started = time.perf_counter()
        result = service.run(day)
        sweep_s = time.perf_counter() - started
    res = result.to_json()
    reminders = [m for m in sender.sent if m["kind"] != "digest"]
    digests = [m for m in sender.sent if m["kind"] == "digest"]
    kinds = sorted({m["key"].split("#")[-2] for m in reminders})
    checks = {
        "reminders_sent": (result.reminders_sent, due),
        "items_read": (result.items_read, due),
        "sms_recorded": (len(reminders), due),
        "digests_sent": (result.digests_sent, tenants_with_due),
        "moved_to_grace": (result.moved_to_grace, 0),
        "suspended": (result.suspended, 0),
        "held_for_daytime": (result.held_for_daytime, 0),
    }
    for name, (got, want) in checks.items():
        if got != want:
            warnings.append(f"{name} = {got}, expected {want}")
    if result.status != "done":
        warnings.append(f"sweep status {result.status!r}, expected 'done'")
    if kinds != [f"reminder_{REMINDER}"]:
        warnings.append(f"reminder kinds sent: {kinds}, expected ['reminder_{REMINDER}']")
    print(
        f"{label}: sweep {sweep_s:7.3f} s  reminders {result.reminders_sent}, items read {result.items_read}, "
        f"queries {result.queries}, digests {result.digests_sent}, DynamoDB requests {sweep_phase.total_calls()}",
        flush=True,
    )

    runs: list[dict[str, Any]] = []
    for _ in range(samples):
        with counter.phase("bare_query") as q_phase:
            items, requests, seconds = bare_query(client, target)
        runs.append({"items": items, "requests": requests, "seconds": round(seconds, 5), "ddb": q_phase.to_json()})
        if items != due:
            warnings.append(f"bare Query returned {items} items, expected {due}")
    q_seconds = median(r["seconds"] for r in runs)
    q_items = runs[0]["items"]
    print(
        f"{label}: bare Query {q_seconds:7.4f} s  {q_items} items in {runs[0]['requests']} requests "
        f"(median of {samples})",
        flush=True,
    )
    print_warnings(f"{label}: ", warnings)

    sweep_rate = due / sweep_s if sweep_s > 0 else 0.0
    query_rate = q_items / q_seconds if q_seconds > 0 else 0.0
    return {
        "repeat": repeat + 1,
        "as_of": day.isoformat(),
        "due_expires_on": target.isoformat(),
        "due": due,
        "sweep": {
            "seconds": round(sweep_s, 4),
            "result": res,
            "items_read_per_due": round(result.items_read / due, 4) if due else None,
            # Items returned by every Query of the run (the digest's 7-day listing included).
            "query_items_per_due": round(sweep_phase.ops["Query"].items_returned / due, 4) if due else None,
            "due_per_s": round(sweep_rate, 2),
            "requests": sweep_phase.to_json(),
            "requests_per_due": round(sweep_phase.total_calls() / due, 3) if due else None,
            "capacity_per_due": round(sweep_phase.total_capacity() / due, 3) if due else None,
            "share_in_ddb_calls": round(sweep_phase.to_json()["seconds_in_calls"] / sweep_s, 3) if sweep_s else None,
            "events_emitted": len(emitter.events),
            "digest_recipients": len(digests),
        },
        "bare_query": {
            "seconds_median": round(q_seconds, 5),
            "items": q_items,
            "due_per_s": round(query_rate, 2),
            "runs": runs,
        },
        "bare_vs_sweep_due_per_s": round(query_rate / sweep_rate, 2) if sweep_rate else None,
        "warnings": warnings,
    }


# --- summary ----------------------------------------------------------------------------------------
def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    ops = sorted({op for r in results for op in r["sweep"]["requests"]["ops"]}, key=_op_order)
    return {
        "sweep_seconds": round(median([r["sweep"]["seconds"] for r in results]), 4),
        "items_read_per_due": round(median([r["sweep"]["items_read_per_due"] for r in results]), 4),
        "query_items_per_due": round(median([r["sweep"]["query_items_per_due"] for r in results]), 4),
        "queries_per_sweep": median([r["sweep"]["result"]["queries"] for r in results]),
        "requests_per_sweep": {
            op: median([r["sweep"]["requests"]["ops"].get(op, {}).get("calls", 0) for r in results]) for op in ops
        },
        "requests_per_sweep_total": median([r["sweep"]["requests"]["total_calls"] for r in results]),
        "requests_per_due": round(median([r["sweep"]["requests_per_due"] for r in results]), 3),
        "requests_per_due_by_op": {
            op: round(
                median([r["sweep"]["requests"]["ops"].get(op, {}).get("calls", 0) / r["due"] for r in results]), 3
            )
            for op in ops
        },
        "capacity_per_due": round(median([r["sweep"]["capacity_per_due"] for r in results]), 3),
        "sweep_share_in_ddb_calls": round(median([r["sweep"]["share_in_ddb_calls"] for r in results]), 3),
        "sweep_due_per_s": round(median([r["sweep"]["due_per_s"] for r in results]), 2),
        "bare_query_seconds": round(median([r["bare_query"]["seconds_median"] for r in results]), 5),
        "bare_query_requests": median([r["bare_query"]["runs"][0]["requests"] for r in results]),
        "bare_query_due_per_s": round(median([r["bare_query"]["due_per_s"] for r in results]), 2),
        "bare_vs_sweep_due_per_s": round(median([r["bare_vs_sweep_due_per_s"] or 0.0 for r in results]), 2),
    }


def print_table(summary: dict[str, Any], settings: dict[str, Any], results: list[dict[str, Any]]) -> None:
    s = summary
    print()
    print(
        f"Expiry sweep vs bare Query — DynamoDB Local in memory, fleet {settings['fleet']:,}, "
        f"{settings['due']:,} due per day, {settings['tenants']} agents, median of {settings['repeats']}"
    )
    print()
    print(f"{'items read per due terminal (goal <= 1.1)':46}{s['items_read_per_due']:>12.3f}")
    print(f"{'  items from all Queries (digest incl.) per due':46}{s['query_items_per_due']:>12.3f}")
    print(f"{'sweep wall time (s)':46}{s['sweep_seconds']:>12.3f}")
    print(f"{'DynamoDB requests per sweep':46}{s['requests_per_sweep_total']:>12.0f}")
    for op, n in s["requests_per_sweep"].items():
        print(f"{'  ' + op:46}{n:>12.0f}")
    print(f"{'  of which expiry-index queries (sweep count)':46}{s['queries_per_sweep']:>12.0f}")
    print(f"{'DynamoDB requests per due terminal':46}{s['requests_per_due']:>12.2f}")
    print(f"{'share of sweep time in DynamoDB calls':46}{s['sweep_share_in_ddb_calls']:>12.0%}")
    print()
    print(f"{'':46}{'sweep':>12}{'bare Query':>14}")
    print(f"{'due terminals per second':46}{s['sweep_due_per_s']:>12.1f}{s['bare_query_due_per_s']:>14.1f}")
    print(f"{'wall time (s)':46}{s['sweep_seconds']:>12.3f}{s['bare_query_seconds']:>14.4f}")
    print()
    print(
        f"the bare Query reads the due items {s['bare_vs_sweep_due_per_s']:.1f}x faster than the sweep processes them"
    )
    print_repeats(
        results,
        [
            ("sweep", lambda r: r["sweep"]["seconds"], ".2f"),
            ("bare Query", lambda r: r["bare_query"]["seconds_median"], ".4f"),
        ],
    )


# --- main ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fleet", type=int, default=100_000, help="terminals in the table (default 100000)")
    parser.add_argument("--due", type=int, default=1_000, help="terminals due per sweep day (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="sweeps on fresh days; medians printed (default 3)")
    parser.add_argument("--tenants", type=int, default=20, help="agents the fleet is spread over (default 20)")
    parser.add_argument("--query-samples", type=int, default=3, help="bare Query timings per repeat (default 3)")
    parser.add_argument("--out", type=Path, default=OUT / "sweep.json", help="JSON file with every raw figure")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.due < 1 or args.tenants < 1 or args.query_samples < 1:
        parser.error("--repeats, --due, --tenants and --query-samples must be at least 1")
    if args.tenants > 999:
        parser.error("--tenants must be at most 999")
    if args.fleet < args.due * args.repeats:
        parser.error("--fleet must hold --due terminals for every repeat")

    handle_signals()
    counter = RequestCounter()
    started_at = datetime.now(UTC)
    days = sweep_days(args.repeats)
    tenants_with_due = min(args.tenants, args.due)
    try:
        stripe = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
        with local_stack("sweep-dynamodb-local.log", TABLE, stripe) as (client, svc):
            started = time.perf_counter()
            owners = make_owners(svc, args.tenants)
            owners_s = time.perf_counter() - started
            # Dates any sweep of this run reads (the service's own plan): no filler terminal expires on them.
            planner = svc.sweep
            read = {d for day in days for d in planner.plan(day, day)}
            others = other_dates(read)
            first_plan = sorted(d.isoformat() for d in planner.plan(days[0], days[0]))
            started = time.perf_counter()
            items, per_date = terminal_items(owners, args.fleet, args.due, days, others, datetime.now(UTC))
            build_s = time.perf_counter() - started
            print(
                f"load: {args.tenants} agents + merchants in {owners_s:.1f} s; {len(items):,} terminal items "
                f"built in {build_s:.1f} s; writing with BatchWriteItem ({LOAD_THREADS} threads)…",
                flush=True,
            )
            resends, write_s = timed(partial(load, client, items))  # not a closure: `items` is freed below
            print(
                f"load: {len(items):,} terminals written in {write_s:.1f} s "
                f"({len(items) / write_s:,.0f}/s, {resends} unprocessed-item resends)",
                flush=True,
            )
            loaded_on_read = sum(per_date.get(d.isoformat(), 0) for d in read)
            expected_on_read = args.due * args.repeats
            load_warnings: list[str] = []
            if loaded_on_read != expected_on_read:
                load_warnings.append(
                    f"{loaded_on_read} terminals expire on dates the sweeps read, not {expected_on_read}"
                )
            del items

            with counter.installed():
                results = [
                    measure(client, counter, day, args.due, tenants_with_due, r, args.query_samples)
                    for r, day in enumerate(days)
                ]
    except KeyboardInterrupt:
        print("\ninterrupted; DynamoDB Local stopped", file=sys.stderr)
        return 130

    for w in load_warnings:
        print(f"load: WARNING: {w}")
    summary = summarize(results)
    settings = {
        "fleet": args.fleet,
        "due": args.due,
        "repeats": args.repeats,
        "tenants": args.tenants,
        "query_samples": args.query_samples,
        "sweep_days": [d.isoformat() for d in days],
        "reminder_offset_days": REMINDER,
        "dates_read_by_first_sweep": first_plan,
        "filler_dates": f"{others[0].isoformat()}..{others[-1].isoformat()} ({len(others)} dates)",
        "table": TABLE,
    }
    print_table(summary, settings, results)
    report = {
        "benchmark": "expiry sweep vs bare Query of the expiry index",
        "started_at": started_at.isoformat(),
        "settings": settings,
        "environment": environment(),
        "load": {
            "tenants_and_merchants_seconds": round(owners_s, 3),
            "build_items_seconds": round(build_s, 3),
            "batch_write_seconds": round(write_s, 3),
            "terminals": args.fleet,
            "terminals_per_s": round(args.fleet / write_s, 1) if write_s else None,
            "unprocessed_resends": resends,
            "threads": LOAD_THREADS,
            "warnings": load_warnings,
        },
        "medians": summary,
        "repeats": results,
    }
    write_figures(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
