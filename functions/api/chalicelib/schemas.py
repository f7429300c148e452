"""JSON Schemas of request bodies, for the OpenAPI document (validation itself is in simrenew)."""

from __future__ import annotations

from typing import Any

from simrenew.domain.vocabulary import enum_schema

_text = {"type": "string", "minLength": 1, "maxLength": 100}

SIGNUP: dict[str, Any] = {
    "type": "object",
    "required": ["name", "contact_name", "contact_email", "contact_phone"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 100},
        "contact_name": {"type": "string", "minLength": 1, "maxLength": 60},
        "contact_email": {"type": "string", "format": "email", "maxLength": 254},
        "contact_phone": {"type": "string", "example": "+8613812345678"},
    },
}

SETTINGS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "reminder_days": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 365}, "maxItems": 10},
        "grace_days": {"type": "integer", "minimum": 0, "maximum": 90},
        "renewal_basis": enum_schema("renewal_basis"),
        "service_fee": {
            "type": "object",
            "required": ["kind", "value"],
            "properties": {
                "kind": enum_schema("service_fee_kind"),
                "value": {"type": "number", "minimum": 0},
            },
        },
        "timezone": {"type": "string", "example": "Asia/Shanghai"},
        "payment_methods": {
            "type": "array",
            "minItems": 1,
            "items": enum_schema("payment_method"),
        },
        "language": enum_schema("language"),
        "wechatpay_sub_mchid": {"type": ["string", "null"], "pattern": "^[0-9]{8,10}$", "example": "1900000109"},
        "alipay_app_auth_token": {"type": ["string", "null"], "minLength": 16, "maxLength": 128, "writeOnly": True},
    },
}

TENANT_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **SIGNUP["properties"],
        "service_phone": {
            "type": "string",
            "nullable": True,
            "example": "4008123456",
            "description": "the number merchants call, shown on the pay page and the QR stickers; null removes it",
        },
        "settings": SETTINGS,
    },
}

API_KEY_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "additionalProperties": False,
    "properties": {
        "role": enum_schema("role"),
        "label": {"type": "string", "maxLength": 60},
    },
}

EMPTY: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}

MERCHANT_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "phone"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "contact_name": {"type": "string", "maxLength": 60},
        "phone": {"type": "string", "example": "13812345678"},
        "email": {"type": "string", "format": "email"},
    },
}

MERCHANT_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {**MERCHANT_CREATE["properties"], "status": enum_schema("merchant_status")},
}

PLAN_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "term_months", "data_quota_mb", "price_fen"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 60},
        "term_months": {"type": "integer", "minimum": 1, "maximum": 36},
        "data_quota_mb": {"type": "integer", "minimum": 0, "maximum": 10000000},
        "price_fen": {"type": "integer", "minimum": 1, "maximum": 100000000},
        "active": {"type": "boolean"},
    },
}

PLAN_PATCH: dict[str, Any] = {**PLAN_CREATE, "required": [], "minProperties": 1}

_TERMINAL_PROPS: dict[str, Any] = {
    "sn": {"type": "string", "pattern": "^[A-Za-z0-9-]{6,32}$"},
    "tid": {"type": "string", "pattern": "^[0-9]{8}$"},
    "iccid": {"type": "string", "pattern": "^89[0-9]{17,18}$"},
    "carrier": enum_schema("carrier"),
    "model": {"type": "string", "minLength": 1, "maxLength": 64},
    "merchant_id": {"type": "string"},
    "plan_id": {"type": "string"},
    "expires_on": {"type": "string", "format": "date"},
    "data_quota_mb": {"type": "integer", "minimum": 0},
}

TERMINAL_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["sn", "tid", "iccid", "model", "expires_on"],
    "additionalProperties": False,
    "properties": _TERMINAL_PROPS,
}

TERMINAL_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    # sn is listed only to be refused with a clear "immutable" answer rather than "unknown".
    "properties": {
        **_TERMINAL_PROPS,
        "sn": {"type": "string", "readOnly": True},
        # Required with expires_on (admin only): written to the ledger with who changed it.
        "reason": {"type": "string", "minLength": 1, "maxLength": 500},
    },
}

