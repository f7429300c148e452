"""DynamoDB throttling and transaction conflicts injected into real DynamoDB Local traffic.

A fault proxy (tests/support/throttle.py) sits between the code and DynamoDB Local and answers
chosen requests the way DynamoDB does under load (ProvisionedThroughputExceededException,
ThrottlingException, RequestLimitExceeded, TransactionCanceledException[TransactionConflict],
partial batches). botocore's retry logic and the app's handling run end to end: in this
process (the import worker, the sweep) and in an API server process of its own whose
DDB_ENDPOINT is the proxy (webhook, voucher, HTTP error mapping).

Each test checks the exact end state read straight from DynamoDB Local (not through the
proxy), and that faults were really injected.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from infra.processes import LOCAL, serving, start_api_server
from simrenew.adapters.dynamodb.models import RETRIES, bind_table
from simrenew.domain.dates import add_months
from tests.integration.conftest import TABLE
from tests.support.builders import create_agent
from tests.support.client import ApiClient, HttpTransport, Resp
from tests.support.env import PLATFORM_KEY, WEBHOOK_SECRET
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body
from tests.support.payments import sign, succeeded_for
from tests.support.sweep import RecordingSender, sweep_service
from tests.support.throttle import FaultProxy, Tally, rule

THROTTLES = ("throughput", "throttling", "request_limit")
OUTAGE = 10**6  # a burst no retry policy outlasts
# Room for botocore's backoff (1 s base for throttles, doubling, jittered: up to 31 s per call).
HTTP_TIMEOUT_S = 120


# --- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def proxy(ddb_client: Any, ddb_endpoint: str) -> Iterator[FaultProxy]:
    with FaultProxy(ddb_endpoint) as p:
        yield p


@pytest.fixture
def faults(proxy: FaultProxy) -> Iterator[FaultProxy]:
    proxy.clear()
    yield proxy
    proxy.clear()


@pytest.fixture
def proxied_services(ddb: Any, env: dict[str, str], ddb_endpoint: str, faults: FaultProxy) -> Iterator[Any]:
    """Services in this process whose every DynamoDB call goes through the proxy."""
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    def make(clock: Any = None) -> Any:
        return build_services(load_config({**env, "DDB_ENDPOINT": faults.endpoint}), clock)

    try:
        yield make
    finally:
        bind_table(TABLE, "us-east-1", ddb_endpoint)


@pytest.fixture(scope="module")
def throttled_url(proxy: FaultProxy, env: dict[str, str], ddb_client: Any) -> Iterator[str]:
    """A local API server process of its own, talking to DynamoDB Local through the proxy."""
    child_env = {**os.environ, **env, "DDB_ENDPOINT": proxy.endpoint}
    log = LOCAL / "logs" / "it-throttled-server.log"
    with serving(lambda port, out: start_api_server(port, out, child_env, "throttled API server"), log) as url:
        yield url


@pytest.fixture
def tapi(throttled_url: str) -> ApiClient:
    return ApiClient(_PatientTransport(throttled_url))


class _PatientTransport(HttpTransport):
    """Real HTTP with room for botocore's backoff (the default transport gives up after 30 s)."""

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Resp:
        r = self._session.request(method, self._base + path, headers=headers, data=body, timeout=HTTP_TIMEOUT_S)
        return Resp(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


# --- helpers -----------------------------------------------------------------------------------------
def _tenant_items(ddb_client: Any, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
    """Straight from DynamoDB Local, not through the proxy."""
    items: list[dict[str, Any]] = []
    for page in ddb_client.get_paginator("query").paginate(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":p": {"S": prefix}},
        ConsistentRead=True,
    ):
        items.extend(page["Items"])
    return items


def _claims(ddb_client: Any, kind: str, values: list[str]) -> dict[str, str]:
    """identifier value -> the SN its claim points at, straight from DynamoDB Local."""
    found: dict[str, str] = {}
    for i in range(0, len(values), 100):
        request: dict[str, Any] = {
            TABLE: {"Keys": [{"pk": {"S": f"{kind}#{v}"}, "sk": {"S": "CLAIM"}} for v in values[i : i + 100]]}
        }
        while request:
            answer = ddb_client.batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(TABLE, []):
                found[item["pk"]["S"].split("#", 1)[1]] = item["sn"]["S"]
            request = answer.get("UnprocessedKeys") or {}
    return found


def _assert_injected(tally: Tally, *ops: str) -> None:
    by_op = tally.by_op()
    assert tally.total() > 0, "no fault was injected: the test would prove nothing"
    for op in ops:
        assert by_op.get(op, 0) > 0, (
            f"no fault injected into {op}: {dict(tally.injected)}; forwarded {dict(tally.forwarded)}"
        )


def _deliver(url: str, payload: bytes, tries: int = 8) -> list[int]:
    """Post a signed Stripe event as Stripe does: again after any non-2xx answer."""
    answers: list[int] = []
    for _ in range(tries):
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
        r = requests.post(f"{url}/webhooks/stripe", data=payload, headers=headers, timeout=HTTP_TIMEOUT_S)
        answers.append(r.status_code)
        if r.status_code < 300:
            break
    return answers


def _mixed_throttles(every: int, **kw: Any) -> list[Any]:
    """Every `every`-th request of each operation throttled once: throughput, throttling and
    request-limit errors in turn."""
    cycle = every * len(THROTTLES)
    return [rule(fault, every=cycle, phase=(i + 1) * every, **kw) for i, fault in enumerate(THROTTLES)]


# --- the import --------------------------------------------------------------------------------------
ROWS = 400
AGENT = {
    "name": "Throttle Agent",
    "contact_name": "孙",
    "contact_email": "t@example.com",
    "contact_phone": "13800138000",
}


def _import_file() -> tuple[bytes, dict[str, dict[str, Any]], set[int], int]:
    """ROWS rows, 1 % bad, about ROWS/10 merchants: (bytes, good rows by SN, bad row numbers, merchants)."""
    lines = [IMPORT_HEADER]
    good: dict[str, dict[str, Any]] = {}
    bad: set[int] = set()
    start = date.today() + timedelta(days=5)
    merchants = ROWS // 10
    for i in range(ROWS):
        body = terminal_body(expires_on=(start + timedelta(days=i % 300)).isoformat())
        if i % 100 == 41:
            if (i // 100) % 2:
                body["tid"] = body["tid"][:7]
            else:
                body["iccid"] = bad_luhn(body["iccid"])
            bad.add(i + 2)
        else:
            good[body["sn"]] = body
        lines.append(csv_row(body, (f"节流商户{i % merchants:03d}", f"1390013{i % merchants:04d}"), quota="512"))
    return ("\n".join(lines) + "\n").encode(), good, bad, merchants


IMPORT_FAULTS = {
    "throttles": lambda: [*_mixed_throttles(2), rule("unprocessed", ["BatchWriteItem", "BatchGetItem"], every=2)],
    "conflicts": lambda: [rule("conflict", ["TransactWriteItems"], every=3)],
}


@pytest.mark.parametrize("kind", sorted(IMPORT_FAULTS))
def test_an_import_under_faults_writes_every_row_once(
    proxied_services: Any, faults: FaultProxy, ddb_client: Any, kind: str
) -> None:
    svc = proxied_services()
    tenant, _ = svc.tenants.create_active(dict(AGENT))
    data, good, bad, merchants = _import_file()
    tally = faults.set_rules(*IMPORT_FAULTS[kind]())
    import_id = svc.imports.start(tenant.tenant_id, data, "throttle-test")  # the worker: a thread here
    svc.dispatcher.join(timeout=600)
    faults.clear()

    status = svc.imports.status(tenant.tenant_id, import_id)
    assert status["status"] == "done", status
    assert (status["total"], status["processed"]) == (ROWS, ROWS)
    assert (status["created"], status["updated"], status["unchanged"]) == (len(good), 0, 0)
    assert status["failed"] == len(bad)
    assert {e.row for e in svc.imports.all_errors(tenant.tenant_id, import_id)} == bad

    terminals = {t["sn"]["S"]: t for t in _tenant_items(ddb_client, tenant.tenant_id, "TERM#")}
    assert sorted(terminals) == sorted(good)  # nothing lost, nothing extra
    assert {sn: t["expires_on"]["S"] for sn, t in terminals.items()} == {sn: b["expires_on"] for sn, b in good.items()}
    assert len(_tenant_items(ddb_client, tenant.tenant_id, "MERCHANT#")) == merchants
    for ident in ("sn", "tid", "iccid"):
        claims = _claims(ddb_client, ident.upper(), [b[ident] for b in good.values()])
        assert claims == {b[ident]: sn for sn, b in good.items()}, ident
    if kind == "throttles":
        _assert_injected(tally, "TransactWriteItems", "BatchGetItem", "BatchWriteItem", "UpdateItem", "GetItem")
        assert tally.total("unprocessed") > 0
    else:
        assert tally.total("conflict", "TransactWriteItems") > 0

    # The same file again, still throttled: nothing new, nothing changed.
    tally = faults.set_rules(*_mixed_throttles(4))
    again = svc.imports.start(tenant.tenant_id, data, "throttle-test")
    svc.dispatcher.join(timeout=600)
    faults.clear()
    second = svc.imports.status(tenant.tenant_id, again)
    assert (second["status"], second["created"], second["unchanged"], second["failed"]) == (
        "done",
        0,
        len(good),
        len(bad),
    )
    assert len(_tenant_items(ddb_client, tenant.tenant_id, "TERM#")) == len(good)
    _assert_injected(tally)


# --- the sweep ---------------------------------------------------------------------------------------
def _sweep_day() -> date:
    # A day no other test sweeps (the sweep's state is platform-wide and the table is shared).
    return date(2075, 1, 1) + timedelta(days=random.randrange(0, 2500) * 3)


def test_a_sweep_day_under_throttling_sends_each_message_once(
    proxied_services: Any, faults: FaultProxy, ddb_client: Any
) -> None:
    from simrenew.adapters.dynamodb.sweeps import SweepStateItem
    from simrenew.clock import FixedClock
    from simrenew.services.sweep import SweepService

    day = _sweep_day()
    clock = FixedClock(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    # The fleet is registered ten days before (so the lapsed ones are still active), swept on the day.
    svc = proxied_services(FixedClock(clock.now() - timedelta(days=10)))
    SweepStateItem("SWEEP", "LAST", last_day=(day - timedelta(days=1)).isoformat()).save()
    expected: dict[str, str] = {}  # sn -> the one SMS it must get
    lapsed: list[tuple[str, str]] = []
    tenants = []
    for n in range(3):
        tenant, _ = svc.tenants.create_active(dict(AGENT, contact_email=f"sweep{n}@example.com"))
        tenants.append(tenant.tenant_id)
        m = svc.fleet.create_merchant(tenant.tenant_id, {"name": f"扫店{n}", "phone": f"1381234{n:04d}"})
        for offset, kind, count in ((7, "reminder_7", 4), (30, "reminder_30", 2), (-1, "grace_started", 2)):
            for _ in range(count):
                t = svc.fleet.register(
                    tenant.tenant_id,
                    terminal_body(merchant_id=m.merchant_id, expires_on=(day + timedelta(days=offset)).isoformat()),
                )
                expected[t.sn] = kind
                if offset < 0:
                    lapsed.append((tenant.tenant_id, t.sn))

    def sweeper(sender: RecordingSender) -> SweepService:
        return sweep_service(sender, clock)

    # Conflicts only on transactions: the sweep's terminal moves are transactions, and an
    # order's fulfilment renewing the same terminal at that moment is what conflicts with them.
    tally = faults.set_rules(*_mixed_throttles(10), rule("conflict", ["TransactWriteItems"], every=2))
    sender = RecordingSender()
    result = sweeper(sender).run(day)
    faults.clear()
    assert result.status == "done"
    mine = [(m["sn"], m["key"].split("#")[-2]) for m in sender.sent if m["sn"] in expected and m["channel"] == "sms"]
    assert sorted(mine) == sorted(expected.items())  # every one, once
    for tenant_id, sn in lapsed:
        assert svc.fleet.get(tenant_id, sn).status.value == "grace"
    digests = [m["to"] for m in sender.sent if m["kind"] == "digest"]
    assert sorted(d for d in digests if d.startswith("sweep")) == [f"sweep{n}@example.com" for n in range(3)]
    _assert_injected(tally, "Query", "TransactWriteItems")

    # The same day again (the schedule fires twice): nothing is sent twice.
    tally = faults.set_rules(*_mixed_throttles(10))
    again = RecordingSender()
    sweeper(again).run(day)
    faults.clear()
    assert [m for m in again.sent if m["sn"] in expected] == []


def test_an_import_that_outlasts_the_retries_stops_at_its_checkpoint_and_the_retry_finishes_it(
    proxied_services: Any, faults: FaultProxy, ddb_client: Any
) -> None:
    """The worker raises (so Lambda retries the invocation) and leaves the job "failed" with the
    reason and no lease, instead of "running" under a lease nobody renews."""
    svc = proxied_services()
    tenant, _ = svc.tenants.create_active(dict(AGENT, contact_email="outage-import@example.com"))
    data, good, bad, _merchants = _import_file()
    with faults.faults(rule("throughput", ["TransactWriteItems"], burst=OUTAGE)):
        import_id = svc.imports.start(tenant.tenant_id, data, "throttle-test")
        svc.dispatcher.join(timeout=600)
    stopped = svc.imports.status(tenant.tenant_id, import_id)
    assert stopped["status"] == "failed" and stopped["processed"] < ROWS, stopped
    assert "busy" in stopped["message"]

    assert svc.imports.run(tenant.tenant_id, import_id) == "done"  # what the retried invocation does

    status = svc.imports.status(tenant.tenant_id, import_id)
    assert (status["status"], status["processed"], status["created"], status["failed"]) == (
        "done",
        ROWS,
        len(good),
        len(bad),
    )
    assert status["message"] is None  # the interruption is over
    assert sorted(t["sn"]["S"] for t in _tenant_items(ddb_client, tenant.tenant_id, "TERM#")) == sorted(good)


# --- money over HTTP: a paid order fulfilled by its webhook, a voucher ------------------------------
def _agent_fleet(api: ApiClient, count: int = 1) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    agent = create_agent(api, PLATFORM_KEY)
    m = api.post("/v1/merchants", {"name": "节流面馆", "phone": "13987654321"}, key=agent.admin_key)
    assert m.status == 201, m.body
    plan = api.post(
        "/v1/plans", {"name": "季卡", "term_months": 3, "data_quota_mb": 1024, "price_fen": 4000}, key=agent.admin_key
    )
    assert plan.status == 201, plan.body
    expires = (date.today() + timedelta(days=10)).isoformat()
    terminals = []
    for _ in range(count):
        r = api.post(
            "/v1/terminals", terminal_body(merchant_id=m.json["merchant_id"], expires_on=expires), key=agent.admin_key
        )
        assert r.status == 201, r.body
        terminals.append(r.json)
    return agent, plan.json, terminals


def test_a_paid_order_is_fulfilled_exactly_once_by_its_webhook_under_throttling(
    tapi: ApiClient, throttled_url: str, faults: FaultProxy
) -> None:
    tally = faults.set_rules(*_mixed_throttles(5))
    agent, plan, (t,) = _agent_fleet(tapi)
    created = tapi.post("/v1/orders", {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]}]}, key=agent.admin_key)
    assert created.status == 201, created.body
    order = created.json
    setup_faults = tally.total()

    tally = faults.set_rules(*_mixed_throttles(2), rule("conflict", ["TransactWriteItems"], every=1, limit=1))
    payload = succeeded_for(order, f"evt_throttle_{order['order_id']}")
    answers = _deliver(throttled_url, payload)
    assert answers == [200], answers  # absorbed by the retries: Stripe never had to redeliver
    again = _deliver(throttled_url, payload)  # Stripe's duplicate delivery, still throttled
    faults.clear()
    assert again == [200]
    _assert_injected(tally, "TransactWriteItems", "BatchGetItem")  # the webhook reads in BatchGetItems
    assert setup_faults > 0

    expected = add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    assert tapi.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "fulfilled"
    assert tapi.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    ledger = tapi.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert [(r["old_expires_on"], r["new_expires_on"]) for r in ledger] == [(t["expires_on"], expected)]


