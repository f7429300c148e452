"""Cold import time of each function's module next to `import boto3` (medians, one run).

Each sample is a fresh interpreter (`python -c "import app"` in the function's folder),
interleaved with the boto3 baseline so machine noise hits both alike. The services are built on
first use (simrenew/bootstrap.py), so each function is measured twice: `import app` alone, and
`import app` plus the services its first request builds (no request is sent): the public
look-up's for `api`, fulfilment's for `webhook`, the import's for `worker`, the run's for `sweep`.

    .venv/bin/python -m bench.cold_import [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT, environment, median, write_figures

ENV = {
    "SIMRENEW_ENV": "local",
    "TABLE_NAME": "bench",
    "AWS_REGION": "us-east-1",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "SIMRENEW_PLATFORM_KEY": "bench-platform-key-000000000000",
    "PYTHONPATH": str(ROOT / "shared"),
}
TARGETS = {
    "boto3": (ROOT, "import boto3"),
    "api": (ROOT / "functions/api", "import app"),
    "worker": (ROOT / "functions/worker", "import app"),
    "webhook": (ROOT / "functions/webhook", "import app"),
    "sweep": (ROOT / "functions/sweep", "import app"),
    "api + look-up": (ROOT / "functions/api", "import app; app.services().orders"),
    "webhook + fulfilment": (ROOT / "functions/webhook", "import app; app.services().orders"),
    "worker + import": (ROOT / "functions/worker", "import app; app.services().imports"),
    "sweep + run": (ROOT / "functions/sweep", "import app; app.services().sweep_runs"),
}


def sample(cwd: Path, code: str) -> float:
    env = {**os.environ, **ENV}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per module (default 5)")
    parser.add_argument("--out", type=Path, default=OUT / "cold_import.json", help="JSON file with every raw figure")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started_at = datetime.now(UTC)
    for cwd, code in TARGETS.values():  # warm the OS file cache once; measure what Python does
        sample(cwd, code)
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    for _ in range(args.runs):
        for name, (cwd, code) in TARGETS.items():
            times[name].append(sample(cwd, code))
    base = median(times["boto3"])
    print(f"cold import, median of {args.runs} fresh interpreters (python -c 'import ...')")
    print(f"{'module':<22} {'median ms':>10} {'vs boto3':>9}")
    result: dict[str, Any] = {}
    for name, values in times.items():
        med = median(values)
        result[name] = {"median_s": med, "samples_s": values, "ratio_to_boto3": med / base}
        print(f"{name:<22} {med * 1000:>10.1f} {med / base:>8.2f}x")
    write_figures(
        args.out,
        {
            "benchmark": "cold import of each function's module vs import boto3",
            "started_at": started_at.isoformat(),
            "settings": {"runs": args.runs},
            "environment": environment(),
            "modules": result,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
