"""Renewal orders and payments: quotes, agent and public orders, Stripe PaymentIntents,
signed webhooks, exactly-once fulfilment, offline payment, refunds, order expiry."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from simrenew.adapters.dynamodb.fleet import (
    MerchantRepository,
    PlanRepository,
    TerminalRepository,
    pending_event,
    to_terminal,
)
from simrenew.adapters.dynamodb.models import Item, OrderItem, TerminalItem
from simrenew.adapters.dynamodb.orders import PENDING_SHARDS, OrderRepository, ledger_line, to_order
from simrenew.adapters.dynamodb.paging import Page
from simrenew.adapters.dynamodb.ratelimit import RateLimiter
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.adapters.payments import PaymentGateway
from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.contact import mask_name
from simrenew.domain.fleet import Terminal, TerminalStatus, reject_unknown
from simrenew.domain.identifiers import normalize_sn
from simrenew.domain.orders import (
    MAX_LINES,
    MAX_ORDER_FEN,
    ORDERS_PER_TERMINAL_PER_DAY,
    PAYABLE,
    PAYMENT_WINDOW_MINUTES,
    REFUNDABLE,
    Order,
    OrderStatus,
    expiry_after_line_refund,
    line_refund,
    quote_line,
    renewed_terminal,
)
from simrenew.domain.tenant import Tenant
from simrenew.errors import Conflict, NotFound, RateLimited, RuleViolation, TransientStoreError, ValidationError
from simrenew.ids import new_id, new_secret
from simrenew.log import get_logger

PUBLIC_LOOKUPS_PER_MINUTE = 30
PUBLIC_ORDERS_PER_HOUR = 20
APPLY_ATTEMPTS = 8


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OrderService:
    def __init__(
        self,
        tenants: TenantRepository,
        terminals: TerminalRepository,
        plans: PlanRepository,
        merchants: MerchantRepository,
        orders: OrderRepository,
        gateway: PaymentGateway,
        rate_limiter: RateLimiter,
        clock: Clock,
    ) -> None:
        self._tenants = tenants
        self._terminals = terminals
        self._plans = plans
        self._merchants = merchants
        self.orders = orders
        self._gateway = gateway
        self._rate = rate_limiter
        self._clock = clock
        self.emitter: Any = None  # agent webhooks (order.fulfilled, order.refunded), set by the composition root

    def _tenant(self, tenant_id: str) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such agent", code="tenant_not_found")
        return tenant

    # --- public lookup (查询余额) ------------------------------------------------------------------
    def _find_public(self, sn_or_tid: str) -> tuple[Tenant, Terminal]:
        raw = sn_or_tid.strip().upper()
        missing = NotFound("no terminal with this serial number or terminal number", code="terminal_not_found")
        kind = "tid" if raw.isdigit() and len(raw) == 8 else "sn"
        try:
            value = raw if kind == "tid" else normalize_sn(raw)
        except ValidationError:
            raise missing from None
        claim = self._terminals.claim(kind, value)
        if claim is None:
            raise missing
        tenant = self._tenants.get(claim.tenant_id)
        terminal = self._terminals.get(claim.tenant_id, claim.sn)
        if tenant is None or terminal is None or tenant.status.value != "active":
            raise missing
        return tenant, terminal

    def public_lookup(self, sn_or_tid: str, client_id: str) -> dict[str, Any]:
        self._rate.hit("public-lookup", client_id, limit=PUBLIC_LOOKUPS_PER_MINUTE, window_s=60, now=self._clock.now())
        tenant, terminal = self._find_public(sn_or_tid)
        merchant = self._merchants.get(tenant.tenant_id, terminal.merchant_id) if terminal.merchant_id else None
        plans = [p for p in self._plans.all(tenant.tenant_id) if p.active]
        fee = tenant.settings.service_fee
        return {
            "sn": terminal.sn,
            "tid": terminal.tid,
            "carrier": terminal.carrier,
            "model": terminal.model,
            "status": terminal.status.value,
            "expires_on": terminal.expires_on.isoformat(),
            "days_left": (terminal.expires_on - today_in(self._clock, tenant.settings.timezone)).days,
            "data_quota_mb": terminal.data_quota_mb,
            "data_used_mb": terminal.data_used_mb,
            "merchant_name_masked": mask_name(merchant.name) if merchant else None,
            "agent_name": tenant.name,
            "renewable": terminal.status is not TerminalStatus.DEACTIVATED,
            "plans": [
                {
                    **{
                        k: v
                        for k, v in q.to_json().items()
                        if k
                        in ("plan_id", "plan_name", "term_months", "data_quota_mb", "price_fen", "fee_fen", "total_fen")
                    },
                    "name": q.plan_name,
                }
                for q in (quote_line(terminal.sn, p, fee) for p in sorted(plans, key=lambda p: p.term_months))
            ],
            "payment_methods": list(tenant.settings.payment_methods),
            "currency": "CNY",
        }

    # --- creating orders -------------------------------------------------------------------------------
    def create(self, tenant_id: str, body: dict[str, Any], *, actor: str) -> tuple[Order, dict[str, Any] | None]:
        reject_unknown(body, ("lines", "payment"))
        payment = body.get("payment", "online")
        if payment not in ("online", "offline"):
            raise ValidationError("payment", "invalid_choice", "payment must be online or offline")
        lines = body.get("lines")
        if not isinstance(lines, list) or not lines:
            raise ValidationError("lines", "required", "lines must be a non-empty list of {sn, plan_id}")
        if len(lines) > MAX_LINES:
            raise ValidationError("lines", "too_many", f"at most {MAX_LINES} lines per order")
        pairs = []
        for i, line in enumerate(lines):
            if not isinstance(line, dict):
                raise ValidationError(f"lines[{i}]", "invalid_type", "each line is an object {sn, plan_id}")
            reject_unknown(line, ("sn", "plan_id"))
            if not isinstance(line.get("sn"), str):
                raise ValidationError(f"lines[{i}].sn", "required", "sn is required")
            try:
                sn = normalize_sn(line["sn"])
            except ValidationError as err:
                raise ValidationError(f"lines[{i}].sn", err.code, err.message) from None
            if not isinstance(line.get("plan_id"), str):
                raise ValidationError(f"lines[{i}].plan_id", "required", "plan_id is required")
            pairs.append((sn, line["plan_id"]))
        if len({sn for sn, _ in pairs}) != len(pairs):
            raise ValidationError("lines", "duplicate_terminal", "a terminal may appear once per order")
        return self._create(self._tenant(tenant_id), pairs, payment, "agent", actor)

    def public_create(self, body: dict[str, Any], client_id: str) -> tuple[Order, dict[str, Any], str]:
        reject_unknown(body, ("sn", "plan_id"))
        for name in ("sn", "plan_id"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise ValidationError(name, "required", f"{name} is required")
        self._rate.hit("public-order", client_id, limit=PUBLIC_ORDERS_PER_HOUR, window_s=3600, now=self._clock.now())
        tenant, terminal = self._find_public(body["sn"])
        order, payment = self._create(tenant, [(terminal.sn, body["plan_id"])], "online", "public", "merchant")
        assert payment is not None
        return order, payment, payment.pop("order_token")

    def _create(
        self, tenant: Tenant, pairs: list[tuple[str, str]], payment: str, channel: str, actor: str
    ) -> tuple[Order, dict[str, Any] | None]:
        now = self._clock.now()
        plans = {p.plan_id: p for p in self._plans.all(tenant.tenant_id)}
        found = self._terminals.get_many(tenant.tenant_id, [sn for sn, _ in pairs])
        lines = []
        for i, (sn, plan_id) in enumerate(pairs):
            found_item = found.get(sn)
            if found_item is None:
                raise NotFound(f"no terminal {sn}", code="terminal_not_found")
            if found_item.status == TerminalStatus.DEACTIVATED.value:
                raise RuleViolation(f"terminal {sn} is deactivated and cannot be renewed", code="terminal_deactivated")
            plan = plans.get(plan_id)
            if plan is None or not plan.active:
                pfield = "plan_id" if channel == "public" else f"lines[{i}].plan_id"
                raise ValidationError(pfield, "unknown_plan", "plan_id is not an active plan of this agent")
            lines.append(quote_line(sn, plan, tenant.settings.service_fee))
        order = Order(
            order_id=new_id("o"),
            tenant_id=tenant.tenant_id,
            status=OrderStatus.PENDING_PAYMENT,
            lines=lines,
            payment=payment,
            channel=channel,
            created_at=iso_utc(now),
            expires_at=iso_utc(now + timedelta(minutes=PAYMENT_WINDOW_MINUTES)),
            audit=[{"action": "created", "by": actor, "at": iso_utc(now)}],
        )
        if order.amount_fen > MAX_ORDER_FEN:
            raise RuleViolation(f"an order may not exceed {MAX_ORDER_FEN} fen", code="amount_too_large")
        for sn, _ in pairs:
            try:
                self._rate.hit(
                    "orders-per-terminal",
                    f"{tenant.tenant_id}#{sn}",
                    limit=ORDERS_PER_TERMINAL_PER_DAY,
                    window_s=86_400,
                    now=now,
                )
            except RateLimited as exc:
                raise RateLimited(
                    f"terminal {sn} has had {ORDERS_PER_TERMINAL_PER_DAY} orders today; try tomorrow",
                    retry_after_s=exc.retry_after_s,
                    code="too_many_orders",
                ) from None
        token = new_secret(24) if channel == "public" else None
        item = self.orders.create(
            order, _hash(token) if token else None, now, now + timedelta(minutes=PAYMENT_WINDOW_MINUTES)
        )
        if payment == "offline":
            return order, None
        fee_total = order.fee_fen
        intent = self._gateway.create_intent(
            order_id=order.order_id,
            amount_fen=order.amount_fen,
            methods=list(tenant.settings.payment_methods),
            connected_account=tenant.stripe_account_id,
            application_fee_fen=fee_total,
            metadata={"order_id": order.order_id, "tenant_id": tenant.tenant_id},
        )
        self.orders.attach_intent(item, intent.id, now)
        order = replace(order, payment_intent_id=intent.id)
        pay = {
            "client_secret": intent.client_secret,
            "publishable_key": self._gateway.publishable_key,
            "payment_intent_id": intent.id,
            "stripe_js_url": self._gateway.js_url,
        }
        if token:
            pay["order_token"] = token
        return order, pay

    # --- reading --------------------------------------------------------------------------------------------
    def get(self, tenant_id: str, order_id: str) -> Order:
        item = self.orders.item(tenant_id, order_id) if order_id.startswith("o_") else None
        if item is None:
            raise NotFound("no such order", code="order_not_found")
        return to_order(item)

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        if status is not None and status not in {s.value for s in OrderStatus}:
            raise ValidationError("status", "invalid_choice", "unknown order status")
        return self.orders.page(tenant_id, status, limit, cursor)

    def _public_item(self, order_id: str, token: str | None) -> OrderItem:
        item = self.orders.by_order_id(order_id) if order_id.startswith("o_") else None
        if item is None or not token or not item.token_hash or not hmac.compare_digest(item.token_hash, _hash(token)):
            raise NotFound("no such order", code="order_not_found")
        return item

    def public_status(self, order_id: str, token: str | None) -> dict[str, Any]:
        item = self._public_item(order_id, token)
        order = to_order(item)
        line = order.lines[0]
        if order.status is OrderStatus.PENDING_PAYMENT and item.expires_at <= self._clock.now():
            self._expire(item)
            order = to_order(self.orders.item(order.tenant_id, order.order_id) or item)
        return {
            "order_id": order.order_id,
            "status": order.status.value,
            "amount_fen": order.amount_fen,
            "sn": line.sn,
            "expires_on_before": line.expires_before,
            "expires_on_after": line.expires_after,
        }

    def public_confirm(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Server-side confirmation with a PaymentMethod (the local card flow; real Stripe
        supports it too). Fulfilment still waits for the signed webhook."""
        reject_unknown(body, ("token", "payment_method"))
        if not isinstance(body.get("payment_method"), str) or not body["payment_method"].strip():
            raise ValidationError("payment_method", "required", "payment_method is required")
        item = self._public_item(order_id, body.get("token") if isinstance(body.get("token"), str) else None)
        if item.status not in (OrderStatus.PENDING_PAYMENT.value, OrderStatus.FAILED.value):
            raise Conflict(f"the order is {item.status}", code="order_not_payable")
        if item.expires_at <= self._clock.now():
            self._expire(item)
            raise RuleViolation("the order expired; start again", code="order_expired")
        assert item.payment_intent_id
        status = self._gateway.confirm(item.payment_intent_id, body["payment_method"].strip())
        return {"order_id": order_id, "payment_status": status}

    # --- offline payment -----------------------------------------------------------------------------------
    def mark_paid(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        reject_unknown(body, ("note",))
        note = body.get("note")
        if not isinstance(note, str) or not note.strip() or len(note) > 500:
            raise ValidationError("note", "required", "note is required (who paid, how): up to 500 characters")
        item = self.orders.item(tenant_id, order_id) if order_id.startswith("o_") else None
        if item is None:
            raise NotFound("no such order", code="order_not_found")
        if OrderStatus(item.status) not in PAYABLE:
            raise Conflict(f"the order is {item.status}", code="order_not_payable")
        audit = {"action": "mark_paid", "by": actor, "note": note.strip(), "at": iso_utc(self._clock.now())}
        outcome = self._fulfil(item, None, audit)
        if outcome != "ok":
            raise Conflict("the order changed meanwhile", code="order_not_payable")
        if item.payment_intent_id:
            self._gateway.cancel(item.payment_intent_id)
        return self.get(tenant_id, order_id)

    # --- fulfilment ---------------------------------------------------------------------------------------------
    def _fulfil(self, item: OrderItem, event: tuple[str, str] | None, audit: dict[str, Any]) -> str:
        """Extend every line's terminal, write the ledger and mark the order fulfilled in one
        transaction; a concurrent renewal of the same terminal makes it reload and retry."""
        tenant = self._tenant(item.tenant_id)
        for _attempt in range(APPLY_ATTEMPTS):
            now = self._clock.now()
            today = today_in(self._clock, tenant.settings.timezone)
            order = to_order(item)
            loaded = self._terminals.get_many(item.tenant_id, [line.sn for line in order.lines])
            updates: list[tuple[TerminalItem, Terminal]] = []
            ledger: list[Item] = []
            for index, line in enumerate(order.lines):
                t_item = loaded.get(line.sn)
                if t_item is None:
                    return self._review(item, event, f"terminal {line.sn} no longer belongs to this agent")
                current = to_terminal(t_item)
                if current.status is TerminalStatus.DEACTIVATED:
                    return self._review(item, event, f"terminal {line.sn} is deactivated")
                updated = renewed_terminal(
                    current,
                    today,
                    term_months=line.term_months,
                    data_quota_mb=line.data_quota_mb,
                    plan_id=line.plan_id,
                    basis=tenant.settings.renewal_basis,
                )
                new = updated.expires_on
                status = updated.status
                line.expires_before = current.expires_on.isoformat()
                line.expires_after = new.isoformat()
                updates.append((t_item, updated))
                ledger.append(
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
                # The merchant's receipt, queued in the same transaction (sent by the notifier).
                ledger.append(
                    pending_event(
                        updated,
                        f"receipt#{order.order_id}",
                        line.expires_after,
                        {
                            "order_id": order.order_id,
                            "expires_on": line.expires_after,
                            "amount_fen": line.total_fen,
                            "reactivated": current.status != status,
                        },
                        now,
                    )
                )
            item.audit_json = json.dumps([*order.audit, audit], ensure_ascii=False)
            outcome = self.orders.apply(
                item,
                order,
                PAYABLE,
                updates,
                ledger,
                now,
                event,
                {"status": OrderStatus.FULFILLED.value, "paid_at": item.paid_at or now, "fulfilled_at": now},
            )
            if outcome != "terminal_changed":
                if outcome == "ok":
                    self._emit(order.tenant_id, "order.fulfilled", order)
                    get_logger().info(
                        "order fulfilled", extra={"order_id": order.order_id, "tenant_id": order.tenant_id}
                    )
                return outcome
            fresh = self.orders.item(item.tenant_id, item.order_id)
            if fresh is None:
                return "order_state"
            item = fresh
        raise TransientStoreError("the terminal kept changing; the payment will be retried")

    def _emit(self, tenant_id: str, event_type: str, order: Order) -> None:
        if self.emitter is not None:
            data = {
                "order_id": order.order_id,
                "amount_fen": order.amount_fen,
                "currency": order.currency,
                "lines": [line.to_json() for line in order.lines],
            }
            self.emitter.emit(tenant_id, event_type, data)

    def _review(self, item: OrderItem, event: tuple[str, str] | None, reason: str) -> str:
        audit = {"action": "needs_review", "reason": reason, "at": iso_utc(self._clock.now())}
        ok = self.orders.transition(item, OrderStatus.NEEDS_REVIEW, PAYABLE, self._clock.now(), audit, event)
        return "needs_review" if ok else "order_state"

    def _expire(self, item: OrderItem) -> bool:
        ok = self.orders.transition(
            item,
            OrderStatus.EXPIRED,
            frozenset({OrderStatus.PENDING_PAYMENT}),
            self._clock.now(),
            {"action": "expired", "at": iso_utc(self._clock.now())},
        )
        if ok and item.payment_intent_id:
            self._gateway.cancel(item.payment_intent_id)
        return ok

    def expire_due(self, limit: int = 500) -> int:
        """Unpaid orders past their 30 minutes: expired, PaymentIntent cancelled."""
        count = 0
        for shard in range(PENDING_SHARDS):
            for item in self.orders.pending_due(shard, self._clock.now(), limit):
                fresh = self.orders.item(item.tenant_id, item.order_id)
                if fresh is not None and fresh.status == OrderStatus.PENDING_PAYMENT.value and self._expire(fresh):
                    count += 1
        return count

    # --- webhooks -------------------------------------------------------------------------------------------------
    def handle_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        event = self._gateway.verify_event(payload, signature)
        event_id, event_type = str(event["id"]), str(event["type"])
        if self.orders.event_seen(event_id):
            return {"received": True, "duplicate": True}
        obj = (event.get("data") or {}).get("object") or {}
        ref = (event_id, event_type)
        now = self._clock.now()
        if event_type.startswith("payment_intent."):
            item = self.orders.by_intent(str(obj.get("id", "")))
        elif event_type.startswith("charge."):
            item = self.orders.by_intent(str(obj.get("payment_intent") or ""))
        else:
            item = None
        if item is None:
            self.orders.record_event(event_id, event_type, "ignored", now)
            return {"received": True, "ignored": True}
        if event_type == "payment_intent.succeeded":
            amount = obj.get("amount_received") or obj.get("amount")
            currency = str(obj.get("currency", "")).upper()
            if amount != int(item.amount_fen) or currency != item.currency:
                outcome = self._review(
                    item, ref, f"paid {amount} {currency}, order is {item.amount_fen} {item.currency}"
                )
            else:
                outcome = self._fulfil(
                    item, ref, {"action": "paid", "via": "stripe", "event": event_id, "at": iso_utc(now)}
                )
        elif event_type == "payment_intent.payment_failed":
            ok = self.orders.transition(
                item,
                OrderStatus.FAILED,
                frozenset({OrderStatus.PENDING_PAYMENT}),
                now,
                {"action": "payment_failed", "at": iso_utc(now)},
                ref,
            )
            outcome = "failed" if ok else "order_state"
        elif event_type == "payment_intent.canceled":
            ok = self.orders.transition(
                item,
                OrderStatus.EXPIRED,
                frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.FAILED}),
                now,
                {"action": "canceled", "at": iso_utc(now)},
                ref,
            )
            outcome = "expired" if ok else "order_state"
        elif event_type == "charge.refunded":
            outcome = self._refund_from_stripe(item, int(obj.get("amount_refunded") or 0), ref)
        elif event_type == "charge.dispute.created":
            ok = self.orders.transition(
                item,
                OrderStatus.NEEDS_REVIEW,
                REFUNDABLE | PAYABLE,
                now,
                {"action": "dispute", "at": iso_utc(now)},
                ref,
            )
            outcome = "needs_review" if ok else "order_state"
        else:
            outcome = "ignored"
        if outcome in ("order_state", "ignored"):
            self.orders.record_event(event_id, event_type, outcome, now)
        return {"received": True, "outcome": outcome}

    # --- refunds ------------------------------------------------------------------------------------------------
    def refund(self, tenant_id: str, order_id: str, body: dict[str, Any], actor: str) -> Order:
        reject_unknown(body, ("amount_fen", "reason"))
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
            raise ValidationError("reason", "required", "reason is required (up to 500 characters)")
        item = self.orders.item(tenant_id, order_id) if order_id.startswith("o_") else None
        if item is None:
            raise NotFound("no such order", code="order_not_found")
        order = to_order(item)
        if order.status not in REFUNDABLE:
            raise Conflict(f"the order is {order.status.value}: nothing to refund", code="order_not_refundable")
        tenant = self._tenant(tenant_id)
        today = today_in(self._clock, tenant.settings.timezone)
        plan = [line_refund(line, today) for line in order.lines]
        refundable = sum(p.amount_fen for p in plan)
        amount = body.get("amount_fen", refundable)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValidationError("amount_fen", "invalid_amount", "amount_fen must be a positive whole number of fen")
        if amount > refundable:
            raise RuleViolation(f"at most {refundable} fen can be refunded now", code="refund_too_large")
        if order.payment == "online" and order.payment_intent_id:
            self._gateway.refund(order.payment_intent_id, amount, f"refund-{order_id}-{order.refunded_fen}")
        audit = {
            "action": "refund",
            "by": actor,
            "reason": reason.strip(),
            "amount_fen": amount,
            "at": iso_utc(self._clock.now()),
        }
        self._apply_refund(item, amount, amount == refundable, audit, None)
        return self.get(tenant_id, order_id)

    def _refund_from_stripe(self, item: OrderItem, amount_refunded: int, ref: tuple[str, str]) -> str:
        """A refund made in the Stripe dashboard (or the echo of ours): apply what is new."""
        new = amount_refunded - int(item.refunded_fen or 0)
        if new <= 0:
            return "order_state"
        order = to_order(item)
        tenant = self._tenant(item.tenant_id)
        today = today_in(self._clock, tenant.settings.timezone)
        refundable = sum(line_refund(line, today).amount_fen for line in order.lines)
        audit = {"action": "refund", "via": "stripe", "amount_fen": new, "at": iso_utc(self._clock.now())}
        return self._apply_refund(item, new, new >= refundable, audit, ref)

    def _apply_refund(
        self, item: OrderItem, amount: int, move_expiry: bool, audit: dict[str, Any], event: tuple[str, str] | None
    ) -> str:
        tenant = self._tenant(item.tenant_id)
        for _attempt in range(APPLY_ATTEMPTS):
            now = self._clock.now()
            today = today_in(self._clock, tenant.settings.timezone)
            order = to_order(item)
            updates: list[tuple[TerminalItem, Terminal]] = []
            ledger = []
            if move_expiry:
                loaded = self._terminals.get_many(item.tenant_id, [line.sn for line in order.lines])
                for index, line in enumerate(order.lines):
                    part = line_refund(line, today)
                    t_item = loaded.get(line.sn)
                    if t_item is None or (part.months == 0 and part.amount_fen == 0):
                        continue
                    current = to_terminal(t_item)
                    back = expiry_after_line_refund(line, current.expires_on, today, part.months)
                    updates.append((t_item, replace(current, expires_on=back)))
                    ledger.append(
                        ledger_line(
                            current,
                            "reversal",
                            order.order_id,
                            index,
                            current.expires_on.isoformat(),
                            back.isoformat(),
                            -part.amount_fen,
                            -part.months,
                            now,
                        )
                    )
                    line.refunded_fen += part.amount_fen
                    line.refunded_months += part.months
            total = order.refunded_fen + amount
            status = OrderStatus.REFUNDED if total >= order.amount_fen else OrderStatus.PARTIALLY_REFUNDED
            item.audit_json = json.dumps([*order.audit, audit], ensure_ascii=False)
            outcome = self.orders.apply(
                item, order, REFUNDABLE, updates, ledger, now, event, {"status": status.value, "refunded_fen": total}
            )
            if outcome != "terminal_changed":
                if outcome == "ok":
                    self._emit(order.tenant_id, "order.refunded", order)
                return outcome
            fresh = self.orders.item(item.tenant_id, item.order_id)
            if fresh is None:
                return "order_state"
            item = fresh
        raise TransientStoreError("the terminal kept changing; retry the refund")

    # --- ledger -------------------------------------------------------------------------------------------------
    def renewals(self, tenant_id: str, sn: str) -> list[dict[str, Any]]:
        key = self._terminals.existing(tenant_id, sn).sn
        return [
            {
                "kind": r.entry,
                "source": r.source,
                "old_expires_on": r.old_expires_on,
                "new_expires_on": r.new_expiry,
                "amount_fen": int(r.amount_fen),
                "term_months": int(r.term_months),
                "created_at": iso_utc(r.created_at) if r.created_at else None,
            }
            for r in self.orders.renewals(tenant_id, key)
        ]
