"""SimRenew HTTP API (Chalice). Each handler parses, calls one service, and shapes the answer."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice

from chalicelib import carrier_routes, exports_routes
from chalicelib.http import PLATFORM, PUBLIC, Api, Reply, Req
from simrenew.bootstrap import NEEDS, Services, build_api
from simrenew.config import load_config
from simrenew.domain.csvfile import XLSX_MEDIA_TYPE
from simrenew.domain.tenant import Role

if TYPE_CHECKING:  # the request models load pydantic: only a route with a body imports them (http._validate)
    from chalicelib.requests import Empty
    from chalicelib.requests.fleet import (
        Claim,
        ImportUpload,
        MerchantCreate,
        MerchantPatch,
        PlanCreate,
        PlanPatch,
        TerminalCreate,
        TerminalPatch,
        TransferTime,
        Usage,
    )
    from chalicelib.requests.onboarding import ApiKeyCreate, Signup, TenantPatch
    from chalicelib.requests.operations import SweepRun, WebhookEndpoint
    from chalicelib.requests.orders import MarkPaid, OrderCreate, PublicConfirm, PublicOrder, Refund
    from chalicelib.requests.queries import (
        DateRange,
        Day,
        Expiring,
        MerchantList,
        Notifications,
        OrderList,
        Page,
        PublicOrderStatus,
        TenantList,
        TerminalList,
    )
    from chalicelib.requests.vouchers import VoucherBatch, VoucherRedeem
    from simrenew.domain.orders import Order

VERSION = "0.1.0"
CONFIG = load_config(needs=NEEDS["api"])  # a missing variable stops the container here, loudly

app = Chalice(app_name="simrenew-api")
# The same list as the RestApi's BinaryMediaTypes in template.yaml (a test keeps them equal): API
# Gateway hands these bodies over base64-encoded, byte for byte (a GBK CSV stays GBK, a workbook
# stays a zip), and Chalice decodes them; CSV answers go back base64-encoded the same way.
app.api.binary_types = ["text/csv", XLSX_MEDIA_TYPE]


@cache
def services() -> Services:
    return build_api(CONFIG)


api = Api(app, services)
carrier_routes.register(api)  # carrier accounts, sync, drift, operations (docs/carrier.md)
exports_routes.register(api)  # CSV exports of any size (docs/uploads-exports.md)


def _page(page: object) -> dict[str, object]:
    items = [item.to_json() for item in page.items]  # type: ignore[attr-defined]
    return {"items": items, "next_cursor": page.next_cursor}  # type: ignore[attr-defined]


# --- service ---------------------------------------------------------------------------------
service_api = api.tagged("service")


@service_api.route("/v1/health", "GET", auth=PUBLIC, response="Health")
def health(req: Req) -> Reply:
    """Liveness and data-store reachability"""
    from simrenew.adapters.dynamodb.health import table_reachable

    ok = table_reachable()
    body = {
        "status": "ok" if ok else "degraded",
        "version": VERSION,
        "env": req.services.config.env,
        "checks": {"dynamodb": "ok" if ok else "unreachable"},
    }
    return Reply(body, 200 if ok else 503)


@service_api.route("/v1/openapi.json", "GET", auth=PUBLIC, response="OpenApiDocument")
def openapi(req: Req) -> dict[str, object]:
    """This API's OpenAPI 3 document"""
    from chalicelib.openapi import build_openapi  # only this route needs it: not at a cold start

    return build_openapi(api.specs, VERSION)


# --- onboarding --------------------------------------------------------------------------------
onboarding_api = api.tagged("onboarding")


@onboarding_api.create("/v1/signup", auth=PUBLIC, request="onboarding.Signup", response="TenantState")
def signup(req: Req, body: Signup) -> dict[str, object]:
    """An agent applies for an account (reviewed by the platform)"""
    tenant = req.services.tenants.signup(body.fields(), req.client_id)
    return {"tenant_id": tenant.tenant_id, "status": tenant.status.value}


platform_api = api.tagged("platform")


