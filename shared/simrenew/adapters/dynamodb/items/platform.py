"""Platform plumbing: rate-limit windows and Idempotency-Key claims."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from simrenew.adapters.dynamodb.items.base import Item


class RateLimitItem(Item, discriminator="rate"):
    """One fixed window of one rate limit: an atomic hit counter.

    Key: PK `RATE#<bucket>#<sha256(subject)[:32]>#<window>`, SK `RATE`.
    TTL: two windows.
    """

    hits = NumberAttribute(default=0)


class IdempotencyItem(Item, discriminator="idempotency"):
    """An Idempotency-Key claim and, once done, the answer to replay.

    Key: PK `IDEMP#<sha256(scope, key)>`, SK `IDEMP`.
    TTL: 24 hours.
    """

    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()  # "in_progress" | "done"
    status_code = NumberAttribute(null=True)
    response_json = UnicodeAttribute(null=True)
