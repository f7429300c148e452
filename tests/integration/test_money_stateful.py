"""The books add up whatever happens, in any order: a Hypothesis state machine drives orders,
online and cash payments, duplicate and reordered Stripe events, second payments, refunds
(partial, full, concurrent, made in Stripe's dashboard), voucher redemptions and the passing of
time against DynamoDB Local, and checks the money and time invariants after every step.

It runs over each payment adapter: Stripe, and the direct rails (WeChat Pay as 服务商, Alipay as
ISV), where orders are the pay page's, notifications take the place of events (a per-refund
notice on WeChat Pay, the refunded total on Alipay), the rail's merchant platform the dashboard,
and the expiry job queries and closes unanswered trades."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from simrenew.adapters.dynamodb.orders import to_order
from simrenew.clock import FixedClock
from simrenew.domain.orders import REFUND_SUCCEEDED
from simrenew.errors import ProviderUnavailable, SimRenewError
from tests.support.concurrency import at_once
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway, FakeRail, sign

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
AGENT = {"name": "账本代理", "contact_name": "李", "contact_email": "books@example.com", "contact_phone": "13900001111"}


def books_machine(make_services: Any, rail_name: str = "stripe") -> type[RuleBasedStateMachine]:
    direct = rail_name != "stripe"

    class Books(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = FixedClock(T0)
            self.gateway = FakeGateway(WEBHOOK_SECRET)
            self.rail = FakeRail(rail_name if direct else "wechatpay")
            rails = {rail_name: self.rail} if direct else None
            self.svc = make_services(self.clock, self.gateway, rails)
            tenant, _key = self.svc.tenants.create_active(dict(AGENT))
            self.tenant = tenant.tenant_id
            if direct:  # the agent is a sub-merchant of the rail
                onboard = {"wechatpay_sub_mchid": "1900000109"} if rail_name == "wechatpay" else {}
                if rail_name == "alipay":
                    onboard["alipay_app_auth_token"] = "202612BB2021000000000555" + "a" * 24
                self.svc.tenants.update(self.tenant, {"settings": onboard})
            self.clients = 0
            self.echoed_refunds: set[str] = set()  # out_refund_no the rail has sent a notice for
            self.told: dict[str, dict[str, int]] = {}  # out_trade_no -> refunds the rail told us of
            fleet = self.svc.fleet
            m = fleet.create_merchant(self.tenant, {"name": "书店", "phone": "13500002222"})
            self.plans = [
                fleet.create_plan(self.tenant, {"name": n, "term_months": k, "data_quota_mb": 100, "price_fen": p})
                for n, k, p in (("月卡", 1, 1500), ("季卡", 3, 4000), ("年卡", 12, 12000))
            ]
            self.start: dict[str, date] = {}
            for i, expires in enumerate(("2026-12-20", "2027-01-31", "2026-11-28")):
                t = fleet.register(self.tenant, terminal_body(merchant_id=m.merchant_id, expires_on=expires))
                self.start[t.sn] = t.expires_on
                del i
            self.sns = list(self.start)
            batch = self.svc.vouchers.create_batch(self.tenant, {"plan_id": self.plans[0].plan_id, "count": 30}, "t")
            self.codes: list[str] = list(batch["codes"])
            self.orders: list[str] = []
            self.events: list[bytes] = []  # every Stripe event made so far: delivered in any order, again and again
            self.paid_intents: dict[bytes, tuple[str, str]] = {}  # success event → (payment intent, order)
            self.delivered: set[tuple[str, str]] = set()
            self.echoed: dict[str, int] = {}  # payment intent → refunded total Stripe has made an event for
            self.told_refunded: dict[str, int] = {}  # payment intent → the most charge.refunded has said

        def _tick(self) -> None:
            self.clock.advance(timedelta(seconds=1))

        def _deliver(self, payload: bytes) -> None:
            if direct:
                self.svc.orders.handle_direct_webhook(rail_name, {"x-fake-signature": "ok"}, payload)
                return
            # Signed now (Stripe's tolerance is checked against the real time, not the test's clock).
            self.svc.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))

        def _echo(self) -> None:
            """Stripe sends charge.refunded after every refund, whoever made it; a direct rail a
            refund notice."""
            if direct:
                for otn, amount, out_refund_no in list(self.rail.refunds):
                    if out_refund_no not in self.echoed_refunds:
                        self.echoed_refunds.add(out_refund_no)
                        self.events.append(self.rail.refund_notice(otn, amount, out_refund_no))
                return
            for pi in self.gateway.intents:
                if self.gateway.refunded(pi) != self.echoed.get(pi, 0):
                    self.echoed[pi] = self.gateway.refunded(pi)
                    self.events.append(self.gateway.charge_refunded_event(pi))

        def teardown(self) -> None:
            self._echo()

        def _paid(self, payload: bytes, payment: str, order_id: str) -> None:
            """A success event made for `payment` of the order: kept to deliver, and known as paying it."""
            self.paid_intents[payload] = (payment, order_id)
            self.events.append(payload)

        def _order(self, index: int) -> Any:
            return self.svc.orders.get(self.tenant, self.orders[index % len(self.orders)])

        # --- what happens -------------------------------------------------------------------------
        @rule(t=st.integers(0, 2), p=st.integers(0, 2), online=st.booleans())
        def create_order(self, t: int, p: int, online: bool) -> None:
            self._tick()
            if direct and online:  # the pay page: straight to the agent's account on the rail
                self.clients += 1
                method = "wechat_pay" if rail_name == "wechatpay" else "alipay"
                client = ("desktop", "mobile")[self.clients % 2]
                body_p = {"sn": self.sns[t], "plan_id": self.plans[p].plan_id, "method": method, "client": client}
                try:
                    order, pay, _token = self.svc.orders.public_create(body_p, f"client-{self.clients}")
                except SimRenewError:
                    return
                assert pay["provider"] == rail_name
                if order.order_id not in self.orders:
                    self.orders.append(order.order_id)
                return
            body = {"lines": [{"sn": self.sns[t], "plan_id": self.plans[p].plan_id}]}
            body["payment"] = "online" if online else "offline"
            try:
                order, _pay = self.svc.orders.create(self.tenant, body, actor="test")
            except SimRenewError:
                return  # a risk limit: nothing was written
            self.orders.append(order.order_id)

        def _trade_of(self, order: Any) -> str | None:
            """The trade a direct-rail payment or refund is about: the one that paid, else the first."""
            if order.paid_ref and order.paid_ref[0] == rail_name:
                return str(order.paid_ref[1])
            return order.attempts[0].out_trade_no if order.attempts else None

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50))
        def merchant_pays(self, o: int) -> None:
            order = self._order(o)
            if direct:
                if order.attempts:
                    otn = order.attempts[0].out_trade_no
                    self._paid(self.rail.paid_notice(otn), otn, order.order_id)
                return
            if order.payment_intent_id:
                self._paid(
                    self.gateway.succeeded_event(order.payment_intent_id), order.payment_intent_id, order.order_id
                )

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50))
        def a_second_intent_is_paid(self, o: int) -> None:
            order = self._order(o)
            if direct:  # a second trade for the order (the other kind: QR and H5/WAP), paid too
                if not order.attempts or len(order.attempts) > 1:
                    return
                item = self.svc.orders.orders.item(self.tenant, order.order_id)
                tenant = self.svc.tenants.get(self.tenant)
                kind = order.attempts[0].kind
                client = "mobile" if kind in ("native", "precreate") else "desktop"
                pay = self.svc.orders.direct.prepay(
                    tenant, item, rail_name, client, client_ip="127.0.0.1", wx_code=None, sn=order.lines[0].sn
                )
                self._paid(self.rail.paid_notice(pay["out_trade_no"]), pay["out_trade_no"], order.order_id)
                return
            intent = self.gateway.create_intent(
                order_id=order.order_id,
                amount_fen=order.amount_fen,
                methods=["card"],
                connected_account=None,
                application_fee_fen=0,
                metadata={"order_id": order.order_id, "tenant_id": self.tenant},
            )
            self._paid(self.gateway.succeeded_event(intent.id), intent.id, order.order_id)

        @precondition(lambda self: self.events)
        @rule(e=st.integers(0, 200))
        def stripe_delivers(self, e: int) -> None:
            self._tick()
            payload = self.events[e % len(self.events)]
            try:
                self._deliver(payload)
            except SimRenewError as err:
                assert err.status >= 500, err  # only "try again later" (Stripe timed out on our refund)
                self._echo()
                return
            self._echo()  # a second payment is refunded while its event is handled
            if payload in self.paid_intents:
                self.delivered.add(self.paid_intents[payload])
            if direct:
                note = json.loads(payload)
                if note["kind"] == "refund":
                    amount = next(a for o_, a, k in self.rail.refunds if k == note["out_refund_no"])
                    self.told.setdefault(note["out_trade_no"], {})[note["out_refund_no"]] = amount
                return
            obj = json.loads(payload)["data"]["object"]
            if obj.get("object") == "charge":
                pi = obj["payment_intent"]
                self.told_refunded[pi] = max(self.told_refunded.get(pi, 0), obj["amount_refunded"])

        @precondition(lambda self: self.events)
        @rule(backwards=st.booleans())
        def stripe_redelivers_everything(self, backwards: bool) -> None:
            """Stripe's retries: every event again, newest first or oldest first."""
            for index in reversed(range(len(self.events))) if backwards else range(len(self.events)):
                self.stripe_delivers(index)

        @rule()
        def stripe_times_out_once(self) -> None:
            (self.rail if direct else self.gateway).refund_faults.append(ProviderUnavailable("timed out"))

        @rule()
        def stripes_answer_is_lost_once(self) -> None:
            """The refund is made at Stripe (or the rail), and the connection drops before its answer."""
            if direct:
                self.rail.lost_answers += 1
            else:
                self.gateway.lost_answers += 1

        @rule()
        def the_expiry_job_runs(self) -> None:
            """The 5-minute job: unpaid orders past their window expire; on a direct rail each trade
            is queried first (a payment whose notification was lost is applied) and closed."""
            if direct:
                self._tick()
                with contextlib.suppress(SimRenewError):
                    self.svc.orders.expire_due()

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50))
        def cash_is_marked_paid(self, o: int) -> None:
            self._tick()
            with contextlib.suppress(SimRenewError):
                self.svc.orders.mark_paid(self.tenant, self._order(o).order_id, {"note": "现金"}, "admin")

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50), amount=st.one_of(st.none(), st.integers(1, 13000)))
        def agent_refunds(self, o: int, amount: int | None) -> None:
            self._tick()
            body: dict[str, Any] = {"reason": "退费"}
            if amount is not None:
                body["amount_fen"] = amount
            with contextlib.suppress(SimRenewError):
                self.svc.orders.refund(self.tenant, self._order(o).order_id, body, "admin")
            self._echo()

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50))
        def three_refunds_at_once(self, o: int) -> None:
            self._tick()
            order_id = self._order(o).order_id

            def refund() -> Any:
                return self.svc.orders.refund(self.tenant, order_id, {"reason": "并发"}, "admin")

            results = at_once([refund] * 3)
            assert sum(1 for r in results if not isinstance(r, BaseException)) <= 1
            self._echo()

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50), amount=st.integers(1, 13000))
        def refunded_in_the_stripe_dashboard(self, o: int, amount: int) -> None:
            order = self._order(o)
            if direct:  # refunded on the rail's merchant platform
                from simrenew.adapters.payments import SubMerchant, TradeRef

                otn = self._trade_of(order)
                if otn is None or otn not in self.rail.trades:
                    return
                trade = TradeRef(self.tenant, otn, self.rail.trades[otn]["amount"], self.rail.trades[otn]["sub"])
                with contextlib.suppress(SimRenewError):
                    self.rail.refund(trade, SubMerchant(trade.sub_merchant), amount, f"mch{len(self.rail.refunds)}")
                self._echo()
                return
            pi = order.payment_intent_id
            if not pi:
                return
            with contextlib.suppress(SimRenewError):  # more than is left, nothing charged, a lost answer
                self.gateway.refund(pi, amount, f"dashboard-{len(self.gateway.refunds)}")
            self._echo()

        @precondition(lambda self: self.orders)
        @rule(o=st.integers(0, 50), percent=st.integers(1, 100))
        def refunded_before_the_success_is_delivered(self, o: int, percent: int) -> None:
            """Stripe's charge.refunded overtakes its payment_intent.succeeded."""
            order = self._order(o)
            if not (order.attempts if direct else order.payment_intent_id):
                return
            self.merchant_pays(o)
            events = len(self.events)
            self.refunded_in_the_stripe_dashboard(o, max(1, order.amount_fen * percent // 100))
            if len(self.events) > events:
                self.stripe_delivers(len(self.events) - 1)

        @precondition(lambda self: self.codes)
        @rule(t=st.integers(0, 2))
        def voucher_redeemed(self, t: int) -> None:
            self._tick()
            with contextlib.suppress(SimRenewError):
                self.svc.vouchers.redeem({"sn": self.sns[t], "code": self.codes.pop()}, "client-1")

        @rule(a=st.integers(0, 2), b=st.integers(0, 2), months=st.integers(1, 14))
        def time_is_transferred(self, a: int, b: int, months: int) -> None:
            """转赠: whole unused months move from one terminal to another."""
            self._tick()
            body = {"to_sn": self.sns[b], "months": months, "reason": "转赠"}
            with contextlib.suppress(SimRenewError):
                self.svc.transfers.transfer_time(self.tenant, self.sns[a], body, "admin")

        @rule(days=st.sampled_from([1, 9, 31, 95]))
        def time_passes(self, days: int) -> None:
            self.clock.advance(timedelta(days=days))

        # --- what always holds ------------------------------------------------------------------------
        def _refunded(self, ref: str) -> int:
            return self.rail.refunded(ref) if direct else self.gateway.refunded(ref)

        @invariant()
        def refunds_never_exceed_what_was_paid(self) -> None:
            for order_id in self.orders:
                item = self.svc.orders.orders.item(self.tenant, order_id)
                order = to_order(item)
                succeeded = sum(r.amount_fen for r in order.refunds if r.status == REFUND_SUCCEEDED)
                assert order.refunded_fen == succeeded, order.refunds
                assert 0 <= order.refunded_fen + order.reserved_fen <= order.paid_fen, order
                if order.paid_via and order.paid_via.startswith(f"{rail_name}:"):
                    pi = order.paid_via.removeprefix(f"{rail_name}:")
                    # Nothing is counted as refunded that Stripe (the rail) did not refund.
                    assert order.refunded_fen <= self._refunded(pi)
                for dup in order.duplicate_payments:
                    assert dup.payment_intent_id != (order.paid_via or "").split(":", 1)[-1]
                    if dup.status == "refunded":
                        assert self._refunded(dup.payment_intent_id) >= dup.amount_fen
                renewals = [
                    r
                    for sn in self.sns
                    for r in self.svc.orders.orders.renewals(self.tenant, sn)
                    if r.source == order_id
                ]
                assert len(renewals) <= len(order.lines)  # extended at most once

        @invariant()
        def each_expiry_is_its_start_plus_its_ledger(self) -> None:
            for sn in self.sns:
                expiry = self.start[sn].isoformat()
                for line in self.svc.orders.orders.renewals(self.tenant, sn):
                    assert line.old_expires_on == expiry, (sn, line.entry, line.source)
                    expiry = line.new_expiry
                assert self.svc.fleet.get(self.tenant, sn).expires_on.isoformat() == expiry

        @invariant()
        def every_payment_pays_its_order_or_is_returned(self) -> None:
            for pi, order_id in self.delivered:
                order = to_order(self.svc.orders.orders.item(self.tenant, order_id))
                if order.paid_via == f"{rail_name}:{pi}":
                    continue
                dup = order.duplicate(pi)
                assert dup is not None, (pi, order)
                if dup.status == "refunded":
                    assert self._refunded(pi) == dup.amount_fen

        @invariant()
        def every_refund_stripe_told_us_of_is_counted(self) -> None:
            if direct:
                for order_id in self.orders:
                    order = to_order(self.svc.orders.orders.item(self.tenant, order_id))
                    otn = self._trade_of(order)
                    if otn is None or order.status.value == "needs_review" or otn not in self.told:
                        continue
                    told = sum(self.told[otn].values())
                    if order.paid_via == f"{rail_name}:{otn}":
                        assert order.refunded_fen + order.reserved_fen >= told, order
                    elif order.paid_via is None:
                        assert order.early_refunded_fen >= told, order
                return
            for order_id in self.orders:
                order = to_order(self.svc.orders.orders.item(self.tenant, order_id))
                pi = order.payment_intent_id
                if pi is None or pi not in self.told_refunded or order.status.value == "needs_review":
                    continue
                if order.paid_via == f"stripe:{pi}":
                    assert order.refunded_fen + order.reserved_fen >= self.told_refunded[pi], order
                elif order.paid_via is None:
                    assert order.early_refunded_fen >= self.told_refunded[pi], order

        @invariant()
        def stripe_never_refunds_more_than_it_took(self) -> None:
            for pi, data in self.gateway.intents.items():
                assert self.gateway.refunded(pi) <= data.get("amount_received", 0)
            for otn, trade in self.rail.trades.items():
                assert self.rail.refunded(otn) <= trade["received"]

    return Books


@pytest.mark.integration
@pytest.mark.parametrize("rail", ["stripe", "wechatpay", "alipay"])
def test_the_books_add_up_in_any_order(make_services: Any, rail: str) -> None:
    machine = books_machine(make_services, rail)
    machine.TestCase.settings = settings(
        max_examples=12,
        stateful_step_count=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
