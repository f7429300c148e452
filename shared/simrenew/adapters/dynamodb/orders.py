"""Orders, PaymentIntent lookups, applied Stripe events and the renewal ledger.

Fulfilment and refunds are one conditional TransactWriteItems each: the terminals (by
version), the ledger lines, the order (by status) and the Stripe event id all commit
together or not at all, so a crash leaves nothing half done and a retry completes it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.expressions.update import Action

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.errors import is_condition_failure
from simrenew.adapters.dynamodb.fleet import fill_item, to_terminal
from simrenew.adapters.dynamodb.mapping import from_item
from simrenew.adapters.dynamodb.models import (
    Item,
    OpenOrderItem,
    OrderItem,
    PaymentIntentItem,
    RateLimitItem,
    RenewalItem,
    StripeEventItem,
    TenantItem,
    TerminalItem,
    Transaction,
)
from simrenew.adapters.dynamodb.paging import Page, decode_cursor, encode_cursor, query_page
from simrenew.adapters.dynamodb.reads import item_or_none
from simrenew.clock import iso_utc
from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import (
    DuplicatePayment,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    RefundEntry,
    StatusMove,
)
from simrenew.errors import TransientStoreError
from simrenew.ports.fulfilment import Hits, OrderChange, PaymentRead
from simrenew.ports.orders import LedgerEntry

PENDING_SHARDS = keys.PENDING_ORDER_SHARDS
EVENT_RETENTION_DAYS = 60


def to_order(item: OrderItem) -> Order:
    early = json.loads(item.early_json or "{}")
    paid_fen, paid_via = int(item.paid_fen or 0), item.paid_via
    if paid_via is None and item.fulfilled_at is not None:
        # Fulfilled before orders kept their own money ledger: it was paid in full, by its
        # PaymentIntent if it had one that was not cancelled for cash, else in cash.
        cash = any(a.get("action") == "mark_paid" for a in json.loads(item.audit_json or "[]"))
        paid_fen = int(item.amount_fen)
        paid_via = "cash" if cash or not item.payment_intent_id else f"stripe:{item.payment_intent_id}"
    return Order(
        order_id=item.order_id,
        tenant_id=item.tenant_id,
        status=OrderStatus(item.status),
        lines=[OrderLine(**line) for line in json.loads(item.lines_json)],
        payment=item.payment,
        channel=item.channel,
        created_at=iso_utc(item.created_at) if item.created_at else "",
        expires_at=iso_utc(item.expires_at),
        currency=item.currency,
        payment_intent_id=item.payment_intent_id,
        paid_at=iso_utc(item.paid_at) if item.paid_at else None,
        fulfilled_at=iso_utc(item.fulfilled_at) if item.fulfilled_at else None,
        refunded_fen=int(item.refunded_fen or 0),
        audit=json.loads(item.audit_json or "[]"),
        version=item.version,
        paid_fen=paid_fen,
        paid_via=paid_via,
        reserved_fen=int(item.reserved_fen or 0),
        refunds=[RefundEntry(**r) for r in json.loads(item.refunds_json or "[]")],
        duplicate_payments=[DuplicatePayment(**d) for d in json.loads(item.duplicates_json or "[]")],
        early_refunded_fen=int(early.get("refunded_fen", 0)),
        early_disputed=bool(early.get("disputed", False)),
        attempts=[PaymentAttempt(**a) for a in json.loads(item.attempts_json or "[]")],
    )


def write_order(item: OrderItem, order: Order) -> None:
    """Copy the order's mutable state (lines, status, money) onto its item."""
    item.status = order.status.value
    item.lines_json = _lines_json(order)
    item.refunded_fen = order.refunded_fen
    item.paid_fen = order.paid_fen
    item.paid_via = order.paid_via
    item.reserved_fen = order.reserved_fen
    item.refunds_json = json.dumps([asdict(r) for r in order.refunds], ensure_ascii=False)
    item.duplicates_json = json.dumps([asdict(d) for d in order.duplicate_payments], ensure_ascii=False)
    item.early_json = json.dumps({"refunded_fen": order.early_refunded_fen, "disputed": order.early_disputed})
    item.audit_json = json.dumps(order.audit, ensure_ascii=False)
    item.attempts_json = json.dumps([asdict(a) for a in order.attempts], ensure_ascii=False)


