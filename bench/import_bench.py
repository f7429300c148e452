"""Benchmark of the fleet CSV import against DynamoDB Local (in memory, started and stopped here).

One run, side by side on the same DynamoDB Local, per repeat:
  1. the import of an N-row file through the real ImportService (ThreadDispatcher worker), timed;
  2. the same bytes imported again (everything unchanged), timed;
  3. a raw baseline: the same terminal items plus three claim-like items each, written with plain
     BatchWriteItem in chunks of 25, timed;
  4. the import's floor here: the same items again, on keys of their own, in the import's own
     transactions alone (25 terminals of 4 items, every Put with its attribute_not_exists
     condition, WRITERS of them at once), timed: no file, no validation, no reads, no checkpoint.
DynamoDB requests are counted per operation by wrapping botocore's BaseClient._make_api_call in this
process only. Medians over the repeats are printed; every raw figure goes to bench/out/import.json.

    .venv/bin/python -m bench.import_bench [--rows 10000] [--repeats 3]

Not a test: nothing here asserts on time. Count mismatches are printed as warnings.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BATCH_WRITE_MAX,
    OUT,
    Phase,
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
from simrenew.adapters.dispatch import ThreadDispatcher
from simrenew.bootstrap import Services
from simrenew.clock import SystemClock, today_in
from simrenew.domain.csvfile import IMPORT_COLUMNS
from simrenew.domain.identifiers import luhn_check_digit
from simrenew.services.imports import TX_ROWS, WRITERS

TABLE = "simrenew-bench"
PLAN_NAME = "年卡"
RAW_PK = "BENCH#RAW"
BARE_TX_PREFIX = "BARETX#"  # the floor's items: the raw items' keys, prefixed
BAD_KINDS = ("tid_length", "iccid_luhn", "bad_date")
EXPECTED_ERROR = {  # bad kind -> (field, code) the import should report
    "tid_length": ("tid", "invalid_tid"),
    "iccid_luhn": ("iccid", "iccid_checksum"),
    "bad_date": ("expires_on", "invalid_date"),
}
OPS_ORDER = (
    "BatchGetItem",
    "TransactWriteItems",
    "UpdateItem",
    "BatchWriteItem",
    "Query",
    "GetItem",
    "PutItem",
    "DeleteItem",
)


# --- the CSV file ----------------------------------------------------------------------------------
@dataclass
class BenchFile:
    data: bytes
    rows: int
    bad: dict[int, str]  # physical row number (header = 1) -> bad kind
    merchants: int


def make_csv(rows: int, repeat: int) -> BenchFile:
    """N rows with fresh identifiers for this repeat; 1 % bad in rotating ways."""
    base = repeat * rows
    merchants = max(1, rows // 10)
    today = today_in(SystemClock(), "Asia/Shanghai")
    rng = random.Random(f"simrenew-import-bench-{repeat}")
    bad_idx = sorted(rng.sample(range(rows), rows // 100))
    bad_kind = {idx: BAD_KINDS[n % len(BAD_KINDS)] for n, idx in enumerate(bad_idx)}
    lines = [",".join(IMPORT_COLUMNS)]
    bad: dict[int, str] = {}
    for i in range(rows):
        serial = base + i
        sn = f"BENCH-{serial + 1:06d}"
        tid = f"{10_000_000 + serial:08d}"
        payload = f"898600{serial:013d}"
        iccid = payload + luhn_check_digit(payload)
        m = i % merchants
        expires = (today + timedelta(days=1 + i % 365)).isoformat()
        kind = bad_kind.get(i)
        if kind == "tid_length":
            tid = tid[:-1]
        elif kind == "iccid_luhn":
            iccid = iccid[:-1] + str((int(iccid[-1]) + 1) % 10)
        elif kind == "bad_date":
            # Alternate a date that does not exist with one in the wrong format.
            expires = (
                f"{today.year + 1}-02-30" if len(bad) % 2 == 0 else (today + timedelta(days=30)).strftime("%d/%m/%Y")
            )
        if kind:
            bad[i + 2] = kind  # header is row 1, the first data row is row 2
        lines.append(f"{sn},{tid},{iccid},CMCC,PAX A920,商户{m:04d},1380013{m:04d},{PLAN_NAME},{expires},1024")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return BenchFile(data=data, rows=rows, bad=bad, merchants=merchants)


# --- one measurement -------------------------------------------------------------------------------
def run_import(
    svc: Services, counter: RequestCounter, tenant_id: str, data: bytes, name: str, timeout: float
) -> tuple[str, float, Phase]:
    with counter.phase(name) as phase:
        started = time.perf_counter()
        import_id = svc.imports.start(tenant_id, data, "bench")
        local = svc.dispatcher
        assert isinstance(local, ThreadDispatcher), "the bench runs the local stack's thread dispatcher"
        local.join(timeout=timeout)
        elapsed = time.perf_counter() - started
    return import_id, elapsed, phase


def check_first(
    svc: Services, tenant_id: str, import_id: str, bench_file: BenchFile, warnings: list[str]
) -> dict[str, Any]:
    status = svc.imports.status(tenant_id, import_id)
    errors = svc.imports.all_errors(tenant_id, import_id)
    expected_bad = len(bench_file.bad)
    good = bench_file.rows - expected_bad
    if status["status"] != "done":
        warnings.append(f"first import {import_id}: status {status['status']!r}, not 'done' ({status['message']})")
    if status["processed"] != bench_file.rows:
        warnings.append(f"first import: processed {status['processed']}, expected {bench_file.rows}")
    if status["failed"] != expected_bad:
        warnings.append(f"first import: failed {status['failed']}, expected {expected_bad}")
    if status["created"] != good:
        warnings.append(f"first import: created {status['created']}, expected {good}")
    error_rows = {e.row for e in errors}
    if error_rows != set(bench_file.bad):
        missing = sorted(set(bench_file.bad) - error_rows)[:10]
        extra = sorted(error_rows - set(bench_file.bad))[:10]
        warnings.append(f"first import: error rows differ from the bad rows (missing {missing}, unexpected {extra})")
    wrong_kind = [
        (e.row, e.field, e.code)
        for e in errors
        if e.row in bench_file.bad and (e.field, e.code) != EXPECTED_ERROR[bench_file.bad[e.row]]
    ]
    if wrong_kind:
        warnings.append(f"first import: unexpected field/code for bad rows: {wrong_kind[:10]}")
    return {k: status[k] for k in ("status", "total", "processed", "created", "updated", "unchanged", "failed")}


def check_second(
    svc: Services, tenant_id: str, import_id: str, bench_file: BenchFile, warnings: list[str]
) -> dict[str, Any]:
    status = svc.imports.status(tenant_id, import_id)
    good = bench_file.rows - len(bench_file.bad)
    if status["status"] != "done":
        warnings.append(f"re-import {import_id}: status {status['status']!r}, not 'done' ({status['message']})")
    if status["created"] != 0:
        warnings.append(f"re-import: created {status['created']}, expected 0")
    if status["unchanged"] != good:
        warnings.append(f"re-import: unchanged {status['unchanged']}, expected {good}")
    if status["updated"] != 0:
        warnings.append(f"re-import: updated {status['updated']}, expected 0")
    if status["failed"] != len(bench_file.bad):
        warnings.append(f"re-import: failed {status['failed']}, expected {len(bench_file.bad)}")
    return {k: status[k] for k in ("status", "total", "processed", "created", "updated", "unchanged", "failed")}


def raw_items(client: Any, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's terminal items as stored by the import, re-keyed under RAW_PK, each followed by
    three claim items shaped like the real ones (copied from the real SN claim of the first terminal)."""
    terminals: list[dict[str, Any]] = []
    paginator = client.get_paginator("query")
    for page in paginator.paginate(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :term)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":term": {"S": "TERM#"}},
        ConsistentRead=True,
    ):
        terminals.extend(page["Items"])
    if not terminals:
        return []
    first_sn = terminals[0]["sn"]["S"]
    template = client.get_item(TableName=TABLE, Key={"pk": {"S": f"SN#{first_sn}"}, "sk": {"S": "CLAIM"}}).get(
        "Item"
    ) or {"kind": {"S": "claim"}, "tenant_id": {"S": tenant_id}, "created_at": terminals[0]["created_at"]}
    items: list[dict[str, Any]] = []
    for term in terminals:
        items.append({**term, "pk": {"S": RAW_PK}})
        for kind in ("SN", "TID", "ICCID"):
            value = term[kind.lower()]["S"]
            items.append({**template, "pk": {"S": f"RAWCLAIM#{kind}#{value}"}, "sk": {"S": "CLAIM"}, "sn": term["sn"]})
    return items


