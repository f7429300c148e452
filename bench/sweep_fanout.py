"""The fanned-out sweep sized: due terminals per second per shard worker, and the workers a platform
of 10 million terminals needs for its busiest day. DynamoDB Local in memory, started and stopped here.

One run:
  0. load: `--tenants` agents (a merchant each) and `--due` terminals expiring on D + 7 (the 7-day
     reminder), spread over the expiry shards by their SN as the app spreads them;
  1. measured, this machine: the run as the sweep function runs it (services/sweep_runs.py: the
     coordinator, then one worker per shard, each timed on its own, one after the other);
  2. simulated, AWS-like: the same on a fresh day with every DynamoDB request delayed by `--ddb-ms`
     and every message by `--send-ms` (a Lambda's round trips to DynamoDB, SES and SNS: the worker
     waits on them, it does not compute), once with one worker doing every shard in turn and once
     with the shard workers at the same time (threads: waiting overlaps, as separate Lambdas do);
  3. the model: from (1), this process's CPU time, DynamoDB requests and messages per due terminal;
     a worker's time per due terminal is its CPU time plus its round trips at the simulated
     latencies. Unlike wall-clock rates, this holds on a machine busy with other work;
  4. the sizing, from (3): a busy day of 10 million terminals (`--platform`) has `--busy-share` of
     them due (the issue's ~160,000 reminders and state changes); workers needed so the day is read
     within `--window-s`, the time a day takes with the template's shard count, and the
     continuations each worker chains (a Lambda stops `STOP_BEFORE_MS` before its 900 s).

    .venv/bin/python -m bench.sweep_fanout [--due 800] [--ddb-ms 5] [--send-ms 40]

Not a test: nothing here asserts on time. Count mismatches are printed as warnings.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bench.common import OUT, dynamodb_local, environment, handle_signals, local_services, median, write_json
from bench.sweep_bench import TABLE as SWEEP_BENCH_TABLE
from bench.sweep_bench import Owner, Series, load, make_owners, terminal_item
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import SweepStateItem
from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
from simrenew.clock import FixedClock
from simrenew.ports.notify import Outgoing
from simrenew.services.sweep import STOP_BEFORE_MS
from simrenew.services.sweep_runs import SweepRuns
from tests.support.sweep import RecordingDispatcher, RecordingSender, sweep_service

TABLE = SWEEP_BENCH_TABLE  # bench.sweep_bench.load writes to that table (its own DynamoDB Local here)
DAYS = (date(2032, 5, 1), date(2032, 9, 1))  # measured day, simulated day
REMINDER = 7
LAMBDA_TIMEOUT_S = 900
FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth of CPU at this memory size


class SlowSender(RecordingSender):
    """A message provider answering after `delay_s` (SES/SNS round trip), thread-safe."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def send_to(self, message: Outgoing) -> str:
        time.sleep(self.delay_s)
        with self.lock:
            return super().send_to(message)