@platform_api.route("/v1/admin/tenants", "GET", auth=PLATFORM, query="queries.TenantList", response="TenantPage")
def list_tenants(req: Req, query: TenantList) -> dict[str, object]:
    """List agents, optionally by status"""
    return _page(req.services.tenants.list_tenants(query.status, query.limit, query.cursor))


@platform_api.create("/v1/admin/tenants", auth=PLATFORM, request="onboarding.Signup", response="TenantCreated")
def create_tenant(req: Req, body: Signup) -> dict[str, object]:
    """Create an active agent directly; returns its first admin key once"""
    tenant, issued = req.services.tenants.create_active(body.fields())
    return {**tenant.to_json(), "api_key": issued.secret, "key_id": issued.key.key_id}


@platform_api.route("/v1/admin/tenants/{tenant_id}", "GET", auth=PLATFORM, response="Tenant")
def get_tenant_admin(req: Req) -> dict[str, object]:
    """One agent"""
    return req.services.tenants.get(req.params["tenant_id"]).to_json()


@platform_api.action("/v1/admin/tenants/{tenant_id}/approve", auth=PLATFORM, response="TenantApproved")
def approve_tenant(req: Req, _: Empty) -> dict[str, object]:
    """Approve a pending agent; returns its first admin key once"""
    issued = req.services.tenants.approve(req.params["tenant_id"])
    return {
        "tenant_id": req.params["tenant_id"],
        "status": "active",
        "api_key": issued.secret,
        "key_id": issued.key.key_id,
    }


@platform_api.action("/v1/admin/tenants/{tenant_id}/suspend", auth=PLATFORM, response="TenantState")
def suspend_tenant(req: Req, _: Empty) -> dict[str, object]:
    """Suspend an agent: all its keys stop working at once"""
    tenant = req.services.tenants.suspend(req.params["tenant_id"])
    return {"tenant_id": tenant.tenant_id, "status": tenant.status.value}


# --- the tenant itself ----------------------------------------------------------------------
tenant_api = api.tagged("tenant")


@tenant_api.route("/v1/me", "GET", auth=Role.READONLY, response="Me")
def whoami(req: Req) -> dict[str, object]:
    """Who the key is: its agent (id, name, status, time zone), role and key id (the console's sign-in)"""
    assert req.principal is not None and req.principal.role is not None
    tenant = req.services.tenants.get(req.tenant_id)
    return {
        "tenant_id": tenant.tenant_id,
        "agent_name": tenant.name,
        "service_phone": tenant.service_phone,
        "tenant_status": tenant.status.value,
        "timezone": tenant.settings.timezone,
        "role": req.principal.role.label,
        "key_id": req.principal.key_id,
    }


@tenant_api.route("/v1/tenant", "GET", auth=Role.ADMIN, response="Tenant")
def get_tenant(req: Req) -> dict[str, object]:
    """The calling agent's profile and settings"""
    return req.services.tenants.get(req.tenant_id).to_json()


@tenant_api.route("/v1/tenant", "PATCH", auth=Role.ADMIN, request="onboarding.TenantPatch", response="Tenant")
def patch_tenant(req: Req, body: TenantPatch) -> dict[str, object]:
    """Change profile fields and settings (validated, all or nothing)"""
    return req.services.tenants.update(req.tenant_id, body.fields()).to_json()


@tenant_api.create("/v1/api-keys", auth=Role.ADMIN, request="onboarding.ApiKeyCreate", response="ApiKeyCreated")
def create_api_key(req: Req, body: ApiKeyCreate) -> dict[str, object]:
    """Create an API key; the key is shown once"""
    assert req.principal is not None
    issued = req.services.tenants.create_key(req.principal, body.fields())
    return {**issued.key.to_json(), "api_key": issued.secret}


@tenant_api.route("/v1/api-keys", "GET", auth=Role.ADMIN, query="queries.Page", response="ApiKeyPage")
def list_api_keys(req: Req, query: Page) -> dict[str, object]:
    """List API keys (no secrets)"""
    return _page(req.services.tenants.list_keys(req.tenant_id, query.limit, query.cursor))


