"""The fleet's repositories in memory: merchants, plans and terminals with their global claims.

A terminal is registered with one claim per identifier (SN, TID, ICCID: unique across every
tenant), in one transaction; a clash is the same Conflict the real repository raises
(`terminal_exists`, `identifier_in_use` naming the caller's own terminal, `identifier_claimed`
saying nothing of the holder). Saves are by version: a lost update is `concurrent_update`."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Unpack

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.fleet import (
    IDENTIFIERS,
    MerchantRepository,
    PlanRepository,
    TerminalRepository,
    _merchant,
    _plan,
    claim_item,
    clash_error,
    moved_copy,
    new_terminal_item,
    pending_event,
    refilled,
    to_terminal,
    transfer_code_item,
)
from simrenew.adapters.dynamodb.models import (
    ClaimItem,
    Item,
    MerchantItem,
    MerchantKeyItem,
    PlanItem,
    PlanNameItem,
    TenantItem,
    TerminalEventItem,
    TerminalItem,
    TransferCodeItem,
)
from simrenew.adapters.dynamodb.paging import Page
from simrenew.adapters.dynamodb.search import merchant_entry
from simrenew.domain.fleet import ExpiryWindow, Merchant, Plan, Terminal, TerminalWindow
from simrenew.errors import Conflict, NotFound
from simrenew.ports.fleet_store import TransferCode
from tests.support.fakes.table import FAILED, Cancelled, FakeTable, Tx, exists, paged


def bump_tenant_version(tx: Tx, tenant_id: str) -> None:
    """A plan write bumps the tenant's version (a cached context is then stale); the tenant must exist."""

    def bumped(stored: Item | None) -> Item | None:
        assert isinstance(stored, TenantItem)
        stored.version = (stored.version or 0) + 1
        return stored

    tx.update((keys.tenant_pk(tenant_id), keys.tenant_profile_sk()), bumped, check=exists)


def _saved_new(table: FakeTable, items: Iterable[Any], bump: str | None = None) -> bool:
    """Save items none of which may exist yet, in one transaction (bumping the tenant's version
    with them when `bump` names it); False when one already existed (nothing saved)."""
    try:
        with table.tx() as tx:
            for item in items:
                tx.save(item, new=True)
            if bump is not None:
                bump_tenant_version(tx, bump)
    except Cancelled:
        return False
    return True


def _within(expires_on: str, lower: date | None, upper: date | None) -> bool:
    """expires_on in [lower, upper): the expiry range of the real key conditions."""
    return (lower is None or expires_on >= lower.isoformat()) and (upper is None or expires_on < upper.isoformat())


class FakeMerchantRepository(MerchantRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, merchant: Merchant, now: datetime) -> None:
        if not _saved_new(self.table, self._items(merchant, now)):
            raise self._exists(merchant)

    def find_by_key(self, tenant_id: str, name: str, phone: str) -> str | None:
        found = self.table.get(MerchantKeyItem, keys.tenant_pk(tenant_id), keys.merchant_key_sk(name, phone))
        return found.merchant_id if found else None

    def _item(self, tenant_id: str, merchant_id: str) -> MerchantItem | None:
        return self.table.get(MerchantItem, keys.tenant_pk(tenant_id), keys.merchant_sk(merchant_id))

    def get_many(self, tenant_id: str, merchant_ids: Iterable[str]) -> dict[str, Merchant]:
        found = (self._item(tenant_id, m) for m in {m for m in merchant_ids if m})
        return {i.merchant_id: _merchant(i) for i in found if i is not None}

    def find_many_by_key(self, tenant_id: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found = {pair: self.find_by_key(tenant_id, *pair) for pair in pairs}
        return {pair: merchant_id for pair, merchant_id in found.items() if merchant_id}

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Merchant]:
        found = self.table.query(MerchantItem, keys.tenant_pk(tenant_id), keys.merchant_sk(""))
        items, next_cursor = paged(found, limit, cursor)
        return Page([_merchant(i) for i in items], next_cursor)

    def update(self, tenant_id: str, merchant_id: str, changes: dict[str, Any], now: datetime) -> Merchant:
        item = self._item(tenant_id, merchant_id)
        if item is None:
            raise NotFound("no such merchant", code="merchant_not_found")
        pk, old_key = keys.tenant_pk(tenant_id), keys.merchant_key_sk(item.name, item.phone)
        for name, value in changes.items():
            setattr(item, name, value)
        item.updated_at = now
        item.srch_pk, item.srch_sk, item.srch_text = merchant_entry(
            tenant_id, merchant_id, item.name, item.phone, item.contact_name
        )
        new_key = keys.merchant_key_sk(item.name, item.phone)
        try:
            with self.table.tx() as tx:
                tx.save(item)
                if new_key != old_key:
                    tx.delete((pk, old_key))
                    tx.save(MerchantKeyItem(pk, new_key, merchant_id=merchant_id), new=True)
        except Cancelled as exc:
            if exc.codes[0] == FAILED:
                raise Conflict("the merchant changed meanwhile; reload and retry", code="concurrent_update") from None
            raise Conflict("another merchant has this name and phone", code="merchant_exists", field="phone") from None
        return _merchant(item)

    def create_many(self, merchants: Sequence[Merchant], now: datetime) -> dict[tuple[str, str], str]:
        """Each merchant on its own here (the real one writes 50 per transaction): one whose
        (name, phone) exists already is matched to the one there."""
        result: dict[tuple[str, str], str] = {}
        for m in merchants:
            try:
                self.create(m, now)
                result[(m.name, m.phone)] = m.merchant_id
            except Conflict:
                existing = self.find_by_key(m.tenant_id, m.name, m.phone)
                if existing:
                    result[(m.name, m.phone)] = existing
        return result


