"""The lists agents work from (terminals, merchants, orders): filters, search, sort, totals, and the
merchant's name and phone on every terminal row. One filter value per list (domain/filters.py)
serves the JSON page, the CSV export and the asynchronous export alike.

How each is read (docs/search-and-screens.md has the figures):
- Terminals in an order an index keeps (SN; expiry, with or without a status) page through that
  index, one page read per answer. Search (`q`), sort by merchant name, or an order no index keeps
  for the filters read the tenant's compact search index whole (8 shards in parallel), filter and
  sort those rows in memory, and fetch only the page's terminals (BatchGet).
- `total` is counted from the same compact index, at every answer: computed, never a maintained
  counter, so concurrent writes cannot make it drift.
- Orders are read newest first from the tenant's order index; a date range is a key condition,
  status, channel and SN are filters, and one answer evaluates at most ORDER_READ_BUDGET orders
  (a next_cursor goes on from there), so a rare filter never turns one request into a long read.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.collation import name_key
from simrenew.domain.contact import mask_phone
from simrenew.domain.filters import MerchantFilters, OrderFilters, TerminalFilters
from simrenew.domain.fleet import ExpiryWindow, Merchant, Terminal, TerminalStatus, expiring_window
from simrenew.domain.orders import Order
from simrenew.errors import ValidationError
from simrenew.ports.fleet import Merchants, Terminals
from simrenew.ports.orders import Orders
from simrenew.ports.paging import Page
from simrenew.ports.search import MerchantRow, SearchIndex, TerminalRow
from simrenew.ports.tenants import Tenants
from simrenew.services.lookups import tenant_or_404

T = TypeVar("T")
ORDER_READ_BUDGET = 1000  # orders evaluated per answer at most (~1 MB, ~125 read units)
ORDER_COUNT_BUDGET = 20_000  # past this many orders in the range, `total` is null (narrow the dates)
CURSOR_PREFIX = "s1."


@dataclass(frozen=True)
class ListPage(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int | None


# --- keyset cursors over an in-memory sorted list ------------------------------------------------
def _fingerprint(kind: str, filters: Mapping[str, str]) -> str:
    raw = json.dumps([kind, sorted(filters.items())], ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()[:12]


def _encode_after(fingerprint: str, after: list[Any]) -> str:
    raw = json.dumps({"f": fingerprint, "a": after}, separators=(",", ":"), ensure_ascii=False).encode()
    return CURSOR_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_after(cursor: str | None, fingerprint: str) -> list[Any] | None:
    if not cursor:
        return None
    bad = ValidationError("cursor", "invalid_cursor", "cursor is not one this API returned")
    if not cursor.startswith(CURSOR_PREFIX) or len(cursor) > 2000:
        raise bad
    body = cursor[len(CURSOR_PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), list):
        raise bad
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in data["a"]):
        raise bad
    if data.get("f") != fingerprint:
        raise ValidationError("cursor", "invalid_cursor", "cursor belongs to another list")
    return list(data["a"])


def _window(
    rows: list[Any], key: Callable[[Any], tuple[Any, ...]], after: list[Any] | None, limit: int
) -> tuple[list[Any], list[Any] | None]:
    """The `limit` rows after `after` in key order, and the key to go on from (None at the end)."""
    ordered = sorted(rows, key=key)
    start = 0
    if after is not None:
        try:
            start = bisect.bisect_right([key(r) for r in ordered], tuple(after))
        except TypeError:
            raise ValidationError("cursor", "invalid_cursor", "cursor belongs to another list") from None
    chosen = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return chosen, (list(key(chosen[-1])) if more and chosen else None)


@dataclass(eq=False, repr=False)
class ListingService:
    _tenants: Tenants
    _terminals: Terminals
    _merchants: Merchants
    _search: SearchIndex
    _orders: Orders
    _clock: Clock

    def _today_and_window(self, tenant_id: str) -> tuple[date, int]:
        tenant = tenant_or_404(self._tenants, tenant_id, "no such tenant")
        return today_in(self._clock, tenant.settings.timezone), max(tenant.settings.reminder_days, default=30)

    # --- terminals ----------------------------------------------------------------------------------
    def _matching_rows(
        self, tenant_id: str, f: TerminalFilters, with_names: bool
    ) -> tuple[list[TerminalRow], dict[str, MerchantRow]]:
        rows = self._search.terminals(tenant_id)
        names: dict[str, MerchantRow] = {}
        if f.q or with_names:
            names = {m.merchant_id: m for m in self._search.merchants(tenant_id)}
        today, window = self._today_and_window(tenant_id)
        by_merchant = {m.merchant_id for m in names.values() if f.q and f.q in m.text}
        status = f.status
        lower = upper = None
        if status == "expiring":
            status, lower = TerminalStatus.ACTIVE.value, today.isoformat()
            upper = (today + timedelta(days=window + 1)).isoformat()
        before = f.expires_before.isoformat() if f.expires_before else None
        out = []
        for r in rows:
            if f.q and f.q not in r.text and r.merchant_id not in by_merchant:
                continue
            if status and r.status != status:
                continue
            if f.merchant_id and r.merchant_id != f.merchant_id:
                continue
            if lower and r.expires_on < lower:
                continue
            if upper and r.expires_on >= upper:
                continue
            if before and r.expires_on >= before:
                continue
            out.append(r)
        return out, names

    @staticmethod
    def _uses_index(f: TerminalFilters) -> bool:
        """True where an index keeps the asked order for these filters (one page read)."""
        if f.q or f.sort == "name":
            return False
        if f.merchant_id:
            return f.sort in (None, "sn")  # gsi1 is by SN within a merchant
        if f.sort in (None,):
            return True
        if f.sort == "sn":
            return not (f.status or f.expires_before)
        return True  # expiry, either way: gsi3 (status) or gsi4

    def count_terminals(self, tenant_id: str, f: TerminalFilters) -> int:
        return len(self._matching_rows(tenant_id, f, with_names=False)[0])

    def terminals(self, tenant_id: str, f: TerminalFilters, limit: int, cursor: str | None) -> ListPage[Terminal]:
        if self._uses_index(f):
            page = self._index_page(tenant_id, f, limit, cursor)
            return ListPage(page.items, page.next_cursor, self.count_terminals(tenant_id, f))
        rows, names = self._matching_rows(tenant_id, f, with_names=f.sort == "name")
        key = self._terminal_key(f.sort, names)
        chosen, after = _window(rows, key, _decode_after(cursor, _fingerprint("terminals", f.to_query())), limit)
        found = self._terminals.terminals(tenant_id, [r.sn for r in chosen])
        items = [found[r.sn] for r in chosen if r.sn in found]
        next_cursor = _encode_after(_fingerprint("terminals", f.to_query()), after) if after else None
        return ListPage(items, next_cursor, len(rows))

    @staticmethod
    def _terminal_key(sort: str | None, names: dict[str, MerchantRow]) -> Callable[[TerminalRow], tuple[Any, ...]]:
        if sort == "expires_on":
            return lambda r: (r.expires_on, r.sn)
        if sort == "-expires_on":
            return lambda r: (-date.fromisoformat(r.expires_on).toordinal() if r.expires_on else 0, r.sn)
        if sort == "name":

            def by_name(r: TerminalRow) -> tuple[Any, ...]:
                m = names.get(r.merchant_id or "")
                return (0 if m else 1, *(name_key(m.name) if m else ("", "")), r.sn)

            return by_name
        return lambda r: (r.sn,)

    def _index_page(self, tenant_id: str, f: TerminalFilters, limit: int, cursor: str | None) -> Page[Terminal]:
        today, window = self._today_and_window(tenant_id)
        span: ExpiryWindow = {"status": f.status, "expires_from": None, "expires_before": f.expires_before}
        if f.status == "expiring":
            span = expiring_window(today, window, f.expires_before)
        if f.sort in ("expires_on", "-expires_on") and not f.merchant_id:
            forward = f.sort == "expires_on"
            return self._terminals.by_expiry(tenant_id, forward=forward, limit=limit, cursor=cursor, **span)
        return self._terminals.page(tenant_id, limit=limit, cursor=cursor, merchant_id=f.merchant_id, **span)

    def iter_terminals(self, tenant_id: str, f: TerminalFilters) -> Iterator[Terminal]:
        """Every terminal the filters select, in the list's order (CSV, exports)."""
        cursor: str | None = None
        while True:
            if self._uses_index(f):
                page: Page[Terminal] | ListPage[Terminal] = self._index_page(tenant_id, f, 200, cursor)
            else:
                page = self.terminals(tenant_id, f, 200, cursor)
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return

    # --- merchants -----------------------------------------------------------------------------------
    def merchants(self, tenant_id: str, f: MerchantFilters, limit: int, cursor: str | None) -> ListPage[Merchant]:
        rows = self._search.merchants(tenant_id)
        matching = [m for m in rows if not f.q or f.q in m.text]
        if not f.q and not f.sort:
            page = self._merchants.page(tenant_id, limit, cursor)  # id order, one page read
            return ListPage(page.items, page.next_cursor, len(rows))
        fp = _fingerprint("merchants", f.to_query())
        if f.sort == "-name":
            order = sorted({name_key(m.name) for m in matching}, reverse=True)
            rank = {name: i for i, name in enumerate(order)}

            def key(m: MerchantRow) -> tuple[Any, ...]:
                return (rank[name_key(m.name)], m.merchant_id)
        else:

            def key(m: MerchantRow) -> tuple[Any, ...]:
                return (*name_key(m.name), m.merchant_id)

        chosen, after = _window(matching, key, _decode_after(cursor, fp), limit)
        found = self._merchants.get_many(tenant_id, [m.merchant_id for m in chosen])
        items = [found[m.merchant_id] for m in chosen if m.merchant_id in found]
        return ListPage(items, _encode_after(fp, after) if after else None, len(matching))

    def merchant_cards(self, tenant_id: str, merchant_ids: list[str | None], mask: bool) -> dict[str, dict[str, Any]]:
        """merchant id → {merchant_id, name, phone} for rows that show who the merchant is; the
        phone masked for a read-only key."""
        found = self._merchants.get_many(tenant_id, [m for m in merchant_ids if m])
        return {
            m.merchant_id: {
                "merchant_id": m.merchant_id,
                "name": m.name,
                "phone": mask_phone(m.phone) if mask else m.phone,
            }
            for m in found.values()
        }

    # --- orders ----------------------------------------------------------------------------------------
    @staticmethod
    def _order_conditions(f: OrderFilters) -> dict[str, str | None]:
        def day_start(d: date) -> str:
            return iso_utc(datetime.combine(d, time(), UTC))

        return {
            "lower": day_start(f.from_day) if f.from_day else None,
            "upper": day_start(f.to_day + timedelta(days=1)) if f.to_day else None,  # `to` is inclusive
            "status": f.status,
            "channel": f.channel,
            "sn": f.sn,
        }

    def orders(
        self, tenant_id: str, f: OrderFilters, limit: int, cursor: str | None, *, budget: int = ORDER_READ_BUDGET
    ) -> ListPage[Order]:
        conditions = self._order_conditions(f)
        page = self._orders.filtered_page(tenant_id, conditions, limit, cursor, budget)
        return ListPage(
            page.items, page.next_cursor, self._orders.count_filtered(tenant_id, conditions, ORDER_COUNT_BUDGET)
        )

    def iter_orders(self, tenant_id: str, f: OrderFilters) -> Iterator[Order]:
        cursor: str | None = None
        while True:
            page = self.orders(tenant_id, f, 200, cursor)
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return