@tenant_api.route("/v1/api-keys/{key_id}", "DELETE", auth=Role.ADMIN, status=204)
def revoke_api_key(req: Req) -> None:
    """Revoke an API key"""
    req.services.tenants.revoke_key(req.tenant_id, req.params["key_id"])


# --- fleet: merchants -------------------------------------------------------------------------
fleet_api = api.tagged("fleet")


@fleet_api.create("/v1/merchants", auth=Role.STAFF, request="fleet.MerchantCreate", response="Merchant")
def create_merchant(req: Req, body: MerchantCreate) -> dict[str, object]:
    """Create a merchant (name + phone unique within the agent)"""
    return req.services.fleet.create_merchant(req.tenant_id, body.fields()).to_json()


@fleet_api.route("/v1/merchants", "GET", auth=Role.READONLY, query="queries.MerchantList", response="MerchantPage")
def list_merchants(req: Req, query: MerchantList) -> object:
    """List merchants with a total; q matches any part of name, contact or phone; sort=name|-name (phones masked for a
    read-only key; Accept: text/csv for CSV)
    """
    from chalicelib.screens_routes import merchant_list

    return merchant_list(req, query)


@fleet_api.route("/v1/merchants/{merchant_id}", "GET", auth=Role.READONLY, response="Merchant")
def get_merchant(req: Req) -> dict[str, object]:
    """One merchant"""
    return req.services.fleet.get_merchant(req.tenant_id, req.params["merchant_id"]).to_json()


@fleet_api.route(
    "/v1/merchants/{merchant_id}", "PATCH", auth=Role.STAFF, request="fleet.MerchantPatch", response="Merchant"
)
def patch_merchant(req: Req, body: MerchantPatch) -> dict[str, object]:
    """Change a merchant"""
    return req.services.fleet.update_merchant(req.tenant_id, req.params["merchant_id"], body.fields()).to_json()


# --- fleet: plans -------------------------------------------------------------------------------
plans_api = api.tagged("plans")


@plans_api.create("/v1/plans", auth=Role.ADMIN, request="fleet.PlanCreate", response="Plan")
def create_plan(req: Req, body: PlanCreate) -> dict[str, object]:
    """Create a renewal plan (term, quota, price in fen)"""
    return req.services.fleet.create_plan(req.tenant_id, body.fields()).to_json()


@plans_api.route("/v1/plans", "GET", auth=Role.READONLY, response="PlanPage")
def list_plans(req: Req) -> dict[str, object]:
    """List plans (active first)"""
    return {"items": [p.to_json() for p in req.services.fleet.list_plans(req.tenant_id)], "next_cursor": None}


@plans_api.route("/v1/plans/{plan_id}", "PATCH", auth=Role.ADMIN, request="fleet.PlanPatch", response="Plan")
def patch_plan(req: Req, body: PlanPatch) -> dict[str, object]:
    """Change a plan"""
    return req.services.fleet.update_plan(req.tenant_id, req.params["plan_id"], body.fields()).to_json()


# --- fleet: terminals ------------------------------------------------------------------------------
def _terminal_json(req: Req, terminal: object) -> dict[str, object]:
    fleet = req.services.fleet
    tenant = fleet.tenant(req.tenant_id)
    answer: dict[str, object] = terminal.to_json(  # type: ignore[attr-defined]
        fleet.today(tenant), fleet.expiring_window(tenant), req.services.config.public_base_url
    )
    carrier_routes.with_carrier_state(req, [answer], [terminal], single=True)  # type: ignore[list-item]
    return answer


@fleet_api.create("/v1/terminals", auth=Role.STAFF, request="fleet.TerminalCreate", response="Terminal")
def register_terminal(req: Req, body: TerminalCreate) -> dict[str, object]:
    """Register a terminal; SN, TID and ICCID are unique across all agents"""
    return _terminal_json(req, req.services.fleet.register(req.tenant_id, body.fields()))


