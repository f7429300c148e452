"""Key builders for the single table: every pk/sk and index key is made here, nowhere else.

The shapes are the stored data's addresses: changing what a builder returns orphans every item
written with the old value (tests/unit/test_keys.py pins each one). docs/data-model.md lists
which entity sits under which key and which code reads it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from simrenew.clock import iso_utc

EXPIRY_SHARDS = 8
PENDING_ORDER_SHARDS = 4
PENDING_EVENT_SHARDS = 4
OUTBOX_SHARDS = 4
HELD_SMS_SHARDS = 4
WEBHOOK_RETRY_SHARDS = 4


def _shard(value: str, shards: int) -> int:
    return int(hashlib.sha256(value.encode()).hexdigest()[:8], 16) % shards


# --- tenants and API keys -------------------------------------------------------------------------
def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def tenant_profile_sk() -> str:
    return "PROFILE"


def tenants_gsi1pk() -> str:
    """Every tenant in one platform-wide gsi1 partition: thousands of agents, read only by the operator."""
    return "TENANTS"


def tenants_gsi1sk(status: str, created_at: datetime, tenant_id: str) -> str:
    """Status first, so "tenants in a status" is a begins_with; newest last within a status."""
    return f"{status}#{iso_utc(created_at)}#{tenant_id}"


def tenants_by_status_prefix(status: str) -> str:
    return f"{status}#"


def api_key_sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def api_key_lookup_pk(key_id: str) -> str:
    """Global lookup item: key id → tenant, role and hash (no tenant data)."""
    return f"APIKEY#{key_id}"


def lookup_sk() -> str:
    """The sort key of every global lookup item (API key, PaymentIntent, order id)."""
    return "LOOKUP"


# --- platform plumbing (global, no tenant) -----------------------------------------------------------
def rate_limit_pk(bucket: str, subject: str, window: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"RATE#{bucket}#{digest}#{window}"


def rate_limit_sk() -> str:
    return "RATE"


def idempotency_pk(scope: str, key: str) -> str:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()
    return f"IDEMP#{digest}"


def idempotency_sk() -> str:
    return "IDEMP"


def health_pk() -> str:
    """The key the health check reads: nothing is ever stored there."""
    return "HEALTH"


def health_sk() -> str:
    return "PING"


# --- the sweep's expiry index --------------------------------------------------------------------------
def expiry_shard(sn: str) -> int:
    """Stable shard of a terminal, so one day's expiries spread over EXPIRY_SHARDS partitions."""
    return _shard(sn, EXPIRY_SHARDS)


def expiry_pk(day: date, shard: int) -> str:
    return f"EXP#{day.isoformat()}#{shard}"


def expiry_sk(tenant_id: str, sn: str) -> str:
    return f"{tenant_id}#{sn}"


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
    """Children of a terminal (renewals, events, notices, transfers): they move with it on a transfer."""
    return f"TLOG#{sn}#"


def terminals_by_merchant_gsi1pk(tenant_id: str, merchant_id: str) -> str:
    return f"TENANT#{tenant_id}#MERCHANT#{merchant_id}"


def terminals_by_merchant_gsi1sk(sn: str) -> str:
    return sn


def terminals_by_tid_gsi2pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#TID"


def terminals_by_tid_gsi2sk(tid: str) -> str:
    return tid


def public_sn_pk(sn: str) -> str:
    """The pay page's index (pubsn): a terminal by its SN, across tenants (an SN is claimed once)."""
    return f"PUBSN#{sn}"


def public_tid_pk(tid: str) -> str:
    """The pay page's index (pubtid): a terminal by its TID, across tenants (a TID is claimed once)."""
    return f"PUBTID#{tid}"


def tenant_context_lower_sk() -> str:
    """The tenant context is one Query of the tenant's partition from here to the profile: its
    plans (PLAN#), their name guards (PLANNAME#) and the profile (PROFILE) sort together."""
    return "PLAN#"


def terminals_by_status_gsi3pk(tenant_id: str, status: str) -> str:
    return f"TENANT#{tenant_id}#STATUS#{status}"


