"""The base of the single table: `Item` (pk, sk, kind), its indexes, the retry policy of every
DynamoDB call, the shared connection, `Transaction` and `bind_table`.

The table itself is declared once, in template.yaml; `bind_table` points the models at it (name,
region, endpoint) at start-up, and a test keeps the two definitions equal. The entities are the
subclasses in the aggregate modules beside this one; `simrenew.adapters.dynamodb.models` imports
them all.
"""

from __future__ import annotations

import random
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, Projection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

UNBOUND_TABLE = "simrenew-unbound"

# --- the retry policy of every DynamoDB call (here, and only here) -------------------------------------
# PynamoDB turns `Meta.max_retry_attempts` into botocore's "standard" retry mode with
# 1 + RETRIES attempts in all: throttling (ProvisionedThroughputExceeded, ThrottlingException,
# RequestLimitExceeded), 5xx and connection errors are retried with jittered exponential backoff
# (up to 1, 2, 4, 8, 16 s for throttles: 15.5 s expected, 31 s at worst). More attempts would
# not fit the API function's 29 s; fewer gave up on throttle bursts the suite absorbs
# (tests/integration/test_throttling.py). What still fails after that is answered 503 with
# Retry-After by the API (`errors.store_unavailable`), and Stripe/the scheduler retry the rest.
RETRIES = 5
# A transaction DynamoDB cancelled only because another transaction held one of its items
# (reason TransactionConflict, none other) wrote nothing and is safe to send again as is; botocore
# does not retry it, so `connection()` adds that, within the same attempt budget, after a short
# jittered pause (the other transaction is usually done in milliseconds).
CONFLICT_BACKOFF_S = 0.05
CONFLICT_BACKOFF_MAX_S = 1.0
# HTTP connections each model's botocore client keeps to DynamoDB: room for the import worker's
# writer threads (services/imports.py WRITERS) all on the one client transactions share.
POOL_CONNECTIONS = 16


# What the compact search index carries besides its keys (template.yaml lists the same names).
# `kind` too: PynamoDB filters every query on the discriminator.
SEARCH_PROJECTION = ["kind", "srch_text", "expires_on", "merchant_id", "status", "name"]


def global_index(
    index_name: str, hash_key: str, range_key: str | None = None, projection: Projection | None = None
) -> GlobalSecondaryIndex[Item]:
    """One of the table's global indexes (template.yaml declares the same): keyed by `hash_key` (and
    `range_key`), projecting every attribute unless `projection` says otherwise. Its key attributes
    are also declared, nullable, on `Item`: a sparse index holds only the items that carry them."""
    keys: dict[str, UnicodeAttribute] = {hash_key: UnicodeAttribute(hash_key=True)}
    if range_key is not None:
        keys[range_key] = UnicodeAttribute(range_key=True)
    meta = type("Meta", (), {"index_name": index_name, "projection": projection or AllProjection()})
    index_class = type(f"{index_name}_index", (GlobalSecondaryIndex,), {"Meta": meta, "__module__": __name__, **keys})
    index: GlobalSecondaryIndex[Item] = index_class()
    return index


class Item(Model):
    """Base of every item in the table: `kind` names the entity (the subclass's discriminator).

    Each entity's docstring states its key and indexes; docs/data-model.md has them all, with every
    read; keys.py builds every key."""

    class Meta:
        table_name = UNBOUND_TABLE
        region = "us-east-1"
        host: str | None = None
        max_retry_attempts = RETRIES  # see the retry policy above
        max_pool_connections = POOL_CONNECTIONS
        connect_timeout_seconds = 5
        read_timeout_seconds = 10

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)
    exp_pk = UnicodeAttribute(null=True)
    exp_sk = UnicodeAttribute(null=True)
    srch_pk = UnicodeAttribute(null=True)
    srch_sk = UnicodeAttribute(null=True)
    srch_text = UnicodeAttribute(null=True)  # normalised text a search matches (search index)
    pubsn_pk = UnicodeAttribute(null=True)
    pubtid_pk = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    # Overloaded: tenants by status, a merchant's terminals, an agent's orders, redeemed vouchers, and
    # the sparse queues of pending terminal events and outbox entries (docs/data-model.md).
    gsi1 = global_index("gsi1", "gsi1pk", "gsi1sk")
    # Overloaded: terminals by TID, and the sparse queues of unpaid orders, held SMS and webhook retries.
    gsi2 = global_index("gsi2", "gsi2pk", "gsi2sk")
    gsi3 = global_index("gsi3", "gsi3pk", "gsi3sk")  # terminals of a tenant by stored status, by expiry
    gsi4 = global_index("gsi4", "gsi4pk", "gsi4sk")  # terminals of a tenant by expiry date
    # Sparse and sharded: only terminals the sweep must look at carry exp_pk.
    expiry = global_index("expiry", "exp_pk", "exp_sk")
    # Compact and sharded: a tenant's terminals (srch_pk TENANT#t#TSEARCH#<shard>, srch_sk SN) and
    # merchants (…#MSEARCH#<shard>, merchant id) with only what search, sort and totals need (about
    # 340 bytes an item against ~0.85 KB for a whole terminal), so a list reads its whole fleet cheaply.
    search = global_index("search", "srch_pk", "srch_sk", IncludeProjection(SEARCH_PROJECTION))
    # Sparse, hash only: a terminal by its SN, or by its TID, across tenants (the pay page's one Query).
    pubsn = global_index("pubsn", "pubsn_pk")
    pubtid = global_index("pubtid", "pubtid_pk")

    def update(
        self, actions: list[Action], condition: Condition | None = None, *, add_version_condition: bool = True
    ) -> Any:
        """UpdateItem with a copy of `actions`: PynamoDB appends the version increment to the list
        it is given, so a caller retrying with the same list would set `version` twice (DynamoDB
        refuses that: a 500). Every update goes through here, so no caller has to remember."""
        return super().update(list(actions), condition, add_version_condition=add_version_condition)