@fleet_api.route("/v1/terminals", "GET", auth=Role.READONLY, query="queries.TerminalList", response="TerminalPage")
def list_terminals(req: Req, query: TerminalList) -> object:
    """List terminals with their merchant's name and phone, a total; q matches any part of SN, TID, ICCID, merchant name
    or phone; sort=sn|expires_on|-expires_on|name; carrier=disagrees (docs/carrier.md) (Accept: text/csv exports what
    the filters select)
    """
    from chalicelib.screens_routes import terminal_rows

    filters = query.filters()
    if req.wants_csv():
        from chalicelib.export import terminals_csv

        return terminals_csv(req, req.services.listing.iter_terminals(req.tenant_id, filters))
    if query.carrier is not None:  # ?carrier=disagrees: the carrier disagrees with us (docs/carrier.md)
        return carrier_routes.disagreeing_terminals(req)
    page = req.services.listing.terminals(req.tenant_id, filters, query.limit, query.cursor)
    items = terminal_rows(req, page.items)
    carrier_routes.with_carrier_state(req, items, list(page.items))
    return {"items": items, "next_cursor": page.next_cursor, "total": page.total}


@fleet_api.route("/v1/terminals/claim", "POST", auth=Role.ADMIN, request="fleet.Claim", response="Terminal")
def claim_terminal(req: Req, body: Claim) -> dict[str, object]:
    """Take over a terminal from another agent with its transfer code"""
    return _terminal_json(req, req.services.fleet.claim(req.tenant_id, body.fields()))


@fleet_api.route("/v1/terminals/{sn}", "GET", auth=Role.READONLY, response="Terminal")
def get_terminal(req: Req) -> dict[str, object]:
    """One terminal"""
    return _terminal_json(req, req.services.fleet.get(req.tenant_id, req.params["sn"]))


@fleet_api.route("/v1/terminals/{sn}", "PATCH", auth=Role.STAFF, request="fleet.TerminalPatch", response="Terminal")
def patch_terminal(req: Req, body: TerminalPatch) -> dict[str, object]:
    """Change a terminal; a new TID or ICCID moves its claim atomically"""
    assert req.principal is not None and req.principal.role is not None
    terminal = req.services.fleet.update(
        req.tenant_id, req.params["sn"], body.fields(), actor=req.principal.key_id, role=req.principal.role
    )
    return _terminal_json(req, terminal)


@fleet_api.action("/v1/terminals/{sn}/deactivate", auth=Role.STAFF, response="Terminal")
def deactivate_terminal(req: Req, _: Empty) -> dict[str, object]:
    """Deactivate a terminal: no more reminders, no renewals"""
    return _terminal_json(req, req.services.fleet.deactivate(req.tenant_id, req.params["sn"]))


@fleet_api.route("/v1/terminals/{sn}/usage", "POST", auth=Role.STAFF, request="fleet.Usage", response="TerminalUsage")
def record_usage(req: Req, body: Usage) -> dict[str, object]:
    """Report data used this term; 80 % and 100 % crossings are recorded once"""
    terminal, alerts = req.services.fleet.record_usage(req.tenant_id, req.params["sn"], body.fields())
    return {**_terminal_json(req, terminal), "alerts": alerts}


@fleet_api.action("/v1/terminals/{sn}/transfer-code", auth=Role.ADMIN, response="TransferCode")
def transfer_code(req: Req, _: Empty) -> dict[str, object]:
    """Issue a single-use code (72 h) that lets another agent take this terminal"""
    code, expires_at = req.services.fleet.issue_transfer_code(req.tenant_id, req.params["sn"])
    return {"sn": req.params["sn"].strip().upper(), "code": code, "expires_at": expires_at}


@fleet_api.create(
    "/v1/terminals/{sn}/transfer-time", auth=Role.ADMIN, request="fleet.TransferTime", response="TimeTransfer"
)
def transfer_time(req: Req, body: TransferTime) -> dict[str, object]:
    """转赠: move whole unused months to another terminal of the agent (one transaction, ledger lines)"""
    assert req.principal is not None
    return req.services.transfers.transfer_time(req.tenant_id, req.params["sn"], body.fields(), req.principal.key_id)


