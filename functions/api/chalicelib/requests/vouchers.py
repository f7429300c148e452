"""Prepaid vouchers: batches, redeeming a code, voiding one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.requests import Body


class VoucherBatch(Body):
    plan_id: str
    count: Annotated[int, Field(ge=1, le=1000)]


class VoucherRedeem(Body):
    sn: str
    code: Annotated[str, Field(json_schema_extra={"example": "ABCD-EFGH-JKMN-PQR7"})]


class VoidCode(Body):
    code: Annotated[str, Field(json_schema_extra={"example": "ABCD-EFGH-JKMN-P"})]
