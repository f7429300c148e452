"""Webhook function: Stripe (POST /webhooks/stripe), WeChat Pay (POST /webhooks/wechatpay) and
Alipay (POST /webhooks/alipay). Each verifies the signature on the raw body and applies what it
says exactly once. Stripe: 200 (duplicates and unknown events included) or 400 (bad signature,
nothing written). WeChat Pay: 204, or 401 {"code": "FAIL"} on a bad signature. Alipay: `success`,
or 401 `fail` on a bad signature. Anything else that fails answers 5xx: every rail redelivers."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from simrenew.bootstrap import NEEDS, WebhookServices, build_webhook
from simrenew.config import load_config
from simrenew.errors import SimRenewError
from simrenew.log import get_logger

CONFIG = load_config(needs=NEEDS["webhook"])


@cache
def services() -> WebhookServices:
    return build_webhook(CONFIG)


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


DIRECT = {"/webhooks/wechatpay": "wechatpay", "/webhooks/alipay": "alipay"}


def _direct_answer(rail: str, status: int, ok: bool, message: str = "") -> dict[str, Any]:
    """What each rail expects: WeChat Pay 204 (or a JSON {code: FAIL}), Alipay the text success/fail."""
    if rail == "alipay":
        return {
            "statusCode": status,
            "headers": {"Content-Type": "text/plain; charset=utf-8"},
            "body": "success" if ok else "fail",
        }
    if ok:
        return {"statusCode": 204, "headers": {}, "body": ""}
    return _answer(status, {"code": "FAIL", "message": message or "failed"})


def _direct(rail: str, payload: bytes, headers: dict[str, str]) -> dict[str, Any]:
    log = get_logger()
    try:
        services().orders.handle_direct_webhook(rail, headers, payload)
        return _direct_answer(rail, 200, True)
    except SimRenewError as err:
        if err.status == 401:
            log.warning(f"{rail} notification refused", extra={"code": err.code})
        else:
            log.exception(f"{rail} notification failed")
        return _direct_answer(rail, err.status, False, err.message)
    except Exception as exc:
        from simrenew.adapters.dynamodb.errors import store_unavailable

        busy = store_unavailable(exc)
        log.warning(f"{rail} notification failed", exc_info=True)
        return _direct_answer(rail, busy.status if busy is not None else 500, False, "will be retried")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    payload = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    path = str(event.get("resource") or event.get("path") or "")  # resource: the template path, never the stage
    if path in DIRECT:
        return _direct(DIRECT[path], payload, headers)
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
