"""`make bench`: every benchmark in one run, side by side, summarised in bench/results.{md,json}.

Runs, one after the other on this machine and each in a fresh interpreter: the cold imports
(bench.cold_import), the merchant payment journey and the DynamoDB requests per operation
(bench.payments_bench), the fleet CSV import (bench.import_bench) and the expiry sweep
(bench.sweep_bench). Each benchmark measures its own baseline interleaved with it (import boto3,
a bare GetItem, raw BatchWriteItem, a bare Query), so every ratio in the report comes from the
same minutes of the same machine. Raw figures of every benchmark stay in bench/out/report/
(git-ignored); the summary is written to bench/results.json and bench/results.md.

    .venv/bin/python -m bench.report            # the full run (about 5 minutes on 2 cores)
    .venv/bin/python -m bench.report --quick    # a smoke run, written to bench/out/ instead

Not a test: nothing here asserts on time. Wrong outcomes found by a benchmark are listed as
warnings in the report.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT, environment, git_commit, shown, write_json
from bench.targets import line, markdown_rows, verdicts

FULL = {
    "cold_runs": 5,
    "journeys": 15,
    "warmup": 2,
    "getitem_samples": 200,
    "count_repeats": 5,
    "lines": 5,
    "rows": 10_000,
    "import_repeats": 3,
    "fleet": 100_000,
    "due": 1_000,
    "sweep_repeats": 3,
    "carrier_sims": 10_000,
    "upload_rows": 100_000,
    "fanout_due": 800,
}
QUICK = {
    "cold_runs": 2,
    "journeys": 3,
    "warmup": 1,
    "getitem_samples": 30,
    "count_repeats": 2,
    "lines": 5,
    "rows": 1_000,
    "import_repeats": 1,
    "fleet": 5_000,
    "due": 200,
    "sweep_repeats": 1,
    "carrier_sims": 1_000,
    "upload_rows": 2_000,
    "fanout_due": 160,
}
RESULTS_DIR = Path(__file__).resolve().parent
RAW_DIR = OUT / "report"
STEP_LABELS = {
    "lookup": "(a) look the terminal up: GET /v1/public/terminals/{sn}",
    "order": "(b) create the order: POST /v1/public/orders",
    "confirm": "(c) pay: POST /v1/public/orders/{id}/confirm",
    "fulfilled_less_delay": "(d) confirm → order reads fulfilled, less localstripe's fixed 1 s",
    "status_get": "    one status read: GET /v1/public/orders/{id}",
    "webhook": "(e) signed webhook POST → 200, one line fulfilled",
}
DDB_ROWS = (
    ("public_lookup", "public lookup (GET /v1/public/terminals/{sn})"),
    ("public_order", "public order create, PaymentIntent included"),
    ("fulfil_1_line", "fulfil one order line (signed webhook)"),
    ("duplicate_event", "the same webhook delivered again (no-op)"),
)


@dataclass
class Run:
    name: str
    module: str
    args: list[str]
    seconds: float = 0.0

    @property
    def out(self) -> Path:
        return RAW_DIR / f"{self.name}.json"

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module, *self.args, "--out", str(self.out)]


def plan(p: dict[str, int]) -> list[Run]:
    return [
        Run("cold_import", "bench.cold_import", ["--runs", str(p["cold_runs"])]),
        Run(
            "payments",
            "bench.payments_bench",
            [
                "--journeys",
                str(p["journeys"]),
                "--warmup",
                str(p["warmup"]),
                "--samples",
                str(p["getitem_samples"]),
                "--repeats",
                str(p["count_repeats"]),
                "--lines",
                str(p["lines"]),
            ],
        ),
        Run("import", "bench.import_bench", ["--rows", str(p["rows"]), "--repeats", str(p["import_repeats"])]),
        Run(
            "sweep",
            "bench.sweep_bench",
            ["--fleet", str(p["fleet"]), "--due", str(p["due"]), "--repeats", str(p["sweep_repeats"])],
        ),
        Run("carrier", "bench.carrier_bench", ["--sims", str(p["carrier_sims"])]),
        Run("upload", "bench.upload_bench", ["--rows", str(p["upload_rows"])]),
        Run("sweep_fanout", "bench.sweep_fanout", ["--due", str(p["fanout_due"])]),
    ]


def execute(run: Run) -> None:
    print(f"\n=== {run.name}: {shlex.join(run.command()[1:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(run.command(), cwd=ROOT, check=False)
    run.seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{run.name} failed (exit {done.returncode}); no report written")


def load(run: Run) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(run.out.read_text(encoding="utf-8"))
    return data


# --- the summary ----------------------------------------------------------------------------------------
def summarize(
    raw: dict[str, dict[str, Any]], runs: list[Run], params: dict[str, int], argv: list[str]
) -> dict[str, Any]:
    cold, pay, imp, swp = raw["cold_import"], raw["payments"], raw["import"], raw["sweep"]
    fan = raw["sweep_fanout"]
    http, counts = pay["http"], pay["ddb_requests"]
    medians = imp["medians"]
    sweep = swp["medians"]
    warnings = (
        [f"payments: {w}" for w in pay.get("warnings", [])]
        + [f"import: {w}" for r in imp["repeats"] for w in r.get("warnings", [])]
        + [f"sweep: {w}" for w in swp.get("load", {}).get("warnings", [])]
        + [f"sweep: {w}" for r in swp["repeats"] for w in r.get("warnings", [])]
        + [f"sweep fan-out: {w}" for w in fan.get("warnings", [])]
    )
    rows = params["rows"]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "command": shlex.join([".venv/bin/python", "-m", "bench.report", *argv]),
        "machine": {**environment(), "machine": platform.machine()},
        "parameters": params,
        "runtime_s": {r.name: round(r.seconds, 1) for r in runs} | {"total": round(sum(r.seconds for r in runs), 1)},
        "cold_import": {
            name: {"median_ms": round(m["median_s"] * 1000, 1), "ratio_to_boto3": round(m["ratio_to_boto3"], 2)}
            for name, m in cold["modules"].items()
        },
        "ddb_per_operation": {
            **{
                name: {
                    "requests": counts[name]["total_calls"],
                    "requests_by_op": counts[name]["calls"],
                    "capacity_units": counts[name]["capacity"],
                    "capacity_by_op": counts[name]["capacity_by_op"],
                }
                for name, _label in DDB_ROWS
                if name in counts
            },
            "import_1000_rows": {
                "requests": round(sum(medians["requests_per_1000_rows"]["first_import"].values()), 1),
                "requests_by_op": medians["requests_per_1000_rows"]["first_import"],
                "capacity_units": medians["first_import_capacity_per_1000_rows"],
                "capacity_by_op": medians.get("first_import_capacity_per_1000_rows_by_op", {}),
                "re_import_requests": round(sum(medians["requests_per_1000_rows"]["re_import"].values()), 1),
            },
            "sweep_per_due_terminal": {
                "requests": sweep["requests_per_due"],
                "requests_by_op": sweep.get("requests_per_due_by_op", {}),
                "capacity_units": sweep.get("capacity_per_due"),
                "items_read_per_due": sweep["items_read_per_due"],
            },
        },
        "journey": {
            "getitem_median_ms": http["getitem"]["median_ms"],
            "getitem_samples": http["getitem"]["samples"],
            "steps": {
                key: {
                    "median_ms": http["steps"][key]["median_ms"],
                    "p90_ms": http["steps"][key]["p90_ms"],
                    "ratio_to_getitem": http["steps"][key]["ratio_to_getitem"],
                }
                for key in STEP_LABELS
            },
            "http_floor_new_connection_ms": http["http_floor"]["fresh_connection"]["median_ms"],
            "journeys": pay["settings"]["journeys"],
            # Each step's own DynamoDB requests replayed alone (bench.replay): its floor here.
            "replayed": http.get("replayed", {}),
        },
        "import": {
            "rows": rows,
            "rows_per_s": medians["first_import_rows_per_s"],
            "terminals_per_s": medians["first_import_terminals_per_s"],
            "re_import_rows_per_s": medians["re_import_rows_per_s"],
            "raw_batch_write_terminals_per_s": medians["raw_terminals_per_s"],
            "raw_vs_import": medians["raw_vs_import_terminals_per_s"],
            "first_import_seconds": medians["first_import_seconds"],
            # The import's own transactions alone (bench.import_bench.bare_transactions): its floor here.
            "bare_tx_terminals_per_s": medians.get("bare_tx_terminals_per_s"),
            "bare_tx_shape": medians.get("bare_tx_shape"),
            "bare_tx_vs_raw": medians.get("bare_tx_vs_raw_terminals_per_s"),
            "import_vs_bare_tx": medians.get("import_vs_bare_tx_terminals_per_s"),
        },
        "sweep": {
            "fleet": params["fleet"],
            "due": params["due"],
            "due_per_s": sweep["sweep_due_per_s"],
            "bare_query_due_per_s": sweep["bare_query_due_per_s"],
            "bare_query_vs_sweep": sweep["bare_vs_sweep_due_per_s"],
            "sweep_seconds": sweep["sweep_seconds"],
            "requests_per_sweep": sweep["requests_per_sweep_total"],
        },
        "carrier": raw.get("carrier"),  # issue 15: carrier requests and DynamoDB writes per 1,000 SIMs synced
        "upload": {k: v for k, v in raw.get("upload", {}).items() if k not in ("environment", "warnings")},
        "warnings": warnings + [f"upload: {w}" for w in raw.get("upload", {}).get("warnings", [])],
        "sweep_fanout": {
            "due": fan["measured"]["due"],
            "measured_worker_due_per_s": fan["measured"]["worker_due_per_s_median"],
            "ddb_ms": fan["settings"]["ddb_ms"],
            "send_ms": fan["settings"]["send_ms"],
            "simulated_one_worker_due_per_s": fan["simulated_one_worker"]["due_per_s_total"],
            "simulated_parallel_due_per_s": fan["simulated_parallel"]["due_per_s_total"],
            "simulated_parallel_workers": fan["simulated_parallel"]["workers"],
            "cpu_ms_per_due": fan["measured"]["cpu_ms_per_due"],
            "ddb_requests_per_due": fan["measured"]["ddb_requests_per_due"],
            "messages_per_due": fan["measured"]["messages_per_due"],
            "model": fan["model"],
            "sizing": fan["sizing"],
        },
        "raw": {r.name: shown(r.out) for r in runs},
    }


def _ops(by_op: dict[str, float]) -> str:
    return ", ".join(f"{op} {_n(v)}" for op, v in by_op.items() if v) or "-"


def _n(value: float | int | None) -> str:
    if value is None:
        return "-"
    v = float(value)
    return f"{v:,.0f}" if v.is_integer() or abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")


def _bare_tx_row(i: dict[str, Any]) -> list[str]:
    if i.get("bare_tx_terminals_per_s") is None:
        return []
    shape = i.get("bare_tx_shape")  # as bench.import_bench sent them (older figures lack it)
    how = (
        f"{shape['terminals_per_transaction']} terminals of 4 items, conditions kept, {shape['writers']} at once"
        if shape
        else "conditions kept"
    )
    per_s = i["bare_tx_terminals_per_s"]
    return [f"| the import's transactions alone, the same items ({how}): terminals/s | {per_s:,.0f} |"]


def _bare_tx_note(i: dict[str, Any]) -> str:
    """The import's floor: what its own conditional transactions alone reach next to raw BatchWriteItem."""
    if i.get("bare_tx_vs_raw") is None:
        return ""
    return (
        f" The import's transactions alone reach **{i['bare_tx_vs_raw']:.3f}×** raw BatchWriteItem (its floor "
        f"here: no code around them reaches more), and the import {i['import_vs_bare_tx']:.3f}× of them."
    )


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}×"


