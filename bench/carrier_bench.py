"""Carrier sync cost: carrier platform requests and DynamoDB writes per 1,000 SIMs synced.

    .venv/bin/python -m bench.carrier_bench --sims 10000 --out bench/out/carrier.json

One agent with N terminals of one carrier, connected to the local carrier platform
(infra/local_carrier.py, Control Center shapes, page size 50), every SIM with usage. Measured:
the first sync (every status and usage read, every record written), a daily sync where 1 % of the
SIMs used more data and 0.1 % changed status behind our back, and a sync where nothing changed.
DynamoDB calls are counted by bench.common.RequestCounter; carrier requests by the platform.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.common import RequestCounter, dynamodb_local, local_services, table_client, write_json

TABLE = "simrenew-bench-carrier"
WRITE_OPS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
MIB = 1_048_576


def _terminals(svc: Any, tenant_id: str, n: int) -> list[Any]:
    from simrenew.domain.fleet import Terminal, TerminalStatus
    from simrenew.domain.identifiers import luhn_check_digit

    expires = date.today() + timedelta(days=200)
    made = []
    for i in range(n):
        body = f"898600{i + 5_000_000:013d}"[:19]
        made.append(
            Terminal(
                tenant_id,
                f"CB-{i:08d}",
                f"{70_000_000 + i}",
                body + luhn_check_digit(body),
                "CMCC",
                "PAX",
                expires,
                TerminalStatus.INVENTORY,
                data_quota_mb=1024,
            )
        )
    now = svc.clock.now()
    for start in range(0, n, 25):
        svc.fleet.terminals.register_many(made[start : start + 25], now)
    return made


def _sync(svc: Any, counter: RequestCounter, tenant_id: str, carrier: Any, name: str) -> dict[str, Any]:
    before = carrier("GET", "/_sim/stats")["requests"]
    started = time.perf_counter()
    with counter.phase(name) as phase:
        stats = svc.carrier_sync.run(tenant_id)[0]
    seconds = time.perf_counter() - started
    calls = phase.to_json()["calls"]
    writes = sum(calls.get(op, 0) for op in WRITE_OPS)
    n = max(1, stats["sims"])
    return {
        "seconds": round(seconds, 2),
        "sims": stats["sims"],
        "carrier_requests": carrier("GET", "/_sim/stats")["requests"] - before,
        "status_requests": stats["status_requests"],
        "usage_requests": stats["usage_requests"],
        "dynamodb_calls": phase.total_calls(),
        "dynamodb_writes": writes,
        "dynamodb_calls_by_op": calls,
        "sim_writes": stats["sim_writes"],
        "usage_writes": stats["usage_writes"],
        "per_1000": {
            "carrier_requests": round(1000 * stats["carrier_requests"] / n, 1),
            "dynamodb_writes": round(1000 * writes / n, 1),
            "dynamodb_calls": round(1000 * phase.total_calls() / n, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from infra.processes import free_port, start_local_carrier, stop

    key = "cck_bench_" + os.urandom(6).hex()
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="carrier-bench-"))
    base = f"http://127.0.0.1:{port}"
    user = "bench-agent"

    def carrier(method: str, path: str, body: Any = None) -> Any:
        r = requests.request(method, base + path, json=body, auth=(user, key), timeout=120)
        r.raise_for_status()
        return r.json()

    with dynamodb_local("bench-carrier-dynamodb.log") as endpoint, (tmp / "carrier.log").open("ab") as log:
        proc = start_local_carrier(port, tmp / "state.json", log, key)
        try:
            table_client(endpoint, TABLE)
            svc = local_services(TABLE, endpoint, {"CARRIER_SECRETS_FILE": str(tmp / "secrets.json")})
            tenant, _issued = svc.tenants.create_active(
                {
                    "name": "Bench Agent",
                    "contact_name": "B",
                    "contact_email": "b@example.com",
                    "contact_phone": "13800000000",
                }
            )
            terminals = _terminals(svc, tenant.tenant_id, args.sims)
            shipped = "2026-01-01T00:00:00+00:00"  # the SIMs last changed at the carrier long before
            devices = [
                {"iccid": t.iccid, "bytes": (i % 700) * MIB + 1, "date_updated": shipped}
                for i, t in enumerate(terminals)
            ]
            for start in range(0, len(devices), 2000):
                carrier("POST", "/_sim/devices", {"devices": devices[start : start + 2000]})
            svc.carrier_accounts.create(
                tenant.tenant_id,
                {"carrier": "CMCC", "platform": "control_center", "base_url": base, "username": user, "api_key": key},
            )
            with RequestCounter().installed() as counter:
                first = _sync(svc, counter, tenant.tenant_id, carrier, "first")
                for t in terminals[::100]:
                    carrier("POST", f"/_sim/devices/{t.iccid}/usage", {"bytes": 5 * MIB})
                for t in terminals[7::1000]:
                    carrier("PUT", f"/rws/api/v1/devices/{t.iccid}", {"status": "DEACTIVATED"})
                daily = _sync(svc, counter, tenant.tenant_id, carrier, "daily")
                unchanged = _sync(svc, counter, tenant.tenant_id, carrier, "unchanged")
        finally:
            stop(proc)
    result = {"sims": args.sims, "page_size": 50, "first": first, "daily": daily, "unchanged": unchanged}
    write_json(args.out, result)
    for name in ("first", "daily", "unchanged"):
        r = result[name]
        print(
            f"{name:>9}: {r['carrier_requests']} carrier requests, {r['dynamodb_writes']} DynamoDB writes "
            f"({r['per_1000']['carrier_requests']} and {r['per_1000']['dynamodb_writes']} per 1,000 SIMs), "
            f"{r['seconds']} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
