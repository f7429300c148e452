"""Benchmark of a fleet import through the presigned path (issue 19), against DynamoDB Local and moto's
S3 server (both in memory, on free 127.0.0.1 ports, started and stopped here).

1. `ImportService.create_upload` answers the presigned PUT; the file's bytes are PUT to it over HTTP
   (timed: upload MB/s);
2. the worker function runs in a fresh interpreter, as Lambda would, on the S3 event of that object
   (timed: rows/s from the event to `done`) and reports its memory high-water mark (ru_maxrss) and
   the same figure taken just before the event (the interpreter with boto3, PynamoDB and the
   services loaded), so the import's own share is the difference;
3. beside it, another fresh interpreter only reads the same file whole and parses it with
   `parse_import` (what the body path does with its ≤ 5 MB): its high-water mark for comparison.

    .venv/bin/python -m bench.upload_bench [--rows 100000]

Not a test: nothing here asserts on time. Count mismatches are printed as warnings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import OUT, dynamodb_local, environment, handle_signals, local_services, table_client, write_json
from bench.import_bench import PLAN_NAME, TABLE, make_csv

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "simrenew-bench-uploads"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def child_worker(event_file: Path) -> None:
    """In a fresh interpreter: the worker function's handler on the S3 event in event_file."""
    sys.path[:0] = [str(ROOT / "functions" / "worker"), str(ROOT / "shared")]
    from infra.localserver import LocalContext, load_function_module

    worker = load_function_module("worker")
    worker.services()  # built before the event: its memory is the baseline
    before = rss_mb()
    event = json.loads(event_file.read_text())
    started = time.perf_counter()
    result = worker.handler(event, LocalContext())
    elapsed = time.perf_counter() - started
    print(json.dumps({"result": result, "seconds": elapsed, "rss_before_mb": before, "rss_peak_mb": rss_mb()}))


def child_whole(path: Path) -> None:
    """In a fresh interpreter: the file read whole and parsed at once (the body path's way)."""
    sys.path[:0] = [str(ROOT / "shared")]
    from simrenew.domain.csvfile import parse_import

    before = rss_mb()
    parsed = parse_import(path.read_bytes(), max_rows=10**7)
    print(json.dumps({"rows": parsed.total, "rss_before_mb": before, "rss_peak_mb": rss_mb()}))


def _run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.upload_bench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows in the CSV (default 100000)")
    parser.add_argument("--out", type=Path, default=OUT / "upload.json", help="JSON file with every raw figure")
    parser.add_argument("--child", choices=("worker", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "worker":
        child_worker(args.file)
        return 0
    if args.child == "whole":
        child_whole(args.file)
        return 0
    handle_signals()
    import requests

    from infra.processes import free_port, stop
    from infra.s3_local import ensure_bucket, start_local_s3

    warnings: list[str] = []
    bench_file = make_csv(args.rows, repeat=7)
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / "upload-bench.csv"
    csv_path.write_bytes(bench_file.data)
    s3_port = free_port()
    with (OUT / "upload-s3.log").open("ab") as s3_log:
        s3 = start_local_s3(s3_port, s3_log)
        try:
            s3_endpoint = f"http://127.0.0.1:{s3_port}"
            ensure_bucket(s3_endpoint, BUCKET, "http://127.0.0.1:8000", with_events=False)
            with dynamodb_local("upload-dynamodb.log") as ddb_endpoint:
                table_client(ddb_endpoint, TABLE)
                extra = {"S3_ENDPOINT": s3_endpoint, "UPLOADS_BUCKET": BUCKET}
                svc = local_services(TABLE, ddb_endpoint, extra)
                tenant, _ = svc.tenants.create_active(
                    {
                        "name": "Upload Bench",
                        "contact_name": "王",
                        "contact_email": "u@example.com",
                        "contact_phone": "13800138000",
                    }
                )
                tid = tenant.tenant_id
                svc.fleet.create_plan(
                    tid, {"name": PLAN_NAME, "term_months": 12, "data_quota_mb": 1024, "price_fen": 12000}
                )
                answer = svc.imports.create_upload(
                    tid, {"filename": "fleet.csv", "size_bytes": len(bench_file.data)}, "bench"
                )
                up = answer["upload"]
                started = time.perf_counter()
                put = requests.put(up["url"], data=bench_file.data, headers=up["headers"], timeout=600)
                upload_s = time.perf_counter() - started
                if put.status_code != 200:
                    raise RuntimeError(f"PUT answered {put.status_code}: {put.text[:300]}")
                key = f"uploads/{tid}/{answer['import_id']}"
                event = {
                    "Records": [
                        {
                            "eventSource": "aws:s3",
                            "eventName": "ObjectCreated:Put",
                            "s3": {
                                "bucket": {"name": BUCKET},
                                "object": {"key": key, "size": len(bench_file.data), "eTag": "x"},
                            },
                        }
                    ]
                }
                event_file = OUT / "upload-event.json"
                event_file.write_text(json.dumps(event))
                env = {
                    **os.environ,
                    "SIMRENEW_ENV": "local",
                    "TABLE_NAME": TABLE,
                    "AWS_REGION": "us-east-1",
                    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
                    "SIMRENEW_PLATFORM_KEY": "srp_bench-platform-key-0000000000000000",
                    "DDB_ENDPOINT": ddb_endpoint,
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                    "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")]),
                    **extra,
                }
                print(
                    f"importing {args.rows:,} rows ({len(bench_file.data) / 1e6:.1f} MB) through the worker ...",
                    flush=True,
                )
                worker = _run_child(["--child", "worker", "--file", str(event_file)], env)
                status = svc.imports.status(tid, answer["import_id"])
                if status["status"] != "done" or status["processed"] != args.rows:
                    warnings.append(f"import ended {status['status']} at {status['processed']}: {status['message']}")
                if status["failed"] != len(bench_file.bad):
                    warnings.append(f"failed rows {status['failed']}, expected {len(bench_file.bad)}")
                whole = _run_child(["--child", "whole", "--file", str(csv_path)], env)
        finally:
            stop(s3)
    mb = len(bench_file.data) / 1e6
    report = {
        "environment": environment(),
        "parameters": {"rows": args.rows},
        "file_mb": mb,
        "upload_seconds": upload_s,
        "upload_mb_per_s": mb / upload_s if upload_s else None,
        "import_seconds": worker["seconds"],
        "import_rows_per_s": args.rows / worker["seconds"],
        "worker_rss_before_mb": worker["rss_before_mb"],
        "worker_rss_peak_mb": worker["rss_peak_mb"],
        "worker_rss_import_mb": worker["rss_peak_mb"] - worker["rss_before_mb"],
        "whole_file_parse_rss_peak_mb": whole["rss_peak_mb"],
        "whole_file_parse_rss_added_mb": whole["rss_peak_mb"] - whole["rss_before_mb"],
        "status": {k: status[k] for k in ("status", "total", "processed", "created", "failed")},
        "warnings": warnings,
    }
    write_json(args.out, report)
    print(
        f"\npresigned import of {args.rows:,} rows ({mb:.1f} MB): upload {report['upload_mb_per_s']:.1f} MB/s; "
        f"worker {report['import_rows_per_s']:.0f} rows/s ({worker['seconds']:.0f} s); worker memory high-water mark "
        f"{worker['rss_peak_mb']:.0f} MB ({report['worker_rss_import_mb']:.0f} MB above its "
        f"{worker['rss_before_mb']:.0f} MB "
        f"before the event); the same file parsed whole: +{report['whole_file_parse_rss_added_mb']:.0f} MB"
    )
    for w in warnings:
        print(f"WARNING: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
