"""CSV fleet imports: accepted at once (202), processed by a worker in batches with a
checkpoint, idempotent (a re-import reports rows unchanged), resumable after a crash.

Two ways in: a small file as the request body (≤ 5 MB, kept in the table), or a presigned
upload (≤ 200 MB / 1,000,000 rows) straight to the bucket, whose arrival (an S3 event to the
worker) starts the import. Either file is read as a stream (services/import_stream.py)."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol

from simrenew.clock import Clock, iso_utc
from simrenew.domain.contact import normalize_phone
from simrenew.domain.csvfile import RawRow, parse_import
from simrenew.domain.dates import parse_sheet_date
from simrenew.domain.fleet import Merchant, Terminal, initial_status, terminal_fields
from simrenew.domain.identifiers import halfwidth, validate_sheet_iccid, validate_sheet_tid
from simrenew.domain.imports import Counts, ImportJob, RowError, job_json
from simrenew.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    RuleViolation,
    SimRenewError,
    TransientStoreError,
    ValidationError,
)
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.dispatch import Dispatcher as Dispatcher
from simrenew.ports.fleet import Merchants, Plans
from simrenew.ports.imports import ImportStore, ImportTerminals, StoredJob, StoredTerminal, Upload
from simrenew.ports.objects import Objects
from simrenew.services.fleet import FleetService
from simrenew.services.import_stream import ZIP_MAGIC, IdentifierIndex, OpenRaw, detect, sniff, stream_rows

# A body must fit Lambda's 6 MB request payload once API Gateway has base64-encoded it (×4/3).
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UPLOAD_ROWS = 1_000_000
MAX_BODY_ROWS = 100_000
UPLOAD_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH_ROWS = 200
TX_ROWS = 25  # 4 items a terminal: 100 items, TransactWriteItems' limit
# The worker's writers: transactions of one batch in flight at once, on the one botocore client
# of the models (its connection pool, models.POOL_CONNECTIONS, holds them all).
WRITERS = 8
# A batch reads its stored terminals first (one BatchGetItem per 100 rows) unless, in the batch before,
# fewer than 1 row in this many was a stored terminal: then its rows with a TID go straight to their
# conditional transactions, and only the ones those find stored are read (a first import reads once).
STORED_ONE_IN = 100
ERRORS_SHOWN = 1000
COMPARED = ("tid", "iccid", "carrier", "model", "merchant_id", "plan_id", "expires_on", "data_quota_mb")


class Deadline(Protocol):
    def remaining_ms(self) -> int: ...


class NoDeadline:
    def remaining_ms(self) -> int:
        return 10**9


_Seen = IdentifierIndex  # identifiers met earlier in the same file: a second occurrence is a row error


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


class ImportService(Generic[StoredJob, StoredTerminal]):
    def __init__(
        self,
        imports: ImportStore[StoredJob, StoredTerminal],
        fleet: FleetService,
        terminals: ImportTerminals[StoredTerminal],
        plans: Plans,
        merchants: Merchants,
        dispatcher: Dispatcher,
        clock: Clock,
        objects: Objects | None = None,
        writers: int = WRITERS,
    ) -> None:
        if not 1 <= writers <= imports.max_writers:
            raise ValueError(f"writers must be between 1 and {imports.max_writers} (the connection pool)")
        self._writers = writers
        self._imports = imports
        self._fleet = fleet
        self._terminals = terminals
        self._plans = plans
        self._merchants = merchants
        self._dispatcher = dispatcher
        self._clock = clock
        self._objects = objects

    # --- API side -------------------------------------------------------------------------------
    def start(self, tenant_id: str, data: bytes, created_by: str) -> str:
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(
                f"a CSV body is at most {MAX_FILE_BYTES // (1024 * 1024)} MB: send "
                'POST /v1/imports {"filename", "size_bytes"} and PUT the file to the upload URL it answers',
                code="file_too_large",
                field="file",
            )
        parsed = parse_import(data, MAX_BODY_ROWS)  # the whole file is checked before anything is written
        if parsed.total == 0:
            raise ValidationError("file", "no_rows", "the file has a header but no rows")
        import_id = new_id("imp")
        now = self._clock.now()
        sha = hashlib.sha256(data).hexdigest()
        self._imports.create(tenant_id, import_id, data, parsed.total, sha, created_by, now)
        self._dispatcher.dispatch({"tenant_id": tenant_id, "import_id": import_id})
        return import_id

    def create_upload(self, tenant_id: str, body: dict[str, Any], created_by: str) -> dict[str, Any]:
        """A job waiting for its file, and the presigned PUT for it (nothing else is written)."""
        filename, size = _upload_fields(body)
        objects = self._object_store()
        import_id = new_id("imp")
        key = objects.upload_key(tenant_id, import_id)
        content_type = UPLOAD_TYPES[_extension(filename)]
        upload = objects.presign_put(key, content_type, size)  # before the job: a failure leaves nothing
        now = self._clock.now()
        self._imports.create_upload(tenant_id, import_id, Upload(key, filename, size), created_by, now)
        expires = now + timedelta(seconds=objects.put_url_ttl_s)
        return {
            "import_id": import_id,
            "status": "awaiting_upload",
            "upload": {**upload, "expires_at": iso_utc(expires)},
        }

    def object_arrived(self, key: str, size: int, etag: str) -> tuple[str, str] | None:
        """An S3 ObjectCreated event for an upload: the job it belongs to goes from awaiting_upload
        to queued, once. Returns (tenant_id, import_id) to run, or None when the object is nobody's
        upload (another key, another tenant's prefix, a job already started, a repeated event)."""
        log = get_logger()
        parsed = self._objects.parse_upload_key(key) if self._objects is not None else None
        stored = self._imports.get(*parsed) if parsed and parsed[1].startswith("imp_") else None
        job = self._imports.job(stored) if stored is not None else None
        if stored is None or job is None or job.source != "upload" or job.object_key != key:
            log.warning("an uploaded object belongs to no import: ignored", extra={"key": key[:200]})
            return None
        if not self._imports.uploaded(stored, size, etag, self._clock.now()):
            log.info("upload event for an import already started", extra={"import_id": job.import_id})
            return None
        return job.tenant_id, job.import_id

    def status(self, tenant_id: str, import_id: str) -> dict[str, Any]:
        job = self._imports.job(self._job(tenant_id, import_id))
        return job_json(job, self._imports.errors(tenant_id, import_id, ERRORS_SHOWN), ERRORS_SHOWN)

    def all_errors(self, tenant_id: str, import_id: str) -> list[RowError]:
        self._job(tenant_id, import_id)
        return self._imports.errors(tenant_id, import_id)

    def resume(self, tenant_id: str, import_id: str) -> dict[str, Any]:
        """Re-dispatch a job whose worker died (its lease lapsed) or that failed."""
        job = self._imports.job(self._job(tenant_id, import_id))
        if job.status == "done":
            raise Conflict("this import has finished", code="import_finished")
        if job.status == "awaiting_upload":
            raise Conflict("the file has not arrived: PUT it to the upload URL", code="upload_pending")
        stale = job.heartbeat_at is None or job.heartbeat_at < self._clock.now() - timedelta(minutes=2)
        if job.status in ("running", "queued") and not stale:
            raise Conflict("this import is running; watch its progress", code="import_running")
        self._dispatcher.dispatch({"tenant_id": tenant_id, "import_id": import_id})
        return job_json(job, [], 0)

    def _object_store(self) -> Objects:
        if self._objects is None:
            raise RuntimeError("no object store configured")  # build_services always gives one
        return self._objects

    def _rows(self, stored: StoredJob) -> Iterator[RawRow]:
        """The job's rows, one at a time. A CSV is streamed; its first pass (the whole file checked:
        encoding, header, row limit, before a row is written, as the body route does before it
        answers) is recorded on the job. A workbook (a zip, which needs seeking) is read from a
        temporary file by the parser, whole: its rows are compressed, far smaller than as CSV."""
        job = self._imports.job(stored)
        open_raw, max_rows = self._source(stored, job)
        if sniff(open_raw()) == ZIP_MAGIC:
            import tempfile

            from simrenew.domain.csvfile import parse_import_file

            with tempfile.TemporaryFile() as spool:
                with open_raw() as source:
                    while chunk := source.read(1 << 20):
                        spool.write(chunk)
                spool.seek(0)
                parsed = parse_import_file(spool, max_rows)
            if not job.encoding:
                self._imports.detected(stored, "xlsx", parsed.total, self._clock.now())
            return iter(parsed.rows)
        encoding = job.encoding
        if not encoding:
            encoding, total = detect(open_raw, max_rows)
            self._imports.detected(stored, encoding, total, self._clock.now())
        return stream_rows(open_raw, encoding, max_rows)

    def _source(self, stored: StoredJob, job: ImportJob) -> tuple[OpenRaw, int]:
        """How to open the job's file as a fresh stream, and its row limit."""
        if job.source != "upload":
            return (lambda: self._imports.open_file(stored)), MAX_BODY_ROWS
        objects = self._object_store()
        key = str(job.object_key)
        info = objects.head(key)
        if info is None:
            raise ValidationError("file", "upload_missing", "the uploaded file is no longer there: upload it again")
        if info.size > MAX_UPLOAD_BYTES:
            raise ValidationError("file", "file_too_large", "the file is larger than 200 MB: split it")
        if job.size_bytes is not None and info.size != job.size_bytes:
            declared = job.size_bytes
            raise ValidationError(
                "file", "size_mismatch", f"the uploaded file has {info.size} bytes, not the {declared} declared"
            )
        return (lambda: objects.open(key)), MAX_UPLOAD_ROWS

    def _job(self, tenant_id: str, import_id: str) -> StoredJob:
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
        if job is None or self._imports.job(job).status == "done":
            return "nothing_to_do"
        if not self._imports.acquire(job, self._clock.now()):
            return "busy"
        log = get_logger()
        try:
            if self._process(job, deadline) == "continued":
                self._imports.release(job, self._clock.now())
                if redispatch:
                    redispatch()
                return "continued"
            self._imports.finish(job, "done", self._clock.now())
            log.info("import finished", extra={"import_id": import_id, "rows": self._imports.job(job).total})
            return "done"
        except Exception as exc:
            busy = exc if isinstance(exc, TransientStoreError) else self._imports.unavailable(exc)
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

    def _process(self, job: StoredJob, deadline: Deadline) -> str:
        """The rows after the checkpoint, batch by batch, in a pipeline: while the writers (a pool
        of self._writers threads on the one shared botocore client) send batch N's transactions,
        this thread checks batch N + 1 and hands its transactions to the writers too, so the store
        never waits on a checkpoint. The checkpoint moves past batch N only once every one of its
        rows is written, and batch N + 2 is handed over only after that, so a crash leaves at most
        two batches written past the checkpoint (their rows come back "unchanged")."""
        view = self._imports.job(job)
        tenant = self._fleet.tenant(view.tenant_id)
        rows = self._rows(job)
        lookups = _Lookups()
        # Rows before the checkpoint are only re-validated (pure) to rebuild the
        # duplicate detection, never written again.
        for row in itertools.islice(rows, view.processed):
            self._validate(row, lookups.seen)
        self._imports.warm()  # the shared client is built here, once, before any writer thread uses it
        in_flight: list[_Writing] = []  # batch N, then N + 1: oldest first
        with ThreadPoolExecutor(self._writers, thread_name_prefix="import-writer") as pool:
            try:
                finished = True
                for batch in _batches(rows, BATCH_ROWS):
                    if deadline.remaining_ms() < 30_000:
                        finished = False
                        break
                    staged = self._stage(tenant, batch, lookups)
                    in_flight.append(self._write(pool, staged, view.import_id, lookups))
                    if len(in_flight) > 1:
                        self._commit(job, in_flight[0])
                        del in_flight[0]
                while in_flight:
                    self._commit(job, in_flight[0])
                    del in_flight[0]
                return "done" if finished else "continued"
            except BaseException:
                self._settle(job, in_flight)
                raise

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
                first = seen.first(kind, fields[kind])
                if first is not None and first != row.row:
                    raise ValidationError(
                        kind, "duplicate_in_file", f"{kind} {fields[kind]} already appears on row {first}"
                    )
            for kind in kinds:
                seen.add(kind, fields[kind], row.row)
            by_tid = not row.values.get("sn", "").strip()
            return _ValidRow(row.row, fields, merchant, plan_name, _compared(row), by_tid)
        except ValidationError as err:
            return RowError(row.row, err.field or "row", err.code, err.message)

    def _stage(self, tenant: Any, batch: list[RawRow], lookups: _Lookups) -> _Staged:
        """A batch checked and read, nothing of its rows written yet: its row errors so far, the
        rows unchanged, the changes to stored terminals and the new terminals to register."""
        staged = _Staged(rows=len(batch), now=self._clock.now())
        valid: list[_ValidRow] = []
        for row in batch:
            checked = self._validate(row, lookups.seen)
            if isinstance(checked, RowError):
                staged.errors.append(checked)
            else:
                valid.append(checked)
        self._resolve(tenant.tenant_id, valid, lookups, staged.now)
        ready = self._ready(tenant, valid, lookups, staged)
        # Rows without a TID can only be stored terminals, and a TID-only row's terminal was just
        # looked for: they are always read.
        read = [t.sn for r, t in ready if not (lookups.assume_new and t.tid and not r.by_tid)]
        existing = self._terminals.get_many(tenant.tenant_id, read) if read else {}
        lookups.learn(found=len(existing), checked=len(read))
        staged.unread = len(ready) - len(read)
        for r, t in ready:
            item = existing.get(t.sn)
            if item is None and not t.tid:
                staged.errors.append(RowError(r.row, "tid", "required", "tid is required to register a new terminal"))
            elif item is None:
                staged.new_rows.append((r, t))
            else:
                _compare(r, t, item, self._imports.terminal(item), staged)
        return staged

    def _resolve(self, tenant_id: str, valid: list[_ValidRow], lookups: _Lookups, now: datetime) -> None:
        """Plans by name, merchants by (name, phone): one BatchGet each for the names not met
        yet, then the missing merchants created; TID-only rows get the SN of their terminal."""
        names = {r.plan_name.casefold() for r in valid if r.plan_name} - set(lookups.plan_ids)
        if names:
            lookups.plan_ids.update(self._plans.ids_by_name(tenant_id, names))
        pairs = {r.merchant for r in valid if r.merchant} - set(lookups.merchant_ids)
        if pairs:
            lookups.merchant_ids.update(self._merchants.find_many_by_key(tenant_id, pairs))
            missing = [p for p in pairs if p not in lookups.merchant_ids]
            fresh = [
                Merchant(merchant_id=new_id("m"), tenant_id=tenant_id, name=n, phone=p, created_at=iso_utc(now))
                for n, p in missing
            ]
            lookups.merchant_ids.update(self._merchants.create_many(fresh, now))
        for r in valid:
            if r.by_tid and r.fields["tid"]:
                # A file of TIDs only: the stored terminal with that TID, whatever its SN.
                found = self._terminals.find_by_tid(tenant_id, r.fields["tid"])
                if found is not None:
                    r.fields["sn"] = found.sn

    def _ready(
        self, tenant: Any, valid: list[_ValidRow], lookups: _Lookups, staged: _Staged
    ) -> list[tuple[_ValidRow, Terminal]]:
        """Each valid row as the terminal it describes (unknown plans and merchants: row errors)."""
        now = iso_utc(staged.now)
        today = self._fleet.today(tenant)
        ready: list[tuple[_ValidRow, Terminal]] = []
        for r in valid:
            if r.plan_name and r.plan_name.casefold() not in lookups.plan_ids:
                staged.errors.append(RowError(r.row, "plan_name", "unknown_plan", f"no plan named {r.plan_name!r}"))
                continue
            merchant_id = lookups.merchant_ids.get(r.merchant) if r.merchant else None
            if r.merchant and merchant_id is None:
                error = RowError(r.row, "merchant_name", "merchant_unavailable", "could not create the merchant")
                staged.errors.append(error)
                continue
            fields = {
                **r.fields,
                "tid": r.fields["tid"] or "",
                "merchant_id": merchant_id,
                "plan_id": lookups.plan_ids[r.plan_name.casefold()] if r.plan_name else None,
            }
            status = initial_status(merchant_id, fields["expires_on"], today, tenant.settings.grace_days)
            terminal = Terminal(tenant_id=tenant.tenant_id, status=status, created_at=now, updated_at=now, **fields)
            ready.append((r, terminal))
        return ready

    def _write(self, pool: Executor, staged: _Staged, import_id: str, lookups: _Lookups) -> _Writing:
        """Hand the batch's transactions to the writers: one per changed terminal, one per
        TX_ROWS new terminals. Nothing waits here."""
        note = f"import {import_id}"
        writing = _Writing(staged, pool, note, lookups)
        for r, item, current, changes in staged.changes:
            future = pool.submit(self._fleet.apply_changes, item, current, changes, staged.now, note=note)
            writing.changes.append((r, future))
        for group in _chunked(staged.new_rows, TX_ROWS):
            terminals = [t for _, t in group]
            writing.groups.append((group, pool.submit(self._terminals.register_many, terminals, staged.now)))
        return writing

    def _commit(self, job: StoredJob, writing: _Writing) -> None:
        """Wait for every transaction of the batch, then record its row errors (keyed by row: the
        report reads them in file order) and move the checkpoint past it with its counts."""
        wait(writing.futures())
        staged = writing.staged
        errors = list(staged.errors)
        updated = _changed(writing.changes, errors)
        created, stored = _registered(writing.groups, errors)
        unchanged = staged.unchanged
        if stored:
            # Read and compared once: a second try (a checkpoint write that failed) counts the
            # same changes, not the stored terminals it finds changed already.
            revisit = writing.revisited or self._revisit(writing, stored)
            writing.revisited = revisit
            wait(f for _, f in revisit.changes)
            updated += _changed(revisit.changes, errors)
            unchanged += revisit.staged.unchanged
            errors.extend(revisit.staged.errors)
        if staged.unread:
            writing.lookups.learn(found=len(stored), checked=staged.unread)
        errors.sort(key=lambda e: e.row)
        if errors:
            view = self._imports.job(job)
            self._imports.add_errors(view.tenant_id, view.import_id, errors, staged.now)
        counts = Counts(staged.rows, created, updated, unchanged, len(errors))
        self._imports.progress(job, counts, self._clock.now())

    def _revisit(self, writing: _Writing, stored: list[tuple[_ValidRow, Terminal, Conflict]]) -> _Writing:
        """The rows registered unread whose transactions found their terminal stored (or one
        registered meanwhile): read now and compared like any stored row, their changes handed
        to the writers. A terminal gone again by then keeps the refusal."""
        tenant_id = stored[0][1].tenant_id
        found = self._terminals.get_many(tenant_id, [t.sn for _, t, _ in stored])
        staged = writing.staged
        revisit = _Writing(_Staged(rows=0, now=staged.now), writing.pool, writing.note, writing.lookups)
        for r, t, refusal in stored:
            item = found.get(t.sn)
            if item is None:
                revisit.staged.errors.append(RowError(r.row, refusal.field or "sn", refusal.code, refusal.message))
            else:
                _compare(r, t, item, self._imports.terminal(item), revisit.staged)
        for r, item, current, changes in revisit.staged.changes:
            future = writing.pool.submit(
                self._fleet.apply_changes, item, current, changes, staged.now, note=writing.note
            )
            revisit.changes.append((r, future))
        return revisit

    def _settle(self, job: StoredJob, in_flight: list[_Writing]) -> None:
        """On the way out after a failure: no writer is left running, and the batches whose rows
        were all written still move the checkpoint, in file order, as far as the store lets them
        (the first batch not wholly written, or not committed, stops it there)."""
        for writing in in_flight:
            wait(writing.futures())
        for writing in in_flight:
            if any(f.exception() for f in writing.futures()):
                return
            committed = False
            with contextlib.suppress(Exception):  # the store may still be busy: the checkpoint stays
                self._commit(job, writing)
                committed = True
            if not committed:
                return


def _changed(changes: list[tuple[_ValidRow, Future[Terminal]]], errors: list[RowError]) -> int:
    """How many of the changed terminals were saved; the refused ones as row errors."""
    updated = 0
    for r, change in changes:
        try:
            change.result()
            updated += 1
        except (Conflict, RuleViolation) as err:
            errors.append(RowError(r.row, err.field or "sn", err.code, err.message))
    return updated


def _registered(
    groups: list[tuple[Sequence[tuple[_ValidRow, Terminal]], Future[dict[str, Conflict]]]], errors: list[RowError]
) -> tuple[int, list[tuple[_ValidRow, Terminal, Conflict]]]:
    """How many new terminals were registered, and the rows whose terminal was found stored (to
    compare); the other refusals as row errors. A store error is raised here, the checkpoint unmoved."""
    created = 0
    stored: list[tuple[_ValidRow, Terminal, Conflict]] = []
    for group, registered in groups:
        refused = registered.result()
        for r, t in group:
            refusal = refused.get(t.sn)
            if refusal is None:
                created += 1
            elif refusal.code == "terminal_exists":
                stored.append((r, t, refusal))
            else:
                errors.append(RowError(r.row, refusal.field or "sn", refusal.code, refusal.message))
    return created, stored


def _compare(r: _ValidRow, t: Terminal, item: Any, current: Terminal, staged: _Staged) -> None:
    """A row of a stored terminal: unchanged, or the changes of the columns the file has."""
    compared = [k for k in r.compared if not (k == "tid" and not t.tid)]
    changes = {k: getattr(t, k) for k in compared if getattr(current, k) != getattr(t, k)}
    if "iccid" in changes and "carrier" not in compared and t.carrier != current.carrier:
        changes["carrier"] = t.carrier  # a new SIM without a carrier column: the one its ICCID implies
    if changes:
        staged.changes.append((r, item, current, changes))
    else:
        staged.unchanged += 1


@dataclass
class _Lookups:
    """What the batches of one run share: identifiers met in the file, plans and merchants found."""

    seen: _Seen = field(default_factory=_Seen)
    plan_ids: dict[str, str] = field(default_factory=dict)
    merchant_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    # The last batch's rows were (next to) all new terminals: register the next batch's unread.
    assume_new: bool = False

    def learn(self, found: int, checked: int) -> None:
        """`found` of `checked` rows were stored terminals (read, or found by their transactions)."""
        if checked:
            self.assume_new = found * STORED_ONE_IN < checked


@dataclass
class _Staged:
    rows: int
    now: datetime
    errors: list[RowError] = field(default_factory=list)
    unchanged: int = 0
    unread: int = 0  # rows sent to register_many without reading their terminal first
    changes: list[tuple[_ValidRow, Any, Terminal, dict[str, Any]]] = field(default_factory=list)
    new_rows: list[tuple[_ValidRow, Terminal]] = field(default_factory=list)


@dataclass
class _Writing:
    staged: _Staged
    pool: Executor
    note: str
    lookups: _Lookups
    changes: list[tuple[_ValidRow, Future[Terminal]]] = field(default_factory=list)
    groups: list[tuple[Sequence[tuple[_ValidRow, Terminal]], Future[dict[str, Conflict]]]] = field(default_factory=list)
    revisited: _Writing | None = None  # the refused rows, read and compared (ImportService._revisit)

    def futures(self) -> list[Future[Any]]:
        return [f for _, f in self.changes] + [f for _, f in self.groups]


def _chunked(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _batches(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def _upload_fields(body: dict[str, Any]) -> tuple[str, int]:
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise ValidationError("filename", "required", "filename is required (the file's name, e.g. fleet.csv)")
    filename = filename.strip()
    if len(filename) > 255 or any(c in filename for c in '/\\\x00"') or not filename.isprintable():
        raise ValidationError("filename", "invalid_filename", "filename is a plain file name of at most 255 characters")
    if _extension(filename) not in UPLOAD_TYPES:
        raise ValidationError("filename", "unsupported_type", f"the file must be one of: {', '.join(UPLOAD_TYPES)}")
    size = body.get("size_bytes")
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError("size_bytes", "invalid_type", "size_bytes is the file's size in bytes (a whole number)")
    if size < 1:
        raise ValidationError("size_bytes", "out_of_range", "the file is empty")
    if size > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"an upload is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split the file",
            code="file_too_large",
            field="size_bytes",
        )
    return filename, size


def lambda_deadline(context: Any) -> Deadline:
    class _Ctx:
        def remaining_ms(self) -> int:
            return int(context.get_remaining_time_in_millis())

    return _Ctx()
