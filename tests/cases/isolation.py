"""Tenant isolation and role checks for EVERY route in the OpenAPI document.

Agent A owns one of everything; agent B (admin) and A's own readonly and finance keys try every
tenant-scoped route against A's ids. A route added without an example here fails the
test, so no route escapes the matrix.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body

# One valid request body per write route (B would be allowed to send it for its own data).
EXAMPLES: dict[tuple[str, str], Any] = {
    ("PATCH", "/v1/tenant"): {"settings": {"grace_days": 3}},
    ("POST", "/v1/api-keys"): {"role": "readonly", "label": "x"},
    ("DELETE", "/v1/api-keys/{key_id}"): None,
    ("POST", "/v1/merchants"): {"name": "乙商户", "phone": "13700001111"},
    ("PATCH", "/v1/merchants/{merchant_id}"): {"contact_name": "被改了"},
    ("POST", "/v1/plans"): {"name": "B plan", "term_months": 1, "data_quota_mb": 100, "price_fen": 100},
    ("PATCH", "/v1/plans/{plan_id}"): {"price_fen": 1},
    ("POST", "/v1/terminals"): "fresh-terminal",
    ("POST", "/v1/terminals/claim"): "claim-a",
    ("PATCH", "/v1/terminals/{sn}"): {"model": "hijacked"},
    ("POST", "/v1/terminals/{sn}/deactivate"): {},
    ("POST", "/v1/terminals/{sn}/usage"): {"data_used_mb": 1, "as_of": "2030-01-01"},
    ("POST", "/v1/terminals/{sn}/transfer-code"): {},
    ("POST", "/v1/terminals/{sn}/transfer-time"): {"to_sn": "NOSUCH-SN-1", "months": 1, "reason": "isolation"},
    ("POST", "/v1/imports"): "csv",
    ("POST", "/v1/imports/{import_id}/resume"): {},
    ("POST", "/v1/orders"): "order-a",
    ("POST", "/v1/vouchers/batches"): {"plan_id": "p_0000000000000000", "count": 1},
    ("POST", "/v1/webhook-endpoints"): {"url": "https://agent.example.com/hook", "events": ["order.fulfilled"]},
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): None,
    ("POST", "/v1/orders/{order_id}/mark-paid"): {"note": "cash"},
    ("POST", "/v1/orders/{order_id}/refund"): {"reason": "test"},
    ("POST", "/v1/terminals/{sn}/reactivate"): {},
    ("POST", "/v1/vouchers/batches/{batch_id}/void"): {"code": "AAAA-BBBB-CCCC-D"},
    ("POST", "/v1/usage-imports"): "usage-csv",
    # --- carrier connection (issue 15) ---
    ("POST", "/v1/carrier-accounts"): {
        "carrier": "CUCC",
        "platform": "control_center",
        "base_url": "https://cc.example.com",
        "username": "b",
        "api_key": "b-key",
    },
    ("DELETE", "/v1/carrier-accounts/{account_id}"): None,
    ("POST", "/v1/carrier-accounts/{account_id}/check"): {},
    ("POST", "/v1/carrier-sync"): {},
    ("POST", "/v1/carrier-operations/{op_id}/retry"): {},
    # --- uploads and exports (issue 19) ---
    ("POST", "/v1/exports"): {"kind": "terminals"},
}
# A POST that changes nothing of the agent's: an export job of what the key may list anyway
# (docs/api.md: any role). Every other POST, PATCH and DELETE needs more than readonly.
POSTS_THAT_ONLY_READ = {("POST", "/v1/exports")}
FAKE_IDS = {
    "endpoint_id": "we_0000000000000000",
    "order_id": "o_0000000000000000",
    "merchant_id": "m_0000000000000000",
    "plan_id": "p_0000000000000000",
    "sn": "NOSUCH-SN-0",
    "key_id": "k_0000000000000000",
    "import_id": "imp_0000000000000000",
    "batch_id": "vb_0000000000000000",
    "account_id": "ca_0000000000000000",
    "op_id": "cop_1_resume_NOSUCH-SN-0",
    "export_id": "exp_0000000000000000",
}


def _routes(api: ApiClient) -> list[tuple[str, str, str]]:
    doc = api.get("/v1/openapi.json").json
    return [(m.upper(), p, op["x-auth"]) for p, ops in doc["paths"].items() for m, op in ops.items()]


def _finance_routes(api: ApiClient) -> set[tuple[str, str]]:
    doc = api.get("/v1/openapi.json").json
    return {(m.upper(), p) for p, ops in doc["paths"].items() for m, op in ops.items() if "finance" in op["x-roles"]}


def _world(api: ApiClient, platform_key: str) -> tuple[Any, Any, dict[str, str]]:
    a = create_agent(api, platform_key, name="甲 Agent A")
    b = create_agent(api, platform_key, name="乙 Agent B")
    m = api.post("/v1/merchants", {"name": "甲商户", "phone": "13600001111"}, key=a.admin_key).json
    p = api.post(
        "/v1/plans", {"name": "A plan", "term_months": 12, "data_quota_mb": 1, "price_fen": 9900}, key=a.admin_key
    ).json
    t = api.post("/v1/terminals", terminal_body(merchant_id=m["merchant_id"]), key=a.admin_key).json
    staff = api.post("/v1/api-keys", {"role": "staff"}, key=a.admin_key).json
    csv_text = IMPORT_HEADER + "\n" + csv_row(terminal_body()) + "\n"
    imp = api.call("POST", "/v1/imports", key=a.admin_key, body=csv_text.encode(), headers={"Content-Type": "text/csv"})
    # Let A's import (a worker thread here) finish before anything else writes: its state is then
    # stable, and moto's in-memory table is not safe against a concurrent writer (a flaky 500).
    for _ in range(100):
        if api.get(f"/v1/imports/{imp.json['import_id']}", key=a.admin_key).json["status"] != "running":
            break
        time.sleep(0.1)
    order = api.post(
        "/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": p["plan_id"]}], "payment": "offline"}, key=a.admin_key
    ).json
    batch = api.post("/v1/vouchers/batches", {"plan_id": p["plan_id"], "count": 1}, key=a.admin_key).json
    endpoint = api.post(
        "/v1/webhook-endpoints",
        {"url": "https://a.example.com/hook", "events": ["terminal.expiring"]},
        key=a.admin_key,
    ).json
    # Carrier (issue 15): A's account, and a carrier operation of A's (a suspended terminal paid again).
    account = api.post(
        "/v1/carrier-accounts",
        {
            "carrier": "CMCC",
            "platform": "control_center",
            "base_url": "https://cc-a.example.com",
            "username": "a",
            "api_key": "a-secret-key",
        },
        key=a.admin_key,
    ).json
    lapsed = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on="2020-01-01"), key=a.admin_key
    ).json
    paid = api.post(
        "/v1/orders", {"lines": [{"sn": lapsed["sn"], "plan_id": p["plan_id"]}], "payment": "offline"}, key=a.admin_key
    ).json
    api.post(f"/v1/orders/{paid['order_id']}/mark-paid", {"note": "cash"}, key=a.admin_key)
    carrier_ops = api.get(f"/v1/terminals/{lapsed['sn']}/carrier-operations", key=a.admin_key).json["items"]
    export = api.post("/v1/exports", {"kind": "terminals"}, key=a.admin_key)
    assert export.status == 202, export.body
    ids = {
        "export_id": export.json["export_id"],
        "account_id": account["account_id"],
        "op_id": carrier_ops[0]["op_id"],
        "endpoint_id": endpoint["endpoint_id"],
        "order_id": order["order_id"],
        "merchant_id": m["merchant_id"],
        "plan_id": p["plan_id"],
        "sn": t["sn"],
        "key_id": staff["key_id"],
        "import_id": imp.json["import_id"],
        "batch_id": batch["batch_id"],
        "tenant_id": a.tenant_id,
        "tid": t["tid"],
        "iccid": t["iccid"],
    }
    return a, b, ids


def _snapshot(api: ApiClient, key: str, ids: dict[str, str]) -> str:
    parts = [
        api.get(f"/v1/terminals/{ids['sn']}", key=key).json,
        api.get(f"/v1/merchants/{ids['merchant_id']}", key=key).json,
        api.get("/v1/plans", key=key).json,
        api.get("/v1/api-keys", key=key).json,
        api.get("/v1/tenant", key=key).json,
        api.get(f"/v1/imports/{ids['import_id']}", key=key).json,
        api.get(f"/v1/orders/{ids['order_id']}", key=key).json,
        api.get("/v1/webhook-endpoints", key=key).json,
        api.get(f"/v1/terminals/{ids['sn']}/renewals", key=key).json,
        api.get("/v1/vouchers/batches", key=key).json,
        api.get("/v1/imports", key=key).json,
    ]
    return json.dumps(parts, sort_keys=True)


def _send(api: ApiClient, method: str, path: str, key: str | None, ids: dict[str, str]) -> Any:
    example = EXAMPLES.get((method, path))
    concrete = re.sub(r"{(\w+)}", lambda mt: ids[mt.group(1)], path)
    if example == "csv":
        body = (IMPORT_HEADER + "\n" + csv_row(terminal_body()) + "\n").encode()
        return api.call(method, concrete, key=key, body=body, headers={"Content-Type": "text/csv"})
    if example == "usage-csv":
        body = f"sn,data_used_mb,as_of\n{ids['sn']},7,2030-01-01\n".encode()
        return api.call(method, concrete, key=key, body=body, headers={"Content-Type": "text/csv"})
    if example == "fresh-terminal":
        example = terminal_body()
    if example == "order-a":
        example = {"lines": [{"sn": ids["sn"], "plan_id": ids["plan_id"]}], "payment": "offline"}
    if example == "claim-a":
        example = {"sn": ids["sn"], "code": "AAAA-BBBB-CCCC"}
    if method in ("GET", "DELETE"):
        return api.call(method, concrete, key=key)
    return api.call(method, concrete, key=key, json_body=example if example is not None else {})


def test_every_tenant_route_is_isolated_role_checked_and_key_checked(api: ApiClient, platform_key: str) -> None:
    a, b, ids = _world(api, platform_key)
    readonly = a.key(api, "readonly")
    finance = a.key(api, "finance")
    finance_may = _finance_routes(api)
    before = _snapshot(api, a.admin_key, ids)
    a_ids = {v for k, v in ids.items()}
    checked = 0
    for method, path, auth in _routes(api):
        if auth in ("public", "platform"):
            continue
        if method != "GET":
            assert (method, path) in EXAMPLES, f"add an isolation example for {method} {path}"
            if (method, path) not in POSTS_THAT_ONLY_READ:
                assert auth != "readonly", f"{method} {path} lets a readonly key write"
        checked += 1
        # No key, and a wrong key: 401.
        assert _send(api, method, path, None, ids).status == 401, (method, path)
        # A role too low: 403 (A's own readonly key on A's own ids).
        if auth != "readonly":
            r = _send(api, method, path, readonly, ids)
            assert r.status == 403, (method, path, r.status)
        # A finance key: what the document grants it (reads only), 403 for everything else.
        assert method == "GET" or (method, path) not in finance_may, f"{method} {path} lets a finance key write"
        r = _send(api, method, path, finance, ids)
        if (method, path) in finance_may:
            assert r.status != 403, (method, path, r.status, r.body)
        else:
            assert (r.status, r.error["code"]) == (403, "insufficient_role"), (method, path, r.status)
        # Another agent: never a success on A's ids, and indistinguishable from a missing id.
        r = _send(api, method, path, b.admin_key, ids)
        # A's identifiers may come back only where B itself sent them (an echo of its input).
        sent = json.dumps(EXAMPLES.get((method, path))) + path + ids["sn"] * (EXAMPLES.get((method, path)) == "order-a")
        leaked = [v for v in a_ids if v in r.body.decode(errors="replace") and v not in sent]
        assert not leaked, (method, path, leaked)
        if "{" in path:
            assert r.status == 404, (method, path, r.status, r.body)
            missing = _send(api, method, path, b.admin_key, {**ids, **FAKE_IDS})
            assert (missing.status, missing.error["code"]) == (r.status, r.error["code"]), (method, path)
    assert checked >= 20
    assert _snapshot(api, a.admin_key, ids) == before


def test_every_json_route_refuses_malformed_and_unknown_input_naming_the_field(
    api: ApiClient, platform_key: str
) -> None:
    """Bad input to any route is a 4xx in the error shape with a field, and writes nothing."""
    a, _b, ids = _world(api, platform_key)
    before = _snapshot(api, a.admin_key, ids)
    doc = api.get("/v1/openapi.json").json
    tried = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content or path == "/v1/signup":
                continue
            key = platform_key if op["x-auth"] == "platform" else a.admin_key
            concrete = re.sub(r"{(\w+)}", lambda mt: ids.get(mt.group(1), "x"), path)
            for raw, field in ((b"[1]", "body"), (b"{bad json", "body"), (b'{"zz_unknown": 1}', "zz_unknown")):
                r = api.call(method.upper(), concrete, key=key, body=raw)
                assert 400 <= r.status < 500, (method, path, raw, r.status)
                assert r.error["code"] and r.error["field"] == field, (method, path, raw, r.body)
                tried += 1
    assert tried >= 3 * 15
    assert _snapshot(api, a.admin_key, ids) == before
