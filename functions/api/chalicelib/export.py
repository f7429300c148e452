"""CSV and SVG answers: the fleet export in the import format, import error reports, QR codes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from chalicelib.http import Reply, Req
from simrenew.domain.csvfile import TEXT_COLUMNS, excel_text, export_header_line
from simrenew.errors import PayloadTooLarge

CSV_HEADERS = {"Content-Type": "text/csv; charset=utf-8"}
# A CSV answer travels base64-encoded (text/csv is a binary media type) inside Lambda's 6 MB
# response payload: past 4 MB of CSV the list is exported through POST /v1/exports instead.
MAX_EXPORT_BYTES = 4_000_000
# Rows, too: reading them must stay well inside the API's 29 s (20,000 terminals are ~2 MB of CSV).
MAX_EXPORT_ROWS = 20_000


def too_large(kind: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the list is more than {MAX_EXPORT_ROWS:,} rows or {MAX_EXPORT_BYTES // 1_000_000} MB of CSV: export it with "
        f'POST /v1/exports {{"kind": "{kind}", "filters": {{...}}}} and download the file it answers',
        code="export_too_large",
    )


def terminals_csv(req: Req, terminals: Iterable[Any] | None = None) -> Reply:
    """The terminals the list's filters select (all of them when none is given), in the import format;
    past MAX_EXPORT_ROWS or MAX_EXPORT_BYTES, 413 export_too_large naming POST /v1/exports."""
    from simrenew.services.exports import terminal_lines

    fleet = req.services.fleet
    out = io.StringIO()
    out.write("\ufeff")  # BOM: Excel in China opens UTF-8 correctly with it
    out.write(export_header_line())
    source = fleet.terminals.iterate(req.tenant_id) if terminals is None else terminals
    for n, line in enumerate(terminal_lines(fleet, req.tenant_id, iter(source)), 1):
        out.write(line)
        if out.tell() > MAX_EXPORT_BYTES or n > MAX_EXPORT_ROWS:
            raise too_large("terminals")
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


def rows_csv(name: str, columns: list[str], rows: list[dict[str, Any]], kind: str | None = None) -> Reply:
    """Any report's rows as CSV (with a BOM for Excel), columns in the given order; identifiers and phones
    as ="..." so Excel keeps their digits (csvfile.excel_text). Past MAX_EXPORT_ROWS or MAX_EXPORT_BYTES:
    413 export_too_large, naming POST /v1/exports with `kind`."""
    import csv

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        cells = ["" if row.get(c) is None else row.get(c) for c in columns]
        writer.writerow(
            [excel_text(str(v)) if c in TEXT_COLUMNS and v != "" else v for c, v in zip(columns, cells, strict=True)]
        )
        if out.tell() > MAX_EXPORT_BYTES or n > MAX_EXPORT_ROWS:
            raise too_large(kind or name)
    return Reply(out.getvalue(), 200, {**CSV_HEADERS, "Content-Disposition": f'attachment; filename="{name}.csv"'})
