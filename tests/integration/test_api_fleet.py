"""Fleet API cases over real HTTP against DynamoDB Local (the same cases as tests/unit), and what
only the real engine does."""

import base64
import json

from tests.cases.fleet import *  # noqa: F403
from tests.support.builders import create_agent
from tests.support.client import ApiClient


def test_a_cursor_outside_the_lists_key_range_is_400_naming_the_cursor(api: ApiClient, platform_key: str) -> None:
    # DynamoDB refuses an ExclusiveStartKey outside the query's key condition (moto does not).
    agent = create_agent(api, platform_key)
    forged = {"pk": {"S": f"TENANT#{agent.tenant_id}"}, "sk": {"S": "A"}}
    raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    r = api.get(f"/v1/merchants?limit=2&cursor={raw}", key=agent.admin_key)
    assert r.status == 400, r.body
    assert (r.error["field"], r.error["code"]) == ("cursor", "invalid_cursor")
