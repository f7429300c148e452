"""Cold import time of each function's module next to `import boto3` (medians, one run).

Each sample is a fresh interpreter (`python -c "import app"` in the function's folder),
interleaved with the boto3 baseline so machine noise hits both alike. The code is what Lambda
runs: each function and the simrenew layer built as `sam build` builds them (infra/lambda_build.py:
the layer's and the api's Makefile targets, the files and their bytecode) into a temporary folder, imported with
no bytecode written (Lambda's file system is read-only). The services are built on
first use (simrenew/bootstrap.py), so each function is measured twice: `import app` alone, and
`import app` plus the services its first request builds (no request is sent): the public
look-up's for `api`, fulfilment's for `webhook`, the import's for `worker`, the run's for `sweep`.
One more row, the api and look-up built without bytecode (how the functions shipped before
issue 17's Makefiles), shows what the .pyc files save.

    .venv/bin/python -m bench.cold_import [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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
    "PYTHONDONTWRITEBYTECODE": "1",
}
LOOK_UP = "import app; app.services().orders"
# name -> (function folder or None, code); the built function is the working directory and its
# layer the PYTHONPATH; "no bytecode" is the same build with every .pyc removed.
TARGETS: dict[str, tuple[str | None, str]] = {
    "boto3": (None, "import boto3"),
    "api": ("api", "import app"),
    "worker": ("worker", "import app"),
    "webhook": ("webhook", "import app"),
    "sweep": ("sweep", "import app"),
    "api + look-up": ("api", LOOK_UP),
    "webhook + fulfilment": ("webhook", "import app; app.services().orders"),
    "worker + import": ("worker", "import app; app.services().imports"),
    "sweep + run": ("sweep", "import app; app.services().sweep_runs"),
    "api + look-up, no bytecode": ("bare/api", LOOK_UP),
}


def build(out: Path) -> None:
    """Our code as `sam build` builds it, and the same without its bytecode beside it (out/bare)."""
    from infra.lambda_build import build_code

    build_code(out)
    shutil.copytree(out / "api", out / "bare" / "api", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(out / "layer", out / "bare" / "layer", ignore=shutil.ignore_patterns("__pycache__"))


def sample(built: Path, folder: str | None, code: str) -> float:
    layer = built / (folder.split("/")[0] if folder and "/" in folder else "") / "layer" / "python"
    env = {**os.environ, **ENV, "PYTHONPATH": str(layer)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=built / folder if folder else ROOT, env=env, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per module (default 5)")
    parser.add_argument("--out", type=Path, default=OUT / "cold_import.json", help="JSON file with every raw figure")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started_at = datetime.now(UTC)
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    with tempfile.TemporaryDirectory(prefix="simrenew-cold-") as tmp:
        built = Path(tmp)
        build(built)
        for folder, code in TARGETS.values():  # warm the OS file cache once; measure what Python does
            sample(built, folder, code)
        for _ in range(args.runs):
            for name, (folder, code) in TARGETS.items():
                times[name].append(sample(built, folder, code))
    base = median(times["boto3"])
    print(f"cold import, median of {args.runs} fresh interpreters (python -c 'import ...')")
    print(f"{'module':<28} {'median ms':>10} {'vs boto3':>9}")
    result: dict[str, Any] = {}
    for name, values in times.items():
        med = median(values)
        result[name] = {"median_s": med, "samples_s": values, "ratio_to_boto3": med / base}
        print(f"{name:<28} {med * 1000:>10.1f} {med / base:>8.2f}x")
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