def markdown(s: dict[str, Any]) -> str:
    m, p = s["machine"], s["parameters"]
    day = s["generated_at"][:10]
    out = [
        f"# SimRenew benchmarks — {day}",
        "",
        f"All figures from one run of `{s['command']}` on {day} (checked-out commit "
        f"`{s['git_commit'] or 'unknown'}`; uncommitted changes are not shown), "
        f"{s['runtime_s']['total'] / 60:.1f} minutes in all.",
        f"Machine: {m['cpus']} cores ({m['machine']}), Python {m['python']}, {m['platform']}, "
        f"boto3 {m['boto3']}; {m['dynamodb_local']} on 127.0.0.1.",
        "Medians. Every ratio compares two things measured side by side in that run: DynamoDB Local is one JVM on "
        "this machine, not the service, so compare runs with each other, not with AWS latencies.",
        "",
        "Reproduce: `make bench` (the full run, which rewrites this file), or "
        "`.venv/bin/python -m bench.report --quick` for a smoke run written to `bench/out/`.",
        "",
        "Parameters: "
        + f"cold imports {p['cold_runs']} fresh interpreters each; "
        + f"{p['journeys']} merchant journeys (+{p['warmup']} warm-up) and {p['getitem_samples']} bare GetItems; "
        + f"DynamoDB counts {p['count_repeats']} times per operation; "
        + f"import {p['rows']:,} rows (1 % bad) × {p['import_repeats']}; "
        + f"sweep of {p['due']:,} due terminals in a fleet of {p['fleet']:,} × {p['sweep_repeats']}.",
        "",
        *markdown_rows(s.get("targets") or verdicts(s)),
        "## Cold import of each function",
        "",
        "Each function and the simrenew layer as `sam build` builds them (the layer's and the api's Makefiles: the "
        "files and their bytecode), imported with no bytecode written, as Lambda's read-only file system does; the "
        "last row is the same api build without its `.pyc` files.",
        "",
        "| module | median ms | ÷ `import boto3` |",
        "|---|---:|---:|",
    ]
    for name, c in s["cold_import"].items():
        label = "`import boto3` (baseline)" if name == "boto3" else f"`{name}`" if "+" in name else f"`{name}` function"
        out.append(f"| {label} | {c['median_ms']:.0f} | {c['ratio_to_boto3']:.2f}× |")
    out += [
        "",
        "## DynamoDB requests and consumed capacity per operation",
        "",
        "Counted in-process by wrapping botocore (PynamoDB's clients included). Capacity is DynamoDB Local's "
        "ConsumedCapacity (for transactions its own accounting, not AWS billing).",
        "",
        "| operation | requests | by operation | capacity units |",
        "|---|---:|---|---:|",
    ]
    labels = dict(DDB_ROWS) | {
        "import_1000_rows": "CSV import, per 1,000 rows (first import)",
        "sweep_per_due_terminal": "expiry sweep, per due terminal",
    }
    for name, row in s["ddb_per_operation"].items():
        out.append(
            f"| {labels[name]} | {_n(row['requests'])} | {_ops(row['requests_by_op'])} | {_n(row['capacity_units'])} |"
        )
    imp_row = s["ddb_per_operation"]["import_1000_rows"]
    out += [
        "",
        f"A re-import of the same file costs {_n(imp_row['re_import_requests'])} requests per 1,000 rows; the sweep "
        f"reads {s['ddb_per_operation']['sweep_per_due_terminal']['items_read_per_due']:.2f} items per due terminal.",
        "",
        "## Merchant journey over HTTP next to a bare GetItem",
        "",
        f"Local API server, localstripe and DynamoDB Local; a new connection per request; median of "
        f"{s['journey']['journeys']} journeys. Bare boto3 GetItem on the same DynamoDB Local: "
        f"{s['journey']['getitem_median_ms']:.2f} ms (median of {s['journey']['getitem_samples']}, interleaved). "
        f"HTTP floor (404 route, new connection): {s['journey']['http_floor_new_connection_ms']:.1f} ms.",
        "",
        "| step | median ms | p90 ms | ÷ GetItem |",
        "|---|---:|---:|---:|",
    ]
    for key, label in STEP_LABELS.items():
        st = s["journey"]["steps"][key]
        out.append(f"| {label.strip()} | {st['median_ms']:.1f} | {st['p90_ms']:.1f} | {_x(st['ratio_to_getitem'])} |")
    out += _replayed_lines(s["journey"].get("replayed") or {})
    i, w = s["import"], s["sweep"]
    out += [
        "",
        "## Fleet CSV import next to raw BatchWriteItem",
        "",
        "| | per second |",
        "|---|---:|",
        f"| import: file rows/s ({i['rows']:,} rows, 1 % bad, worker included) | {i['rows_per_s']:,.0f} |",
        f"| import: terminals written/s (terminal + 3 claims each, conditional transactions) | "
        f"{i['terminals_per_s']:,.0f} |",
        f"| raw BatchWriteItem of the same items, no conditions | {i['raw_batch_write_terminals_per_s']:,.0f} |",
        *_bare_tx_row(i),
        f"| re-import of the same file: rows/s | {i['re_import_rows_per_s']:,.0f} |",
        "",
        f"Raw BatchWriteItem is **{_x(i['raw_vs_import'])}** the import's terminals/s "
        f"(first import {i['first_import_seconds']:.1f} s).{_bare_tx_note(i)}",
        "",
        "## Expiry sweep next to a bare Query",
        "",
        "| | due terminals/s |",
        "|---|---:|",
        f"| sweep ({w['due']:,} due in a fleet of {w['fleet']:,}: reminder claimed, sent, recorded) | "
        f"{w['due_per_s']:,.0f} |",
        f"| bare paginated Query of the expiry index, same day, all shards | {w['bare_query_due_per_s']:,.0f} |",
        "",
        f"The bare Query reads the due items **{_x(w['bare_query_vs_sweep'])}** as fast as the sweep processes them "
        f"(sweep {w['sweep_seconds']:.1f} s, {_n(w['requests_per_sweep'])} DynamoDB requests).",
        "",
        *_carrier_section(s.get("carrier")),
        *_upload_section(s.get("upload") or {}),
        "## The sweep fanned out: due terminals per second per worker, workers for 10 million terminals",
        "",
        *_fanout_lines(s["sweep_fanout"]),
        "",
        "## Run",
        "",
        "| benchmark | seconds | raw figures (git-ignored) |",
        "|---|---:|---|",
    ]
    for name, seconds in s["runtime_s"].items():
        if name != "total":
            out.append(f"| {name} | {seconds:.0f} | `{s['raw'][name]}` |")
    out += ["", f"Warnings from the benchmarks' own checks: {len(s['warnings'])}."]
    out += [f"- {w}" for w in s["warnings"]]
    return "\n".join(out) + "\n"


