"""The bench's floor (bench/replay.py): a hot path's own DynamoDB requests, captured and sent again
alone, must be the same requests (same operations, same items written, same reads) and must
change nothing the path wrote; a target under that floor is said to be so in the verdict line.
The import's floor (its own transactions alone, bench.import_bench.bare_transactions) writes the
same items, conditions kept, on keys of their own."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench.replay import Replayer, capturing, for_replay
from bench.targets import line, verdicts
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import sign

UPDATE = {
    "TableName": "t",
    "Key": {"pk": {"S": "RATE#x"}, "sk": {"S": "RATE"}},
    "UpdateExpression": "ADD #h :one SET #t = :ttl",
    "ConditionExpression": "attribute_not_exists(#h) OR #h < :limit",
    "ExpressionAttributeNames": {"#h": "hits", "#t": "ttl"},
    "ExpressionAttributeValues": {":one": {"N": "1"}, ":ttl": {"N": "9"}, ":limit": {"N": "30"}},
}


def test_a_write_is_replayed_on_its_own_key_without_its_condition_and_what_only_it_used() -> None:
    body, dropped = for_replay("UpdateItem", UPDATE, 7)
    assert body["Key"] == {"pk": {"S": "REPLAY7#RATE#x"}, "sk": {"S": "RATE"}}
    assert "ConditionExpression" not in body and body["UpdateExpression"] == UPDATE["UpdateExpression"]
    assert body["ExpressionAttributeValues"] == {":one": {"N": "1"}, ":ttl": {"N": "9"}}  # :limit was the condition's
    assert body["ExpressionAttributeNames"] == {"#h": "hits", "#t": "ttl"}
    assert dropped == 0 and UPDATE["Key"]["pk"] == {"S": "RATE#x"}  # the captured request is left as it was
    check = {"ConditionCheck": {**UPDATE, "ConditionExpression": "attribute_exists(pk)"}}
    put = {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}, "sk": {"S": "B"}, "v": {"N": "1"}}}}
    tx, dropped = for_replay("TransactWriteItems", {"TransactItems": [check, put]}, 1)
    assert dropped == 1 and tx["TransactItems"] == [
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "REPLAY1#A"}, "sk": {"S": "B"}, "v": {"N": "1"}}}}
    ]
    query = {"TableName": "t", "IndexName": "pubsn", "KeyConditionExpression": "pubsn_pk = :v"}
    assert for_replay("Query", query, 3) == (query, 0)


def test_the_webhook_replayed_writes_the_same_items_elsewhere_and_leaves_the_order_as_fulfilled(
    ddb: Any, services: Any, gateway: Any
) -> None:
    table = os.environ["TABLE_NAME"]
    tenant_id = services.tenants.create_active(
        {"name": "Replay Agent", "contact_name": "赵", "contact_email": "r@example.com", "contact_phone": "13800138000"}
    )[0].tenant_id
    plan = services.fleet.create_plan(
        tenant_id, {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}
    )
    terminal = services.fleet.register(tenant_id, terminal_body())
    order, _pay = services.orders.create(
        tenant_id, {"lines": [{"sn": terminal.sn, "plan_id": plan.plan_id}]}, actor="test"
    )
    payload = gateway.succeeded_event(order.payment_intent_id)
    with capturing() as captured:
        assert services.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))["outcome"] == "ok"
    assert captured.operations == ["BatchGetItem", "TransactWriteItems"]
    before = {(i["pk"]["S"], i["sk"]["S"]): i for i in ddb.scan(TableName=table)["Items"]}

    replayer = Replayer(ddb, captured)
    try:
        with capturing() as sent:
            seconds = [replayer.once(), replayer.once()]
    finally:
        replayer.close()
    assert all(s > 0 for s in seconds)
    # Each replay first writes, untimed and one by one, the items its transaction then replaces.
    kinds = [next(iter(entry)) for entry in captured.requests[1][1]["TransactItems"]]
    primed = [f"{kind}Item" for kind in kinds if kind in ("Put", "Update")]
    assert sent.operations == 2 * [*primed, "BatchGetItem", "TransactWriteItems"]
    after = {(i["pk"]["S"], i["sk"]["S"]): i for i in ddb.scan(TableName=table)["Items"]}
    written = [body for entry in captured.requests[1][1]["TransactItems"] for body in entry.values()]
    for n in (1, 2):  # each replay wrote every item of the transaction on its own keys
        for body in written:
            key = body.get("Key") or body["Item"]
            assert (f"REPLAY{n}#{key['pk']['S']}", key["sk"]["S"]) in after
    assert {k: v for k, v in after.items() if not k[0].startswith("REPLAY")} == before  # the path's items untouched
    assert services.orders.get(tenant_id, order.order_id).status.value == "fulfilled"


def test_a_target_under_its_floor_says_so_in_its_verdict_line() -> None:
    summary = {
        "journey": {
            "steps": {"lookup": {"ratio_to_getitem": 6.7}, "webhook": {"ratio_to_getitem": 5.0}},
            "replayed": {"lookup": {"with_http_floor_ratio": 3.4}, "webhook": {"with_http_floor_ratio": 4.1}},
        }
    }
    found = {v["key"]: v for v in verdicts(summary)}
    lookup, webhook = found["lookup_vs_getitem"], found["webhook_vs_getitem"]
    assert (lookup["met"], lookup["floor"], lookup["under_floor"]) == (False, 3.4, True)
    assert line(lookup).startswith("MISSED") and "replayed alone + HTTP: 3.4×; the target is under this floor" in (
        line(lookup)
    )
    assert (webhook["met"], webhook["floor"], webhook["under_floor"]) == (True, 4.1, False)
    assert "under this floor" not in line(webhook)
    assert "floor" not in found["lookup_requests"]


def _import_items(terminals: int) -> list[dict[str, Any]]:
    """Items shaped as bench.import_bench.raw_items lists them: a terminal, then its 3 claims."""
    items: list[dict[str, Any]] = []
    for n in range(terminals):
        sn = f"SN{n:06d}"
        items.append({"pk": {"S": "BENCH#RAW"}, "sk": {"S": f"TERM#{sn}"}, "sn": {"S": sn}})
        items += [{"pk": {"S": f"RAWCLAIM#{kind}#{sn}"}, "sk": {"S": "CLAIM"}, "sn": {"S": sn}} for kind in "STI"]
    return items


def test_the_imports_floor_writes_the_same_items_on_keys_of_their_own_in_the_imports_transactions(ddb: Any) -> None:
    from bench.import_bench import BARE_TX_PREFIX, bare_transactions

    table = os.environ["TABLE_NAME"]
    items = _import_items(30)
    with capturing() as sent:
        assert bare_transactions(ddb, items, table=table, writers=2) == 2
    # 25 terminals of 4 items a transaction, as services.imports.TX_ROWS; every Put conditioned as the import's.
    assert sorted(len(body["TransactItems"]) for _, body in sent.requests) == [20, 100]
    puts = [entry["Put"] for _, body in sent.requests for entry in body["TransactItems"]]
    assert {p["ConditionExpression"] for p in puts} == {"attribute_not_exists(pk)"}
    stored = {(i["pk"]["S"], i["sk"]["S"]) for i in ddb.scan(TableName=table)["Items"]}
    assert stored == {(BARE_TX_PREFIX + i["pk"]["S"], i["sk"]["S"]) for i in items}
    assert items[0]["pk"] == {"S": "BENCH#RAW"}  # the items handed in are left as they were
    with pytest.raises(ddb.exceptions.TransactionCanceledException):  # the condition is sent, not dropped
        bare_transactions(ddb, items[:4], table=table, writers=1)


def test_the_import_target_says_when_it_is_under_what_the_imports_transactions_alone_reach() -> None:
    summary = {"import": {"terminals_per_s": 230.0, "raw_batch_write_terminals_per_s": 400.0, "bare_tx_vs_raw": 0.68}}
    found = {v["key"]: v for v in verdicts(summary)}["import_vs_raw"]
    assert (found["met"], found["floor"], found["under_floor"]) == (False, 0.68, True)
    assert "its own transactions alone, the same items: 0.68×; the target is under this floor" in line(found)
    summary["import"]["bare_tx_vs_raw"] = 1.05
    found = {v["key"]: v for v in verdicts(summary)}["import_vs_raw"]
    assert (found["met"], found["under_floor"]) == (False, False) and "under this floor" not in line(found)


def test_the_results_describe_the_imports_transactions_as_they_were_sent() -> None:
    from bench.report import _bare_tx_row

    shape = {"terminals_per_transaction": 10, "writers": 3}
    (row,) = _bare_tx_row({"bare_tx_terminals_per_s": 347.3, "bare_tx_shape": shape})
    assert "(10 terminals of 4 items, conditions kept, 3 at once): terminals/s | 347 |" in row
    # Figures from before the shape was recorded say only what is known of them.
    (row,) = _bare_tx_row({"bare_tx_terminals_per_s": 347.3})
    assert "(conditions kept): terminals/s | 347 |" in row and "at once" not in row
    assert _bare_tx_row({"bare_tx_terminals_per_s": None}) == []
