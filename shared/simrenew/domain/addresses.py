"""Which addresses outbound HTTP (webhook endpoints agents choose) may reach: the rules of
simrenew.adapters.outbound, pure (the resolver is passed in). A host is refused unless every address
it resolves to is public unicast; refused, whatever the spelling: loopback, private, link-local
(169.254.169.254, the metadata service), CGNAT 100.64/10, multicast, reserved, unspecified,
IPv4-mapped and IPv4-compatible IPv6, 6to4 / NAT64 / Teredo embedding a non-public IPv4, and the
legacy numeric forms that resolvers accept (`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`, `0`).
"""

from __future__ import annotations

import ipaddress
import re
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
