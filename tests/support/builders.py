"""Test data builders: valid requests by default, one field changed per test."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.support.client import ApiClient

_seq = itertools.count(1)


def signup_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "name": f"测试代理商 Agent {n}",
        "contact_name": "李四",
        "contact_email": f"agent{n}@example.com",
        "contact_phone": "13912345678",
    }
    body.update(overrides)
    return body


@dataclass
class Agent:
    """A tenant created through the platform route, with its first admin key."""

    tenant_id: str
    admin_key: str
    admin_key_id: str

    def key(self, api: ApiClient, role: str) -> str:
        r = api.post("/v1/api-keys", {"role": role, "label": f"{role} key"}, key=self.admin_key)
        assert r.status == 201, r.body
        return str(r.json["api_key"])


def create_agent(api: ApiClient, platform_key: str, **overrides: Any) -> Agent:
    r = api.post("/v1/admin/tenants", signup_body(**overrides), key=platform_key)
    assert r.status == 201, r.body
    data = r.json
    return Agent(data["tenant_id"], data["api_key"], data["key_id"])
