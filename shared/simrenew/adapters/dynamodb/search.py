"""The compact search index: every terminal and merchant of a tenant, a few hundred bytes each.

Terminals and merchants write their entry themselves (fill_item, MerchantRepository), in the same
put as the item: the index is DynamoDB's own GSI, so it is never out of step with a transaction
and nothing is maintained by hand. A list that searches, sorts by merchant name or counts reads
all SEARCH_SHARDS partitions of the tenant in parallel: ~340 bytes a terminal, so 100,000
terminals are ~34 MB, ~4,200 read units (eventually consistent) and 4 pages a shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import Item
from simrenew.domain.filters import merchant_search_text, terminal_search_text
from simrenew.ports.search import MerchantRow as MerchantRow
from simrenew.ports.search import TerminalRow as TerminalRow

INDEX = "search"


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
    """Reads of the search index: every shard of a tenant, in parallel."""

    def __init__(self, workers: int = keys.SEARCH_SHARDS) -> None:
        self._workers = workers

    def _partition(self, pk: str) -> list[Any]:
        return list(Item.search.query(pk, page_size=1000))

    def _all(self, pk_of: Callable[[int], str]) -> Iterator[Any]:
        pks = [pk_of(shard) for shard in range(keys.SEARCH_SHARDS)]
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            for items in pool.map(self._partition, pks):
                yield from items

    def terminals(self, tenant_id: str) -> list[TerminalRow]:
        rows = []
        for item in self._all(lambda shard: keys.terminal_search_pk(tenant_id, shard)):
            if item.srch_sk:
                rows.append(
                    TerminalRow(
                        sn=item.srch_sk,
                        text=item.srch_text or "",
                        expires_on=getattr(item, "expires_on", None) or "",
                        merchant_id=getattr(item, "merchant_id", None),
                        status=getattr(item, "status", None) or "",
                    )
                )
        return rows

    def merchants(self, tenant_id: str) -> list[MerchantRow]:
        rows = []
        for item in self._all(lambda shard: keys.merchant_search_pk(tenant_id, shard)):
            if item.srch_sk:
                rows.append(MerchantRow(item.srch_sk, getattr(item, "name", None) or "", item.srch_text or ""))
        return rows


def backfill(client: Any, table_name: str) -> int:
    """Give terminals and merchants written before the search index their entry (a one-off after
    the index is added: `python -m infra.search_backfill`, and at each `make dev` start). A scan:
    an operator's tool, never in a request path. Conditional, so a concurrent write wins."""

    def entry_of(raw: dict[str, Any]) -> dict[str, str] | None:
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
        return {"srch_pk": entry[0], "srch_sk": entry[1], "srch_text": entry[2]}

    found = "#k IN (:t, :m) AND attribute_not_exists(srch_pk)"
    return set_missing(client, table_name, found, {":t": "terminal", ":m": "merchant"}, "srch_pk", entry_of)


def set_missing(
    client: Any,
    table_name: str,
    found: str,
    values: dict[str, str],
    marker: str,
    attributes_of: Callable[[dict[str, Any]], dict[str, str] | None],
) -> int:
    """Scan for the items `found` names (`#k` is `kind`; `values` its string values) and give each
    the attributes `attributes_of` builds from it (None: leave it), on condition that `marker` is
    still absent: a backfill (search index, pay-page indexes). Returns how many were set."""
    done = 0
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": found,
        "ExpressionAttributeNames": {"#k": "kind"},
        "ExpressionAttributeValues": {k: {"S": v} for k, v in values.items()},
    }
    while True:
        page = client.scan(**kwargs)
        for raw in page.get("Items", []):
            attributes = attributes_of(raw)
            if not attributes:
                continue
            names = sorted(attributes)
            try:
                client.update_item(
                    TableName=table_name,
                    Key={"pk": raw["pk"], "sk": raw["sk"]},
                    UpdateExpression="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)),
                    ConditionExpression=f"attribute_exists(pk) AND attribute_not_exists({marker})",
                    ExpressionAttributeValues={f":v{i}": {"S": attributes[n]} for i, n in enumerate(names)},
                )
                done += 1
            except client.exceptions.ConditionalCheckFailedException:
                pass
        if not page.get("LastEvaluatedKey"):
            return done
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
