"""Usage by CSV (docs/domain.md: "data usage fed by API or CSV"): one row per terminal reading, applied
as POST /v1/terminals/{sn}/usage would (the same validation, the same 80 % / 100 % alerts, an
older reading never overwrites a newer one), a bad row never blocking the good ones.

Synchronous and bounded (MAX_ROWS rows a file): the answer is the report. Bigger feeds go through
the API per terminal or the carrier sync.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from simrenew.domain.csvfile import decode_csv_bytes
from simrenew.domain.dates import parse_date
from simrenew.domain.identifiers import normalize_sn
from simrenew.errors import SimRenewError, ValidationError
from simrenew.ports.fleet import Terminals
from simrenew.services.fleet import FleetService

MAX_ROWS = 1000
MAX_BYTES = 512 * 1024
# Header aliases (case, spaces and full-width forms ignored).
ALIASES = {
    "sn": "sn",
    "序列号": "sn",
    "终端序列号": "sn",
    "tid": "tid",
    "终端号": "tid",
    "data_used_mb": "data_used_mb",
    "used_mb": "data_used_mb",
    "已用流量": "data_used_mb",
    "已用流量(mb)": "data_used_mb",
    "已用流量mb": "data_used_mb",
    "as_of": "as_of",
    "日期": "as_of",
    "截至日期": "as_of",
    "统计日期": "as_of",
}
HEADER = "sn,data_used_mb,as_of"


def _column(raw: str) -> str | None:
    key = "".join(unicodedata.normalize("NFKC", raw).casefold().split())
    return ALIASES.get(key)


class UsageImportService:
    def __init__(self, fleet: FleetService, terminals: Terminals) -> None:
        self._fleet = fleet
        self._terminals = terminals

    def run(self, tenant_id: str, data: bytes) -> dict[str, Any]:
        if len(data) > MAX_BYTES:
            raise ValidationError("file", "file_too_large", f"a usage file is at most {MAX_BYTES // 1024} KB")
        rows = list(csv.reader(io.StringIO(decode_csv_bytes(data))))
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if not rows:
            raise ValidationError("file", "empty_file", "the file is empty")
        columns = [_column(c) for c in rows[0]]
        if "data_used_mb" not in columns or "as_of" not in columns or not {"sn", "tid"} & set(columns):
            raise ValidationError(
                "file", "missing_columns", f"the header needs sn (or tid), data_used_mb and as_of, e.g. {HEADER}"
            )
        body = rows[1:]
        if not body:
            raise ValidationError("file", "no_rows", "the file has a header but no rows")
        if len(body) > MAX_ROWS:
            raise ValidationError("file", "too_many_rows", f"at most {MAX_ROWS} rows a file; split it")
        report: dict[str, Any] = {"total": len(body), "applied": 0, "unchanged": 0, "failed": 0, "alerts": 0}
        errors: list[dict[str, Any]] = []
        for number, record in enumerate(body, start=2):
            values = {col: (record[i].strip() if i < len(record) else "") for i, col in enumerate(columns) if col}
            try:
                outcome, alerts = self._row(tenant_id, values)
            except SimRenewError as err:
                report["failed"] += 1
                field = getattr(err, "field", None) or "sn"
                errors.append({"row": number, "field": field, "code": err.code, "message": str(err)})
                continue
            report[outcome] += 1
            report["alerts"] += alerts
        return {**report, "errors": errors}

    def _row(self, tenant_id: str, values: dict[str, str]) -> tuple[str, int]:
        sn = values.get("sn", "")
        if sn:
            sn = normalize_sn(sn)
        elif values.get("tid"):
            found = self._terminals.find_by_tid(tenant_id, values["tid"])
            if found is None:
                raise ValidationError("tid", "unknown_terminal", "no terminal of yours has this TID")
            sn = found.sn
        else:
            raise ValidationError("sn", "required", "sn (or tid) is required")
        raw_used = values.get("data_used_mb", "")
        if not (raw_used.isascii() and raw_used.isdigit()) or len(raw_used) > 12:
            raise ValidationError("data_used_mb", "invalid_type", "data_used_mb must be a whole number of MB")
        as_of = parse_date(values.get("as_of", ""), "as_of")
        current = self._terminals.get(tenant_id, sn)
        if current is None:
            raise ValidationError("sn", "unknown_terminal", "no terminal of yours has this SN")
        day = as_of.isoformat()
        older = bool(current.usage_as_of) and day < (current.usage_as_of or "")
        same = day == current.usage_as_of and int(raw_used) == current.data_used_mb
        if older or same:  # a re-sent file, or a reading older than the one we have
            return "unchanged", 0
        _terminal, alerts = self._fleet.record_usage(
            tenant_id, sn, {"data_used_mb": int(raw_used), "as_of": as_of.isoformat()}
        )
        return "applied", len(alerts)
