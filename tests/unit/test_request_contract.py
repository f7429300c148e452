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


def test_every_query_parameter_a_handler_reads_comes_from_its_routes_query_model(api_module: Any) -> None:
    requests = _requests()
    checked = 0
    for spec in _specs(api_module):
        source = inspect.getsource(_handler(api_module, spec))
        assert "req.query" not in source, f"{spec.method} {spec.path}: read the query string's model, not req.query"
        read = set(re.findall(r"\bquery\.(\w+)\b", source)) - {"filters"}
        if spec.query is None:
            assert not read, (spec.method, spec.path, read)
            continue
        found = requests.model(spec.query)
        assert issubclass(found, requests.Query), spec.path
        assert read <= set(found.model_fields), (spec.path, read - set(found.model_fields))
        checked += 1
    assert checked >= 14


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


# --- the models carry the value rules ----------------------------------------------------------------------
_PLAN = {"name": "年卡", "term_months": 12, "data_quota_mb": 2048, "price_fen": 12000}


def _refusals() -> list[tuple[str, str, str, dict[str, Any], str, str]]:
    """(route, model, kind of constraint, body, code, field): each kind of constraint a model declares."""
    from tests.support.fleet import terminal_body

    no_price = {k: v for k, v in _PLAN.items() if k != "price_fen"}
    return [
        ("/v1/plans", "fleet.PlanCreate", "required", no_price, "required", "price_fen"),
        ("/v1/plans", "fleet.PlanCreate", "type", {**_PLAN, "price_fen": "12000"}, "invalid_type", "price_fen"),
        ("/v1/plans", "fleet.PlanCreate", "type (bool)", {**_PLAN, "term_months": True}, "invalid_type", "term_months"),
        ("/v1/plans", "fleet.PlanCreate", "minimum", {**_PLAN, "term_months": 0}, "out_of_range", "term_months"),
        ("/v1/plans", "fleet.PlanCreate", "maximum", {**_PLAN, "price_fen": 10**8 + 1}, "out_of_range", "price_fen"),
        (
            "/v1/merchants",
            "fleet.MerchantCreate",
            "maxLength",
            {"name": "x" * 101, "phone": "13812345678"},
            "too_long",
            "name",
        ),
        ("/v1/terminals", "fleet.TerminalCreate", "pattern", terminal_body(tid="1234"), "invalid_tid", "tid"),
        (
            "/v1/terminals",
            "fleet.TerminalCreate",
            "format",
            terminal_body(expires_on="2026-13-01"),
            "invalid_date",
            "expires_on",
        ),
        ("/v1/api-keys", "onboarding.ApiKeyCreate", "required", {"label": "till"}, "required", "role"),
        ("/v1/api-keys", "onboarding.ApiKeyCreate", "enum", {"role": "owner"}, "invalid_role", "role"),
        ("/v1/api-keys", "onboarding.ApiKeyCreate", "type", {"role": "staff", "label": 5}, "invalid_type", "label"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_a_body_violating_each_kind_of_constraint_is_refused_by_its_model_naming_the_field(
    api: ApiClient, platform_key: str, ddb: Any, case: int
) -> None:
    from simrenew.errors import ValidationError

    path, ref, kind, body, code, field = _refusals()[case]
    agent = create_agent(api, platform_key)
    before = _count(ddb)
    r = api.post(path, body, key=agent.admin_key)
    assert (r.status, r.error["code"], r.error["field"]) == (400, code, field), (kind, r.body)
    assert _count(ddb) == before
    # the refusal is the model's (before any handler or service), with the same code and field
    with pytest.raises(ValidationError) as refused:
        _requests().validate_body(ref, body)
    assert (refused.value.code, refused.value.field, refused.value.message) == (code, field, r.error["message"])


def test_a_value_the_domain_rule_takes_after_trimming_is_taken(api: ApiClient, platform_key: str) -> None:
    from tests.support.fleet import iccid, terminal_body

    agent = create_agent(api, platform_key)
    grouped = " ".join(iccid(n=424242)[i : i + 4] for i in range(0, 20, 4))
    r = api.post("/v1/terminals", terminal_body(sn="  pax-a920-4242 ", iccid=grouped), key=agent.admin_key)
    assert r.status == 201, r.body
    assert (r.json["sn"], r.json["iccid"]) == ("PAX-A920-4242", iccid(n=424242))


def test_the_handler_gets_the_validated_model_and_hands_on_the_values_as_sent(api_module: Any) -> None:
    requests = _requests()
    plan = requests.validate_body("fleet.PlanCreate", dict(_PLAN))
    assert type(plan).__name__ == "PlanCreate"
    assert (plan.price_fen, plan.term_months, plan.active) == (12000, 12, None)
    assert plan.fields() == _PLAN  # what the client did not send stays unsent
    fee = {"settings": {"service_fee": {"kind": "flat", "value": 500}}}
    fields = requests.validate_body("onboarding.TenantPatch", fee).fields()
    assert fields == fee and type(fields["settings"]["service_fee"]["value"]) is int  # fen stay whole


def test_every_handler_of_a_route_with_a_body_or_a_query_string_takes_its_models(api_module: Any) -> None:
    checked = 0
    for spec in _specs(api_module):
        params = list(inspect.signature(_handler(api_module, spec)).parameters.values())
        if spec.query is not None:  # the query string's model comes last: (req, query)
            assert str(params.pop().annotation) == spec.query.rpartition(".")[2], (spec.method, spec.path)
        if spec.request is None:
            assert len(params) == 1, (spec.method, spec.path)
            continue
        assert len(params) == 2, f"{spec.method} {spec.path}: the handler takes (req, body)"
        json_ref = spec.request if spec.body_type == "application/json" else (spec.alt_body or ("", "None"))[1]
        assert str(params[1].annotation).split(" |")[0] == json_ref.rpartition(".")[2], (spec.path, params[1])
        checked += 1
    assert checked >= 30


def test_the_document_names_the_required_fields_of_every_body(api: ApiClient, api_module: Any) -> None:
    requests = _requests()
    doc = api.get("/v1/openapi.json").json
    for spec in _json_routes(api_module):
        found = requests.model(spec.request)
        schema = doc["paths"][spec.path][spec.method.lower()]["requestBody"]["content"]["application/json"]["schema"]
        required = [info.alias or name for name, info in found.model_fields.items() if info.is_required()]
        assert schema.get("required", []) == required, spec.path
    plan = doc["paths"]["/v1/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert plan["required"] == ["name", "term_months", "data_quota_mb", "price_fen"]
    terminal = doc["paths"]["/v1/terminals"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert terminal["required"] == ["sn", "tid", "iccid", "model", "expires_on"]
    assert terminal["properties"]["iccid"]["pattern"] == "^89[0-9]{17,18}$"


# --- query strings ----------------------------------------------------------------------------------
# A query that is refused, with the field and code of the 400: `limit=0` on every route that pages, these
# on the reports. The public order status has neither: its token is judged against the order (a 404).
BAD_QUERIES: dict[str, tuple[str, str, str]] = {
    "/v1/reports/revenue": ("from=2031-01-01", "to", "required"),
    "/v1/reports/settlement": ("to=2031-01-01", "from", "required"),
    "/v1/reports/reconciliation": ("date=yesterday", "date", "invalid_date"),
    "/v1/reports/expiring": ("days=366", "days", "out_of_range"),
    "/v1/notifications": ("sn=", "sn", "required"),
}


def _bad_query(spec: Any) -> tuple[str, str, str] | None:
    if "limit" in _requests().model(spec.query).model_fields:
        return ("limit=0", "limit", "invalid_limit")
    return BAD_QUERIES.get(spec.path)


def test_every_route_with_a_query_string_has_a_model_and_a_value_it_refuses(api_module: Any) -> None:
    with_query = [s for s in _specs(api_module) if s.query is not None]
    assert [s.path for s in with_query if _bad_query(s) is None] == ["/v1/public/orders/{order_id}"]
    assert set(BAD_QUERIES) <= {s.path for s in with_query}
    assert len(with_query) >= 14


def test_a_refused_query_value_is_a_400_naming_the_parameter_and_writes_nothing(
    api: ApiClient, api_module: Any, platform_key: str, ddb: Any
) -> None:
    agent = create_agent(api, platform_key)
    before = _count(ddb)
    tried = 0
    for spec in _specs(api_module):
        bad = _bad_query(spec) if spec.query is not None else None
        if bad is None:
            continue
        query, name, code = bad
        r = api.get(f"{_path(spec)}?{query}", key=_key(spec, agent.admin_key, platform_key))
        assert (r.status, r.error["field"], r.error["code"]) == (400, name, code), (spec.path, query, r.body)
        tried += 1
    assert tried >= 13
    assert _count(ddb) == before


def test_the_query_models_judge_the_limit_and_the_lists_filters_before_the_handler() -> None:
    from simrenew.errors import ValidationError

    requests = _requests()
    page = requests.validate_query("queries.TerminalList", {"status": "active", "sort": "sn", "limit": "20"})
    assert (page.limit, page.cursor, page.filters().status, page.filters().sort) == (20, None, "active", "sn")
    assert requests.validate_query("queries.Page", {}).limit == 50
    # the filters first, as before the models: a bad status is named beside a bad limit
    with pytest.raises(ValidationError) as refused:
        requests.validate_query("queries.TerminalList", {"status": "lost", "limit": "0"})
    assert (refused.value.field, refused.value.code) == ("status", "invalid_choice")
    with pytest.raises(ValidationError) as refused:
        requests.validate_query("queries.TerminalList", {"carrier": "agrees"})
    assert (refused.value.field, refused.value.code) == ("carrier", "invalid_choice")
    with pytest.raises(ValidationError) as refused:
        requests.validate_query("queries.OrderList", {"from": "2031-02-30", "limit": "0"})
    assert (refused.value.field, refused.value.code) == ("from", "invalid_date")
    # only the name clients send: "from_" is no parameter
    assert requests.validate_query("queries.DateRange", {"from_": "2031-01-01"}).from_ is None
