"""Money reports: revenue per day (gross, agent fees, refunds, net), the settlement of what the
platform collected online for an agent (and what it owes it), and the reconciliation of a day's
Stripe balance transactions (charges and refunds, with their fees) against the agent's orders.

Refunds are read from the orders only through `refunded_fen` and their audit entries
(`{"action": "refund", "amount_fen", "at"}`); other fields on an order are ignored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.domain.dates import parse_date
from simrenew.domain.fleet import MAX_EXPIRY, MIN_EXPIRY
from simrenew.domain.orders import OrderStatus
from simrenew.errors import ValidationError
from simrenew.ports.payments import PaymentGateway
from simrenew.ports.reports import Redemptions, ReportedOrder, ReportOrders
from simrenew.ports.tenants import Tenants
from simrenew.services.lookups import tenant_or_404

MAX_DAYS = 366
MAX_SETTLEMENT_DAYS = 92  # a quarter: Stripe's balance transactions are read for the whole span
PAID = {OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}
SETTLEMENT_COLUMNS = (
    "orders",
    "collected_fen",
    "service_fee_fen",
    "refunds_fen",
    "stripe_fees_fen",
    "platform_fee_fen",
    "payable_fen",
    "cash_fen",
    "cash_refunds_fen",
    "voucher_count",
    # Straight to the agent's own WeChat Pay / Alipay account (the platform as 服务商 / ISV): not in
    # payable, the rail already settled it to the agent; fees from the rails' daily trade bills.
    "direct_fen",
    "direct_refunds_fen",
    "direct_fees_fen",
)
DIRECT_PREFIXES = ("wechatpay:", "alipay:")
CHINA_TZ = ZoneInfo("Asia/Shanghai")


def _direct(item: ReportedOrder) -> bool:
    return bool(item.paid_via) and str(item.paid_via).startswith(DIRECT_PREFIXES)


def _report_day(raw: str, field: str) -> date:
    """A report date within the calendar the product supports (that of expires_on): at the ends of
    datetime's range, the day's bounds in the agent's timezone overflow (a 500 found by fuzzing)."""
    day = parse_date(raw, field)
    if not MIN_EXPIRY <= day <= MAX_EXPIRY:
        raise ValidationError(field, "out_of_range", f"{field} must be between {MIN_EXPIRY} and {MAX_EXPIRY}")
    return day


