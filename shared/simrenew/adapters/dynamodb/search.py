"""The compact search index: every terminal and merchant of a tenant, a few hundred bytes each.

Terminals and merchants write their entry themselves (fill_item, MerchantRepository), in the same
put as the item: the index is DynamoDB's own GSI, so it is never out of step with a transaction
and nothing is maintained by hand. A list that searches, sorts by merchant name or counts reads
all SEARCH_SHARDS partitions of the tenant in parallel: ~300 bytes a terminal, so 100,000
terminals are ~30 MB, ~3,700 read units (eventually consistent) and 4 pages a shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item
from simrenew.domain.filters import merchant_search_text, terminal_search_text

INDEX = "search"


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


def terminal_entry(tenant_id: str, sn: str, tid: str, iccid: str) -> tuple[str, str, str]:
    """(srch_pk, srch_sk, srch_text) of a terminal."""
    return keys.terminal_search_pk(tenant_id, keys.search_shard(sn)), sn, terminal_search_text(sn, tid, iccid)


def merchant_entry(
    tenant_id: str, merchant_id: str, name: str, phone: str, contact: str | None
) -> tuple[str, str, str]:
    return (
        keys.merchant_search_pk(tenant_id, keys.search_shard(merchant_id)),
        merchant_id,
        merchant_search_text(name, phone, contact),
    )


def _s(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return value.get("S") if isinstance(value, dict) else None


class SearchIndexRepository:
    """Reads of the search index; `read_units` adds up what the last call consumed (docs, bench)."""

    def __init__(self, workers: int = keys.SEARCH_SHARDS) -> None:
        self._workers = workers
        self.read_units = 0.0

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        conn = Item._get_connection()
        out: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            page = conn.query(
                pk,
                index_name=INDEX,
                exclusive_start_key=start,
                return_consumed_capacity="TOTAL",
            )
            out.extend(page.get("Items", []))
            self.read_units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
            start = page.get("LastEvaluatedKey")
            if not start:
                return out

    def _all(self, pk_of: Callable[[int], str]) -> Iterator[dict[str, Any]]:
        self.read_units = 0.0
        pks = [pk_of(shard) for shard in range(keys.SEARCH_SHARDS)]
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            for items in pool.map(self._partition, pks):
                yield from items

    def terminals(self, tenant_id: str) -> list[TerminalRow]:
        rows = []
        for raw in self._all(lambda shard: keys.terminal_search_pk(tenant_id, shard)):
            sn = _s(raw, "srch_sk")
            if sn:
                rows.append(
                    TerminalRow(
                        sn=sn,
                        text=_s(raw, "srch_text") or "",
                        expires_on=_s(raw, "expires_on") or "",
                        merchant_id=_s(raw, "merchant_id"),
                        status=_s(raw, "status") or "",
                    )
                )
        return rows

    def merchants(self, tenant_id: str) -> list[MerchantRow]:
        rows = []
        for raw in self._all(lambda shard: keys.merchant_search_pk(tenant_id, shard)):
            merchant_id = _s(raw, "srch_sk")
            if merchant_id:
                rows.append(MerchantRow(merchant_id, _s(raw, "name") or "", _s(raw, "srch_text") or ""))
        return rows


def backfill(client: Any, table_name: str) -> int:
    """Give terminals and merchants written before the search index their entry (a one-off after
    the index is added: `python -m infra.search_backfill`, and at each `make dev` start). A scan:
    an operator's tool, never in a request path. Conditional, so a concurrent write wins."""
    done = 0
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "#k IN (:t, :m) AND attribute_not_exists(srch_pk)",
        "ExpressionAttributeNames": {"#k": "kind"},
        "ExpressionAttributeValues": {":t": {"S": "terminal"}, ":m": {"S": "merchant"}},
    }
    while True:
        page = client.scan(**kwargs)
        for raw in page.get("Items", []):
            tenant = _s(raw, "tenant_id") or ""
            if _s(raw, "kind") == "terminal":
                entry = terminal_entry(tenant, _s(raw, "sn") or "", _s(raw, "tid") or "", _s(raw, "iccid") or "")
            else:
                entry = merchant_entry(
                    tenant,
                    _s(raw, "merchant_id") or "",
                    _s(raw, "name") or "",
                    _s(raw, "phone") or "",
                    _s(raw, "contact_name"),
                )
            try:
                client.update_item(
                    TableName=table_name,
                    Key={"pk": raw["pk"], "sk": raw["sk"]},
                    UpdateExpression="SET srch_pk = :p, srch_sk = :s, srch_text = :x",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(srch_pk)",
                    ExpressionAttributeValues={":p": {"S": entry[0]}, ":s": {"S": entry[1]}, ":x": {"S": entry[2]}},
                )
                done += 1
            except client.exceptions.ConditionalCheckFailedException:
                pass
        if not page.get("LastEvaluatedKey"):
            return done
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
