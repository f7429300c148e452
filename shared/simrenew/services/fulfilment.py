"""Fulfilment: a paid order extends its terminals exactly once (one transaction with the
ledger, the receipts and the Stripe event), an offline payment marked by an admin, and the
review queue for payments that do not match their order."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb.fleet import TerminalRepository, pending_event, to_terminal
from simrenew.adapters.dynamodb.models import Item, OrderItem, RateLimitItem, TerminalItem
from simrenew.adapters.dynamodb.orders import OrderRepository, PaymentContext, ledger_line, to_order
from simrenew.adapters.dynamodb.outbox import outbox_event
from simrenew.adapters.dynamodb.ratelimit import RateLimiter, counted_hits
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.adapters.dynamodb.tenants import to_domain as to_tenant
from simrenew.adapters.payments import PaymentGateway
from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.domain.orders import (
    PAYABLE,
    REFUND_SUCCEEDED,
    RISK_RENEWALS_PER_DAY,
    Order,
    OrderStatus,
    RefundEntry,
    allocate_refund,
    note_renewal,
    order_event_data,
    renewed_terminal,
)
from simrenew.domain.tenant import Tenant
from simrenew.errors import Conflict, TransientStoreError, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.services.ledger import Changes as StoredChanges
from simrenew.services.ledger import refund_lines
from simrenew.services.lookups import order_item_or_404, tenant_or_404

Changes = StoredChanges[TerminalItem]

APPLY_ATTEMPTS = 8
TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems


class FulfilmentService:
    def __init__(
        self,
        tenants: TenantRepository,
        terminals: TerminalRepository,
        orders: OrderRepository,
        gateway: PaymentGateway,
        clock: Clock,
        rate_limiter: RateLimiter,
    ) -> None:
        self._rate = rate_limiter
        self._tenants = tenants
        self._terminals = terminals
        self._orders = orders
        self._gateway = gateway
        self._clock = clock

    def _tenant(self, tenant_id: str) -> Tenant:
        return tenant_or_404(self._tenants, tenant_id)

    def fulfil(
        self,
        item: OrderItem,
        event: tuple[str, str] | None,
        audit: dict[str, Any],
        *,
        paid_via: str,
        paid_fen: int,
        context: PaymentContext | None = None,
    ) -> str:
        """Extend every line's terminal, write the ledger, queue the receipts, count the paid
        renewals and mark the order fulfilled in one transaction; a concurrent renewal of the same
        terminal makes it reload (the order and its terminals: one BatchGetItem) and retry. A
        refund Stripe reported before this payment arrived is applied in the same transaction, so
        a payment refunded in full extends nothing. `context` is what the caller read already
        (the webhook: the order, its tenant and its terminals in one BatchGetItem)."""
        if context is not None and context.tenant is not None:
            tenant = to_tenant(context.tenant)
        else:
            tenant = self._tenant(item.tenant_id)
        loaded, read = (context.terminals, context.sns) if context is not None else (None, frozenset[str]())
        for _attempt in range(APPLY_ATTEMPTS):
            order = to_order(item)
            if order.status not in PAYABLE:
                return "order_state"
            sns = list(dict.fromkeys(line.sn for line in order.lines))
            if loaded is None or not set(sns) <= read:
                loaded = self._terminals.get_many(item.tenant_id, sns)
            outcome = self._apply(item, order, loaded, tenant, event, audit, (paid_via, paid_fen))
            if outcome != "terminal_changed":
                return outcome
            fresh = self._orders.payment_context(item.tenant_id, item.order_id, sns, with_tenant=False)
            if fresh.order is None:
                return "order_state"
            item, loaded, read = fresh.order, fresh.terminals, fresh.sns
        raise TransientStoreError("the terminal kept changing; the payment will be retried")

    def _apply(
        self,
        item: OrderItem,
        order: Order,
        loaded: dict[str, TerminalItem],
        tenant: Tenant,
        event: tuple[str, str] | None,
        audit: dict[str, Any],
        paid: tuple[str, int],
    ) -> str:
        """One attempt: build the transaction from the order and its terminals as read, commit it."""
        paid_via, paid_fen = paid
        now = self._clock.now()
        today = today_in(self._clock, tenant.settings.timezone)
        for line in order.lines:
            t_item = loaded.get(line.sn)
            if t_item is None:
                return self.review(
                    item, event, f"terminal {line.sn} no longer belongs to this agent", paid_via, paid_fen
                )
            if to_terminal(t_item).status is TerminalStatus.DEACTIVATED:
                return self.review(item, event, f"terminal {line.sn} is deactivated", paid_via, paid_fen)
        changes, items, reactivated, flagged = _renewals(order, loaded, tenant, today, now)
        order.status = OrderStatus.FULFILLED
        order.paid_via, order.paid_fen = paid_via, paid_fen
        order.audit.append(audit)
        if order.early_refunded_fen > 0:
            items += _early_refund(order, changes, paid_fen, today, now)
        items += _messages(order, changes, reactivated, flagged, now)
        counters = paid_renewals(order, now)
        room = max(0, TRANSACTION_ITEMS - 2 - len(changes) - len(items))
        outcome = self._orders.commit(
            item,
            order,
            PAYABLE,
            now,
            terminals=list(changes.values()),
            items=items,
            event=event,
            stamps={"paid_at": item.paid_at or now, "fulfilled_at": now},
            counters=counters[:room],
        )
        if outcome == "ok":
            self._count_paid(counters[room:])
            get_logger().info("order fulfilled", extra={"order_id": order.order_id, "tenant_id": order.tenant_id})
        return outcome

    def _count_paid(self, overflow: list[tuple[RateLimitItem, list[Action]]]) -> None:
        """The paid renewals that did not fit in the fulfilment transaction (a 20-line order of
        suspended SIMs with an early refund), counted after it as before."""
        for counter, actions in overflow:
            counter.update(actions)  # no limit: a payment is never refused, only new orders are

    def review(
        self,
        item: OrderItem,
        event: tuple[str, str] | None,
        reason: str,
        paid_via: str | None = None,
        paid_fen: int = 0,
    ) -> str:
        """Park a payment that cannot be applied as it is (amount, terminal, dispute): the money
        is recorded on the order, nothing is extended, the agent decides."""
        for _attempt in range(APPLY_ATTEMPTS):
            now = self._clock.now()
            order = to_order(item)
            if order.status not in PAYABLE:
                return "order_state"
            order.status = OrderStatus.NEEDS_REVIEW
            if paid_via is not None:
                order.paid_via, order.paid_fen = paid_via, paid_fen
            order.audit.append({"action": "needs_review", "reason": reason, "at": iso_utc(now)})
            outcome = self._orders.commit(
                item, order, PAYABLE, now, event=event, event_outcome="needs_review", stamps={"paid_at": now}
            )
            if outcome == "ok":
                return "needs_review"
            if outcome == "duplicate_event":
                return outcome
            fresh = self._orders.item(item.tenant_id, item.order_id)
            if fresh is None:
                return "order_state"
            item = fresh
        raise TransientStoreError("the order kept changing; the payment will be retried")

    # --- offline payment -----------------------------------------------------------------------------------
    def mark_paid(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        note = body.get("note")
        if not isinstance(note, str) or not note.strip() or len(note) > 500:
            raise ValidationError("note", "required", "note is required (who paid, how): up to 500 characters")
        item = order_item_or_404(self._orders, tenant_id, order_id)
        if OrderStatus(item.status) not in PAYABLE:
            raise Conflict(f"the order is {item.status}", code="order_not_payable")
        if item.payment_intent_id:
            # Cancel the online payment first: once cancelled it cannot succeed as well. If it
            # already succeeded, the online payment fulfils the order and the cash is not taken.
            state = self._gateway.cancel(item.payment_intent_id)
            if state in ("succeeded", "processing", "requires_capture"):
                raise Conflict(
                    "this order has just been paid online; it is fulfilled by that payment, take no cash",
                    code="order_paid_online",
                )
        audit = {"action": "mark_paid", "by": actor, "note": note.strip(), "at": iso_utc(self._clock.now())}
        outcome = self.fulfil(item, None, audit, paid_via="cash", paid_fen=int(item.amount_fen))
        if outcome != "ok":
            raise Conflict("the order changed meanwhile", code="order_not_payable")
        fresh = self._orders.item(tenant_id, order_id)
        assert fresh is not None
        return to_order(fresh)


def paid_renewals(order: Order, now: datetime) -> list[tuple[RateLimitItem, list[Action]]]:
    """One more paid renewal per line's terminal today (the daily renewal limit of checkout counts
    these): an ADD per terminal, in the fulfilment transaction."""
    from simrenew.services.checkout import PAID_RENEWALS_BUCKET

    per_sn = Counter(line.sn for line in order.lines)
    return [
        counted_hits(PAID_RENEWALS_BUCKET, f"{order.tenant_id}#{sn}", n, window_s=86_400, now=now)
        for sn, n in per_sn.items()
    ]


def _renewals(
    order: Order, loaded: dict[str, TerminalItem], tenant: Tenant, today: date, now: datetime
) -> tuple[Changes, list[Item], dict[str, bool], list[Terminal]]:
    """Each line renews its terminal (two lines of one terminal: one after the other): the
    terminal changes, the ledger lines and the carrier resumes, which terminals came back to
    service and which crossed the risk limit."""
    changes: Changes = {}
    items: list[Item] = []
    reactivated: dict[str, bool] = {}
    flagged: list[Terminal] = []
    for index, line in enumerate(order.lines):
        t_item = loaded[line.sn]
        current = to_terminal(t_item)
        updated = renewed_terminal(
            current,
            today,
            term_months=line.term_months,
            data_quota_mb=line.data_quota_mb,
            plan_id=line.plan_id,
            basis=tenant.settings.renewal_basis,
        )
        updated, risky = note_renewal(updated, now)
        if risky:
            flagged.append(updated)
        line.expires_before = current.expires_on.isoformat()
        line.expires_after = updated.expires_on.isoformat()
        reactivated[line.sn] = current.status != updated.status
        if line.sn not in changes:  # a suspended SIM's service back at the carrier (outbox item)
            from simrenew.adapters.dynamodb.carrier import resume_op  # the carrier code, only when a payment is applied

            items += resume_op(current, updated, now)
        changes[line.sn] = (t_item, updated)
        items.append(
            ledger_line(
                updated,
                "renewal",
                order.order_id,
                index,
                line.expires_before,
                line.expires_after,
                line.total_fen,
                line.term_months,
                now,
            )
        )
    return changes, items, reactivated, flagged


def _early_refund(order: Order, changes: Changes, paid_fen: int, today: date, now: datetime) -> list[Item]:
    """A refund Stripe reported before the payment: applied to the lines just renewed."""
    amount = min(order.early_refunded_fen, paid_fen)
    refund_id = new_id("rf")
    shares = allocate_refund(order.lines, amount, today)
    items: list[Item] = refund_lines(order, shares, changes, today, now, refund_id, ledger_line)
    order.refunds.append(
        RefundEntry(
            refund_id,
            amount,
            REFUND_SUCCEEDED,
            "early",
            iso_utc(now),
            reason="refunded in Stripe before the payment was confirmed here",
            months=sum(s.months for s in shares),
        )
    )
    order.refunded_fen += amount
    order.status = OrderStatus.REFUNDED if order.refunded_fen >= order.paid_fen else OrderStatus.PARTIALLY_REFUNDED
    order.audit.append({"action": "refund", "via": "stripe", "amount_fen": amount, "at": iso_utc(now)})
    return items


def _messages(
    order: Order, changes: Changes, reactivated: dict[str, bool], flagged: list[Terminal], now: datetime
) -> list[Item]:
    """The merchant's receipts (sent by the notifier) and the agent's events (the outbox delivers
    them), queued in the fulfilment transaction."""
    items: list[Item] = []
    if order.status is not OrderStatus.REFUNDED:
        for line in order.lines:
            final = changes[line.sn][1]
            items.append(
                pending_event(
                    final,
                    f"receipt#{order.order_id}",
                    final.expires_on.isoformat(),
                    {
                        "order_id": order.order_id,
                        "expires_on": final.expires_on.isoformat(),
                        "amount_fen": line.total_fen,
                        "reactivated": reactivated[line.sn],
                    },
                    now,
                )
            )
    items.append(outbox_event(order.tenant_id, "order.fulfilled", order_event_data(order), order.order_id, now))
    for refund in order.refunds:
        items.append(
            outbox_event(
                order.tenant_id, "order.refunded", order_event_data(order), f"{order.order_id}:{refund.refund_id}", now
            )
        )
    for terminal in flagged:
        items.append(
            outbox_event(
                order.tenant_id,
                "terminal.risk_flagged",
                {
                    "sn": terminal.sn,
                    "renewed_at": list(terminal.renewed_at),
                    "order_id": order.order_id,
                    "reason": f"renewed more than {RISK_RENEWALS_PER_DAY} times within 24 hours",
                },
                f"{terminal.sn}:{order.order_id}",
                now,
            )
        )
    return items
