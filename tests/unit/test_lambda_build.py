"""Our code's builds (infra/lambda_build.py, the Makefiles `sam build` runs): every module of the
simrenew layer and the api ships its bytecode, compiled for the runtime and checked against its
source; the other functions ship their one app.py as SAM's Python builder does."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import lambda_build
from infra.template_check import parse

ROOT = Path(__file__).resolve().parents[2]


def test_the_build_names_every_function_of_the_template_by_its_folder() -> None:
    resources = parse((ROOT / "template.yaml").read_text())["Resources"]
    in_template = {
        str(r["Properties"]["CodeUri"]).removeprefix("functions/").rstrip("/"): name
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert in_template == lambda_build.FUNCTIONS
    assert resources[lambda_build.LAYER[1]]["Properties"]["ContentUri"] == f"{lambda_build.LAYER[0]}/"


def test_every_built_module_has_checked_bytecode_for_this_python(tmp_path: Path) -> None:
    built = lambda_build.build_code(tmp_path)
    made = [name for name in built if name == "layer" or (ROOT / "functions" / name / "Makefile").exists()]
    assert made == ["layer", "api"]  # the others are one small app.py each, shipped as it is
    sources = [p for name in made for p in built[name].rglob("*.py")]
    assert len(sources) > 100 and built["api"] / "app.py" in sources
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.exists(), f"{source} ships without {cached.name}"
        flags = int.from_bytes(cached.read_bytes()[4:8], "little")
        assert flags == 0b11, f"{cached}: not a checked-hash .pyc (flags {flags:#b})"  # hash-based, checked
    assert sys.implementation.cache_tag == "cpython-311"
    # Nothing of the source tree's own caches is shipped (a build copies files, then compiles).
    assert not list(built["layer"].rglob("*.egg-info"))
    for name in set(built) - set(made):
        assert sorted(p.name for p in built[name].iterdir()) == ["app.py"], name


# --- the packages layer (shared/packages/Makefile), offline: wheels made here, no index ---------------
def _wheel(folder: Path, name: str, tag: str) -> None:
    """A minimal wheel of `name` 1.0 (one module, VALUE = 1) tagged `tag`, as an index serves it."""
    dist = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist}/RECORD"])
    with zipfile.ZipFile(folder / f"{name}-1.0-{tag}.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)


def _build_packages(tmp_path: Path, requirement: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "requirements.txt").write_text(f"{requirement}==1.0\n")
    flags = f"--no-index --find-links {tmp_path / 'index'} --disable-pip-version-check"
    env = {**os.environ, "ARTIFACTS_DIR": str(tmp_path / "out"), "PYTHON": sys.executable}
    args = [f"REQUIREMENTS={tmp_path / 'requirements.txt'}", f"PIP_FLAGS={flags}"]
    command = ["make", "-s", "-C", str(ROOT / "shared" / "packages"), "build-PackagesLayer", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def test_the_packages_layer_installs_lambdas_wheels_with_checked_bytecode(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    _wheel(tmp_path / "index", "purepkg", "py3-none-any")
    _wheel(tmp_path / "index", "nativepkg", "cp311-cp311-manylinux2014_x86_64")  # this machine's, not Lambda's
    done = _build_packages(tmp_path, "purepkg")
    assert done.returncode == 0, done.stderr
    module = tmp_path / "out" / "python" / "purepkg" / "__init__.py"
    cached = Path(importlib.util.cache_from_source(str(module)))
    assert cached.exists() and int.from_bytes(cached.read_bytes()[4:8], "little") == 0b11
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["python"]  # the wheels made on the way are gone
    # A package with native code is taken only as Lambda's arm64 wheel: this machine's x86_64 one is refused.
    refused = _build_packages(tmp_path, "nativepkg")
    assert refused.returncode != 0 and "nativepkg" in refused.stderr
