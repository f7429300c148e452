"""Key builders for the single table: every pk/sk and index key is made here, nowhere else."""

from __future__ import annotations

import hashlib
from datetime import date

EXPIRY_SHARDS = 8


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def tenant_profile_sk() -> str:
    return "PROFILE"


def tenants_by_status_gsi1pk(status: str) -> str:
    return f"TENANTS#{status}"


def api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def api_key_lookup_pk(key_id: str) -> str:
    """Global lookup item: key id → tenant, role and hash (no tenant data)."""
    return f"APIKEY#{key_id}"


def lookup_sk() -> str:
    return "LOOKUP"


def rate_limit_pk(bucket: str, subject: str, window: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"RATE#{bucket}#{digest}#{window}"


def idempotency_pk(scope: str, key: str) -> str:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()
    return f"IDEMP#{digest}"


def expiry_shard(sn: str) -> int:
    """Stable shard of a terminal, so one day's expiries spread over EXPIRY_SHARDS partitions."""
    return int(hashlib.sha256(sn.encode()).hexdigest()[:8], 16) % EXPIRY_SHARDS


def expiry_pk(day: date, shard: int) -> str:
    return f"EXP#{day.isoformat()}#{shard}"