@fleet_api.route("/v1/terminals/{sn}/qr.svg", "GET", auth=Role.READONLY, response_type="image/svg+xml")
def terminal_qr(req: Req) -> Reply:
    """QR code of the pay link"""
    from chalicelib.export import qr_svg

    terminal = req.services.fleet.get(req.tenant_id, req.params["sn"])
    return Reply(
        qr_svg(f"{req.services.config.public_base_url}/pay/{terminal.sn}"),
        200,
        {"Content-Type": "image/svg+xml", "Cache-Control": "private, max-age=3600"},
    )


# --- fleet: CSV imports ---------------------------------------------------------------------------------
imports_api = api.tagged("imports")


@imports_api.route(
    "/v1/imports",
    "POST",
    auth=Role.STAFF,
    status=202,
    idempotent=True,
    request="fleet.FleetCsv",
    body_type="text/csv",
    alt_body=("application/json", "fleet.ImportUpload"),
    also=((201, "A presigned upload: PUT the file to upload.url"), (413, "Too large: a body over 5 MB")),
    response={201: "ImportUpload", 202: "ImportStarted"},
)
def start_import(req: Req, body: ImportUpload | None) -> object:
    """Import a fleet from CSV (UTF-8 or GBK) or an .xlsx workbook, English or Chinese headers: a body up to 5 MB (202),
    or JSON {filename, size_bytes} for a presigned upload up to 200 MB (201); processed in the background
    """
    assert req.principal is not None
    if body is not None:
        answer = req.services.imports.create_upload(req.tenant_id, body.fields(), req.principal.key_id)
        return Reply(answer, 201)
    import_id = req.services.imports.start(req.tenant_id, req.raw_body, req.principal.key_id)
    return {"import_id": import_id, "status": "running"}


@imports_api.route("/v1/imports/{import_id}", "GET", auth=Role.READONLY, response="Import")
def get_import(req: Req) -> object:
    """Import progress and row errors"""
    if req.wants_csv():
        from chalicelib.export import import_errors_csv

        return import_errors_csv(req, req.services.imports.all_errors(req.tenant_id, req.params["import_id"]))
    return req.services.imports.status(req.tenant_id, req.params["import_id"])


@imports_api.action("/v1/imports/{import_id}/resume", auth=Role.STAFF, response="Import")
def resume_import(req: Req, _: Empty) -> dict[str, object]:
    """Resume an import whose worker stopped (nothing is written twice)"""
    return req.services.imports.resume(req.tenant_id, req.params["import_id"])


# --- orders and payments -----------------------------------------------------------------------------
def _order_answer(order: object, payment: dict[str, object] | None) -> dict[str, object]:
    body = order.to_json()  # type: ignore[attr-defined]
    if payment is not None:
        body["payment"] = {**payment, "method": "online"}
    return body  # type: ignore[no-any-return]


def _audited(
    req: Req, change: Callable[[str, str, dict[str, Any], str], Order], fields: dict[str, Any]
) -> dict[str, object]:
    """An audited change of the order in the path by the calling key (marked paid, refunded): the order's detail."""
    assert req.principal is not None
    order = change(req.tenant_id, req.params["order_id"], fields, req.principal.key_id)
    return req.services.orders.answer(order)


orders_api = api.tagged("orders")


@orders_api.create("/v1/orders", auth=Role.STAFF, request="orders.OrderCreate", response="CreatedOrder")
def create_order(req: Req, body: OrderCreate) -> dict[str, object]:
    """Create a renewal order (online: a Stripe PaymentIntent; offline: mark it paid later)"""
    assert req.principal is not None
    order, payment = req.services.orders.create(req.tenant_id, body.fields(), actor=req.principal.key_id)
    return _order_answer(order, payment)


@orders_api.route("/v1/orders", "GET", auth=Role.READONLY, query="queries.OrderList", response="OrderPage")
def list_orders(req: Req, query: OrderList) -> object:
    """List orders, newest first, with a total: by status, SN (any line), channel (agent|public) and creation day
    from/to (Accept: text/csv for CSV)
    """
    from chalicelib.screens_routes import order_list

    return order_list(req, query)