def raw_write(client: Any, items: list[dict[str, Any]]) -> int:
    """Plain BatchWriteItem in chunks of 25, retrying UnprocessedItems with backoff; returns retries."""
    chunks = (items[i : i + BATCH_WRITE_MAX] for i in range(0, len(items), BATCH_WRITE_MAX))
    return sum(batch_write(client, TABLE, chunk, (0.01, 1.0), ReturnConsumedCapacity="TOTAL") for chunk in chunks)


def bare_transactions(client: Any, items: list[dict[str, Any]], table: str = TABLE, writers: int = WRITERS) -> int:
    """The import's own writes and nothing else: `items` (terminal, then its 3 claims, as
    raw_items lists them) on keys of their own (pk prefixed BARE_TX_PREFIX), in TransactWriteItems
    of TX_ROWS terminals, each Put conditioned on attribute_not_exists(pk) as the import's are,
    `writers` transactions at once on one client (a connection each). Returns the transactions sent."""
    from bench.replay import lean_client

    lean = lean_client(client.meta.endpoint_url, client.meta.region_name, pool=writers)  # as the import's client
    per_tx = TX_ROWS * 4
    chunks = [items[i : i + per_tx] for i in range(0, len(items), per_tx)]

    def send(chunk: list[dict[str, Any]]) -> None:
        puts = [
            {
                "Put": {
                    "TableName": table,
                    "Item": {**item, "pk": {"S": BARE_TX_PREFIX + item["pk"]["S"]}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for item in chunk
        ]
        lean.transact_write_items(TransactItems=puts)

    with ThreadPoolExecutor(writers, thread_name_prefix="bare-tx") as pool:
        list(pool.map(send, chunks))
    return len(chunks)


def per_1000(phase: Phase, rows: int) -> dict[str, float]:
    return {op: round(s.calls * 1000 / rows, 2) for op, s in phase.ops.items()}


def capacity_per_1000(phase: Phase, rows: int) -> dict[str, float]:
    return {op: round(s.capacity * 1000 / rows, 2) for op, s in phase.ops.items()}


def measure(
    svc: Services, client: Any, counter: RequestCounter, rows: int, repeat: int, timeout: float
) -> dict[str, Any]:
    warnings: list[str] = []
    tenant, _key = svc.tenants.create_active(
        {"name": "Bench Agent", "contact_name": "王", "contact_email": "b@example.com", "contact_phone": "13800138000"}
    )
    tenant_id = tenant.tenant_id
    svc.fleet.create_plan(tenant_id, {"name": PLAN_NAME, "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900})
    bench_file = make_csv(rows, repeat)
    good = rows - len(bench_file.bad)
    print(
        f"[repeat {repeat + 1}] tenant {tenant_id}: {rows} rows ({len(bench_file.bad)} bad, "
        f"{bench_file.merchants} merchants, {len(bench_file.data) / 1024:.0f} KiB)",
        flush=True,
    )

    first_id, first_s, first_phase = run_import(svc, counter, tenant_id, bench_file.data, "first_import", timeout)
    first = check_first(svc, tenant_id, first_id, bench_file, warnings)
    print(f"[repeat {repeat + 1}]   first import  {first_s:8.2f} s  {first}", flush=True)

    second_id, second_s, second_phase = run_import(svc, counter, tenant_id, bench_file.data, "re_import", timeout)
    second = check_second(svc, tenant_id, second_id, bench_file, warnings)
    print(f"[repeat {repeat + 1}]   re-import     {second_s:8.2f} s  {second}", flush=True)

    items = raw_items(client, tenant_id)
    raw_terminals = len(items) // 4
    if raw_terminals != first["created"]:
        warnings.append(f"raw baseline: found {raw_terminals} terminal items, the import created {first['created']}")
    with counter.phase("raw_batch_write") as raw_phase:
        raw_retries, raw_s = timed(lambda: raw_write(client, items))
    print(
        f"[repeat {repeat + 1}]   raw baseline  {raw_s:8.2f} s  {raw_terminals} terminals + "
        f"{len(items) - raw_terminals} claims, {raw_retries} unprocessed-item retries",
        flush=True,
    )
    with counter.phase("bare_transactions") as bare_phase:
        bare_count, bare_s = timed(lambda: bare_transactions(client, items))
    print(
        f"[repeat {repeat + 1}]   bare tx       {bare_s:8.2f} s  the same items in {bare_count} transactions "
        f"of {TX_ROWS} terminals, {WRITERS} at once",
        flush=True,
    )
    print_warnings(f"[repeat {repeat + 1}]   ", warnings)

    import_rows_s = rows / first_s
    import_terms_s = first["created"] / first_s
    raw_terms_s = raw_terminals / raw_s if raw_s > 0 else 0.0
    bare_terms_s = raw_terminals / bare_s if bare_s > 0 else 0.0
    return {
        "repeat": repeat + 1,
        "tenant_id": tenant_id,
        "rows": rows,
        "bad_rows": len(bench_file.bad),
        "good_rows": good,
        "merchants": bench_file.merchants,
        "file_bytes": len(bench_file.data),
        "first_import": {
            "import_id": first_id,
            "seconds": round(first_s, 4),
            "rows_per_s": round(import_rows_s, 2),
            "terminals_per_s": round(import_terms_s, 2),
            "result": first,
            "requests": first_phase.to_json(),
            "requests_per_1000_rows": per_1000(first_phase, rows),
            "capacity_per_1000_rows": capacity_per_1000(first_phase, rows),
        },
        "re_import": {
            "import_id": second_id,
            "seconds": round(second_s, 4),
            "rows_per_s": round(rows / second_s, 2),
            "result": second,
            "requests": second_phase.to_json(),
            "requests_per_1000_rows": per_1000(second_phase, rows),
        },
        "raw_batch_write": {
            "seconds": round(raw_s, 4),
            "terminals": raw_terminals,
            "items": len(items),
            "item_bytes_json": sum(len(json.dumps(i)) for i in items),
            "terminals_per_s": round(raw_terms_s, 2),
            "unprocessed_retries": raw_retries,
            "requests": raw_phase.to_json(),
            "requests_per_1000_rows": per_1000(raw_phase, max(raw_terminals, 1)),
        },
        "bare_transactions": {
            "seconds": round(bare_s, 4),
            "transactions": bare_count,
            "writers": WRITERS,
            "terminals_per_transaction": TX_ROWS,
            "terminals_per_s": round(bare_terms_s, 2),
            "requests": bare_phase.to_json(),
        },
        "raw_vs_import_terminals_per_s": round(raw_terms_s / import_terms_s, 3) if import_terms_s else None,
        # The import's floor here, as the target reads it: its transactions alone ÷ raw BatchWriteItem.
        "bare_tx_vs_raw_terminals_per_s": round(bare_terms_s / raw_terms_s, 3) if raw_terms_s else None,
        "import_vs_bare_tx_terminals_per_s": round(import_terms_s / bare_terms_s, 3) if bare_terms_s else None,
        "warnings": warnings,
    }


# --- summary ----------------------------------------------------------------------------------------
def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    def med(*path: str) -> float:
        vals = []
        for r in results:
            v: Any = r
            for p in path:
                v = v[p]
            vals.append(float(v))
        return round(median(vals), 4)

    def med_ops(section: str) -> dict[str, float]:
        ops = sorted({op for r in results for op in r[section]["requests_per_1000_rows"]}, key=_op_order)
        return {
            op: round(median([r[section]["requests_per_1000_rows"].get(op, 0.0) for r in results]), 2) for op in ops
        }

    def med_phase(section: str, key: str) -> float:
        return round(median([float(r[section]["requests"][key]) for r in results]), 4)

    out: dict[str, Any] = {
        "first_import_seconds": med("first_import", "seconds"),
        "first_import_rows_per_s": med("first_import", "rows_per_s"),
        "first_import_terminals_per_s": med("first_import", "terminals_per_s"),
        "re_import_seconds": med("re_import", "seconds"),
        "re_import_rows_per_s": med("re_import", "rows_per_s"),
        "raw_seconds": med("raw_batch_write", "seconds"),
        "raw_terminals_per_s": med("raw_batch_write", "terminals_per_s"),
        "raw_vs_import_terminals_per_s": med("raw_vs_import_terminals_per_s"),
        "bare_tx_seconds": med("bare_transactions", "seconds"),
        "bare_tx_terminals_per_s": med("bare_transactions", "terminals_per_s"),
        "bare_tx_shape": {"terminals_per_transaction": TX_ROWS, "writers": WRITERS},
        "bare_tx_vs_raw_terminals_per_s": med("bare_tx_vs_raw_terminals_per_s"),
        "import_vs_bare_tx_terminals_per_s": med("import_vs_bare_tx_terminals_per_s"),
        "requests_per_1000_rows": {s: med_ops(s) for s in ("first_import", "re_import", "raw_batch_write")},
        "first_import_capacity_per_1000_rows_by_op": {
            op: round(median([r["first_import"]["capacity_per_1000_rows"].get(op, 0.0) for r in results]), 2)
            for op in sorted({op for r in results for op in r["first_import"]["capacity_per_1000_rows"]}, key=_op_order)
        },
    }
    for section in ("first_import", "re_import", "raw_batch_write"):
        rows = [r["rows"] if section != "raw_batch_write" else r["raw_batch_write"]["terminals"] for r in results]
        out[f"{section}_capacity_per_1000_rows"] = round(
            median(
                [r[section]["requests"]["consumed_capacity"] * 1000 / n for r, n in zip(results, rows, strict=True)]
            ),
            2,
        )
        out[f"{section}_share_in_ddb_calls"] = round(
            median([r[section]["requests"]["seconds_in_calls"] / r[section]["seconds"] for r in results]), 3
        )
        out[f"{section}_clients_created"] = med_phase(section, "botocore_clients_created")
        out[f"{section}_share_creating_clients"] = round(
            median([r[section]["requests"]["client_create_seconds"] / r[section]["seconds"] for r in results]), 3
        )
    return out


_op_order = op_sort_key(OPS_ORDER)


SECTIONS = ("first_import", "re_import", "raw_batch_write")


def _line(label: str, cells: list[str]) -> str:
    return f"{label:42}{cells[0]:>14}{cells[1]:>14}{cells[2]:>16}"


def print_table(summary: dict[str, Any], rows: int, repeats: int, per_repeat: list[dict[str, Any]]) -> None:
    s = summary

    def row(label: str, keys: list[str | None], fmt: str) -> None:
        print(_line(label, [format(s[k], fmt) if k else "-" for k in keys]))

    def per_section(label: str, suffix: str, fmt: str) -> None:
        row(label, [f"{sec}_{suffix}" for sec in SECTIONS], fmt)

    print()
    print(f"Fleet CSV import vs raw BatchWriteItem — DynamoDB Local in memory, {rows} rows, median of {repeats}")
    print()
    print(_line("", ["first import", "re-import", "raw BatchWrite"]))
    row("wall time (s)", ["first_import_seconds", "re_import_seconds", "raw_seconds"], ".2f")
    row("file rows/s", ["first_import_rows_per_s", "re_import_rows_per_s", None], ".1f")
    row("terminals written/s", ["first_import_terminals_per_s", None, "raw_terminals_per_s"], ".1f")
    per_section("capacity units / 1,000 rows (DDB Local)", "capacity_per_1000_rows", ".1f")
    per_section("share of wall time in DDB calls", "share_in_ddb_calls", ".0%")
    per_section("share of wall time creating clients", "share_creating_clients", ".0%")
    per_section("botocore clients created", "clients_created", ".0f")
    ratio = s["raw_vs_import_terminals_per_s"]
    print()
    print(f"raw BatchWriteItem writes the same terminal + 3 claim items {ratio:.1f}x faster than the import")
    print(
        f"the import's transactions alone (same items, {TX_ROWS} terminals each, {WRITERS} at once): "
        f"{s['bare_tx_terminals_per_s']:.1f} terminals/s, "
        f"{s['bare_tx_vs_raw_terminals_per_s']:.3f}x raw BatchWriteItem "
        f"(the import reaches {s['import_vs_bare_tx_terminals_per_s']:.3f}x of them)"
    )
    print()
    per = s["requests_per_1000_rows"]
    ops = sorted({op for section in per.values() for op in section}, key=_op_order)
    print(_line("requests per 1,000 rows", ["first import", "re-import", "raw BatchWrite"]))
    for op in ops:
        print(_line("  " + op, [f"{per[sec].get(op, 0.0):.1f}" for sec in SECTIONS]))
    print(_line("  total", [f"{sum(per[sec].values()):.1f}" for sec in SECTIONS]))
    print("(raw BatchWrite column: per 1,000 terminals written)")
    print()
    print_repeats(
        per_repeat,
        [
            ("first import", lambda r: r["first_import"]["seconds"], ".1f"),
            ("re-import", lambda r: r["re_import"]["seconds"], ".1f"),
            ("raw", lambda r: r["raw_batch_write"]["seconds"], ".1f"),
            ("bare tx", lambda r: r["bare_transactions"]["seconds"], ".1f"),
        ],
    )


# --- main ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="data rows in the CSV (default 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements; medians are printed (default 3)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for one import (default 3600)")
    parser.add_argument("--out", type=Path, default=OUT / "import.json", help="JSON file with every raw figure")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 100_000:
        parser.error("--rows must be between 1 and 100000 (the import's row limit)")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    handle_signals()
    counter = RequestCounter(count_clients=True)
    started_at = datetime.now(UTC)
    try:
        with local_stack("dynamodb-local.log", TABLE) as (client, svc), counter.installed():
            results = [measure(svc, client, counter, args.rows, r, args.timeout) for r in range(args.repeats)]
    except KeyboardInterrupt:
        print("\ninterrupted; DynamoDB Local stopped", file=sys.stderr)
        return 130

    summary = summarize(results)
    print_table(summary, args.rows, args.repeats, results)
    write_figures(
        args.out,
        {
            "benchmark": "fleet CSV import vs raw BatchWriteItem",
            "started_at": started_at.isoformat(),
            "settings": {"rows": args.rows, "repeats": args.repeats, "bad_fraction": 0.01, "table": TABLE},
            "environment": environment(),
            "medians": summary,
            "repeats": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
