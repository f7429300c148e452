"""Carrier connection routes (docs/carrier.md): carrier accounts, the sync and its drift report,
carrier operations (failed ones and their retry). Registered from app.py with `register(api)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalicelib.http import Api, Reply, Req
from simrenew.domain.tenant import Role

if TYPE_CHECKING:  # pydantic only for a route with a body (http._validate)
    from chalicelib.requests import Empty
    from chalicelib.requests.operations import CarrierAccountCreate

DRIFT_COLUMNS = ["sn", "iccid", "carrier", "status", "carrier_status", "carrier_state", "reason", "synced_at"]


def with_carrier_state(req: Req, answers: list[dict[str, Any]], terminals: list[Any], *, single: bool = False) -> None:
    """Add `carrier_state` to terminal answers (one BatchGet for a page)."""
    states = req.services.carrier_sync.state_of(req.tenant_id, terminals, with_ops=single)
    for answer, terminal in zip(answers, terminals, strict=True):
        answer["carrier_state"] = states.get(terminal.sn)


def disagreeing_terminals(req: Req) -> dict[str, Any]:
    """GET /v1/terminals?carrier=disagrees (the only value its query model takes): the fleet list filtered
    to carrier drift."""
    fleet = req.services.fleet
    report = req.services.carrier_sync.drift_report(req.tenant_id)
    tenant = fleet.tenant(req.tenant_id)
    today, window = fleet.today(tenant), fleet.expiring_window(tenant)
    terminals = [fleet.get(req.tenant_id, row["sn"]) for row in report["items"]]
    answers = [t.to_json(today, window, req.services.config.public_base_url) for t in terminals]
    with_carrier_state(req, answers, terminals)
    return {"items": answers, "next_cursor": None}


def create_carrier_account(req: Req, body: CarrierAccountCreate) -> dict[str, Any]:
    return req.services.carrier_accounts.create(req.tenant_id, body.fields()).to_json()


def list_carrier_accounts(req: Req) -> dict[str, Any]:
    return {"items": [a.to_json() for a in req.services.carrier_accounts.list(req.tenant_id)], "next_cursor": None}


def delete_carrier_account(req: Req) -> Reply:
    req.services.carrier_accounts.delete(req.tenant_id, req.params["account_id"])
    return Reply(None, 204)


def check_carrier_account(req: Req, _: Empty) -> dict[str, Any]:
    return req.services.carrier_accounts.check(req.tenant_id, req.params["account_id"])


def request_carrier_sync(req: Req, _: Empty) -> Reply:
    return Reply(req.services.carrier_sync.request(req.tenant_id), 202)


def carrier_sync_status(req: Req) -> dict[str, Any]:
    return req.services.carrier_sync.status(req.tenant_id)


def carrier_drift(req: Req) -> object:
    report = req.services.carrier_sync.drift_report(req.tenant_id)
    if req.wants_csv():
        from chalicelib.export import rows_csv

        return rows_csv("carrier-drift", DRIFT_COLUMNS, report["items"])
    return report


def failed_carrier_operations(req: Req) -> dict[str, Any]:
    return {"items": req.services.carrier_ops.failed(req.tenant_id), "next_cursor": None}


def retry_carrier_operation(req: Req, _: Empty) -> dict[str, Any]:
    return req.services.carrier_ops.retry(req.tenant_id, req.params["op_id"])


def terminal_carrier_operations(req: Req) -> dict[str, Any]:
    terminal = req.services.fleet.get(req.tenant_id, req.params["sn"])
    return {"items": req.services.carrier_ops.for_terminal(req.tenant_id, terminal.sn), "next_cursor": None}


# (path, method, options, handler): registered by `register`, in this order.
ROUTES: list[tuple[str, str, dict[str, Any], Callable[..., Any]]] = [
    (
        "/v1/carrier-accounts",
        "POST",
        {
            "auth": Role.ADMIN,
            "status": 201,
            "idempotent": True,
            "request": "operations.CarrierAccountCreate",
            "summary": "Connect a carrier platform account (one per carrier); the API key is kept secret, never shown",
            "tag": "carrier",
            "response": "CarrierAccount",
        },
        create_carrier_account,
    ),
    (
        "/v1/carrier-accounts",
        "GET",
        {
            "auth": Role.ADMIN,
            "summary": "The agent's carrier accounts (no keys)",
            "tag": "carrier",
            "response": "CarrierAccountPage",
        },
        list_carrier_accounts,
    ),
    (
        "/v1/carrier-accounts/{account_id}",
        "DELETE",
        {"auth": Role.ADMIN, "status": 204, "summary": "Remove a carrier account and its stored key", "tag": "carrier"},
        delete_carrier_account,
    ),
    (
        "/v1/carrier-accounts/{account_id}/check",
        "POST",
        {
            "auth": Role.ADMIN,
            "request": "Empty",
            "summary": "Check the account's credentials with one call to its platform: {ok: true} or 422",
            "tag": "carrier",
            "response": "CarrierAccountCheck",
        },
        check_carrier_account,
    ),
    (
        "/v1/carrier-sync",
        "POST",
        {
            "auth": Role.ADMIN,
            "status": 202,
            "request": "Empty",
            "summary": "Read status and usage of the agent's SIMs from their carriers now (also daily)",
            "tag": "carrier",
            "response": "CarrierSyncQueued",
        },
        request_carrier_sync,
    ),
    (
        "/v1/carrier-sync",
        "GET",
        {
            "auth": Role.READONLY,
            "summary": "The last sync of each carrier account: when, how many SIMs, requests and writes",
            "tag": "carrier",
            "response": "CarrierSyncStatus",
        },
        carrier_sync_status,
    ),
    (
        "/v1/reports/carrier-drift",
        "GET",
        {
            "auth": Role.READONLY,
            "summary": "SIMs whose carrier status disagrees with ours (also CSV)",
            "tag": "carrier",
            "response": "CarrierDriftReport",
        },
        carrier_drift,
    ),
    (
        "/v1/carrier-operations",
        "GET",
        {
            "auth": Role.READONLY,
            "summary": "Carrier operations that failed after their retries (suspensions, reactivations)",
            "tag": "carrier",
            "response": "CarrierOperationPage",
        },
        failed_carrier_operations,
    ),
    (
        "/v1/carrier-operations/{op_id}/retry",
        "POST",
        {
            "auth": Role.STAFF,
            "request": "Empty",
            "summary": "Run a failed carrier operation again now",
            "tag": "carrier",
            "response": "CarrierOperationRetried",
        },
        retry_carrier_operation,
    ),
    (
        "/v1/terminals/{sn}/carrier-operations",
        "GET",
        {
            "auth": Role.READONLY,
            "summary": "A terminal's carrier operations, newest first",
            "tag": "carrier",
            "response": "CarrierOperationPage",
        },
        terminal_carrier_operations,
    ),
]


def register(api: Api) -> None:
    for path, method, options, handler in ROUTES:
        api.route(path, method, **options)(handler)
