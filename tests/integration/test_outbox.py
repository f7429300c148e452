"""The outbox over real HTTP against DynamoDB Local: the poller feeds the table's stream to the
dispatcher function (as Lambda does in AWS), so a receipt goes out seconds after the payment, and
a dispatcher killed between the commit and the delivery loses nothing and sends nothing twice."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import requests

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import RateLimitItem, Transaction
from simrenew.adapters.dynamodb.outbox import OutboxItem, outbox_condition, outbox_event
from tests.integration.conftest import OutboxPollerProcess
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import sign, succeeded_for
from tests.support.waiting import wait_for


class Receiver:
    """An agent's webhook endpoint on 127.0.0.1: counts every POST by event id."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        received = self.ids

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received[json.loads(body)["id"]] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def _wait(check: Any, timeout: float = 60, what: str = "condition") -> Any:
    return wait_for(check, timeout, what, every=0.1)


def _shop(api: ApiClient, agent: Agent, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    m = api.post(
        "/v1/merchants",
        {"name": f"回执小店{n}", "phone": f"1381234{n:04d}", "email": f"shop{n}@example.com"},
        key=agent.admin_key,
    ).json
    t = api.post("/v1/terminals", terminal_body(merchant_id=m["merchant_id"]), key=agent.admin_key).json
    return m, t


def _plan(api: ApiClient, agent: Agent) -> dict[str, Any]:
    body = {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 100}
    return dict(api.post("/v1/plans", body, key=agent.admin_key).json)


def _pay(api: ApiClient, server_url: str, agent: Agent, t: dict[str, Any], plan: dict[str, Any]) -> str:
    """An online order paid by a signed payment_intent.succeeded webhook, as Stripe sends it."""
    lines = [{"sn": t["sn"], "plan_id": plan["plan_id"]}]
    order = api.post("/v1/orders", {"lines": lines}, key=agent.admin_key).json
    payload = succeeded_for(order, f"evt_outbox_{order['order_id']}")
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, WEBHOOK_SECRET)}
    r = requests.post(f"{server_url}/webhooks/stripe", data=payload, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return str(order["order_id"])


def _receipts(api: ApiClient, agent: Agent, sn: str) -> list[dict[str, Any]]:
    items = api.get(f"/v1/notifications?sn={sn}", key=agent.admin_key).json["items"]
    return [n for n in items if n["template"] == "receipt"]


def _sent_messages(poller: OutboxPollerProcess) -> Counter[tuple[str | None, str, str]]:
    """What the dispatcher's notifier really sent (the local outbox file): (sn, template, channel)."""
    if not poller.outbox_file.exists():
        return Counter()
    lines = [json.loads(line) for line in poller.outbox_file.read_text(encoding="utf-8").splitlines()]
    return Counter((m["sn"], m["template"], m["channel"]) for m in lines)


def _agent_event(agent: Agent, name: str) -> OutboxItem:
    """An agent event committed with its change, as the fulfilment transaction will write it."""
    now = datetime.now(UTC)
    entry = outbox_event(agent.tenant_id, "order.fulfilled", {"order_id": name}, dedupe_key=name, now=now)
    with Transaction() as tx:
        tx.save(
            RateLimitItem(keys.tenant_pk(agent.tenant_id), f"CHANGE#{name}"),
            condition=RateLimitItem.pk.does_not_exist(),
        )
        tx.save(entry, condition=outbox_condition())
    return entry


def test_a_paid_order_receipt_reaches_the_merchant_within_seconds_without_a_sweep(
    api: ApiClient, platform_key: str, server_url: str, outbox_poller: OutboxPollerProcess
) -> None:
    agent = create_agent(api, platform_key)
    _, t = _shop(api, agent, 1)
    plan = _plan(api, agent)
    outbox_poller.start()
    outbox_poller.wait_caught_up()  # whatever earlier tests left in the stream is behind it

    posted = time.monotonic()
    _pay(api, server_url, agent, t, plan)
    answered = time.monotonic()
    sent = _wait(
        lambda: [n for n in _receipts(api, agent, t["sn"]) if n["channel"] == "email" and n["state"] == "sent"],
        what="the e-mail receipt",
    )
    done = time.monotonic()
    # The figures (printed with -s), not assertions: the machine's load decides them.
    print(f"\nreceipt sent {done - posted:.2f}s after the webhook was posted ({done - answered:.2f}s after its 200)")

    assert len(sent) == 1
    assert {n["state"] for n in _receipts(api, agent, t["sn"]) if n["channel"] == "sms"} <= {"sent", "held"}
    assert _sent_messages(outbox_poller)[(t["sn"], "receipt", "email")] == 1


@pytest.mark.parametrize("fault", ["kill_before_handler", "kill_before_checkpoint"])
def test_a_dispatcher_killed_between_commit_and_delivery_delivers_everything_exactly_once_after_restart(
    api: ApiClient,
    platform_key: str,
    server_url: str,
    ddb: Any,
    outbox_poller: OutboxPollerProcess,
    receiver: Receiver,
    fault: str,
) -> None:
    agent = create_agent(api, platform_key)
    endpoint = api.post(
        "/v1/webhook-endpoints", {"url": receiver.url, "events": ["order.fulfilled"]}, key=agent.admin_key
    )
    assert endpoint.status == 201, endpoint.body
    plan = _plan(api, agent)
    shops = [_shop(api, agent, n)[1] for n in range(10, 13)]
    outbox_poller.start()
    outbox_poller.wait_caught_up()
    outbox_poller.stop()  # the stream is read up to here; what follows waits for the next dispatcher

    # Committed while no dispatcher runs: three receipts (paid orders) and three agent events.
    for t in shops:
        _pay(api, server_url, agent, t, plan)
    events = [_agent_event(agent, f"outbox-kill-{fault}-{n}") for n in range(3)]

    dying = outbox_poller.start(fault=fault)  # reads them, and SIGKILLs itself at `fault`
    assert dying.wait(timeout=120) == -signal.SIGKILL
    mine = {e.event_id for e in events}
    if fault == "kill_before_handler":  # killed after the commit and before any delivery
        assert not (mine & set(receiver.ids))
        assert not any(_sent_messages(outbox_poller)[(t["sn"], "receipt", "email")] for t in shops)
    else:  # delivered, killed before the checkpoint: the next dispatcher gets every record again
        assert _wait(lambda: mine <= set(receiver.ids), timeout=5, what="the first batch delivered")

    outbox_poller.start()  # the restart resumes from the last checkpoint
    _wait(lambda: mine <= set(receiver.ids), what="every agent event")
    for t in shops:
        _wait(lambda t=t: _sent_messages(outbox_poller)[(t["sn"], "receipt", "email")], what=f"{t['sn']} receipt")
    outbox_poller.wait_caught_up()  # and it has been through every redelivered record

    assert {i: receiver.ids[i] for i in mine} == {i: 1 for i in mine}  # each event posted once
    deliveries = api.get(
        f"/v1/webhook-endpoints/{endpoint.json['endpoint_id']}/deliveries?limit=200", key=agent.admin_key
    ).json["items"]
    logged = Counter(d["event_id"] for d in deliveries if d["event_id"] in mine)
    assert logged == Counter({i: 1 for i in mine}) and all(
        d["state"] == "delivered" for d in deliveries if d["event_id"] in mine
    )
    sent = _sent_messages(outbox_poller)
    for t in shops:
        assert sent[(t["sn"], "receipt", "email")] == 1  # one e-mail receipt per paid order
        assert sent[(t["sn"], "receipt", "sms")] <= 1  # held for daytime, or sent once
        by_channel = Counter(n["channel"] for n in _receipts(api, agent, t["sn"]))
        assert by_channel == Counter({"email": 1, "sms": 1})
