"""The search-index port: every terminal and merchant of a tenant as a compact row, read whole (the
lists that search, sort by merchant name or count do it in memory). The DynamoDB adapter is
simrenew.adapters.dynamodb.search.SearchIndexRepository (a GSI written with each item)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TerminalRow:
    sn: str
    text: str
    expires_on: str
    merchant_id: str | None
    status: str


@dataclass(frozen=True)
class MerchantRow:
    merchant_id: str
    name: str
    text: str


class SearchIndex(Protocol):
    def terminals(self, tenant_id: str) -> list[TerminalRow]: ...

    def merchants(self, tenant_id: str) -> list[MerchantRow]: ...
