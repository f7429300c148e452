"""Cold start (issue 17): a fresh `api` container imports only what its first route needs.

Counts of modules, not times (times are in `make bench`, bench/cold_import.py). Each case is a
fresh interpreter, as a new Lambda container is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "SIMRENEW_ENV": "local",
    "TABLE_NAME": "cold-start",
    "AWS_REGION": "us-east-1",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "SIMRENEW_PLATFORM_KEY": "cold-start-platform-key-0000000000",
    "PYTHONPATH": str(ROOT / "shared"),
}
# Never needed to answer the public look-up or to build the order service.
NOT_FOR_THE_LOOKUP = (
    "simrenew.services.sweep",
    "simrenew.services.sweep_runs",
    "simrenew.services.exports",
    "simrenew.services.reports",
    "simrenew.services.imports",
    "simrenew.services.listing",
    "simrenew.services.carrier",
    "simrenew.adapters.carrier.http",
    "simrenew.adapters.notify",
    "stripe",
    "openpyxl",
    "segno",
    "pypinyin",
    "OpenSSL",
)


def _modules_after(function: str, code: str) -> set[str]:
    probe = f"{code}; import json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions" / function,
        env={**os.environ, **ENV},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_the_api_container_builds_only_what_the_public_lookup_needs() -> None:
    loaded = _modules_after("api", "import app; app.services().orders")
    assert "simrenew.services.checkout" in loaded  # the look-up itself is there
    assert sorted(m for m in NOT_FOR_THE_LOOKUP if m in loaded) == []


def test_importing_the_api_wires_no_service_until_a_request_asks() -> None:
    loaded = _modules_after("api", "import app")
    assert [m for m in loaded if m.startswith("simrenew.services.") and m != "simrenew.services.auth"] == []


def test_the_sweep_container_does_not_import_the_payment_rails() -> None:
    loaded = _modules_after("sweep", "import app; app.services().sweep_runs")
    assert "simrenew.services.sweep" in loaded
    assert sorted(m for m in ("stripe", "simrenew.services.checkout", "OpenSSL", "openpyxl") if m in loaded) == []
