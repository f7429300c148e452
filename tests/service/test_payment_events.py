"""Payment events on the fakes: Stripe's events and the direct rails' notifications (WeChat Pay as
服务商), through OrderService wired by the composition root over the payment events port. Each is
applied once, to its own agent's order, and what cannot be applied changes no money or expiry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simrenew.adapters.payments import PaymentRails
from simrenew.bootstrap import order_service
from simrenew.domain.dates import add_months
from simrenew.errors import AuthenticationError, Conflict, NotFound
from simrenew.services.tenants import TenantService
from tests.service.conftest import World
from tests.support.fakes.checkout import FakeCheckoutStore
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.payments import WEBHOOK_SECRET, event, sign
from tests.support.payments import FakeRail

SUB_MCHID = "1900000109"
SIGNED = {"x-fake-signature": "ok"}


def _deliver(world: World, payload: bytes) -> dict[str, Any]:
    return world.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))


def _online_order(world: World, agent: str, sn: str, plan_id: str) -> dict[str, Any]:
    order, pay = world.orders.create(agent, {"lines": [{"sn": sn, "plan_id": plan_id}]}, actor="k")
    return {**order.to_json(), **(pay or {})}


def _status(world: World, agent: str, order_id: str) -> str:
    return world.orders.get(agent, order_id).status.value


# --- Stripe events ------------------------------------------------------------------------------------


def test_a_signed_event_that_names_no_payment_is_acknowledged_once_and_changes_nothing(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent)
    order = _online_order(world, agent, t.sn, world.plan(agent).plan_id)
    payload = event("charge.refunded", {"id": "ch_x", "amount_refunded": 100}, "evt_malformed")

    assert _deliver(world, payload) == {"received": True, "outcome": "ignored_malformed"}
    assert _deliver(world, payload) == {"received": True, "duplicate": True}
    assert _status(world, agent, order["order_id"]) == "pending_payment"
    assert world.orders.renewals(agent, t.sn) == []


def test_a_dispute_before_the_payment_is_held_and_the_payment_then_goes_to_review(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent)
    order = _online_order(world, agent, t.sn, world.plan(agent).plan_id)
    pi = order["payment_intent_id"]
    dispute = event("charge.dispute.created", {"id": "dp_1", "payment_intent": pi}, "evt_dispute")

    assert _deliver(world, dispute) == {"received": True, "outcome": "held_until_paid"}
    assert _deliver(world, world.gateway.succeeded_event(pi)) == {"received": True, "outcome": "needs_review"}

    assert _status(world, agent, order["order_id"]) == "needs_review"
    assert world.expiry(agent, t.sn) == t.expires_on
    assert world.orders.get(agent, order["order_id"]).paid_fen == order["amount_fen"]  # the money is recorded


def test_a_failed_payment_fails_the_order_and_a_cancelled_one_expires_it(world: World) -> None:
    agent = world.agent()
    t = world.terminal(agent)
    order = _online_order(world, agent, t.sn, world.plan(agent).plan_id)
    intent = {"id": order["payment_intent_id"], "object": "payment_intent"}

    assert _deliver(world, event("payment_intent.payment_failed", intent)) == {"received": True, "outcome": "failed"}
    assert _status(world, agent, order["order_id"]) == "failed"
    assert _deliver(world, event("payment_intent.canceled", intent)) == {"received": True, "outcome": "expired"}
    assert _status(world, agent, order["order_id"]) == "expired"


def test_metadata_naming_another_agent_never_reaches_my_order(world: World) -> None:
    mine, other = world.agent(), world.agent()
    t = world.terminal(mine)
    order = _online_order(world, mine, t.sn, world.plan(mine).plan_id)
    # A PaymentIntent never linked to an order, whose metadata pairs my order with another agent.
    obj = {
        "id": "pi_unlinked",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": order["amount_fen"],
        "amount_received": order["amount_fen"],
        "currency": "cny",
        "metadata": {"tenant_id": other, "order_id": order["order_id"]},
    }

    assert _deliver(world, event("payment_intent.succeeded", obj)) == {"received": True, "outcome": "ignored"}
    assert _status(world, mine, order["order_id"]) == "pending_payment"
    assert world.expiry(mine, t.sn) == t.expires_on


# --- the direct rails (WeChat Pay) ----------------------------------------------------------------------


@pytest.fixture
def rail(world: World) -> FakeRail:
    """The world's order service with WeChat Pay configured (the rail faked in memory)."""
    fake = FakeRail("wechatpay")
    world.orders_repo = FakeOrderRepository(world.table)
    rails = PaymentRails({"wechatpay": fake})
    world.onboarding = TenantService(world.tenants, world.api_keys, world.rate, world.clock, rails)
    world.orders = order_service(
        world.tenants,
        world.terminals,
        world.plans,
        world.merchants,
        world.orders_repo,
        world.gateway,
        world.rate,
        world.clock,
        rails,
        "https://pay.example.com",
        pay_page=FakeCheckoutStore(world.table, world.terminals, world.orders_repo, world.rate),
    )
    return fake


def _onboarded(world: World) -> str:
    agent = world.agent()
    world.onboarding.update(agent, {"settings": {"wechatpay_sub_mchid": SUB_MCHID}})
    return agent


