"""Every coded value the API can answer with (statuses, kinds, channels, audit actions...), by name.

The console shows none of these codes as they are: each has zh-CN and English text in
frontend/src/console/strings.ts under `enum.<name>.<value>`. The OpenAPI document lists them as
components (`x-enum` names the vocabulary), and tests/unit/test_enum_strings.py fails on any value
without both texts, so a new status added here, or a new audit action or ledger kind written in the
services (the test scans for them), cannot reach the screen untranslated.
"""

from __future__ import annotations

from simrenew.domain.dates import RenewalBasis
from simrenew.domain.fleet import TerminalStatus
from simrenew.domain.identifiers import Carrier
from simrenew.domain.messages import CHANNELS, KINDS
from simrenew.domain.orders import REFUND_FAILED, REFUND_RESERVED, REFUND_SUCCEEDED, OrderStatus
from simrenew.domain.tenant import LANGUAGES, PAYMENT_METHODS, Role, TenantStatus
from simrenew.domain.transfers import IN, OUT

WEBHOOK_EVENTS: tuple[str, ...] = (
    "terminal.expiring",
    "terminal.expired",
    "terminal.suspended",
    "terminal.risk_flagged",
    "order.fulfilled",
    "order.refunded",
)

API_ENUMS: dict[str, tuple[str, ...]] = {
    # terminals, their list filter ("expiring" is derived, never stored) and carriers
    "terminal_status": (*(s.value for s in TerminalStatus), "expiring"),
    "carrier": tuple(c.value for c in Carrier),
    # carrier accounts (docs/carrier.md): the carriers an account can be for, and their platforms
    "account_carrier": tuple(c.value for c in Carrier if c is not Carrier.OTHER),
    "carrier_platform": ("control_center", "onelink"),
    "merchant_status": ("active", "inactive"),
    # orders: status, how they are paid and where they were made, refunds
    "order_status": tuple(s.value for s in OrderStatus),
    "order_payment": ("online", "offline"),
    "order_channel": ("agent", "public"),
    "refund_status": (REFUND_RESERVED, REFUND_SUCCEEDED, REFUND_FAILED),
    "audit_action": (
        "created",
        "paid",
        "mark_paid",
        "payment_failed",
        "canceled",
        "expired",
        "dispute",
        "needs_review",
        "refund",
        "refund_failed",
        "duplicate_payment_refunded",
        "duplicate_payment_refund_failed",
    ),
    # the renewal ledger (充值记录)
    "ledger_kind": ("renewal", "reversal", "refund", "adjustment", OUT, IN),
    # what was sent to merchants and agents
    "notification_template": KINDS,
    "notification_channel": CHANNELS,
    "notification_state": ("sending", "held", "sent", "failed"),
    # imports, agents, keys, settings
    "import_status": ("awaiting_upload", "running", "done", "failed"),
    "export_kind": ("terminals", "orders", "ledger", "notifications", "expiring"),
    "tenant_status": tuple(s.value for s in TenantStatus),
    "role": tuple(r.label for r in (Role.ADMIN, Role.STAFF, Role.READONLY, Role.FINANCE)),
    "renewal_basis": tuple(b.value for b in RenewalBasis),
    "service_fee_kind": ("flat", "percent"),
    "payment_method": PAYMENT_METHODS,
    # who carried a payment (orders' payment attempts, duplicate payments, reconciliation rows) and the
    # direct rails an agent is onboarded to (docs/china-payments.md); the kind of trade opened there and
    # where the payer is (the pay page says: a QR on a desktop, H5/WAP on a phone, JSAPI inside WeChat)
    "payment_provider": ("stripe", "wechatpay", "alipay"),
    "direct_rail": ("wechatpay", "alipay"),
    "payment_attempt_kind": ("native", "h5", "jsapi", "precreate", "wap"),
    "pay_client": ("desktop", "mobile", "wechat"),
    "language": LANGUAGES,
    # reports and webhooks
    "reconciliation_kind": ("charge", "refund", "duplicate_charge", "duplicate_refund"),
    "reconciliation_status": ("matched", "unmatched_stripe", "unmatched_bill", "unmatched_order"),
    "webhook_event": WEBHOOK_EVENTS,
    "webhook_delivery_state": ("pending", "delivered", "failed"),
}


def enum_schema(name: str) -> dict[str, object]:
    """A string schema of one vocabulary, for request bodies and the document's components."""
    return {"type": "string", "enum": list(API_ENUMS[name]), "x-enum": name}
