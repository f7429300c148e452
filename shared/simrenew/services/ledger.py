"""The renewal ledger (充值记录): append-only lines per terminal for every movement of money and
time, and the one rule that turns a refund's shares into terminal changes and ledger lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from simrenew.adapters.dynamodb.fleet import TerminalRepository
from simrenew.adapters.dynamodb.models import Item, TerminalItem
from simrenew.adapters.dynamodb.orders import OrderRepository, ledger_line
from simrenew.clock import iso_utc
from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import LineShare, Order, expiry_after_line_refund

# Terminals of one order being changed in one transaction: sn → (its stored item, its new state).
Changes = dict[str, tuple[TerminalItem, Terminal]]


def refund_lines(
    order: Order, shares: list[LineShare], terminals: Changes, today: date, now: datetime, refund_id: str
) -> list[Item]:
    """Apply a refund's shares to the order's lines and to the terminals in `terminals` (whose
    new state may already hold this transaction's renewal), and return the ledger lines: a
    `reversal` where whole months go back, a money-only `refund` otherwise."""
    out: list[Item] = []
    for share in shares:
        line = order.lines[share.index]
        pair = terminals.get(line.sn)
        if pair is None:
            continue
        t_item, current = pair
        back = (
            expiry_after_line_refund(line, current.expires_on, today, share.months)
            if share.months
            else current.expires_on
        )
        updated = replace(current, expires_on=back)
        terminals[line.sn] = (t_item, updated)
        out.append(
            ledger_line(
                updated,
                "reversal" if share.months else "refund",
                f"{order.order_id}:{refund_id}",
                share.index,
                current.expires_on.isoformat(),
                back.isoformat(),
                -share.amount_fen,
                -share.months,
                now,
            )
        )
        line.refunded_fen += share.amount_fen
        line.refunded_months += share.months
    return out


class LedgerService:
    def __init__(self, terminals: TerminalRepository, orders: OrderRepository) -> None:
        self._terminals = terminals
        self._orders = orders

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
                "by": r.actor,
                "note": r.note,
                "created_at": iso_utc(r.created_at) if r.created_at else None,
            }
            for r in self._orders.renewals(tenant_id, key)
        ]
