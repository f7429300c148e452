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
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (strings as getaddrinfo gives them).
Resolver = Callable[[str, int], Sequence[str]]

LOCAL_HOSTS = ("127.0.0.1", "localhost")
# WHATWG URL: a host whose last label is a number is an IPv4 address in some notation.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Not globally reachable per IANA, but not in every Python's is_private list.
_NOT_GLOBAL_V4 = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("192.0.0.0/24"))


class RefusedAddress(Exception):
    """The host is not (only) public unicast, or is written in an ambiguous numeric form."""


class Unresolvable(Exception):
    """The host name has no address (or the resolver failed)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(host) from exc
    return [str(info[4][0]) for info in infos]


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, checked through any IPv4 an IPv6 address embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None or int(address) >> 32 == 0:  # ::ffff:a.b.c.d, ::a.b.c.d, ::, ::1
            return False
        if address.teredo is not None or address in _NAT64_LOCAL:
            return False
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    elif any(address in net for net in _NOT_GLOBAL_V4):
        return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_private
    )


def _parse(raw: str) -> IPAddress:
    return ipaddress.ip_address(raw.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")


def canonical_host(host: str) -> str:
    """The host as the resolver will see it: lower case, IDNA-encoded (so full-width or
    circled digits cannot hide a number), without the root's trailing dot."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        raise RefusedAddress("empty host")
    if ":" in host:  # an IPv6 literal
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise RefusedAddress("host is not a valid name") from None


def literal(host: str) -> IPAddress | None:
    """The address a host names literally; None for a host name. A numeric form other than
    the dotted quad (or an IPv6 literal) is refused: it means an address to resolvers, and
    nothing legitimate is written that way."""
    if ":" in host:
        try:
            return _parse(host)
        except ValueError:
            raise RefusedAddress("not an IPv6 address") from None
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        try:
            return ipaddress.IPv4Address(host)  # refuses leading zeros, hex, short forms
        except ValueError:
            raise RefusedAddress("ambiguous numeric host") from None
    return None


@dataclass(frozen=True)
class Destination:
    host: str  # as sent in Host and SNI
    address: str  # the checked address to connect to
    port: int


def check(host: str, port: int, resolver: Resolver, *, allow_loopback: bool = False) -> Destination:
    """Resolve and check a host. Every address must be public unicast (or, for the local
    stack's own 127.0.0.1/localhost only, loopback). Raises RefusedAddress or Unresolvable."""
    name = canonical_host(host)
    if allow_loopback and name not in LOCAL_HOSTS:
        allow_loopback = False
    if (name == "localhost" or name.endswith(".localhost")) and not allow_loopback:
        raise RefusedAddress("localhost")
    fixed = literal(name)
    if fixed is not None:
        found: list[IPAddress] = [fixed]
    else:
        try:
            found = [_parse(a) for a in resolver(name, port)]
        except ValueError:
            raise RefusedAddress("resolver answered a non-address") from None
        if not found:
            raise Unresolvable(name)
    for address in found:
        ok = address.is_loopback if allow_loopback else is_public(address)
        if not ok:
            raise RefusedAddress(str(address))
    return Destination(name, str(found[0]), port)


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