@orders_api.route("/v1/orders/{order_id}", "GET", auth=Role.READONLY, response="OrderDetail")
def get_order(req: Req) -> dict[str, object]:
    """One order with its audit trail"""
    svc = req.services.orders
    return svc.answer(svc.get(req.tenant_id, req.params["order_id"]))


@orders_api.route(
    "/v1/orders/{order_id}/mark-paid", "POST", auth=Role.ADMIN, request="orders.MarkPaid", response="OrderDetail"
)
def mark_paid(req: Req, body: MarkPaid) -> dict[str, object]:
    """Record an offline (cash) payment and fulfil the order; audited"""
    return _audited(req, req.services.orders.mark_paid, body.fields())


@orders_api.route(
    "/v1/orders/{order_id}/refund", "POST", auth=Role.ADMIN, request="orders.Refund", response="OrderDetail"
)
def refund_order(req: Req, body: Refund) -> dict[str, object]:
    """Refund: full before the term starts, else unused whole months; expiry moves back"""
    return _audited(req, req.services.orders.refund, body.fields())


@orders_api.route("/v1/terminals/{sn}/renewals", "GET", auth=Role.READONLY, response="RenewalPage")
def terminal_renewals(req: Req) -> object:
    """The terminal's renewal ledger"""
    items = req.services.orders.renewals(req.tenant_id, req.params["sn"])
    if req.wants_csv():
        from chalicelib.export import rows_csv

        columns = ["created_at", "kind", "source", "old_expires_on", "new_expires_on", "term_months", "amount_fen"]
        return rows_csv(f"renewals-{req.params['sn'].upper()}", columns, items, "ledger")
    return {"items": items, "next_cursor": None}


# --- merchant self-service (public) --------------------------------------------------------------------
public_api = api.tagged("public")


@public_api.route("/v1/public/terminals/{sn_or_tid}", "GET", auth=PUBLIC, response="PublicTerminal")
def public_terminal(req: Req) -> dict[str, object]:
    """查询余额: status, expiry, data used and the agent's plans with fee and total"""
    return req.services.orders.public_lookup(req.params["sn_or_tid"], req.client_id)


@public_api.create("/v1/public/orders", auth=PUBLIC, request="orders.PublicOrder", response="PublicOrder")
def public_order(req: Req, body: PublicOrder) -> dict[str, object]:
    """A merchant renews a terminal: returns the payment (a Stripe PaymentIntent, or straight to the agent's WeChat Pay
    / Alipay: code_url, h5_url or jsapi) and an order_token
    """
    order, payment, token = req.services.orders.public_create(body.fields(), req.client_id, req.client_ip)
    return {
        "order_id": order.order_id,
        "order_token": token,
        "amount_fen": order.amount_fen,
        "currency": order.currency,
        "status": order.status.value,
        "payment": payment,
        "lines": [line.to_json() for line in order.lines],
    }


@public_api.route(
    "/v1/public/orders/{order_id}", "GET", auth=PUBLIC, query="queries.PublicOrderStatus", response="PublicOrderStatus"
)
def public_order_status(req: Req, query: PublicOrderStatus) -> dict[str, object]:
    """Order status for the pay page (needs the order_token); check=1 asks WeChat Pay / Alipay now"""
    return req.services.orders.public_status(req.params["order_id"], query.token, query.check == "1")


@public_api.route(
    "/v1/public/orders/{order_id}/confirm",
    "POST",
    auth=PUBLIC,
    request="orders.PublicConfirm",
    response="PublicPaymentConfirmed",
)
def public_order_confirm(req: Req, body: PublicConfirm) -> dict[str, object]:
    """Confirm the PaymentIntent server-side with a PaymentMethod (card flow)"""
    return req.services.orders.public_confirm(req.params["order_id"], body.fields())


# --- vouchers -------------------------------------------------------------------------------------------
vouchers_api = api.tagged("vouchers")


@vouchers_api.create(
    "/v1/vouchers/batches", auth=Role.ADMIN, request="vouchers.VoucherBatch", response="VoucherBatchCreated"
)
def create_voucher_batch(req: Req, body: VoucherBatch) -> dict[str, object]:
    """Generate prepaid voucher codes for a plan (shown once, stored hashed)"""
    assert req.principal is not None
    return req.services.vouchers.create_batch(req.tenant_id, body.fields(), req.principal.key_id)