class FakePlanRepository(PlanRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, plan: Plan, now: datetime) -> None:
        if not _saved_new(self.table, self._items(plan, now), bump=plan.tenant_id):
            raise Conflict("a plan with this name exists", code="plan_exists", field="name")

    def get(self, tenant_id: str, plan_id: str) -> Plan | None:
        item = self.table.get(PlanItem, keys.tenant_pk(tenant_id), keys.plan_sk(plan_id))
        return _plan(item) if item else None

    def ids_by_name(self, tenant_id: str, names: Iterable[str]) -> dict[str, str]:
        pk = keys.tenant_pk(tenant_id)
        found = {n.casefold(): self.table.get(PlanNameItem, pk, keys.plan_name_sk(n)) for n in names}
        return {name: i.plan_id for name, i in found.items() if i is not None}

    def all(self, tenant_id: str) -> builtins.list[Plan]:
        return [_plan(i) for i in self.table.query(PlanItem, keys.tenant_pk(tenant_id), keys.plan_sk(""))]

    def update(self, tenant_id: str, plan_id: str, changes: dict[str, Any], now: datetime) -> Plan:
        pk = keys.tenant_pk(tenant_id)
        item = self.table.get(PlanItem, pk, keys.plan_sk(plan_id))
        if item is None:
            raise NotFound("no such plan", code="plan_not_found")
        old_name = item.name
        for name, value in changes.items():
            setattr(item, name, value)
        item.updated_at = now
        try:
            with self.table.tx() as tx:
                tx.save(item)
                if keys.plan_name_sk(old_name) != keys.plan_name_sk(item.name):
                    tx.delete((pk, keys.plan_name_sk(old_name)))
                    tx.save(PlanNameItem(pk, keys.plan_name_sk(item.name), plan_id=plan_id), new=True)
                bump_tenant_version(tx, tenant_id)
        except Cancelled as exc:
            if exc.codes[0] == FAILED:
                raise Conflict("the plan changed meanwhile; reload and retry", code="concurrent_update") from None
            raise Conflict("a plan with this name exists", code="plan_exists", field="name") from None
        return _plan(item)


