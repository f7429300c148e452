"""Carrier sync function: daily from EventBridge Scheduler (`detail.task = carrier_sync_all`: one
asynchronous invocation per agent with a carrier account), and per agent from the API's
`POST /v1/carrier-sync` or that fan-out (`{"tenant_id": ...}`). See docs/carrier.md."""

from __future__ import annotations

from functools import cache
from typing import Any

from simrenew.bootstrap import NEEDS, CarrierSyncServices, build_carrier_sync
from simrenew.config import load_config


@cache
def services() -> CarrierSyncServices:
    return build_carrier_sync(load_config(needs=NEEDS["carrier_sync"]))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sync = services().carrier_sync
    if (event.get("detail") or {}).get("task") == "carrier_sync_all":
        return {"agents": sync.run_all()}
    tenant_id = event.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id:
        return {"error": "no tenant_id"}
    return {"tenant_id": tenant_id, "accounts": sync.run(tenant_id)}
