"""Stripe webhook function (POST /webhooks/stripe): verify the signature on the raw body,
apply the event exactly once, answer 200 (duplicates and unknown events included) or 400
(bad signature, nothing written)."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from simrenew.bootstrap import Services, build_services
from simrenew.config import load_config
from simrenew.errors import SimRenewError
from simrenew.log import get_logger

CONFIG = load_config()


@cache
def services() -> Services:
    return build_services(CONFIG)


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    payload = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    log = get_logger()
    try:
        result = services().orders.handle_webhook(payload, headers.get("stripe-signature"))
        return _answer(200, result)
    except SimRenewError as err:
        if err.status == 400:
            log.warning("stripe webhook refused", extra={"code": err.code})
        else:
            log.exception("stripe webhook failed")  # Stripe retries non-2xx answers
        return _answer(err.status, err.to_body())
    except Exception as exc:
        from simrenew.adapters.dynamodb.errors import store_unavailable  # the error path only

        busy = store_unavailable(exc)
        if busy is not None:  # throttled or timed out after the retry policy: Stripe redelivers
            log.warning("stripe webhook: data store unavailable", exc_info=True)
            return _answer(busy.status, busy.to_body())
        log.exception("stripe webhook failed")
        return _answer(500, {"error": {"code": "internal_error", "message": "will be retried"}})
