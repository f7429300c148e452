"""Copies between stored items and domain values, written once instead of field by field.

`from_item(item, Merchant, created_at=...)` builds the domain dataclass from the item's attributes of
the same names; the keyword overrides are the fields that convert (a datetime to ISO text, a number
to int). `attrs_of(value, "name", ...)` is the other way: the keyword arguments an item is built from.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_item(item: object, cls: type[T], **overrides: Any) -> T:
    """The dataclass `cls` with every field read from `item` under its own name, unless overridden."""
    names = [f.name for f in fields(cls) if f.init and f.name not in overrides]  # type: ignore[arg-type]
    return cls(**{name: getattr(item, name) for name in names}, **overrides)


def attrs_of(value: object, *names: str) -> dict[str, Any]:
    """`{name: value.name}` for each name: the attributes an item is built from."""
    return {name: getattr(value, name) for name in names}
