"""Money reports: revenue per day (gross, agent fees, refunds, net) and the reconciliation
of a day's Stripe balance transactions against the agent's orders."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.adapters.dynamodb.models import OrderItem
from simrenew.adapters.dynamodb.orders import OrderRepository, to_order
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.adapters.payments import PaymentGateway
from simrenew.domain.dates import parse_date
from simrenew.domain.fleet import MAX_EXPIRY, MIN_EXPIRY
from simrenew.domain.orders import OrderStatus
from simrenew.errors import NotFound, ValidationError

MAX_DAYS = 366
PAID = {OrderStatus.FULFILLED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}


def _report_day(raw: str, field: str) -> date:
    """A report date within the calendar the product supports (that of expires_on): at the ends of
    datetime's range, the day's bounds in the agent's timezone overflow (a 500 found by fuzzing)."""
    day = parse_date(raw, field)
    if not MIN_EXPIRY <= day <= MAX_EXPIRY:
        raise ValidationError(field, "out_of_range", f"{field} must be between {MIN_EXPIRY} and {MAX_EXPIRY}")
    return day


class ReportService:
    def __init__(self, tenants: TenantRepository, orders: OrderRepository, gateway: PaymentGateway) -> None:
        self._tenants = tenants
        self._orders = orders
        self._gateway = gateway

    def _tz(self, tenant_id: str) -> ZoneInfo:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such agent", code="tenant_not_found")
        return ZoneInfo(tenant.settings.timezone)

    def _orders_between(self, tenant_id: str, start: datetime, end: datetime) -> list[OrderItem]:
        """Orders created in [start - 1 day, end): a payment lands at most 30 minutes (or a
        late webhook) after its order, so a day's margin catches every payment in range."""
        from simrenew.adapters.dynamodb import keys
        from simrenew.clock import iso_utc

        lower = iso_utc(start - timedelta(days=1))
        upper = iso_utc(end)
        return [
            i
            for i in OrderItem.gsi1.query(keys.orders_gsi1pk(tenant_id), OrderItem.gsi1sk.between(lower, upper))
            if isinstance(i, OrderItem)
        ]

    def revenue(self, tenant_id: str, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
        if not raw_from or not raw_to:
            raise ValidationError("from" if not raw_from else "to", "required", "from and to are required (YYYY-MM-DD)")
        first, last = _report_day(raw_from, "from"), _report_day(raw_to, "to")
        if last < first or (last - first).days > MAX_DAYS:
            raise ValidationError("to", "invalid_range", f"to must be on or after from, at most {MAX_DAYS} days later")
        tz = self._tz(tenant_id)
        start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        days: dict[date, dict[str, int]] = defaultdict(
            lambda: {"gross_fen": 0, "fees_fen": 0, "refunds_fen": 0, "orders": 0}
        )
        for item in self._orders_between(tenant_id, start, end):
            order = to_order(item)
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

    def reconciliation(self, tenant_id: str, raw_date: str | None) -> dict[str, Any]:
        if not raw_date:
            raise ValidationError("date", "required", "date is required (YYYY-MM-DD)")
        day = _report_day(raw_date, "date")
        tz = self._tz(tenant_id)
        start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
        end = start + timedelta(days=1)
        ours: dict[str, dict[str, Any]] = {}
        for item in self._orders_between(tenant_id, start, end):
            if (
                item.payment == "online"
                and item.payment_intent_id
                and item.paid_at
                and start <= item.paid_at < end
                and OrderStatus(item.status) in PAID
            ):
                ours[item.payment_intent_id] = {
                    "order_id": item.order_id,
                    "amount_fen": int(item.amount_fen),
                    "payment_intent_id": item.payment_intent_id,
                }
        matched, stripe_only = [], []
        for txn in self._gateway.balance_transactions(int(start.timestamp()), int(end.timestamp())):
            if txn.get("type") not in ("charge", "payment"):
                continue
            intent = str(txn.get("payment_intent") or "")
            mine = self._orders.by_intent(intent) if intent else None
            if mine is None or mine.tenant_id != tenant_id:
                continue  # another agent's (or the platform's) money: not this agent's report
            order = ours.pop(intent, None)
            row = {
                "balance_transaction": txn.get("id"),
                "amount_fen": int(txn.get("amount", 0)),
                "payment_intent_id": intent,
                "order_id": mine.order_id,
            }
            if order is not None and order["amount_fen"] == row["amount_fen"]:
                matched.append(row)
            else:
                stripe_only.append({**row, "reason": "amount differs" if order else "order not paid on this day"})
        orders_only = [{**o, "reason": "no Stripe balance transaction"} for o in ours.values()]
        return {
            "date": day.isoformat(),
            "matched": matched,
            "unmatched_stripe": stripe_only,
            "unmatched_orders": orders_only,
            "summary": {
                "matched": len(matched),
                "unmatched_stripe": len(stripe_only),
                "unmatched_orders": len(orders_only),
            },
        }


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class ExpiryReports:
    """What expires soon (per week and the list) and what was sent about a terminal."""

    LIST_CAP = 1000

    def __init__(self, tenants: TenantRepository, terminals: Any, sweeps: Any, clock: Any) -> None:
        self._tenants = tenants
        self._terminals = terminals
        self._sweeps = sweeps
        self._clock = clock

    def expiring(self, tenant_id: str, raw_days: str | None) -> dict[str, Any]:
        from simrenew.clock import today_in

        raw = raw_days or "30"
        # ASCII digits, bounded: "²".isdigit() is True but int("²") raises (a 500 found by fuzzing).
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 1 <= int(raw) <= 365:
            raise ValidationError("days", "out_of_range", "days must be a whole number from 1 to 365")
        days = int(raw)
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such agent", code="tenant_not_found")
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


class DashboardReport:
    """The console's first screen: fleet counts by status, what expires in 7 and 30 days,
    this month's revenue and active terminals expiring per week for 12 weeks. Every count is a
    COUNT query on the status index (reads grow with the fleet, the answer does not)."""

    WEEKS = 12
    STATUSES = ("active", "grace", "suspended", "inventory", "deactivated")

    def __init__(self, tenants: TenantRepository, terminals: Any, revenue: ReportService, clock: Any) -> None:
        self._tenants = tenants
        self._terminals = terminals
        self._revenue = revenue
        self._clock = clock

    def dashboard(self, tenant_id: str) -> dict[str, Any]:
        from simrenew.clock import today_in

        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such agent", code="tenant_not_found")
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