def _replayed_lines(replayed: dict[str, Any]) -> list[str]:
    """The floor under the look-up's and the webhook's ratios: their own requests, replayed alone."""
    rows = [(step, replayed[step]) for step in ("lookup", "webhook") if step in replayed]
    if not rows:
        return []
    out = [
        "",
        "**The floor under these ratios.** Each path's own DynamoDB requests, captured in process and "
        "sent again with boto3 alone, its client configured as PynamoDB's (`bench.replay`: the writes on keys "
        "of their own, over an item "
        "written there first, without their conditions), next to a bare GetItem of "
        f"{replayed['getitem_median_ms']:.2f} ms interleaved with them; then that ratio plus the HTTP "
        "floor's. Neither step can go under it on this machine with these requests.",
        "",
        "| step | its requests | replayed, median ms | ÷ GetItem | + HTTP floor |",
        "|---|---|---:|---:|---:|",
    ]
    for step, r in rows:
        how = "side by side" if r["side_by_side"] else "one after the other"
        out.append(
            f"| {STEP_LABELS[step].strip()} | {' + '.join(r['operations'])} ({how}) | {r['median_ms']:.2f} | "
            f"{_x(r['ratio_to_getitem'])} | {_x(r['with_http_floor_ratio'])} |"
        )
    return out


