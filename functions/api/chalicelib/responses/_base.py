"""The base of every response model: closed (a field the model does not name is an error when a test
checks an answer), and the coded values as references to the enum schemas of the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema

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


# A string out of the API's vocabulary (simrenew.domain.vocabulary.API_ENUMS), checked against it and
# documented as a $ref to its enum schema: the UI's types get the union of its values.
TenantStatus = Annotated[str, AfterValidator(_one_of("tenant_status")), WithJsonSchema(_ref("tenant_status"))]
ServiceFeeKind = Annotated[str, AfterValidator(_one_of("service_fee_kind")), WithJsonSchema(_ref("service_fee_kind"))]
RenewalBasis = Annotated[str, AfterValidator(_one_of("renewal_basis")), WithJsonSchema(_ref("renewal_basis"))]
PaymentMethod = Annotated[str, AfterValidator(_one_of("payment_method")), WithJsonSchema(_ref("payment_method"))]
Language = Annotated[str, AfterValidator(_one_of("language")), WithJsonSchema(_ref("language"))]
Role = Annotated[str, AfterValidator(_one_of("role")), WithJsonSchema(_ref("role"))]
AccountCarrier = Annotated[str, AfterValidator(_one_of("account_carrier")), WithJsonSchema(_ref("account_carrier"))]
CarrierPlatform = Annotated[str, AfterValidator(_one_of("carrier_platform")), WithJsonSchema(_ref("carrier_platform"))]
TerminalStatus = Annotated[str, AfterValidator(_one_of("terminal_status")), WithJsonSchema(_ref("terminal_status"))]
ImportStatus = Annotated[str, AfterValidator(_one_of("import_status")), WithJsonSchema(_ref("import_status"))]
MerchantStatus = Annotated[str, AfterValidator(_one_of("merchant_status")), WithJsonSchema(_ref("merchant_status"))]
Carrier = Annotated[str, AfterValidator(_one_of("carrier")), WithJsonSchema(_ref("carrier"))]
OrderStatus = Annotated[str, AfterValidator(_one_of("order_status")), WithJsonSchema(_ref("order_status"))]
OrderPayment = Annotated[str, AfterValidator(_one_of("order_payment")), WithJsonSchema(_ref("order_payment"))]
OrderChannel = Annotated[str, AfterValidator(_one_of("order_channel")), WithJsonSchema(_ref("order_channel"))]
RefundStatus = Annotated[str, AfterValidator(_one_of("refund_status")), WithJsonSchema(_ref("refund_status"))]
AuditAction = Annotated[str, AfterValidator(_one_of("audit_action")), WithJsonSchema(_ref("audit_action"))]
LedgerKind = Annotated[str, AfterValidator(_one_of("ledger_kind")), WithJsonSchema(_ref("ledger_kind"))]
NotificationTemplate = Annotated[
    str, AfterValidator(_one_of("notification_template")), WithJsonSchema(_ref("notification_template"))
]
NotificationChannel = Annotated[
    str, AfterValidator(_one_of("notification_channel")), WithJsonSchema(_ref("notification_channel"))
]
NotificationState = Annotated[
    str, AfterValidator(_one_of("notification_state")), WithJsonSchema(_ref("notification_state"))
]
ImportStatus = Annotated[str, AfterValidator(_one_of("import_status")), WithJsonSchema(_ref("import_status"))]
ExportKind = Annotated[str, AfterValidator(_one_of("export_kind")), WithJsonSchema(_ref("export_kind"))]
PaymentProvider = Annotated[str, AfterValidator(_one_of("payment_provider")), WithJsonSchema(_ref("payment_provider"))]
DirectRail = Annotated[str, AfterValidator(_one_of("direct_rail")), WithJsonSchema(_ref("direct_rail"))]
PaymentAttemptKind = Annotated[
    str, AfterValidator(_one_of("payment_attempt_kind")), WithJsonSchema(_ref("payment_attempt_kind"))
]
WebhookEvent = Annotated[str, AfterValidator(_one_of("webhook_event")), WithJsonSchema(_ref("webhook_event"))]
WebhookDeliveryState = Annotated[
    str, AfterValidator(_one_of("webhook_delivery_state")), WithJsonSchema(_ref("webhook_delivery_state"))
]
