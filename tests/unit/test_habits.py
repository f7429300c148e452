"""No function in shared/ or functions/ is over 60 lines (ruff's C901 keeps each under 12 paths)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 60


def _long_functions() -> dict[str, int]:
    found = {}
    for top in ("shared", "functions"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_LINES:
                        found[f"{path.relative_to(ROOT)}:{node.name}"] = length
    return found


def test_no_function_is_over_60_lines() -> None:
    assert _long_functions() == {}, "split these (a function reads best under 60 lines)"
