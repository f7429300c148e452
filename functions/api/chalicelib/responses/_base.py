"""The base of every response model: closed (a field the model does not name is an error when a test
checks an answer), and the coded values as references to the enum schemas of the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from simrenew.domain.vocabulary import API_ENUMS


class Out(BaseModel):
    """A JSON object a route answers with: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


class Page(Out, Generic[T]):
    """The base of every list's answer: a page of items, and the cursor of the next (null on the last).
    Each list names its own subclass (`class TerminalPage(Page[Terminal])`), the schema the document
    and the UI's types know it by."""

    items: list[T]
    next_cursor: str | None


def absent() -> Any:
    """The default of a field an answer may leave out, and never sends as null: `note: str = absent()`
    (the document lists it as optional and not nullable; `X | None = None` is one that may be null)."""
    return None


def _component(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _one_of(name: str) -> Callable[[str], str]:
    allowed = frozenset(API_ENUMS[name])

    def known(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {name}")
        return value

    return known


def _ref(name: str) -> dict[str, Any]:
    """A marker openapi.py turns into the $ref (pydantic resolves a $ref in its own template itself)."""
    return {"x-enum-ref": _component(name)}


class Coded:
    """The metadata of a coded string: `Annotated[str, Coded("tenant_status")]` is checked against that
    vocabulary (simrenew.domain.vocabulary.API_ENUMS) and documented as a $ref to its enum schema."""

    def __init__(self, name: str) -> None:
        self._check = AfterValidator(_one_of(name))
        self._document = WithJsonSchema(_ref(name))

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return self._check.__get_pydantic_core_schema__(source, handler)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return self._document.__get_pydantic_json_schema__(schema, handler)


# A string out of the API's vocabulary (simrenew.domain.vocabulary.API_ENUMS), checked against it and
# documented as a $ref to its enum schema: the UI's types get the union of its values.
TenantStatus = Annotated[str, Coded("tenant_status")]
ServiceFeeKind = Annotated[str, Coded("service_fee_kind")]
RenewalBasis = Annotated[str, Coded("renewal_basis")]
PaymentMethod = Annotated[str, Coded("payment_method")]
Language = Annotated[str, Coded("language")]
Role = Annotated[str, Coded("role")]
AccountCarrier = Annotated[str, Coded("account_carrier")]
CarrierPlatform = Annotated[str, Coded("carrier_platform")]
TerminalStatus = Annotated[str, Coded("terminal_status")]
ImportStatus = Annotated[str, Coded("import_status")]
MerchantStatus = Annotated[str, Coded("merchant_status")]
Carrier = Annotated[str, Coded("carrier")]
OrderStatus = Annotated[str, Coded("order_status")]
OrderPayment = Annotated[str, Coded("order_payment")]
OrderChannel = Annotated[str, Coded("order_channel")]
RefundStatus = Annotated[str, Coded("refund_status")]
AuditAction = Annotated[str, Coded("audit_action")]
LedgerKind = Annotated[str, Coded("ledger_kind")]
NotificationTemplate = Annotated[str, Coded("notification_template")]
NotificationChannel = Annotated[str, Coded("notification_channel")]
NotificationState = Annotated[str, Coded("notification_state")]
ExportKind = Annotated[str, Coded("export_kind")]
PaymentProvider = Annotated[str, Coded("payment_provider")]
DirectRail = Annotated[str, Coded("direct_rail")]
PaymentAttemptKind = Annotated[str, Coded("payment_attempt_kind")]
WebhookEvent = Annotated[str, Coded("webhook_event")]
WebhookDeliveryState = Annotated[str, Coded("webhook_delivery_state")]