def terminals_by_expiry_gsi4pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#TERMS"


def expiry_sort_key(expires_on: str, sn: str) -> str:
    """gsi3sk and gsi4sk of a terminal: "#" sorts before any SN character, so date bounds work."""
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


def imports_gsi1sk(created_at: datetime, import_id: str) -> str:
    # Microseconds: two imports in one second keep their order (newest first) in the history.
    return f"{created_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{import_id}"


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


def export_sk(export_id: str) -> str:
    return f"EXPORT#{export_id}"


def import_chunk_sk(import_id: str, index: int) -> str:
    return f"IMPORT#{import_id}#CHUNK#{index:05d}"


def import_error_sk(import_id: str, row: int) -> str:
    return f"{import_errors_prefix(import_id)}{row:07d}"


def import_errors_prefix(import_id: str) -> str:
    return f"IMPORT#{import_id}#ERR#"


def terminal_events_prefix(sn: str) -> str:
    return f"{terminal_log_prefix(sn)}EVENT#"


def terminal_event_sk(sn: str, event: str, term: str) -> str:
    return f"{terminal_events_prefix(sn)}{term}#{event}"


def pending_event_shard(sn: str) -> int:
    return expiry_shard(sn) % PENDING_EVENT_SHARDS


def pending_events_gsi1pk(shard: int) -> str:
    """Sparse queue of terminal events (receipts, quota alerts) not yet acted on."""
    return f"PENDING_EVENTS#{shard}"


def pending_events_gsi1sk(at: datetime, tenant_id: str, sn: str, event: str) -> str:
    return f"{iso_utc(at)}#{tenant_id}#{sn}#{event}"


# --- orders and payments ------------------------------------------------------------------------------
def order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def open_public_order_sk(sn: str, plan_id: str) -> str:
    """Under the tenant: the merchant's unpaid order for this terminal and plan, to reuse."""
    return f"OPENORDER#{sn}#{plan_id}"


def orders_gsi1pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#ORDERS"


def orders_gsi1sk(created_at: datetime, order_id: str) -> str:
    return f"{iso_utc(created_at)}#{order_id}"


def pending_order_shard(order_id: str) -> int:
    return expiry_shard(order_id) % PENDING_ORDER_SHARDS


def pending_orders_gsi2pk(shard: int) -> str:
    return f"PENDING_ORDERS#{shard}"


def pending_orders_gsi2sk(expires_at: datetime, tenant_id: str, order_id: str) -> str:
    return f"{iso_utc(expires_at)}#{tenant_id}#{order_id}"


def payment_intent_pk(payment_intent_id: str) -> str:
    return f"PI#{payment_intent_id}"


def stripe_event_pk(event_id: str) -> str:
    return f"STRIPE_EVENT#{event_id}"


def stripe_event_sk() -> str:
    return "EVENT"


def renewals_prefix(sn: str) -> str:
    return f"{terminal_log_prefix(sn)}RENEWAL#"


def renewal_sk(sn: str, at: str, source: str, line: int, kind: str) -> str:
    return f"{renewals_prefix(sn)}{at}#{source}#{line:02d}#{kind}"


def order_lookup_pk(order_id: str) -> str:
    """Global: order id → tenant, for the public pay page (which knows no tenant)."""
    return f"ORDERID#{order_id}"


def voucher_batch_sk(batch_id: str) -> str:
    return f"VBATCH#{batch_id}"


def voucher_pk(code_hash: str) -> str:
    return f"VOUCHER#{code_hash}"


def voucher_sk() -> str:
    return "VOUCHER"


def redeemed_vouchers_gsi1pk(tenant_id: str) -> str:
    """Sparse: a voucher joins its agent's list (gsi1sk "<redeemed at>#<sn>") when redeemed."""
    return f"TENANT#{tenant_id}#VOUCHERS_REDEEMED"


def redeemed_vouchers_gsi1sk(redeemed_at: datetime, sn: str) -> str:
    return f"{iso_utc(redeemed_at)}#{sn}"


# --- the sweep: notices, its checkpoint and heartbeat ------------------------------------------------
def notifications_prefix(sn: str) -> str:
    return f"{terminal_log_prefix(sn)}NOTIF#"


