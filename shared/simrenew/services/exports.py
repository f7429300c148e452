"""CSV exports of any size: `POST /v1/exports {kind, filters}` queues one, the worker writes the CSV
to the bucket under the tenant's prefix (exports/<tenant_id>/<export_id>.csv, removed by a lifecycle
rule), and `GET /v1/exports/{id}` answers a short-lived presigned download URL.

The rows come from the same services as the listing routes, with the same filter parameters
(passed through as given, so a filter a list learns is an export filter too); the CSV is the
listing route's `Accept: text/csv` answer, which is capped in size (413 export_too_large).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from simrenew.clock import Clock, iso_utc
from simrenew.domain.csvfile import TEXT_COLUMNS, excel_text, export_csv_line, export_header_line
from simrenew.domain.vocabulary import API_ENUMS
from simrenew.errors import NotFound, SimRenewError, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.exports import ExportJob

if TYPE_CHECKING:
    from simrenew.ports.dispatch import Dispatcher
    from simrenew.ports.exports import Exports
    from simrenew.ports.objects import Objects
    from simrenew.services.fleet import FleetService
    from simrenew.services.orders import OrderService
    from simrenew.services.reports import ExpiryReports

KINDS = API_ENUMS["export_kind"]
RETENTION = timedelta(days=2)  # the job item; the object's lifecycle rule removes it after 1 day
PAGE = 200
# In memory up to this, then a temporary file (Lambda's /tmp): an export is never held whole.
SPOOL_BYTES = 8 * 1024 * 1024
# The columns of each kind's CSV: the listing routes' `Accept: text/csv` answers use the same.
COLUMNS: dict[str, list[str]] = {
    "orders": [
        "order_id",
        "created_at",
        "status",
        "payment",
        "channel",
        "amount_fen",
        "fee_fen",
        "paid_fen",
        "refunded_fen",
        "currency",
        "sns",
        "paid_at",
        "fulfilled_at",
        "payment_intent_id",
    ],
    "ledger": ["created_at", "kind", "source", "old_expires_on", "new_expires_on", "term_months", "amount_fen"],
    "notifications": ["created_at", "template", "channel", "recipient", "state", "term"],
    "expiring": ["sn", "tid", "merchant_id", "status", "expires_on", "days_left"],
}


def _filters(body: dict[str, Any]) -> dict[str, str]:
    raw = body.get("filters", {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError("filters", "invalid_type", "filters is an object of the list's query parameters")
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or len(name) > 64:
            raise ValidationError("filters", "invalid_filter", "filter names are short strings")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError(f"filters.{name}", "invalid_type", f"filters.{name} must be a string or a number")
        text = str(value)
        if len(text) > 200:
            raise ValidationError(f"filters.{name}", "too_long", f"filters.{name} is at most 200 characters")
        out[name] = text
    for paging in ("limit", "cursor"):
        out.pop(paging, None)  # an export is every row the filters select
    return out


@dataclass(eq=False, repr=False)
class ExportService:
    _fleet: FleetService
    _orders: OrderService
    _expiry: ExpiryReports
    _objects: Objects
    _dispatcher: Dispatcher
    _clock: Clock
    _exports: Exports

    # --- API side ---------------------------------------------------------------------------------
    def start(self, tenant_id: str, body: dict[str, Any], created_by: str) -> dict[str, Any]:
        kind = body.get("kind")
        if kind not in KINDS:
            raise ValidationError("kind", "invalid_choice", f"kind must be one of {', '.join(KINDS)}")
        filters = _filters(body)
        # The filters are checked now (the list service refuses what it refuses on the list route):
        # a bad one is a 400 here, not a failed export later. One page at most is read.
        try:
            _, rows = self.rows(tenant_id, kind, filters)
            next(rows, None)
        except ValidationError as err:
            raise ValidationError(f"filters.{err.field}", err.code, err.message) from None
        export_id = new_id("exp")
        now = self._clock.now()
        filters_json = json.dumps(filters, ensure_ascii=False, sort_keys=True)
        self._exports.create(
            ExportJob(tenant_id, export_id, kind, filters_json, created_at=now), created_by, now + RETENTION
        )
        self._dispatcher.dispatch({"task": "export", "tenant_id": tenant_id, "export_id": export_id})
        return {"export_id": export_id, "kind": kind, "status": "queued"}

    def status(self, tenant_id: str, export_id: str) -> dict[str, Any]:
        job = self._job(tenant_id, export_id)
        body: dict[str, Any] = {
            "export_id": job.export_id,
            "kind": job.kind,
            "filters": json.loads(job.filters_json),
            "status": "running" if job.status == "queued" else job.status,
            "rows": job.rows,
            "size_bytes": job.size_bytes,
            "download_url": None,
            "download_expires_at": None,
            "message": job.error_message,
            "created_at": iso_utc(job.created_at) if job.created_at else None,
            "finished_at": iso_utc(job.finished_at) if job.finished_at else None,
        }
        if job.status == "done" and job.object_key:
            body["download_url"] = self._objects.presign_get(job.object_key, f"{job.kind}-{job.export_id}.csv")
            body["download_expires_at"] = iso_utc(self._clock.now() + timedelta(seconds=self._objects.get_url_ttl_s))
        return body

    def _job(self, tenant_id: str, export_id: str) -> ExportJob:
        job = self._exports.get(tenant_id, export_id) if export_id.startswith("exp_") else None
        if job is None:
            raise NotFound("no such export", code="export_not_found")
        return job

    # --- worker side ------------------------------------------------------------------------------
    def run(self, tenant_id: str, export_id: str) -> str:
        job = self._job(tenant_id, export_id)
        if job.status in ("done", "failed"):
            return "nothing_to_do"
        now = self._clock.now()
        self._exports.running(job, now)
        log = get_logger()
        try:
            header, rows = self.rows(tenant_id, job.kind, json.loads(job.filters_json))
            count = 0
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
                text.write("\ufeff")  # BOM: Excel in China opens UTF-8 correctly with it
                text.write(header)
                for line in rows:
                    text.write(line)
                    count += 1
                text.detach()  # flushes; the spool stays open
                size = spool.tell()
                spool.seek(0)
                key = self._objects.export_key(tenant_id, export_id)
                self._objects.upload(key, spool, "text/csv; charset=utf-8")  # type: ignore[arg-type]
        except SimRenewError as exc:
            log.warning("export failed", extra={"export_id": export_id, "code": exc.code})
            self._finish(job, "failed", message=exc.message)
            return "failed"
        self._finish(job, "done", rows=count, size=size, key=key)
        log.info("export written", extra={"export_id": export_id, "rows": count, "bytes": size})
        return "done"

    def _finish(
        self, job: ExportJob, status: str, *, rows: int = 0, size: int = 0, key: str | None = None, message: str = ""
    ) -> None:
        self._exports.finish(job, status, rows, size, key, message, self._clock.now())

    # --- the rows of each kind ------------------------------------------------------------------
    def rows(self, tenant_id: str, kind: str, filters: dict[str, str]) -> tuple[str, Iterator[str]]:
        """(header line, CSV lines) of an export; lazy, a page of the list at a time."""
        if kind == "terminals":
            return export_header_line(), self._terminal_lines(tenant_id, filters)
        columns = COLUMNS[kind]
        source: Callable[[], Iterator[dict[str, Any]]] = {
            "orders": lambda: self._order_rows(tenant_id, filters),
            "ledger": lambda: iter(self._orders.renewals(tenant_id, _required_sn(filters))),
            "notifications": lambda: iter(self._expiry.notifications(tenant_id, filters.get("sn"))),
            "expiring": lambda: iter(self._expiry.expiring(tenant_id, filters.get("days"))["items"]),
        }[kind]
        return csv_line(columns), (csv_line(_cells(row, columns)) for row in _eager(source))

    def _terminal_lines(self, tenant_id: str, filters: dict[str, str]) -> Iterator[str]:
        fleet = self._fleet
        first = fleet.list_terminals(tenant_id, filters, PAGE, None)  # raises on a bad filter, at once
        pages = _pages(first, lambda cursor: fleet.list_terminals(tenant_id, filters, PAGE, cursor))
        return terminal_lines(fleet, tenant_id, pages)

    def _order_rows(self, tenant_id: str, filters: dict[str, str]) -> Iterator[dict[str, Any]]:
        status = filters.get("status") or None
        first = self._orders.page(tenant_id, status, PAGE, None)
        for order in _pages(first, lambda c: self._orders.page(tenant_id, status, PAGE, c)):
            body = order.to_json()
            body["sns"] = " ".join(line["sn"] for line in body["lines"])
            yield body


def _required_sn(filters: dict[str, str]) -> str:
    sn = filters.get("sn", "").strip()
    if not sn:
        raise ValidationError("sn", "required", "sn is required: the ledger is a terminal's")
    return sn


def _eager(source: Callable[[], Iterator[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The first read happens when the iterator is made, so a bad filter raises in start()."""
    rows = source()
    first = next(rows, None)
    if first is None:
        return iter(())

    def chained() -> Iterator[dict[str, Any]]:
        yield first
        yield from rows

    return chained()


