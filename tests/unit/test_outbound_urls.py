"""Outbound URL safety (webhook endpoints): hostile URLs are refused at registration, a host
that resolves somewhere private by the time of delivery is refused then, the connection goes to
the address that was checked, and the delivery log never carries socket error text.

The resolver is injected: no DNS is needed, and a name can resolve differently on each call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from simrenew.adapters.dynamodb.webhooks import WebhookRepository
from simrenew.adapters.outbound import Destination, RefusedAddress, canonical_host, check
from simrenew.bootstrap import _webhooks
from simrenew.clock import FixedClock
from simrenew.config import Config
from simrenew.errors import ValidationError
from simrenew.services.webhooks import NO_ANSWER, REFUSED, WebhookService

START = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
TENANT = "t_agent_a"
PUBLIC_V4 = "93.184.216.34"

DNS: dict[str, list[str]] = {
    "hooks.example.com": [PUBLIC_V4],
    "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
    "loopback.example": ["127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "half-private.example": [PUBLIC_V4, "10.1.2.3"],  # every address must be public
    "cgnat.example": ["100.100.100.100"],
    "v6-loopback.example": ["::1"],
    "v6-mapped.example": ["::ffff:10.0.0.1"],
    "v6-ula.example": ["fd12:3456::1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "garbage.example": ["not-an-address"],
}


def resolver(host: str, port: int) -> list[str]:
    return DNS.get(host, [])


HOSTILE = [
    # loopback in every spelling a resolver accepts
    "https://127.0.0.1/hook",
    "https://127.0.0.1:8443/hook",
    "https://127.255.255.254/",
    "https://127.1/",
    "https://127.0.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0x7f.0.0.1/",
    "https://0177.0.0.1/",
    "https://017700000001/",
    "https://127.0.0.1./",
    "https://①②⑦.0.0.1/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://api.localhost/",
    # unspecified and "this network"
    "https://0/",
    "https://0.0.0.0/",
    "https://[::]/",
    # cloud metadata and link-local
    "https://169.254.169.254/latest/meta-data/",
    "https://2852039166/",
    "https://[fd00:ec2::254]/",
    "https://[fe80::1]/",
    # private, CGNAT, special-purpose
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://192.0.0.8/",
    "https://192.0.2.1/",
    "https://198.18.0.1/",
    # multicast, reserved, broadcast
    "https://224.0.0.1/",
    "https://239.255.255.250/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[ff02::1]/",
    # IPv6 that embeds or maps IPv4
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::127.0.0.1]/",
    "https://[fc00::1]/",
    "https://[2002:7f00:1::]/",
    "https://[2002:a00:1::1]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    # names that resolve to any non-public address
    "https://loopback.example/",
    "https://metadata.example/",
    "https://half-private.example/",
    "https://cgnat.example/",
    "https://v6-loopback.example/",
    "https://v6-mapped.example/",
    "https://v6-ula.example/",
    "https://127.0.0.1.nip.io/",
    "https://garbage.example/",
]


@dataclass
class RecordingTransport:
    calls: list[tuple[str, Destination]] = field(default_factory=list)
    answer: int | Exception = 200

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float, destination: Destination) -> int:
        self.calls.append((url, destination))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _service(transport: Any = None, dns: Any = resolver, local: bool = False) -> WebhookService:
    return WebhookService(
        WebhookRepository(), transport or RecordingTransport(), FixedClock(START), allow_http_local=local, resolver=dns
    )


def _only_delivery(service: WebhookService, endpoint_id: str) -> dict[str, Any]:
    (delivery,) = service.deliveries(TENANT, endpoint_id).items
    return delivery


def test_the_table_has_at_least_40_hostile_urls() -> None:
    assert len(set(HOSTILE)) >= 40


@pytest.mark.parametrize("url", HOSTILE)
def test_given_a_hostile_url_when_registering_then_400_names_url(url: str) -> None:
    # No table here: refused before anything is read or written.
    with pytest.raises(ValidationError) as caught:
        _service().create_endpoint(TENANT, {"url": url, "events": ["order.fulfilled"]})
    assert (caught.value.field, caught.value.code) == ("url", "private_address")


@pytest.mark.parametrize("url", HOSTILE)
def test_given_local_mode_a_hostile_url_other_than_the_local_loopback_is_still_refused(url: str) -> None:
    """allow_http_local lets only 127.0.0.1/localhost resolving to loopback through."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if canonical_host(host) in ("127.0.0.1", "localhost"):
        assert check(host, 443, resolver, allow_loopback=True).address in ("127.0.0.1", "::1")
        return
    with pytest.raises(RefusedAddress):
        check(host, 443, resolver, allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/hook",
        f"https://{PUBLIC_V4}/x",
        "https://[2606:4700:4700::1111]/",
        "https://v6.example.com/",
    ],
)
def test_given_a_public_url_when_registering_then_it_is_accepted(ddb: Any, url: str) -> None:
    endpoint, _ = _service().create_endpoint(TENANT, {"url": url, "events": ["order.fulfilled"]})
    assert endpoint["url"] == url


