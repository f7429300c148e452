"""Shared by every suite: `shared/` (the simrenew package) and the repo root on sys.path, and the
suites' markers by their folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "shared"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# The suites marked by their folder (the markers in pyproject.toml).
SUITES = ("integration", "e2e", "deploy")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for suite in SUITES:
            if f"tests/{suite}" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, suite))
