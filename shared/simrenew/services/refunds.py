"""Refunds that cannot double: an agent's refund is reserved on the order by a conditional
write before Stripe is asked (with an idempotency key derived from the reservation), then
confirmed with the terminals, the ledger and the merchant's notice in one transaction. Refunds
made in Stripe's dashboard, refunds that later fail, and the automatic return of a second
payment for an order already paid land here too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simrenew.clock import iso_utc, today_in
from simrenew.domain.orders import (
    REFUND_FAILED,
    REFUND_RESERVED,
    REFUND_SUCCEEDED,
    REFUNDABLE,
    DuplicatePayment,
    Order,
    OrderStatus,
    RefundEntry,
    allocate_refund,
    order_event_data,
)
from simrenew.errors import Conflict, ProviderUnavailable, RuleViolation, TransientStoreError, ValidationError
from simrenew.ids import new_id
from simrenew.ports.fulfilment import AgentEvent, OrderChange
from simrenew.ports.payments import Rails, TradeRef
from simrenew.ports.transfers import TerminalNotice
from simrenew.services.fulfilment import APPLY_ATTEMPTS, C, OrderStoreService, S, T, ledger_entry
from simrenew.services.ledger import Changes, refund_lines
from simrenew.services.lookups import order_item_or_404, tenant_or_404

ALL_STATUSES = frozenset(OrderStatus)
# A reservation older than this was left by a caller that died before confirming it; the next
# refund of the order finishes it first (Stripe's idempotency key makes asking again safe).
STALE_RESERVATION = timedelta(minutes=2)


def _paid_ref(order: Order) -> str | None:
    """The reference of the payment that paid the order, on any rail (None: cash or unpaid)."""
    paid = order.paid_ref
    return paid[1] if paid else None


def _answer(outcome: str, applied: str) -> str | None:
    """A handler's answer to what applying its change said: `applied` once written, the repeat of an
    event as itself; None when the order changed meanwhile (read it again and retry)."""
    if outcome == "ok":
        return applied
    return outcome if outcome == "duplicate_event" else None


def _status_after_refund(order: Order) -> OrderStatus:
    if order.status is OrderStatus.NEEDS_REVIEW:
        return order.status
    return OrderStatus.REFUNDED if order.refunded_fen >= order.paid_fen else OrderStatus.PARTIALLY_REFUNDED


@dataclass(eq=False, repr=False)
class RefundService(OrderStoreService[S, T, C]):
    _rails: Rails | None = None  # PaymentRails: WeChat Pay and Alipay, where configured

    def _rail_refund(self, order: Order, provider: str, ref: str, total_fen: int, amount_fen: int, key: str) -> str:
        """A refund on a direct rail, with `key` as its out_refund_no (the same key, the same refund)."""
        attempt = order.attempt(ref)
        if self._rails is None or attempt is None or not self._rails.has(provider):
            raise RuleViolation(f"the {provider} trade {ref} is not known here", code="refund_rejected")
        sub = self._rails.sub(provider, order.tenant_id, attempt.sub_merchant)
        trade = TradeRef(order.tenant_id, ref, total_fen, attempt.sub_merchant)
        provider_id: str = self._rails.get(provider).refund(trade, sub, amount_fen, key)
        return provider_id

    def _today(self, tenant_id: str) -> Any:
        return today_in(self._clock, tenant_or_404(self._tenants, tenant_id).settings.timezone)

    def _item(self, tenant_id: str, order_id: str) -> S:
        return order_item_or_404(self._orders, tenant_id, order_id)

    def _order(self, tenant_id: str, order_id: str) -> Order:
        return self._orders.as_order(self._item(tenant_id, order_id))

    # --- the agent's refund ----------------------------------------------------------------------------
    def refund(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValidationError("reason", "required", "reason is required (up to 500 characters)")
        if "amount_fen" in body:
            raw = body["amount_fen"]
            if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
                raise ValidationError(
                    "amount_fen", "invalid_amount", "amount_fen must be a positive whole number of fen"
                )
        item = self._item(tenant_id, order_id)
        self._finish_stale(item)
        item = self._item(tenant_id, order_id)
        order = self._orders.as_order(item)
        if order.status not in REFUNDABLE:
            raise Conflict(f"the order is {order.status.value}: nothing to refund", code="order_not_refundable")
        held = order.open_refund()
        if held is not None:
            raise Conflict(
                f"a refund of {held.amount_fen} fen is being made; look again in a minute", code="refund_in_progress"
            )
        refundable = order.refundable_fen(self._today(tenant_id))
        amount = body.get("amount_fen", refundable)
        if refundable <= 0 or amount > refundable:
            raise RuleViolation(
                f"at most {refundable} fen can be refunded now (paid {order.paid_fen}, refunded {order.refunded_fen})",
                code="refund_too_large",
                field="amount_fen",
            )
        now = self._clock.now()
        entry = RefundEntry(new_id("rf"), amount, REFUND_RESERVED, "agent", iso_utc(now), reason.strip(), actor)
        order.refunds.append(entry)
        order.reserved_fen += amount
        if self._orders.apply(item, order, REFUNDABLE, now) != "ok":
            # Another refund (or a Stripe event) changed the order at the same moment.
            raise Conflict(
                "another change to this order is being made; look again in a minute", code="refund_in_progress"
            )
        self._send(tenant_id, order_id, entry)
        return self._order(tenant_id, order_id)

    def _send(self, tenant_id: str, order_id: str, entry: RefundEntry) -> None:
        """Ask the provider (cash goes back by hand: nothing to ask), then confirm or release."""
        order = self._order(tenant_id, order_id)
        paid = order.paid_ref
        provider_id = None
        if paid is not None:
            provider, ref = paid
            try:
                if provider == "stripe":
                    provider_id = self._gateway.refund(ref, entry.amount_fen, f"refund-{entry.refund_id}")
                else:  # out_refund_no = the reservation's id: asking again is the same refund
                    provider_id = self._rail_refund(
                        order, provider, ref, order.paid_fen, entry.amount_fen, entry.refund_id
                    )
            except (RuleViolation, ValidationError) as exc:
                self._release(tenant_id, order_id, entry.refund_id, exc.message)
                raise RuleViolation(
                    f"the payment provider refused the refund: {exc.message}", code="refund_rejected"
                ) from None
            except ProviderUnavailable:
                # Unknown whether Stripe made it: the reservation stays (Stripe's charge.refunded
                # echo changes nothing meanwhile) and the next refund of this order finishes it
                # with the same idempotency key once it is STALE_RESERVATION old.
                raise ProviderUnavailable(
                    "Stripe did not answer; the refund is held and will be completed, look again in a minute"
                ) from None
        self._confirm(tenant_id, order_id, entry.refund_id, provider_id)

    def _finish_stale(self, item: S) -> None:
        order = self._orders.as_order(item)
        entry = order.open_refund()
        if entry is None:
            return
        if self._clock.now() - datetime.fromisoformat(entry.created_at.replace("Z", "+00:00")) < STALE_RESERVATION:
            return
        self._send(order.tenant_id, order.order_id, entry)

    def _release(self, tenant_id: str, order_id: str, refund_id: str, why: str) -> None:
        for _attempt in range(APPLY_ATTEMPTS):
            item = self._item(tenant_id, order_id)
            order = self._orders.as_order(item)
            entry = next((r for r in order.refunds if r.refund_id == refund_id), None)
            if entry is None or entry.status != REFUND_RESERVED:
                return
            entry.status = REFUND_FAILED
            order.reserved_fen -= entry.amount_fen
            order.audit.append(
                {"action": "refund_failed", "refund_id": refund_id, "reason": why, "at": iso_utc(self._clock.now())}
            )
            if self._orders.apply(item, order, ALL_STATUSES, self._clock.now()) == "ok":
                return
        raise TransientStoreError("could not release the refund; retry")

    def confirm_reserved(self, tenant_id: str, order_id: str, refund_id: str, provider_id: str | None) -> None:
        """A held reservation the rail reports as made (its answer was lost): confirmed once."""
        self._confirm(tenant_id, order_id, refund_id, provider_id)

    def _confirm(self, tenant_id: str, order_id: str, refund_id: str, provider_id: str | None) -> None:
        today = self._today(tenant_id)
        for _attempt in range(APPLY_ATTEMPTS):
            item = self._item(tenant_id, order_id)
            order = self._orders.as_order(item)
            entry = next((r for r in order.refunds if r.refund_id == refund_id), None)
            if entry is None or entry.status != REFUND_RESERVED:
                return  # confirmed by a concurrent finisher
            now = self._clock.now()
            entry.status, entry.provider_refund_id = REFUND_SUCCEEDED, provider_id
            order.reserved_fen -= entry.amount_fen
            change = self._book(order, entry, today, now)
            order.audit.append(
                {
                    "action": "refund",
                    "by": entry.by,
                    "reason": entry.reason,
                    "amount_fen": entry.amount_fen,
                    "refund_id": refund_id,
                    "at": iso_utc(now),
                }
            )
            outcome = self._orders.apply(item, order, ALL_STATUSES, now, change)
            if outcome == "ok":
                return
        raise TransientStoreError("the order kept changing; the refund is held and will be completed")

    def _book(self, order: Order, entry: RefundEntry, today: Any, now: datetime) -> OrderChange[T]:
        """Money and time of one refund: the order's totals, the terminals' new expiry, the
        ledger lines and the merchant's notice, for one transaction."""
        shares = allocate_refund(order.lines, entry.amount_fen, today)
        loaded = self._terminals.get_many(order.tenant_id, [order.lines[s.index].sn for s in shares])
        changes: Changes[T] = {sn: (t, self._orders.as_terminal(t)) for sn, t in loaded.items()}
        change: OrderChange[T] = OrderChange(
            lines=refund_lines(order, shares, changes, today, now, entry.refund_id, ledger_entry)
        )
        entry.months = sum(s.months for s in shares)
        order.refunded_fen += entry.amount_fen
        order.status = _status_after_refund(order)
        for sn, (_t_item, terminal) in changes.items():
            change.notices.append(
                TerminalNotice(
                    terminal,
                    f"refund#{entry.refund_id}",
                    terminal.expires_on.isoformat(),
                    {
                        "order_id": order.order_id,
                        "amount_fen": sum(s.amount_fen for s in shares if order.lines[s.index].sn == sn),
                        "expires_on": terminal.expires_on.isoformat(),
                    },
                )
            )
        change.events.append(
            AgentEvent("order.refunded", order_event_data(order), f"{order.order_id}:{entry.refund_id}")
        )
        change.terminals = list(changes.values())
        return change

    # --- what Stripe tells us ------------------------------------------------------------------------------
    def _until_applied(self, item: S, attempt: Callable[[S, Order], str | None]) -> str:
        """`attempt` on the order as stored until it answers; None: the order changed meanwhile, so
        it is read again (gone: "order_state"). Still changing after APPLY_ATTEMPTS: 5xx, Stripe
        redelivers the event."""
        current: S | None = item
        for _attempt in range(APPLY_ATTEMPTS):
            if current is None:
                return "order_state"
            order = self._orders.as_order(current)
            answer = attempt(current, order)
            if answer is not None:
                return answer
            current = self._orders.item(order.tenant_id, order.order_id)
        if current is None:
            return "order_state"
        raise TransientStoreError("the order kept changing; Stripe will redeliver")

    def from_charge(self, item: S, payment_intent_id: str, amount_refunded: int, ref: tuple[str, str]) -> str:
        """`charge.refunded` carries the charge's cumulative refunded amount: whatever is more than
        this order already knows (refunded or on its way) was refunded in Stripe's dashboard."""

        def attempt(item: S, order: Order) -> str | None:
            now = self._clock.now()
            dup = order.duplicate(payment_intent_id)
            if dup is not None:
                return self._duplicate_seen(item, dup.payment_intent_id, ref)
            if order.paid_via is None:
                if amount_refunded <= order.early_refunded_fen:
                    return "order_state"
                # Delivered before the payment's success: kept, and applied when it arrives.
                order.early_refunded_fen = amount_refunded
                outcome = self._orders.apply(item, order, ALL_STATUSES, now, event=ref, event_outcome="held_until_paid")
                return _answer(outcome, "held_until_paid")
            if _paid_ref(order) != payment_intent_id:
                return "ignored"
            new = amount_refunded - order.refunded_fen - order.reserved_fen
            if new <= 0:
                return "order_state"
            today = self._today(order.tenant_id)
            entry = RefundEntry(
                new_id("rf"), new, REFUND_SUCCEEDED, "stripe", iso_utc(now), "refunded in the Stripe dashboard"
            )
            order.refunds.append(entry)
            change = self._book(order, entry, today, now)
            order.audit.append({"action": "refund", "via": "stripe", "amount_fen": new, "at": iso_utc(now)})
            return _answer(self._orders.apply(item, order, ALL_STATUSES, now, change, event=ref), "refunded")

        return self._until_applied(item, attempt)

    def refund_failed(self, item: S, provider_refund_id: str, ref: tuple[str, str]) -> str:
        """`refund.updated` to failed or canceled: the merchant did not get the money back. The
        amount counts as paid again and the order waits for the agent (the time taken back stays
        off until the agent decides: refund again or restore it by hand)."""

        def attempt(item: S, order: Order) -> str | None:
            now = self._clock.now()
            entry = next((r for r in order.refunds if r.provider_refund_id == provider_refund_id), None)
            if entry is None or entry.status != REFUND_SUCCEEDED:
                return "order_state"
            entry.status = REFUND_FAILED
            order.refunded_fen -= entry.amount_fen
            order.status = OrderStatus.NEEDS_REVIEW
            order.audit.append(
                {
                    "action": "needs_review",
                    "reason": f"refund {provider_refund_id} of {entry.amount_fen} fen failed at Stripe",
                    "at": iso_utc(now),
                }
            )
            outcome = self._orders.apply(item, order, ALL_STATUSES, now, event=ref, event_outcome="refund_failed")
            return _answer(outcome, "refund_failed")

        return self._until_applied(item, attempt)

    # --- a second payment for an order already paid -----------------------------------------------------
    def return_duplicate(
        self,
        item: S,
        payment_intent_id: str,
        amount_fen: int,
        currency: str,
        ref: tuple[str, str],
        provider: str = "stripe",
    ) -> str:
        """Record the extra payment on the order, refund it in full (idempotent per payment
        intent: a redelivery asks Stripe again with the same key and gets the same refund), then
        mark it refunded together with the event. A failure in between answers 5xx: Stripe
        redelivers the event and this completes it."""
        for _attempt in range(APPLY_ATTEMPTS):
            order = self._orders.as_order(item)
            if order.duplicate(payment_intent_id) is not None:
                break
            order.duplicate_payments.append(
                DuplicatePayment(
                    payment_intent_id, amount_fen, currency, "refunding", iso_utc(self._clock.now()), provider=provider
                )
            )
            if self._orders.apply(item, order, ALL_STATUSES, self._clock.now()) == "ok":
                break
            fresh = self._orders.item(order.tenant_id, order.order_id)
            if fresh is None:
                return "order_state"
            item = fresh
        else:
            raise TransientStoreError("the order kept changing; Stripe will redeliver")
        dup = self._order(order.tenant_id, order.order_id).duplicate(payment_intent_id)
        assert dup is not None
        provider_id = dup.provider_refund_id
        if dup.status == "refunding" and amount_fen > 0:
            try:
                if dup.provider == "stripe":
                    provider_id = self._gateway.refund(
                        payment_intent_id, dup.amount_fen, f"duplicate-{payment_intent_id}"
                    )
                else:
                    order = self._order(order.tenant_id, order.order_id)
                    provider_id = self._rail_refund(
                        order,
                        dup.provider,
                        payment_intent_id,
                        dup.amount_fen,
                        dup.amount_fen,
                        f"dup_{payment_intent_id}",
                    )
            except RuleViolation as exc:
                # Stripe will not return it (already refunded there, disputed…): the agent must act.
                return self._duplicate_seen(item, payment_intent_id, ref, None, failed=exc.message)
        return self._duplicate_seen(item, payment_intent_id, ref, provider_id)

    def _duplicate_seen(
        self,
        item: S,
        payment_intent_id: str,
        ref: tuple[str, str],
        provider_id: str | None = None,
        failed: str | None = None,
    ) -> str:
        known = self._orders.as_order(item)
        for _attempt in range(APPLY_ATTEMPTS):
            item = self._item(known.tenant_id, known.order_id)
            order = self._orders.as_order(item)
            dup = order.duplicate(payment_intent_id)
            if dup is None:
                return "order_state"
            newly = dup.status == "refunding"
            now = self._clock.now()
            if newly:
                dup.status = "refund_failed" if failed else "refunded"
                dup.provider_refund_id = provider_id or dup.provider_refund_id
                order.audit.append(
                    {
                        "action": "duplicate_payment_refund_failed" if failed else "duplicate_payment_refunded",
                        "payment_intent_id": payment_intent_id,
                        "amount_fen": dup.amount_fen,
                        **({"reason": failed} if failed else {}),
                        "at": iso_utc(now),
                    }
                )
            told: OrderChange[T] = OrderChange()
            if newly:
                told.events.append(
                    AgentEvent(
                        "order.refunded",
                        {**order_event_data(order), "duplicate_payment_intent_id": payment_intent_id},
                        f"{order.order_id}:duplicate:{payment_intent_id}",
                    )
                )
            outcome = self._orders.apply(
                item, order, ALL_STATUSES, now, told, event=ref, event_outcome="duplicate_payment"
            )
            if outcome == "ok":
                return "duplicate_payment_refund_failed" if failed else "duplicate_payment_refunded"
            if outcome == "duplicate_event":
                return outcome
        raise TransientStoreError("the order kept changing; Stripe will redeliver")
