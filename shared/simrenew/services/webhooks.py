"""Outbound webhooks to agents: endpoints, signed deliveries, retries with backoff.

A delivery is at least once: agents dedupe on the event id (`id` in the body) or the
`SimRenew-Delivery` header. An endpoint that fails never blocks the caller (the sweep,
fulfilment): its deliveries wait in the retry queue that `retry_due` works through.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol

from simrenew.clock import Clock, iso_utc
from simrenew.domain import addresses
from simrenew.domain.addresses import Destination, RefusedAddress, Resolver, Unresolvable
from simrenew.domain.fleet import reject_unknown
from simrenew.domain.vocabulary import WEBHOOK_EVENTS
from simrenew.errors import NotFound, RuleViolation, SimRenewError, ValidationError
from simrenew.ids import new_id, new_secret
from simrenew.log import get_logger
from simrenew.ports.paging import Page
from simrenew.ports.webhooks import (
    Attempt,
    StoredDelivery,
    StoredEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookStore,
)

# The events an endpoint may subscribe to: the API's vocabulary of them (webhook_event).
EVENTS = WEBHOOK_EVENTS

SIGNATURE_HEADER = "SimRenew-Signature"
EVENT_HEADER = "SimRenew-Event"
DELIVERY_HEADER = "SimRenew-Delivery"

MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 200
MAX_ENDPOINTS = 10  # each subscribed endpoint costs an HTTP call per event
TIMEOUT_S = 5.0
# Wait after failed attempt n (1-based); attempt MAX_ATTEMPTS failing ends the delivery.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
# After an endpoint fails, new events for it skip the immediate attempt for this long and go
# straight to the retry queue: a dead endpoint costs the sweep one timeout, not one per terminal.
QUIET_AFTER_FAILURE = timedelta(minutes=1)
LOCAL_HOSTS = addresses.LOCAL_HOSTS
# All an agent's delivery log says about a failure: the host's addresses were refused, or no
# HTTP answer came (never the socket error, which would make the log a port scanner).
REFUSED = "refused: not a public address"
NO_ANSWER = "no HTTP answer"


# --- signatures --------------------------------------------------------------------------------
def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The SimRenew-Signature header: HMAC-SHA256 over "<timestamp>." + the raw body, keyed
    with the whole endpoint secret (including its "whsec_" prefix)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    """What an agent runs on receipt: the signature matches and the timestamp is within
    `tolerance_s` of `now` (unix seconds; the current time when None)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    # Every candidate is compared, so timing says nothing about which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    return matched


# --- transport ---------------------------------------------------------------------------------
class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float, destination: Destination) -> int:
        """POST to `destination` (the checked address of the URL's host, pinned: no second
        resolution) and return the HTTP status code; raise OSError when no answer came back."""
        ...


# --- service -----------------------------------------------------------------------------------
def endpoint_json(item: WebhookEndpoint) -> dict[str, Any]:
    """The agent's view of an endpoint: never the secret."""
    return {
        "endpoint_id": item.endpoint_id,
        "url": item.url,
        "events": json.loads(item.events_json),
        "description": item.description,
        "active": item.active,
        "created_at": iso_utc(item.created_at) if item.created_at else None,
    }


def delivery_json(item: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery_id": item.delivery_id,
        "endpoint_id": item.endpoint_id,
        "event_id": item.event_id,
        "event_type": item.event_type,
        "state": item.state,
        "attempts": item.attempts,
        "last_status": item.last_status,
        "last_error": item.last_error,
        "next_attempt_at": iso_utc(item.next_attempt_at) if item.next_attempt_at else None,
        "delivered_at": iso_utc(item.delivered_at) if item.delivered_at else None,
        "created_at": iso_utc(item.created_at) if item.created_at else None,
        "payload": json.loads(item.payload_json),
    }


