"""Opaque list cursors: DynamoDB's LastEvaluatedKey, base64url JSON, checked on the way back in."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from simrenew.errors import ValidationError
from simrenew.ports.paging import Page as Page

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, hash_attr: str, hash_value: str) -> dict[str, Any] | None:
    """Turn a cursor back into an ExclusiveStartKey, refusing one minted for another list."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
        for k, v in data.items()
    ):
        raise ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned")
    if data.get(hash_attr, {}).get("S") != hash_value:
        raise ValidationError("cursor", "invalid_cursor", "cursor belongs to another list")
    # Exactly the keys DynamoDB hands back: the table's, plus the index's when listing an index.
    expected = {"pk", "sk"} if hash_attr == "pk" else {"pk", "sk", hash_attr, hash_attr[:-2] + "sk"}
    if set(data) != expected:
        raise ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned")
    return data


def query_page(
    query: Callable[..., Any],
    hash_value: str,
    cursor: str | None,
    convert: Callable[[Any], T],
    *,
    hash_attr: str = "pk",
    kind: type | None = None,
    **query_args: Any,
) -> Page[T]:
    """One page of a list: `query` (a model's or an index's) of the partition `hash_value` from the
    cursor (checked to be this list's), the items (those of `kind`, when given) converted, and the
    cursor of what follows."""
    start = decode_cursor(cursor, hash_attr=hash_attr, hash_value=hash_value)
    result = query(hash_value, last_evaluated_key=start, **query_args)
    items = [convert(i) for i in result if kind is None or isinstance(i, kind)]
    return Page(items, encode_cursor(result.last_evaluated_key))


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    # ASCII digits and a bounded length: str.isdigit() also accepts "¹" or "٣", which int() refuses or
    # misreads, and int() refuses more than 4300 digits (each was a 500, found by fuzzing).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError("limit", "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)