def _lines_json(order: Order) -> str:
    return json.dumps([asdict(line) for line in order.lines], ensure_ascii=False)


def line_sns(item: OrderItem) -> list[str]:
    """The distinct SNs of an order's lines, in line order."""
    return list(dict.fromkeys(str(line["sn"]) for line in json.loads(item.lines_json)))


@dataclass
class PaymentContext:
    """What applying a payment reads, from one BatchGetItem: the order, its tenant (when asked
    for) and the terminals of `sns` (`terminals` has those that exist; `sns` says which were read),
    and whether the event being applied was recorded already (when its id was given)."""

    order: OrderItem | None
    tenant: TenantItem | None = None
    sns: frozenset[str] = frozenset()
    terminals: dict[str, TerminalItem] = field(default_factory=dict)
    event_seen: bool = False


def new_order_items(
    order: Order, token_hash: str | None, now: datetime, expires_at: datetime
) -> tuple[OrderItem, PaymentIntentItem]:
    """A new order's item and its global look-up by order id (written together, once each)."""
    item = OrderItem(
        keys.tenant_pk(order.tenant_id),
        keys.order_sk(order.order_id),
        tenant_id=order.tenant_id,
        order_id=order.order_id,
        status=order.status.value,
        payment=order.payment,
        channel=order.channel,
        currency=order.currency,
        amount_fen=order.amount_fen,
        lines_json=_lines_json(order),
        token_hash=token_hash,
        expires_at=expires_at,
        audit_json=json.dumps(order.audit, ensure_ascii=False),
        gsi1pk=keys.orders_gsi1pk(order.tenant_id),
        gsi1sk=keys.orders_gsi1sk(now, order.order_id),
        created_at=now,
        updated_at=now,
    )
    if order.status is OrderStatus.PENDING_PAYMENT:
        # Sparse: only unpaid orders are in the expiry queue.
        item.gsi2pk = keys.pending_orders_gsi2pk(keys.pending_order_shard(order.order_id))
        item.gsi2sk = keys.pending_orders_gsi2sk(expires_at, order.tenant_id, order.order_id)
    return item, order_lookup(keys.order_lookup_pk(order.order_id), item, now)


def order_lookup(pk: str, item: OrderItem, now: datetime, sns: list[str] | None = None) -> PaymentIntentItem:
    """A global look-up of the order under `pk` (its order id, a PaymentIntent or a direct-rail trade)."""
    return PaymentIntentItem(
        pk, keys.lookup_sk(), tenant_id=item.tenant_id, order_id=item.order_id, sns=sns, created_at=now
    )


def intent_lookup(item: OrderItem, payment_intent_id: str, now: datetime) -> PaymentIntentItem:
    """A PaymentIntent's look-up (PaymentIntent → tenant, order and the SNs of its lines, so
    fulfilment reads the terminals with the order: issue 17); written once, with the intent."""
    return order_lookup(keys.payment_intent_pk(payment_intent_id), item, now, line_sns(item))


def with_intent(item: OrderItem, payment_intent_id: str, now: datetime) -> PaymentIntentItem:
    """Put the PaymentIntent on the order's item; its look-up, to be written with it."""
    item.payment_intent_id = payment_intent_id
    item.updated_at = now
    return intent_lookup(item, payment_intent_id, now)


def open_public_item(
    order: Order, sn: str, plan_id: str, token: str, client_secret: str, expires_at: datetime
) -> OpenOrderItem:
    """The pay page's open order for this terminal and plan (the slot the next merchant reuses)."""
    return OpenOrderItem(
        keys.tenant_pk(order.tenant_id),
        keys.open_public_order_sk(sn, plan_id),
        order_id=order.order_id,
        order_token=token,
        client_secret=client_secret,
        payment_intent_id=order.payment_intent_id or "",
        expires_at=expires_at,
        ttl=expires_at,
    )


@dataclass(frozen=True)
class OrderWrite:
    """One order transaction, staged, in this order: the order (its status in `allowed` unless None,
    its version unchanged), the Stripe event's record (once), `saves` as they are (terminals by their
    version, a trade's look-up), `items` (each written once) and `counters` (ADD)."""

    order: OrderItem
    allowed: frozenset[OrderStatus] | None
    event: StripeEventItem | None = None
    saves: Sequence[Item] = ()
    items: Sequence[Item] = ()
    counters: Sequence[tuple[RateLimitItem, list[Action]]] = ()