def test_given_dns_rebinding_after_registration_when_delivering_then_refused_and_never_connected(ddb: Any) -> None:
    answers = iter([[PUBLIC_V4], ["127.0.0.1"]])  # public when registered, loopback at delivery
    transport = RecordingTransport()
    service = _service(transport, dns=lambda host, port: next(answers))
    endpoint, _ = service.create_endpoint(TENANT, {"url": "https://rebind.example/hook", "events": ["order.fulfilled"]})

    service.emit(TENANT, "order.fulfilled", {"order_id": "or_1"})

    assert transport.calls == []
    delivery = _only_delivery(service, endpoint["endpoint_id"])
    assert (delivery["state"], delivery["last_status"], delivery["last_error"]) == ("pending", None, REFUSED)


def test_given_a_public_name_when_delivering_then_the_transport_connects_to_the_address_checked(ddb: Any) -> None:
    transport = RecordingTransport()
    service = _service(transport)
    service.create_endpoint(TENANT, {"url": "https://hooks.example.com:8443/hook?x=1", "events": ["order.fulfilled"]})

    service.emit(TENANT, "order.fulfilled", {"order_id": "or_1"})

    ((url, destination),) = transport.calls
    assert url == "https://hooks.example.com:8443/hook?x=1"
    assert (destination.host, destination.address, destination.port) == ("hooks.example.com", PUBLIC_V4, 8443)


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        OSError(113, "No route to host"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
)
def test_given_a_socket_failure_when_delivering_then_the_log_says_only_no_http_answer(
    ddb: Any, failure: Exception
) -> None:
    transport = RecordingTransport(answer=failure)
    service = _service(transport)
    endpoint, _ = service.create_endpoint(TENANT, {"url": "https://hooks.example.com/h", "events": ["order.fulfilled"]})

    service.emit(TENANT, "order.fulfilled", {"order_id": "or_1"})

    delivery = _only_delivery(service, endpoint["endpoint_id"])
    assert delivery["last_error"] == NO_ANSWER  # the same words whatever the socket said


def test_given_a_redirect_when_delivering_then_the_log_shows_the_status_only(ddb: Any) -> None:
    service = _service(RecordingTransport(answer=302))
    endpoint, _ = service.create_endpoint(TENANT, {"url": "https://hooks.example.com/h", "events": ["order.fulfilled"]})
    service.emit(TENANT, "order.fulfilled", {"order_id": "or_1"})
    assert _only_delivery(service, endpoint["endpoint_id"])["last_error"] == "HTTP 302"


def test_given_the_aws_configuration_then_http_to_loopback_is_never_allowed(ddb: Any) -> None:
    aws = Config(
        env="aws",
        table_name="t",
        region="us-east-1",
        ddb_endpoint=None,
        public_base_url="https://pay.example.com",
        platform_key=None,
        platform_key_secret_arn="arn:aws:secretsmanager:us-east-1:0:secret:p",
        stripe_secret_arn="arn:aws:secretsmanager:us-east-1:0:secret:s",
        import_worker_function=None,
        log_level="INFO",
    )
    service = _webhooks(aws, FixedClock(START))
    for url in ("http://127.0.0.1:9000/hook", "https://127.0.0.1:9000/hook", "http://localhost:9000/hook"):
        with pytest.raises(ValidationError) as caught:
            service.create_endpoint(TENANT, {"url": url, "events": ["order.fulfilled"]})
        assert caught.value.field == "url"