def _pages(first: Any, fetch: Callable[[str], Any]) -> Iterator[Any]:
    page = first
    while True:
        yield from page.items
        if not page.next_cursor:
            return
        page = fetch(page.next_cursor)


def _cells(row: dict[str, Any], columns: list[str]) -> list[str]:
    """As the listing's CSV writes them: identifiers and phones as ="..." so Excel keeps their digits."""
    cells = ["" if row.get(c) is None else str(row.get(c)) for c in columns]
    return [excel_text(v) if c in TEXT_COLUMNS and v else v for c, v in zip(columns, cells, strict=True)]


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def terminal_lines(fleet: FleetService, tenant_id: str, terminals: Iterator[Any]) -> Iterator[str]:
    """Terminals as import-format CSV lines (merchants and plans by name), as the list route exports."""
    merchants: dict[str, Any] = {}
    plans = {p.plan_id: p.name for p in fleet.plans.all(tenant_id)}
    for t in terminals:
        if t.merchant_id and t.merchant_id not in merchants:
            merchants[t.merchant_id] = fleet.merchants.get(tenant_id, t.merchant_id)
        merchant = merchants.get(t.merchant_id) if t.merchant_id else None
        yield export_csv_line(
            {
                "sn": t.sn,
                "tid": t.tid,
                "iccid": t.iccid,
                "carrier": t.carrier,
                "model": t.model,
                "merchant_name": merchant.name if merchant else "",
                "merchant_phone": merchant.phone if merchant else "",
                "plan_name": plans.get(t.plan_id or "", ""),
                "expires_on": t.expires_on.isoformat(),
                "data_quota_mb": "" if t.data_quota_mb is None else str(t.data_quota_mb),
            }
        )