@vouchers_api.route("/v1/vouchers/batches", "GET", auth=Role.READONLY, response="VoucherBatchPage")
def list_voucher_batches(req: Req) -> dict[str, object]:
    """Voucher batches (no codes)"""
    return {"items": req.services.vouchers.batches(req.tenant_id), "next_cursor": None}


@public_api.route(
    "/v1/public/vouchers/redeem", "POST", auth=PUBLIC, request="vouchers.VoucherRedeem", response="VoucherRedeemed"
)
def redeem_voucher(req: Req, body: VoucherRedeem) -> dict[str, object]:
    """A merchant redeems a voucher code (刮刮卡) for a terminal; exactly once"""
    return req.services.vouchers.redeem(body.fields(), req.client_id)


# --- reports ---------------------------------------------------------------------------------------------
reports_api = api.tagged("reports")


@reports_api.report("/v1/reports/revenue", auth=Role.STAFF, query="queries.DateRange", response="RevenueReport")
def revenue_report(req: Req, query: DateRange) -> object:
    """Revenue per day: gross, agent fees, refunds, net (Accept: text/csv for CSV)"""
    report = req.services.reports.revenue(req.tenant_id, query.from_, query.to)
    if req.wants_csv():
        from chalicelib.export import rows_csv

        return rows_csv(
            "revenue", ["date", "orders", "gross_fen", "fees_fen", "refunds_fen", "net_fen"], report["days"]
        )
    return report


@reports_api.report("/v1/reports/settlement", auth=Role.ADMIN, query="queries.DateRange", response="SettlementReport")
def settlement_report(req: Req, query: DateRange) -> object:
    """Settlement per day: collected online, refunds, Stripe fees, platform fee, payable; cash and vouchers apart
    (Accept: text/csv for CSV)
    """
    report = req.services.reports.settlement(req.tenant_id, query.from_, query.to)
    if req.wants_csv():
        from chalicelib.export import rows_csv
        from simrenew.services.reports import SETTLEMENT_COLUMNS

        return rows_csv(f"settlement-{report['from']}-{report['to']}", ["date", *SETTLEMENT_COLUMNS], report["days"])
    return report


@reports_api.report("/v1/reports/reconciliation", auth=Role.STAFF, query="queries.Day", response="ReconciliationReport")
def reconciliation_report(req: Req, query: Day) -> object:
    """A day's Stripe balance transactions matched against orders; unmatched on either side"""
    report = req.services.reports.reconciliation(req.tenant_id, query.date)
    if req.wants_csv():
        from chalicelib.export import rows_csv

        rows = [{**r, "status": "matched"} for r in report["matched"]]
        rows += [{**r, "status": "unmatched_stripe"} for r in report["unmatched_stripe"]]
        rows += [{**r, "status": "unmatched_bill"} for r in report.get("unmatched_bill", [])]
        rows += [{**r, "status": "unmatched_order"} for r in report["unmatched_orders"]]
        columns = ["status", "kind", "order_id", "payment_intent_id", "balance_transaction", "amount_fen", "fee_fen"]
        # the direct rails' columns come last: a sheet that reads the first eight keeps working
        columns += ["reason", "provider", "out_trade_no", "out_refund_no"]
        return rows_csv(f"reconciliation-{report['date']}", columns, rows)
    return report


# --- the expiry sweep and its reports ---------------------------------------------------------------
@platform_api.route(
    "/v1/admin/sweeps", "POST", auth=PLATFORM, status=202, request="operations.SweepRun", response="SweepQueued"
)
def run_sweep(req: Req, body: SweepRun) -> dict[str, object]:
    """Start the expiry sweep for a day in the sweep function (fanned out as the schedule's); follow it at
    /v1/admin/sweeps/{run_id}
    """
    from simrenew.domain.dates import parse_date

    return req.services.sweep_runs.request(parse_date(body.as_of, "as_of"))


