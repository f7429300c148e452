"""HTTP to a carrier platform: the agent chooses the base URL, so every request goes to an
address checked as public (adapters/outbound.py; only the local stack may use 127.0.0.1), with a
timeout, retries with jittered exponential backoff on 429 / 5xx / no answer, and the platform's
answer mapped to the typed errors of simrenew.domain.carrier.

A request that changes something (`idempotent=False`) is retried only when the platform said it
did nothing (429); after a timeout or a 5xx it raises CarrierUnreachable and the caller reads the
SIM's status before sending it again. Credentials are sent, never logged: log lines carry the
method, the path template and the status only.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, Self
from urllib.parse import urlencode, urlsplit

from simrenew.adapters import outbound
from simrenew.clock import Clock
from simrenew.domain.carrier import (
    CarrierAuthFailed,
    CarrierRejected,
    CarrierThrottled,
    CarrierUnreachable,
    SimUnknown,
)
from simrenew.log import get_logger

ATTEMPTS = 5  # 1 + 4 retries: absorbs a short burst of errors (3 in a row still succeed)
BACKOFF_S = 0.25  # before retry n: BACKOFF_S * 2**(n-1) with full jitter, at most MAX_BACKOFF_S
MAX_BACKOFF_S = 4.0
MAX_RETRY_AFTER_S = 10.0
TIMEOUT_S = 10.0
MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise CarrierRejected(f"the platform answered HTTP {self.status} with a body that is not JSON") from None


class Transport(Protocol):
    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout_s: float) -> Response:
        """One HTTP exchange; raises OSError (TimeoutError included) when no answer came back."""
        ...


class PinnedTransport:
    """The real network: resolve, check the address (public only; the local stack: its own
    loopback only, so a laptop or a test run never sends a carrier request anywhere else),
    connect to exactly that address (TLS verified for the host name), never follow redirects."""

    def __init__(self, *, local: bool = False, resolver: outbound.Resolver = outbound.system_resolver) -> None:
        self._allow_loopback = local
        self._local = local
        self._resolver = resolver

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout_s: float) -> Response:
        import http.client
        import ssl

        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self._local and parts.hostname not in outbound.LOCAL_HOSTS:
            raise OSError("the local stack talks to its own local carrier platform only")
        try:
            destination = outbound.check(
                parts.hostname or "", port, self._resolver, allow_loopback=self._allow_loopback
            )
        except (outbound.RefusedAddress, outbound.Unresolvable) as exc:
            raise OSError(f"address refused or unresolvable: {type(exc).__name__}") from exc
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = outbound._PinnedHTTPSConnection(destination, timeout_s, ssl.create_default_context())
        elif parts.scheme == "http":
            connection = outbound._PinnedHTTPConnection(destination, timeout_s)
        else:
            raise OSError("only http(s) URLs")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read(MAX_BODY + 1)
            if len(data) > MAX_BODY:
                raise OSError("answer too large")
            return Response(int(answer.status), data, {k.lower(): v for k, v in answer.getheaders()})
        except http.client.HTTPException as exc:
            raise OSError(f"bad HTTP response: {type(exc).__name__}") from exc
        finally:
            connection.close()


class PlatformClient:
    """One platform account's HTTP client: base URL, auth headers, retries, request count."""

    def __init__(
        self,
        base_url: str,
        transport: Transport,
        *,
        platform: str,
        timeout_s: float = TIMEOUT_S,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        min_interval_s: float = 0.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._transport = transport
        self._platform = platform
        self._timeout = timeout_s
        self._attempts = max(1, attempts)
        self._sleep = sleep
        self._min_interval = min_interval_s  # Control Center asks for at most 5 calls a second
        self._last_sent = 0.0
        self.requests = 0

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        idempotent: bool = True,
        label: str | None = None,
    ) -> Response:
        """Send with retries; return a 2xx answer or raise a typed CarrierError. `label` is what
        the log says instead of the path (paths hold ICCIDs, queries may hold tokens)."""
        url = self._base + path + ("?" + urlencode(query) if query else "")
        sent_headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            sent_headers["Content-Type"] = "application/json"
        what = label or f"{method} {path.split('?', 1)[0]}"
        last: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            self._pace()
            self.requests += 1
            try:
                answer = self._transport.send(method, url, sent_headers, payload, self._timeout)
            except OSError as exc:  # no answer (timeout, refused, reset): maybe applied
                last = CarrierUnreachable(f"{self._platform}: no answer to {what} ({type(exc).__name__})")
                if not idempotent:
                    raise last from exc
                self._backoff(attempt, None)
                continue
            if 200 <= answer.status < 300:
                return answer
            if answer.status in (401, 403):
                raise CarrierAuthFailed(f"{self._platform} refused the credentials (HTTP {answer.status})")
            if answer.status == 404:
                raise SimUnknown(f"{self._platform}: not found ({what})")
            if answer.status == 429:
                last = CarrierThrottled(f"{self._platform}: too many requests ({what})")
                self._backoff(attempt, answer.headers.get("retry-after"))
                continue
            if answer.status >= 500:
                last = CarrierUnreachable(f"{self._platform}: HTTP {answer.status} to {what}")
                if not idempotent:
                    raise last
                self._backoff(attempt, answer.headers.get("retry-after"))
                continue
            raise CarrierRejected(f"{self._platform} refused {what}: HTTP {answer.status}{_error_text(answer)}")
        get_logger().warning("carrier platform gave up", extra={"platform": self._platform, "call": what})
        assert last is not None
        raise last

    def _pace(self) -> None:
        if self._min_interval > 0:
            wait = self._last_sent + self._min_interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last_sent = time.monotonic()

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        if attempt >= self._attempts:
            return
        delay = random.random() * min(BACKOFF_S * 2 ** (attempt - 1), MAX_BACKOFF_S)  # noqa: S311 - jitter
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after.strip()), MAX_RETRY_AFTER_S))
        self._sleep(delay)


def _error_text(answer: Response) -> str:
    """The platform's own error code (Control Center: {"errorMessage", "errorCode"}), short."""
    try:
        data = json.loads(answer.body or b"{}")
    except ValueError:
        return ""
    if isinstance(data, dict):
        code = data.get("errorCode") or data.get("status")
        message = data.get("errorMessage") or data.get("message")
        if code or message:
            return f" ({str(code or '')[:40]} {str(message or '')[:120]})".rstrip()
    return ""


class PlatformAdapter:
    """What each carrier platform's adapter shares: made from its base URL and credentials over one
    PlatformClient (named `platform` in its errors and logs), and the count of requests it sent."""

    platform = ""

    def __init__(self, client: PlatformClient, username: str, api_key: str, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    @classmethod
    def connect(
        cls, base_url: str, username: str, api_key: str, transport: Transport, clock: Clock, **client: Any
    ) -> Self:
        return cls(PlatformClient(base_url, transport, platform=cls.platform, **client), username, api_key, clock)

    @property
    def requests(self) -> int:
        return self._client.requests
