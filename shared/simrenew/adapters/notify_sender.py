"""The sweep's notification sender (simrenew.ports.notify.Sender): the notification channels
(adapters/notify.py, built on first send) with the templates of domain/messages.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simrenew.ports.notify import Outgoing


class NotifierSender:
    """Adapts the notification channels (adapters/notify.py) and templates (domain/messages.py)
    to what the sweep needs."""

    def __init__(self, notifier_factory: Callable[[], Any]) -> None:
        # Built on first send: only the function that sends needs SENDER_EMAIL and SNS/SES.
        self._factory = notifier_factory
        self._notifier: Any = None
        self._lock = threading.Lock()

    def send_to(self, message: Outgoing) -> str:
        from simrenew.domain.messages import Message, render

        m = message
        subject, body = render(m.kind, m.language, m.ctx, m.channel)
        ready = Message(m.channel, m.to, subject, body, m.kind, m.language, m.tenant_id, m.sn, m.dedupe_key)
        if self._notifier is None:
            with self._lock:  # the sweep's send pool calls from several threads
                if self._notifier is None:
                    self._notifier = self._factory()
        return str(self._notifier.send(ready))

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        from simrenew.domain.messages import next_sms_window, sms_allowed_at

        return None if sms_allowed_at(now, tz) else next_sms_window(now, tz)
