"""What a Stripe payment costs in DynamoDB requests (issue 17), counted per operation with
bench.common.RequestCounter under moto: one line or twenty, the order is fulfilled with one
BatchGetItem (the event's record, the order, its tenant and its terminals: the PaymentIntent's
metadata names them) and the one transaction; a repeated delivery is that read alone. A
PaymentIntent without our SNs in its metadata (created before they were written there, or an
order whose SNs do not fit in one metadata value) costs the look-up's read first. A request more
on this path fails here."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import pytest

from bench.common import RequestCounter
from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import PaymentIntentItem, RateLimitItem
from simrenew.domain.dates import add_months
from simrenew.domain.orders import MAX_LINES
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway, sign

# The webhook of a payment, whatever the number of lines (MAX_LINES at most).
FULFIL = {"BatchGetItem": 1, "TransactWriteItems": 1}
# The same without our SNs in the PaymentIntent's metadata: the look-up is read first.
BY_LOOKUP = {"BatchGetItem": 2, "TransactWriteItems": 1}
DUPLICATE = {"BatchGetItem": 1}


def _order(
    api: ApiClient, platform_key: str, lines: int, sn_width: int = 0
) -> tuple[Agent, dict[str, Any], list[dict[str, Any]]]:
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    ).json
    bodies = [terminal_body() for _ in range(lines)]
    for body in bodies:
        body["sn"] = body["sn"].rjust(sn_width, "X")
    terminals = [api.post("/v1/terminals", body, key=agent.admin_key).json for body in bodies]
    r = api.post(
        "/v1/orders",
        {"lines": [{"sn": t["sn"], "plan_id": plan["plan_id"]} for t in terminals], "payment": "online"},
        key=agent.admin_key,
    )
    assert r.status == 201, r.body
    return agent, r.json, terminals


def _counted(fn: Any, *args: Any) -> tuple[Any, dict[str, int]]:
    counter = RequestCounter()
    with counter.installed(), counter.phase("webhook") as phase:
        value = fn(*args)
    return value, {op: s.calls for op, s in phase.ops.items() if s.calls}


def _paid_renewals(tenant_id: str, sn: str) -> int:
    from simrenew.services.checkout import PAID_RENEWALS_BUCKET

    window = int(time.time()) // 86_400
    try:
        item = RateLimitItem.get(keys.rate_limit_pk(PAID_RENEWALS_BUCKET, f"{tenant_id}#{sn}", window), "RATE")
    except RateLimitItem.DoesNotExist:
        return 0
    return int(item.hits or 0)


def _assert_fulfilled(api: ApiClient, agent: Agent, order: dict[str, Any], terminals: list[dict[str, Any]]) -> None:
    done = api.get(f"/v1/orders/{order['order_id']}", key=agent.admin_key).json
    assert (done["status"], done["amount_fen"]) == ("fulfilled", 9900 * len(terminals))
    for t in terminals:
        expected = add_months(date.fromisoformat(t["expires_on"]), 12).isoformat()
        assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
        ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
        assert [(r["kind"], r["amount_fen"]) for r in ledger] == [("renewal", 9900)]
        assert _paid_renewals(agent.tenant_id, t["sn"]) == 1  # counted in the same transaction


@pytest.mark.parametrize("lines", [1, 5, MAX_LINES])
def test_a_payment_is_fulfilled_in_two_requests_whatever_its_lines_and_a_redelivery_in_one(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any, lines: int
) -> None:
    agent, order, terminals = _order(api, platform_key, lines)
    metadata = gateway.intents[order["payment_intent_id"]]["metadata"]
    assert metadata == {
        "order_id": order["order_id"],
        "tenant_id": agent.tenant_id,
        "sns": ",".join(t["sn"] for t in terminals),
    }
    payload = gateway.succeeded_event(order["payment_intent_id"])
    signature = sign(payload, WEBHOOK_SECRET)

    answer, ops = _counted(services.orders.handle_webhook, payload, signature)
    assert answer == {"received": True, "outcome": "ok"}
    assert ops == FULFIL
    _assert_fulfilled(api, agent, order, terminals)

    again, ops = _counted(services.orders.handle_webhook, payload, signature)
    assert again == {"received": True, "duplicate": True}
    assert ops == DUPLICATE
    _assert_fulfilled(api, agent, order, terminals)  # nothing applied twice


def test_two_deliveries_that_read_before_either_commits_apply_once(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event-seen check is a condition of the transaction: a delivery that read "not applied"
    (and the order still unpaid) while another was applying it is answered as a duplicate and
    changes nothing."""
    agent, order, terminals = _order(api, platform_key, 2)
    payload = gateway.succeeded_event(order["payment_intent_id"])
    repo = services.orders.orders
    # What the second delivery reads, before the first one commits.
    sns = [t["sn"] for t in terminals]
    stale = repo.payment_context(agent.tenant_id, order["order_id"], sns, event_id=json.loads(payload)["id"])
    assert stale.event_seen is False and stale.order is not None and stale.order.status == "pending_payment"

    assert services.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET)) == {"received": True, "outcome": "ok"}
    monkeypatch.setattr(repo, "payment_context", lambda *_a, **_k: stale)
    answer, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert answer == {"received": True, "duplicate": True}
    assert ops == {"TransactWriteItems": 1}  # refused: its condition says the event was applied
    _assert_fulfilled(api, agent, order, terminals)