def _carrier_section(c: dict[str, Any] | None) -> list[str]:
    """Carrier sync (bench/carrier_bench.py): per 1,000 SIMs synced."""
    if not c:
        return []
    out = [
        f"## Carrier sync ({c['sims']:,} SIMs, local Control Center platform, page size {c['page_size']})",
        "",
        "| sync | carrier requests | per 1,000 SIMs | DynamoDB writes | per 1,000 SIMs | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "first": "first (every status and usage read, every record written)",
        "daily": "daily (1 % used more data, 0.1 % changed status at the carrier)",
        "unchanged": "nothing changed",
    }
    for name, label in labels.items():
        r = c[name]
        out.append(
            f"| {label} | {r['carrier_requests']:,} | {r['per_1000']['carrier_requests']} | {r['dynamodb_writes']:,} "
            f"| {r['per_1000']['dynamodb_writes']} | {r['seconds']:.1f} |"
        )
    return [*out, ""]


def _upload_section(u: dict[str, Any]) -> list[str]:
    if not u:
        return []
    rows = u["parameters"]["rows"]
    return [
        "## Fleet import through the presigned path (S3 upload → S3 event → worker)",
        "",
        "| | |",
        "|---|---:|",
        f"| file | {rows:,} rows, {u['file_mb']:.1f} MB |",
        f"| PUT to the presigned URL (moto's S3 server) | {u['upload_mb_per_s']:.1f} MB/s |",
        f"| worker, from the S3 event to done: rows/s | {u['import_rows_per_s']:,.0f} |",
        f"| worker memory high-water mark (ru_maxrss) | {u['worker_rss_peak_mb']:.0f} MB |",
        f"| … of which before the event (interpreter, boto3, services) | {u['worker_rss_before_mb']:.0f} MB |",
        f"| the same file read whole and parsed at once: memory added | {u['whole_file_parse_rss_added_mb']:.0f} MB |",
        "",
    ]


