"""Onboarding and the tenant itself: signup, an agent's profile and settings, its API keys."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from chalicelib.requests import Body, Patch, text, vocab
from simrenew.domain.contact import clean_text
from simrenew.domain.tenant import Role

Name = Annotated[str, text(min_length=2, max_length=100)]
ContactName = Annotated[str, text(min_length=1, max_length=60)]
Email = Annotated[str, text(max_length=254, json_schema_extra={"format": "email"})]
Phone = Annotated[str, Field(json_schema_extra={"example": "+8613812345678"})]


class Signup(Body):
    name: Name
    contact_name: ContactName
    contact_email: Email
    contact_phone: Phone


class ServiceFeeSetting(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    kind: Annotated[str, vocab("service_fee_kind")]
    # A whole number stays one (a flat fee is fen): a number, as the document says.
    value: Annotated[int | float, Field(ge=0), WithJsonSchema({"type": "number", "minimum": 0})]


class Settings(Body):
    reminder_days: Annotated[list[Annotated[int, Field(ge=1, le=365)]], Field(max_length=10)] | None = None
    grace_days: Annotated[int, Field(ge=0, le=90)] | None = None
    renewal_basis: Annotated[str, vocab("renewal_basis")] | None = None
    service_fee: ServiceFeeSetting | None = None
    timezone: Annotated[str, Field(json_schema_extra={"example": "Asia/Shanghai"})] | None = None
    payment_methods: Annotated[list[Annotated[str, vocab("payment_method")]], Field(min_length=1)] | None = None
    language: Annotated[str, vocab("language")] | None = None
    wechatpay_sub_mchid: (
        Annotated[str, text(pattern="^[0-9]{8,10}$", json_schema_extra={"example": "1900000109", "nullable": True})]
        | None
    ) = None
    alipay_app_auth_token: (
        Annotated[str, text(min_length=16, max_length=128, json_schema_extra={"writeOnly": True, "nullable": True})]
        | None
    ) = None


class TenantPatch(Patch):
    name: Name | None = None
    contact_name: ContactName | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    service_phone: (
        Annotated[
            str,
            Field(
                description="the number merchants call, shown on the pay page and the QR stickers; null removes it",
                json_schema_extra={"example": "4008123456", "nullable": True},
            ),
        ]
        | None
    ) = None
    settings: Settings | None = None


class ApiKeyCreate(Body):
    @classmethod
    def judge(cls, body: dict[str, Any]) -> None:
        # A missing role is the type's `required` ("role is required"), reported before the label, as ever.
        if "role" in body:
            Role.parse(body["role"])
            clean_text(body.get("label", ""), "label", max_len=60, required=False)

    role: Annotated[str, vocab("role")]
    label: Annotated[str, text(max_length=60)] | None = None
