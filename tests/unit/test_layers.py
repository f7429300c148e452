"""Ports and adapters (issue 14): the services speak to storage and providers only through the
Protocols of simrenew.ports, in domain types. No module of simrenew/services/ imports pynamodb or
simrenew.adapters (not even inside a function), and no port imports an adapter or a service.
Every service module is held to it: there is no allowlist.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "simrenew"
FORBIDDEN_IN_SERVICES = ("pynamodb", "simrenew.adapters")
FORBIDDEN_IN_PORTS = ("pynamodb", "simrenew.adapters", "simrenew.services", "boto3", "stripe")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from simrenew import adapters` names the package in the alias.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _forbidden(path: Path, forbidden: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, module) of each forbidden import: the shortest forbidden name of each import line."""
    by_line: dict[int, str] = {}
    for line, name in _imports(path):
        if any(name == f or name.startswith(f + ".") for f in forbidden):
            by_line[line] = min(by_line.get(line, name), name, key=len)
    return sorted(by_line.items())


def _offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {name}" for line, name in _forbidden(path, forbidden)]


def _service_modules() -> list[Path]:
    return sorted((PACKAGE / "services").glob("*.py"))


def test_services_import_no_adapter_and_no_pynamodb() -> None:
    bad = [line for path in _service_modules() for line in _offending(path, FORBIDDEN_IN_SERVICES)]
    assert bad == [], "a service speaks to a port (simrenew.ports), never to an adapter or to PynamoDB"


def test_ports_import_no_adapter_no_service_and_no_sdk() -> None:
    bad = [line for path in sorted((PACKAGE / "ports").glob("*.py")) for line in _offending(path, FORBIDDEN_IN_PORTS)]
    assert bad == [], "a port speaks domain types only; adapters implement it, services use it"


def test_the_check_sees_lazy_and_package_imports_and_lets_ports_through(tmp_path: Path) -> None:
    # The detector itself: an adapter imported inside a function, or named as `from simrenew import
    # adapters`, or pynamodb under TYPE_CHECKING, is still an import; simrenew.ports is not refused.
    module = tmp_path / "svc.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from simrenew.ports.orders import Orders\n"
        "from simrenew import adapters\n"
        "if TYPE_CHECKING:\n"
        "    import pynamodb.exceptions\n"
        "def f():\n"
        "    from simrenew.adapters.dynamodb.models import OrderItem\n"
        "    return OrderItem\n"
    )
    assert [name for _line, name in _forbidden(module, FORBIDDEN_IN_SERVICES)] == [
        "simrenew.adapters",
        "pynamodb.exceptions",
        "simrenew.adapters.dynamodb.models",
    ]
