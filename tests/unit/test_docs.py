"""The design written down stays true: the layers point one way, every served route is in the
contract (docs/api.md), the README is a quickstart, and no document cites a file that is not there."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "simrenew"
README_LIMIT_BYTES = 14 * 1024
# Made by a command, never committed (.gitignore): a document may name them.
# Build output (make ui writes the OpenAPI document and the UI types generated from it).
GENERATED = (
    "bench/out",
    "frontend/dist",
    "frontend/node_modules",
    "frontend/openapi.json",
    "frontend/src/common/schema.d.ts",
    "screenshots",
    ".local",
)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _layer_violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if name.startswith(forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_the_domain_imports_no_adapter_service_or_storage_library() -> None:
    forbidden = ("simrenew.adapters", "simrenew.services", "simrenew.bootstrap", "pynamodb", "boto3", "botocore")
    assert _layer_violations("domain", forbidden) == []


def test_adapters_import_no_service() -> None:
    assert _layer_violations("adapters", ("simrenew.services", "simrenew.bootstrap")) == []


def test_nothing_in_the_package_imports_the_http_edge() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += [f"{path.name}: {n}" for n in _imports(path) if n.split(".")[0] in ("chalice", "chalicelib")]
    assert found == []


def _documented_routes() -> set[tuple[str, str]]:
    text = (ROOT / "docs" / "api.md").read_text()
    routes = set()
    for match in re.finditer(r"`((?:GET|POST|PATCH|PUT|DELETE)(?:/(?:GET|POST|PATCH|PUT|DELETE))*) (/[^`?\s]*)", text):
        for method in match.group(1).split("/"):
            routes.add((method, re.sub(r"\{[^}]+\}", "{}", match.group(2))))
    return routes


def test_every_served_route_is_in_the_api_contract(api_module: Any) -> None:
    documented = _documented_routes()
    served = [(spec.method, spec.path) for spec in api_module.api.specs]
    assert len(served) > 50
    missing = [f"{m} {p}" for m, p in served if (m, re.sub(r"\{[^}]+\}", "{}", p)) not in documented]
    assert missing == [], "add these to docs/api.md (never rename what is there)"


def test_the_readme_is_a_quickstart_and_a_map() -> None:
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) < README_LIMIT_BYTES, "move detail into docs/ (guide, operations) and link it"
    text = readme.decode()
    two_commands = text.index("## Two commands")
    assert text.index("make dev", two_commands) < text.index("make test", two_commands)
    for doc in ("docs/architecture.md", "docs/data-model.md", "docs/api.md", "docs/operations.md"):
        assert f"]({doc})" in text, f"the README's map links {doc}"


_DOCS = [
    "README.md",
    "pyproject.toml",
    "Makefile",
    "bench/README.md",
    *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
]
_REPO_PATH = re.compile(r"(?<![\w./-])((?:shared|functions|infra|tests|frontend|bench|docs|\.ci)/[\w./-]*[\w/])")


@pytest.mark.parametrize("doc", sorted(_DOCS))
def test_every_file_a_document_cites_exists(doc: str) -> None:
    text = (ROOT / doc).read_text()
    stale = []
    for match in _REPO_PATH.finditer(text):
        ref = match.group(1).rstrip("/.")
        if ref.startswith(GENERATED) or "*" in text[match.end() : match.end() + 1]:
            continue
        if not (ROOT / ref).exists():
            stale.append(ref)
    assert stale == []


def test_markdown_links_between_documents_resolve() -> None:
    broken = []
    for doc in ["README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]:
        base = (ROOT / doc).parent
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", (ROOT / doc).read_text()):
            if "://" not in target and not (base / target).exists():
                broken.append(f"{doc} → {target}")
    assert broken == []
