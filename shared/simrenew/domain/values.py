"""Small helpers for the domain's frozen values: their JSON shape named once, field by field."""

from __future__ import annotations

from typing import Any


def json_of(value: object, *names: str) -> dict[str, Any]:
    """`{name: value.name}` for each name, in the order given (the order the API answers in)."""
    return {name: getattr(value, name) for name in names}
