"""A 429 is not the answer to a request: sent again under the same Idempotency-Key once the limit
has passed, the request goes through (it used to replay the stored 429 for a day)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from simrenew.adapters.dynamodb.keys import rate_limit_pk
from tests.integration.conftest import TABLE
from tests.support.builders import signup_body
from tests.support.client import ApiClient
from tests.support.fuzz import LOCAL_CLIENT


def test_a_rate_limited_create_is_not_replayed_for_its_idempotency_key(api: ApiClient, ddb_client: Any) -> None:
    for _ in range(5):  # the sign-up budget of this client for the hour
        assert api.post("/v1/signup", signup_body()).status == 201
    body = signup_body()
    headers = {"Idempotency-Key": f"signup-{uuid.uuid4()}"}
    limited = api.post("/v1/signup", body, headers=headers)
    assert (limited.status, limited.error["code"]) == (429, "rate_limited")

    window = int(time.time()) // 3600  # the hour passes
    ddb_client.delete_item(
        TableName=TABLE, Key={"pk": {"S": rate_limit_pk("signup", LOCAL_CLIENT, window)}, "sk": {"S": "RATE"}}
    )
    again = api.post("/v1/signup", body, headers=headers)
    assert again.status == 201, again.body
    assert api.post("/v1/signup", body, headers=headers).json == again.json  # now that answer is replayed
