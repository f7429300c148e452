"""Every key builder's exact output for sample inputs, written out by hand.

Keys are the stored data's addresses: a builder that returns another string for the same input
leaves every item written before unreachable. These values were produced by the builders as they
were before they were gathered in keys.py (from sweeps.py, webhooks.py, fleet.py, orders.py, ...),
so this file is also the proof that the move changed no key. A new builder needs a line here.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from simrenew.adapters.dynamodb import keys

T, SN, DAY = "t_1", "SN0001", date(2026, 3, 9)
# 09:02:03.000999 at UTC+8: the builders write UTC with a Z, whole seconds.
AT = datetime(2026, 3, 9, 9, 2, 3, 999, tzinfo=timezone(timedelta(hours=8)))
NOTIF = "TLOG#SN0001#NOTIF#2026-03-09#reminder_7#sms"

PINS: list[tuple[Callable[..., Any], tuple[Any, ...], Any]] = [
    # tenants and API keys
    (keys.tenant_pk, (T,), "TENANT#t_1"),
    (keys.tenant_profile_sk, (), "PROFILE"),
    (keys.tenants_gsi1pk, (), "TENANTS"),
    (keys.tenants_gsi1sk, ("active", AT, T), "active#2026-03-09T01:02:03Z#t_1"),
    (keys.tenants_by_status_prefix, ("active",), "active#"),
    (keys.api_key_sk, ("k_1",), "APIKEY#k_1"),
    (keys.api_key_lookup_pk, ("k_1",), "APIKEY#k_1"),
    (keys.lookup_sk, (), "LOOKUP"),
    # platform plumbing
    (keys.rate_limit_pk, ("login", "1.2.3.4", 29_000_000), "RATE#login#6694f83c9f476da31f5df6bcc520034e#29000000"),
    (keys.rate_limit_sk, (), "RATE"),
    (
        keys.idempotency_pk,
        ("t_1:POST /v1/orders", "abc"),
        "IDEMP#50c72967450e9a62446f174e07f463eb2d7984480810f9994aab99ef0f837c51",
    ),
    (keys.idempotency_sk, (), "IDEMP"),
    (keys.health_pk, (), "HEALTH"),
    (keys.health_sk, (), "PING"),
    # the expiry index
    (keys.expiry_shard, (SN,), 5),
    (keys.expiry_pk, (DAY, 3), "EXP#2026-03-09#3"),
    (keys.expiry_sk, (T, SN), "t_1#SN0001"),
    # fleet
    (keys.merchant_sk, ("m_1",), "MERCHANT#m_1"),
    (keys.merchant_key_sk, ("Café Ä", "13800138000"), "MKEY#3869da755eab5914d7a696c0684271dd70785960"),
    (keys.plan_sk, ("p_1",), "PLAN#p_1"),
    (keys.plan_name_sk, ("Basic ÄB",), "PLANNAME#basic äb"),
    (keys.terminal_sk, (SN,), "TERM#SN0001"),
    (keys.terminal_log_prefix, (SN,), "TLOG#SN0001#"),
    (keys.terminals_by_merchant_gsi1pk, (T, "m_1"), "TENANT#t_1#MERCHANT#m_1"),
    (keys.terminals_by_merchant_gsi1sk, (SN,), "SN0001"),
    (keys.terminals_by_tid_gsi2pk, (T,), "TENANT#t_1#TID"),
    (keys.public_sn_pk, (SN,), "PUBSN#SN0001"),
    (keys.public_tid_pk, ("12345678",), "PUBTID#12345678"),
    (keys.tenant_context_lower_sk, (), "PLAN#"),
    (keys.terminals_by_tid_gsi2sk, ("12345678",), "12345678"),
    (keys.terminals_by_status_gsi3pk, (T, "active"), "TENANT#t_1#STATUS#active"),
    (keys.terminals_by_expiry_gsi4pk, (T,), "TENANT#t_1#TERMS"),
    (keys.expiry_sort_key, ("2026-03-09", SN), "2026-03-09#SN0001"),
    (keys.claim_pk, ("ICCID", "8986"), "ICCID#8986"),
    (keys.claim_sk, (), "CLAIM"),
    (keys.transfer_sk, (SN,), "XFER#SN0001"),
    (keys.time_transfer_sk, (SN, "tt_1"), "TLOG#SN0001#TIMEXFER#tt_1"),
    (keys.import_sk, ("i_1",), "IMPORT#i_1"),
    (keys.import_chunk_sk, ("i_1", 7), "IMPORT#i_1#CHUNK#00007"),
    (keys.export_sk, ("exp_1",), "EXPORT#exp_1"),
    (keys.import_error_sk, ("i_1", 42), "IMPORT#i_1#ERR#0000042"),
    (keys.import_errors_prefix, ("i_1",), "IMPORT#i_1#ERR#"),
    (keys.terminal_events_prefix, (SN,), "TLOG#SN0001#EVENT#"),
    (keys.terminal_event_sk, (SN, "quota_80", "2026-03-09"), "TLOG#SN0001#EVENT#2026-03-09#quota_80"),
    (keys.pending_event_shard, (SN,), 1),
    (keys.pending_events_gsi1pk, (1,), "PENDING_EVENTS#1"),
    (keys.pending_events_gsi1sk, (AT, T, SN, "quota_80"), "2026-03-09T01:02:03Z#t_1#SN0001#quota_80"),
    # orders, payments, the ledger, vouchers
    (keys.order_sk, ("o_1",), "ORDER#o_1"),
    (keys.open_public_order_sk, (SN, "p_1"), "OPENORDER#SN0001#p_1"),
    (keys.orders_gsi1pk, (T,), "TENANT#t_1#ORDERS"),
    # the search index and the import history (issue 16)
    (keys.search_shard, (SN,), 5),
    (keys.terminal_search_pk, (T, 3), "TENANT#t_1#TSEARCH#3"),
    (keys.merchant_search_pk, (T, 3), "TENANT#t_1#MSEARCH#3"),
    (keys.imports_gsi1pk, (T,), "TENANT#t_1#IMPORTS"),
    (keys.imports_gsi1sk, (AT, "imp_1"), "2026-03-09T01:02:03.000999Z#imp_1"),
    (keys.orders_gsi1sk, (AT, "o_1"), "2026-03-09T01:02:03Z#o_1"),
    (keys.pending_order_shard, ("o_1",), 1),
    (keys.pending_orders_gsi2pk, (2,), "PENDING_ORDERS#2"),
    (keys.pending_orders_gsi2sk, (AT, T, "o_1"), "2026-03-09T01:02:03Z#t_1#o_1"),
    (keys.payment_intent_pk, ("pi_1",), "PI#pi_1"),
    (keys.order_lookup_pk, ("o_1",), "ORDERID#o_1"),
    (keys.stripe_event_pk, ("evt_1",), "STRIPE_EVENT#evt_1"),
    (keys.stripe_event_sk, (), "EVENT"),
    (keys.renewals_prefix, (SN,), "TLOG#SN0001#RENEWAL#"),
    (
        keys.renewal_sk,
        (SN, "2026-03-09T01:02:03Z", "o_1", 3, "renewal"),
        "TLOG#SN0001#RENEWAL#2026-03-09T01:02:03Z#o_1#03#renewal",
    ),
    (keys.voucher_batch_sk, ("vb_1",), "VBATCH#vb_1"),
    (keys.voucher_pk, ("ab12",), "VOUCHER#ab12"),
    (keys.voucher_sk, (), "VOUCHER"),
    (keys.redeemed_vouchers_gsi1pk, (T,), "TENANT#t_1#VOUCHERS_REDEEMED"),
    (keys.redeemed_vouchers_gsi1sk, (AT, SN), "2026-03-09T01:02:03Z#SN0001"),
    # the sweep
    (keys.notifications_prefix, (SN,), "TLOG#SN0001#NOTIF#"),
    (keys.notification_sk, (SN, "2026-03-09", "reminder_7", "sms"), NOTIF),
    (keys.digest_sk, (DAY,), "DIGEST#2026-03-09"),
    (keys.held_sms_shard, (NOTIF,), 3),
    (keys.held_sms_gsi2pk, (1,), "HELD_SMS#1"),
    (keys.held_sms_gsi2sk, (AT, "TENANT#t_1", NOTIF), f"2026-03-09T01:02:03Z#TENANT#t_1#{NOTIF}"),
    (keys.held_sms_due_bound, (AT,), "2026-03-09T01:02:03Z~"),
    (keys.sweep_pk, (), "SWEEP"),
    (keys.sweep_alive_sk, ("run_1",), "ALIVE#run_1"),
    (keys.sweep_run_sk, (DAY,), "RUN#2026-03-09"),
    (keys.sweep_last_sk, (), "LAST"),
    (keys.sweep_day_sk, (DAY,), "DAY#2026-03-09"),
    (keys.sweep_shard_sk, (DAY, 3), "DAY#2026-03-09#SHARD#3"),
    (keys.sweep_request_sk, ("sweep_1",), "REQ#sweep_1"),
    (keys.sweep_digest_sk, (DAY,), "SWEEPDIGEST#2026-03-09"),
    (keys.sweep_digest_part_sk, (DAY, 3, 2), "SWEEPDIGEST#2026-03-09#3#2"),
    (keys.sweep_digests_gsi1pk, (DAY,), "SWEEPDIGEST#2026-03-09"),
    (keys.sweep_offsets_sk, (), "OFFSETS"),
    # agents' webhooks
    (keys.webhook_endpoint_sk, ("we_1",), "WHEP#we_1"),
    (keys.webhook_endpoints_prefix, (), "WHEP#"),
    (keys.webhook_delivery_prefix, ("we_1",), "WHDL#we_1#"),
    (keys.webhook_delivery_sk, ("we_1", AT, "wd_1"), "WHDL#we_1#2026-03-09T01:02:03Z#wd_1"),
    (keys.webhook_retry_shard, ("wd_1",), 1),
    (keys.webhook_retry_gsi2pk, (2,), "WEBHOOK_RETRY#2"),
    (keys.webhook_retry_gsi2sk, (AT, T, "WHDL#we_1#x"), "2026-03-09T01:02:03Z#t_1#WHDL#we_1#x"),
    (keys.webhook_retry_due_bound, (AT,), "2026-03-09T01:02:03Z$"),
    # the outbox
    (keys.outbox_digest, ("order.fulfilled", "o_1"), "f27c8c08fa3f886958ccd9b6536e6b0233a0a41c"),
    (keys.outbox_prefix, (), "OUTBOX#"),
    (keys.outbox_sk, ("order.fulfilled", "o_1"), "OUTBOX#f27c8c08fa3f886958ccd9b6536e6b0233a0a41c"),
    (keys.outbox_shard, ("OUTBOX#x",), 2),
    (keys.outbox_pending_gsi1pk, (3,), "OUTBOX_PENDING#3"),
    (keys.outbox_pending_gsi1sk, ("2026-03-09T01:02:03Z", T, "OUTBOX#x"), "2026-03-09T01:02:03Z#t_1#OUTBOX#x"),
    (keys.outbox_due_bound, ("2026-03-09T01:02:03Z",), "2026-03-09T01:02:03Z$"),
    # carrier connection (issue 15)
    (keys.carrier_account_sk, ("ca_1",), "CARRIER#ACCOUNT#ca_1"),
    (keys.carrier_accounts_prefix, (), "CARRIER#ACCOUNT#"),
    (keys.carrier_account_guard_sk, ("CMCC",), "CARRIER#BY#CMCC"),
    (keys.carrier_accounts_gsi1pk, (), "CARRIER_ACCOUNTS"),
    (keys.carrier_accounts_gsi1sk, (T, "ca_1"), "t_1#ca_1"),
    (keys.carrier_sim_sk, (SN,), "CARRIER#SIM#SN0001"),
    (keys.carrier_sims_prefix, (), "CARRIER#SIM#"),
    (keys.carrier_drift_gsi1pk, (T,), "CARRIER_DRIFT#t_1"),
    (keys.carrier_drift_gsi1sk, (SN,), "SN0001"),
    (keys.carrier_ops_prefix, (SN,), "CARRIER#OP#SN0001#"),
    (keys.carrier_op_sk, (SN, 7, "suspend"), "CARRIER#OP#SN0001#0000000007#suspend"),
    (
        keys.carrier_op_shard,
        ("CARRIER#OP#SN0001#0000000007#suspend",),
        keys._shard("CARRIER#OP#SN0001#0000000007#suspend", 4),
    ),
    (keys.carrier_ops_due_gsi1pk, (2,), "CARRIER_OPS_DUE#2"),
    (
        keys.carrier_ops_due_gsi1sk,
        (AT, T, "CARRIER#OP#SN0001#0000000007#suspend"),
        "2026-03-09T01:02:03Z#t_1#CARRIER#OP#SN0001#0000000007#suspend",
    ),
    (keys.carrier_ops_due_bound, (AT,), "2026-03-09T01:02:03Z$"),
    (keys.carrier_ops_failed_gsi1pk, (T,), "CARRIER_OPS_FAILED#t_1"),
    (
        keys.carrier_ops_failed_gsi1sk,
        (AT, "CARRIER#OP#SN0001#0000000007#resume"),
        "2026-03-09T01:02:03Z#CARRIER#OP#SN0001#0000000007#resume",
    ),
]


@pytest.mark.parametrize(("builder", "args", "expected"), PINS, ids=[p[0].__name__ for p in PINS])
def test_a_builder_makes_exactly_the_stored_key(
    builder: Callable[..., Any], args: tuple[Any, ...], expected: Any
) -> None:
    assert builder(*args) == expected


def test_every_builder_in_keys_is_pinned() -> None:
    builders = {
        name
        for name, fn in vars(keys).items()
        if inspect.isfunction(fn) and fn.__module__ == keys.__name__ and not name.startswith("_")
    }
    assert builders - {p[0].__name__ for p in PINS} == set()


def test_the_shard_counts_are_the_ones_the_data_was_written_with() -> None:
    # A different count moves items to other queue partitions, where their readers do not look.
    assert (
        keys.EXPIRY_SHARDS,
        keys.PENDING_ORDER_SHARDS,
        keys.PENDING_EVENT_SHARDS,
        keys.OUTBOX_SHARDS,
        keys.HELD_SMS_SHARDS,
        keys.WEBHOOK_RETRY_SHARDS,
    ) == (8, 4, 4, 4, 4, 4)


def test_time_keys_are_utc_whole_seconds_whatever_the_zone() -> None:
    utc = datetime(2026, 3, 9, 1, 2, 3, tzinfo=UTC)
    assert keys.orders_gsi1sk(AT, "o_1") == keys.orders_gsi1sk(utc, "o_1")
    assert keys.webhook_delivery_sk("we_1", AT, "d") == keys.webhook_delivery_sk("we_1", utc, "d")


# --- nowhere else ------------------------------------------------------------------------------------
PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "simrenew"
KEY_PREFIX = re.compile(r"[A-Z][A-Z_]{2,}#")  # TENANT#, TLOG#, HELD_SMS#, ...
KEY_ATTRIBUTES = re.compile(r"^(?:pk|sk|gsi[1-4](?:pk|sk)|exp_pk|exp_sk)$")
MODEL = re.compile(r"^(?:[A-Z]\w*Item|Item)$")


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def hand_made_keys(text: str) -> list[int]:
    """Lines that build a key by hand: a key-like prefix in a string, a literal pk/sk given to a
    model or its get, or a literal (f-)string set on a key attribute. A heuristic guard, not a proof."""
    tree = ast.parse(text)
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if KEY_PREFIX.search(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            receiver = func.value if isinstance(func, ast.Attribute) else func
            if isinstance(receiver, ast.Name) and MODEL.match(receiver.id) and any(_literal(a) for a in node.args[:2]):
                lines.append(node.lineno)
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "set"
                and isinstance(func.value, ast.Attribute)
                and KEY_ATTRIBUTES.match(func.value.attr)
                and any(_literal(a) for a in node.args)
            ):
                lines.append(node.lineno)
            lines += [
                node.lineno for kw in node.keywords if kw.arg and KEY_ATTRIBUTES.match(kw.arg) and _literal(kw.value)
            ]
        elif (
            isinstance(node, ast.Assign)
            and _literal(node.value)
            and any(isinstance(t, ast.Attribute) and KEY_ATTRIBUTES.match(t.attr) for t in node.targets)
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_keys_are_built_in_keys_py_only() -> None:
    found = {
        str(path.relative_to(PACKAGE)): hand_made_keys(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "keys.py"
    }
    assert {name: lines for name, lines in found.items() if lines} == {}


@pytest.mark.parametrize(
    "line",
    [
        'Item.get("HEALTH", "PING")',
        'SweepRunItem.get(keys.sweep_pk(), f"ALIVE#{run_id}")',
        "prefix = keys.terminal_log_prefix(sn) + 'EVENT#'",
        'item.exp_sk = f"{tenant_id}#{sn}"',
        'actions = [NotificationItem.gsi2sk.set(f"{at}#{pk}#{sk}")]',
        'TerminalEventItem(pk, sk, gsi1sk=f"{at}#{sn}")',
    ],
)
def test_the_guard_sees_a_key_made_by_hand(line: str) -> None:
    assert hand_made_keys(line) == [1]
