"""Reachability of the table: one GetItem on a key nothing uses (cheap, needs no extra IAM)."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item


def table_reachable() -> bool:
    try:
        Item.get(keys.health_pk(), keys.health_sk())
    except Item.DoesNotExist:
        return True
    except PynamoDBException:
        return False
    return True
