"""CSV and SVG answers: the fleet export in the import format, import error reports, QR codes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from chalicelib.http import Reply, Req
from simrenew.domain.csvfile import TEXT_COLUMNS, excel_text, export_csv_line, export_header_line

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
# Lambda answers are capped at 6 MB: past this, the agent is asked to filter.
MAX_EXPORT_BYTES = 5_500_000


def terminals_csv(req: Req, terminals: Iterable[Any] | None = None) -> Reply:
    """The terminals the list's filters select (all of them when none is given), in the import format."""
    from simrenew.errors import RuleViolation

    fleet = req.services.fleet
    merchants: dict[str, Any] = {}
    plans = {p.plan_id: p.name for p in fleet.plans.all(req.tenant_id)}
    out = io.StringIO()
    out.write("\ufeff")  # BOM: Excel in China opens UTF-8 correctly with it
    out.write(export_header_line())
    for t in fleet.terminals.iterate(req.tenant_id) if terminals is None else terminals:
        if t.merchant_id and t.merchant_id not in merchants:
            merchants[t.merchant_id] = fleet.merchants.get(req.tenant_id, t.merchant_id)
        merchant = merchants.get(t.merchant_id) if t.merchant_id else None
        out.write(
            export_csv_line(
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
        )
        if out.tell() > MAX_EXPORT_BYTES:
            raise RuleViolation("the fleet is too large to export in one answer", code="export_too_large")
    headers = {**CSV_HEADERS, "Content-Disposition": 'attachment; filename="terminals.csv"'}
    return Reply(out.getvalue(), 200, headers)


def import_errors_csv(req: Req, errors: list[Any]) -> Reply:
    out = io.StringIO()
    out.write("\ufeffrow,field,code,message\r\n")
    for e in errors:
        message = e.message.replace('"', '""')
        out.write(f'{e.row},{e.field},{e.code},"{message}"\r\n')
    name = f"{req.params['import_id']}-errors.csv"
    return Reply(out.getvalue(), 200, {**CSV_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def qr_svg(url: str) -> str:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()


def rows_csv(name: str, columns: list[str], rows: list[dict[str, Any]]) -> Reply:
    """Any report's rows as CSV (with a BOM for Excel), columns in the given order; identifiers and phones
    as ="..." so Excel keeps their digits (csvfile.excel_text)."""
    import csv

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = ["" if row.get(c) is None else row.get(c) for c in columns]
        writer.writerow(
            [excel_text(str(v)) if c in TEXT_COLUMNS and v != "" else v for c, v in zip(columns, cells, strict=True)]
        )
    return Reply(out.getvalue(), 200, {**CSV_HEADERS, "Content-Disposition": f'attachment; filename="{name}.csv"'})
