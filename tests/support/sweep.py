"""Fakes for the sweep's ports: a sender that records (and can die after k messages), an
emitter that records agent webhook events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simrenew.ports.notify import Outgoing


class Killed(BaseException):
    """Stands for the Lambda being killed: not an Exception, so nothing catches it."""


class RecordingSender:
    def __init__(self, die_after: int | None = None, daytime: bool = True) -> None:
        self.sent: list[dict[str, Any]] = []
        self.die_after = die_after
        self.daytime = daytime

    def send_to(self, message: Outgoing) -> str:
        if self.die_after is not None and len(self.sent) >= self.die_after:
            raise Killed()
        self.sent.append(
            {
                "channel": message.channel,
                "to": message.to,
                "kind": message.kind,
                "sn": message.sn,
                "ctx": message.ctx,
                "key": message.dedupe_key,
            }
        )
        return f"msg-{len(self.sent)}"

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        return None if self.daytime else now.replace(hour=23, minute=59)


class RecordingEmitter:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int:
        self.events.append((tenant_id, event_type, data))
        return 1


def sweep_service(sender: Any, clock: Any, emitter: Any = None, **options: Any) -> Any:
    """A SweepService on the bound table with recording fakes for its ports (`options`: its
    keyword arguments, e.g. the `sleep` of a lease wait)."""
    from simrenew.adapters.dynamodb.carrier import OutboxCarrier
    from simrenew.adapters.dynamodb.fleet import MerchantRepository, TerminalRepository
    from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
    from simrenew.adapters.dynamodb.sweep_store import SweepStore
    from simrenew.adapters.dynamodb.tenants import TenantRepository
    from simrenew.services.sweep import SweepService

    options.setdefault("days", SweepDayRepository())
    return SweepService(
        TenantRepository(),
        TerminalRepository(),
        MerchantRepository(),
        SweepStore(),
        sender,
        emitter or RecordingEmitter(),
        OutboxCarrier(),
        clock,
        "https://pay.example.com",
        **options,
    )


class RecordingDispatcher:
    """Collects the events a sweep run dispatches (what Lambda would invoke), for the test to run."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def dispatch(self, event: dict[str, Any]) -> None:
        self.events.append(dict(event))

    def take(self) -> list[dict[str, Any]]:
        events, self.events = self.events, []
        return events


def swept(api: Any, platform_key: str, as_of: str, timeout: float = 90) -> dict[str, Any]:
    """POST /v1/admin/sweeps (202 and a run id), then its progress until the run is done."""
    import time

    started = api.post("/v1/admin/sweeps", {"as_of": as_of}, key=platform_key)
    assert started.status == 202, started.body
    run_id = started.json["run_id"]
    deadline = time.monotonic() + timeout
    while True:
        progress = api.get(f"/v1/admin/sweeps/{run_id}", key=platform_key)
        assert progress.status == 200, progress.body
        if progress.json["status"] == "done":
            return dict(progress.json)
        assert time.monotonic() < deadline, f"sweep run {run_id} not done in {timeout} s: {progress.json}"
        time.sleep(0.1)
