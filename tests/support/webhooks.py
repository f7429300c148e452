"""Outbound webhooks without a network: a transport that records every POST and answers from a script,
and the name resolution the tests use (no DNS). The unit fixtures `clock`, `transport` and `webhooks`
(tests/unit/conftest.py) are built from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from simrenew.adapters.outbound import Destination

START = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
# No DNS in tests: every name these tests use resolves here (public documentation-free addresses).
PUBLIC_DNS = {"hooks.example.com": ["93.184.216.34"], "b.example.com": ["93.184.216.35"]}


def FAKE_DNS(host: str, port: int) -> list[str]:
    return PUBLIC_DNS.get(host, [])


@dataclass
class Post:
    url: str
    body: bytes
    headers: dict[str, str]
    address: str  # the checked address the transport was told to connect to


@dataclass
class FakeTransport:
    """Records every POST; answers from a script (an int is a status, an exception is raised)."""

    script: list[int | Exception] = field(default_factory=list)
    default: int | Exception = 200
    posts: list[Post] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float, destination: Destination) -> int:
        self.posts.append(Post(url, body, headers, destination.address))
        answer = self.script.pop(0) if self.script else self.default
        if isinstance(answer, Exception):
            raise answer
        return answer
