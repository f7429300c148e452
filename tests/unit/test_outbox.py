"""The transactional outbox on moto: entries written with their change, delivered at least once and
never twice (agent webhooks and merchant receipts), partial batch failures, the stream filter, and
the local poller feeding the dispatcher function from the table's stream."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from pynamodb.exceptions import TransactWriteError, UpdateError

from infra import outbox_poller
from infra.localserver import load_function_module
from infra.table import ensure_table
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import RateLimitItem, Transaction
from simrenew.adapters.dynamodb.outbox import OutboxItem, OutboxRepository, outbox_condition, outbox_event
from simrenew.adapters.dynamodb.sweeps import SweepRepository
from simrenew.adapters.dynamodb.webhooks import WebhookRepository
from simrenew.clock import FixedClock
from simrenew.errors import OutboxDeliveryFailed
from simrenew.services.outbox import OutboxDispatcher, OutboxRef
from simrenew.services.webhooks import WebhookService
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body
from tests.support.webhooks import START, FakeTransport

TENANT = "t_outbox_a"
TABLE = "simrenew-unit"


def fulfilled_data(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "amount_fen": 4000, "currency": "CNY", "lines": []}


def change(name: str, tenant_id: str = TENANT) -> RateLimitItem:
    """Stands for the change an event belongs to (an order's state), written once."""
    return RateLimitItem(keys.tenant_pk(tenant_id), f"CHANGE#{name}")


def write_event(order_id: str, tenant_id: str = TENANT, now: datetime = START) -> OutboxItem:
    """An order.fulfilled event committed in a transaction with a change (as fulfilment will)."""
    entry = outbox_event(tenant_id, "order.fulfilled", fulfilled_data(order_id), dedupe_key=order_id, now=now)
    with Transaction() as tx:
        tx.save(change(order_id, tenant_id), condition=RateLimitItem.pk.does_not_exist())
        tx.save(entry, condition=outbox_condition())
    return entry


class ScriptedRepo(OutboxRepository):
    """The real repository, with `finish` failing the first `fail_finish` times (a crash between
    handing the event to its deliveries and recording that)."""

    def __init__(self, fail_finish: int = 0) -> None:
        self.fail_finish = fail_finish

    def finish(self, item: OutboxItem, state: str, now: datetime, error: str | None = None) -> bool:
        if self.fail_finish:
            self.fail_finish -= 1
            raise UpdateError("store unavailable")
        return super().finish(item, state, now, error)


@pytest.fixture
def endpoint(webhooks: WebhookService) -> str:
    made, _ = webhooks.create_endpoint(TENANT, {"url": "https://hooks.example.com/a", "events": ["order.fulfilled"]})
    return str(made["endpoint_id"])


class NoNotices:
    def send_event(self, event: Any) -> int:
        raise AssertionError("no merchant notice expected")


def dispatcher(webhooks: WebhookService, clock: FixedClock, repo: OutboxRepository | None = None) -> OutboxDispatcher:
    return OutboxDispatcher(repo or OutboxRepository(), webhooks, NoNotices(), clock)


def ref(entry: OutboxItem) -> OutboxRef:
    return OutboxRef(entry.pk, entry.sk, "outbox")


# --- the builder --------------------------------------------------------------------------------------
def test_given_an_event_written_with_its_change_when_the_same_change_is_written_again_then_nothing_changes(
    ddb: Any,
) -> None:
    first = write_event("ord_1")
    with pytest.raises(TransactWriteError) as cancelled:
        again = outbox_event(TENANT, "order.fulfilled", {"order_id": "other"}, dedupe_key="ord_1", now=START)
        with Transaction() as tx:
            tx.save(change("second"), condition=RateLimitItem.pk.does_not_exist())
            tx.save(again, condition=outbox_condition())
    assert tx.codes(cancelled.value) == [None, "ConditionalCheckFailed"]  # the entry's condition stopped it

    (entry,) = OutboxRepository().entries(TENANT)
    assert (entry.sk, json.loads(entry.data_json)["order_id"], entry.state) == (first.sk, "ord_1", "pending")
    assert entry.event_id == first.event_id and entry.event_id.startswith("evt_")
    assert OutboxRepository().put(outbox_event(TENANT, "order.fulfilled", {}, "ord_1", START)) is False
    with pytest.raises(RateLimitItem.DoesNotExist):  # the second change was not applied either
        RateLimitItem.get(keys.tenant_pk(TENANT), "CHANGE#second")


def test_a_change_that_fails_writes_no_outbox_entry(ddb: Any) -> None:
    write_event("ord_taken")
    with pytest.raises(TransactWriteError), Transaction() as tx:
        tx.save(change("ord_taken"), condition=RateLimitItem.pk.does_not_exist())
        tx.save(outbox_event(TENANT, "order.refunded", {}, "ord_taken", START), condition=outbox_condition())
    assert [e.event_type for e in OutboxRepository().entries(TENANT)] == ["order.fulfilled"]


def test_the_builder_refuses_what_could_never_be_delivered() -> None:
    for bad in (
        lambda: outbox_event(TENANT, "fulfilled", {}, "k", START),
        lambda: outbox_event(TENANT, "order.fulfilled", {}, "", START),
        lambda: outbox_event(TENANT, "order.fulfilled", {}, "k", datetime(2025, 1, 1)),  # naive
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        outbox_event(TENANT, "order.fulfilled", {"when": date(2025, 1, 1)}, "k", START)


# --- agent events: at least once, never twice -----------------------------------------------------------
def test_an_agent_event_delivered_three_times_is_one_delivery_and_one_post_with_the_entrys_event_id(
    webhooks: WebhookService, endpoint: str, transport: FakeTransport, clock: FixedClock
) -> None:
    entry = write_event("ord_2")
    outbox = dispatcher(webhooks, clock)

    outcomes = [outbox.deliver(ref(entry)) for _ in range(3)]
    clock.advance(timedelta(minutes=10))
    assert outbox.drain_due() == 0  # the safety net finds nothing left to do

    assert outcomes == ["delivered", "already_done", "already_done"]
    (delivery,) = webhooks.deliveries(TENANT, endpoint).items
    assert delivery["event_id"] == entry.event_id and delivery["state"] == "delivered"
    assert delivery["payload"]["data"]["order_id"] == "ord_2" and delivery["payload"]["type"] == "order.fulfilled"
    assert len(transport.posts) == 1 and json.loads(transport.posts[0].body)["id"] == entry.event_id


def test_a_crash_after_the_delivery_was_created_redelivers_nothing_twice(
    webhooks: WebhookService, endpoint: str, transport: FakeTransport, clock: FixedClock
) -> None:
    entry = write_event("ord_3")
    flaky = dispatcher(webhooks, clock, ScriptedRepo(fail_finish=1))

    with pytest.raises(OutboxDeliveryFailed):
        flaky.deliver(ref(entry))  # posted, but marking the entry delivered failed
    assert flaky.deliver(ref(entry)) == "delivered"  # the stream's retry of the same record

    assert len(webhooks.deliveries(TENANT, endpoint).items) == 1
    assert len(transport.posts) == 1


def test_a_store_failure_leaves_the_event_pending_with_a_backoff_and_the_schedule_delivers_it(
    webhooks: WebhookService, endpoint: str, transport: FakeTransport, clock: FixedClock, monkeypatch: Any
) -> None:
    entry = write_event("ord_4")
    outbox = dispatcher(webhooks, clock)
    real = WebhookRepository.active_endpoints
    monkeypatch.setattr(WebhookRepository, "active_endpoints", lambda self, t: (_ for _ in ()).throw(UpdateError()))

    with pytest.raises(OutboxDeliveryFailed):
        outbox.deliver(ref(entry))
    (pending,) = OutboxRepository().entries(TENANT)
    assert (pending.state, pending.attempts, pending.next_attempt_at) == ("pending", 1, START + timedelta(minutes=1))

    monkeypatch.setattr(WebhookRepository, "active_endpoints", real)
    assert outbox.drain_due() == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    assert outbox.drain_due() == 1
    assert len(transport.posts) == 1 and OutboxRepository().entries(TENANT)[0].state == "delivered"


def test_an_event_nobody_subscribed_to_is_settled_without_a_post(
    webhooks: WebhookService, transport: FakeTransport, clock: FixedClock
) -> None:
    entry = write_event("ord_5", tenant_id="t_outbox_quiet")
    assert dispatcher(webhooks, clock).deliver(ref(entry)) == "delivered"
    assert transport.posts == [] and OutboxRepository().entries("t_outbox_quiet")[0].state == "delivered"


# --- merchant notices (receipts) -----------------------------------------------------------------------
def _paid_offline(api: ApiClient, platform_key: str) -> tuple[Agent, dict[str, Any]]:
    agent = create_agent(api, platform_key)
    shop = {"name": "回执小店", "phone": "13812347777", "email": "r@example.com"}
    m = api.post("/v1/merchants", shop, key=agent.admin_key).json
    t = api.post("/v1/terminals", terminal_body(merchant_id=m["merchant_id"]), key=agent.admin_key).json
    plan = {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 100}
    plan = api.post("/v1/plans", plan, key=agent.admin_key).json
    lines = [{"sn": t["sn"], "plan_id": plan["plan_id"]}]
    order = api.post("/v1/orders", {"lines": lines, "payment": "offline"}, key=agent.admin_key).json
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "cash"}, key=agent.admin_key).status == 200
    return agent, t


