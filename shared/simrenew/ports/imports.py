"""The fleet imports port: import jobs (the body's file in chunks, progress counters and the
checkpoint, row errors, the worker lease) and the terminals a batch reads. The DynamoDB adapter is
simrenew.adapters.dynamodb.imports.ImportRepository.

A job and a stored terminal are opaque handles (type variables): the service reads them through
`job` and `terminal` (domain values) and hands them back (a terminal to FleetService.apply_changes,
whose write is conditional on the version read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, TypeVar

from simrenew.domain.fleet import Terminal
from simrenew.domain.imports import Counts, ImportJob, RowError
from simrenew.errors import Conflict, TransientStoreError

StoredJob = TypeVar("StoredJob")
StoredTerminal = TypeVar("StoredTerminal")
StoredTerminal_contra = TypeVar("StoredTerminal_contra", contravariant=True)


@dataclass(frozen=True)
class Upload:
    """The file an upload job waits for: the client PUTs it to `object_key` (presigned), whose
    arrival starts the job; the worker checks the object's size against `size_bytes`."""

    object_key: str
    filename: str
    size_bytes: int


class ImportStore(Protocol[StoredJob, StoredTerminal_contra]):
    #: How many writer threads may share the store's client at once (its connection pool).
    max_writers: int

    def job(self, item: StoredJob) -> ImportJob:
        """The job as it is now (each write refreshes the handle)."""
        ...

    def terminal(self, item: StoredTerminal_contra) -> Terminal: ...

    def warm(self) -> None:
        """Build the store's shared client now, before the writer threads use it."""
        ...

    def unavailable(self, exc: BaseException) -> TransientStoreError | None:
        """The 503 for a store failure that time can cure (throttling, a timeout); None otherwise."""
        ...

    def create(
        self, tenant_id: str, import_id: str, data: bytes, total: int, sha256: str, created_by: str, now: datetime
    ) -> None: ...

    def create_upload(
        self, tenant_id: str, import_id: str, upload: Upload, created_by: str, now: datetime
    ) -> StoredJob: ...

    def get(self, tenant_id: str, import_id: str) -> StoredJob | None: ...

    def uploaded(self, job: StoredJob, size_bytes: int, etag: str, now: datetime) -> bool:
        """awaiting_upload → queued, once; False when it already moved on."""
        ...

    def detected(self, job: StoredJob, encoding: str, total: int, now: datetime) -> None: ...

    def open_file(self, job: StoredJob) -> BinaryIO:
        """A body import's file as a stream."""
        ...

    def acquire(self, job: StoredJob, now: datetime) -> bool:
        """Take the worker lease; False while another worker holds it."""
        ...

    def progress(self, job: StoredJob, counts: Counts, now: datetime) -> None:
        """Add a batch's counts and move the checkpoint, in one conditional write."""
        ...

    def release(self, job: StoredJob, now: datetime) -> None: ...

    def interrupt(self, job: StoredJob, now: datetime, message: str) -> None: ...

    def finish(self, job: StoredJob, status: str, now: datetime, message: str | None = None) -> None: ...

    def add_errors(self, tenant_id: str, import_id: str, errors: Sequence[RowError], now: datetime) -> None: ...

    def errors(self, tenant_id: str, import_id: str, limit: int | None = None) -> list[RowError]: ...


class ImportTerminals(Protocol[StoredTerminal]):
    """The terminals a batch reads and registers (simrenew.adapters.dynamodb.fleet.TerminalRepository)."""

    def get_many(self, tenant_id: str, sns: Iterable[str]) -> dict[str, StoredTerminal]:
        """One batch read: sn → the stored terminal, for the SNs that exist."""
        ...

    def find_by_tid(self, tenant_id: str, tid: str) -> Terminal | None: ...

    def register_many(self, terminals: Sequence[Terminal], now: datetime) -> dict[str, Conflict]:
        """Up to 25 new terminals in one transaction: sn → why it was refused."""
        ...