def _fanout_lines(f: dict[str, Any]) -> list[str]:
    z = f["sizing"]
    return [
        f"One run of a day through the sweep function's steps (coordinator, one worker per shard; "
        f"{f['due']:,} due terminals). Simulated: every DynamoDB request {f['ddb_ms']:g} ms, every message "
        f"{f['send_ms']:g} ms (a Lambda's round trips; a worker waits on them).",
        "",
        "| | due terminals/s |",
        "|---|---:|",
        f"| one shard worker, this machine (DynamoDB Local), median of the workers | "
        f"{f['measured_worker_due_per_s']:,.1f} |",
        f"| one worker through every shard, simulated latencies | {f['simulated_one_worker_due_per_s']:,.1f} |",
        f"| {f['simulated_parallel_workers']} shard workers at once, simulated latencies, in all | "
        f"{f['simulated_parallel_due_per_s']:,.1f} |",
        f"| model of one worker in Lambda at {f['model']['memory_mb']} MB: {f['cpu_ms_per_due']} ms CPU here "
        f"(÷ {f['model']['cpu_share']:.2f} of a vCPU) + {f['ddb_requests_per_due']} DynamoDB requests + "
        f"{f['messages_per_due']} messages per due terminal = {f['model']['ms_per_due']} ms | "
        f"{f['model']['due_per_s']:,.1f} |",
        "",
        f"Sizing at {z['worker_due_per_s']} due/s a worker: a busy day of {z['platform_terminals']:,} terminals has "
        f"{z['busy_day_due']:,} due; one worker would take {z['one_worker_hours']} h; "
        f"**{z['workers_needed_for_window']} workers** read it in {z['window_s']} s "
        f"({z['workers_needed_without_continuation']} without any "
        f"continuation). With the template's {z['shards']} shard workers the day takes "
        f"{z['day_minutes_with_shards']} min, {z['invocations_per_shard']} invocations per shard (the fullest shard "
        f"holds {z['fullest_shard_share']:.2%} of the day).",
    ]


