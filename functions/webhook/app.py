"""Stripe webhook function (POST /webhooks/stripe).

Not implemented yet (the payments issue builds it): it answers 501 with the API error
shape and writes nothing, so no event can be mistaken for handled.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = {"error": {"code": "not_implemented", "message": "Stripe webhooks are not handled yet"}}
    return {"statusCode": 501, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
