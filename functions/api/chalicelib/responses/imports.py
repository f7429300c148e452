"""Answers of the import routes: fleet imports (CSV, workbooks, presigned uploads) and usage imports."""

from __future__ import annotations

from typing import Literal

from chalicelib.responses._base import ImportStatus, Out, Page

# An import's state (the vocabulary's import_status): awaiting_upload (its presigned upload),
# running (queued ones too), done or failed.
ImportState = ImportStatus


class RowError(Out):
    row: int
    field: str
    code: str
    message: str


class ImportStarted(Out):
    import_id: str
    status: Literal["running"]


class PresignedUpload(Out):
    url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: str


class ImportUpload(Out):
    """A presigned upload: PUT the file to upload.url and the import starts by itself."""

    import_id: str
    status: Literal["awaiting_upload"]
    upload: PresignedUpload


class _ImportCounts(Out):
    """What the history and an import's own answer both say of it (no schema of its own)."""

    import_id: str
    status: ImportState
    source: str
    filename: str | None
    total: int
    processed: int
    created: int
    updated: int
    unchanged: int
    failed: int


class ImportSummary(_ImportCounts):
    """One import's counts, as the history lists it."""

    message: str | None
    created_at: str | None
    finished_at: str | None
    report_url: str


class ImportPage(Page[ImportSummary]):
    pass


class Import(_ImportCounts):
    """One import's progress and its first row errors."""

    errors: list[RowError]
    errors_truncated: bool
    message: str | None
    created_at: str | None
    finished_at: str | None


class UsageImport(Out):
    total: int
    applied: int
    unchanged: int
    failed: int
    alerts: int
    errors: list[RowError]


MODELS = [RowError, ImportStarted, PresignedUpload, ImportUpload, ImportSummary, ImportPage, Import, UsageImport]
