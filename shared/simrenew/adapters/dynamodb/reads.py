"""One item by its key, None where the table has none: the GetItem every repository sends.

The read stays the model's own (`item_or_none(OrderItem.get, pk, sk, consistent_read=True)`), so the
request is the one the caller names; only PynamoDB's DoesNotExist becomes None here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist

T = TypeVar("T")


def item_or_none(read: Callable[..., T], hash_key: str, range_key: str, **options: Any) -> T | None:
    """`read(hash_key, range_key, **options)` (a model's `get`), or None where there is no such item."""
    try:
        return read(hash_key, range_key, **options)
    except DoesNotExist:
        return None
