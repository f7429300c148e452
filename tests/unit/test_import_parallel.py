"""The fleet import worker writes its conditional transactions on a bounded thread pool (issue 17):
the report keeps the rows' order, the checkpoint never passes a row that is not written, throttling
is waited out with nothing lost or doubled, and the DynamoDB requests per 1,000 rows are counted
per operation (on moto). A first import reads its terminals once: after a batch of new terminals
the rows go straight to their conditional transactions, and the ones found stored are compared."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bench.common import RequestCounter
from simrenew.clock import FixedClock
from simrenew.errors import TransientStoreError
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body
from tests.support.sweep import RecordingDispatcher

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
AGENT = {"name": "Pool Agent", "contact_name": "钱", "contact_email": "p@example.com", "contact_phone": "13800138000"}
PLAN = "年卡"


@pytest.fixture
def world(make_services: Any) -> Any:
    svc = make_services(FixedClock(T0))
    svc.imports._dispatcher = RecordingDispatcher()  # the test runs the worker itself
    tenant, _key = svc.tenants.create_active(dict(AGENT))
    svc.fleet.create_plan(tenant.tenant_id, {"name": PLAN, "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900})
    return svc, tenant.tenant_id


def fleet_file(rows: list[dict[str, Any]], merchants: int = 0) -> bytes:
    lines = [IMPORT_HEADER]
    for i, body in enumerate(rows):
        merchant = (f"商户{i % merchants:04d}", f"1380013{i % merchants:04d}") if merchants else None
        lines.append(csv_row(body, merchant, PLAN if merchants else ""))
    return ("\n".join(lines) + "\n").encode()


def stored_sns(svc: Any, tenant_id: str) -> list[str]:
    return sorted(t.sn for t in svc.fleet.terminals.iterate(tenant_id))


# --- requests per 1,000 rows ------------------------------------------------------------------------
def test_an_import_and_its_reimport_send_as_few_requests_as_before_the_pool(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted on 2 batches of 50 rows (moto copies its tables on every transaction: 1,000 rows
    would take minutes); per batch the requests are the same at 200 rows: today's 64 per 1,000
    rows first (21.5 again) in bench.import_bench came from the same shape."""
    svc, tenant_id = world
    monkeypatch.setattr("simrenew.services.imports.BATCH_ROWS", 50)
    data = fleet_file([terminal_body() for _ in range(100)], merchants=10)
    counter = RequestCounter()
    with counter.installed():
        first_id = svc.imports.start(tenant_id, data, "test")
        with counter.phase("first") as first:
            assert svc.imports.run(tenant_id, first_id) == "done"
        again_id = svc.imports.start(tenant_id, data, "test")
        with counter.phase("again") as again:
            assert svc.imports.run(tenant_id, again_id) == "done"

    # The job read, leased, moved past each batch and finished; the tenant, the plan and merchants
    # read; one transaction creating the 10 merchants, then 2 transactions of 25 new terminals a
    # batch. The first batch's terminals are read (none stored), the second batch's are not: one
    # BatchGetItem fewer than the sequential worker of 0e4ef41 sent. The re-import reads both.
    assert {op: s.calls for op, s in first.ops.items()} == FIRST_COUNTS
    assert {op: s.calls for op, s in again.ops.items()} == AGAIN_COUNTS
    assert svc.imports.status(tenant_id, first_id)["created"] == 100
    assert svc.imports.status(tenant_id, again_id)["unchanged"] == 100


# Per operation, for the 100 rows; a request added to the import's path fails here.
FIRST_COUNTS = {"GetItem": 2, "BatchGetItem": 7, "TransactWriteItems": 5, "UpdateItem": 5}
AGAIN_COUNTS = {"GetItem": 2, "BatchGetItem": 8, "UpdateItem": 5}


