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


# --- fleet -------------------------------------------------------------------------------------
def merchant_sk(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def merchant_key_sk(name: str, phone: str) -> str:
    digest = hashlib.sha256(f"{name.casefold()}\x00{phone}".encode()).hexdigest()[:40]
    return f"MKEY#{digest}"


def plan_sk(plan_id: str) -> str:
    return f"PLAN#{plan_id}"


def plan_name_sk(name: str) -> str:
    return f"PLANNAME#{name.casefold()}"


def terminal_sk(sn: str) -> str:
    return f"TERM#{sn}"


def terminal_log_prefix(sn: str) -> str:
    """Children of a terminal (renewals, events): they move with it on a transfer."""
    return f"TLOG#{sn}#"


def terminals_by_merchant_gsi1pk(tenant_id: str, merchant_id: str) -> str:
    return f"TENANT#{tenant_id}#MERCHANT#{merchant_id}"


def terminals_by_tid_gsi2pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#TID"


def terminals_by_status_gsi3pk(tenant_id: str, status: str) -> str:
    return f"TENANT#{tenant_id}#STATUS#{status}"


def terminals_by_expiry_gsi4pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#TERMS"


def expiry_sort_key(expires_on: str, sn: str) -> str:
    return f"{expires_on}#{sn}"


# --- the compact search index (issue 16): names, search, sort and totals --------------------------
SEARCH_SHARDS = 8


def search_shard(value: str) -> int:
    """Stable shard of a terminal (by SN) or merchant (by id) in the search index."""
    return int(hashlib.sha256(value.encode()).hexdigest()[:8], 16) % SEARCH_SHARDS


def terminal_search_pk(tenant_id: str, shard: int) -> str:
    """A tenant's terminals in the compact search index, spread over SEARCH_SHARDS partitions
    that one list request reads in parallel."""
    return f"TENANT#{tenant_id}#TSEARCH#{shard}"


def merchant_search_pk(tenant_id: str, shard: int) -> str:
    return f"TENANT#{tenant_id}#MSEARCH#{shard}"


def imports_gsi1pk(tenant_id: str) -> str:
    """A tenant's import jobs, newest first (gsi1sk "<created at>#<import id>"): the history."""
    return f"TENANT#{tenant_id}#IMPORTS"


def claim_pk(kind: str, value: str) -> str:
    """kind is SN, TID or ICCID."""
    return f"{kind}#{value}"


def claim_sk() -> str:
    return "CLAIM"


def transfer_sk(sn: str) -> str:
    return f"XFER#{sn}"


def time_transfer_sk(from_sn: str, transfer_id: str) -> str:
    """A transfer of unused time (转赠), kept with the terminal that gave it."""
    return f"{terminal_log_prefix(from_sn)}TIMEXFER#{transfer_id}"


def import_sk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def import_chunk_sk(import_id: str, index: int) -> str:
    return f"IMPORT#{import_id}#CHUNK#{index:05d}"


def import_error_sk(import_id: str, row: int) -> str:
    return f"IMPORT#{import_id}#ERR#{row:07d}"


def terminal_event_sk(sn: str, event: str, term: str) -> str:
    return f"{terminal_log_prefix(sn)}EVENT#{term}#{event}"


# --- orders and payments ------------------------------------------------------------------------------
def order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def open_public_order_sk(sn: str, plan_id: str) -> str:
    """Under the tenant: the merchant's unpaid order for this terminal and plan, to reuse."""
    return f"OPENORDER#{sn}#{plan_id}"


def orders_gsi1pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#ORDERS"


def pending_orders_gsi2pk(shard: int) -> str:
    return f"PENDING_ORDERS#{shard}"


def payment_intent_pk(payment_intent_id: str) -> str:
    return f"PI#{payment_intent_id}"


def stripe_event_pk(event_id: str) -> str:
    return f"STRIPE_EVENT#{event_id}"


def renewal_sk(sn: str, at: str, source: str, line: int, kind: str) -> str:
    return f"{terminal_log_prefix(sn)}RENEWAL#{at}#{source}#{line:02d}#{kind}"


def order_lookup_pk(order_id: str) -> str:
    """Global: order id → tenant, for the public pay page (which knows no tenant)."""
    return f"ORDERID#{order_id}"


def voucher_batch_sk(batch_id: str) -> str:
    return f"VBATCH#{batch_id}"


def voucher_pk(code_hash: str) -> str:
    return f"VOUCHER#{code_hash}"


def redeemed_vouchers_gsi1pk(tenant_id: str) -> str:
    """Sparse: a voucher joins its agent's list (gsi1sk "<redeemed at>#<sn>") when redeemed."""
    return f"TENANT#{tenant_id}#VOUCHERS_REDEEMED"


# --- the outbox (side effects written with the change that causes them) -------------------------
PENDING_EVENT_SHARDS = 4
OUTBOX_SHARDS = 4


def pending_events_gsi1pk(shard: int) -> str:
    """Sparse queue of terminal events (receipts, quota alerts) not yet acted on."""
    return f"PENDING_EVENTS#{shard}"


def outbox_digest(event_type: str, dedupe_key: str) -> str:
    """One entry per (event type, dedupe key): the same change written twice is one entry."""
    return hashlib.sha256(f"{event_type}\x00{dedupe_key}".encode()).hexdigest()[:40]


def outbox_prefix() -> str:
    return "OUTBOX#"


def outbox_sk(event_type: str, dedupe_key: str) -> str:
    return f"{outbox_prefix()}{outbox_digest(event_type, dedupe_key)}"


def outbox_shard(sk: str) -> int:
    return int(hashlib.sha256(sk.encode()).hexdigest()[:8], 16) % OUTBOX_SHARDS


def outbox_pending_gsi1pk(shard: int) -> str:
    """Sparse, sharded queue of outbox entries not yet delivered (the fallback poll reads it)."""
    return f"OUTBOX_PENDING#{shard}"


def outbox_pending_gsi1sk(next_attempt_at: str, tenant_id: str, sk: str) -> str:
    """Due time first, so the fallback poll reads only what is due."""
    return f"{next_attempt_at}#{tenant_id}#{sk}"


def outbox_due_bound(before: str) -> str:
    """Exclusive upper bound of the queue keys due at or before `before` ("$" sorts after "#")."""
    return f"{before}$"
