"""Payments on the direct rails of mainland China (WeChat Pay as 服务商, Alipay as ISV): the trade
opened for an order (Native/precreate QR, H5/WAP, JSAPI), the verified notifications that alone
fulfil it, refund notifications, and the trades of unpaid orders queried and closed at expiry.

The money rules are the Stripe path's, through the same services: one fulfilment per order in one
transaction (the notification's record in it), a second payment returned, refunds bounded by what
was paid. A notification is recorded by what it says (`Notice.key`), so a copy or a redelivery,
however many at once, is applied once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simrenew.clock import iso_utc
from simrenew.domain.orders import PAYABLE, UNPAID, Order, OrderStatus, PaymentAttempt, StatusMove
from simrenew.domain.tenant import Tenant
from simrenew.errors import ProviderUnavailable, RuleViolation, SimRenewError, ValidationError
from simrenew.log import get_logger
from simrenew.ports.payments import CLIENTS, RAIL_OF_METHOD, WECHATPAY, Notice, Prepay, Rails, SubMerchant, Trade
from simrenew.services.lookups import order_item_or_404
from simrenew.services.notices import C, PaymentNotices, S

PAID_STATES = frozenset({OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})
# client → the trade kind on each rail
KINDS = {
    WECHATPAY: {"desktop": "native", "mobile": "h5", "wechat": "jsapi"},
    "alipay": {"desktop": "precreate", "mobile": "wap", "wechat": "precreate"},
}
SUFFIX = {"native": "wn", "h5": "wh", "jsapi": "wj", "precreate": "aq", "wap": "aw"}


def out_trade_no(order_id: str, kind: str) -> str:
    """One trade per order and kind: letters, digits and `_` (both rails accept it), at most 32."""
    return f"{order_id}_{SUFFIX[kind]}"


def paid_notice(attempt: PaymentAttempt, trade: Trade) -> Notice:
    """What the notification of a trade the rail reports paid says (its key: applied once)."""
    success = "SUCCESS" if attempt.provider == WECHATPAY else "TRADE_SUCCESS"
    return Notice(
        attempt.provider,
        f"{attempt.provider}:{attempt.out_trade_no}:{success}",
        "payment",
        attempt.out_trade_no,
        attempt.sub_merchant,
        "paid",
        amount_fen=trade.amount_fen,
        currency=trade.currency,
    )


@dataclass(eq=False, repr=False)
class DirectPaymentService(PaymentNotices[S, C]):
    _rails: Rails
    _base: str  # the public base URL
    _qr_svg: Callable[[str], str]  # a QR code of a text as an SVG data: URI (the desktop payer scans code_url)

    def rail_for(self, tenant: Tenant, method: str) -> str | None:
        """The direct rail `method` goes to for this agent (onboarded there, rail configured)."""
        rail = tenant.direct_rail(method)
        return rail if rail is not None and self._rails.has(rail) else None

    def wechat_oauth_url(self, tenant: Tenant) -> str | None:
        """For the pay page inside WeChat: the OAuth address that gives the payer's openid (JSAPI)."""
        if self.rail_for(tenant, "wechat_pay") is None:
            return None
        try:
            url: str | None = self._rails.get(WECHATPAY).oauth_url()  # type: ignore[attr-defined]
        except (AttributeError, SimRenewError):
            return None
        return url

    # --- opening the trade -------------------------------------------------------------------------------
    def prepay(
        self,
        tenant: Tenant,
        item: S,
        rail: str,
        client: str,
        *,
        client_ip: str,
        wx_code: str | None,
        sn: str,
    ) -> dict[str, Any]:
        """The trade for this order on `rail`, recorded on the order before the rail is asked (its
        notification then always finds the order); asking again gives the same trade."""
        if client not in CLIENTS:
            raise ValidationError("client", "invalid_choice", "client must be desktop, mobile or wechat")
        kind = KINDS[rail][client]
        sub_id = tenant.sub_merchant_of(rail)
        assert sub_id is not None
        order = self._orders.order(item)
        otn = out_trade_no(order.order_id, kind)
        openid = None
        gateway = self._rails.get(rail)
        if kind == "jsapi":
            if not wx_code:
                raise ValidationError("wx_code", "required", "paying inside WeChat needs wx_code (the OAuth code)")
            openid = gateway.openid(wx_code)  # type: ignore[attr-defined]
        now = self._clock.now()
        self._orders.attach_attempt(item, PaymentAttempt(rail, otn, kind, sub_id, iso_utc(now)), now)
        line = order.lines[0]
        charge = gateway.prepay(
            Prepay(
                out_trade_no=otn,
                amount_fen=order.amount_fen,
                description=f"{tenant.name[:40]} 流量卡续费 {line.sn} {line.plan_name}"[:120],
                sub=self._rails.sub(rail, tenant.tenant_id, sub_id),
                kind=kind,
                expires_at=datetime.fromisoformat(order.expires_at.replace("Z", "+00:00")),
                client_ip=client_ip,
                openid=openid,
                return_url=f"{self._base}/pay/{sn}?paid={otn}",
            )
        )
        answer = charge.to_json()
        if charge.code_url:
            answer["qr_svg"] = self._qr_svg(charge.code_url)
        return answer

    # --- notifications --------------------------------------------------------------------------------
    def handle(self, rail: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """A notification from `rail`: verified first (AuthenticationError, 401, writes nothing)."""
        if not self._rails.has(rail):
            raise RuleViolation(f"{rail} is not configured here", code="rail_not_configured")
        notice = self._rails.get(rail).verify_notification(headers, body)
        if self._orders.event_seen(notice.key):
            return {"received": True, "duplicate": True}
        outcome = self.apply(notice)
        if outcome in ("order_state", "ignored", "ignored_malformed", "ignored_sub_merchant"):
            self._orders.record_event(notice.key, f"{rail}.{notice.kind}", outcome, self._clock.now())
        return {"received": True, "outcome": outcome}

    def apply(self, notice: Notice) -> str:
        item = self._orders.by_intent(notice.out_trade_no)
        if item is None:
            return "ignored"
        order = self._orders.order(item)
        attempt = order.attempt(notice.out_trade_no)
        if attempt is None or attempt.provider != notice.provider:
            return "ignored"
        if notice.sub_merchant != attempt.sub_merchant:
            # Signed by the rail, but the money went to another sub-merchant: not this agent's payment.
            get_logger().warning(
                "direct payment for another sub-merchant",
                extra={"order_id": order.order_id, "provider": notice.provider},
            )
            return "ignored_sub_merchant"
        ref = (notice.key, f"{notice.provider}.{notice.kind}")
        if notice.kind == "refund":
            return self._refund_notice(item, order, notice, ref)
        if notice.state == "paid":
            return self._paid(item, order, notice, ref)
        return "ignored"  # closed or failed: the order expires on its own clock

    def _paid(self, item: S, order: Order, notice: Notice, ref: tuple[str, str]) -> str:
        via = f"{notice.provider}:{notice.out_trade_no}"
        if notice.amount_fen is None:
            return "ignored_malformed"
        if order.paid_via == via:
            return "order_state"  # this very payment already applied
        if order.paid_via is not None or order.status in PAID_STATES:
            return self._refunds.return_duplicate(
                item, notice.out_trade_no, notice.amount_fen, notice.currency, ref, provider=notice.provider
            )
        amount_fen, currency = self._orders.charged(item)
        if notice.amount_fen != amount_fen or notice.currency != currency:
            return self._fulfilment.review(
                item,
                ref,
                f"paid {notice.amount_fen} {notice.currency}, order is {amount_fen} {currency}",
                via,
                notice.amount_fen,
            )
        return self._fulfilment.fulfil(
            item,
            ref,
            {"action": "paid", "via": notice.provider, "event": ref[0], "at": iso_utc(self._clock.now())},
            paid_via=via,
            paid_fen=notice.amount_fen,
        )

    def _refund_notice(self, item: S, order: Order, notice: Notice, ref: tuple[str, str]) -> str:
        """A refund the rail reports: ours (reserved: confirmed now; confirmed: nothing to do), one
        that failed after all, or one made on the rail's merchant platform (booked here)."""
        out_refund_no = notice.out_refund_no or ""
        entry = next((r for r in order.refunds if r.refund_id == out_refund_no), None)
        if notice.state == "failed":
            if entry is not None and entry.provider_refund_id:
                return self._refunds.refund_failed(item, entry.provider_refund_id, ref)
            return "ignored"
        if entry is not None:
            if entry.status == "reserved":
                self._refunds.confirm_reserved(
                    order.tenant_id, order.order_id, entry.refund_id, notice.provider_refund_id
                )
            return "order_state"
        dup = order.duplicate(notice.out_trade_no)
        if dup is not None:
            return "order_state"  # the return of a second payment: recorded when it was made
        if order.paid_via != f"{notice.provider}:{notice.out_trade_no}" and order.paid_via is not None:
            return "ignored"
        if notice.refunded_total_fen is not None:
            total = notice.refunded_total_fen  # Alipay: all refunds of the trade so far
        elif notice.refund_fen is not None and order.paid_via is None:
            total = order.early_refunded_fen + notice.refund_fen  # before the payment's notice: kept for it
        elif notice.refund_fen is not None:
            total = order.refunded_fen + order.reserved_fen + notice.refund_fen  # one refund we did not make
        else:
            return "ignored_malformed"
        return self._refunds.from_charge(item, notice.out_trade_no, total, ref)

    def paid_online_meanwhile(self, tenant_id: str, order_id: str) -> bool:
        """Before cash is taken for an order (404 if it is not the agent's): whether one of its trades
        was paid on the rail meanwhile (that payment is applied now)."""
        item = order_item_or_404(self._orders, tenant_id, order_id)
        return bool(self._orders.order(item).attempts) and self.settle_attempts(item, None)

    # --- expiry: what the rail says about an order nobody heard back about -----------------------------------
    def settle_attempts(self, item: S, tenant_of: Any) -> bool:
        """Each trade of an unpaid order is queried: a paid one is applied as its notification would
        be (the notification was lost), an open one is closed. True when one was paid."""
        order = self._orders.order(item)
        paid = False
        for attempt in order.attempts:
            if not self._rails.has(attempt.provider):
                continue
            gateway = self._rails.get(attempt.provider)
            sub = self._sub(order.tenant_id, attempt, tenant_of)
            try:
                trade = gateway.query(attempt.out_trade_no, sub)
                if trade.state == "paid" and trade.amount_fen is not None:
                    notice = paid_notice(attempt, trade)
                    if not self._orders.event_seen(notice.key):
                        fresh = self._orders.item(order.tenant_id, order.order_id) or item
                        self.apply_with(fresh, notice)
                    paid = True
                elif trade.state == "open":
                    gateway.close(attempt.out_trade_no, sub)
            except (ProviderUnavailable, SimRenewError) as exc:
                get_logger().warning(
                    "could not query or close a trade at expiry",
                    extra={"order_id": order.order_id, "out_trade_no": attempt.out_trade_no, "error": exc.message},
                )
        return paid

    def check_attempts(self, item: S) -> None:
        """What the rail says now about an unpaid order's trades: paid → applied (as its notification
        would be); every trade failed or closed → the order failed (it stays payable)."""
        order = self._orders.order(item)
        if not order.attempts:
            return
        states = []
        for attempt in order.attempts:
            if not self._rails.has(attempt.provider):
                continue
            sub = self._rails.sub(attempt.provider, order.tenant_id, attempt.sub_merchant)
            try:
                trade = self._rails.get(attempt.provider).query(attempt.out_trade_no, sub)
            except SimRenewError:
                return
            states.append(trade.state)
            if trade.state == "paid" and trade.amount_fen is not None:
                notice = paid_notice(attempt, trade)
                if not self._orders.event_seen(notice.key):
                    self.apply_with(self._orders.item(order.tenant_id, order.order_id) or item, notice)
                return
        if states and all(s in ("failed", "closed") for s in states):
            now = self._clock.now()
            audit = {"action": "payment_failed", "via": order.attempts[0].provider, "at": iso_utc(now)}
            self._orders.transition(item, StatusMove(OrderStatus.FAILED, UNPAID, audit), now)

    def apply_with(self, item: S, notice: Notice) -> str:
        order = self._orders.order(item)
        return self._paid(item, order, notice, (notice.key, f"{notice.provider}.payment"))

    def _sub(self, tenant_id: str, attempt: PaymentAttempt, tenant_of: Any) -> SubMerchant:
        return self._rails.sub(attempt.provider, tenant_id, attempt.sub_merchant)

    def open_attempts(self, item: S) -> list[PaymentAttempt]:
        order = self._orders.order(item)
        return list(order.attempts) if order.status in PAYABLE else []


def rail_of(method: str) -> str | None:
    return RAIL_OF_METHOD.get(method)