def test_a_receipt_delivered_twice_and_drained_again_reaches_the_merchant_once(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    agent, t = _paid_offline(api, platform_key)
    (receipt,) = [e for e in services.fleet.terminals.events(agent.tenant_id, t["sn"]) if e.event.startswith("receipt")]
    notice = OutboxRef(receipt.pk, receipt.sk, "terminal_event")

    assert [services.outbox.deliver(notice) for _ in range(2)] == ["sent", "already_done"]
    assert services.sweep.drain_queued() == 0  # the 5-minute drain has nothing left

    sent = SweepRepository().notifications(agent.tenant_id, t["sn"])
    assert sorted((n.template, n.channel) for n in sent) == [("receipt", "email"), ("receipt", "sms")]
    listed = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key).json["items"]
    assert {n["state"] for n in listed if n["channel"] == "email"} == {"sent"}


def test_a_receipt_whose_send_failed_stays_pending_for_the_drain(
    api: ApiClient, platform_key: str, services: Any
) -> None:
    agent, t = _paid_offline(api, platform_key)
    (receipt,) = [e for e in services.fleet.terminals.events(agent.tenant_id, t["sn"]) if e.event.startswith("receipt")]

    class Down:
        def send_event(self, event: Any) -> int:
            raise UpdateError("store unavailable")

    broken = OutboxDispatcher(OutboxRepository(), services.webhooks, Down(), services.clock)
    with pytest.raises(OutboxDeliveryFailed):
        broken.deliver(OutboxRef(receipt.pk, receipt.sk, "terminal_event"))

    (still,) = [e for e in services.fleet.terminals.events(agent.tenant_id, t["sn"]) if e.event.startswith("receipt")]
    assert (still.state, still.attempts) == ("pending", 1)
    assert services.sweep.drain_queued() == 1  # the safety net sends it