def test_a_payment_intent_without_our_sns_is_found_by_its_look_up_one_read_more(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any
) -> None:
    """A PaymentIntent created before its metadata named the SNs: the look-up names the order and
    its terminals (one read more), and a redelivery is still one read."""
    agent, order, terminals = _order(api, platform_key, 3)
    del gateway.intents[order["payment_intent_id"]]["metadata"]["sns"]
    payload = gateway.succeeded_event(order["payment_intent_id"])
    answer, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert answer == {"received": True, "outcome": "ok"}
    assert ops == BY_LOOKUP
    _assert_fulfilled(api, agent, order, terminals)
    again, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert (again, ops) == ({"received": True, "duplicate": True}, DUPLICATE)


def test_sns_that_do_not_fit_in_one_metadata_value_are_left_out_and_the_look_up_names_them(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any
) -> None:
    """Stripe takes at most 500 characters in a metadata value: 20 SNs of 32 characters (659 with
    their commas) are not written there, and the payment goes through its look-up."""
    agent, order, terminals = _order(api, platform_key, MAX_LINES, sn_width=32)
    assert gateway.intents[order["payment_intent_id"]]["metadata"] == {
        "order_id": order["order_id"],
        "tenant_id": agent.tenant_id,
    }
    payload = gateway.succeeded_event(order["payment_intent_id"])
    answer, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert answer == {"received": True, "outcome": "ok"}
    assert ops == BY_LOOKUP
    _assert_fulfilled(api, agent, order, terminals)


def test_a_look_up_written_before_it_named_its_terminals_costs_one_read_more(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any
) -> None:
    agent, order, terminals = _order(api, platform_key, 3)
    del gateway.intents[order["payment_intent_id"]]["metadata"]["sns"]
    lookup = PaymentIntentItem.get(keys.payment_intent_pk(order["payment_intent_id"]), keys.lookup_sk())
    assert sorted(lookup.sns or []) == sorted(t["sn"] for t in terminals)
    lookup.sns = None
    lookup.save()
    payload = gateway.succeeded_event(order["payment_intent_id"])
    answer, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert answer == {"received": True, "outcome": "ok"}
    assert ops == {"BatchGetItem": 3, "TransactWriteItems": 1}
    _assert_fulfilled(api, agent, order, terminals)


def test_a_pay_page_order_is_fulfilled_in_two_requests_too(
    api: ApiClient, platform_key: str, gateway: FakeGateway, services: Any
) -> None:
    """The pay page's order (POST /v1/public/orders) creates its PaymentIntent on its own path:
    its metadata names the terminal too, so its webhook costs the same 2."""
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    ).json
    terminal = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json
    r = api.post("/v1/public/orders", {"sn": terminal["sn"], "plan_id": plan["plan_id"]})
    assert r.status == 201, r.body
    order = r.json
    lookups = [i for i in PaymentIntentItem.scan() if i.order_id == order["order_id"] and i.pk.startswith("PI#")]
    assert [i.sns for i in lookups] == [[terminal["sn"]]]
    payload = gateway.succeeded_event(lookups[0].pk.removeprefix("PI#"))
    answer, ops = _counted(services.orders.handle_webhook, payload, sign(payload, WEBHOOK_SECRET))
    assert answer == {"received": True, "outcome": "ok"}
    assert ops == FULFIL
    _assert_fulfilled(api, agent, {"order_id": order["order_id"]}, [terminal])
