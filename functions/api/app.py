"""SimRenew HTTP API (Chalice). Each handler parses, calls one service, and shapes the answer."""

from __future__ import annotations

from functools import cache

from chalice import Chalice

from chalicelib import schemas
from chalicelib.http import PLATFORM, PUBLIC, Api, Reply, Req
from chalicelib.openapi import build_openapi
from simrenew.bootstrap import Services, build_services
from simrenew.config import load_config
from simrenew.domain.tenant import Role

VERSION = "0.1.0"
CONFIG = load_config()  # a missing variable stops the container here, loudly

app = Chalice(app_name="simrenew-api")
app.api.binary_types = []  # bodies arrive as text (JSON, CSV)


@cache
def services() -> Services:
    return build_services(CONFIG)


api = Api(app, services)


def _page(page: object) -> dict[str, object]:
    items = [item.to_json() for item in page.items]  # type: ignore[attr-defined]
    return {"items": items, "next_cursor": page.next_cursor}  # type: ignore[attr-defined]


def _limit_cursor(req: Req) -> tuple[int, str | None]:
    from simrenew.adapters.dynamodb.paging import parse_limit

    return parse_limit(req.query.get("limit")), req.query.get("cursor")


# --- service ---------------------------------------------------------------------------------
@api.route("/v1/health", "GET", auth=PUBLIC, summary="Liveness and data-store reachability", tag="service")
def health(req: Req) -> Reply:
    from simrenew.adapters.dynamodb.health import table_reachable

    ok = table_reachable()
    body = {
        "status": "ok" if ok else "degraded",
        "version": VERSION,
        "env": req.services.config.env,
        "checks": {"dynamodb": "ok" if ok else "unreachable"},
    }
    return Reply(body, 200 if ok else 503)


@api.route("/v1/openapi.json", "GET", auth=PUBLIC, summary="This API's OpenAPI 3 document", tag="service")
def openapi(req: Req) -> dict[str, object]:
    return build_openapi(api.specs, VERSION)


# --- onboarding --------------------------------------------------------------------------------
@api.route(
    "/v1/signup",
    "POST",
    auth=PUBLIC,
    status=201,
    idempotent=True,
    request=schemas.SIGNUP,
    summary="An agent applies for an account (reviewed by the platform)",
    tag="onboarding",
)
def signup(req: Req) -> dict[str, object]:
    tenant = req.services.tenants.signup(req.json(), req.client_id)
    return {"tenant_id": tenant.tenant_id, "status": tenant.status.value}


@api.route(
    "/v1/admin/tenants",
    "GET",
    auth=PLATFORM,
    query=("status", "limit", "cursor"),
    summary="List agents, optionally by status",
    tag="platform",
)
def list_tenants(req: Req) -> dict[str, object]:
    limit, cursor = _limit_cursor(req)
    return _page(req.services.tenants.list_tenants(req.query.get("status"), limit, cursor))


@api.route(
    "/v1/admin/tenants",
    "POST",
    auth=PLATFORM,
    status=201,
    idempotent=True,
    request=schemas.SIGNUP,
    summary="Create an active agent directly; returns its first admin key once",
    tag="platform",
)
def create_tenant(req: Req) -> dict[str, object]:
    tenant, issued = req.services.tenants.create_active(req.json())
    return {**tenant.to_json(), "api_key": issued.secret, "key_id": issued.key.key_id}


@api.route("/v1/admin/tenants/{tenant_id}", "GET", auth=PLATFORM, summary="One agent", tag="platform")
def get_tenant_admin(req: Req) -> dict[str, object]:
    return req.services.tenants.get(req.params["tenant_id"]).to_json()


@api.route(
    "/v1/admin/tenants/{tenant_id}/approve",
    "POST",
    auth=PLATFORM,
    request=schemas.EMPTY,
    summary="Approve a pending agent; returns its first admin key once",
    tag="platform",
)
def approve_tenant(req: Req) -> dict[str, object]:
    issued = req.services.tenants.approve(req.params["tenant_id"])
    return {
        "tenant_id": req.params["tenant_id"],
        "status": "active",
        "api_key": issued.secret,
        "key_id": issued.key.key_id,
    }


@api.route(
    "/v1/admin/tenants/{tenant_id}/suspend",
    "POST",
    auth=PLATFORM,
    request=schemas.EMPTY,
    summary="Suspend an agent: all its keys stop working at once",
    tag="platform",
)
def suspend_tenant(req: Req) -> dict[str, object]:
    tenant = req.services.tenants.suspend(req.params["tenant_id"])
    return {"tenant_id": tenant.tenant_id, "status": tenant.status.value}


# --- the tenant itself ----------------------------------------------------------------------
@api.route("/v1/tenant", "GET", auth=Role.ADMIN, summary="The calling agent's profile and settings", tag="tenant")
def get_tenant(req: Req) -> dict[str, object]:
    return req.services.tenants.get(req.tenant_id).to_json()


@api.route(
    "/v1/tenant",
    "PATCH",
    auth=Role.ADMIN,
    request=schemas.TENANT_PATCH,
    summary="Change profile fields and settings (validated, all or nothing)",
    tag="tenant",
)
def patch_tenant(req: Req) -> dict[str, object]:
    return req.services.tenants.update(req.tenant_id, req.json()).to_json()


@api.route(
    "/v1/api-keys",
    "POST",
    auth=Role.ADMIN,
    status=201,
    idempotent=True,
    request=schemas.API_KEY_CREATE,
    summary="Create an API key; the key is shown once",
    tag="tenant",
)
def create_api_key(req: Req) -> dict[str, object]:
    assert req.principal is not None
    issued = req.services.tenants.create_key(req.principal, req.json())
    return {**issued.key.to_json(), "api_key": issued.secret}


@api.route(
    "/v1/api-keys",
    "GET",
    auth=Role.ADMIN,
    query=("limit", "cursor"),
    summary="List API keys (no secrets)",
    tag="tenant",
)
def list_api_keys(req: Req) -> dict[str, object]:
    limit, cursor = _limit_cursor(req)
    return _page(req.services.tenants.list_keys(req.tenant_id, limit, cursor))


@api.route("/v1/api-keys/{key_id}", "DELETE", auth=Role.ADMIN, status=204, summary="Revoke an API key", tag="tenant")
def revoke_api_key(req: Req) -> Reply:
    req.services.tenants.revoke_key(req.tenant_id, req.params["key_id"])
    return Reply(None, 204)
