"""The notification port: what the expiry sweep (services/sweep.py) needs of the SMS and e-mail
channels. The adapter is simrenew.adapters.notify_sender.NotifierSender (the channels of
adapters/notify.py with the templates of domain/messages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Outgoing:
    """One claimed message to render and send: template `kind` in `language` with `ctx`, on
    `channel` to `to`; `dedupe_key` is its claim's key (a provider or the outbox spots a repeat)."""

    channel: str  # sms | email
    to: str
    kind: str
    language: str
    ctx: dict[str, Any]
    tenant_id: str
    sn: str | None  # None for the agent's digest
    dedupe_key: str


class Sender(Protocol):
    def send_to(self, message: Outgoing) -> str:
        """Send it now; the provider's message id."""
        ...

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        """None if an SMS may go now, else when the next window opens."""
        ...