def test_a_voucher_redemption_under_throttling_renews_once(tapi: ApiClient, faults: FaultProxy) -> None:
    agent, plan, (t,) = _agent_fleet(tapi)
    batch = tapi.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key)
    assert batch.status == 201, batch.body
    code = batch.json["codes"][0]
    tally = faults.set_rules(*_mixed_throttles(2), rule("conflict", ["TransactWriteItems"], every=1, limit=1))
    first = tapi.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code})
    second = tapi.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code})
    faults.clear()
    assert first.status == 200, first.body
    assert (second.status, second.error["code"]) == (422, "invalid_voucher")
    _assert_injected(tally, "TransactWriteItems", "GetItem")
    assert tally.total("conflict") == 1

    expected = add_months(date.fromisoformat(t["expires_on"]), 3).isoformat()
    assert first.json["expires_on"] == expected
    assert tapi.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    assert len(tapi.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]) == 1


# --- when the retries run out ------------------------------------------------------------------------
def test_throttling_that_outlasts_the_retries_is_a_503_with_retry_after_and_writes_nothing(
    tapi: ApiClient, throttled_url: str, faults: FaultProxy
) -> None:
    agent, plan, (t,) = _agent_fleet(tapi)

    with faults.faults(rule("throughput", ["GetItem", "BatchGetItem", "Query"], burst=OUTAGE)) as tally:
        started = time.monotonic()
        r = tapi.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key)
        read_s = time.monotonic() - started
    assert r.status == 503, r.body
    assert r.error["code"] == "service_unavailable" and r.error["message"]
    assert int(r.headers["retry-after"]) >= 1
    attempts = tally.total()
    assert attempts == 1 + RETRIES, tally.injected  # the first GetItem (the key) tried as often as the policy says

    lines = [{"sn": t["sn"], "plan_id": plan["plan_id"]}]
    order = tapi.post("/v1/orders", {"lines": lines}, key=agent.admin_key).json
    payload = succeeded_for(order, f"evt_outage_{order['order_id']}")
    with faults.faults(rule("throughput", ["GetItem", "BatchGetItem", "Query"], burst=OUTAGE)):
        unread = _deliver(throttled_url, payload, tries=1)
    assert unread[0] == 503, unread  # reads exhausted in the webhook function: busy, not a bug
    with faults.faults(rule("throughput", ["TransactWriteItems"], burst=OUTAGE)):
        refused = _deliver(throttled_url, payload, tries=1)
    assert refused[0] == 503, refused  # busy, not broken: Stripe will redeliver
    assert tapi.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == t["expires_on"]
    assert tapi.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json["status"] == "pending_payment"
    assert _deliver(throttled_url, payload) == [200]  # the redelivery, the outage over
    assert len(tapi.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]) == 1
    print(f"outage: {attempts} attempts, answered 503 after {read_s:.1f} s")
