"""The notifier port and its channels: SMS through Amazon SNS, email through Amazon SES, a local
outbox for `make dev` and tests, and a router that picks the channel of each message.

Provider failures surface as SendError with `retryable` telling the caller whether trying the same
message again later can succeed (throttling, provider outages, network) or not (a bad number, an
unverified sender). Channel mismatches are programming errors: ValueError.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from simrenew.clock import Clock, SystemClock, iso_utc
from simrenew.domain.messages import Message

# Error codes SNS and SES use for "not now" rather than "never": throttling, sending-rate and
# daily-quota limits (SES says "Throttling" for both), and faults on the provider's side.
_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "KMSThrottling",
        "KMSThrottlingException",
    }
)


class SendError(Exception):
    """A channel could not send a message; `retryable` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code  # the provider's error code when there is one, for the notification log


class Notifier(Protocol):
    def send(self, message: Message) -> str:
        """Send one message; returns the provider's message id. Raises SendError."""
        ...


def _send_error(exc: Exception, action: str) -> SendError:
    """A botocore failure as a SendError: throttling, 5xx, 429 and network trouble are retryable."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retryable = code in _RETRYABLE_CODES or status >= 500 or status == 429
        return SendError(f"{action} failed: {code} {error.get('Message', '')}".strip(), retryable=retryable, code=code)
    # Timeouts and dropped connections: the request may not have reached the provider, try later.
    retryable = isinstance(exc, BotoConnectionError | HTTPClientError)
    return SendError(f"{action} failed: {type(exc).__name__}: {exc}", retryable=retryable)


def _expect_channel(message: Message, channel: str, sender: str) -> None:
    if message.channel != channel:
        raise ValueError(f"{sender} sends {channel} messages, got {message.channel!r}")


class _LazyClient:
    """A boto3 client made on first use: importing boto3 and building a client costs cold-start
    time that functions which never send (the API, most webhook calls) should not pay."""

    def __init__(self, service: str, region: str) -> None:
        self._service = service
        self._region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client(self._service, region_name=self._region)
        return self._client


class SnsSmsSender:
    """SMS to a merchant's phone (E.164) through Amazon SNS direct publish, as transactional SMS
    (higher delivery priority than promotional; a lapsing SIM is not marketing)."""

    def __init__(self, region: str) -> None:
        self._client = _LazyClient("sns", region)

    def send(self, message: Message) -> str:
        _expect_channel(message, "sms", "SnsSmsSender")
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._client.get()
        try:
            response = client.publish(
                PhoneNumber=message.to,
                Message=message.body,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _send_error(exc, "SNS publish") from exc
        return str(response["MessageId"])


class SesEmailSender:
    """Plain-text email through Amazon SES from a verified sender address."""

    def __init__(self, region: str, sender: str) -> None:
        self._client = _LazyClient("ses", region)
        self._sender = sender

    def send(self, message: Message) -> str:
        _expect_channel(message, "email", "SesEmailSender")
        if message.subject is None:
            raise ValueError("an email message needs a subject")
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._client.get()
        try:
            response = client.send_email(
                Source=self._sender,
                Destination={"ToAddresses": [message.to]},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise _send_error(exc, "SES SendEmail") from exc
        return str(response["MessageId"])


class LocalOutbox:
    """The local stand-in for both channels: keeps what was sent in `sent` and, given a path,
    appends one JSON line per message to it (what `make dev` shows instead of a real SMS)."""

    def __init__(self, path: Path | None = None, *, clock: Clock | None = None) -> None:
        self.sent: list[Message] = []
        self._path = path
        self._clock: Clock = clock or SystemClock()
        # The sweep may send from several threads locally; one lock keeps ids, list and file in step.
        self._lock = threading.Lock()
        self._count = 0
        if path is not None and path.exists():
            # Ids stay unique across restarts of `make dev`, which keep appending to the same file.
            with path.open("rb") as existing:
                self._count = sum(1 for _ in existing)

    def send(self, message: Message) -> str:
        with self._lock:
            self._count += 1
            message_id = f"local-{self._count:06d}"
            self.sent.append(message)
            if self._path is not None:
                line = {"id": message_id, "at": iso_utc(self._clock.now()), **asdict(message)}
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
            return message_id


class ChannelRouter:
    """One notifier for the sweep: each message goes to the sender of its channel."""

    def __init__(self, sms: Notifier, email: Notifier) -> None:
        self._by_channel: dict[str, Notifier] = {"sms": sms, "email": email}

    def send(self, message: Message) -> str:
        notifier = self._by_channel.get(message.channel)
        if notifier is None:
            raise ValueError(f"no notifier for channel {message.channel!r}")
        return notifier.send(message)
