"""Outbound HTTP to addresses agents choose (webhook endpoints), without becoming a door into
our own network: the host is resolved by us, every address it resolves to must be public
unicast, the connection goes to the address that was checked (no second resolution between
check and connect), and redirects are answered, never followed.

Refused, whatever the spelling: loopback, private, link-local (169.254.169.254, the metadata
service), CGNAT 100.64/10, multicast, reserved, unspecified, IPv4-mapped and IPv4-compatible
IPv6, 6to4 / NAT64 / Teredo embedding a non-public IPv4, and the legacy numeric forms that
resolvers accept (`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`, `0`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse

from simrenew.domain.addresses import LOCAL_HOSTS as LOCAL_HOSTS
from simrenew.domain.addresses import Destination as Destination
from simrenew.domain.addresses import IPAddress as IPAddress
from simrenew.domain.addresses import RefusedAddress as RefusedAddress
from simrenew.domain.addresses import Resolver as Resolver
from simrenew.domain.addresses import Unresolvable as Unresolvable
from simrenew.domain.addresses import canonical_host as canonical_host
from simrenew.domain.addresses import check as check
from simrenew.domain.addresses import is_public as is_public
from simrenew.domain.addresses import literal as literal


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(host) from exc
    return [str(info[4][0]) for info in infos]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the certificate verified for the host name."""

    def __init__(self, destination: Destination, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout, context=context)
        self._address = destination.address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(
    scheme: str, destination: Destination, target: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> int:
    """One POST to the pinned address; the HTTP status (a redirect is a status, not followed).
    Raises OSError when no HTTP answer came back."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = _PinnedHTTPSConnection(destination, timeout_s, ssl.create_default_context())
    elif scheme == "http":
        connection = _PinnedHTTPConnection(destination, timeout_s)
    else:
        raise OSError("only http(s) URLs can be posted to")
    try:
        connection.request("POST", target or "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # drain a little so the connection closes cleanly
        return int(response.status)
    except http.client.HTTPException as exc:  # a malformed answer is no answer
        raise OSError(f"bad HTTP response: {type(exc).__name__}") from exc
    finally:
        connection.close()


class UrllibTransport:
    """The standard library's HTTP client (no extra dependency in the Lambda layer), connected to
    the checked address. Redirects are answered, not followed: a redirected POST would lose its
    body, and following one could carry a signed payload to a host nobody checked."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float, destination: Destination) -> int:
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return post(parts.scheme.lower(), destination, target, body, headers, timeout_s)
