"""The DynamoDB retry policy's two hand-written pieces, without a network: the TransactionConflict
retry hook and the mapping of what outlasts the retries to a 503 (tests/integration/
test_throttling.py runs both end to end against DynamoDB Local)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import GetError, PutError, TransactWriteError

from simrenew.adapters.dynamodb.errors import store_unavailable
from simrenew.adapters.dynamodb.models import CONFLICT_BACKOFF_MAX_S, RETRIES, retry_transaction_conflict
from simrenew.errors import TransientStoreError


def _cancelled(*codes: str) -> tuple[Any, dict[str, Any]]:
    parsed = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": c} for c in codes],
    }
    return (object(), parsed)


def _client_error(code: str, op: str = "GetItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, op)


@pytest.mark.parametrize("attempts", range(1, 1 + RETRIES))
def test_a_transaction_cancelled_by_a_conflict_alone_is_sent_again_after_a_short_pause(attempts: int) -> None:
    delay = retry_transaction_conflict(attempts, _cancelled("None", "TransactionConflict", "None"))
    assert delay is not None and 0 <= delay <= CONFLICT_BACKOFF_MAX_S


@pytest.mark.parametrize(
    "response",
    [
        _cancelled("ConditionalCheckFailed", "TransactionConflict"),  # a failed condition is an answer
        _cancelled("None", "ConditionalCheckFailed"),
        _cancelled("None", "None"),
        (object(), {"Error": {"Code": "ProvisionedThroughputExceededException"}}),  # botocore's own job
        (object(), {}),  # a success
        None,
    ],
)
def test_anything_else_is_left_to_botocore(response: Any) -> None:
    assert retry_transaction_conflict(1, response) is None


def test_the_conflict_retry_stays_within_the_attempt_budget() -> None:
    assert retry_transaction_conflict(1 + RETRIES, _cancelled("TransactionConflict")) is None
    assert retry_transaction_conflict(1, _cancelled("TransactionConflict"), caught_exception=OSError()) is None


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_a_throttle_that_outlasted_the_retries_is_transient(code: str) -> None:
    err = GetError("Failed to get item", _client_error(code))
    assert isinstance(store_unavailable(err), TransientStoreError)
    assert isinstance(store_unavailable(_client_error(code)), TransientStoreError)


def test_a_timeout_or_a_transaction_conflict_is_transient() -> None:
    timeout = GetError("Failed to get item", ReadTimeoutError(endpoint_url="http://127.0.0.1:1"))
    assert isinstance(store_unavailable(timeout), TransientStoreError)
    conflict = PutError("Failed to put item", _client_error("TransactionConflictException", "PutItem"))
    assert isinstance(store_unavailable(conflict), TransientStoreError)
    tx = TransactWriteError("Failed to write transaction items", _client_error("TransactionCanceledException"))
    assert store_unavailable(tx) is None  # no TransactionConflict among its (empty) reasons


def test_a_bug_stays_a_bug() -> None:
    assert store_unavailable(KeyError("x")) is None
    assert store_unavailable(GetError("Failed", _client_error("ValidationException"))) is None
    try:
        try:
            raise GetError("Failed", _client_error("ThrottlingException"))
        except GetError:
            raise ValueError("a bug in the handler") from None
    except ValueError as exc:
        assert store_unavailable(exc) is None  # only explicit causes count
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = GetError("Failed", _client_error("ThrottlingException"))
    assert isinstance(store_unavailable(wrapped), TransientStoreError)