#: The cancellation codes a caller of `OrderRepository._write` handles (any other failure is transient).
REFUSED = ("ConditionalCheckFailed",)
RETRYABLE = (*REFUSED, "TransactionConflict")


class OrderRepository:
    def create(self, order: Order, token_hash: str | None, now: datetime, expires_at: datetime) -> OrderItem:
        item, lookup = new_order_items(order, token_hash, now, expires_at)
        with Transaction() as tx:
            tx.save(item, condition=OrderItem.pk.does_not_exist())
            tx.save(lookup, condition=PaymentIntentItem.pk.does_not_exist())
        return item

    def open_public(self, tenant_id: str, sn: str, plan_id: str) -> OpenOrderItem | None:
        return item_or_none(OpenOrderItem.get, keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id))

    def remember_open_public(
        self, order: Order, sn: str, plan_id: str, token: str, client_secret: str, expires_at: datetime
    ) -> None:
        open_public_item(order, sn, plan_id, token, client_secret, expires_at).save()

    def forget_open_public(self, tenant_id: str, sn: str, plan_id: str, order_id: str) -> None:
        """The order is being paid: hand it out no more (a declined card starts a fresh order)."""
        with contextlib.suppress(DeleteError):
            OpenOrderItem(keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id)).delete(
                condition=OpenOrderItem.order_id == order_id
            )

    def by_order_id(self, order_id: str) -> OrderItem | None:
        lookup = item_or_none(PaymentIntentItem.get, keys.order_lookup_pk(order_id), keys.lookup_sk())
        return self.item(lookup.tenant_id, lookup.order_id) if lookup is not None else None

    def attach_intent(self, item: OrderItem, payment_intent_id: str, now: datetime) -> None:
        lookup = with_intent(item, payment_intent_id, now)
        with Transaction() as tx:
            tx.save(item)
            tx.save(lookup, condition=PaymentIntentItem.pk.does_not_exist())

    def attach_attempt(self, item: OrderItem, attempt: PaymentAttempt, now: datetime) -> OrderItem:
        """Record a direct-rail trade on the order and its global look-up (out_trade_no → order), once;
        a concurrent change to the order makes it reload and try again."""
        for _attempt in range(8):
            order = to_order(item)
            if order.attempt(attempt.out_trade_no) is not None:
                return item
            order.attempts.append(attempt)
            item.attempts_json = json.dumps([asdict(a) for a in order.attempts], ensure_ascii=False)
            item.updated_at = now
            lookup = order_lookup(keys.payment_intent_pk(attempt.out_trade_no), item, now)
            if self._write(OrderWrite(item, None, saves=[lookup]), "could not record the payment; retry") is None:
                return item
            fresh = self.item(item.tenant_id, item.order_id)
            if fresh is None:
                raise TransientStoreError("the order is gone")
            item = fresh
        raise TransientStoreError("the order kept changing; retry")

    def _write(self, write: OrderWrite, failure: str, handled: tuple[str, ...] = RETRYABLE) -> list[str | None] | None:
        """TransactWriteItems of `write`: None when written, else each write's cancellation code when
        one of them is `handled` (raises TransientStoreError(`failure`) on any other failure)."""
        try:
            with Transaction() as tx:
                status = None if write.allowed is None else OrderItem.status.is_in(*[s.value for s in write.allowed])
                tx.save(write.order, condition=status)
                if write.event is not None:
                    tx.save(write.event, condition=StripeEventItem.pk.does_not_exist())
                for saved in write.saves:
                    tx.save(saved)
                for line in write.items:
                    tx.save(line, condition=Item.pk.does_not_exist())
                for counter, actions in write.counters:
                    tx.update(counter, list(actions))
            return None
        except TransactWriteError as exc:
            codes = tx.codes(exc)
            if not any(code in codes for code in handled):
                raise TransientStoreError(failure) from exc
            return codes

    def item(self, tenant_id: str, order_id: str) -> OrderItem | None:
        return item_or_none(OrderItem.get, keys.tenant_pk(tenant_id), keys.order_sk(order_id), consistent_read=True)

    def by_intent(self, payment_intent_id: str) -> OrderItem | None:
        lookup = item_or_none(PaymentIntentItem.get, keys.payment_intent_pk(payment_intent_id), keys.lookup_sk())
        return self.item(lookup.tenant_id, lookup.order_id) if lookup is not None else None

    def event_and_lookup(self, event_id: str, lookup_id: str) -> tuple[bool, PaymentIntentItem | None]:
        """One consistent BatchGetItem: was this Stripe event applied already, and the look-up of
        the PaymentIntent it concerns (tenant, order and the SNs of its lines)."""
        wanted = [
            (keys.stripe_event_pk(event_id), keys.stripe_event_sk()),
            (keys.payment_intent_pk(lookup_id), keys.lookup_sk()),
        ]
        seen, lookup = False, None
        for found in Item.batch_get(wanted, consistent_read=True):
            if isinstance(found, StripeEventItem):
                seen = True
            elif isinstance(found, PaymentIntentItem):
                lookup = found
        return seen, lookup

    def payment_context(
        self,
        tenant_id: str,
        order_id: str,
        sns: Sequence[str],
        *,
        with_tenant: bool = True,
        event_id: str | None = None,
    ) -> PaymentContext:
        """One consistent BatchGetItem: the order, its tenant (`with_tenant`), the terminals of
        `sns` (at most MAX_LINES of them: within BatchGetItem's 100 keys) and, given `event_id`,
        the record of that Stripe event (`event_seen`)."""
        pk = keys.tenant_pk(tenant_id)
        wanted = [(pk, keys.order_sk(order_id)), *((pk, keys.terminal_sk(sn)) for sn in set(sns))]
        if with_tenant:
            wanted.append((pk, keys.tenant_profile_sk()))
        if event_id is not None:
            wanted.append((keys.stripe_event_pk(event_id), keys.stripe_event_sk()))
        context = PaymentContext(None, sns=frozenset(sns))
        for found in Item.batch_get(wanted, consistent_read=True):
            if isinstance(found, StripeEventItem):
                context.event_seen = True
            elif isinstance(found, OrderItem):
                context.order = found
            elif isinstance(found, TenantItem):
                context.tenant = found
            elif isinstance(found, TerminalItem):
                context.terminals[found.sn] = found
        return context

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        return query_page(
            OrderItem.gsi1.query,
            keys.orders_gsi1pk(tenant_id),
            cursor,
            to_order,
            hash_attr="gsi1pk",
            kind=OrderItem,
            filter_condition=(OrderItem.status == status) if status else None,
            limit=limit,
            scan_index_forward=False,
        )

    @staticmethod
    def _filters(lower: str | None, upper: str | None, status: str | None, channel: str | None, sn: str | None) -> Any:
        """(range condition, filter) of the order list: created-at range keyed, the rest filtered."""
        sort = OrderItem.gsi1sk
        range_cond: Any = (
            sort.between(lower, upper)
            if lower and upper
            else sort >= lower
            if lower
            else sort < upper
            if upper
            else None
        )
        filt: Any = None
        for cond in (
            OrderItem.status == status if status else None,
            OrderItem.channel == channel if channel else None,
            # lines_json is json.dumps of the lines: an SN on any line reads exactly like this.
            OrderItem.lines_json.contains(f'"sn": "{sn}"') if sn else None,
        ):
            if cond is not None:
                filt = cond if filt is None else filt & cond
        return range_cond, filt

    def filtered_page(
        self, tenant_id: str, conditions: dict[str, str | None], limit: int, cursor: str | None, budget: int
    ) -> Page[Order]:
        """Newest first; at most `budget` orders evaluated (a next_cursor goes on from there)."""
        pk = keys.orders_gsi1pk(tenant_id)
        start = decode_cursor(cursor, hash_attr="gsi1pk", hash_value=pk)
        range_cond, filt = self._filters(**conditions)
        found: list[Order] = []
        evaluated = 0
        last: dict[str, Any] | None = None
        while True:
            # Unfiltered, a page reads just what is shown; filtered, up to 200 to look through.
            size = max(1, min(200 if filt is not None else limit - len(found), budget - evaluated))
            pages = OrderItem.gsi1.query(
                pk, range_cond, filt, page_size=size, last_evaluated_key=start, scan_index_forward=False
            ).page_iter
            page = next(pages)
            evaluated += int(page.get("ScannedCount", 0))
            items = page.get("Items", [])
            taken = items[: limit - len(found)]
            for raw in taken:
                found.append(to_order(OrderItem.from_raw_data(raw)))
                last = {k: raw[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
            start = page.get("LastEvaluatedKey")
            if len(taken) < len(items):
                return Page(found, encode_cursor(last))  # cut inside a page: go on after the last shown
            if not start:
                return Page(found, None)
            if len(found) == limit or evaluated >= budget:
                return Page(found, encode_cursor(start))

    def count_filtered(self, tenant_id: str, conditions: dict[str, str | None], budget: int) -> int | None:
        """How many orders the filters select (reads as much as listing them all); None past budget."""
        range_cond, filt = self._filters(**conditions)
        pages = OrderItem.gsi1.query(
            keys.orders_gsi1pk(tenant_id), range_cond, filt, attributes_to_get=["pk"], page_size=1000
        ).page_iter
        total = scanned = 0
        for page in pages:
            total += int(page.get("Count", 0))
            scanned += int(page.get("ScannedCount", 0))
            if page.get("LastEvaluatedKey") and scanned >= budget:
                return None
        return total

    def pending_due(self, shard: int, before: datetime, limit: int) -> list[OrderItem]:
        result = OrderItem.gsi2.query(
            keys.pending_orders_gsi2pk(shard), OrderItem.gsi2sk < iso_utc(before), limit=limit
        )
        return [i for i in result if isinstance(i, OrderItem)]

    def transition(self, item: OrderItem, move: StatusMove, now: datetime) -> bool:
        """Move an order to `move.to` if it is in `move.allowed` (and record the Stripe event with it).
        Returns False when the order was no longer in an allowed status."""
        item.status = move.to.value
        item.updated_at = now
        if move.to is not OrderStatus.PENDING_PAYMENT:
            item.gsi2pk = item.gsi2sk = None
        if move.audit:
            item.audit_json = json.dumps([*json.loads(item.audit_json or "[]"), move.audit], ensure_ascii=False)
        event = move.event
        record = _event_item(event[0], event[1], f"order->{move.to.value}", now) if event else None
        failed = self._write(OrderWrite(item, move.allowed, record), "could not update the order; retry", REFUSED)
        return failed is None

    def record_event(self, event_id: str, event_type: str, outcome: str, now: datetime) -> bool:
        """Remember an event that changed nothing; False if it was already recorded."""
        try:
            _event_item(event_id, event_type, outcome, now).save(condition=StripeEventItem.pk.does_not_exist())
            return True
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise

    def event_seen(self, event_id: str) -> bool:
        try:
            StripeEventItem.get(keys.stripe_event_pk(event_id), keys.stripe_event_sk(), consistent_read=True)
            return True
        except StripeEventItem.DoesNotExist:
            return False

    def commit(
        self,
        order_item: OrderItem,
        order: Order,
        allowed: frozenset[OrderStatus],
        now: datetime,
        *,
        terminals: Sequence[tuple[TerminalItem, Terminal]] = (),
        items: Sequence[Item] = (),
        event: tuple[str, str] | None = None,
        event_outcome: str = "applied",
        stamps: dict[str, datetime] | None = None,
        counters: Sequence[tuple[RateLimitItem, list[Action]]] = (),
    ) -> str:
        """One transaction: the order (its status in `allowed` and its version unchanged), the
        Stripe event record (not applied yet), the terminals (version-checked), new items (ledger
        lines, queued messages, outbox entries: each written once) and counters (rate-limit
        windows, ADD). Returns "ok", "order_state" (the order changed or left `allowed`),
        "duplicate_event" (the event was applied meanwhile), or "terminal_changed" (a concurrent
        change to a terminal or a clash of new items: reload and retry)."""
        write_order(order_item, order)
        for name, value in (stamps or {}).items():
            setattr(order_item, name, value)
        order_item.updated_at = now
        if order.status is not OrderStatus.PENDING_PAYMENT:
            order_item.gsi2pk = order_item.gsi2sk = None
        for item, terminal in terminals:
            fill_item(item, terminal)
            item.updated_at = now
        record = _event_item(event[0], event[1], event_outcome, now) if event else None
        staged = OrderWrite(order_item, allowed, record, [item for item, _ in terminals], items, counters)
        # On a refusal the version PynamoDB put on the items is the truth for the next attempt: reload.
        codes = self._write(staged, "could not save the order; it will be retried")
        if codes is None:
            return "ok"
        if event and codes[1] == "ConditionalCheckFailed":
            return "duplicate_event"  # another delivery of this event committed first
        if codes[0] == "ConditionalCheckFailed":
            return "order_state"
        return "terminal_changed"  # a terminal changed, a new item clashed, or a TransactionConflict

    # --- the payment port (simrenew.ports.fulfilment.PaymentStore): fulfilment and refunds ---------------
    def as_order(self, stored: OrderItem) -> Order:
        return to_order(stored)

    def as_terminal(self, stored: TerminalItem) -> Terminal:
        return to_terminal(stored)

    def read_context(self, context: PaymentContext) -> PaymentRead[OrderItem, TerminalItem]:
        from simrenew.adapters.dynamodb.tenants import to_domain

        tenant = to_domain(context.tenant) if context.tenant is not None else None
        return PaymentRead(context.order, tenant, context.sns, context.terminals)

    def reread(self, tenant_id: str, order_id: str, sns: Sequence[str]) -> PaymentRead[OrderItem, TerminalItem]:
        return self.read_context(self.payment_context(tenant_id, order_id, sns, with_tenant=False))

    def apply(
        self,
        stored: OrderItem,
        order: Order,
        allowed: frozenset[OrderStatus],
        now: datetime,
        change: OrderChange[TerminalItem] | None = None,
        *,
        event: tuple[str, str] | None = None,
        event_outcome: str = "applied",
        stamps: Mapping[str, datetime] | None = None,
        first_stamps: Mapping[str, datetime] | None = None,
    ) -> str:
        """`commit` of the order and the items of `change` (built in order_changes): one transaction."""
        from simrenew.adapters.dynamodb.order_changes import change_items, hit_updates

        change = change or OrderChange()
        written = {name: getattr(stored, name) or value for name, value in (first_stamps or {}).items()}
        return self.commit(
            stored,
            order,
            allowed,
            now,
            terminals=change.terminals,
            items=change_items(order.tenant_id, change, now),
            event=event,
            event_outcome=event_outcome,
            stamps={**written, **(stamps or {})},
            counters=hit_updates(change.counters, now),
        )

    def count_hits(self, hits: Sequence[Hits], now: datetime) -> None:
        from simrenew.adapters.dynamodb.order_changes import hit_updates

        for counter, actions in hit_updates(hits, now):
            counter.update(actions)  # no limit: a payment is never refused, only new orders are

    def renewals(self, tenant_id: str, sn: str) -> list[RenewalItem]:
        pk = keys.tenant_pk(tenant_id)
        return list(RenewalItem.query(pk, RenewalItem.sk.startswith(keys.renewals_prefix(sn))))

    def ledger(self, tenant_id: str, sn: str) -> list[LedgerEntry]:
        """`renewals` as the ledger port's domain values (simrenew.ports.orders.Ledger)."""
        return [
            from_item(
                r,
                LedgerEntry,
                kind=r.entry,
                new_expires_on=r.new_expiry,
                amount_fen=int(r.amount_fen),
                term_months=int(r.term_months),
                by=r.actor,
            )
            for r in self.renewals(tenant_id, sn)
        ]


def _event_item(event_id: str, event_type: str, outcome: str, now: datetime) -> StripeEventItem:
    from datetime import timedelta

    return StripeEventItem(
        keys.stripe_event_pk(event_id),
        keys.stripe_event_sk(),
        event_type=event_type,
        outcome=outcome,
        created_at=now,
        ttl=now + timedelta(days=EVENT_RETENTION_DAYS),
    )


def ledger_line(
    terminal: Terminal,
    kind: str,
    source: str,
    index: int,
    old: str,
    new: str,
    amount_fen: int,
    term_months: int,
    now: datetime,
    *,
    actor: str | None = None,
    note: str | None = None,
) -> RenewalItem:
    return RenewalItem(
        keys.tenant_pk(terminal.tenant_id),
        keys.renewal_sk(terminal.sn, iso_utc(now), source, index, kind),
        tenant_id=terminal.tenant_id,
        sn=terminal.sn,
        entry=kind,
        source=source,
        old_expires_on=old,
        new_expiry=new,
        amount_fen=amount_fen,
        term_months=term_months,
        actor=actor,
        note=note,
        created_at=now,
    )