class WebhookService(Generic[StoredEndpoint, StoredDelivery]):
    def __init__(
        self,
        repo: WebhookStore[StoredEndpoint, StoredDelivery],
        transport: Transport,
        clock: Clock,
        allow_http_local: bool,
        resolver: Resolver,
    ) -> None:
        self._repo = repo
        self._store_errors: tuple[type[Exception], ...] = (*repo.store_errors, SimRenewError)
        self._transport = transport
        self._clock = clock
        # Only the local stack passes True (bootstrap: config.is_local), and then only
        # 127.0.0.1/localhost resolving to loopback are let through, never private networks.
        self._allow_http_local = allow_http_local
        self._resolver = resolver
        self._quiet_until: dict[tuple[str, str], datetime] = {}

    # --- endpoints -----------------------------------------------------------------------------
    def create_endpoint(self, tenant_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Returns the endpoint and its signing secret, which is shown this once."""
        reject_unknown(body, ("url", "events", "description"))
        url = self._valid_url(body.get("url"))
        events = _valid_events(body.get("events"))
        description = body.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH):
            raise ValidationError(
                "description", "invalid_description", f"description must be text of at most {MAX_DESCRIPTION_LENGTH}"
            )
        if len(self._repo.active_endpoints(tenant_id)) >= MAX_ENDPOINTS:
            raise RuleViolation(f"at most {MAX_ENDPOINTS} webhook endpoints per agent", code="endpoint_limit")
        secret = "whsec_" + new_secret(24)
        now = self._clock.now()
        new = WebhookEndpoint(tenant_id, new_id("we"), url, json.dumps(events), secret, description or None, True, now)
        item = self._repo.endpoint(self._repo.create_endpoint(new))
        get_logger().info("webhook endpoint created", extra={"tenant_id": tenant_id, "endpoint_id": item.endpoint_id})
        return endpoint_json(item), secret

    def list_endpoints(self, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page[dict[str, Any]]:
        page = self._repo.list_endpoints(tenant_id, limit, cursor)
        return Page([endpoint_json(self._repo.endpoint(i)) for i in page.items], page.next_cursor)

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        """Disables the endpoint: nothing more is sent to it; its delivery log stays readable."""
        if not self._repo.disable_endpoint(tenant_id, endpoint_id, self._clock.now()):
            raise NotFound("no such webhook endpoint", code="webhook_endpoint_not_found")
        get_logger().info("webhook endpoint deleted", extra={"tenant_id": tenant_id, "endpoint_id": endpoint_id})

    def deliveries(
        self, tenant_id: str, endpoint_id: str, limit: int = 50, cursor: str | None = None
    ) -> Page[dict[str, Any]]:
        """The endpoint's delivery log, newest first."""
        if self._repo.get_endpoint(tenant_id, endpoint_id) is None:
            raise NotFound("no such webhook endpoint", code="webhook_endpoint_not_found")
        page = self._repo.list_deliveries(tenant_id, endpoint_id, limit, cursor)
        return Page([delivery_json(self._repo.delivery(i)) for i in page.items], page.next_cursor)

    # --- sending -------------------------------------------------------------------------------
    def emit(self, tenant_id: str, event_type: str, data: dict[str, Any]) -> int:
        """Send an event to every active endpoint of the tenant subscribed to it. Never
        raises because of an endpoint (or the store): failures are logged and retried.
        Returns the number of deliveries created."""
        return self.emit_many(tenant_id, [(event_type, data)])

    def emit_many(self, tenant_id: str, events: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """emit() for several events of one tenant (the sweep's, a checkpoint's worth at a time):
        the tenant's endpoints are read once, not once an event. Returns the deliveries created."""
        log = get_logger()
        known: list[tuple[str, dict[str, Any]]] = []
        for event_type, data in events:
            if event_type in EVENTS:
                known.append((event_type, data))
            else:
                log.error("unknown webhook event type", extra={"tenant_id": tenant_id, "event_type": event_type})
        if not known:
            return 0
        now = self._clock.now()
        try:
            endpoints = [self._repo.endpoint(e) for e in self._repo.active_endpoints(tenant_id)]
        except self._store_errors as exc:
            log.error(
                "webhook endpoints unavailable; event not sent",
                extra={
                    "tenant_id": tenant_id,
                    "event_type": ",".join(sorted({t for t, _ in known})),
                    "error": type(exc).__name__,
                },
            )
            return 0
        return sum(self._emit_to(tenant_id, endpoints, event_type, data, now) for event_type, data in known)

    def _emit_to(
        self,
        tenant_id: str,
        endpoints: Sequence[WebhookEndpoint],
        event_type: str,
        data: dict[str, Any],
        now: datetime,
    ) -> int:
        log = get_logger()
        subscribed = [e for e in endpoints if event_type in json.loads(e.events_json)]
        if not subscribed:
            return 0
        try:
            event = _event(new_id("evt"), event_type, data, now)
        except (TypeError, ValueError) as exc:  # a caller's bug must not stop the sweep either
            log.error(
                "webhook event data is not JSON; event not sent",
                extra={"tenant_id": tenant_id, "event_type": event_type, "error": str(exc)},
            )
            return 0
        created = 0
        for endpoint in subscribed:
            try:
                created += self._deliver_new(endpoint, event, now)
            except self._store_errors as exc:
                log.error(
                    "webhook delivery not recorded",
                    extra={"tenant_id": tenant_id, "endpoint_id": endpoint.endpoint_id, "error": type(exc).__name__},
                )
        return created

    def _attempt_now(self, endpoint: WebhookEndpoint, now: datetime) -> bool:
        """False while the endpoint is quiet after a failure: a new delivery then waits in the retry queue."""
        quiet = self._quiet_until.get((endpoint.tenant_id, endpoint.endpoint_id))
        return quiet is None or quiet <= now

    def _deliver_new(self, endpoint: WebhookEndpoint, event: WebhookEvent, now: datetime) -> int:
        # Queued before the first attempt: if this process dies mid-call, the retry job sends it.
        attempt_now = self._attempt_now(endpoint, now)
        item = self._repo.add_delivery(endpoint, new_id("wd"), event, now + BACKOFF[0] if attempt_now else now, now)
        if attempt_now:
            self._attempt(endpoint, item)
        return 1

    def emit_once(self, tenant_id: str, event_type: str, event_id: str, data: dict[str, Any], created: datetime) -> int:
        """emit() for an outbox entry: the event id is the entry's and each endpoint's delivery id
        is derived from it (conditional create), so a redelivered entry creates no second delivery.
        Unlike emit() it raises when the store fails, so the entry stays pending and is retried.
        Returns the number of deliveries created now."""
        if event_type not in EVENTS:
            raise ValueError(f"unknown webhook event type {event_type!r}")
        now = self._clock.now()
        active = [self._repo.endpoint(e) for e in self._repo.active_endpoints(tenant_id)]
        endpoints = [e for e in active if event_type in json.loads(e.events_json)]
        event = _event(event_id, event_type, data, created)
        created_now = 0
        for endpoint in endpoints:
            attempt_now = self._attempt_now(endpoint, now)
            delivery_id = "wd_" + hashlib.sha256(f"{event_id}\x00{endpoint.endpoint_id}".encode()).hexdigest()[:24]
            queued_for = now + BACKOFF[0] if attempt_now else now
            item = self._repo.add_delivery_once(endpoint, delivery_id, event, queued_for, now)
            if item is None:
                continue  # created by an earlier run of this entry: the retry queue owns it
            created_now += 1
            if attempt_now:
                self._attempt(endpoint, item)
        return created_now

    def retry_due(self, limit: int = 100) -> int:
        """Attempt the pending deliveries that are due, across every tenant. Returns how many
        were attempted (or closed because their endpoint is gone)."""
        now = self._clock.now()
        done = 0
        for shard in range(self._repo.retry_shards):
            if done >= limit:
                break
            for stored in self._repo.due_retries(shard, now, limit - done):
                item = self._repo.delivery(stored)
                try:
                    done += self._retry(stored, item, now)
                except self._store_errors as exc:
                    get_logger().error(
                        "webhook retry not recorded",
                        extra={
                            "tenant_id": item.tenant_id,
                            "delivery_id": item.delivery_id,
                            "error": type(exc).__name__,
                        },
                    )
        return done

    def _retry(self, stored: StoredDelivery, item: WebhookDelivery, now: datetime) -> int:
        found = self._repo.get_endpoint(item.tenant_id, item.endpoint_id)
        endpoint = None if found is None else self._repo.endpoint(found)
        if endpoint is None or not endpoint.active:
            return 1 if self._repo.close_delivery(stored, "endpoint deleted", now) else 0
        # Claim it: the version check lets one worker win; the lease requeues it if we die.
        if not self._repo.claim_delivery(stored, now + BACKOFF[0], now):
            return 0
        self._attempt(endpoint, stored)
        return 1

    def _attempt(self, endpoint: WebhookEndpoint, stored: StoredDelivery) -> None:
        """One signed POST, then the delivery's new state (delivered, queued again, failed)."""
        item = self._repo.delivery(stored)
        body = item.payload_json.encode()
        now = self._clock.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "SimRenew-Webhooks/1",
            SIGNATURE_HEADER: sign(endpoint.secret, int(now.timestamp()), body),
            EVENT_HEADER: item.event_type,
            DELIVERY_HEADER: item.delivery_id,
        }
        status: int | None = None
        error: str | None = None
        failure: str | None = None  # for our own log only
        try:
            # Resolved again at every delivery (DNS may have changed since registration), and
            # the connection goes to the address checked here.
            destination = self._destination(endpoint.url)
            status = self._transport.post(endpoint.url, body, headers, TIMEOUT_S, destination)
        except RefusedAddress:
            error, failure = REFUSED, "refused"
        except (Unresolvable, OSError, ValueError) as exc:
            error, failure = NO_ANSWER, type(exc).__name__
        attempts = item.attempts + 1
        key = (endpoint.tenant_id, endpoint.endpoint_id)
        if status is not None and 200 <= status < 300:
            self._quiet_until.pop(key, None)
            self._repo.record_attempt(stored, Attempt(status, None, "delivered", None), now)
            return
        error = error or f"HTTP {status}"
        self._quiet_until[key] = now + QUIET_AFTER_FAILURE
        state, retry_at = ("failed", None) if attempts >= MAX_ATTEMPTS else ("pending", now + BACKOFF[attempts - 1])
        get_logger().warning(
            "webhook delivery failed",
            extra={
                "tenant_id": endpoint.tenant_id,
                "endpoint_id": endpoint.endpoint_id,
                "delivery_id": item.delivery_id,
                "host": urllib.parse.urlsplit(endpoint.url).hostname,
                "attempt": attempts,
                "status": status,
                "state": state,
                "error": error,
                "failure": failure,
            },
        )
        self._repo.record_attempt(stored, Attempt(status, error, state, retry_at), now)

    # --- validation ----------------------------------------------------------------------------
    def _valid_url(self, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise ValidationError("url", "required", "url is required")
        url = raw.strip()
        if len(url) > MAX_URL_LENGTH:
            raise ValidationError("url", "too_long", f"url must be at most {MAX_URL_LENGTH} characters")
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
            raise ValidationError("url", "invalid_url", "url must not contain spaces or control characters")
        try:
            parts = urllib.parse.urlsplit(url)
            _ = parts.port  # raises ValueError on a bad port
        except ValueError:
            raise ValidationError("url", "invalid_url", "url is not a valid URL") from None
        host = (parts.hostname or "").lower()
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ValidationError("url", "credentials_in_url", "url must not contain a user name or password")
        if not host:
            raise ValidationError("url", "invalid_url", "url needs a host")
        scheme = parts.scheme.lower()
        local = self._allow_http_local and addresses.canonical_host(host) in LOCAL_HOSTS
        if scheme != "https" and not (scheme == "http" and local):
            raise ValidationError("url", "https_required", "url must start with https://")
        try:
            self._destination(url)
        except RefusedAddress:
            raise ValidationError("url", "private_address", "url must point to a public host") from None
        except Unresolvable:
            # Accepted: agents register before their DNS is live, and a name that resolves nowhere
            # reaches nothing. Every delivery resolves and checks again before connecting.
            pass
        return url

    def _destination(self, url: str) -> Destination:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return addresses.check(parts.hostname or "", port, self._resolver, allow_loopback=self._allow_http_local)


def _event(event_id: str, event_type: str, data: dict[str, Any], at: datetime) -> WebhookEvent:
    """The event and its exact body (raises TypeError or ValueError when `data` is not JSON)."""
    payload = json.dumps(
        {"id": event_id, "type": event_type, "created": iso_utc(at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return WebhookEvent(event_id, event_type, payload, at)


def _valid_events(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError("events", "required", f"events must be a non-empty list of: {', '.join(EVENTS)}")
    unknown = [e for e in raw if not isinstance(e, str) or e not in EVENTS]
    if unknown:
        raise ValidationError("events", "unknown_event", f"unknown event {unknown[0]!r}; known: {', '.join(EVENTS)}")
    return _in_catalogue_order(raw)


def _in_catalogue_order(events: Iterable[str]) -> list[str]:
    wanted = set(events)
    return [e for e in EVENTS if e in wanted]