@platform_api.route("/v1/admin/sweeps/{run_id}", "GET", auth=PLATFORM, response="SweepRun")
def sweep_progress(req: Req) -> dict[str, object]:
    """A sweep run's progress: each shard worker's dates read, terminals due, messages and moves"""
    return req.services.sweep_runs.progress(req.params["run_id"])


@reports_api.route("/v1/reports/dashboard", "GET", auth=Role.READONLY, response="Dashboard")
def dashboard_report(req: Req) -> dict[str, object]:
    """The console's dashboard: terminals by status, expiring in 7/30 days, revenue this month, 12 weeks"""
    return req.services.dashboard.dashboard(req.tenant_id)


@reports_api.route(
    "/v1/reports/expiring", "GET", auth=Role.READONLY, query="queries.Expiring", response="ExpiringReport"
)
def expiring_report(req: Req, query: Expiring) -> object:
    """Terminals expiring in the next N days: counts per week and the list (also CSV)"""
    from chalicelib.screens_routes import with_merchant_names

    report = req.services.expiry_reports.expiring(req.tenant_id, query.days)
    report["items"] = with_merchant_names(req, report["items"])
    if req.wants_csv():
        from chalicelib.export import rows_csv

        columns = ["sn", "tid", "merchant_name", "merchant_phone", "merchant_id", "status", "expires_on", "days_left"]
        return rows_csv("expiring", columns, report["items"], "expiring")
    return report


@reports_api.route(
    "/v1/notifications", "GET", auth=Role.READONLY, query="queries.Notifications", response="NotificationPage"
)
def list_notifications(req: Req, query: Notifications) -> object:
    """What was sent about a terminal (recipients masked; also CSV)"""
    items = req.services.expiry_reports.notifications(req.tenant_id, query.sn)
    if req.wants_csv():
        from chalicelib.export import rows_csv

        columns = ["created_at", "template", "channel", "recipient", "state", "term"]
        return rows_csv("notifications", columns, items, "notifications")
    return {"items": items, "next_cursor": None}


# --- outbound webhooks to agents ------------------------------------------------------------------
def _items(page: object) -> dict[str, object]:
    return {"items": page.items, "next_cursor": page.next_cursor}  # type: ignore[attr-defined]


webhooks_api = api.tagged("webhooks")


@webhooks_api.create(
    "/v1/webhook-endpoints", auth=Role.ADMIN, request="operations.WebhookEndpoint", response="WebhookEndpointCreated"
)
def create_webhook_endpoint(req: Req, body: WebhookEndpoint) -> dict[str, object]:
    """Register an endpoint for signed events (SimRenew-Signature); the secret is shown once"""
    endpoint, secret = req.services.webhooks.create_endpoint(req.tenant_id, body.fields())
    return {**endpoint, "secret": secret}


@webhooks_api.route(
    "/v1/webhook-endpoints", "GET", auth=Role.ADMIN, query="queries.Page", response="WebhookEndpointPage"
)
def list_webhook_endpoints(req: Req, query: Page) -> dict[str, object]:
    """Webhook endpoints"""
    return _items(req.services.webhooks.list_endpoints(req.tenant_id, query.limit, query.cursor))


@webhooks_api.route("/v1/webhook-endpoints/{endpoint_id}", "DELETE", auth=Role.ADMIN, status=204)
def delete_webhook_endpoint(req: Req) -> None:
    """Stop sending to an endpoint (its delivery log stays)"""
    req.services.webhooks.delete_endpoint(req.tenant_id, req.params["endpoint_id"])


@webhooks_api.route(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    "GET",
    auth=Role.ADMIN,
    query="queries.Page",
    response="WebhookDeliveryPage",
)
def webhook_deliveries(req: Req, query: Page) -> dict[str, object]:
    """The endpoint's delivery log, newest first"""
    endpoint_id = req.params["endpoint_id"]
    return _items(req.services.webhooks.deliveries(req.tenant_id, endpoint_id, query.limit, query.cursor))


# --- issue 16: the screens' routes (reinstate, import history, vouchers, reactivate, usage CSV) ----
from chalicelib import screens_routes  # noqa: E402 - registered after the routes above

screens_routes.register(api)
