"""Stripe events, in any order and at least once: each verified event is applied once (its id
is recorded in the same transaction as what it changes), what an early event says (a refund or
a dispute delivered before the payment's success) is kept until the order can take it, and a
malformed but signed event is acknowledged and recorded, never a 500."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simrenew.clock import iso_utc
from simrenew.domain.orders import MAX_LINES, PAYABLE, REFUNDABLE, UNPAID, OrderStatus, StatusMove
from simrenew.ports.payment_events import IntentLookup
from simrenew.ports.payments import PaymentGateway
from simrenew.services.notices import C, PaymentNotices, S
from simrenew.services.refunds import ALL_STATUSES

PAID_STATES = frozenset({OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})


def _str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return value if isinstance(value, str) and value else None


def _intent_of(event_type: str, obj: Any) -> tuple[str | None, str]:
    """(the PaymentIntent an event is about, ""), or (None, why it is not applied: "ignored" for
    an event about none of our payments, "ignored_malformed" for one that should name it and does not)."""
    if not isinstance(obj, dict):
        return None, "ignored_malformed"
    if event_type.startswith("payment_intent."):
        pi = _str(obj, "id")
    elif event_type.startswith(("charge.", "refund.")):
        pi = _str(obj, "payment_intent")
    else:
        return None, "ignored"
    return (pi, "") if pi is not None else (None, "ignored_malformed")


def _named_payment(event_type: str, obj: dict[str, Any]) -> tuple[str, str, tuple[str, ...]] | None:
    """(tenant, order, SNs) from the metadata we gave the PaymentIntent of a succeeded payment
    (checkout.intent_metadata), which Stripe sends with it; None for any other event, or a
    PaymentIntent without them (one created before the SNs were written there). The order read
    is the tenant's own (its key), and what is renewed is its own lines, whatever the SNs say."""
    named = _our_order(obj) if event_type == "payment_intent.succeeded" else None
    sns = obj["metadata"].get("sns") if named else None
    if named is None or not isinstance(sns, str) or not sns:
        return None
    return *named, tuple(sn for sn in sns.split(",")[:MAX_LINES] if sn)