def _trade(world: World, agent: str) -> tuple[dict[str, Any], str, Any]:
    """An online order opened on WeChat Pay (desktop: the QR): (order, out_trade_no, terminal)."""
    t = world.terminal(agent)
    order = _online_order(world, agent, t.sn, world.plan(agent, months=6).plan_id)
    tenant = world.tenants.get(agent)
    item = world.orders_repo.item(agent, order["order_id"])
    assert tenant is not None and item is not None
    pay = world.orders.direct.prepay(tenant, item, "wechatpay", "desktop", client_ip="10.0.0.1", wx_code=None, sn=t.sn)
    return order, pay["out_trade_no"], t


def _notify(world: World, payload: bytes, headers: dict[str, str] = SIGNED) -> dict[str, Any]:
    return world.orders.handle_direct_webhook("wechatpay", headers, payload)


def test_a_desktop_payer_gets_a_qr_of_the_trade_recorded_on_the_order_once(world: World, rail: FakeRail) -> None:
    agent = _onboarded(world)
    order, otn, t = _trade(world, agent)
    tenant = world.tenants.get(agent)
    item = world.orders_repo.item(agent, order["order_id"])
    assert tenant is not None and item is not None

    again = world.orders.direct.prepay(
        tenant, item, "wechatpay", "desktop", client_ip="10.0.0.1", wx_code=None, sn=t.sn
    )

    assert again["out_trade_no"] == otn and again["code_url"] == f"fake://{otn}"
    assert again["qr_svg"].startswith("data:image/svg+xml;base64,")
    attempts = world.orders.get(agent, order["order_id"]).attempts
    assert [(a.provider, a.out_trade_no, a.sub_merchant) for a in attempts] == [("wechatpay", otn, SUB_MCHID)]
    assert rail.trades[otn]["amount"] == order["amount_fen"]


def test_the_paid_notification_renews_once_however_often_it_comes(world: World, rail: FakeRail) -> None:
    agent = _onboarded(world)
    order, otn, t = _trade(world, agent)
    payload = rail.paid_notice(otn)

    assert _notify(world, payload) == {"received": True, "outcome": "ok"}
    assert _notify(world, payload) == {"received": True, "duplicate": True}

    paid = world.orders.get(agent, order["order_id"])
    assert (paid.status.value, paid.paid_fen, paid.paid_via) == ("fulfilled", order["amount_fen"], f"wechatpay:{otn}")
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 6)
    assert [r["kind"] for r in world.orders.renewals(agent, t.sn)] == ["renewal"]


@pytest.mark.parametrize(
    ("changed", "outcome", "status"),
    [
        # Money paid to another sub-merchant is not this agent's payment.
        (lambda order: {"sub_merchant": "1900000999"}, "ignored_sub_merchant", "pending_payment"),
        # A notification of another amount goes to review.
        (lambda order: {"amount_fen": order["amount_fen"] - 1}, "needs_review", "needs_review"),
    ],
    ids=["another_sub_merchant", "another_amount"],
)
def test_a_notification_that_does_not_match_the_trade_renews_nothing(
    world: World, rail: FakeRail, changed: Any, outcome: str, status: str
) -> None:
    agent = _onboarded(world)
    order, otn, t = _trade(world, agent)
    notice = json.loads(rail.paid_notice(otn))
    payload = json.dumps({**notice, **changed(order)}).encode()

    assert _notify(world, payload) == {"received": True, "outcome": outcome}
    assert _status(world, agent, order["order_id"]) == status
    assert world.expiry(agent, t.sn) == t.expires_on


def test_an_unsigned_notification_is_refused_and_writes_nothing(world: World, rail: FakeRail) -> None:
    agent = _onboarded(world)
    _order, otn, _t = _trade(world, agent)
    payload = rail.paid_notice(otn)
    before = dict(world.table.rows)

    with pytest.raises(AuthenticationError):
        _notify(world, payload, headers={})

    assert world.table.rows == before


def test_no_cash_is_taken_for_an_order_its_agent_paid_on_wechat_meanwhile(world: World, rail: FakeRail) -> None:
    agent = _onboarded(world)
    order, otn, t = _trade(world, agent)
    rail.trades[otn].update(state="paid", received=rail.trades[otn]["amount"])  # its notification is lost

    with pytest.raises(Conflict) as err:
        world.orders.mark_paid(agent, order["order_id"], {"note": "现金"}, "admin")

    assert err.value.code == "order_paid_online"
    paid = world.orders.get(agent, order["order_id"])
    assert (paid.status.value, paid.paid_via) == ("fulfilled", f"wechatpay:{otn}")  # paid once, by the trade
    assert world.expiry(agent, t.sn) == add_months(t.expires_on, 6)


def test_another_agent_cannot_mark_my_wechat_order_paid(world: World, rail: FakeRail) -> None:
    agent, other = _onboarded(world), world.agent()
    order, otn, t = _trade(world, agent)
    rail.trades[otn].update(state="paid", received=rail.trades[otn]["amount"])

    with pytest.raises(NotFound) as err:
        world.orders.mark_paid(other, order["order_id"], {"note": "现金"}, "admin")

    assert err.value.code == "order_not_found"
    assert _status(world, agent, order["order_id"]) == "pending_payment"
    assert world.expiry(agent, t.sn) == t.expires_on
