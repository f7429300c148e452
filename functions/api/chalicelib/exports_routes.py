"""CSV exports of any size (issue 19): queued, written to the bucket by the worker, downloaded by
a short-lived presigned URL. The listing routes' `Accept: text/csv` answers point here (413
export_too_large) once a list is too large for one answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.http import Api, Reply, Req
from simrenew.domain.tenant import Role

if TYPE_CHECKING:  # pydantic only for a route with a body (http._validate)
    from chalicelib.requests.operations import ExportCreate


def register(api: Api) -> None:
    exports_api = api.tagged("exports")

    @exports_api.create(
        "/v1/exports", auth=Role.READONLY, request="operations.ExportCreate", response="ExportStarted", status=202
    )
    def create_export(req: Req, body: ExportCreate) -> Reply:
        """Export a list as CSV, any size: terminals, orders, ledger, notifications or expiring, with the list's
        filters; poll GET /v1/exports/{export_id} for the download URL
        """
        assert req.principal is not None
        return Reply(req.services.exports.start(req.tenant_id, body.fields(), req.principal.key_id), 202)

    @exports_api.route("/v1/exports/{export_id}", "GET", auth=Role.READONLY, response="Export")
    def get_export(req: Req) -> dict[str, object]:
        """An export: status, rows and, once done, a short-lived download_url (presigned)"""
        return req.services.exports.status(req.tenant_id, req.params["export_id"])
