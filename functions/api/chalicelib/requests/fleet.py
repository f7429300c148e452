"""The fleet: merchants, plans, terminals, their usage, transfers and imports."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from chalicelib.requests import Body, Patch, Text, text, vocab
from simrenew.domain.fleet import merchant_fields, plan_fields, terminal_fields, usage_fields

Date = Annotated[str, Field(json_schema_extra={"format": "date"})]
Reason = Annotated[str, text(min_length=1, max_length=500)]


class MerchantCreate(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        merchant_fields(body, partial=False)

    name: Annotated[str, text(min_length=1, max_length=100)]
    contact_name: Annotated[str, text(max_length=60)] | None = None
    phone: Annotated[str, Field(json_schema_extra={"example": "13812345678"})]
    email: Annotated[str, Field(json_schema_extra={"format": "email"})] | None = None


class MerchantPatch(Patch):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        merchant_fields(body, partial=True)

    name: Annotated[str, text(min_length=1, max_length=100)] | None = None
    contact_name: Annotated[str, text(max_length=60)] | None = None
    phone: Annotated[str, Field(json_schema_extra={"example": "13812345678"})] | None = None
    email: Annotated[str, Field(json_schema_extra={"format": "email"})] | None = None
    status: Annotated[str, vocab("merchant_status")] | None = None


PlanName = Annotated[str, text(min_length=1, max_length=60)]
TermMonths = Annotated[int, Field(ge=1, le=36)]
QuotaMb = Annotated[int, Field(ge=0, le=10_000_000)]
PriceFen = Annotated[int, Field(ge=1, le=100_000_000)]


class PlanCreate(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        plan_fields(body, partial=False)

    name: PlanName
    term_months: TermMonths
    data_quota_mb: QuotaMb
    price_fen: PriceFen
    active: bool | None = None


class PlanPatch(Patch):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        plan_fields(body, partial=True)

    name: PlanName | None = None
    term_months: TermMonths | None = None
    data_quota_mb: QuotaMb | None = None
    price_fen: PriceFen | None = None
    active: bool | None = None


Sn = Annotated[str, text(pattern="^[A-Za-z0-9-]{6,32}$")]
Tid = Annotated[str, text(pattern="^[0-9]{8}$")]
Iccid = Annotated[str, text(pattern="^89[0-9]{17,18}$")]
Model = Annotated[str, text(min_length=1, max_length=64)]
Carrier = Annotated[str, vocab("carrier")]


class TerminalCreate(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        terminal_fields(body)

    sn: Sn
    tid: Tid
    iccid: Iccid
    carrier: Carrier | None = None
    model: Model
    merchant_id: str | None = None
    plan_id: str | None = None
    expires_on: Date
    data_quota_mb: Annotated[int, Field(ge=0)] | None = None


class TerminalPatch(Patch):
    # sn is listed only to be refused with a clear "immutable" answer rather than "unknown".
    sn: Annotated[str, Field(json_schema_extra={"readOnly": True})] | None = None
    tid: Tid | None = None
    iccid: Iccid | None = None
    carrier: Carrier | None = None
    model: Model | None = None
    merchant_id: str | None = None
    plan_id: str | None = None
    expires_on: Date | None = None
    data_quota_mb: Annotated[int, Field(ge=0)] | None = None
    # Required with expires_on (admin only): written to the ledger with who changed it.
    reason: Reason | None = None


class Usage(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        usage_fields(body)

    data_used_mb: Annotated[int, Field(ge=0)]
    as_of: Date


class Claim(Body):
    sn: str
    code: Annotated[str, Field(json_schema_extra={"example": "ABCD-EFGH-JKMN"})]


class TransferTime(Body):
    to_sn: Annotated[
        str, Field(description="another terminal of the same agent", json_schema_extra={"example": "PAX-A920-0002"})
    ]
    months: Annotated[int, Field(ge=1, le=36, description="whole unused months to move")]
    reason: Reason


class FleetCsv(Text):
    """CSV with the header row of the fleet import format"""


class ImportUpload(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": "A presigned upload: PUT the file's bytes to upload.url (with upload.headers); its"
            " arrival starts the import. Up to 200 MB / 1,000,000 rows."
        },
    )

    filename: Annotated[str, text(min_length=1, max_length=255)]
    size_bytes: Annotated[int, Field(ge=1, le=200 * 1024 * 1024)]


class UsageCsv(Text):
    """CSV: sn (or tid), data_used_mb, as_of (YYYY-MM-DD); Chinese headers 序列号, 终端号, 已用流量(MB), 日期"""