def _our_order(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(tenant, order) from the metadata we gave a PaymentIntent (checkout.intent_metadata); None
    when it carries none, or not in our shape."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return None
    tenant_id, order_id = metadata.get("tenant_id"), metadata.get("order_id")
    if not (isinstance(tenant_id, str) and tenant_id and isinstance(order_id, str) and order_id.startswith("o_")):
        return None
    return tenant_id, order_id


def _fen(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(eq=False, repr=False)
class StripeEventService(PaymentNotices[S, C]):
    _gateway: PaymentGateway

    def handle(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """A verified event in at most three DynamoDB requests: one BatchGetItem (was it applied,
        and the look-up of its PaymentIntent), one for the order (a payment: the order, its
        tenant and its terminals in one BatchGetItem) and the one transaction that applies it
        and records it (its condition: not recorded yet). A payment whose PaymentIntent carries
        our metadata (tenant, order, SNs) is two: the event's record is read with the order.
        A repeated delivery is the first read."""
        event = self._gateway.verify_event(payload, signature)
        event_id, event_type = str(event["id"]), str(event["type"])
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        pi, unapplied = _intent_of(event_type, obj)
        if pi is None or not isinstance(obj, dict):
            if not self._orders.record_event(event_id, event_type, unapplied, self._clock.now()):
                return {"received": True, "duplicate": True}
            return {"received": True, "outcome": unapplied}
        named = _named_payment(event_type, obj)
        if named is not None:  # our metadata names the order and its terminals: one read
            seen, item, context = self._orders.event_and_payment(event_id, *named)
            if seen:
                return {"received": True, "duplicate": True}
            if item is not None:
                return self._answer(
                    event_id, event_type, self._succeeded(item, pi, obj, (event_id, event_type), context)
                )
        seen, lookup = self._orders.event_and_intent(event_id, pi)
        if seen:
            return {"received": True, "duplicate": True}
        return self._answer(event_id, event_type, self._apply(event_id, event_type, obj, pi, lookup))

    def _answer(self, event_id: str, event_type: str, outcome: str) -> dict[str, Any]:
        if outcome == "duplicate_event":  # a concurrent delivery of this event was applied first
            return {"received": True, "duplicate": True}
        if outcome in ("order_state", "ignored", "ignored_malformed"):
            self._orders.record_event(event_id, event_type, outcome, self._clock.now())
        return {"received": True, "outcome": outcome}

    def _order_of(self, event_type: str, obj: dict[str, Any], lookup: IntentLookup | None) -> tuple[S | None, C | None]:
        """The order an event concerns: by the look-up of its PaymentIntent (a payment: read with
        its tenant and terminals), else by our metadata on a PaymentIntent never linked."""
        if lookup is not None:
            if event_type != "payment_intent.succeeded":
                return self._orders.item(lookup.tenant_id, lookup.order_id), None
            return self._orders.payment_read(lookup.tenant_id, lookup.order_id, lookup.sns)
        named = _our_order(obj) if event_type.startswith("payment_intent.") else None
        if named is not None:
            # A PaymentIntent we created for the order but never linked (it carries our metadata):
            # its payment still belongs to the order, and is returned if the order is paid already.
            return self._orders.item(*named), None
        return None, None

    def _apply(self, event_id: str, event_type: str, obj: dict[str, Any], pi: str, lookup: IntentLookup | None) -> str:
        item, context = self._order_of(event_type, obj, lookup)
        if item is None:
            return "ignored"
        ref = (event_id, event_type)
        if event_type == "payment_intent.succeeded":
            return self._succeeded(item, pi, obj, ref, context)
        if event_type in ("payment_intent.payment_failed", "payment_intent.canceled"):
            return self._unpaid(item, event_type, ref)
        if event_type == "charge.refunded":
            amount = _fen(obj, "amount_refunded")
            if amount is None:
                return "ignored_malformed"
            return self._refunds.from_charge(item, pi, amount, ref)
        if event_type in ("refund.updated", "refund.failed"):
            refund_id, status = _str(obj, "id"), _str(obj, "status")
            if refund_id is None or status is None:
                return "ignored_malformed"
            if status in ("failed", "canceled"):
                return self._refunds.refund_failed(item, refund_id, ref)
            return "ignored"  # amounts arrive with charge.refunded, which counts every refund once
        if event_type == "charge.dispute.created":
            return self._dispute(item, ref)
        return "ignored"

    def _unpaid(self, item: S, event_type: str, ref: tuple[str, str]) -> str:
        now = self._clock.now()
        if event_type == "payment_intent.payment_failed":
            failed = StatusMove(OrderStatus.FAILED, UNPAID, {"action": "payment_failed", "at": iso_utc(now)}, ref)
            return "failed" if self._orders.transition(item, failed, now) else "order_state"
        allowed = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.FAILED})
        canceled = StatusMove(OrderStatus.EXPIRED, allowed, {"action": "canceled", "at": iso_utc(now)}, ref)
        return "expired" if self._orders.transition(item, canceled, now) else "order_state"

    def _succeeded(self, item: S, pi: str, obj: dict[str, Any], ref: tuple[str, str], context: C | None) -> str:
        received = _fen(obj, "amount_received")
        if received is None and not self._gateway.reports_amount_received:
            # localstripe leaves amount_received out; real Stripe always sends it.
            received = _fen(obj, "amount") if obj.get("status") == "succeeded" else None
        currency = str(obj.get("currency", "")).upper()
        if received is None:
            return "ignored_malformed"
        order = self._orders.order(item)
        if order.paid_via == f"stripe:{pi}":
            return "order_state"  # this very payment already applied
        if order.paid_via is not None or order.status in PAID_STATES:
            return self._refunds.return_duplicate(item, pi, received, currency, ref)
        now = iso_utc(self._clock.now())
        amount_fen, order_currency = self._orders.charged(item)
        if received != amount_fen or currency != order_currency:
            return self._fulfilment.review(
                item,
                ref,
                f"paid {received} {currency}, order is {amount_fen} {order_currency}",
                f"stripe:{pi}",
                received,
            )
        if order.early_disputed:
            return self._fulfilment.review(
                item, ref, "a dispute was opened before the payment was confirmed", f"stripe:{pi}", received
            )
        return self._fulfilment.fulfil(
            item,
            ref,
            {"action": "paid", "via": "stripe", "event": ref[0], "at": now},
            paid_via=f"stripe:{pi}",
            paid_fen=received,
            context=context,
        )

    def _dispute(self, item: S, ref: tuple[str, str]) -> str:
        order = self._orders.order(item)
        now = self._clock.now()
        if order.paid_via is None and order.status in PAYABLE:
            order.early_disputed = True
            order.audit.append({"action": "dispute", "at": iso_utc(now)})
            outcome = self._orders.commit(item, order, ALL_STATUSES, now, event=ref, event_outcome="held_until_paid")
            return "held_until_paid" if outcome == "ok" else outcome
        audit = {"action": "dispute", "at": iso_utc(now)}
        review = StatusMove(OrderStatus.NEEDS_REVIEW, REFUNDABLE | PAYABLE, audit, ref)
        return "needs_review" if self._orders.transition(item, review, now) else "order_state"
