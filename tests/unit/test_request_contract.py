"""The request contract (functions/api/chalicelib/requests): every body and query string of every route
has a pydantic model, http.Api validates bodies against it before the handler runs, and the OpenAPI
document's request schemas are the models' own."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.builders import create_agent
from tests.support.client import ApiClient
from tests.unit.conftest import TABLE

WRITES = ("POST", "PATCH", "PUT")
# Values no field of any route takes: a null, junk nested past any field's shape, a number no int64 holds.
JUNK: tuple[bytes, ...] = (b"null", b'[[[{"a": {"b": []}}]]]', b"1" + b"0" * 400)


def _specs(api_module: Any) -> list[Any]:
    return list(api_module.api.specs)


def _handler(api_module: Any, spec: Any) -> Callable[..., Any]:
    view = api_module.app.routes[spec.path][spec.method].view_function
    for cell in view.__closure__ or ():
        if inspect.isfunction(cell.cell_contents) and cell.cell_contents.__name__ == view.__name__:
            return cell.cell_contents  # type: ignore[no-any-return]
    raise AssertionError(f"no handler behind {spec.method} {spec.path}")


def _requests() -> Any:
    from chalicelib import requests

    return requests


def _count(ddb: Any) -> int:
    return int(ddb.scan(TableName=TABLE, Select="COUNT")["Count"])


# --- every route has its models ------------------------------------------------------------------
def test_every_route_that_takes_a_body_names_a_model_of_the_contract(api_module: Any) -> None:
    requests = _requests()
    for spec in _specs(api_module):
        if spec.method not in WRITES:
            assert spec.request is None, (spec.method, spec.path)
            continue
        assert spec.request is not None, f"{spec.method} {spec.path}: name its request model (request=...)"
        model = requests.model(spec.request)
        if spec.body_type == "application/json":
            assert issubclass(model, requests.Body), (spec.path, model)
            assert model.model_config["extra"] == "forbid", (spec.path, model)
        else:
            assert issubclass(model, requests.Text), (spec.path, model)
        if spec.alt_body is not None:
            assert issubclass(requests.model(spec.alt_body[1]), requests.Body), spec.path


def test_every_query_parameter_a_handler_reads_is_in_its_routes_query_model(api_module: Any) -> None:
    requests = _requests()
    checked = 0
    for spec in _specs(api_module):
        source = inspect.getsource(_handler(api_module, spec))
        read = set(re.findall(r'req\.query\.get\("([^"]+)"\)', source))
        if "_limit_cursor(req)" in source:
            read |= {"limit", "cursor"}
        if not read:
            continue
        assert spec.query is not None, f"{spec.method} {spec.path} reads {sorted(read)}: name its query model"
        assert issubclass(requests.model(spec.query), requests.Query)
        assert read <= set(requests.query_names(spec.query)), (spec.path, read)
        checked += 1
    assert checked >= 10


def test_the_list_filters_are_parameters_of_their_routes_query_models() -> None:
    from simrenew.domain.filters import MerchantFilters, OrderFilters, TerminalFilters

    names = _requests().query_names
    assert set(TerminalFilters.FIELDS) <= set(names("queries.TerminalList"))
    assert set(MerchantFilters.FIELDS) <= set(names("queries.MerchantList"))
    assert set(OrderFilters.FIELDS) <= set(names("queries.OrderList"))
    assert "from" in names("queries.OrderList") and "from_" not in names("queries.OrderList")


# --- the OpenAPI document is the models -------------------------------------------------------------
def test_the_documents_request_schemas_are_the_models(api: ApiClient, api_module: Any) -> None:
    from chalicelib.requests import document

    requests = _requests()
    doc = api.get("/v1/openapi.json").json
    components = doc["components"]["schemas"]
    for spec in _specs(api_module):
        op = doc["paths"][spec.path][spec.method.lower()]
        documented_query = [p["name"] for p in op["parameters"] if p["in"] == "query"]
        assert documented_query == list(requests.query_names(spec.query) if spec.query else []), spec.path
        if spec.request is None:
            assert "requestBody" not in op, spec.path
            continue
        bodies = [(spec.body_type, spec.request), *([spec.alt_body] if spec.alt_body else [])]
        for media_type, ref in bodies:
            schema, definitions = document.request_schema(ref)
            assert op["requestBody"]["content"][media_type]["schema"] == schema, (spec.path, media_type)
            for name, definition in definitions.items():
                assert components[name] == definition, name
            for target in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(schema)):
                assert target in components, (spec.path, target)


def test_the_documented_shapes_a_client_relies_on_are_unchanged(api: ApiClient) -> None:
    doc = api.get("/v1/openapi.json").json
    signup = doc["paths"]["/v1/signup"]["post"]["requestBody"]
    assert signup["required"] is True
    assert signup["content"]["application/json"]["schema"]["required"] == [
        "name",
        "contact_name",
        "contact_email",
        "contact_phone",
    ]
    assert signup["content"]["application/json"]["schema"]["additionalProperties"] is False
    patch = doc["paths"]["/v1/tenant"]["patch"]["requestBody"]
    assert patch["content"]["application/json"]["schema"]["minProperties"] == 1
    assert patch["content"]["application/json"]["schema"]["properties"]["settings"] == {
        "$ref": "#/components/schemas/Settings"
    }
    assert doc["paths"]["/v1/admin/tenants/{tenant_id}/approve"]["post"]["requestBody"]["required"] is False
    imports = doc["paths"]["/v1/imports"]["post"]["requestBody"]["content"]
    assert imports["text/csv"]["schema"]["type"] == "string"
    assert imports["application/json"]["schema"]["required"] == ["filename", "size_bytes"]
    price = doc["paths"]["/v1/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert price["properties"]["price_fen"] == {"type": "integer", "minimum": 1, "maximum": 100_000_000}
    order = doc["components"]["schemas"]["OrderLineCreate"]
    assert (order["required"], order["additionalProperties"]) == (["sn", "plan_id"], False)


# --- bad bodies are refused in one place, naming the field, writing nothing ---------------------------------
def _key(spec: Any, agent_key: str, platform_key: str) -> str | None:
    auth = spec.auth if isinstance(spec.auth, str) else "tenant"
    return {"public": None, "platform": platform_key}.get(auth, agent_key)


def _json_routes(api_module: Any) -> list[Any]:
    return [s for s in _specs(api_module) if s.request is not None and s.body_type == "application/json"]


def _path(spec: Any) -> str:
    return re.sub(r"{(\w+)}", "SN-NOSUCH-0001", spec.path)


@pytest.mark.parametrize(
    "family",
    [
        "onboarding",
        "platform",
        "tenant",
        "fleet",
        "plans",
        "orders",
        "public",
        "vouchers",
        "webhooks",
        "exports",
        "carrier",
    ],
)
def test_an_unknown_field_is_refused_before_the_handler_naming_it(
    api: ApiClient, api_module: Any, platform_key: str, ddb: Any, family: str
) -> None:
    agent = create_agent(api, platform_key)
    requests = _requests()
    routes = [s for s in _json_routes(api_module) if s.tag == family]
    assert routes, family
    before = _count(ddb)
    for spec in routes:
        fields = list(requests.model(spec.request).model_fields)
        # the unknown field is named even beside fields whose values are wrong (it is reported first, as ever)
        body = {**dict.fromkeys(fields, None), "zz_unknown": 1, "aa_unknown": 2}
        r = api.call(
            spec.method, _path(spec), key=_key(spec, agent.admin_key, platform_key), body=json.dumps(body).encode()
        )
        assert (r.status, r.error["code"], r.error["field"]) == (400, "unknown_field", "aa_unknown"), (
            spec.path,
            r.body,
        )
    assert _count(ddb) == before


def test_junk_in_any_field_of_any_route_is_a_4xx_naming_the_field_never_a_500(
    api: ApiClient, api_module: Any, platform_key: str, ddb: Any
) -> None:
    agent = create_agent(api, platform_key)
    requests = _requests()
    before = _count(ddb)
    tried = 0
    for spec in _json_routes(api_module):
        fields = list(requests.model(spec.request).model_fields)
        if not fields:
            continue
        for junk in JUNK:
            raw = b"{" + b", ".join(json.dumps(f).encode() + b": " + junk for f in fields) + b"}"
            r = api.call(spec.method, _path(spec), key=_key(spec, agent.admin_key, platform_key), body=raw)
            assert 400 <= r.status < 500, (spec.method, spec.path, junk, r.status, r.body)
            assert set(r.json) == {"error"} and r.error["code"], (spec.path, r.body)
            if r.status == 400:
                assert r.error.get("field"), (spec.path, junk, r.body)
            tried += 1
    assert tried >= 3 * 25
    assert _count(ddb) == before


def test_a_json_upload_request_meets_its_model_on_the_csv_route(api: ApiClient, platform_key: str, ddb: Any) -> None:
    agent = create_agent(api, platform_key)
    before = _count(ddb)
    body = {"filename": "fleet.csv", "size_bytes": "many", "zz": 1}
    r = api.post("/v1/imports", body, key=agent.admin_key)
    assert (r.status, r.error["code"], r.error["field"]) == (400, "unknown_field", "zz")
    assert _count(ddb) == before
