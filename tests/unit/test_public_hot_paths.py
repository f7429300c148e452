"""Issue 17: the pay page's look-up and the public order at their DynamoDB floor. The requests each
one sends are counted (bench.common.RequestCounter, on moto) and asserted exactly: a change that
adds a request to these paths fails here. The per-container tenant context is honoured: another
container's plan or settings change reaches the pay page within the TTL (the injected clock moves,
nothing sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.common import RequestCounter
from bench.replay import capturing
from simrenew.adapters.dynamodb.tenant_context import CONTEXT_TTL_S, TenantContextCache
from simrenew.clock import FixedClock
from simrenew.errors import NotFound
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _agent(svc: Any, name: str, price_fen: int = 9900) -> tuple[str, Any, Any]:
    body = {
        "name": name,
        "contact_name": "赵",
        "contact_email": f"{name.replace(' ', '.').lower()}@example.com",
        "contact_phone": "13800138000",
    }
    tenant_id = svc.tenants.create_active(body)[0].tenant_id
    m = svc.fleet.create_merchant(tenant_id, {"name": "张记便利店", "phone": "13500009999"})
    plan = svc.fleet.create_plan(
        tenant_id, {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": price_fen}
    )
    terminal = svc.fleet.register(tenant_id, terminal_body(merchant_id=m.merchant_id, expires_on="2027-01-31"))
    return tenant_id, plan, terminal


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def svc(make_services: Any, clock: FixedClock) -> Any:
    return make_services(clock, FakeGateway(WEBHOOK_SECRET))


def _counted(fn: Any, *args: Any) -> tuple[Any, dict[str, int]]:
    counter = RequestCounter()
    with counter.installed(), counter.phase("x") as phase:
        result = fn(*args)
    return result, {op: stats.calls for op, stats in phase.ops.items()}


def _other_container(svc: Any) -> None:
    """This checkout gets a cache of its own, as a second Lambda container has: the writes the test
    makes through the services (the "agent's container") no longer drop its entries."""
    svc.orders.checkout._contexts = TenantContextCache()


def test_the_look_up_by_sn_or_tid_is_the_rate_limit_write_and_one_query(svc: Any) -> None:
    _tenant, _plan, t = _agent(svc, "Lookup Agent")
    # A cold container: + one Query for the tenant context (profile and plans together) and one
    # GetItem for the merchant's name (both cached afterwards).
    page, cold = _counted(svc.orders.public_lookup, t.sn, "client-1")
    assert cold == {"UpdateItem": 1, "Query": 2, "GetItem": 1}
    assert page["merchant_name_masked"] == "张***店"
    # Steady state: the rate-limit counter and the terminal from the pubsn / pubtid index.
    by_sn, warm_sn = _counted(svc.orders.public_lookup, t.sn, "client-1")
    by_tid, warm_tid = _counted(svc.orders.public_lookup, t.tid, "client-2")
    assert warm_sn == warm_tid == {"UpdateItem": 1, "Query": 1}
    assert by_sn == by_tid == page
    # The index Query carries no filter (PynamoDB's `kind IN (every kind)` drops nothing and costs).
    with capturing() as sent:
        assert svc.orders.public_lookup(t.tid, "client-3") == page
    assert [p.get("FilterExpression") for op, p in sent.requests if op == "Query"] == [None]
    assert [p["price_fen"] for p in page["plans"]] == [9900]


def test_a_terminal_missing_from_the_index_is_still_found_by_its_claim(svc: Any) -> None:
    """A terminal written before the index existed (no pubsn_pk / pubtid_pk): the claim path."""
    from simrenew.adapters.dynamodb.models import TerminalItem

    tenant_id, _plan, t = _agent(svc, "Legacy Agent")
    item = svc.orders.checkout._terminals.item(tenant_id, t.sn)
    item.update(actions=[TerminalItem.pubsn_pk.remove(), TerminalItem.pubtid_pk.remove()])
    svc.orders.public_lookup(t.sn, "warm")
    page, ops = _counted(svc.orders.public_lookup, t.tid, "client-1")
    assert page["sn"] == t.sn
    assert ops == {"UpdateItem": 1, "Query": 1, "GetItem": 2}  # index miss, claim, terminal


def test_the_backfill_gives_old_terminals_their_index_keys_once(svc: Any, ddb: Any) -> None:
    """After the indexes are added to a deployed table (infra/public_backfill.py): old terminals
    get their keys and are found in one Query again; terminals that have them are left alone."""
    from simrenew.adapters.dynamodb.fleet import backfill_public_keys
    from simrenew.adapters.dynamodb.models import TerminalItem
    from tests.unit.conftest import TABLE

    tenant_id, _plan, old = _agent(svc, "Backfill Agent")
    recent = svc.fleet.register(tenant_id, terminal_body(expires_on="2027-02-28"))
    item = svc.orders.checkout._terminals.item(tenant_id, old.sn)
    item.update(actions=[TerminalItem.pubsn_pk.remove(), TerminalItem.pubtid_pk.remove()])

    assert backfill_public_keys(ddb, TABLE) == 1
    assert backfill_public_keys(ddb, TABLE) == 0  # nothing left to do
    svc.orders.public_lookup(old.sn, "warm")
    for terminal in (old, recent):
        page, ops = _counted(svc.orders.public_lookup, terminal.tid, "client-1")
        assert (page["sn"], ops) == (terminal.sn, {"UpdateItem": 1, "Query": 1})


def test_the_pay_page_shows_the_terminal_as_it_is_now(svc: Any) -> None:
    tenant_id, _plan, t = _agent(svc, "Fresh Agent")
    assert svc.orders.public_lookup(t.sn, "c")["expires_on"] == "2027-01-31"
    svc.fleet.update(tenant_id, t.sn, {"expires_on": "2027-06-30", "reason": "goodwill"}, actor="t")
    assert svc.orders.public_lookup(t.sn, "c")["expires_on"] == "2027-06-30"


def test_another_containers_price_change_reaches_the_pay_page_within_the_ttl(svc: Any, clock: FixedClock) -> None:
    tenant_id, plan, t = _agent(svc, "Price Agent")
    _other_container(svc)
    assert [p["price_fen"] for p in svc.orders.public_lookup(t.sn, "c")["plans"]] == [9900]
    svc.fleet.update_plan(tenant_id, plan.plan_id, {"price_fen": 12900})
    clock.advance(timedelta(seconds=CONTEXT_TTL_S - 1))
    assert [p["price_fen"] for p in svc.orders.public_lookup(t.sn, "c")["plans"]] == [9900]  # within the TTL
    clock.advance(timedelta(seconds=1))
    assert [p["price_fen"] for p in svc.orders.public_lookup(t.sn, "c")["plans"]] == [12900]


def test_another_containers_settings_change_and_suspension_reach_the_pay_page_within_the_ttl(
    svc: Any, clock: FixedClock
) -> None:
    tenant_id, _plan, t = _agent(svc, "Phone Agent")
    _other_container(svc)
    assert svc.orders.public_lookup(t.sn, "c")["agent_phone"] is None
    svc.tenants.update(tenant_id, {"service_phone": "4008001234"})
    clock.advance(timedelta(seconds=CONTEXT_TTL_S))
    assert svc.orders.public_lookup(t.sn, "c")["agent_phone"] == "+864008001234"
    svc.tenants.suspend(tenant_id)
    clock.advance(timedelta(seconds=CONTEXT_TTL_S))
    with pytest.raises(NotFound):
        svc.orders.public_lookup(t.sn, "c")


def test_the_agents_own_container_sees_its_change_at_once(svc: Any) -> None:
    tenant_id, plan, t = _agent(svc, "Own Agent")
    assert [p["price_fen"] for p in svc.orders.public_lookup(t.sn, "c")["plans"]] == [9900]
    svc.fleet.update_plan(tenant_id, plan.plan_id, {"price_fen": 12900})
    assert [p["price_fen"] for p in svc.orders.public_lookup(t.sn, "c")["plans"]] == [12900]


def test_one_containers_cache_never_gives_one_agent_anothers_context(svc: Any) -> None:
    a, plan_a, ta = _agent(svc, "Agent A", price_fen=1000)
    b, plan_b, tb = _agent(svc, "Agent B", price_fen=2000)
    for _ in range(2):  # cold, then both from the cache
        page_a = svc.orders.public_lookup(ta.sn, "c")
        page_b = svc.orders.public_lookup(tb.tid, "c")
        assert (page_a["agent_name"], [p["plan_id"] for p in page_a["plans"]]) == ("Agent A", [plan_a.plan_id])
        assert (page_b["agent_name"], [p["plan_id"] for p in page_b["plans"]]) == ("Agent B", [plan_b.plan_id])
        assert [p["price_fen"] for p in page_a["plans"]] == [1000]
        assert [p["price_fen"] for p in page_b["plans"]] == [2000]
    ctx = svc.orders.checkout._contexts
    assert ctx.get(a, T0).tenant.tenant_id == a and {p.tenant_id for p in ctx.get(a, T0).plans} == {a}
    assert ctx.get(b, T0).tenant.tenant_id == b and {p.tenant_id for p in ctx.get(b, T0).plans} == {b}


# --- the public order (POST /v1/public/orders) -------------------------------------------------------------
def _order_body(t: Any, plan: Any) -> dict[str, Any]:
    return {"sn": t.sn, "plan_id": plan.plan_id}


def test_a_public_order_is_four_requests_and_its_reuse_three(svc: Any) -> None:
    _tenant, plan, t = _agent(svc, "Order Agent")
    svc.orders.public_lookup(t.sn, "warm")  # the context and the merchant's name in this container
    (order, pay, token), ops = _counted(svc.orders.public_create, _order_body(t, plan), "client-1")
    # The rate-limit counter, the terminal (with its open orders) from the index, the order with every
    # rule as a condition (one transaction), its PaymentIntent with the open-order slot (one more).
    assert ops == {"UpdateItem": 1, "Query": 1, "TransactWriteItems": 2}
    assert order.amount_fen == 9900 and pay["client_secret"] and token
    # A reload hands out the same order: the counter, the Query (which brings the slot), the order.
    (again, pay2, token2), ops2 = _counted(svc.orders.public_create, _order_body(t, plan), "client-1")
    assert ops2 == {"UpdateItem": 1, "Query": 1, "GetItem": 1}
    assert (again.order_id, pay2["client_secret"], token2) == (order.order_id, pay["client_secret"], token)


def test_a_cold_container_orders_with_one_more_query(svc: Any) -> None:
    _tenant, plan, t = _agent(svc, "Cold Agent")
    _other_container(svc)
    _result, ops = _counted(svc.orders.public_create, _order_body(t, plan), "client-1")
    assert ops == {"UpdateItem": 1, "Query": 2, "TransactWriteItems": 2}  # + the tenant context


def test_an_order_is_charged_the_new_price_at_once_even_from_a_stale_container(svc: Any) -> None:
    tenant_id, plan, t = _agent(svc, "Stale Agent")
    _other_container(svc)
    svc.orders.public_lookup(t.sn, "c")  # this container now holds the 9900 price
    svc.fleet.update_plan(tenant_id, plan.plan_id, {"price_fen": 12900})  # in "another container"
    (order, _pay, _token), ops = _counted(svc.orders.public_create, _order_body(t, plan), "client-1")
    assert order.amount_fen == 12900
    assert svc.orders.get(tenant_id, order.order_id).amount_fen == 12900
    # The stale version cancelled the first transaction; the context was read again and the order made.
    assert ops == {"UpdateItem": 1, "Query": 3, "TransactWriteItems": 3}


def test_a_suspended_agent_takes_no_order_even_from_a_stale_container(svc: Any) -> None:
    tenant_id, plan, t = _agent(svc, "Suspended Agent")
    _other_container(svc)
    svc.orders.public_lookup(t.sn, "c")
    svc.tenants.suspend(tenant_id)
    with pytest.raises(NotFound):
        svc.orders.public_create(_order_body(t, plan), "client-1")
    with pytest.raises(NotFound):  # the failed order made this container read the context again
        svc.orders.public_lookup(t.sn, "c")


def test_a_terminal_deactivated_meanwhile_takes_no_order(svc: Any) -> None:
    from simrenew.errors import RuleViolation

    tenant_id, plan, t = _agent(svc, "Deact Agent")
    stale, _ = svc.orders.checkout._terminals.public("sn", t.sn)
    svc.fleet.deactivate(tenant_id, t.sn)
    # As if the index had not caught up yet: the terminal as it was a moment ago.
    svc.orders.checkout._terminals.public = lambda kind, value: (stale, [])
    with pytest.raises(RuleViolation) as err:
        svc.orders.public_create(_order_body(t, plan), "client-1")
    assert err.value.code == "terminal_deactivated"


def test_the_per_terminal_limits_still_hold(svc: Any) -> None:
    from simrenew.errors import RateLimited

    _tenant, plan, t = _agent(svc, "Limit Agent")
    checkout = svc.orders.checkout
    for i in range(5):  # five unpaid orders in the half hour (each a new one: its slot is gone)
        order, _pay, _token = svc.orders.public_create(_order_body(t, plan), f"client-{i}")
        checkout._orders.forget_open_public(order.tenant_id, t.sn, plan.plan_id, order.order_id)
    with pytest.raises(RateLimited) as err:
        svc.orders.public_create(_order_body(t, plan), "client-9")
    assert err.value.code == "too_many_open_orders"


def test_the_rate_limit_written_beside_the_read_still_answers_429_first(svc: Any) -> None:
    """The look-up's rate-limit write runs in parallel with its read: a client over its limit gets
    429 whether the terminal exists or not, and below it an unknown terminal is a 404."""
    from simrenew.errors import RateLimited
    from simrenew.services.checkout import PUBLIC_LOOKUPS_PER_MINUTE

    _tenant, _plan, t = _agent(svc, "Limit Agent")
    with pytest.raises(NotFound):
        svc.orders.public_lookup("ZZ99999999", "client-x")
    for _ in range(PUBLIC_LOOKUPS_PER_MINUTE - 1):
        svc.orders.public_lookup(t.sn, "client-x")
    for target in (t.sn, "ZZ99999999"):
        with pytest.raises(RateLimited):
            svc.orders.public_lookup(target, "client-x")
    assert svc.orders.public_lookup(t.sn, "client-y")["sn"] == t.sn  # another client is not limited


def test_an_item_of_a_kind_this_code_does_not_know_on_the_index_is_left_out(svc: Any, ddb: Any) -> None:
    """The index Query carries no kind filter: an item a newer version wrote under the terminal's
    `pubsn` key (a kind unknown here) is skipped, and the look-up answers as before."""
    from simrenew.adapters.dynamodb import keys
    from tests.unit.conftest import TABLE

    _tenant, _plan, t = _agent(svc, "Future Agent")
    page = svc.orders.public_lookup(t.sn, "client-f")
    ddb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "FUTURE#1"},
            "sk": {"S": "FUTURE"},
            "kind": {"S": "kind_of_a_newer_version"},
            "pubsn_pk": {"S": keys.public_sn_pk(t.sn)},
        },
    )
    assert svc.orders.public_lookup(t.sn, "client-f") == page


def _served(svc: Any, sn: str, client: str) -> tuple[bool, int]:
    """(served, rate-limit writes sent) for one look-up."""
    from simrenew.errors import RateLimited

    counter = RequestCounter()
    try:
        with counter.installed(), counter.phase("x") as phase:
            svc.orders.public_lookup(sn, client)
    except RateLimited:
        return False, phase.ops["UpdateItem"].calls
    return True, phase.ops["UpdateItem"].calls if "UpdateItem" in phase.ops else 0


def test_a_clients_look_ups_are_counted_a_few_at_a_time_and_never_past_the_limit(svc: Any) -> None:
    """A container leases a client's hits in growing blocks (services/rate_leases.py): its 30 look-ups
    of a minute send 12 counter writes, not 30, and the 31st is refused as before."""
    from simrenew.services.checkout import PUBLIC_LOOKUPS_PER_MINUTE

    _tenant, _plan, t = _agent(svc, "Lease Agent")
    outcomes = [_served(svc, t.sn, "client-l") for _ in range(PUBLIC_LOOKUPS_PER_MINUTE)]
    assert all(served for served, _ in outcomes)
    # Leases of 1, 2, then 4 (27 counted); a fourth hit does not fit, so one at a time to 30.
    assert [writes for _, writes in outcomes[:4]] == [1, 1, 0, 1]
    assert sum(writes for _, writes in outcomes) == 12
    assert _served(svc, t.sn, "client-l") == (False, 1)


def test_two_containers_leasing_one_client_serve_no_more_than_the_limit(
    svc: Any, make_services: Any, clock: FixedClock
) -> None:
    """Leases are counted before they are spent: two containers on one client serve exactly the
    limit together, and one of them refuses early by no more than the other holds unspent."""
    from simrenew.services.checkout import PUBLIC_LOOKUPS_PER_MINUTE
    from simrenew.services.rate_leases import MAX_LEASE

    other = make_services(clock, FakeGateway(WEBHOOK_SECRET))
    _tenant, _plan, t = _agent(svc, "Two Containers")
    taking_turns = [_served(c, t.sn, "client-2c")[0] for _ in range(PUBLIC_LOOKUPS_PER_MINUTE) for c in (svc, other)]
    assert taking_turns.count(True) == PUBLIC_LOOKUPS_PER_MINUTE
    # Four look-ups in one container (leases of 1, 2, 4: three hits unspent), the rest in the other.
    for _ in range(4):
        assert _served(svc, t.sn, "client-3c")[0]
    in_other = 0
    while _served(other, t.sn, "client-3c")[0]:
        in_other += 1
    assert 4 + in_other == PUBLIC_LOOKUPS_PER_MINUTE - (MAX_LEASE - 1)
    assert [_served(svc, t.sn, "client-3c")[0] for _ in range(MAX_LEASE)] == [True] * (MAX_LEASE - 1) + [False]
    # A container seeing a client once leases one hit, exactly as before the leases.
    assert _served(make_services(clock, FakeGateway(WEBHOOK_SECRET)), t.sn, "client-once") == (True, 1)


def test_a_refusal_is_not_remembered_and_a_lease_ends_with_its_window(svc: Any, ddb: Any, clock: FixedClock) -> None:
    """The container asks the counter again after a refusal (a counter removed lets the client in at
    once), and a lease left over from the last minute is not spent in the next one."""
    from simrenew.adapters.dynamodb import keys
    from simrenew.services.checkout import PUBLIC_LOOKUPS_PER_MINUTE
    from tests.unit.conftest import TABLE

    _tenant, _plan, t = _agent(svc, "Window Agent")
    for _ in range(PUBLIC_LOOKUPS_PER_MINUTE):
        assert _served(svc, t.sn, "client-w")[0]
    assert _served(svc, t.sn, "client-w") == (False, 1)
    window = int(clock.now().timestamp()) // 60
    ddb.delete_item(
        TableName=TABLE,
        Key={"pk": {"S": keys.rate_limit_pk("public-lookup", "client-w", window)}, "sk": {"S": keys.rate_limit_sk()}},
    )
    assert _served(svc, t.sn, "client-w") == (True, 1)
    # Another client: four look-ups lease 1, 2 and 4 hits, three of them unspent at the minute's end ...
    assert [_served(svc, t.sn, "client-n")[1] for _ in range(4)] == [1, 1, 0, 1]
    clock.advance(timedelta(seconds=60))
    # ... and none of them spent in the next minute: its first look-up is counted there afresh.
    assert _served(svc, t.sn, "client-n") == (True, 1)


def test_the_search_backfill_sharing_the_scan_restores_an_entry_once(svc: Any, ddb: Any) -> None:
    """The search index's backfill (infra/search_backfill.py) runs on the same scan as the pay
    page's: an item without its entry gets exactly the entry a write gives it; others are left."""
    from simrenew.adapters.dynamodb.models import TerminalItem
    from simrenew.adapters.dynamodb.search import backfill
    from tests.unit.conftest import TABLE

    tenant_id, _plan, t = _agent(svc, "Search Agent")
    item = svc.orders.checkout._terminals.item(tenant_id, t.sn)
    written = (item.srch_pk, item.srch_sk, item.srch_text)
    item.update(actions=[TerminalItem.srch_pk.remove(), TerminalItem.srch_sk.remove(), TerminalItem.srch_text.remove()])
    assert backfill(ddb, TABLE) == 1
    assert backfill(ddb, TABLE) == 0
    again = svc.orders.checkout._terminals.item(tenant_id, t.sn)
    assert (again.srch_pk, again.srch_sk, again.srch_text) == written
