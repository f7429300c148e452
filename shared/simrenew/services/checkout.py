"""Checkout: the merchant's balance query (查询余额), quotes, agent and public orders with
their Stripe PaymentIntents, the public order status, and the 30-minute expiry of unpaid
orders (their PaymentIntents cancelled)."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.contact import mask_name
from simrenew.domain.fleet import Terminal, TerminalStatus, reject_unknown
from simrenew.domain.identifiers import normalize_sn
from simrenew.domain.orders import (
    MAX_LINES,
    MAX_ORDER_FEN,
    ORDERS_PER_TERMINAL_PER_DAY,
    PAYMENT_WINDOW_MINUTES,
    UNPAID,
    OpenSlot,
    Order,
    OrderStatus,
    PublicGuards,
    StatusMove,
    quote_line,
    renewed_expiry,
)
from simrenew.domain.tenant import Tenant
from simrenew.errors import Conflict, NotFound, RateLimited, RuleViolation, ValidationError
from simrenew.ids import new_id, new_secret
from simrenew.log import get_logger
from simrenew.services.lookups import order_item_or_404, tenant_or_404
from simrenew.services.rate_leases import RateLeases

if TYPE_CHECKING:  # types only: the look-up's cold start imports no port module for them
    from collections.abc import Callable, Sequence

    from simrenew.ports.checkout import CheckoutOrders, CheckoutStore, Counter, OpenOrder, OrderRecord, TenantContext
    from simrenew.ports.fleet import Merchants, Plans, Terminals
    from simrenew.ports.paging import Page
    from simrenew.ports.payments import PaymentGateway
    from simrenew.ports.ratelimit import RateLimits
    from simrenew.ports.tenants import Tenants

#: The order as the store holds it (an OrderItem in DynamoDB): read through OrderRecord, handed back.
Stored = TypeVar("Stored")

PUBLIC_LOOKUPS_PER_MINUTE = 30
PUBLIC_ORDERS_PER_HOUR = 20
REUSE_MARGIN = timedelta(minutes=5)  # an open order with less time left is not handed out again
PUBLIC_OPEN_ORDERS_PER_TERMINAL = 5  # anonymous unpaid orders per terminal per payment window
STRIPE_METADATA_VALUE_MAX = 500  # characters in one metadata value (Stripe's limit)
PAID_RENEWALS_BUCKET = "paid-renewals-per-terminal"  # counted by fulfilment, checked here


def intent_metadata(order: Order) -> dict[str, str]:
    """What a PaymentIntent carries for its order, and Stripe sends back in every event about it:
    the tenant and the order, and the SNs of its lines when they fit in one metadata value (Stripe:
    at most 500 characters), so the payment's webhook reads the order, its tenant and its
    terminals in one request (issue 17) without the PaymentIntent's look-up first."""
    metadata = {"order_id": order.order_id, "tenant_id": order.tenant_id}
    sns = ",".join(dict.fromkeys(line.sn for line in order.lines))
    if len(sns) <= STRIPE_METADATA_VALUE_MAX:
        metadata["sns"] = sns
    return metadata


