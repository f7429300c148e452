"""DynamoDB failures become typed domain errors here, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from simrenew.errors import Conflict, TransientStoreError

_THROTTLES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def is_condition_failure(exc: PynamoDBException) -> bool:
    if exc.cause_response_code == "ConditionalCheckFailedException":
        return True
    if isinstance(exc, TransactWriteError) and exc.cause_response_code == "TransactionCanceledException":
        return any(r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons if r is not None)
    return False


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Per-operation reasons of a cancelled transaction (None where that item was fine)."""
    return [r.code if r is not None else None for r in exc.cancellation_reasons]


@contextmanager
def translated(
    conflict_message: str = "the item changed or already exists", conflict_code: str = "conflict"
) -> Iterator[None]:
    """Run DynamoDB calls; a failed condition becomes Conflict, throttling TransientStoreError."""
    try:
        yield
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            raise Conflict(conflict_message, code=conflict_code) from exc
        if exc.cause_response_code in _THROTTLES or exc.cause_response_code == "TransactionConflictException":
            raise TransientStoreError("the data store is busy; retry shortly") from exc
        if isinstance(exc, TransactWriteError) and "TransactionConflict" in cancellation_codes(exc):
            raise TransientStoreError("a concurrent change touched the same items; retry") from exc
        raise
