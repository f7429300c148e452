"""Orders and payments: the agent's orders, the merchant's pay page, refunds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.requests import Body, text, vocab

PaymentMethod = Annotated[str, vocab("payment_method")]


class OrderLineCreate(Body):
    sn: str
    plan_id: str


class OrderCreate(Body):
    lines: Annotated[list[OrderLineCreate], Field(min_length=1, max_length=20)]
    payment: Annotated[str, vocab("order_payment")] | None = None
    # online only: a WeChat Pay / Alipay QR for the merchant at the agent's counter (direct rails)
    method: PaymentMethod | None = None


class MarkPaid(Body):
    note: Annotated[str, text(min_length=1, max_length=500)]


class Refund(Body):
    amount_fen: Annotated[int, Field(ge=1)] | None = None
    reason: Annotated[str, text(max_length=500)]


class PublicOrder(Body):
    sn: str
    plan_id: str
    method: PaymentMethod | None = None
    client: Annotated[str, vocab("pay_client")] | None = None
    wx_code: Annotated[str, text(max_length=128)] | None = None


class PublicConfirm(Body):
    token: str
    payment_method: Annotated[str, Field(json_schema_extra={"example": "pm_card_visa"})]