def _at(entry: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def refund_entries(item: ReportedOrder) -> list[tuple[datetime, int]]:
    """(when, fen) of each refund on an order, from its audit trail; never more than `refunded_fen`
    in all (an entry the order's total does not back is not money that moved)."""
    left = item.refunded_fen
    out: list[tuple[datetime, int]] = []
    for entry in item.audit:
        amount = entry.get("amount_fen") if isinstance(entry, dict) else None
        at = _at(entry) if isinstance(entry, dict) and entry.get("action") == "refund" else None
        if at is None or isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            continue
        amount = min(amount, left)
        left -= amount
        if amount:
            out.append((at, amount))
    return out


PAID_VALUES = frozenset(s.value for s in PAID)


def _paid_online(item: ReportedOrder) -> bool:
    return (
        item.payment == "online" and bool(item.payment_intent_id) and item.status in PAID_VALUES and not _direct(item)
    )


@dataclass(eq=False, repr=False)
class ReportService:
    _tenants: Tenants
    _orders: ReportOrders
    _gateway: PaymentGateway
    _vouchers: Redemptions
    _rails: Any = None  # PaymentRails: the trade bills of WeChat Pay and Alipay

    def _tz(self, tenant_id: str) -> ZoneInfo:
        tenant = tenant_or_404(self._tenants, tenant_id)
        return ZoneInfo(tenant.settings.timezone)

    def _orders_between(self, tenant_id: str, start: datetime, end: datetime) -> list[ReportedOrder]:
        """Orders created in [start - 1 day, end): a payment lands at most 30 minutes (or a
        late webhook) after its order, so a day's margin catches every payment in range."""
        from simrenew.clock import iso_utc

        return self._orders.created_between(tenant_id, iso_utc(start - timedelta(days=1)), iso_utc(end))

    def revenue(self, tenant_id: str, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
        if not raw_from or not raw_to:
            raise ValidationError("from" if not raw_from else "to", "required", "from and to are required (YYYY-MM-DD)")
        first, last = _report_day(raw_from, "from"), _report_day(raw_to, "to")
        if last < first or (last - first).days > MAX_DAYS:
            raise ValidationError("to", "invalid_range", f"to must be on or after from, at most {MAX_DAYS} days later")
        tz = self._tz(tenant_id)
        start, end = _bounds(first, last, tz)
        days: dict[date, dict[str, int]] = defaultdict(
            lambda: {"gross_fen": 0, "fees_fen": 0, "refunds_fen": 0, "orders": 0}
        )
        for item in self._orders_between(tenant_id, start, end):
            order = item.order
            if order.status in PAID and item.paid_at and start <= item.paid_at < end:
                day = days[item.paid_at.astimezone(tz).date()]
                day["gross_fen"] += order.amount_fen
                day["fees_fen"] += order.fee_fen
                day["orders"] += 1
            for entry in order.audit:
                if entry.get("action") == "refund":
                    at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
                    if start <= at < end:
                        days[at.astimezone(tz).date()]["refunds_fen"] += int(entry.get("amount_fen", 0))
        rows: list[dict[str, Any]] = []
        d = first
        while d <= last:
            v = days.get(d, {"gross_fen": 0, "fees_fen": 0, "refunds_fen": 0, "orders": 0})
            rows.append({"date": d.isoformat(), **v, "net_fen": v["gross_fen"] - v["refunds_fen"]})
            d += timedelta(days=1)
        totals = {
            k: sum(int(r[k]) for r in rows) for k in ("gross_fen", "fees_fen", "refunds_fen", "net_fen", "orders")
        }
        return {"from": first.isoformat(), "to": last.isoformat(), "currency": "CNY", "days": rows, "totals": totals}

    def _stripe_side(
        self, tenant_id: str, start: datetime, end: datetime, known: dict[str, ReportedOrder]
    ) -> list[tuple[dict[str, Any], ReportedOrder | None]]:
        """This agent's charge and refund balance transactions in [start, end), each with its order
        (None: a charge made for this agent, by its metadata, that no order of ours knows)."""
        out: list[tuple[dict[str, Any], ReportedOrder | None]] = []
        for txn in self._gateway.settlement_transactions(int(start.timestamp()), int(end.timestamp())):
            intent = str(txn.get("payment_intent") or "")
            order = known.get(intent)
            if order is None and intent:
                order = self._orders.by_payment(intent)  # an older order refunded now, a late payment
                if order is not None and order.tenant_id == tenant_id:
                    known[intent] = order
            if order is not None and order.tenant_id == tenant_id:
                out.append((txn, order))
            elif (txn.get("metadata") or {}).get("tenant_id") == tenant_id:
                out.append((txn, None))
            # else: another agent's (or the platform's) money, not in this agent's report
        return out

    def _bill_rows(self, tenant: Any, start: datetime, end: datetime) -> list[tuple[str, Any]]:
        """The agent's lines in the WeChat Pay / Alipay daily trade bills (China days) within [start, end)."""
        if self._rails is None:
            return []
        out: list[tuple[str, Any]] = []
        first = start.astimezone(CHINA_TZ).date()
        last = (end - timedelta(microseconds=1)).astimezone(CHINA_TZ).date()
        for rail in ("wechatpay", "alipay"):
            sub_id = (
                tenant.sub_merchant_of(rail)
                if tenant.direct_rail("wechat_pay" if rail == "wechatpay" else "alipay")
                else None
            )
            if sub_id is None or not self._rails.has(rail):
                continue
            gateway = self._rails.get(rail)
            sub = self._rails.sub(rail, tenant.tenant_id, sub_id)
            day = first
            while day <= last:
                for row in gateway.bill(day, sub):
                    if start <= row.at < end and (row.sub_merchant in (None, sub_id)):
                        out.append((rail, row))
                day += timedelta(days=1)
        return out

    def _direct_reconciliation(
        self, tenant: Any, start: datetime, end: datetime, items: dict[str, ReportedOrder]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """The day's WeChat Pay / Alipay bill lines matched against the orders paid (and refunds made)
        on those rails: (matched, on the bill only, on our side only)."""
        bill = self._bill_rows(tenant, start, end)
        if not bill and self._rails is None:
            return [], [], []
        items = self._with_billed_orders(tenant.tenant_id, bill, items)
        ours = _DirectBook.of(items.values(), start, end)
        matched: list[dict[str, Any]] = []
        bill_only: list[dict[str, Any]] = []
        for rail, line in bill:
            owner = ours.by_trade.get(line.out_trade_no) or self._orders.by_payment(line.out_trade_no)
            if owner is not None and owner.tenant_id != tenant.tenant_id:
                owner = None
            row = _bill_row(rail, line, owner)
            reason = "no order for this trade" if owner is None else ours.match(line)
            if reason is None or reason in ("duplicate_charge", "duplicate_refund"):
                matched.append(row if reason is None else {**row, "kind": reason})
            else:
                bill_only.append({**row, "reason": reason})
        return matched, bill_only, ours.left_over()

    def _with_billed_orders(
        self, tenant_id: str, bill: list[tuple[str, Any]], items: dict[str, ReportedOrder]
    ) -> dict[str, ReportedOrder]:
        """The orders of the window plus those older ones the bill names (refunds, late payments)."""
        items = dict(items)
        known_trades = {a.out_trade_no for i in items.values() for a in i.order.attempts}
        for _rail, line in bill:
            if line.out_trade_no not in known_trades:
                owner = self._orders.by_payment(line.out_trade_no)
                if owner is not None and owner.tenant_id == tenant_id:
                    items[owner.order_id] = owner
                    known_trades.add(line.out_trade_no)
        return items

    def settlement(self, tenant_id: str, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
        """Per day (agent's timezone), what the platform collected online for the agent and what it
        owes: payable = collected - refunds - Stripe's fees - the platform fee. Cash and vouchers are
        shown apart and are not in payable (the agent already holds that money)."""
        first, last = _settlement_range(raw_from, raw_to)
        tenant = tenant_or_404(self._tenants, tenant_id)
        tz = ZoneInfo(tenant.settings.timezone)
        start, end = _bounds(first, last, tz)
        window = self._orders_between(tenant_id, start, end)
        known = {i.payment_intent_id: i for i in window if i.payment_intent_id}
        stripe = self._stripe_side(tenant_id, start, end, known)
        orders = {i.order_id: i for i in window}
        orders.update({i.order_id: i for _txn, i in stripe if i is not None})  # refunds of older orders
        book = _SettlementDays(tz, start, end)
        for item in orders.values():
            book.add_order(item)
        for txn, _order in stripe:
            book.add_stripe(txn)
        for _rail, bill_row in self._bill_rows(tenant, start, end):
            book.add(bill_row.at, "direct_fees_fen", bill_row.fee_fen)
        for redeemed_at in self._vouchers.redeemed_at(tenant_id, start, end):
            book.add(redeemed_at, "voucher_count", 1)
        rows = book.rows(first, last)
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "currency": "CNY",
            "timezone": tenant.settings.timezone,
            # Destination charges: Stripe already moved the agent's share to its connected account.
            "settles_via": "stripe_connected_account" if tenant.stripe_account_id else "platform_payout",
            "days": rows,
            "totals": {k: sum(int(r[k]) for r in rows) for k in SETTLEMENT_COLUMNS},
        }

    def reconciliation(self, tenant_id: str, raw_date: str | None) -> dict[str, Any]:
        """A day's Stripe charges and refunds matched against the agent's orders, each side's
        leftovers listed: a charge or refund Stripe has that our orders lack, and the reverse."""
        if not raw_date:
            raise ValidationError("date", "required", "date is required (YYYY-MM-DD)")
        day = _report_day(raw_date, "date")
        tenant = tenant_or_404(self._tenants, tenant_id)
        start, end = _bounds(day, day, ZoneInfo(tenant.settings.timezone))
        window = self._orders_between(tenant_id, start, end)
        known = {i.payment_intent_id: i for i in window if i.payment_intent_id}
        stripe = self._stripe_side(tenant_id, start, end, known)
        items = {i.order_id: i for i in window}
        items.update({i.order_id: i for _txn, i in stripe if i is not None})
        charges, refunds = _stripe_paid_on_our_side(items.values(), start, end)
        matched, stripe_only = _match_stripe(stripe, charges, refunds)  # takes the matched out of both
        orders_only = _orders_only(charges, refunds, known)
        for row in matched + stripe_only + orders_only:
            row.setdefault("provider", "stripe")
        direct_matched, bill_only, direct_orders = self._direct_reconciliation(tenant, start, end, items)
        return {
            "date": day.isoformat(),
            "matched": matched + direct_matched,
            "unmatched_stripe": stripe_only,
            "unmatched_bill": bill_only,  # on a WeChat Pay / Alipay trade bill, not on our orders
            "unmatched_orders": orders_only + direct_orders,
            "summary": {
                "matched": len(matched) + len(direct_matched),
                "unmatched_stripe": len(stripe_only),
                "unmatched_bill": len(bill_only),
                "unmatched_orders": len(orders_only) + len(direct_orders),
                "stripe_fees_fen": sum(int(r["fee_fen"]) for r in matched + stripe_only),
                "direct_fees_fen": sum(int(r["fee_fen"]) for r in direct_matched + bill_only),
            },
        }


def _settlement_range(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    for name, raw in (("from", raw_from), ("to", raw_to)):
        if not raw:
            raise ValidationError(name, "required", f"{name} is required (YYYY-MM-DD)")
    first, last = _report_day(raw_from or "", "from"), _report_day(raw_to or "", "to")
    if last < first:
        raise ValidationError("to", "invalid_range", "to must be on or after from")
    if (last - first).days + 1 > MAX_SETTLEMENT_DAYS:
        raise ValidationError("to", "range_too_long", f"a settlement covers at most {MAX_SETTLEMENT_DAYS} days")
    return first, last


def _bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the days first..last of the agent's timezone."""
    start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    return start, end


class _SettlementDays:
    """The settlement's columns per day of the agent's timezone; a moment outside [start, end)
    counts nowhere."""

    def __init__(self, tz: ZoneInfo, start: datetime, end: datetime) -> None:
        self._tz, self._start, self._end = tz, start, end
        self._days: dict[date, dict[str, int]] = {}

    def add(self, moment: datetime | None, column: str, fen: int) -> None:
        if moment and self._start <= moment < self._end:
            day = self._days.setdefault(moment.astimezone(self._tz).date(), dict.fromkeys(SETTLEMENT_COLUMNS, 0))
            day[column] += fen

    def add_order(self, item: ReportedOrder) -> None:
        """An order paid in the window (cash, direct or online) and its refunds made in it."""
        order = item.order
        cash = item.payment == "offline"
        paid_at = item.paid_at if item.status in PAID_VALUES else None
        if cash:
            self.add(paid_at, "cash_fen", order.amount_fen)
        elif _direct(item):
            self.add(paid_at, "direct_fen", order.paid_fen)
        elif _paid_online(item):
            self.add(paid_at, "orders", 1)
            self.add(paid_at, "collected_fen", order.amount_fen)
            self.add(paid_at, "service_fee_fen", order.fee_fen)
        for at, amount in refund_entries(item):
            if _direct(item):
                self.add(at, "direct_refunds_fen", amount)
            elif cash or item.payment == "online":
                self.add(at, "cash_refunds_fen" if cash else "refunds_fen", amount)

    def add_stripe(self, txn: dict[str, Any]) -> None:
        """A Stripe balance transaction: its fee and the platform's application fee."""
        at = datetime.fromtimestamp(int(txn.get("created", 0)), UTC)
        self.add(at, "stripe_fees_fen", int(txn.get("stripe_fee") or 0))
        self.add(at, "platform_fee_fen", int(txn.get("application_fee_amount") or 0))

    def rows(self, first: date, last: date) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        d = first
        while d <= last:
            v = dict(self._days.get(d) or dict.fromkeys(SETTLEMENT_COLUMNS, 0))
            v["payable_fen"] = v["collected_fen"] - v["refunds_fen"] - v["stripe_fees_fen"] - v["platform_fee_fen"]
            rows.append({"date": d.isoformat(), **v})
            d += timedelta(days=1)
        return rows


def _stripe_paid_on_our_side(
    items: Iterable[ReportedOrder], start: datetime, end: datetime
) -> tuple[dict[str, ReportedOrder], dict[str, list[int]]]:
    """(payment intent -> order paid online in [start, end), payment intent -> its refunds then in fen)."""
    charges: dict[str, ReportedOrder] = {}
    refunds: dict[str, list[int]] = defaultdict(list)
    for item in items:
        if item.payment != "online" or not item.payment_intent_id or _direct(item):
            continue
        if _paid_online(item) and item.paid_at and start <= item.paid_at < end:
            charges[item.payment_intent_id] = item
        refunds[item.payment_intent_id] += [fen for at, fen in refund_entries(item) if start <= at < end]
    return charges, refunds


def _match_stripe(
    stripe: list[tuple[dict[str, Any], ReportedOrder | None]],
    charges: dict[str, ReportedOrder],
    refunds: dict[str, list[int]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Stripe's side against ours: (matched, Stripe's only); what matched leaves `charges` and `refunds`."""
    matched: list[dict[str, Any]] = []
    stripe_only: list[dict[str, Any]] = []
    for txn, order in stripe:
        intent = str(txn.get("payment_intent") or "")
        refund = txn.get("type") in ("refund", "payment_refund")
        amount = abs(int(txn.get("amount", 0)))
        row: dict[str, Any] = {
            "kind": "refund" if refund else "charge",
            "balance_transaction": txn.get("id"),
            "amount_fen": amount,
            "fee_fen": int(txn.get("stripe_fee") or 0),
            "payment_intent_id": intent,
            "order_id": order.order_id if order else None,
        }
        reason = None if order is None else _stripe_mismatch(intent, amount, refund, charges, refunds)
        if order is None:
            stripe_only.append({**row, "reason": "no order for this charge"})
        elif reason is None:
            matched.append(row)
        else:
            stripe_only.append({**row, "reason": reason})
    return matched, stripe_only


def _stripe_mismatch(
    intent: str, amount: int, refund: bool, charges: dict[str, ReportedOrder], refunds: dict[str, list[int]]
) -> str | None:
    """Why a Stripe charge or refund of an order of ours does not match that day's (None: it does,
    and our side's entry is taken out)."""
    if refund:
        ours = refunds.get(intent, [])
        if amount not in ours:
            return "refund not recorded on the order on this day"
        ours.remove(amount)
        return None
    mine = charges.pop(intent, None)
    if mine is None:
        return "order not paid on this day"
    if int(mine.amount_fen) != amount:
        return f"amount differs: the order is {int(mine.amount_fen)} fen"
    return None


def _orders_only(
    charges: dict[str, ReportedOrder], refunds: dict[str, list[int]], known: dict[str, ReportedOrder]
) -> list[dict[str, Any]]:
    """Our charges and refunds of the day that Stripe's side did not match."""
    out = [
        {
            "kind": "charge",
            "order_id": o.order_id,
            "amount_fen": int(o.amount_fen),
            "payment_intent_id": o.payment_intent_id,
            "reason": "no Stripe charge",
        }
        for o in charges.values()
    ]
    out += [
        {
            "kind": "refund",
            "order_id": known[intent].order_id,
            "amount_fen": fen,
            "payment_intent_id": intent,
            "reason": "no Stripe refund",
        }
        for intent, left in refunds.items()
        for fen in left
    ]
    return out


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(eq=False, repr=False)
class ExpiryReports:
    """What expires soon (per week and the list) and what was sent about a terminal."""

    LIST_CAP = 1000

    _tenants: Tenants
    _terminals: Any
    _sweeps: Any
    _clock: Any

    def expiring(self, tenant_id: str, raw_days: str | None) -> dict[str, Any]:
        from simrenew.clock import today_in

        raw = raw_days or "30"
        # ASCII digits, bounded: "²".isdigit() is True but int("²") raises (a 500 found by fuzzing).
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 1 <= int(raw) <= 365:
            raise ValidationError("days", "out_of_range", "days must be a whole number from 1 to 365")
        days = int(raw)
        tenant = tenant_or_404(self._tenants, tenant_id)
        today = today_in(self._clock, tenant.settings.timezone)
        items: list[Any] = []
        cursor = None
        while True:  # reads grow with the terminals in the window, never with the fleet
            page = self._terminals.page(
                tenant_id,
                status=None,
                merchant_id=None,
                expires_from=today,
                expires_before=today + timedelta(days=days + 1),
                limit=200,
                cursor=cursor,
            )
            items += [t for t in page.items if t.status.value in ("active", "grace")]
            cursor = page.next_cursor
            if not cursor or len(items) >= self.LIST_CAP * 10:
                break
        weeks: dict[date, int] = defaultdict(int)
        for t in items:
            weeks[week_start(t.expires_on)] += 1
        per_week = []
        w = week_start(today)
        while w <= today + timedelta(days=days):
            per_week.append({"week_start": w.isoformat(), "count": weeks.get(w, 0)})
            w += timedelta(days=7)
        rows = [
            {
                "sn": t.sn,
                "tid": t.tid,
                "merchant_id": t.merchant_id,
                "status": t.status.value,
                "expires_on": t.expires_on.isoformat(),
                "days_left": (t.expires_on - today).days,
            }
            for t in items[: self.LIST_CAP]
        ]
        return {
            "days": days,
            "today": today.isoformat(),
            "total": len(items),
            "per_week": per_week,
            "items": rows,
            "truncated": len(items) > self.LIST_CAP,
        }

    def notifications(self, tenant_id: str, sn: str | None) -> list[dict[str, Any]]:
        if not sn:
            raise ValidationError("sn", "required", "sn is required")
        key = self._terminals.existing(tenant_id, sn).sn
        from simrenew.clock import iso_utc

        return [
            {
                "template": n.template,
                "channel": n.channel,
                "recipient": n.recipient_masked,
                "state": n.state,
                "term": n.term,
                "created_at": iso_utc(n.created_at) if n.created_at else None,
                "dedupe_key": n.sk.split("#", 2)[-1],
            }
            for n in self._sweeps.notifications(tenant_id, key)
        ]


@dataclass(eq=False, repr=False)
class DashboardReport:
    """The console's first screen: fleet counts by status, what expires in 7 and 30 days,
    this month's revenue and active terminals expiring per week for 12 weeks. Every count is a
    COUNT query on the status index (reads grow with the fleet, the answer does not)."""

    WEEKS = 12
    STATUSES = ("active", "grace", "suspended", "inventory", "deactivated")

    _tenants: Tenants
    _terminals: Any
    _revenue: ReportService
    _clock: Any

    def dashboard(self, tenant_id: str) -> dict[str, Any]:
        from simrenew.clock import today_in

        tenant = tenant_or_404(self._tenants, tenant_id)
        today = today_in(self._clock, tenant.settings.timezone)
        count = self._terminals.count
        counts: dict[str, int] = {s: count(tenant_id, s) for s in self.STATUSES}
        # "Expiring in N days": still active, expiry from today up to and including today + N.
        for days in (7, 30):
            counts[f"expiring_{days}"] = count(tenant_id, "active", today, today + timedelta(days=days + 1))
        per_week = []
        start = week_start(today)
        for i in range(self.WEEKS):
            w = start + timedelta(days=7 * i)
            in_week = count(tenant_id, "active", w, w + timedelta(days=7))
            per_week.append({"week_start": w.isoformat(), "count": in_week})
        month = self._revenue.revenue(tenant_id, today.replace(day=1).isoformat(), today.isoformat())
        return {
            "today": today.isoformat(),
            "currency": "CNY",
            "counts": counts,
            "revenue_month": {"from": month["from"], "to": month["to"], **month["totals"]},
            "per_week": per_week,
        }


def _bill_row(rail: str, line: Any, owner: ReportedOrder | None) -> dict[str, Any]:
    return {
        "provider": rail,
        "kind": line.kind,
        "balance_transaction": line.provider_id,
        "amount_fen": line.amount_fen,
        "fee_fen": line.fee_fen,
        "payment_intent_id": None,
        "out_trade_no": line.out_trade_no,
        "out_refund_no": line.out_refund_no,
        "order_id": owner.order_id if owner else None,
    }


@dataclass
class _DirectBook:
    """Our side of a day on the direct rails: the trades of the orders, what was paid by which trade
    that day, the refunds made that day and the second payments (refunded automatically)."""

    by_trade: dict[str, ReportedOrder] = field(default_factory=dict)
    charges: dict[str, ReportedOrder] = field(default_factory=dict)  # out_trade_no -> order paid by it that day
    refunds: dict[str, tuple[ReportedOrder, int]] = field(default_factory=dict)  # out_refund_no -> (order, fen)
    duplicates: dict[str, int] = field(default_factory=dict)  # out_trade_no of a second payment -> fen

    @classmethod
    def of(cls, items: Iterable[ReportedOrder], start: datetime, end: datetime) -> _DirectBook:
        book = cls()
        for item in items:
            order = item.order
            for attempt in order.attempts:
                book.by_trade[attempt.out_trade_no] = item
            paid = order.paid_ref
            if paid and paid[0] in ("wechatpay", "alipay"):
                book._paid(item, order, paid[1], start, end)
            for dup in order.duplicate_payments:
                if dup.provider in ("wechatpay", "alipay"):
                    book.duplicates[dup.payment_intent_id] = dup.amount_fen
        return book

    def _paid(self, item: ReportedOrder, order: Any, trade: str, start: datetime, end: datetime) -> None:
        if item.paid_at and start <= item.paid_at < end and item.status in PAID_VALUES:
            self.charges[trade] = item
        for entry in order.refunds:
            at = datetime.fromisoformat(entry.created_at.replace("Z", "+00:00"))
            if entry.status == "succeeded" and start <= at < end:
                self.refunds[entry.refund_id] = (item, entry.amount_fen)

    def match(self, line: Any) -> str | None:
        """None when the bill line is ours as it is; a duplicate_* kind when it is a second payment or
        its refund; else why it does not match."""
        if line.kind == "charge":
            mine = self.charges.pop(line.out_trade_no, None)
            if mine is not None and mine.paid_fen == line.amount_fen:
                return None
            if line.out_trade_no in self.duplicates:
                return "duplicate_charge"
            if mine is not None:
                return f"amount differs: the order was paid {mine.paid_fen} fen"
            return "order not paid by this trade on this day"
        ours = self.refunds.pop(line.out_refund_no or "", None)
        if ours is not None and ours[1] == line.amount_fen:
            return None
        if (line.out_refund_no or "") == f"dup_{line.out_trade_no}":
            return "duplicate_refund"
        return "refund not recorded on the order on this day"

    def left_over(self) -> list[dict[str, Any]]:
        """What we have that the bills do not: payments and refunds not on the trade bill."""
        out = [
            {
                "provider": str(o.paid_via).split(":", 1)[0],
                "kind": "charge",
                "order_id": o.order_id,
                "amount_fen": o.paid_fen,
                "out_trade_no": otn,
                "reason": "not on the trade bill",
            }
            for otn, o in self.charges.items()
        ]
        out += [
            {
                "provider": str(o.paid_via).split(":", 1)[0],
                "kind": "refund",
                "order_id": o.order_id,
                "amount_fen": fen,
                "out_refund_no": refund_id,
                "reason": "not on the trade bill",
            }
            for refund_id, (o, fen) in self.refunds.items()
        ]
        return out
