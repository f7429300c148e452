"""Our code as `sam build` builds it. The simrenew layer (shared/) and the api function have a
Makefile (template.yaml, `BuildMethod: makefile`): `make build-<LogicalId>` in the folder with
ARTIFACTS_DIR set copies the files and compiles their bytecode (shared/Makefile says why). The
other functions are one small app.py each (compiled in under 0.4 ms at a cold start), which
`sam build`'s Python builder ships as it is: the folder copied. The deployed-shape tier
(tests/deploy) and the cold-start benchmark (bench/cold_import.py) build with these same steps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ("shared", "SimRenewLayer")  # folder, logical id: unpacked into /opt/python
FUNCTIONS = {  # function folder -> its logical id in template.yaml
    "api": "ApiFunction",
    "webhook": "WebhookFunction",
    "sweep": "SweepFunction",
    "worker": "ImportWorkerFunction",
    "carrier_sync": "CarrierSyncFunction",
    "dispatcher": "DispatcherFunction",
}
# What SAM's Python builder leaves out of a copied folder (aws-lambda-builders' EXCLUDED_FILES).
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".aws-sam")


def make_target(folder: str, target: str, artifacts: Path, python: str = sys.executable) -> None:
    """`make <target>` in ROOT/folder into `artifacts`, compiling with `python` (a python3.11)."""
    env = {**os.environ, "ARTIFACTS_DIR": str(artifacts), "PYTHON": python}
    done = subprocess.run(["make", "-s", "-C", str(ROOT / folder), target], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"make {target} in {folder} failed:\n{done.stdout}{done.stderr}")


def build_folder(folder: str, logical_id: str, artifacts: Path) -> None:
    """One resource's code into `artifacts`: by its folder's Makefile where it has one, else the
    folder as it is (SAM's Python builder with no requirements.txt)."""
    if (ROOT / folder / "Makefile").exists():
        make_target(folder, f"build-{logical_id}", artifacts)
    else:
        shutil.copytree(ROOT / folder, artifacts, ignore=IGNORED, dirs_exist_ok=True)


def build_code(out: Path) -> dict[str, Path]:
    """The layer (out/layer, its python/ is /opt/python) and each function (out/<folder>, its
    /var/task). Returns the folder per name: "layer" and each function's folder name."""
    built = {"layer": out / "layer" / "python"}
    build_folder(LAYER[0], LAYER[1], out / "layer")
    for folder, logical_id in FUNCTIONS.items():
        build_folder(f"functions/{folder}", logical_id, out / folder)
        built[folder] = out / folder
    return built