# --- main ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; results go to bench/out/ by default")
    parser.add_argument("--out-dir", type=Path, help="where results.json and results.md go (default bench/)")
    for key, value in FULL.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, help=f"(full run: {value}, quick: {QUICK[key]})")
    args = parser.parse_args(argv)
    params = dict(QUICK if args.quick else FULL)
    for key in FULL:
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    out_dir = args.out_dir or (OUT if args.quick else RESULTS_DIR)
    stem = "results-quick" if args.quick and args.out_dir is None else "results"

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    runs = plan(params)
    commit_at_start = git_commit()  # each benchmark imports the tree when it starts: say if it moved
    started = time.perf_counter()
    try:
        for run in runs:
            execute(run)
    except KeyboardInterrupt:
        print("\ninterrupted; no report written", file=sys.stderr)
        return 130
    summary = summarize({r.name: load(r) for r in runs}, runs, params, argv)
    summary["runtime_s"]["total"] = round(time.perf_counter() - started, 1)
    summary["targets"] = verdicts(summary)
    if summary["git_commit"] != commit_at_start:
        summary["warnings"].append(
            f"the checked-out commit moved during the run: {commit_at_start} at the start, "
            f"{summary['git_commit']} at the end"
        )
    summary["git_commit"] = commit_at_start
    write_json(out_dir / f"{stem}.json", summary)
    md = out_dir / f"{stem}.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(summary), encoding="utf-8")
    print("\nissue 17 targets:")
    for verdict in summary["targets"]:
        print(f"  {line(verdict)}")
    print(f"\nreport: {shown(md)} and {shown(out_dir / f'{stem}.json')} ({summary['runtime_s']['total'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
