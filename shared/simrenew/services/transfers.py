"""转赠: an admin moves whole unused months from one of the agent's terminals to another.

One transaction per transfer (both terminals by version, a ledger line on each, a queued notice to
each terminal's merchant, the transfer record); a concurrent change to either terminal makes it
reload and try again, and after a few tries the caller gets 409. Nothing is ever half applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.fleet import Terminal
from simrenew.domain.transfers import EVENT_IN, EVENT_OUT, IN, OUT, plan_transfer, transfer_request
from simrenew.errors import Conflict, NotFound, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.fleet import Terminals
from simrenew.ports.tenants import Tenants
from simrenew.ports.transfers import LedgerLine, StoredTerminals, TerminalNotice, TimeTransfer, TimeTransfers
from simrenew.services.carrier import resumes

ATTEMPTS = 5
Stored = TypeVar("Stored")
Stored_co = TypeVar("Stored_co", covariant=True)


class TransferTerminals(Terminals, StoredTerminals[Stored_co], Protocol[Stored_co]):
    """The terminal port with the stored handles a transfer's conditional write needs."""


@dataclass(eq=False, repr=False)
class TransferService(Generic[Stored]):
    _tenants: Tenants
    _terminals: TransferTerminals[Stored]
    _transfers: TimeTransfers[Stored]
    _clock: Clock

    def transfer_time(self, tenant_id: str, raw_sn: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        request = transfer_request(body)
        source_sn = self._terminals.existing(tenant_id, raw_sn).sn
        if request.to_sn == source_sn:
            raise ValidationError("to_sn", "same_terminal", "to_sn must be another terminal than the one giving time")
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("no such agent", code="tenant_not_found")
        transfer_id = new_id("tt")
        for _attempt in range(ATTEMPTS):
            now = self._clock.now()
            today = today_in(self._clock, tenant.settings.timezone)
            # Both read consistently, inside this tenant only: another agent's SN is simply absent.
            source_stored = self._terminals.stored(tenant_id, source_sn)
            target_stored = self._terminals.stored(tenant_id, request.to_sn)
            if source_stored is None:
                raise NotFound("no such terminal", code="terminal_not_found")
            if target_stored is None:
                raise NotFound("no such terminal", code="terminal_not_found", field="to_sn")
            (source_item, source_read), (target_item, target_read) = source_stored, target_stored
            plan = plan_transfer(source_read, target_read, request.months, today)
            source, target = plan.source, plan.target
            before = (plan.source_before.isoformat(), plan.target_before.isoformat())
            after = (source.expires_on.isoformat(), target.expires_on.isoformat())
            lines = [
                LedgerLine(source, OUT, f"{transfer_id}:{target.sn}", 0, before[0], after[0], 0, -request.months),
                LedgerLine(target, IN, f"{transfer_id}:{source.sn}", 1, before[1], after[1], 0, request.months),
            ]
            record = TimeTransfer(tenant_id, transfer_id, source, target, request.months, request.reason, actor, before)
            # The receiving terminal, if suspended, has its SIM's service back at the carrier.
            resume = target_read if resumes(target_read, target) else None
            notices = self._events(transfer_id, request.months, (source, target), before, after)
            pairs = [(source_item, source), (target_item, target)]
            if self._transfers.apply(record, pairs, lines, notices, resume, now):
                get_logger().info(
                    "time transferred",
                    extra={"tenant_id": tenant_id, "transfer_id": transfer_id, "months": request.months},
                )
                return {
                    "transfer_id": transfer_id,
                    "months": request.months,
                    "reason": request.reason,
                    "created_at": iso_utc(now),
                    "from": {"sn": source.sn, "expires_on_before": before[0], "expires_on_after": after[0]},
                    "to": {"sn": target.sn, "expires_on_before": before[1], "expires_on_after": after[1]},
                }
        raise Conflict("the terminals kept changing meanwhile; reload and retry", code="concurrent_update")

    @staticmethod
    def _events(
        transfer_id: str,
        months: int,
        pair: tuple[Terminal, Terminal],
        before: tuple[str, str],
        after: tuple[str, str],
    ) -> list[TerminalNotice]:
        """The notice each merchant gets: the giving terminal's and the receiving one's."""
        source, target = pair
        return [
            TerminalNotice(
                terminal,
                f"{kind}#{transfer_id}",
                after[i],
                {
                    "transfer_id": transfer_id,
                    "months": months,
                    "other_sn": other.sn,
                    "expires_before": before[i],
                    "expires_on": after[i],
                },
            )
            for i, (terminal, other, kind) in enumerate(((source, target, EVENT_OUT), (target, source, EVENT_IN)))
        ]
