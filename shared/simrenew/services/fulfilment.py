"""Fulfilment: a paid order extends its terminals exactly once (one transaction with the
ledger, the receipts and the Stripe event), an offline payment marked by an admin, and the
review queue for payments that do not match their order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic

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
from simrenew.ports.fulfilment import AgentEvent, Hits, OrderChange, PaymentStore, StoredTerminalBatch
from simrenew.ports.payments import PaymentGateway
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.tenants import Tenants
from simrenew.ports.transfers import LedgerLine, TerminalNotice
from simrenew.services.ledger import Changes, refund_lines
from simrenew.services.lookups import order_item_or_404, tenant_or_404

if TYPE_CHECKING:  # defaults for the type checker only: a bare `FulfilmentService` is one over any store
    from typing_extensions import TypeVar

    S = TypeVar("S", default=Any)  # an order as the store holds it
    T = TypeVar("T", default=Any)  # a terminal as the store holds it
    C = TypeVar("C", default=Any)  # what the caller read with the order (the store's read context)
else:
    from typing import TypeVar

    S, T, C = TypeVar("S"), TypeVar("T"), TypeVar("C")

APPLY_ATTEMPTS = 8
TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems


def ledger_entry(
    terminal: Terminal, kind: str, source: str, index: int, old: str, new: str, fen: int, months: int, _now: datetime
) -> LedgerLine:
    """A ledger line for the port (services.ledger's LineMaker: the store stamps the time)."""
    return LedgerLine(terminal, kind, source, index, old, new, fen, months)


@dataclass(eq=False, repr=False)
class OrderStoreService(Generic[S, T, C]):
    """What fulfilment and refunds both change money through: the agents, their terminals, the
    order store, Stripe and the clock."""

    _tenants: Tenants
    _terminals: StoredTerminalBatch[T]
    _orders: PaymentStore[S, T, C]
    _gateway: PaymentGateway
    _clock: Clock


@dataclass(eq=False, repr=False)
class FulfilmentService(OrderStoreService[S, T, C]):
    _rate: RateLimits

    def _tenant(self, tenant_id: str) -> Tenant:
        return tenant_or_404(self._tenants, tenant_id)

    def fulfil(
        self,
        item: S,
        event: tuple[str, str] | None,
        audit: dict[str, Any],
        *,
        paid_via: str,
        paid_fen: int,
        context: C | None = None,
    ) -> str:
        """Extend every line's terminal, write the ledger, queue the receipts, count the paid
        renewals and mark the order fulfilled in one transaction; a concurrent renewal of the same
        terminal makes it reload (the order and its terminals: one BatchGetItem) and retry. A
        refund Stripe reported before this payment arrived is applied in the same transaction, so
        a payment refunded in full extends nothing. `context` is what the caller read already
        (the webhook: the order, its tenant and its terminals in one BatchGetItem)."""
        read = self._orders.read_context(context) if context is not None else None
        order = self._orders.as_order(item)
        tenant = read.tenant if read is not None and read.tenant is not None else self._tenant(order.tenant_id)
        loaded, sns_read = (read.terminals, read.sns) if read is not None else (None, frozenset[str]())
        for _attempt in range(APPLY_ATTEMPTS):
            order = self._orders.as_order(item)
            if order.status not in PAYABLE:
                return "order_state"
            sns = list(dict.fromkeys(line.sn for line in order.lines))
            if loaded is None or not set(sns) <= sns_read:
                loaded = self._terminals.get_many(order.tenant_id, sns)
            outcome = self._apply(item, order, dict(loaded), tenant, event, audit, (paid_via, paid_fen))
            if outcome != "terminal_changed":
                return outcome
            fresh = self._orders.reread(order.tenant_id, order.order_id, sns)
            if fresh.order is None:
                return "order_state"
            item, loaded, sns_read = fresh.order, fresh.terminals, fresh.sns
        raise TransientStoreError("the terminal kept changing; the payment will be retried")

    def _apply(
        self,
        item: S,
        order: Order,
        loaded: dict[str, T],
        tenant: Tenant,
        event: tuple[str, str] | None,
        audit: dict[str, Any],
        paid: tuple[str, int],
    ) -> str:
        """One attempt: build the transaction from the order and its terminals as read, commit it."""
        paid_via, paid_fen = paid
        now = self._clock.now()
        today = today_in(self._clock, tenant.settings.timezone)
        read: dict[str, Terminal] = {}
        for line in order.lines:
            t_item = loaded.get(line.sn)
            if t_item is None:
                return self.review(
                    item, event, f"terminal {line.sn} no longer belongs to this agent", paid_via, paid_fen
                )
            read[line.sn] = self._orders.as_terminal(t_item)
            if read[line.sn].status is TerminalStatus.DEACTIVATED:
                return self.review(item, event, f"terminal {line.sn} is deactivated", paid_via, paid_fen)
        changes, change, reactivated, flagged = _renewals(order, loaded, read, tenant, today, now)
        order.status = OrderStatus.FULFILLED
        order.paid_via, order.paid_fen = paid_via, paid_fen
        order.audit.append(audit)
        if order.early_refunded_fen > 0:
            change.lines += _early_refund(order, changes, paid_fen, today, now)
        _messages(order, changes, reactivated, flagged, change)
        change.terminals = list(changes.values())
        counters = paid_renewals(order)
        room = max(0, TRANSACTION_ITEMS - 2 - len(changes) - change.records())
        change.counters = counters[:room]
        outcome = self._orders.apply(
            item, order, PAYABLE, now, change, event=event, stamps={"fulfilled_at": now}, first_stamps={"paid_at": now}
        )
        if outcome == "ok":
            # The paid renewals that did not fit in the transaction (a 20-line order of suspended
            # SIMs with an early refund), counted after it as before.
            self._orders.count_hits(counters[room:], now)
            get_logger().info("order fulfilled", extra={"order_id": order.order_id, "tenant_id": order.tenant_id})
        return outcome

    def review(
        self,
        item: S,
        event: tuple[str, str] | None,
        reason: str,
        paid_via: str | None = None,
        paid_fen: int = 0,
    ) -> str:
        """Park a payment that cannot be applied as it is (amount, terminal, dispute): the money
        is recorded on the order, nothing is extended, the agent decides."""
        for _attempt in range(APPLY_ATTEMPTS):
            now = self._clock.now()
            order = self._orders.as_order(item)
            if order.status not in PAYABLE:
                return "order_state"
            order.status = OrderStatus.NEEDS_REVIEW
            if paid_via is not None:
                order.paid_via, order.paid_fen = paid_via, paid_fen
            order.audit.append({"action": "needs_review", "reason": reason, "at": iso_utc(now)})
            outcome = self._orders.apply(
                item, order, PAYABLE, now, event=event, event_outcome="needs_review", stamps={"paid_at": now}
            )
            if outcome == "ok":
                return "needs_review"
            if outcome == "duplicate_event":
                return outcome
            fresh = self._orders.item(order.tenant_id, order.order_id)
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
        order = self._orders.as_order(item)
        if order.status not in PAYABLE:
            raise Conflict(f"the order is {order.status.value}", code="order_not_payable")
        if order.payment_intent_id:
            # Cancel the online payment first: once cancelled it cannot succeed as well. If it
            # already succeeded, the online payment fulfils the order and the cash is not taken.
            state = self._gateway.cancel(order.payment_intent_id)
            if state in ("succeeded", "processing", "requires_capture"):
                raise Conflict(
                    "this order has just been paid online; it is fulfilled by that payment, take no cash",
                    code="order_paid_online",
                )
        audit = {"action": "mark_paid", "by": actor, "note": note.strip(), "at": iso_utc(self._clock.now())}
        outcome = self.fulfil(item, None, audit, paid_via="cash", paid_fen=order.amount_fen)
        if outcome != "ok":
            raise Conflict("the order changed meanwhile", code="order_not_payable")
        fresh = self._orders.item(tenant_id, order_id)
        assert fresh is not None
        return self._orders.as_order(fresh)


def paid_renewals(order: Order) -> list[Hits]:
    """One more paid renewal per line's terminal today (the daily renewal limit of checkout counts
    these): an ADD per terminal, in the fulfilment transaction."""
    from simrenew.services.checkout import PAID_RENEWALS_BUCKET

    per_sn = Counter(line.sn for line in order.lines)
    return [Hits(PAID_RENEWALS_BUCKET, f"{order.tenant_id}#{sn}", n, window_s=86_400) for sn, n in per_sn.items()]


def _renewals(
    order: Order, loaded: dict[str, T], read: dict[str, Terminal], tenant: Tenant, today: date, now: datetime
) -> tuple[Changes[T], OrderChange[T], dict[str, bool], list[Terminal]]:
    """Each line renews its terminal (two lines of one terminal: one after the other): the
    terminal changes, the ledger lines and the carrier resumes, which terminals came back to
    service and which crossed the risk limit."""
    from simrenew.services.carrier import resumes  # the carrier code, only when a payment is applied

    changes: Changes[T] = {}
    change: OrderChange[T] = OrderChange()
    reactivated: dict[str, bool] = {}
    flagged: list[Terminal] = []
    for index, line in enumerate(order.lines):
        current = read[line.sn]
        updated = renewed_terminal(current, today, line, tenant.settings.renewal_basis)
        updated, risky = note_renewal(updated, now)
        if risky:
            flagged.append(updated)
        line.expires_before = current.expires_on.isoformat()
        line.expires_after = updated.expires_on.isoformat()
        reactivated[line.sn] = current.status != updated.status
        if line.sn not in changes and resumes(current, updated):  # a suspended SIM's service back at the carrier
            change.resumes.append(current)
        changes[line.sn] = (loaded[line.sn], updated)
        change.lines.append(
            LedgerLine(
                updated,
                "renewal",
                order.order_id,
                index,
                line.expires_before,
                line.expires_after,
                line.total_fen,
                line.term_months,
            )
        )
    return changes, change, reactivated, flagged


def _early_refund(order: Order, changes: Changes[T], paid_fen: int, today: date, now: datetime) -> list[LedgerLine]:
    """A refund Stripe reported before the payment: applied to the lines just renewed."""
    amount = min(order.early_refunded_fen, paid_fen)
    refund_id = new_id("rf")
    shares = allocate_refund(order.lines, amount, today)
    lines = refund_lines(order, shares, changes, today, now, refund_id, ledger_entry)
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
    return lines


def _messages(
    order: Order,
    changes: Changes[T],
    reactivated: dict[str, bool],
    flagged: list[Terminal],
    change: OrderChange[T],
) -> None:
    """The merchant's receipts (sent by the notifier) and the agent's events (the outbox delivers
    them), queued in the fulfilment transaction."""
    if order.status is not OrderStatus.REFUNDED:
        for line in order.lines:
            final = changes[line.sn][1]
            change.notices.append(
                TerminalNotice(
                    final,
                    f"receipt#{order.order_id}",
                    final.expires_on.isoformat(),
                    {
                        "order_id": order.order_id,
                        "expires_on": final.expires_on.isoformat(),
                        "amount_fen": line.total_fen,
                        "reactivated": reactivated[line.sn],
                    },
                )
            )
    change.events.append(AgentEvent("order.fulfilled", order_event_data(order), order.order_id))
    for refund in order.refunds:
        change.events.append(
            AgentEvent("order.refunded", order_event_data(order), f"{order.order_id}:{refund.refund_id}")
        )
    for terminal in flagged:
        change.events.append(
            AgentEvent(
                "terminal.risk_flagged",
                {
                    "sn": terminal.sn,
                    "renewed_at": list(terminal.renewed_at),
                    "order_id": order.order_id,
                    "reason": f"renewed more than {RISK_RENEWALS_PER_DAY} times within 24 hours",
                },
                f"{terminal.sn}:{order.order_id}",
            )
        )
