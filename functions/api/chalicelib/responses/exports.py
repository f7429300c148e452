"""Answers of the export routes (docs/uploads-exports.md): CSV exports of any size."""

from __future__ import annotations

from typing import Any, Literal

from chalicelib.responses._base import ExportKind, Out


class ExportStarted(Out):
    export_id: str
    kind: ExportKind
    status: Literal["queued"]


class Export(Out):
    export_id: str
    kind: ExportKind
    filters: dict[str, Any]  # the filters it was started with, as given
    status: str  # running (a queued export too), done or failed
    rows: int
    size_bytes: int
    download_url: str | None
    download_expires_at: str | None
    message: str | None
    created_at: str | None
    finished_at: str | None


MODELS = [ExportStarted, Export]
