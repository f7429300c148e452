"""DynamoDB failures become typed domain errors here, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from simrenew.errors import Conflict, TransientStoreError, ValidationError

_THROTTLES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}
_BUSY = _THROTTLES | {"TransactionConflictException"}


def response_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error; None for a timeout or a dropped connection
    (PynamoDB's own `cause_response_code` raises AttributeError on those: their response is None)."""
    response = getattr(exc.cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = (response.get("Error") or {}).get("Code")
    return str(code) if code is not None else None


def is_condition_failure(exc: PynamoDBException) -> bool:
    if response_code(exc) == "ConditionalCheckFailedException":
        return True
    if isinstance(exc, TransactWriteError) and response_code(exc) == "TransactionCanceledException":
        return any(r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons if r is not None)
    return False


def condition_held(write: Callable[[], object]) -> bool:
    """Make one conditional write: False when its condition failed (nothing was written)."""
    try:
        write()
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


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
        if response_code(exc) in _BUSY:
            raise TransientStoreError("the data store is busy; retry shortly") from exc
        if isinstance(exc, TransactWriteError) and "TransactionConflict" in cancellation_codes(exc):
            raise TransientStoreError("a concurrent change touched the same items; retry") from exc
        raise


def store_unavailable(exc: BaseException) -> TransientStoreError | None:
    """The TransientStoreError (503, safe to retry) for a DynamoDB failure that outlasted the
    retry policy (models.RETRIES) and that time can cure: throttling, a busy or failing
    service, a transaction conflict, a timeout or a dropped connection. None for anything
    else: a bug stays a 500. Follows explicit causes (PynamoDB wraps botocore's errors), never
    an exception that was merely being handled when another was raised."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, PynamoDBException):
            if response_code(seen) in _BUSY:
                return TransientStoreError("the data store is busy; retry shortly")
            if isinstance(seen, TransactWriteError) and "TransactionConflict" in cancellation_codes(seen):
                return TransientStoreError("a concurrent change touched the same items; retry")
            seen = seen.cause if isinstance(seen.cause, BaseException) else seen.__cause__
            continue
        if isinstance(seen, ClientError):
            if (seen.response.get("Error") or {}).get("Code") in _BUSY:
                return TransientStoreError("the data store is busy; retry shortly")
        elif isinstance(seen, BotocoreConnectionError | HTTPClientError):
            return TransientStoreError("the data store did not answer in time; retry shortly")
        seen = seen.__cause__
    return None


def bad_start_key(exc: BaseException) -> ValidationError | None:
    """A 400 on the cursor for a query DynamoDB refused because of its ExclusiveStartKey: a cursor
    forged with this list's partition but another item's (or no) sort key passes decode_cursor's
    checks, and DynamoDB's ValidationException was a 500 (found by fuzzing)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ClientError):
            error = seen.response.get("Error") or {}
            message = str(error.get("Message", "")).lower()
            if error.get("Code") == "ValidationException" and (
                "start key" in message or "starting key" in message or "exclusivestartkey" in message
            ):
                return ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned")
            return None
        wrapped = seen.cause if isinstance(seen, PynamoDBException) else None
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
    return None
