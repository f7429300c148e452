"""The sweep's notification sender (simrenew.services.sweep's Sender): the notification channels
(adapters/notify.py, built on first send) with the templates of domain/messages.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any


class NotifierSender:
    """Adapts the notification channels (adapters/notify.py) and templates (domain/messages.py)
    to what the sweep needs."""

    def __init__(self, notifier_factory: Callable[[], Any]) -> None:
        # Built on first send: only the function that sends needs SENDER_EMAIL and SNS/SES.
        self._factory = notifier_factory
        self._notifier: Any = None
        self._lock = threading.Lock()

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
        from simrenew.domain.messages import Message, render

        subject, body = render(kind, language, ctx, channel)
        message = Message(
            channel=channel,
            to=to,
            subject=subject,
            body=body,
            template=kind,
            language=language,
            tenant_id=tenant_id,
            sn=sn,
            dedupe_key=dedupe_key,
        )
        if self._notifier is None:
            with self._lock:  # the sweep's send pool calls from several threads
                if self._notifier is None:
                    self._notifier = self._factory()
        return str(self._notifier.send(message))

    def sms_allowed(self, now: datetime, tz: str) -> datetime | None:
        from simrenew.domain.messages import next_sms_window, sms_allowed_at

        return None if sms_allowed_at(now, tz) else next_sms_window(now, tz)
