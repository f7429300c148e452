"""CSV fleet imports: accepted at once (202), processed by a worker in batches with a
checkpoint, idempotent (a re-import reports rows unchanged), resumable after a crash."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from simrenew.adapters.dynamodb.fleet import TerminalRepository, chunked, to_terminal
from simrenew.adapters.dynamodb.imports import Counts, ImportRepository, RowError, job_json
from simrenew.adapters.dynamodb.models import ImportItem
from simrenew.clock import Clock, iso_utc
from simrenew.domain.contact import normalize_phone
from simrenew.domain.csvfile import RawRow, parse_import
from simrenew.domain.dates import parse_sheet_date
from simrenew.domain.fleet import Merchant, Terminal, initial_status, terminal_fields
from simrenew.domain.identifiers import halfwidth, validate_sheet_iccid, validate_sheet_tid
from simrenew.errors import Conflict, NotFound, RuleViolation, SimRenewError, TransientStoreError, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.services.fleet import FleetService

MAX_FILE_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
BATCH_ROWS = 200
TX_ROWS = 25  # 4 items a terminal: 100 items, TransactWriteItems' limit
ERRORS_SHOWN = 1000
COMPARED = ("tid", "iccid", "carrier", "model", "merchant_id", "plan_id", "expires_on", "data_quota_mb")


class Dispatcher(Protocol):
    """Hands an import to the worker: an async Lambda invoke in AWS, a thread locally."""

    def dispatch(self, event: dict[str, Any]) -> None: ...


class Deadline(Protocol):
    def remaining_ms(self) -> int: ...


class NoDeadline:
    def remaining_ms(self) -> int:
        return 10**9


@dataclass
class _Seen:
    """Identifiers met earlier in the same file: a second occurrence is a row error."""

    sn: dict[str, int]
    tid: dict[str, int]
    iccid: dict[str, int]


def _row_body(row: RawRow) -> dict[str, Any]:
    """The row as a terminal body: cells diagnosed the way spreadsheets damage them (dates in Excel's
    forms, ICCIDs in scientific notation, TIDs without their leading zeros, full-width digits). A row
    without an SN is the terminal with that TID (its SN when it is new)."""
    v = row.values
    quota_raw = halfwidth(v.get("data_quota_mb", "")).strip()
    tid = halfwidth(v.get("tid", "")).strip()
    sn = v.get("sn", "").strip() or tid
    if not sn:
        raise ValidationError("sn", "required", "sn is required (or, without an SN column, tid)")
    body: dict[str, Any] = {
        "sn": sn,
        "tid": validate_sheet_tid(tid) if tid else None,
        "iccid": validate_sheet_iccid(v.get("iccid", "")) if v.get("iccid", "").strip() else "",
        "carrier": v.get("carrier", "") or None,
        "model": v.get("model", ""),
        "expires_on": parse_sheet_date(v.get("expires_on", ""), "expires_on"),
        "data_quota_mb": None,
    }
    if quota_raw:
        # ASCII digits, bounded: a cell "¹" passed str.isdigit() and then crashed the worker in int().
        if not (quota_raw.isascii() and quota_raw.isdigit()) or len(quota_raw) > 18:
            raise ValidationError("data_quota_mb", "invalid_type", "data_quota_mb must be a whole number of MB")
        body["data_quota_mb"] = int(quota_raw)
    return body


# Which stored fields each import column sets: a column the file lacks leaves them as they are.
_FIELDS_OF_COLUMN = {
    "tid": ("tid",),
    "iccid": ("iccid",),
    "carrier": ("carrier",),
    "model": ("model",),
    "merchant_name": ("merchant_id",),
    "merchant_phone": ("merchant_id",),
    "plan_name": ("plan_id",),
    "expires_on": ("expires_on",),
    "data_quota_mb": ("data_quota_mb",),
}


def _compared(row: RawRow) -> tuple[str, ...]:
    named = {f for column in row.present for f in _FIELDS_OF_COLUMN.get(column, ())}
    return tuple(f for f in COMPARED if f in named)


@dataclass
class _ValidRow:
    row: int
    fields: dict[str, Any]
    merchant: tuple[str, str] | None  # (name, normalized phone)
    plan_name: str | None
    compared: tuple[str, ...] = COMPARED  # the stored fields the file's columns set
    by_tid: bool = False  # no SN in the row: the terminal is the one with this TID


class ImportService:
    def __init__(
        self,
        imports: ImportRepository,
        fleet: FleetService,
        terminals: TerminalRepository,
        dispatcher: Dispatcher,
        clock: Clock,
    ) -> None:
        self._imports = imports
        self._fleet = fleet
        self._terminals = terminals
        self._dispatcher = dispatcher
        self._clock = clock

    # --- API side -------------------------------------------------------------------------------
    def start(self, tenant_id: str, data: bytes, created_by: str) -> str:
        if len(data) > MAX_FILE_BYTES:
            raise ValidationError("file", "file_too_large", "the file is larger than 10 MB; split it")
        parsed = parse_import(data)  # the whole file is checked before anything is written
        if parsed.total == 0:
            raise ValidationError("file", "no_rows", "the file has a header but no rows")
        import_id = new_id("imp")
        now = self._clock.now()
        sha = hashlib.sha256(data).hexdigest()
        self._imports.create(tenant_id, import_id, data, parsed.total, sha, created_by, now)
        self._dispatcher.dispatch({"tenant_id": tenant_id, "import_id": import_id})
        return import_id

    def status(self, tenant_id: str, import_id: str) -> dict[str, Any]:
        job = self._job(tenant_id, import_id)
        return job_json(job, self._imports.errors(tenant_id, import_id, ERRORS_SHOWN), ERRORS_SHOWN)

    def all_errors(self, tenant_id: str, import_id: str) -> list[RowError]:
        self._job(tenant_id, import_id)
        return self._imports.errors(tenant_id, import_id)

    def resume(self, tenant_id: str, import_id: str) -> dict[str, Any]:
        """Re-dispatch a job whose worker died (its lease lapsed) or that failed."""
        job = self._job(tenant_id, import_id)
        if job.status == "done":
            raise Conflict("this import has finished", code="import_finished")
        stale = job.heartbeat_at is None or job.heartbeat_at < self._clock.now() - timedelta(minutes=2)
        if job.status in ("running", "queued") and not stale:
            raise Conflict("this import is running; watch its progress", code="import_running")
        self._dispatcher.dispatch({"tenant_id": tenant_id, "import_id": import_id})
        return job_json(job, [], 0)

    def _job(self, tenant_id: str, import_id: str) -> ImportItem:
        job = self._imports.get(tenant_id, import_id) if import_id.startswith("imp_") else None
        if job is None:
            raise NotFound("no such import", code="import_not_found")
        return job

    # --- worker side ----------------------------------------------------------------------------------
    def run(
        self,
        tenant_id: str,
        import_id: str,
        deadline: Deadline | None = None,
        redispatch: Callable[[], None] | None = None,
    ) -> str:
        """Process the job from its checkpoint until done or near the deadline."""
        deadline = deadline or NoDeadline()
        job = self._imports.get(tenant_id, import_id)
        if job is None or job.status == "done":
            return "nothing_to_do"
        if not self._imports.acquire(job, self._clock.now()):
            return "busy"
        log = get_logger()
        try:
            tenant = self._fleet.tenant(tenant_id)
            parsed = parse_import(self._imports.file(job))
            rows = parsed.rows
            start = int(job.processed)
            seen = _Seen({}, {}, {})
            plan_ids: dict[str, str] = {}
            merchant_ids: dict[tuple[str, str], str] = {}
            # Rows before the checkpoint are only re-validated (pure) to rebuild the
            # duplicate detection, never written again.
            for row in rows[:start]:
                self._validate(row, seen)
            for batch in chunked(rows[start:], BATCH_ROWS):
                if deadline.remaining_ms() < 30_000:
                    self._imports.release(job, self._clock.now())
                    if redispatch:
                        redispatch()
                    return "continued"
                counts = self._batch(tenant, batch, seen, plan_ids, merchant_ids, import_id)
                self._imports.progress(job, counts, self._clock.now())
            self._imports.finish(job, "done", self._clock.now())
            log.info("import finished", extra={"import_id": import_id, "rows": len(rows)})
            return "done"
        except Exception as exc:
            from simrenew.adapters.dynamodb.errors import store_unavailable

            busy = exc if isinstance(exc, TransientStoreError) else store_unavailable(exc)
            if busy is not None:
                # Not the file's fault: stop at the checkpoint and raise, so the invocation is
                # retried (Lambda's async retries) instead of the job sitting "running".
                log.warning("import interrupted: data store busy", extra={"import_id": import_id}, exc_info=True)
                with contextlib.suppress(Exception):  # the store may still be busy; the lease then lapses
                    self._imports.interrupt(
                        job, self._clock.now(), "the data store was busy; the import continues from where it stopped"
                    )
                raise busy from exc
            if not isinstance(exc, SimRenewError):
                raise
            log.exception("import failed", extra={"import_id": import_id})
            self._imports.finish(job, "failed", self._clock.now(), exc.message)
            return "failed"

    def _validate(self, row: RawRow, seen: _Seen) -> _ValidRow | RowError:
        try:
            if row.field_count is not None and row.field_count != row.expected_fields:
                raise ValidationError(
                    "row", "wrong_field_count", f"the row has {row.field_count} fields, not {row.expected_fields}"
                )
            fields = terminal_fields(_row_body(row), optional=("tid", "model"))
            name = row.values.get("merchant_name", "").strip()
            phone_raw = row.values.get("merchant_phone", "").strip()
            merchant = None
            if name or phone_raw:
                if not name:
                    raise ValidationError("merchant_name", "required", "merchant_name is required with merchant_phone")
                if not phone_raw:
                    raise ValidationError("merchant_phone", "required", "merchant_phone is required with merchant_name")
                if len(name) > 100:
                    raise ValidationError("merchant_name", "too_long", "merchant_name is at most 100 characters")
                merchant = (name, normalize_phone(phone_raw, "merchant_phone"))
            plan_name = row.values.get("plan_name", "").strip() or None
            kinds = [kind for kind in ("sn", "tid", "iccid") if fields[kind]]
            for kind in kinds:
                first = getattr(seen, kind).get(fields[kind])
                if first is not None and first != row.row:
                    raise ValidationError(
                        kind, "duplicate_in_file", f"{kind} {fields[kind]} already appears on row {first}"
                    )
            for kind in kinds:
                getattr(seen, kind)[fields[kind]] = row.row
            by_tid = not row.values.get("sn", "").strip()
            return _ValidRow(row.row, fields, merchant, plan_name, _compared(row), by_tid)
        except ValidationError as err:
            return RowError(row.row, err.field or "row", err.code, err.message)

    def _batch(  # noqa: C901 - to be split (issue 14)
        self,
        tenant: Any,
        batch: Any,
        seen: _Seen,
        plan_ids: dict[str, str],
        merchant_ids: dict[tuple[str, str], str],
        import_id: str,
    ) -> Counts:
        tenant_id = tenant.tenant_id
        now = self._clock.now()
        today = self._fleet.today(tenant)
        errors: list[RowError] = []
        valid: list[_ValidRow] = []
        for row in batch:
            checked = self._validate(row, seen)
            (errors if isinstance(checked, RowError) else valid).append(checked)  # type: ignore[arg-type]

        # Plans by name, merchants by (name, phone): one BatchGet each, then create the missing merchants.
        names = {r.plan_name.casefold() for r in valid if r.plan_name} - set(plan_ids)
        if names:
            plan_ids.update(self._fleet.plans.ids_by_name(tenant_id, names))
        pairs = {r.merchant for r in valid if r.merchant} - set(merchant_ids)
        if pairs:
            merchant_ids.update(self._fleet.merchants.find_many_by_key(tenant_id, pairs))
            missing = [p for p in pairs if p not in merchant_ids]
            fresh = [
                Merchant(merchant_id=new_id("m"), tenant_id=tenant_id, name=n, phone=p, created_at=iso_utc(now))
                for n, p in missing
            ]
            merchant_ids.update(self._fleet.merchants.create_many(fresh, now))

        for r in valid:
            if r.by_tid and r.fields["tid"]:
                # A file of TIDs only: the stored terminal with that TID, whatever its SN.
                found = self._terminals.find_by_tid(tenant_id, r.fields["tid"])
                if found is not None:
                    r.fields["sn"] = found.sn
        ready: list[tuple[_ValidRow, Terminal]] = []
        for r in valid:
            if r.plan_name and r.plan_name.casefold() not in plan_ids:
                errors.append(RowError(r.row, "plan_name", "unknown_plan", f"no plan named {r.plan_name!r}"))
                continue
            merchant_id = merchant_ids.get(r.merchant) if r.merchant else None
            if r.merchant and merchant_id is None:
                errors.append(RowError(r.row, "merchant_name", "merchant_unavailable", "could not create the merchant"))
                continue
            fields = {
                **r.fields,
                "tid": r.fields["tid"] or "",
                "merchant_id": merchant_id,
                "plan_id": plan_ids[r.plan_name.casefold()] if r.plan_name else None,
            }
            status = initial_status(merchant_id, fields["expires_on"], today, tenant.settings.grace_days)
            ready.append(
                (
                    r,
                    Terminal(
                        tenant_id=tenant_id, status=status, created_at=iso_utc(now), updated_at=iso_utc(now), **fields
                    ),
                )
            )

        existing = self._terminals.get_many(tenant_id, [t.sn for _, t in ready]) if ready else {}
        created = updated = unchanged = 0
        new_rows: list[tuple[_ValidRow, Terminal]] = []
        for r, t in ready:
            item = existing.get(t.sn)
            if item is None:
                if not t.tid:
                    errors.append(RowError(r.row, "tid", "required", "tid is required to register a new terminal"))
                    continue
                new_rows.append((r, t))
                continue
            current = to_terminal(item)
            compared = [k for k in r.compared if not (k == "tid" and not t.tid)]
            changes = {k: getattr(t, k) for k in compared if getattr(current, k) != getattr(t, k)}
            if "iccid" in changes and "carrier" not in compared and t.carrier != current.carrier:
                changes["carrier"] = t.carrier  # a new SIM without a carrier column: the one its ICCID implies
            if not changes:
                unchanged += 1
                continue
            try:
                self._fleet.apply_changes(item, current, changes, now, note=f"import {import_id}")
                updated += 1
            except (Conflict, RuleViolation) as err:
                errors.append(RowError(r.row, err.field or "sn", err.code, err.message))
        for group in chunked(new_rows, TX_ROWS):
            refused = self._terminals.register_many([t for _, t in group], now)
            for r, t in group:
                refusal = refused.get(t.sn)
                if refusal is None:
                    created += 1
                else:
                    errors.append(RowError(r.row, refusal.field or "sn", refusal.code, refusal.message))
        if errors:
            self._imports.add_errors(tenant_id, import_id, errors, now)
        return Counts(processed=len(batch), created=created, updated=updated, unchanged=unchanged, failed=len(errors))


def lambda_deadline(context: Any) -> Deadline:
    class _Ctx:
        def remaining_ms(self) -> int:
            return int(context.get_remaining_time_in_millis())

    return _Ctx()
