"""The response contract: every JSON route declares its response model, the OpenAPI document publishes
it, and the unit tier's client refuses an answer that is not exactly its model (tests/support/contract.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.support.client import ApiClient, Resp
from tests.support.contract import ContractViolation, _routes, check_response

JSON = {"content-type": "application/json; charset=utf-8"}
MERCHANT = {
    "merchant_id": "m_1",
    "name": "张记便利店",
    "contact_name": None,
    "phone": "13812345678",
    "email": None,
    "status": "active",
    "created_at": "2026-01-01T00:00:00Z",
}


def _spec(api_module: Any, method: str, path: str) -> Any:
    return next(s for s in api_module.api.specs if s.method == method and s.path == path)


def test_every_route_answering_json_declares_its_response_model(api_module: Any) -> None:
    from chalicelib.responses import models

    missing = [
        f"{s.method} {s.path}"
        for s in api_module.api.specs
        if s.response_type == "application/json" and s.status != 204 and s.status not in s.responses
    ]
    assert missing == []
    unknown = {name for s in api_module.api.specs for name in s.responses.values()} - set(models())
    assert unknown == set()


def test_the_document_refers_each_success_to_its_model(api: ApiClient) -> None:
    doc = api.get("/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    ok = doc["paths"]["/v1/terminals/{sn}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Terminal"}
    upload = doc["paths"]["/v1/imports"]["post"]["responses"]
    assert upload["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ImportUpload"}
    assert upload["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ImportStarted"}
    terminal = schemas["Terminal"]
    assert terminal["additionalProperties"] is False
    assert terminal["properties"]["status"] == {"$ref": "#/components/schemas/TerminalStatus"}
    assert terminal["properties"]["plan_id"] == {"type": "string", "nullable": True}
    assert "plan_id" in terminal["required"] and "carrier_state" not in terminal["required"]
    page = schemas["TerminalPage"]["properties"]["items"]
    assert page == {"type": "array", "items": {"$ref": "#/components/schemas/Terminal"}}
    refs = {v for v in json.dumps(doc).split('"') if v.startswith("#/components/schemas/")}
    assert {r.rsplit("/", 1)[1] for r in refs} <= set(schemas)  # every $ref resolves


def test_an_answer_with_a_field_its_model_does_not_name_is_refused(api_module: Any) -> None:
    routes = _routes(api_module.api.specs)
    good = Resp(200, json.dumps(MERCHANT).encode(), JSON)
    check_response(routes, "GET", "/v1/merchants/m_1", good)
    extra = Resp(200, json.dumps({**MERCHANT, "vip": True}).encode(), JSON)
    with pytest.raises(ContractViolation, match="vip"):
        check_response(routes, "GET", "/v1/merchants/m_1", extra)
    missing = Resp(200, json.dumps({k: v for k, v in MERCHANT.items() if k != "phone"}).encode(), JSON)
    with pytest.raises(ContractViolation, match="phone"):
        check_response(routes, "GET", "/v1/merchants/m_1?x=1", missing)
    wrong = Resp(200, json.dumps({**MERCHANT, "status": "sleeping"}).encode(), JSON)
    with pytest.raises(ContractViolation, match="status"):
        check_response(routes, "GET", "/v1/merchants/m_1", wrong)
    # Errors and non-JSON answers are not the response model's business.
    check_response(routes, "GET", "/v1/merchants/m_1", Resp(404, b'{"error": {}}', JSON))
    check_response(routes, "GET", "/v1/merchants", Resp(200, b"a,b\r\n", {"content-type": "text/csv"}))


def test_a_literal_path_is_checked_as_its_own_route_not_a_parameter(api_module: Any) -> None:
    routes = _routes(api_module.api.specs)
    claimed = Resp(200, json.dumps(MERCHANT).encode(), JSON)  # a merchant is no terminal
    with pytest.raises(ContractViolation, match="Terminal"):
        check_response(routes, "POST", "/v1/terminals/claim", claimed)


def test_a_route_answering_json_without_a_model_fails_the_suite(api_module: Any) -> None:
    spec = replace(_spec(api_module, "GET", "/v1/merchants/{merchant_id}"), response=None)
    with pytest.raises(ContractViolation, match="declares no response model"):
        check_response(_routes([spec]), "GET", "/v1/merchants/m_1", Resp(200, json.dumps(MERCHANT).encode(), JSON))