# --- the dispatcher function: partial batch failures -----------------------------------------------------
def stream_record(seq: int, kind: str, sk: str, event_name: str = "INSERT") -> dict[str, Any]:
    image = {"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": sk}, "kind": {"S": kind}, "state": {"S": "pending"}}
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image, "SequenceNumber": str(seq)},
    }


def test_the_handler_reports_only_the_records_that_failed(monkeypatch: Any) -> None:
    app = load_function_module("dispatcher")
    seen: list[str] = []

    class Outbox:
        def deliver(self, r: OutboxRef) -> str:
            seen.append(r.sk)
            if r.sk in ("OUTBOX#b", "TLOG#X#EVENT#d"):
                raise OutboxDeliveryFailed("store unavailable")
            if r.sk == "OUTBOX#c":
                raise RuntimeError("a bug")
            return "delivered"

    monkeypatch.setattr(app, "services", lambda: SimpleNamespace(outbox=Outbox()))
    records = [
        stream_record(101, "outbox", "OUTBOX#a"),
        stream_record(102, "outbox", "OUTBOX#b"),
        stream_record(103, "outbox", "OUTBOX#c"),
        stream_record(104, "terminal_event", "TLOG#X#EVENT#d"),
        stream_record(105, "terminal_event", "TLOG#X#EVENT#e"),
    ]
    answer = app.handler({"Records": records}, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": s} for s in ("102", "103", "104")]}
    assert len(seen) == 5  # a failure does not stop the records after it


# --- the stream filter (template.yaml's FilterCriteria) ------------------------------------------------------
def test_the_templates_filter_passes_new_outbox_items_only() -> None:
    patterns = outbox_poller.filter_patterns(outbox_poller.mapping_properties())
    for label, record, wanted in outbox_poller.FILTER_EXAMPLES:
        assert outbox_poller.passes(patterns, record) is wanted, label


def test_the_local_filter_refuses_operators_it_does_not_implement() -> None:
    with pytest.raises(NotImplementedError):
        outbox_poller.passes([{"eventName": [{"prefix": "INS"}]}], {"eventName": "INSERT"})


# --- the local poller on moto's stream ------------------------------------------------------------------------
class RecordingHandler:
    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_first = fail_first

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if self.fail_first:
            self.fail_first -= 1
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}