def notification_sk(sn: str, term: str, kind: str, channel: str) -> str:
    """One message to one recipient: the key is the dedupe key (once per terminal, term, kind, channel)."""
    return f"{notifications_prefix(sn)}{term}#{kind}#{channel}"


def digest_sk(day: date) -> str:
    """The agent's daily digest e-mail (under the tenant)."""
    return f"DIGEST#{day.isoformat()}"


def held_sms_shard(notification_sk: str) -> int:
    return expiry_shard(notification_sk) % HELD_SMS_SHARDS


def held_sms_gsi2pk(shard: int) -> str:
    """Sparse, sharded queue of SMS held for the recipient's daytime."""
    return f"HELD_SMS#{shard}"


def held_sms_gsi2sk(hold_until: datetime, pk: str, sk: str) -> str:
    return f"{iso_utc(hold_until)}#{pk}#{sk}"


def held_sms_due_bound(now: datetime) -> str:
    """Inclusive upper bound of the held SMS due at or before `now`'s second ("~" sorts after "#")."""
    return f"{iso_utc(now)}~"


def sweep_pk() -> str:
    """The sweep's own partition: run heartbeats, daily checkpoints, the last day, the offsets registry."""
    return "SWEEP"


def sweep_alive_sk(run_id: str) -> str:
    return f"ALIVE#{run_id}"


def sweep_run_sk(as_of: date) -> str:
    return f"RUN#{as_of.isoformat()}"


def sweep_last_sk() -> str:
    return "LAST"


def sweep_offsets_sk() -> str:
    return "OFFSETS"


def sweep_day_sk(as_of: date) -> str:
    """The fanned-out sweep's day: its window, dates and shards, and the day's end."""
    return f"DAY#{as_of.isoformat()}"


def sweep_shard_sk(as_of: date, shard: int) -> str:
    """One expiry shard's checkpoint and lease for the day."""
    return f"DAY#{as_of.isoformat()}#SHARD#{shard}"


def sweep_request_sk(run_id: str) -> str:
    """A sweep run asked for (POST /v1/admin/sweeps or the schedule)."""
    return f"REQ#{run_id}"


def sweep_digest_sk(as_of: date) -> str:
    """Under the tenant's partition: the agent is due the day's digest."""
    return f"SWEEPDIGEST#{as_of.isoformat()}"


def sweep_digest_part_sk(as_of: date, shard: int, invocation: int) -> str:
    """Under the tenant's partition: what one worker invocation of one expiry shard noted for the
    agent's digest of the day (the agent is due it; the terminals it suspended)."""
    return f"SWEEPDIGEST#{as_of.isoformat()}#{shard}#{invocation}"


def sweep_digests_gsi1pk(as_of: date) -> str:
    """Every agent due a digest for the day (gsi1sk: the tenant id)."""
    return f"SWEEPDIGEST#{as_of.isoformat()}"


# --- agents' webhooks ---------------------------------------------------------------------------------
def webhook_endpoint_sk(endpoint_id: str) -> str:
    return f"WHEP#{endpoint_id}"


def webhook_endpoints_prefix() -> str:
    return webhook_endpoint_sk("")


def webhook_delivery_prefix(endpoint_id: str) -> str:
    """Every delivery of one endpoint; the trailing # keeps we_1 from matching we_10."""
    return f"WHDL#{endpoint_id}#"


def webhook_delivery_sk(endpoint_id: str, at: datetime, delivery_id: str) -> str:
    return f"{webhook_delivery_prefix(endpoint_id)}{iso_utc(at)}#{delivery_id}"


def webhook_retry_shard(delivery_id: str) -> int:
    return _shard(delivery_id, WEBHOOK_RETRY_SHARDS)


def webhook_retry_gsi2pk(shard: int) -> str:
    return f"WEBHOOK_RETRY#{shard}"


def webhook_retry_gsi2sk(next_attempt_at: datetime, tenant_id: str, delivery_sk: str) -> str:
    return f"{iso_utc(next_attempt_at)}#{tenant_id}#{delivery_sk}"