def _minutes_since(renewed_at: tuple[str, ...], now: datetime) -> int | None:
    """Minutes since the last paid renewal, if it was within 24 hours."""
    if not renewed_at:
        return None
    last = datetime.fromisoformat(renewed_at[-1].replace("Z", "+00:00"))
    minutes = int((now - last).total_seconds() // 60)
    return minutes if 0 <= minutes < 24 * 60 else None


class _StaleContext(Exception):
    """The order's transaction found the tenant's version moved on: the context is read again."""


def _missing() -> NotFound:
    return NotFound("no terminal with this serial number or terminal number", code="terminal_not_found")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _order_pairs(lines: Any) -> list[tuple[str, str]]:
    """An agent order's lines as (SN, plan_id), each checked; the field of the first bad one is named."""
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
    return pairs


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _beside(work: Callable[[], None]) -> Future[None]:
    """`work` (a rate-limit count) on a small pool of this container, with the caller's log context,
    while the caller goes on with its read (issue 17: the look-up's two requests in parallel)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=4, thread_name_prefix="beside"))
    run = contextvars.copy_context().run
    future: Future[None] = _POOL[0].submit(run, work)
    return future


@dataclass(eq=False, repr=False)
class CheckoutService(Generic[Stored]):
    _tenants: Tenants
    _terminals: Terminals
    _plans: Plans
    _merchants: Merchants
    _orders: CheckoutOrders[Stored]
    _gateway: PaymentGateway
    _rate: RateLimits
    _clock: Clock
    _store: CheckoutStore[Stored]
    direct: Any = field(default=None, init=False)  # DirectPaymentService (WeChat Pay, Alipay), set by OrderService

    def __post_init__(self) -> None:
        self._contexts = self._store.contexts  # per container (adapters/dynamodb/tenant_context.py says why it is safe)
        self._names = self._store.merchant_names
        self._leases = RateLeases(self._rate)  # per container, as the contexts

    def _rec(self, stored: Stored) -> OrderRecord:
        """What the checkout reads of a stored order."""
        return self._store.record(stored)

    def _tenant(self, tenant_id: str) -> Tenant:
        return tenant_or_404(self._tenants, tenant_id)

    # --- public lookup (查询余额) ------------------------------------------------------------------
    def find_public(self, sn_or_tid: str) -> tuple[Tenant, Terminal]:
        raw = sn_or_tid.strip().upper()
        missing = NotFound("no terminal with this serial number or terminal number", code="terminal_not_found")
        kind = "tid" if raw.isdigit() and len(raw) == 8 else "sn"
        try:
            value = raw if kind == "tid" else normalize_sn(raw)
        except ValidationError:
            raise missing from None
        claim = self._store.claimed(kind, value)
        if claim is None:
            raise missing
        tenant = self._tenants.get(claim[0])
        terminal = self._terminals.get(*claim)
        if tenant is None or terminal is None or tenant.status.value != "active":
            raise missing
        return tenant, terminal

    def _public_target(
        self, sn_or_tid: str, *, fresh: bool = False
    ) -> tuple[TenantContext, Terminal, Sequence[object] | None]:
        """The pay page's terminal and its agent's context (issue 17): the terminal in one Query of
        the pubsn / pubtid index (with the items read beside it, its open orders, opaque: handed back
        to the store; None when nothing was read beside it), the context from this container's cache
        (one Query when it is older than its TTL, or `fresh`). Unknown, malformed and inactive-agent are the
        same 404."""
        raw = sn_or_tid.strip().upper()
        kind = "tid" if raw.isdigit() and len(raw) == 8 else "sn"
        try:
            value = raw if kind == "tid" else normalize_sn(raw)
        except ValidationError:
            raise _missing() from None
        found = self._store.public_terminal(kind, value)
        if found is None:
            raise _missing()
        terminal, others = found
        ctx = self._contexts.get(terminal.tenant_id, self._clock.now(), fresh=fresh)
        if ctx is None or ctx.tenant.status.value != "active":
            raise _missing()
        return ctx, terminal, others

    def _merchant_name(self, tenant_id: str, merchant_id: str | None) -> str | None:
        """The merchant's name for the pay page's masked name, from this container's cache (a
        GetItem the first time, and once its TTL has passed)."""
        if not merchant_id:
            return None
        now = self._clock.now()
        cached, name = self._names.get(tenant_id, merchant_id, now)
        if not cached:
            merchant = self._merchants.get(tenant_id, merchant_id)
            name = merchant.name if merchant else None
            self._names.put(tenant_id, merchant_id, name, now)
        return name

    def _count_lookup(self, client_id: str) -> Future[None] | None:
        """The client's hit, spent from this container's lease (services/rate_leases.py: None, no
        request) or, when it has none left, leased beside the terminal's read (one round trip, not two)."""
        reserve = self._leases.take(
            "public-lookup", client_id, limit=PUBLIC_LOOKUPS_PER_MINUTE, window_s=60, now=self._clock.now()
        )
        return _beside(reserve) if reserve else None

    def public_lookup(self, sn_or_tid: str, client_id: str) -> dict[str, Any]:
        # A client over its limit gets its 429, whatever the read found.
        counted = self._count_lookup(client_id)
        try:
            ctx, terminal, _ = self._public_target(sn_or_tid)
        finally:
            if counted:
                counted.result()
        tenant = ctx.tenant
        merchant_name = self._merchant_name(tenant.tenant_id, terminal.merchant_id)
        plans = ctx.active_plans()
        fee = tenant.settings.service_fee
        today = today_in(self._clock, tenant.settings.timezone)
        basis = tenant.settings.renewal_basis
        return {
            "sn": terminal.sn,
            "tid": terminal.tid,
            "carrier": terminal.carrier,
            "model": terminal.model,
            "status": terminal.status.value,
            "expires_on": terminal.expires_on.isoformat(),
            "days_left": (terminal.expires_on - today).days,
            "data_quota_mb": terminal.data_quota_mb,
            "data_used_mb": terminal.data_used_mb,
            "merchant_name_masked": mask_name(merchant_name) if merchant_name else None,
            "agent_name": tenant.name,
            # The agent's service number (服务电话), for "请联系服务商"; null until the agent sets it.
            "agent_phone": tenant.service_phone,
            "renewable": terminal.status is not TerminalStatus.DEACTIVATED,
            # 风控: the merchant sees a recent renewal before paying again.
            "last_renewed_at": terminal.renewed_at[-1] if terminal.renewed_at else None,
            "renewed_minutes_ago": _minutes_since(terminal.renewed_at, self._clock.now()),
            "plans": [
                {
                    **{
                        k: v
                        for k, v in q.to_json().items()
                        if k
                        in ("plan_id", "plan_name", "term_months", "data_quota_mb", "price_fen", "fee_fen", "total_fen")
                    },
                    "name": q.plan_name,
                    # What paying today would make the expiry (the agent's renewal basis): shown before paying.
                    "new_expires_on": renewed_expiry(terminal.expires_on, today, q.term_months, basis).isoformat(),
                }
                for q in (quote_line(terminal.sn, p, fee) for p in sorted(plans, key=lambda p: p.term_months))
            ],
            "payment_methods": list(tenant.settings.payment_methods),
            # Methods that go straight to the agent's own WeChat Pay / Alipay account.
            "direct_methods": [
                m
                for m in tenant.settings.payment_methods
                if self.direct is not None and self.direct.rail_for(tenant, m)
            ],
            "wechat_oauth_url": self.direct.wechat_oauth_url(tenant) if self.direct is not None else None,
            "currency": "CNY",
        }

    # --- creating orders -------------------------------------------------------------------------------
    def create(self, tenant_id: str, body: dict[str, Any], *, actor: str) -> tuple[Order, dict[str, Any] | None]:
        payment = body.get("payment", "online")
        if payment not in ("online", "offline"):
            raise ValidationError("payment", "invalid_choice", "payment must be online or offline")
        method = body.get("method", "card")
        if method not in ("card", "wechat_pay", "alipay") or (method != "card" and payment != "online"):
            raise ValidationError("method", "invalid_choice", "method is card, wechat_pay or alipay, for online orders")
        pairs = _order_pairs(body.get("lines"))
        tenant = self._tenant(tenant_id)
        rail = self.direct.rail_for(tenant, method) if self.direct is not None and method != "card" else None
        if method != "card" and rail is None:
            raise RuleViolation(f"the agent is not onboarded to {method} as a sub-merchant", code="rail_not_onboarded")
        if rail is None:
            return self._create(tenant, pairs, payment, "agent", actor)
        # The QR at the agent's counter (Native / precreate): paid straight to the agent's own account.
        order, _made = self._create(tenant, pairs, payment, "agent", actor, stripe=False)
        item = self._orders.item(tenant.tenant_id, order.order_id)
        assert item is not None
        pay = self.direct.prepay(tenant, item, rail, "desktop", client_ip="127.0.0.1", wx_code=None, sn=pairs[0][0])
        fresh = self._orders.item(tenant.tenant_id, order.order_id) or item
        return self._store.order(fresh), pay

    def public_create(
        self, body: dict[str, Any], client_id: str, client_ip: str = "127.0.0.1"
    ) -> tuple[Order, dict[str, Any], str]:
        for name in ("sn", "plan_id"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise ValidationError(name, "required", f"{name} is required")
        method = body.get("method", "card")
        if method not in ("card", "alipay", "wechat_pay"):
            raise ValidationError("method", "invalid_choice", "method must be card, alipay or wechat_pay")
        for name in ("client", "wx_code"):
            if name in body and not isinstance(body[name], str):
                raise ValidationError(name, "invalid_type", f"{name} must be a string")
        self._rate.hit("public-order", client_id, limit=PUBLIC_ORDERS_PER_HOUR, window_s=3600, now=self._clock.now())
        try:
            return self._public_order(body, method, client_ip)
        except _StaleContext:
            # The agent changed a setting or a plan since this container read them: all again, from
            # a context read now (once: a second refusal is a 409).
            return self._public_order(body, method, client_ip, fresh=True)

    def _public_order(
        self, body: dict[str, Any], method: str, client_ip: str, *, fresh: bool = False
    ) -> tuple[Order, dict[str, Any], str]:
        ctx, item, others = self._public_target(body["sn"], fresh=fresh)
        plan_id = body["plan_id"].strip()
        rail = self._rail(ctx.tenant, method, "method" in body)
        if rail is not None and not fresh:
            # WeChat Pay / Alipay: the order is made by the general path, from a context read now.
            ctx, item, others = self._public_target(body["sn"], fresh=True)
            rail = self._rail(ctx.tenant, method, "method" in body)
        if rail is not None:
            return self._direct_create(ctx.tenant, item.sn, plan_id, rail, body, client_ip)
        # Found with the terminal (no request), or read on its own when nothing was read beside it.
        open_order = self._store.open_order(item.tenant_id, item.sn, plan_id, others)
        reused = self._reuse_open(ctx.tenant, open_order)
        if reused is not None:
            return reused
        return self._create_public(ctx, item, plan_id, last_try=fresh)

    def _rail(self, tenant: Tenant, method: str, asked: bool) -> str | None:
        if asked and method not in tenant.settings.payment_methods:
            raise ValidationError("method", "invalid_payment_method", f"{method} is not offered by this agent")
        rail: str | None = self.direct.rail_for(tenant, method) if self.direct is not None else None
        return rail

    def _create_public(
        self, ctx: TenantContext, item: Terminal, plan_id: str, *, last_try: bool = False
    ) -> tuple[Order, dict[str, Any], str]:
        """A new pay-page order in two writes (public_orders.py): the order with every rule as a
        condition, then its PaymentIntent with the open-order slot."""
        tenant, sn, now = ctx.tenant, item.sn, self._clock.now()
        if item.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation(f"terminal {sn} is deactivated and cannot be renewed", code="terminal_deactivated")
        plan = ctx.plan(plan_id)
        if plan is None or not plan.active:
            raise ValidationError("plan_id", "unknown_plan", "plan_id is not an active plan of this agent")
        order = self._new_order(
            tenant, [quote_line(sn, plan, tenant.settings.service_fee)], "online", "public", "merchant"
        )
        token = new_secret(24)
        expires = now + timedelta(minutes=PAYMENT_WINDOW_MINUTES)
        checks, hits = self._limits(tenant.tenant_id, sn)
        guards = PublicGuards(tenant_version=ctx.version, sn=sn, checks=checks, hits=hits)
        order_item, codes = self._store.create_public(order, token_hash(token), now, expires, guards)
        if order_item is None:
            raise self._refused(codes, tenant.tenant_id, sn, now, last_try)
        intent = self._gateway.create_intent(
            order_id=order.order_id,
            amount_fen=order.amount_fen,
            methods=list(tenant.settings.payment_methods),
            connected_account=tenant.stripe_account_id,
            application_fee_fen=order.fee_fen,
            metadata=intent_metadata(order),
        )
        slot = OpenSlot(sn=sn, tid=item.tid, plan_id=plan_id, token=token, client_secret=intent.client_secret)
        self._store.attach_public(order_item, intent.id, now, slot)
        pay = {
            "client_secret": intent.client_secret,
            "publishable_key": self._gateway.publishable_key,
            "payment_intent_id": intent.id,
            "stripe_js_url": self._gateway.js_url,
        }
        return replace(order, payment_intent_id=intent.id), pay, token

    @staticmethod
    def _limits(tenant_id: str, sn: str) -> tuple[list[Counter], list[Counter]]:
        """The per-terminal rules of `_check_renewal_limits`, as conditions of the order's transaction:
        the paid renewals today checked, the unpaid public orders of the half hour counted."""
        subject = f"{tenant_id}#{sn}"
        checks = [(PAID_RENEWALS_BUCKET, subject, ORDERS_PER_TERMINAL_PER_DAY, 86_400)]
        hits = [("public-orders-per-terminal", subject, PUBLIC_OPEN_ORDERS_PER_TERMINAL, PAYMENT_WINDOW_MINUTES * 60)]
        return checks, hits

    def _refused(self, codes: list[str | None], tenant_id: str, sn: str, now: datetime, last_try: bool) -> Exception:
        """What a cancelled order transaction means, in the order the old reads checked it."""
        failed = [c == "ConditionalCheckFailed" for c in codes]
        if failed[0]:
            if last_try:
                return Conflict("the agent's settings changed meanwhile; retry", code="concurrent_update")
            return _StaleContext()
        if failed[1]:
            terminal = self._terminals.get(tenant_id, sn)
            if terminal is None:
                return _missing()
            return RuleViolation(f"terminal {sn} is deactivated and cannot be renewed", code="terminal_deactivated")
        if failed[2]:
            return RateLimited(
                f"terminal {sn} was renewed {ORDERS_PER_TERMINAL_PER_DAY} times today; try tomorrow",
                retry_after_s=self._rate.limited(86_400, now).retry_after_s,
                code="too_many_orders",
            )
        return RateLimited(
            f"{PUBLIC_OPEN_ORDERS_PER_TERMINAL} unpaid orders for terminal {sn} were started in the "
            "last half hour; pay one of them or try again later",
            retry_after_s=self._rate.limited(PAYMENT_WINDOW_MINUTES * 60, now).retry_after_s,
            code="too_many_open_orders",
        )

    def _direct_create(
        self, tenant: Tenant, sn: str, plan_id: str, rail: str, body: dict[str, Any], client_ip: str
    ) -> tuple[Order, dict[str, Any], str]:
        """An order paid straight to the agent's WeChat Pay / Alipay account: no PaymentIntent. The
        terminal's open order for this plan on this rail is reused (a reload asks for the same trade)."""
        slot = f"{plan_id}#{rail}"
        open_order = self._store.open_order(tenant.tenant_id, sn, slot)
        item = None
        if open_order is not None and open_order.expires_at - self._clock.now() >= REUSE_MARGIN:
            found = self._orders.item(tenant.tenant_id, open_order.order_id)
            if found is not None and self._rec(found).status == OrderStatus.PENDING_PAYMENT.value:
                item, token = found, open_order.order_token
        if item is None:
            order, made = self._create(tenant, [(sn, plan_id)], "online", "public", "merchant", stripe=False)
            assert made is not None
            token = made["order_token"]
            item = self._orders.item(tenant.tenant_id, order.order_id)
            assert item is not None
            self._orders.remember_open_public(order, sn, slot, token, "", datetime.fromisoformat(order.expires_at))
        payment = self.direct.prepay(
            tenant,
            item,
            rail,
            body.get("client") or "desktop",
            client_ip=client_ip,
            wx_code=body.get("wx_code"),
            sn=sn,
        )
        fresh = self._orders.item(tenant.tenant_id, self._rec(item).order_id) or item
        return self._store.order(fresh), payment, token

    def _reuse_open(self, tenant: Tenant, open_order: OpenOrder | None) -> tuple[Order, dict[str, Any], str] | None:
        """The terminal's unpaid public order for the same plan, if it has time left to be paid."""
        if open_order is None or open_order.expires_at - self._clock.now() < REUSE_MARGIN:
            return None
        item = self._orders.item(tenant.tenant_id, open_order.order_id)
        if item is None or self._rec(item).status != OrderStatus.PENDING_PAYMENT.value:
            return None
        pay = {
            "client_secret": open_order.client_secret,
            "publishable_key": self._gateway.publishable_key,
            "payment_intent_id": open_order.payment_intent_id,
            "stripe_js_url": self._gateway.js_url,
        }
        return self._store.order(item), pay, open_order.order_token

    def _create(
        self,
        tenant: Tenant,
        pairs: list[tuple[str, str]],
        payment: str,
        channel: str,
        actor: str,
        *,
        stripe: bool = True,
    ) -> tuple[Order, dict[str, Any] | None]:
        now = self._clock.now()
        plans = {p.plan_id: p for p in self._plans.all(tenant.tenant_id)}
        found = self._terminals.terminals(tenant.tenant_id, [sn for sn, _ in pairs])
        lines = []
        for i, (sn, plan_id) in enumerate(pairs):
            found_item = found.get(sn)
            if found_item is None:
                raise NotFound(f"no terminal {sn}", code="terminal_not_found")
            if found_item.status is TerminalStatus.DEACTIVATED:
                raise RuleViolation(f"terminal {sn} is deactivated and cannot be renewed", code="terminal_deactivated")
            plan = plans.get(plan_id)
            if plan is None or not plan.active:
                pfield = "plan_id" if channel == "public" else f"lines[{i}].plan_id"
                raise ValidationError(pfield, "unknown_plan", "plan_id is not an active plan of this agent")
            lines.append(quote_line(sn, plan, tenant.settings.service_fee))
        order = self._new_order(tenant, lines, payment, channel, actor)
        self._check_renewal_limits(tenant.tenant_id, [sn for sn, _ in pairs], channel, now)
        token = new_secret(24) if channel == "public" else None
        item = self._orders.create(
            order, token_hash(token) if token else None, now, now + timedelta(minutes=PAYMENT_WINDOW_MINUTES)
        )
        if payment == "offline":
            return order, None
        if not stripe:
            return order, {"order_token": token or ""}
        fee_total = order.fee_fen
        intent = self._gateway.create_intent(
            order_id=order.order_id,
            amount_fen=order.amount_fen,
            methods=list(tenant.settings.payment_methods),
            connected_account=tenant.stripe_account_id,
            application_fee_fen=fee_total,
            metadata=intent_metadata(order),
        )
        self._orders.attach_intent(item, intent.id, now)
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

    def _new_order(self, tenant: Tenant, lines: list[Any], payment: str, channel: str, actor: str) -> Order:
        now = self._clock.now()
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
        return order

    def _check_renewal_limits(self, tenant_id: str, sns: list[str], channel: str, now: datetime) -> None:
        """Paid renewals per terminal per day; unpaid public orders per terminal per half hour."""
        for sn in sns:
            # What counts is renewals that were paid: unpaid orders, above all anonymous ones from
            # the SN on the QR sticker, never lock the agent (or a paying merchant) out.
            try:
                self._rate.check(
                    PAID_RENEWALS_BUCKET,
                    f"{tenant_id}#{sn}",
                    limit=ORDERS_PER_TERMINAL_PER_DAY,
                    window_s=86_400,
                    now=now,
                )
            except RateLimited as exc:
                raise RateLimited(
                    f"terminal {sn} was renewed {ORDERS_PER_TERMINAL_PER_DAY} times today; try tomorrow",
                    retry_after_s=exc.retry_after_s,
                    code="too_many_orders",
                ) from None
            if channel == "public":
                try:
                    self._rate.hit(
                        "public-orders-per-terminal",
                        f"{tenant_id}#{sn}",
                        limit=PUBLIC_OPEN_ORDERS_PER_TERMINAL,
                        window_s=PAYMENT_WINDOW_MINUTES * 60,
                        now=now,
                    )
                except RateLimited as exc:
                    raise RateLimited(
                        f"{PUBLIC_OPEN_ORDERS_PER_TERMINAL} unpaid orders for terminal {sn} were started in the "
                        "last half hour; pay one of them or try again later",
                        retry_after_s=exc.retry_after_s,
                        code="too_many_open_orders",
                    ) from None

    # --- reading --------------------------------------------------------------------------------------------
    def get(self, tenant_id: str, order_id: str) -> Order:
        item = order_item_or_404(self._orders, tenant_id, order_id)
        return self._store.order(item)

    def page(self, tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        if status is not None and status not in {s.value for s in OrderStatus}:
            raise ValidationError("status", "invalid_choice", "unknown order status")
        return self._orders.page(tenant_id, status, limit, cursor)

    def _public_item(self, order_id: str, token: str | None) -> Stored:
        item = self._orders.by_order_id(order_id) if order_id.startswith("o_") else None
        stored_hash = self._rec(item).token_hash if item is not None else None
        if item is None or not token or not stored_hash or not hmac.compare_digest(stored_hash, token_hash(token)):
            raise NotFound("no such order", code="order_not_found")
        return item

    def public_status(self, order_id: str, token: str | None, check: bool = False) -> dict[str, Any]:
        item = self._public_item(order_id, token)
        rec = self._rec(item)
        if check and rec.status == OrderStatus.PENDING_PAYMENT.value and self.direct is not None:
            # The payer is back from WeChat Pay's / Alipay's page: ask the rail (a payment whose
            # notification is late is applied now; a failed one ends the wait).
            self.direct.check_attempts(item)
            item = self._orders.item(rec.tenant_id, rec.order_id) or item
        order = self._store.order(item)
        line = order.lines[0]
        if order.status is OrderStatus.PENDING_PAYMENT and self._rec(item).expires_at <= self._clock.now():
            if not self._settle_direct(item):
                self._expire(self._orders.item(order.tenant_id, order.order_id) or item)
            order = self._store.order(self._orders.item(order.tenant_id, order.order_id) or item)
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
        if not isinstance(body.get("payment_method"), str) or not body["payment_method"].strip():
            raise ValidationError("payment_method", "required", "payment_method is required")
        item = self._public_item(order_id, body.get("token") if isinstance(body.get("token"), str) else None)
        rec = self._rec(item)
        if rec.status not in (OrderStatus.PENDING_PAYMENT.value, OrderStatus.FAILED.value):
            raise Conflict(f"the order is {rec.status}", code="order_not_payable")
        if rec.expires_at <= self._clock.now():
            self._expire(item)
            raise RuleViolation("the order expired; start again", code="order_expired")
        assert rec.payment_intent_id
        line = self._store.order(item).lines[0]
        self._orders.forget_open_public(rec.tenant_id, line.sn, line.plan_id, rec.order_id)
        status = self._gateway.confirm(rec.payment_intent_id, body["payment_method"].strip())
        return {"order_id": order_id, "payment_status": status}

    def _expire(self, item: Stored) -> bool:
        # The PaymentIntent is cancelled first: when Stripe does not answer, the order stays pending
        # (and due), so the next run tries again; marked expired first, it kept its intent open.
        intent_id = self._rec(item).payment_intent_id
        if intent_id:
            self._gateway.cancel(intent_id)
        audit = {"action": "expired", "at": iso_utc(self._clock.now())}
        return self._orders.transition(item, StatusMove(OrderStatus.EXPIRED, UNPAID, audit), self._clock.now())

    def _settle_direct(self, item: Stored) -> bool:
        """Before an order with trades on WeChat Pay / Alipay expires: each is queried (a payment whose
        notification was lost is applied now) and the open ones closed. True if one was paid."""
        attempts = self._rec(item).attempts_json
        if self.direct is None or not attempts or attempts == "[]":
            return False
        paid: bool = self.direct.settle_attempts(item, self._tenants.get)
        return paid

    def _pending(self, item: Stored) -> Stored | None:
        """The order as stored now, if it is still unpaid."""
        rec = self._rec(item)
        fresh = self._orders.item(rec.tenant_id, rec.order_id)
        return fresh if fresh is not None and self._rec(fresh).status == OrderStatus.PENDING_PAYMENT.value else None

    def _expire_one(self, item: Stored) -> int:
        fresh = self._pending(item)
        if fresh is None:
            return 0
        if self._settle_direct(fresh):
            return 0  # paid after all: fulfilled, not expired
        fresh = self._pending(item)
        return int(fresh is not None and self._expire(fresh))

    def expire_due(self, limit: int = 500) -> int:
        """Unpaid orders past their 30 minutes: PaymentIntent cancelled, expired. Each order on its
        own: one that fails (Stripe unreachable) is logged and left for the next run, and the
        others go on."""
        count = 0
        for shard in range(self._store.pending_shards):
            for item in self._orders.pending_due(shard, self._clock.now(), limit):
                try:
                    count += self._expire_one(item)
                except Exception:  # noqa: BLE001 - one order's failure must not stop the others
                    get_logger().warning(
                        "unpaid order not expired this run", extra={"order_id": self._rec(item).order_id}, exc_info=True
                    )
        return count
