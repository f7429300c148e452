"""Fakes for the sweep's ports: a sender that records (and can die after k messages), an
emitter that records agent webhook events."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class Killed(BaseException):
    """Stands for the Lambda being killed: not an Exception, so nothing catches it."""


class RecordingSender:
    def __init__(self, die_after: int | None = None, daytime: bool = True) -> None:
        self.sent: list[dict[str, Any]] = []
        self.die_after = die_after
        self.daytime = daytime

    def send_to(
        self,
        *,
        channel: str,
        to: str,
        kind: str,
        language: str,
        ctx: dict[str, Any],
        tenant_id: str,
        sn: str | None,
        dedupe_key: str,
    ) -> str:
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise Killed()
        self.sent.append({"channel": channel, "to": to, "kind": kind, "sn": sn, "ctx": ctx, "key": dedupe_key})
        return f"msg-{len(self.sent)}"

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        return None if self.daytime else now.replace(hour=23, minute=59)


class RecordingEmitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int:
        self.events.append((tenant_id, event_type, data))
        return 1


def sweep_service(sender: Any, clock: Any, emitter: Any = None) -> Any:
    """A SweepService on the bound table with recording fakes for its ports."""
    from simrenew.adapters.dynamodb.fleet import MerchantRepository, TerminalRepository
    from simrenew.adapters.dynamodb.sweeps import SweepRepository
    from simrenew.adapters.dynamodb.tenants import TenantRepository
    from simrenew.services.carrier import OutboxCarrier
    from simrenew.services.sweep import SweepService

    return SweepService(
        TenantRepository(),
        TerminalRepository(),
        MerchantRepository(),
        SweepRepository(),
        sender,
        emitter or RecordingEmitter(),
        OutboxCarrier(),
        clock,
        "https://pay.example.com",
    )
