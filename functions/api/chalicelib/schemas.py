"""JSON Schemas of request bodies, for the OpenAPI document (validation itself is in simrenew)."""

from __future__ import annotations

from typing import Any

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
        "renewal_basis": {"type": "string", "enum": ["stack", "from_payment"]},
        "service_fee": {
            "type": "object",
            "required": ["kind", "value"],
            "properties": {
                "kind": {"type": "string", "enum": ["flat", "percent"]},
                "value": {"type": "number", "minimum": 0},
            },
        },
        "timezone": {"type": "string", "example": "Asia/Shanghai"},
        "payment_methods": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": ["card", "alipay", "wechat_pay"]},
        },
        "language": {"type": "string", "enum": ["zh-CN", "en"]},
    },
}

TENANT_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {**SIGNUP["properties"], "settings": SETTINGS},
}

API_KEY_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "additionalProperties": False,
    "properties": {
        "role": {"type": "string", "enum": ["admin", "staff", "readonly"]},
        "label": {"type": "string", "maxLength": 60},
    },
}

EMPTY: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