USAGE: dict[str, Any] = {
    "type": "object",
    "required": ["data_used_mb", "as_of"],
    "additionalProperties": False,
    "properties": {"data_used_mb": {"type": "integer", "minimum": 0}, "as_of": {"type": "string", "format": "date"}},
}

CLAIM: dict[str, Any] = {
    "type": "object",
    "required": ["sn", "code"],
    "additionalProperties": False,
    "properties": {"sn": {"type": "string"}, "code": {"type": "string", "example": "ABCD-EFGH-JKMN"}},
}

IMPORT_CSV: dict[str, Any] = {"type": "string", "description": "CSV with the header row of the fleet import format"}

IMPORT_UPLOAD: dict[str, Any] = {
    "type": "object",
    "required": ["filename", "size_bytes"],
    "additionalProperties": False,
    "description": "A presigned upload: PUT the file's bytes to upload.url (with upload.headers); its arrival"
    " starts the import. Up to 200 MB / 1,000,000 rows.",
    "properties": {
        "filename": {"type": "string", "minLength": 1, "maxLength": 255},
        "size_bytes": {"type": "integer", "minimum": 1, "maximum": 200 * 1024 * 1024},
    },
}

EXPORT_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": enum_schema("export_kind"),
        "filters": {
            "type": "object",
            "description": "The list route's query parameters (terminals: status, merchant_id, expires_before, q;"
            " orders: status; ledger and notifications: sn; expiring: days)",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    },
}

ORDER_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["lines"],
    "additionalProperties": False,
    "properties": {
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["sn", "plan_id"],
                "additionalProperties": False,
                "properties": {"sn": {"type": "string"}, "plan_id": {"type": "string"}},
            },
        },
        "payment": enum_schema("order_payment"),
        # online only: a WeChat Pay / Alipay QR for the merchant at the agent's counter (direct rails)
        "method": enum_schema("payment_method"),
    },
}

MARK_PAID: dict[str, Any] = {
    "type": "object",
    "required": ["note"],
    "additionalProperties": False,
    "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 500}},
}

REFUND: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"amount_fen": {"type": "integer", "minimum": 1}, "reason": {"type": "string", "maxLength": 500}},
}

TRANSFER_TIME: dict[str, Any] = {
    "type": "object",
    "required": ["to_sn", "months", "reason"],
    "additionalProperties": False,
    "properties": {
        "to_sn": {"type": "string", "example": "PAX-A920-0002", "description": "another terminal of the same agent"},
        "months": {"type": "integer", "minimum": 1, "maximum": 36, "description": "whole unused months to move"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 500},
    },
}

PUBLIC_ORDER: dict[str, Any] = {
    "type": "object",
    "required": ["sn", "plan_id"],
    "additionalProperties": False,
    "properties": {
        "sn": {"type": "string"},
        "plan_id": {"type": "string"},
        "method": enum_schema("payment_method"),
        "client": enum_schema("pay_client"),
        "wx_code": {"type": "string", "maxLength": 128},
    },
}

PUBLIC_CONFIRM: dict[str, Any] = {
    "type": "object",
    "required": ["token", "payment_method"],
    "additionalProperties": False,
    "properties": {"token": {"type": "string"}, "payment_method": {"type": "string", "example": "pm_card_visa"}},
}

VOUCHER_BATCH: dict[str, Any] = {
    "type": "object",
    "required": ["plan_id", "count"],
    "additionalProperties": False,
    "properties": {"plan_id": {"type": "string"}, "count": {"type": "integer", "minimum": 1, "maximum": 1000}},
}

VOUCHER_REDEEM: dict[str, Any] = {
    "type": "object",
    "required": ["sn", "code"],
    "additionalProperties": False,
    "properties": {"sn": {"type": "string"}, "code": {"type": "string", "example": "ABCD-EFGH-JKMN-PQR7"}},
}

SWEEP_RUN: dict[str, Any] = {
    "type": "object",
    "required": ["as_of"],
    "additionalProperties": False,
    "properties": {"as_of": {"type": "string", "format": "date"}},
}

WEBHOOK_ENDPOINT: dict[str, Any] = {
    "type": "object",
    "required": ["url", "events"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2048},
        "events": {
            "type": "array",
            "minItems": 1,
            "items": enum_schema("webhook_event"),
        },
        "description": {"type": "string", "maxLength": 200},
    },
}
