"""Our code's builds (infra/lambda_build.py, the Makefiles `sam build` runs): every module of the
simrenew layer and the api ships its bytecode, compiled for the runtime and checked against its
source; the other functions ship their one app.py as SAM's Python builder does."""

from __future__ import annotations

import importlib.util
import sys
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