# --- the report's order, the checkpoint, throttling ------------------------------------------------------
@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 10 rows in transactions of 2: five transactions of a batch in flight at once."""
    monkeypatch.setattr("simrenew.services.imports.BATCH_ROWS", 10)
    monkeypatch.setattr("simrenew.services.imports.TX_ROWS", 2)


def test_row_errors_are_reported_in_file_order_whatever_order_the_writers_finish_in(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, tenant_id = world
    taken = svc.fleet.register(tenant_id, terminal_body())  # its TID and ICCID are claimed
    rows = [terminal_body() for _ in range(30)]
    rows[2]["iccid"] = bad_luhn(rows[2]["iccid"])  # file row 4: refused before any write
    rows[7]["tid"] = taken.tid  # row 9: its transaction refuses it (the TID's claim exists)
    rows[16]["iccid"] = bad_luhn(rows[16]["iccid"])  # row 18
    rows[23]["iccid"] = taken.iccid  # row 25
    terminals = svc.imports._terminals
    real = terminals.register_many
    first_sns = {rows[i]["sn"] for i in (0, 10, 20)}

    def first_groups_finish_last(batch: Any, now: Any) -> Any:
        if first_sns & {t.sn for t in batch}:
            time.sleep(0.3)  # the batch's first transaction comes back after the others
        return real(batch, now)

    monkeypatch.setattr(terminals, "register_many", first_groups_finish_last)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    assert svc.imports.run(tenant_id, import_id) == "done"

    status = svc.imports.status(tenant_id, import_id)
    assert [(e["row"], e["field"], e["code"]) for e in status["errors"]] == [
        (4, "iccid", "iccid_checksum"),
        (9, "tid", "identifier_in_use"),
        (18, "iccid", "iccid_checksum"),
        (25, "iccid", "identifier_in_use"),
    ]
    assert [e.row for e in svc.imports.all_errors(tenant_id, import_id)] == [4, 9, 18, 25]
    assert (status["processed"], status["created"], status["failed"]) == (30, 26, 4)
    good = {r["sn"] for i, r in enumerate(rows) if i not in (2, 7, 16, 23)}
    assert stored_sns(svc, tenant_id) == sorted(good | {taken.sn})


def test_the_checkpoint_never_passes_a_row_whose_transaction_failed(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, tenant_id = world
    rows = [terminal_body() for _ in range(40)]
    terminals = svc.imports._terminals
    real = terminals.register_many
    sent: list[str] = []
    lock = threading.Lock()
    doomed = rows[14]["sn"]  # batch 2 (rows 10-19), its third transaction

    def fails_once_on_the_doomed_row(batch: Any, now: Any) -> Any:
        with lock:
            sent.extend(t.sn for t in batch)
        if doomed in {t.sn for t in batch} and sent.count(doomed) == 1:
            raise TransientStoreError("could not save terminals; retry")
        return real(batch, now)

    monkeypatch.setattr(terminals, "register_many", fails_once_on_the_doomed_row)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    with pytest.raises(TransientStoreError):
        svc.imports.run(tenant_id, import_id)

    stopped = svc.imports.status(tenant_id, import_id)
    assert stopped["status"] == "failed" and "continues from where it stopped" in stopped["message"]
    assert (stopped["processed"], stopped["created"]) == (10, 10)  # batch 1 only
    # Batch 3 goes to the writers while batch 2 is in flight (so DynamoDB never waits on a
    # checkpoint); batch 4 only once batch 2 is committed, which it never was.
    assert not {r["sn"] for r in rows[30:]} & set(sent), "batch 4 was written before batch 2 was committed"
    written = set(stored_sns(svc, tenant_id))
    assert {r["sn"] for r in rows[:10]} <= written
    assert not {rows[14]["sn"], rows[15]["sn"]} & written

    assert svc.imports.run(tenant_id, import_id) == "done"  # the worker's retry, from the checkpoint
    done = svc.imports.status(tenant_id, import_id)
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for r in rows)
    # What was written past the checkpoint (batch 2's other 8 rows, and batch 3 if its writers
    # had reached it) comes back unchanged, never twice; batch 4 and the doomed pair are created.
    assert (done["processed"], done["failed"]) == (40, 0)
    assert done["created"] + done["unchanged"] == 40
    assert 8 <= done["unchanged"] <= 18 and done["created"] >= 22


# --- a first import reads its terminals once ---------------------------------------------------------
def terminal_reads(svc: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many SNs each read of stored terminals asked for, in order."""
    terminals = svc.imports._terminals
    real = terminals.get_many
    reads: list[int] = []

    def counted(tenant_id: str, sns: Any) -> Any:
        sns = list(sns)
        reads.append(len(sns))
        return real(tenant_id, sns)

    monkeypatch.setattr(terminals, "get_many", counted)
    return reads


