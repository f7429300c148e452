"""What a domain rule made of an input, for properties over generated input: its value, or None when it
refused the input with the domain ValidationError (checked against the codes and the field it may use). Any other
exception propagates: a rule must never crash on what a client can send."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from simrenew.errors import ValidationError

T = TypeVar("T")


def value_or_refusal(rule: Callable[[], T], *, codes: set[str] | None = None, field: str | None = None) -> T | None:
    """`rule()`'s value, or None when it raised a ValidationError (with one of `codes` and naming `field`,
    those given)."""
    try:
        return rule()
    except ValidationError as exc:
        assert codes is None or exc.code in codes, exc
        assert field is None or exc.field == field, exc
        return None
