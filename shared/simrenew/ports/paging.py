"""A page of a list and the cursor to the next one: what every listing port returns.

The cursor is opaque to the services (the DynamoDB adapters mint it from LastEvaluatedKey and check it
on the way back in: simrenew.adapters.dynamodb.paging)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