def test_a_first_import_reads_only_its_first_batch_of_terminals(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, tenant_id = world
    rows = [terminal_body() for _ in range(50)]
    rows[3]["iccid"] = bad_luhn(rows[3]["iccid"])  # refused before any read or write
    reads = terminal_reads(svc, monkeypatch)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    assert svc.imports.run(tenant_id, import_id) == "done"

    assert reads == [9]  # batch 1's valid rows; batches 2-5 went straight to their transactions
    done = svc.imports.status(tenant_id, import_id)
    assert (done["processed"], done["created"], done["failed"]) == (50, 49, 1)
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for i, r in enumerate(rows) if i != 3)


def test_stored_terminals_met_after_new_ones_are_compared_and_reading_resumes(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 1 is new, so batches 2 and 3 are registered unread (batch 3 is staged before batch
    2's transactions have answered); their stored terminals are refused by those transactions,
    then read and compared like any stored row. Batch 4 is read first again."""
    svc, tenant_id = world
    rows = [terminal_body() for _ in range(40)]
    for body in rows[10:]:
        svc.fleet.register(tenant_id, dict(body))
    later = (date.fromisoformat(rows[12]["expires_on"]) + timedelta(days=365)).isoformat()
    rows[12]["expires_on"] = later  # batch 2: a stored terminal the file renews
    rows[25]["model"] = "PAX A80"  # batch 3: a stored terminal the file changes
    reads = terminal_reads(svc, monkeypatch)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    assert svc.imports.run(tenant_id, import_id) == "done"

    assert reads == [10, 10, 10, 10]  # batch 1 read; 2 and 3 refused whole, then read; batch 4 read
    done = svc.imports.status(tenant_id, import_id)
    assert (done["processed"], done["created"], done["updated"], done["unchanged"]) == (40, 10, 2, 28)
    assert (done["failed"], done["errors"]) == (0, [])
    assert svc.fleet.terminals.get(tenant_id, rows[12]["sn"]).expires_on.isoformat() == later
    assert svc.fleet.terminals.get(tenant_id, rows[25]["sn"]).model == "PAX A80"
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for r in rows)


def test_a_terminal_registered_between_the_read_and_the_write_is_compared_not_a_row_error(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-first batch finds row 4's terminal missing; someone registers it (another model)
    before the batch's transactions go out. The transaction refuses it as stored, and the row is
    read again and compared: the file's model is saved, and the report counts it as updated."""
    svc, tenant_id = world
    rows = [terminal_body() for _ in range(10)]
    raced = {**rows[3], "model": "Newland N910"}
    rows[3]["model"] = "PAX A920"
    terminals = svc.imports._terminals
    real = terminals.get_many
    reads: list[list[str]] = []

    def read_then_race(tenant: str, sns: Any) -> Any:
        sns = list(sns)
        found = real(tenant, sns)
        if not reads:
            svc.fleet.register(tenant_id, dict(raced))  # after the read, before the write
        reads.append(sns)
        return found

    monkeypatch.setattr(terminals, "get_many", read_then_race)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    assert svc.imports.run(tenant_id, import_id) == "done"

    assert reads[1] == [rows[3]["sn"]]  # the one refused row, read again
    done = svc.imports.status(tenant_id, import_id)
    assert (done["created"], done["updated"], done["unchanged"]) == (9, 1, 0)
    assert (done["failed"], done["errors"]) == (0, [])
    assert svc.fleet.terminals.get(tenant_id, rows[3]["sn"]).model == "PAX A920"
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for r in rows)


def test_a_checkpoint_written_on_the_second_try_still_counts_the_rows_it_updated(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 2 is registered unread; its one stored terminal is refused, read and renewed. The
    checkpoint write after it fails once and is written again on the way out: the renewal is
    counted as updated (not compared again, found equal and called unchanged)."""
    svc, tenant_id = world
    rows = [terminal_body() for _ in range(20)]
    svc.fleet.register(tenant_id, dict(rows[12]))
    later = (date.fromisoformat(rows[12]["expires_on"]) + timedelta(days=365)).isoformat()
    rows[12]["expires_on"] = later
    store = svc.imports._imports
    real = store.progress
    calls: list[int] = []

    def fails_on_batch_2(job: Any, counts: Any, now: Any) -> None:
        calls.append(counts.processed)
        if len(calls) == 2:
            raise TransientStoreError("could not save the import's progress; retry")
        real(job, counts, now)

    monkeypatch.setattr(store, "progress", fails_on_batch_2)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    with pytest.raises(TransientStoreError):
        svc.imports.run(tenant_id, import_id)
    assert calls == [10, 10, 10]  # batch 1; batch 2 refused; batch 2 again on the way out

    stopped = svc.imports.status(tenant_id, import_id)
    assert (stopped["processed"], stopped["created"], stopped["updated"], stopped["unchanged"]) == (20, 19, 1, 0)
    assert svc.fleet.terminals.get(tenant_id, rows[12]["sn"]).expires_on.isoformat() == later


def refusing(monkeypatch: pytest.MonkeyPatch, refuse: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
    """Every DynamoDB request is first shown to `refuse(operation, params)`, which raises to refuse
    it; the store's throttle retries do not pause. Returns what puts the real calls back."""
    import botocore.client

    monkeypatch.setattr("simrenew.adapters.dynamodb.fleet.THROTTLE_BACKOFF_S", 0.001)
    real_call = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        refuse(operation, params)
        return real_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    return lambda: monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real_call)


def test_throttled_transactions_are_sent_again_with_nothing_lost_or_doubled(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    svc, tenant_id = world
    rows = [terminal_body() for _ in range(20)]
    throttles = ["ThrottlingError", "ProvisionedThroughputExceededException", "ThrottlingError"]
    lock = threading.Lock()

    def throttling(operation: str, params: dict[str, Any]) -> None:
        if operation == "TransactWriteItems" and len(params["TransactItems"]) == 8:
            with lock:
                kind = throttles.pop() if throttles else None
            if kind == "ThrottlingError":
                reasons = [{"Code": "ThrottlingError"}] + [{"Code": "None"}] * 7
                error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
                raise ClientError({"Error": error, "CancellationReasons": reasons}, operation)
            if kind:
                raise ClientError({"Error": {"Code": kind, "Message": "Rate exceeded"}}, operation)

    refusing(monkeypatch, throttling)
    counter = RequestCounter()
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    with counter.installed(), counter.phase("import") as phase:
        assert svc.imports.run(tenant_id, import_id) == "done"

    assert throttles == []
    assert phase.ops["TransactWriteItems"].calls == 10 + 3  # 10 transactions of 2, 3 sent twice
    assert phase.ops["TransactWriteItems"].errors == 3
    done = svc.imports.status(tenant_id, import_id)
    assert (done["processed"], done["created"], done["failed"], done["errors"]) == (20, 20, 0, [])
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for r in rows)


def test_throttling_that_does_not_stop_interrupts_the_import_at_its_checkpoint(
    world: Any, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    svc, tenant_id = world
    rows = [terminal_body() for _ in range(20)]
    doomed = rows[12]["sn"]

    def always_throttled(operation: str, params: dict[str, Any]) -> None:
        if operation == "TransactWriteItems" and doomed in json.dumps(params):
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, operation)

    stop_refusing = refusing(monkeypatch, always_throttled)
    import_id = svc.imports.start(tenant_id, fleet_file(rows), "test")
    with pytest.raises(TransientStoreError):
        svc.imports.run(tenant_id, import_id)
    stopped = svc.imports.status(tenant_id, import_id)
    assert (stopped["status"], stopped["processed"], stopped["created"]) == ("failed", 10, 10)

    stop_refusing()
    assert svc.imports.run(tenant_id, import_id) == "done"
    done = svc.imports.status(tenant_id, import_id)
    assert (done["processed"], done["created"] + done["unchanged"], done["failed"]) == (20, 20, 0)
    assert stored_sns(svc, tenant_id) == sorted(r["sn"] for r in rows)