class FakeTerminalRepository(TerminalRepository):
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    # --- reads -----------------------------------------------------------------------------------
    def item(self, tenant_id: str, sn: str) -> TerminalItem | None:
        return self.table.get(TerminalItem, keys.tenant_pk(tenant_id), keys.terminal_sk(sn))

    def get_many(self, tenant_id: str, sns: Iterable[str]) -> dict[str, TerminalItem]:
        found = (self.item(tenant_id, sn) for sn in set(sns))
        return {i.sn: i for i in found if i is not None}

    def find_by_tid(self, tenant_id: str, tid: str) -> Terminal | None:
        for item in self.table.scan(TerminalItem):
            if item.tenant_id == tenant_id and item.tid == tid:
                return to_terminal(item)
        return None

    def claim(self, kind: str, value: str) -> ClaimItem | None:
        return self.table.get(ClaimItem, keys.claim_pk(kind.upper(), value), keys.claim_sk())

    def public(self, kind: str, value: str) -> tuple[TerminalItem | None, builtins.list[Item]]:
        holder = self.claim(kind, value)
        return (self.item(holder.tenant_id, holder.sn) if holder is not None else None), []

    # --- listing (the real indexes, read from the items' own index attributes) ---------------------
    def _by_expiry(
        self, tenant_id: str, status: str | None, lower: date | None, upper: date | None
    ) -> list[TerminalItem]:
        if status:
            found = self.table.index(
                TerminalItem, "gsi3pk", keys.terminals_by_status_gsi3pk(tenant_id, status), "gsi3sk"
            )
        else:
            found = self.table.index(TerminalItem, "gsi4pk", keys.terminals_by_expiry_gsi4pk(tenant_id), "gsi4sk")
        return [i for i in found if _within(i.expires_on, lower, upper)]

    def page(
        self, tenant_id: str, *, limit: int, cursor: str | None, **window: Unpack[TerminalWindow]
    ) -> Page[Terminal]:
        status, merchant_id = window["status"], window["merchant_id"]
        expires_from, expires_before = window["expires_from"], window["expires_before"]
        if merchant_id:
            pk = keys.terminals_by_merchant_gsi1pk(tenant_id, merchant_id)
            found = [
                i
                for i in self.table.index(TerminalItem, "gsi1pk", pk, "gsi1sk")
                if (not status or i.status == status) and _within(i.expires_on, expires_from, expires_before)
            ]
        elif status or expires_from or expires_before:
            found = self._by_expiry(tenant_id, status, expires_from, expires_before)
        else:
            found = self.table.query(TerminalItem, keys.tenant_pk(tenant_id), keys.terminal_sk(""))
        items, next_cursor = paged(found, limit, cursor)
        return Page([to_terminal(i) for i in items], next_cursor)

    def by_expiry(
        self, tenant_id: str, *, forward: bool, limit: int, cursor: str | None, **window: Unpack[ExpiryWindow]
    ) -> Page[Terminal]:
        found = self._by_expiry(tenant_id, window["status"], window["expires_from"], window["expires_before"])
        items, next_cursor = paged(found if forward else found[::-1], limit, cursor)
        return Page([to_terminal(i) for i in items], next_cursor)

    def count(
        self, tenant_id: str, status: str, expires_from: date | None = None, expires_before: date | None = None
    ) -> int:
        return len(self._by_expiry(tenant_id, status, expires_from, expires_before))

    def search(self, tenant_id: str, prefix: str, limit: int) -> builtins.list[Terminal]:
        wanted = prefix.strip()
        found = {
            i.sn: to_terminal(i)
            for i in self.table.query(TerminalItem, keys.tenant_pk(tenant_id), keys.terminal_sk(""))
            if wanted and (i.sn.startswith(wanted.upper()) or (wanted.isdigit() and i.tid.startswith(wanted)))
        }
        return sorted(found.values(), key=lambda t: t.sn)[:limit]

    def iterate(self, tenant_id: str) -> Iterator[Terminal]:
        for item in self.table.query(TerminalItem, keys.tenant_pk(tenant_id), keys.terminal_sk("")):
            yield to_terminal(item)

    def events(self, tenant_id: str, sn: str) -> builtins.list[TerminalEventItem]:
        return self.table.query(TerminalEventItem, keys.tenant_pk(tenant_id), keys.terminal_events_prefix(sn))

    def children(self, tenant_id: str, sn: str) -> builtins.list[Item]:
        return self.table.query(Item, keys.tenant_pk(tenant_id), keys.terminal_log_prefix(sn))

    # --- writes -----------------------------------------------------------------------------------
    def _registration(self, tx: Tx, terminal: Terminal, now: datetime) -> None:
        tx.save(new_terminal_item(terminal, now), new=True)
        for name in IDENTIFIERS:
            tx.save(claim_item(name, getattr(terminal, name), terminal.tenant_id, terminal.sn, now), new=True)

    def register(self, terminal: Terminal, now: datetime) -> None:
        try:
            with self.table.tx() as tx:
                self._registration(tx, terminal, now)
        except Cancelled as exc:
            failed = [name for name, code in zip(("terminal", *IDENTIFIERS), exc.codes, strict=True) if code]
            raise self._clash(terminal, failed) from None

    def register_many(self, terminals: Sequence[Terminal], now: datetime) -> dict[str, Conflict]:
        refused: dict[str, Conflict] = {}
        pending = list(terminals)
        while pending:
            try:
                with self.table.tx() as tx:
                    for t in pending:
                        self._registration(tx, t, now)
                break
            except Cancelled as exc:
                pending = self._refuse(pending, exc.codes, refused)
        return refused

    def save(
        self,
        item: TerminalItem,
        terminal: Terminal,
        now: datetime,
        moved_claims: dict[str, tuple[str, str]],
        ledger: Sequence[Item] = (),
    ) -> Terminal:
        refilled(item, terminal, now)
        try:
            with self.table.tx() as tx:
                tx.save(item)
                for name, (old, new) in moved_claims.items():
                    tx.delete(
                        (keys.claim_pk(name.upper(), old), keys.claim_sk()),
                        check=lambda c: isinstance(c, ClaimItem) and c.tenant_id == terminal.tenant_id,
                    )
                    tx.save(claim_item(name, new, terminal.tenant_id, terminal.sn, now), new=True)
                for line in ledger:
                    tx.save(line, new=True)
        except Cancelled as exc:
            if exc.codes[0] == FAILED:
                raise Conflict("the terminal changed meanwhile; reload and retry", code="concurrent_update") from None
            failed = [name for i, name in enumerate(moved_claims) if exc.codes[2 + 2 * i] == FAILED]
            raise clash_error(self.explain_clash(terminal.tenant_id, terminal, failed or list(moved_claims))) from None
        return to_terminal(item)

    def record_usage(
        self, item: TerminalItem, terminal: Terminal, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> Terminal:
        refilled(item, terminal, now)
        term = terminal.expires_on.isoformat()
        try:
            with self.table.tx() as tx:
                tx.save(item)
                for name, detail in events:
                    tx.save(pending_event(terminal, name, term, detail, now), new=True)
        except Cancelled as exc:
            if exc.codes[0] == FAILED:
                raise Conflict("the terminal changed meanwhile; retry", code="concurrent_update") from None
            return self.record_usage(item, terminal, [], now) if events else to_terminal(item)
        return to_terminal(item)

    def put_transfer_code(self, tenant_id: str, sn: str, code_hash: str, expires_at: datetime, now: datetime) -> None:
        code = TransferCode(tenant_id, sn, code_hash, expires_at, used=False)
        self.table.put(transfer_code_item(code, created_at=now))

    def transfer_code(self, tenant_id: str, sn: str) -> TransferCodeItem | None:
        return self.table.get(TransferCodeItem, keys.tenant_pk(tenant_id), keys.transfer_sk(sn))

    def move(
        self, item: TerminalItem, moved: Terminal, code: TransferCodeItem, children: Sequence[Item], now: datetime
    ) -> None:
        """The terminal, its claims and its history to another tenant, spending the code: all or nothing."""
        old_tenant, new_pk = item.tenant_id, keys.tenant_pk(moved.tenant_id)

        def reclaimed(stored: Item | None) -> Item | None:
            assert isinstance(stored, ClaimItem)
            stored.tenant_id, stored.updated_at = moved.tenant_id, now
            return stored

        def spent(stored: Item | None) -> Item | None:
            assert isinstance(stored, TransferCodeItem)
            stored.used, stored.updated_at = True, now
            return stored

        try:
            with self.table.tx() as tx:
                tx.delete((item.pk, item.sk), check=lambda s: isinstance(s, TerminalItem) and s.version == item.version)
                tx.save(new_terminal_item(moved, now), new=True)
                for name in IDENTIFIERS:
                    tx.update(
                        (keys.claim_pk(name.upper(), getattr(moved, name)), keys.claim_sk()),
                        reclaimed,
                        check=lambda s: isinstance(s, ClaimItem) and s.tenant_id == old_tenant,
                    )
                tx.update(
                    (code.pk, code.sk),
                    spent,
                    check=lambda s: isinstance(s, TransferCodeItem) and not s.used and s.expires_at > now,
                )
                for child in children:
                    tx.delete((child.pk, child.sk))
                    tx.save(moved_copy(child, new_pk, moved.tenant_id))
        except Cancelled:
            raise Conflict(
                "the transfer code was used or the terminal changed meanwhile", code="transfer_conflict"
            ) from None