# --- attributes several entities share: plain mixins (PynamoDB collects attributes from every base, so
# `class X(TenantOwned, Item, discriminator=...)` declares exactly what writing them out would) ----------
class TenantOwned:
    """An agent's entity: the tenant it belongs to (its partition's, or the one a global item points to)."""

    tenant_id = UnicodeAttribute()


class TerminalOwned(TenantOwned):
    """Written for one terminal of an agent: its tenant and SN."""

    sn = UnicodeAttribute()


class Versioned:
    """Optimistic locking: PynamoDB conditions each save and update on the version read, and bumps it."""

    version = VersionAttribute()


class Retried:
    """A queued item's delivery attempts (outbox entries, webhook deliveries, carrier operations)."""

    attempts = NumberAttribute(default=0)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)


class Job(TenantOwned):
    """A background job of an agent (import, export): its status, its file in the bucket, who asked for
    it, why it failed, and the worker's heartbeat."""

    status = UnicodeAttribute()
    object_key = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    heartbeat_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)


def all_models() -> list[type[Item]]:
    return [Item, *_subclasses(Item)]


def _subclasses(cls: type[Any]) -> list[type[Item]]:
    found: list[type[Item]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def connection() -> Connection:
    """The connection (and botocore client) the models already use, for transactions.

    A new Connection per transaction would build a new botocore session and client each
    time (about 140 ms here); sharing one keeps transactions as cheap as single writes.
    Every transaction goes through here, so its client also retries TransactionConflict.
    """
    conn = Item._get_connection().connection
    client = conn.client
    if not getattr(client, "_simrenew_conflict_retry", False):
        client.meta.events.register("needs-retry.dynamodb.TransactWriteItems", retry_transaction_conflict)
        client._simrenew_conflict_retry = True
    return conn


class Transaction(TransactWrite):
    """A TransactWrite on the shared connection that remembers the order of its calls.

    DynamoDB answers CancellationReasons in the order the items were sent, and PynamoDB sends
    condition checks, then deletes, then puts, then updates, whatever order the code added
    them in. `codes(exc)` gives the reasons back in call order, so "the first item I added"
    is codes[0] even in a transaction that mixes puts with updates or deletes.
    """

    _CHECK, _DELETE, _PUT, _UPDATE = range(4)

    def __init__(self) -> None:
        super().__init__(connection=connection())
        self._kinds: list[int] = []

    def condition_check(self, *args: Any, **kwargs: Any) -> Any:
        self._kinds.append(self._CHECK)
        return super().condition_check(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._kinds.append(self._DELETE)
        return super().delete(*args, **kwargs)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        self._kinds.append(self._PUT)
        return super().save(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        self._kinds.append(self._UPDATE)
        return super().update(*args, **kwargs)

    def codes(self, exc: Any) -> list[str | None]:
        """Each item's cancellation code (None where it was fine), in the order it was added."""
        sent = sorted(range(len(self._kinds)), key=lambda i: (self._kinds[i], i))
        reasons = [r.code if r is not None else None for r in (getattr(exc, "cancellation_reasons", None) or [])]
        out: list[str | None] = [None] * len(self._kinds)
        for position, call in enumerate(sent):
            if position < len(reasons):
                out[call] = reasons[position]
        return out


def retry_transaction_conflict(
    attempts: int, response: Any = None, caught_exception: Any = None, **_kwargs: Any
) -> float | None:
    """botocore `needs-retry` handler: the pause before resending a TransactWriteItems that was
    cancelled by TransactionConflict alone; None (no opinion) for anything else."""
    if caught_exception is not None or response is None or attempts >= 1 + RETRIES:
        return None
    parsed: dict[str, Any] = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
    if (parsed.get("Error") or {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = {str(r.get("Code")) for r in parsed.get("CancellationReasons") or []}
    if "TransactionConflict" not in reasons or not reasons <= {"TransactionConflict", "None"}:
        return None  # a failed condition (or anything else) is an answer, not a hiccup
    jitter: float = random.random()  # noqa: S311 - spreads retries out, nothing secret
    return jitter * min(CONFLICT_BACKOFF_S * 2.0 ** (attempts - 1), CONFLICT_BACKOFF_MAX_S)


def bind_table(table_name: str, region: str, host: str | None) -> None:
    """Point every model at the configured table (called once at start-up)."""
    Item.Meta.table_name = table_name
    Item.Meta.region = region
    Item.Meta.host = host
    for model in all_models():
        model._connection = None