def poller(ddb: Any, handler: Any, path: Path, **kwargs: Any) -> outbox_poller.Poller:
    # The classic endpoint named: botocore derives an account endpoint from the stream ARN
    # (<account>.streams-ddb...), which this moto does not serve.
    endpoint = "https://streams.dynamodb.us-east-1.amazonaws.com"
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=endpoint)
    return outbox_poller.Poller(ddb, streams, TABLE, handler, outbox_poller.Checkpoint(path), **kwargs)


def test_the_poller_hands_the_handler_new_outbox_items_in_lambdas_shape_and_resumes_after_its_checkpoint(
    ddb: Any, tmp_path: Path
) -> None:
    first = write_event("ord_p1")
    change("not_an_outbox_item").save()
    handler = RecordingHandler()
    assert poller(ddb, handler, tmp_path / "cp.json").poll_once() >= 3

    (event,) = handler.events
    (record,) = event["Records"]  # the marker and the plain item are filtered out
    assert record["eventName"] == "INSERT" and record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["Keys"]["sk"] == {"S": first.sk}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert record["eventSourceARN"] == ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]

    second = write_event("ord_p2")
    again = RecordingHandler()
    poller(ddb, again, tmp_path / "cp.json").poll_once()  # a restarted poller: only what is new
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for e in again.events for r in e["Records"]] == [second.sk]


def test_the_poller_retries_reported_failures_then_writes_a_dead_letter(ddb: Any, tmp_path: Path) -> None:
    write_event("ord_p3")
    flaky = RecordingHandler(fail_first=1)
    poller(ddb, flaky, tmp_path / "a.json", mapping={**outbox_poller.mapping_properties()}).poll_once()
    assert len(flaky.events) == 2  # failed once, retried once, then fine

    write_event("ord_p4", tenant_id="t_outbox_b")
    dead = tmp_path / "dead.jsonl"
    hopeless = RecordingHandler(fail_first=99)
    mapping = {**outbox_poller.mapping_properties(), "MaximumRetryAttempts": 2}
    poller(ddb, hopeless, tmp_path / "b.json", mapping=mapping, dead_letters=dead).poll_once()
    assert len(hopeless.events) == 1 + 2  # both entries in one batch: the first try and two retries
    assert json.loads(dead.read_text().splitlines()[0])["records"] == 2


def test_a_table_made_before_the_outbox_gets_its_stream(ddb: Any) -> None:
    ddb.create_table(
        TableName="simrenew-old",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert ensure_table(ddb, "simrenew-old") is False
    spec = ddb.describe_table(TableName="simrenew-old")["Table"]["StreamSpecification"]
    assert spec == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert ddb.describe_table(TableName=TABLE)["Table"]["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