def webhook_retry_due_bound(before: datetime) -> str:
    """Upper bound (exclusive) of the queue keys due at or before `before`'s second:
    "$" sorts right after the "#" that follows the time."""
    return f"{iso_utc(before)}$"


# --- the outbox (side effects written with the change that causes them) -------------------------
def outbox_digest(event_type: str, dedupe_key: str) -> str:
    """One entry per (event type, dedupe key): the same change written twice is one entry."""
    return hashlib.sha256(f"{event_type}\x00{dedupe_key}".encode()).hexdigest()[:40]


def outbox_prefix() -> str:
    return "OUTBOX#"


def outbox_sk(event_type: str, dedupe_key: str) -> str:
    return f"{outbox_prefix()}{outbox_digest(event_type, dedupe_key)}"


def outbox_shard(sk: str) -> int:
    return _shard(sk, OUTBOX_SHARDS)


def outbox_pending_gsi1pk(shard: int) -> str:
    """Sparse, sharded queue of outbox entries not yet delivered (the fallback poll reads it)."""
    return f"OUTBOX_PENDING#{shard}"


def outbox_pending_gsi1sk(next_attempt_at: str, tenant_id: str, sk: str) -> str:
    """Due time first, so the fallback poll reads only what is due."""
    return f"{next_attempt_at}#{tenant_id}#{sk}"


def outbox_due_bound(before: str) -> str:
    """Exclusive upper bound of the queue keys due at or before `before` ("$" sorts after "#")."""
    return f"{before}$"


# --- carrier connection (issue 15, docs/carrier.md): all under the agent's partition --------------------
CARRIER_OP_SHARDS = 4


def carrier_account_sk(account_id: str) -> str:
    return f"CARRIER#ACCOUNT#{account_id}"


def carrier_accounts_prefix() -> str:
    return "CARRIER#ACCOUNT#"


def carrier_account_guard_sk(carrier: str) -> str:
    """One account per carrier per agent: the guard item's key."""
    return f"CARRIER#BY#{carrier}"


def carrier_accounts_gsi1pk() -> str:
    """The registry of every connected account (the daily sync reads it, never the table)."""
    return "CARRIER_ACCOUNTS"


def carrier_accounts_gsi1sk(tenant_id: str, account_id: str) -> str:
    return f"{tenant_id}#{account_id}"


def carrier_sim_sk(sn: str) -> str:
    return f"CARRIER#SIM#{sn}"


def carrier_sims_prefix() -> str:
    return "CARRIER#SIM#"


def carrier_drift_gsi1pk(tenant_id: str) -> str:
    """Sparse: only SIMs whose carrier status disagrees with ours carry it."""
    return f"CARRIER_DRIFT#{tenant_id}"


def carrier_drift_gsi1sk(sn: str) -> str:
    return sn


def carrier_ops_prefix(sn: str) -> str:
    return f"CARRIER#OP#{sn}#"


def carrier_op_sk(sn: str, version: int, action: str) -> str:
    """One per intended change: the terminal version the status change wrote, and the action."""
    return f"{carrier_ops_prefix(sn)}{version:010d}#{action}"


def carrier_op_shard(sk: str) -> int:
    return _shard(sk, CARRIER_OP_SHARDS)


def carrier_ops_due_gsi1pk(shard: int) -> str:
    return f"CARRIER_OPS_DUE#{shard}"


def carrier_ops_due_gsi1sk(at: datetime, tenant_id: str, sk: str) -> str:
    return f"{iso_utc(at)}#{tenant_id}#{sk}"


def carrier_ops_due_bound(now: datetime) -> str:
    """Exclusive upper bound of the operations due at or before `now` ("$" sorts after "#")."""
    return f"{iso_utc(now)}$"


def carrier_ops_failed_gsi1pk(tenant_id: str) -> str:
    return f"CARRIER_OPS_FAILED#{tenant_id}"


def carrier_ops_failed_gsi1sk(failed_at: datetime, sk: str) -> str:
    return f"{iso_utc(failed_at)}#{sk}"
