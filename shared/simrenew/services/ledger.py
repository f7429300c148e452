"""The renewal ledger (充值记录): append-only lines per terminal for every movement of money and
time, and the one rule that turns a refund's shares into terminal changes and ledger lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

from simrenew.domain.fleet import Terminal
from simrenew.domain.orders import LineShare, Order, expiry_after_line_refund
from simrenew.ports.fleet import Terminals
from simrenew.ports.orders import Ledger

Stored = TypeVar("Stored")  # a terminal as the store holds it (opaque here; its version guards the write)
Line = TypeVar("Line")  # a ledger line as the store writes it
# Terminals of one order being changed in one transaction: sn → (its stored item, its new state).
Changes = dict[str, tuple[Stored, Terminal]]
# The store's ledger line: (terminal, kind, source, index, old expiry, new expiry, fen, months, now).
LineMaker = Callable[[Terminal, str, str, int, str, str, int, int, datetime], Line]


def refund_lines(
    order: Order,
    shares: list[LineShare],
    terminals: Changes[Stored],
    today: date,
    now: datetime,
    refund_id: str,
    ledger_line: LineMaker[Line],
) -> list[Line]:
    """Apply a refund's shares to the order's lines and to the terminals in `terminals` (whose
    new state may already hold this transaction's renewal), and return the ledger lines: a
    `reversal` where whole months go back, a money-only `refund` otherwise."""
    out: list[Line] = []
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
    def __init__(self, terminals: Terminals, orders: Ledger) -> None:
        self._terminals = terminals
        self._orders = orders

    def renewals(self, tenant_id: str, sn: str) -> list[dict[str, Any]]:
        key = self._terminals.existing(tenant_id, sn).sn
        return [entry.to_json() for entry in self._orders.ledger(tenant_id, key)]
