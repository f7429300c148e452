"""The platform's sweep, outbound webhooks, CSV exports and carrier accounts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.requests import Body, text, vocab
from simrenew.domain.dates import parse_date


class SweepRun(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        parse_date(body.get("as_of"), "as_of")

    as_of: Annotated[str, Field(json_schema_extra={"format": "date"})]


class WebhookEndpoint(Body):
    url: Annotated[str, text(max_length=2048, json_schema_extra={"format": "uri"})]
    events: Annotated[list[Annotated[str, vocab("webhook_event")]], Field(min_length=1)]
    description: Annotated[str, text(max_length=200)] | None = None


class ExportCreate(Body):
    kind: Annotated[str, vocab("export_kind")]
    filters: (
        Annotated[
            dict[str, str | int],
            Field(
                description="The list route's query parameters (terminals: status, merchant_id, expires_before, q;"
                " orders: status; ledger and notifications: sn; expiring: days)"
            ),
        ]
        | None
    ) = None


Text300 = Annotated[str, text(min_length=1, max_length=300)]


class CarrierAccountCreate(Body):
    carrier: Annotated[str, vocab("account_carrier")]
    platform: Annotated[str, vocab("carrier_platform")]
    base_url: Annotated[Text300, Field(json_schema_extra={"example": "https://restapi3.jasper.com"})]
    username: Annotated[str, text(min_length=1, max_length=100)]
    api_key: Annotated[str, text(min_length=1, max_length=256, json_schema_extra={"writeOnly": True})]
