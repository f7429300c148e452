"""The isolation matrix is worth something only if it fails when isolation breaks. Each test
breaks one thing on purpose, for this test only, and expects the matrix to fail (the
unbroken app passes the same matrix in test_isolation_matrix.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from simrenew.adapters.dynamodb.fleet import TerminalRepository
from simrenew.domain.tenant import Role
from tests.cases import isolation
from tests.support.client import ApiClient


def matrix(api: ApiClient, platform_key: str) -> None:
    isolation.test_every_tenant_route_is_isolated_role_checked_and_key_checked(api, platform_key)


def test_a_terminal_lookup_that_ignores_the_tenant_fails_the_matrix(
    api: ApiClient, platform_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = TerminalRepository.item

    def tenant_blind(self: TerminalRepository, tenant_id: str, sn: str) -> Any:
        holder = self.claim("sn", sn)  # whoever holds the SN, not the caller
        return original(self, holder.tenant_id if holder else tenant_id, sn)

    monkeypatch.setattr(TerminalRepository, "item", tenant_blind)
    with pytest.raises(AssertionError):
        matrix(api, platform_key)


@contextmanager
def lowered(api_module: Any, method: str, path: str) -> Iterator[None]:
    spec = next(s for s in api_module.api.specs if (s.method, s.path) == (method, path))
    before = spec.auth
    object.__setattr__(spec, "auth", Role.READONLY)  # the route table is frozen on purpose
    try:
        yield
    finally:
        object.__setattr__(spec, "auth", before)


def test_a_write_route_open_to_readonly_keys_fails_the_matrix(
    api: ApiClient, platform_key: str, api_module: Any
) -> None:
    with lowered(api_module, "PATCH", "/v1/terminals/{sn}"), pytest.raises(AssertionError, match="readonly"):
        matrix(api, platform_key)