class DynamoDelay:
    """Every DynamoDB request of this process answered `delay_s` later (botocore's before-send)."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.requests = 0
        self._lock = threading.Lock()

    def install(self) -> DynamoDelay:
        import botocore.client

        orig = botocore.client.BaseClient._make_api_call
        delay = self

        def slowed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                if delay.delay_s:
                    time.sleep(delay.delay_s)
                with delay._lock:
                    delay.requests += 1
            return orig(client, operation, params)

        botocore.client.BaseClient._make_api_call = slowed  # type: ignore[method-assign]
        return self


FANOUT_SERIES = Series("FAN", "898601", 30_000_000)


def terminals(owners: list[Owner], due: int, day: date, offset: int, now: datetime) -> list[dict[str, Any]]:
    items = []
    for i in range(due):
        owner = owners[i % len(owners)]
        n = offset + i
        items.append(terminal_item(owner, n, day + timedelta(days=REMINDER), now, FANOUT_SERIES))
    return items


def fan_out(day: date, sender: RecordingSender, *, parallel: bool, counter: DynamoDelay) -> dict[str, Any]:
    """One run of the day through SweepRuns: coordinator, then every shard worker (in turn, or at
    once on threads). Times each worker; returns what it read and sent."""
    clock = FixedClock(datetime.combine(day, dtime(2), tzinfo=UTC))
    SweepStateItem("SWEEP", "LAST", last_day=(day - timedelta(days=1)).isoformat()).save()
    dispatcher = RecordingDispatcher()

    def runs() -> SweepRuns:
        return SweepRuns(sweep_service(sender, clock), SweepDayRepository(), dispatcher, clock)

    started, cpu, requests = time.perf_counter(), time.process_time(), counter.requests
    runs().request(day)
    runs().handle(dispatcher.take()[0])
    workers = dispatcher.take()
    answers: list[dict[str, Any]] = [{} for _ in workers]

    def work(i: int) -> None:
        t0 = time.perf_counter()
        answer = runs().handle(workers[i])
        answers[i] = {**answer, "seconds": time.perf_counter() - t0}

    if parallel:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(len(workers)):
            work(i)
    wall, cpu, requests = time.perf_counter() - started, time.process_time() - cpu, counter.requests - requests
    per_worker = [
        {"shard": a["shard"], "due": a["items_read"], "seconds": round(a["seconds"], 3),
         "due_per_s": round(a["items_read"] / a["seconds"], 1) if a["seconds"] else None}
        for a in answers
    ]  # fmt: skip
    due = sum(a["items_read"] for a in answers)
    return {
        "parallel": parallel,
        "workers": len(workers),
        "due": due,
        "reminders": sum(a["reminders_sent"] for a in answers),
        "wall_s": round(wall, 3),
        "due_per_s_total": round(due / wall, 1),
        "per_worker": per_worker,
        "worker_due_per_s_median": median([w["due_per_s"] for w in per_worker if w["due_per_s"]]),
        "continuations": len(dispatcher.take()),
        "cpu_s": round(cpu, 3),
        "ddb_requests": requests,
        "messages": len(sender.sent),
        "cpu_ms_per_due": round(cpu * 1000 / due, 3) if due else None,
        "ddb_requests_per_due": round(requests / due, 3) if due else None,
        "messages_per_due": round(len(sender.sent) / due, 3) if due else None,
    }


def modeled_rate(measured: dict[str, Any], ddb_ms: float, send_ms: float, memory_mb: int) -> dict[str, Any]:
    """Due terminals per second of one worker: its CPU per due terminal (Lambda gives a function a
    share of a vCPU in proportion to its memory: a whole one at 1,769 MB) plus its round trips."""
    cpu_share = min(1.0, memory_mb / FULL_VCPU_MB)
    cpu_ms = measured["cpu_ms_per_due"] / cpu_share
    per_due_ms = cpu_ms + measured["ddb_requests_per_due"] * ddb_ms + measured["messages_per_due"] * send_ms
    return {
        "memory_mb": memory_mb,
        "cpu_share": round(cpu_share, 3),
        "cpu_ms_per_due_in_lambda": round(cpu_ms, 2),
        "ms_per_due": round(per_due_ms, 2),
        "due_per_s": round(1000 / per_due_ms, 1),
    }


def sizing(rate: float, args: argparse.Namespace) -> dict[str, Any]:
    """Workers needed for the platform's busiest day at `rate` due terminals/s per worker."""
    busy = int(args.platform * args.busy_share)
    per_invocation = rate * (LAMBDA_TIMEOUT_S - STOP_BEFORE_MS / 1000)
    shards = keys.EXPIRY_SHARDS
    # How unevenly the SN hash spreads one day over the shards (the fullest shard sets the pace).
    spread = Counter(keys.expiry_shard(f"SN-{n:010d}") for n in range(busy))
    fullest = max(spread.values())
    day_s = fullest / rate
    return {
        "platform_terminals": args.platform,
        "busy_day_due": busy,
        "worker_due_per_s": round(rate, 1),
        "due_per_invocation": int(per_invocation),
        "window_s": args.window_s,
        "workers_needed_for_window": math.ceil(busy / (rate * args.window_s)),
        "workers_needed_without_continuation": math.ceil(busy / per_invocation),
        "one_worker_hours": round(busy / rate / 3600, 2),
        "shards": shards,
        "fullest_shard_due": fullest,
        "fullest_shard_share": round(fullest / busy, 4),
        "day_minutes_with_shards": round(day_s / 60, 1),
        "invocations_per_shard": math.ceil(day_s / (LAMBDA_TIMEOUT_S - STOP_BEFORE_MS / 1000)),
        "reserved_concurrency_in_template": shards + 3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, default=800, help="terminals due on each swept day (default 800)")
    parser.add_argument("--tenants", type=int, default=10, help="agents the due terminals belong to (default 10)")
    parser.add_argument("--ddb-ms", type=float, default=5.0, help="simulated DynamoDB round trip, ms (default 5)")
    parser.add_argument("--send-ms", type=float, default=40.0, help="simulated SES/SNS round trip, ms (default 40)")
    parser.add_argument("--platform", type=int, default=10_000_000, help="terminals on the platform (default 10M)")
    parser.add_argument("--busy-share", type=float, default=0.016, help="share due on the busiest day (0.016)")
    parser.add_argument("--window-s", type=int, default=900, help="time a day should take at most (default 900)")
    parser.add_argument("--memory-mb", type=int, default=512, help="the sweep function's MemorySize (default 512)")
    parser.add_argument("--out", type=Path, default=OUT / "sweep_fanout.json", help="JSON file with every figure")
    args = parser.parse_args(argv)
    handle_signals()
    warnings: list[str] = []
    started_at = datetime.now(UTC)
    try:
        with dynamodb_local("fanout-dynamodb-local.log") as endpoint:
            from bench.common import table_client

            client = table_client(endpoint, TABLE)
            stripe = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
            svc = local_services(TABLE, endpoint, stripe)
            owners = make_owners(svc, args.tenants)
            now = datetime.now(UTC)
            for n, day in enumerate(DAYS):
                load(client, terminals(owners, args.due, day, n * args.due, now))
            print(f"DynamoDB Local on {endpoint}: {args.due} due terminals on each of {len(DAYS)} days", flush=True)

            counter = DynamoDelay(0.0).install()
            measured = fan_out(DAYS[0], RecordingSender(), parallel=False, counter=counter)
            print(
                f"measured (this machine): {measured['workers']} workers in turn, {measured['due']} due in "
                f"{measured['wall_s']:.2f} s; per worker median {measured['worker_due_per_s_median']:.0f} due/s",
                flush=True,
            )
            counter.delay_s = args.ddb_ms / 1000
            # A day is swept once: one worker through every shard on one day, all of them at once on another.
            one = fan_out(DAYS[1], SlowSender(args.send_ms / 1000), parallel=False, counter=counter)
            third = DAYS[1] + timedelta(days=400)
            load(client, terminals(owners, args.due, third, 2 * args.due, now))
            many = fan_out(third, SlowSender(args.send_ms / 1000), parallel=True, counter=counter)
            print(
                f"simulated ({args.ddb_ms:g} ms per DynamoDB request, {args.send_ms:g} ms per message): one worker "
                f"{one['due_per_s_total']:.1f} due/s; {many['workers']} workers at once {many['due_per_s_total']:.1f} "
                f"due/s in all, {many['worker_due_per_s_median']:.1f} each",
                flush=True,
            )
    except KeyboardInterrupt:
        print("\ninterrupted; DynamoDB Local stopped", file=sys.stderr)
        return 130
    for run in (measured, one, many):
        if run["due"] != args.due or run["reminders"] != args.due:
            warnings.append(f"a run read {run['due']} and reminded {run['reminders']}, expected {args.due} each")
        if run["continuations"]:
            warnings.append(f"a run needed {run['continuations']} continuations (none expected at this size)")
    model = modeled_rate(measured, args.ddb_ms, args.send_ms, args.memory_mb)
    print(
        f"model: {measured['cpu_ms_per_due']} ms CPU, {measured['ddb_requests_per_due']} DynamoDB requests and "
        f"{measured['messages_per_due']} messages per due terminal; at {args.memory_mb} MB "
        f"({model['cpu_share']:.0%} of a vCPU) -> {model['ms_per_due']} ms, "
        f"{model['due_per_s']} due/s a worker",
        flush=True,
    )
    rate = float(model["due_per_s"])
    size = sizing(rate, args)
    print(
        f"sizing: {size['busy_day_due']:,} due on a busy day of {size['platform_terminals']:,} terminals; at "
        f"{size['worker_due_per_s']} due/s a worker, {size['workers_needed_for_window']} workers read it in "
        f"{args.window_s} s (one worker: {size['one_worker_hours']} h); the template's {size['shards']} shard "
        f"workers take {size['day_minutes_with_shards']} min, {size['invocations_per_shard']} invocations each",
        flush=True,
    )
    for w in warnings:
        print(f"WARNING: {w}")
    write_json(
        args.out,
        {
            "benchmark": "the sweep fanned out over its expiry shards",
            "started_at": started_at.isoformat(),
            "settings": vars(args) | {"out": str(args.out), "shards": keys.EXPIRY_SHARDS},
            "environment": environment(),
            "measured": measured,
            "simulated_one_worker": one,
            "simulated_parallel": many,
            "model": model,
            "sizing": size,
            "warnings": warnings,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
