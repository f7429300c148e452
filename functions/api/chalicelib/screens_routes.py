"""Issue 16's routes (every capability on screen) and the shaping the lists share: the filters of
each list parsed once, merchant names and phones on terminal rows (masked for a read-only key),
CSV exports that use the list's own filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.http import PLATFORM, Api, Reply, Req
from simrenew.domain.csvfile import XLSX_MEDIA_TYPE
from simrenew.domain.tenant import Role

if TYPE_CHECKING:  # pydantic only for a route with a body (http._validate)
    from chalicelib.requests import Empty
    from chalicelib.requests.queries import MerchantList, OrderList, Page
    from chalicelib.requests.vouchers import VoidCode


def _masked(req: Req) -> bool:
    return req.principal is None or req.principal.role is None or req.principal.role < Role.STAFF


# --- shared by the list routes in app.py -------------------------------------------------------------
def terminal_rows(req: Req, terminals: list[Any]) -> list[dict[str, Any]]:
    """Each terminal as GET /v1/terminals/{sn} shows it, plus `merchant` {merchant_id, name, phone}."""
    fleet = req.services.fleet
    tenant = fleet.tenant(req.tenant_id)
    today, window = fleet.today(tenant), fleet.expiring_window(tenant)
    base = req.services.config.public_base_url
    cards = req.services.listing.merchant_cards(req.tenant_id, [t.merchant_id for t in terminals], _masked(req))
    return [{**t.to_json(today, window, base), "merchant": cards.get(t.merchant_id or "")} for t in terminals]


def with_merchant_names(req: Req, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cards = req.services.listing.merchant_cards(req.tenant_id, [r.get("merchant_id") for r in rows], _masked(req))
    out = []
    for row in rows:
        card = cards.get(row.get("merchant_id") or "")
        out.append(
            {**row, "merchant_name": card["name"] if card else None, "merchant_phone": card["phone"] if card else None}
        )
    return out


def _merchant_json(merchant: Any, masked: bool) -> dict[str, Any]:
    from simrenew.domain.contact import mask_email, mask_phone

    body: dict[str, Any] = merchant.to_json()
    if masked:
        body["phone"] = mask_phone(merchant.phone)
        body["email"] = mask_email(merchant.email) if merchant.email else None
    return body


def merchant_list(req: Req, query: MerchantList) -> object:
    from chalicelib.export import rows_csv
    from simrenew.domain.filters import MerchantFilters

    filters = query.filters()
    listing = req.services.listing
    masked = _masked(req)
    if req.wants_csv():
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = listing.merchants(req.tenant_id, MerchantFilters(filters.q, filters.sort or "name"), 200, cursor)
            rows += [_merchant_json(m, masked) for m in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
        columns = ["merchant_id", "name", "contact_name", "phone", "email", "status", "created_at"]
        return rows_csv("merchants", columns, rows)
    page = listing.merchants(req.tenant_id, filters, query.limit, query.cursor)
    return {
        "items": [_merchant_json(m, masked) for m in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
    }


ORDER_CSV_COLUMNS = [
    "created_at",
    "order_id",
    "status",
    "channel",
    "payment",
    "sns",
    "plans",
    "amount_fen",
    "paid_fen",
    "refunded_fen",
    "currency",
]


def order_list(req: Req, query: OrderList) -> object:
    from chalicelib.export import MAX_EXPORT_BYTES, rows_csv
    from simrenew.errors import RuleViolation

    filters = query.filters()
    listing = req.services.listing
    if req.wants_csv():
        rows = []
        size = 0
        for order in listing.iter_orders(req.tenant_id, filters):
            body = order.to_json()
            row = {
                **body,
                "sns": " ".join(line.sn for line in order.lines),
                "plans": " / ".join(line.plan_name for line in order.lines),
            }
            rows.append(row)
            size += 200
            if size > MAX_EXPORT_BYTES:
                raise RuleViolation(
                    "too many orders for one answer: narrow the dates or use POST /v1/exports", code="export_too_large"
                )
        return rows_csv("orders", ORDER_CSV_COLUMNS, rows)
    page = listing.orders(req.tenant_id, filters, query.limit, query.cursor)
    return {"items": [o.to_json() for o in page.items], "next_cursor": page.next_cursor, "total": page.total}


# --- new routes -----------------------------------------------------------------------------------------
def register(api: Api) -> None:
    _platform_and_imports(api)
    _import_template(api)
    _fleet_and_vouchers(api)


def _platform_and_imports(api: Api) -> None:
    @api.action("/v1/admin/tenants/{tenant_id}/reinstate", auth=PLATFORM, tag="platform", response="TenantState")
    def reinstate_tenant(req: Req, _: Empty) -> dict[str, object]:
        """Lift an agent's suspension: active again if it had been approved (its keys work again), else back
        to review
        """
        tenant = req.services.tenants.reinstate(req.params["tenant_id"])
        return {"tenant_id": tenant.tenant_id, "status": tenant.status.value}

    @api.route("/v1/imports", "GET", auth=Role.READONLY, query="queries.Page", tag="imports", response="ImportPage")
    def list_imports(req: Req, query: Page) -> dict[str, object]:
        """Import history, newest first: counts of each import (its report: GET /v1/imports/{import_id})"""
        from simrenew.adapters.dynamodb.imports import ImportRepository, job_json

        page = ImportRepository().page(req.tenant_id, query.limit, query.cursor)
        items = []
        for job in page.items:
            body = job_json(job, [], 0)
            body.pop("errors", None)
            body.pop("errors_truncated", None)
            body["report_url"] = f"/v1/imports/{job.import_id}"
            items.append(body)
        return {"items": items, "next_cursor": page.next_cursor}


def _import_template(api: Api) -> None:
    @api.route("/v1/imports/template.xlsx", "GET", auth=Role.READONLY, tag="imports", response_type=XLSX_MEDIA_TYPE)
    def import_template(req: Req) -> Reply:
        """The fleet import template as an .xlsx workbook: Chinese headers, SN/TID/ICCID/phone columns formatted as
        text, one example row (fresh identifiers) that imports as it is
        """
        from simrenew.domain.import_template import template_workbook

        fleet = req.services.fleet
        body = template_workbook(fleet.today(fleet.tenant(req.tenant_id)))
        headers = {
            "Content-Type": XLSX_MEDIA_TYPE,
            "Content-Disposition": 'attachment; filename="simrenew-import-template.xlsx"',
            "Cache-Control": "no-store",
        }
        return Reply(body, 200, headers)


def _fleet_and_vouchers(api: Api) -> None:
    @api.action("/v1/terminals/{sn}/reactivate", auth=Role.STAFF, tag="fleet", response="Terminal")
    def reactivate_terminal(req: Req, _: Empty) -> dict[str, object]:
        """Undo a deactivation: the terminal takes the status its merchant and expiry give it"""
        return terminal_rows(req, [req.services.fleet.reactivate(req.tenant_id, req.params["sn"])])[0]

    @api.route(
        "/v1/vouchers/batches/{batch_id}/void",
        "POST",
        auth=Role.ADMIN,
        request="vouchers.VoidCode",
        tag="vouchers",
        response="VoucherVoided",
    )
    def void_voucher(req: Req, body: VoidCode) -> dict[str, object]:
        """Void one unredeemed code of a batch (the code in the body, never in a URL); the batch's counts"""
        assert req.principal is not None
        return req.services.vouchers.void(req.tenant_id, req.params["batch_id"], body.fields(), req.principal.key_id)

    @api.route(
        "/v1/usage-imports",
        "POST",
        auth=Role.STAFF,
        request="fleet.UsageCsv",
        body_type="text/csv",
        tag="fleet",
        response="UsageImport",
    )
    def usage_import(req: Req, _csv: None) -> dict[str, object]:
        """Usage by CSV (sn or tid, data_used_mb, as_of; up to 1,000 rows): applied at once, the answer is the report"""
        return req.services.usage_imports.run(req.tenant_id, req.raw_body)
