"""OpenAPI 3 document generated from the routes registered through `Api.route`."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.http import PLATFORM, PUBLIC, RouteSpec
from simrenew.domain.tenant import Role
from simrenew.domain.vocabulary import API_ENUMS, enum_schema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}

_ERRORS = {
    "400": "Validation failed (error.field names the field)",
    "401": "Missing or invalid key",
    "403": "Role too low",
    "404": "Not found, or another tenant's",
    "409": "Conflict",
    "422": "Business rule breached",
    "429": "Rate or risk limit",
}


def _who(spec: RouteSpec) -> str:
    auth = spec.auth
    if auth == PUBLIC:
        return "public"
    if auth == PLATFORM:
        return "platform operator key"
    assert isinstance(auth, Role)
    return f"agent key, role {auth.label} or higher" + (", or finance" if spec.finance else "")


def _component(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _success_schema(spec: RouteSpec, status: int, media_type: str) -> dict[str, Any]:
    """A JSON success is its response model's schema (chalicelib/responses); other media are strings."""
    name = spec.responses.get(status)
    if name is not None:
        return {"$ref": f"#/components/schemas/{name}"}
    return {"type": "object"} if media_type == "application/json" else {"type": "string"}


def _openapi30(schema: Any) -> Any:
    """pydantic's JSON Schema in OpenAPI 3.0's dialect: `X | None` (anyOf with type null) becomes a
    nullable X, coded values refer to their enum schema, and the titles pydantic adds to every property
    and the defaults go."""
    if isinstance(schema, list):
        return [_openapi30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "x-enum-ref" in schema:  # a coded value (responses/_base.py): the enum schema of that name
        return {"$ref": f"#/components/schemas/{schema['x-enum-ref']}"}
    # A default says nothing about an answer (the model's defaults only mark the fields it may leave out).
    out = {k: _openapi30(v) for k, v in schema.items() if k not in ("title", "properties", "default")}
    if "properties" in schema:
        out["properties"] = {name: _openapi30(sub) for name, sub in schema["properties"].items()}
    options = out.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        single = rest[0] if len(rest) == 1 else {"anyOf": rest}
        base = {"allOf": [single]} if "$ref" in single else single
        out = {**base, **out, "nullable": True}
    return out


def response_schemas(specs: list[RouteSpec]) -> dict[str, Any]:
    """The response models the routes name, and the models they use, as components.schemas."""
    from pydantic.json_schema import models_json_schema

    from chalicelib.responses import models

    known = models()
    named = sorted({name for spec in specs for name in spec.responses.values()})
    _, top = models_json_schema(
        [(known[name], "validation") for name in named], ref_template="#/components/schemas/{model}"
    )
    return {name: _openapi30(schema) for name, schema in sorted(top.get("$defs", {}).items())}


def _body_required(spec: RouteSpec, schema: dict[str, Any]) -> bool:
    """An empty JSON body is read as `{}`, so a body is only required when `{}` would be refused."""
    if spec.body_type != "application/json":
        return True
    return bool(schema.get("required")) or schema.get("minProperties", 0) > 0


def _query_parameters(spec: RouteSpec) -> list[dict[str, Any]]:
    if spec.query is None:
        return []
    from chalicelib.requests import query_names  # pydantic: only when the document is asked for

    names = query_names(spec.query)
    return [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in names]


def _request_body(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    """The route's body as its request models' JSON Schemas; the models they nest go to the components."""
    from chalicelib.requests.document import request_schema  # pydantic: only when the document is asked for

    assert spec.request is not None
    bodies = [(spec.body_type, spec.request), *([spec.alt_body] if spec.alt_body is not None else [])]
    content: dict[str, Any] = {}
    for media_type, ref in bodies:
        schema, definitions = request_schema(ref)
        for name, definition in definitions.items():
            assert components.setdefault(name, definition) == definition, f"two request schemas named {name}"
        content[media_type] = {"schema": schema}
    return {"required": _body_required(spec, content[spec.body_type]["schema"]), "content": content}


def _operation(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    """One route as an OpenAPI operation: who may call it, its parameters, body and answers."""
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "description": f"Who: {_who(spec)}.",
        "x-auth": spec.auth if isinstance(spec.auth, str) else spec.auth.label,
        "x-roles": spec.roles,
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', spec.path.lower()).strip('_')}",
        "tags": [spec.tag] if spec.tag else [],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{([^}]+)}", spec.path)
        ]
        + _query_parameters(spec),
        "responses": {
            str(spec.status): {
                "description": "Success",
                "content": {spec.response_type: {"schema": _success_schema(spec, spec.status, spec.response_type)}},
            },
            **{
                code: {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                for code, text in _ERRORS.items()
            },
            **{
                str(code): {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                    if code >= 400
                    else {"application/json": {"schema": _success_schema(spec, code, "application/json")}},
                }
                for code, text in spec.also
            },
        },
    }
    if spec.auth != PUBLIC:
        operation["security"] = [{"bearer": []}]
    if spec.idempotent:
        operation["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    if spec.request is not None:
        operation["requestBody"] = _request_body(spec, components)
    return operation


def _distinct(*groups: dict[str, Any]) -> dict[str, Any]:
    """The components of the enum schemas, the request models and the response models, or
    ValueError where two of them share a name (the document would silently lose one schema)."""
    merged: dict[str, Any] = {}
    for group in groups:
        clash = sorted(set(merged) & set(group))
        if clash:
            raise ValueError(f"two component schemas named {clash}")
        merged.update(group)
    return merged


def build_openapi(specs: list[RouteSpec], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    requests: dict[str, Any] = {}  # the models request bodies nest (an order's lines, a tenant's settings)
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, requests)
    named = {"Error": ERROR_SCHEMA, **{_component(name): enum_schema(name) for name in API_ENUMS}}
    schemas = _distinct(named, requests, response_schemas(specs))
    return {
        "openapi": "3.0.3",
        "info": {"title": "SimRenew API (流量卡续费云)", "version": version},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            # Every coded value answers may hold (statuses, kinds, channels, audit actions): each has
            # zh-CN and English text in the console (tests/unit/test_enum_strings.py).
            "schemas": schemas,
        },
    }
