"""Idempotency-Key records: the same key and body replays the first answer, another body is 409."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import translated
from simrenew.adapters.dynamodb.models import IdempotencyItem
from simrenew.errors import Conflict

RETENTION = timedelta(hours=24)
# A request that died mid-way (container killed) must not block its key forever.
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


class IdempotencyStore:
    def begin(self, scope: str, key: str, request_hash: str, now: datetime) -> StoredResponse | None:
        """Claim the key for this request, or return the answer already given to it."""
        item = IdempotencyItem(
            keys.idempotency_pk(scope, key),
            keys.idempotency_sk(),
            request_hash=request_hash,
            state="in_progress",
            created_at=now,
            ttl=now + RETENTION,
        )
        stale = now - STALE_AFTER
        try:
            with translated():
                item.save(
                    condition=IdempotencyItem.pk.does_not_exist()
                    | (
                        (IdempotencyItem.state == "in_progress")
                        & (IdempotencyItem.created_at < stale)
                        & (IdempotencyItem.request_hash == request_hash)
                    )
                )
            return None
        except Conflict:
            pass
        try:
            existing = IdempotencyItem.get(item.pk, item.sk, consistent_read=True)
        except IdempotencyItem.DoesNotExist:  # expired between the two calls: extremely rare
            return self.begin(scope, key, request_hash, now)
        if existing.request_hash != request_hash:
            raise Conflict("this Idempotency-Key was used with a different request body", code="idempotency_key_reused")
        if existing.state != "done" or existing.status_code is None:
            raise Conflict("a request with this Idempotency-Key is still running", code="idempotency_in_progress")
        return StoredResponse(int(existing.status_code), json.loads(existing.response_json or "null"))

    def complete(self, scope: str, key: str, status_code: int, body: Any) -> None:
        item = IdempotencyItem(keys.idempotency_pk(scope, key), keys.idempotency_sk())
        item.update(
            actions=[
                IdempotencyItem.state.set("done"),
                IdempotencyItem.status_code.set(status_code),
                IdempotencyItem.response_json.set(json.dumps(body, ensure_ascii=False)),
            ]
        )

    def abandon(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can run."""
        IdempotencyItem(keys.idempotency_pk(scope, key), keys.idempotency_sk()).delete()
