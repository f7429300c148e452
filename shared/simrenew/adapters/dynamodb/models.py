"""Single-table PynamoDB models: one base model (pk, sk, kind), one subclass per entity.

The table itself is declared once, in template.yaml; `bind_table` points these models
at it (name, region, endpoint) at start-up, and a test keeps the two definitions equal.
"""

from __future__ import annotations

import random
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
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


class Gsi1(GlobalSecondaryIndex["Item"]):
    """Overloaded: tenants by status, a merchant's terminals, an agent's orders, redeemed vouchers, and
    the sparse queues of pending terminal events and outbox entries (docs/data-model.md)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["Item"]):
    """Overloaded: terminals by TID, and the sparse queues of unpaid orders, held SMS and webhook retries."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex["Item"]):
    """Terminals of a tenant by stored status, sorted by expiry."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class Gsi4(GlobalSecondaryIndex["Item"]):
    """Terminals of a tenant by expiry date."""

    class Meta:
        index_name = "gsi4"
        projection = AllProjection()

    gsi4pk = UnicodeAttribute(hash_key=True)
    gsi4sk = UnicodeAttribute(range_key=True)


class ExpiryIndex(GlobalSecondaryIndex["Item"]):
    """Sparse and sharded: only terminals the sweep must look at carry exp_pk."""

    class Meta:
        index_name = "expiry"
        projection = AllProjection()

    exp_pk = UnicodeAttribute(hash_key=True)
    exp_sk = UnicodeAttribute(range_key=True)


class PublicSnIndex(GlobalSecondaryIndex["Item"]):
    """Sparse, hash only: a terminal by its SN across tenants (the pay page's look-up, one Query)."""

    class Meta:
        index_name = "pubsn"
        projection = AllProjection()

    pubsn_pk = UnicodeAttribute(hash_key=True)


class PublicTidIndex(GlobalSecondaryIndex["Item"]):
    """Sparse, hash only: a terminal by its TID across tenants (the pay page's look-up, one Query)."""

    class Meta:
        index_name = "pubtid"
        projection = AllProjection()

    pubtid_pk = UnicodeAttribute(hash_key=True)


# What the compact search index carries besides its keys (template.yaml lists the same names).
# `kind` too: PynamoDB filters every query on the discriminator.
SEARCH_PROJECTION = ["kind", "srch_text", "expires_on", "merchant_id", "status", "name"]


class SearchIndex(GlobalSecondaryIndex["Item"]):
    """Compact and sharded: a tenant's terminals (srch_pk TENANT#t#TSEARCH#<shard>, srch_sk SN) and
    merchants (…#MSEARCH#<shard>, merchant id) with only what search, sort and totals need (about
    340 bytes an item against ~0.85 KB for a whole terminal), so a list reads its whole fleet cheaply."""

    class Meta:
        index_name = "search"
        projection = IncludeProjection(SEARCH_PROJECTION)

    srch_pk = UnicodeAttribute(hash_key=True)
    srch_sk = UnicodeAttribute(range_key=True)


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

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi4 = Gsi4()
    expiry = ExpiryIndex()
    search = SearchIndex()
    pubsn = PublicSnIndex()
    pubtid = PublicTidIndex()

    def update(
        self, actions: list[Action], condition: Condition | None = None, *, add_version_condition: bool = True
    ) -> Any:
        """UpdateItem with a copy of `actions`: PynamoDB appends the version increment to the list
        it is given, so a caller retrying with the same list would set `version` twice (DynamoDB
        refuses that: a 500). Every update goes through here, so no caller has to remember."""
        return super().update(list(actions), condition, add_version_condition=add_version_condition)


class TenantItem(Item, discriminator="tenant"):
    """An agent (tenant): profile, contact, status, settings and Stripe account.

    Key: PK `TENANT#<tenant_id>`, SK `PROFILE`.
    Index gsi1 `TENANTS` / `<status>#<created_at>#<tenant_id>`: every tenant by status, then age (the operator's list).
    """

    tenant_id = UnicodeAttribute()
    # The agent as a sub-merchant of the platform: WeChat Pay's sub_mchid, Alipay's authorised app
    # and its app_auth_token, sealed (AES-256-GCM; never returned, never stored plain).
    wechatpay_sub_mchid = UnicodeAttribute(null=True)
    alipay_auth_app_id = UnicodeAttribute(null=True)
    alipay_token_sealed = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    status = UnicodeAttribute()
    settings_json = UnicodeAttribute()
    stripe_account_id = UnicodeAttribute(null=True)
    service_phone = UnicodeAttribute(null=True)  # shown to merchants (pay page, stickers)
    approved_at = UTCDateTimeAttribute(null=True)
    suspended_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


class ApiKeyItem(Item, discriminator="api_key"):
    """The tenant's view of one of its keys: never the secret, never the hash.

    Key: PK `TENANT#<tenant_id>`, SK `APIKEY#<key_id>`.
    """

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    role = UnicodeAttribute()
    label = UnicodeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class ApiKeyLookupItem(Item, discriminator="api_key_lookup"):
    """Global lookup: key id → tenant, role, SHA-256 of the whole key (what authentication reads).

    Key: PK `APIKEY#<key_id>`, SK `LOOKUP`.
    """

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    role = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)


class OpenOrderItem(Item, discriminator="open_order"):
    """The unpaid public order of a terminal and plan, reused by the next merchant who asks for
    the same (the SN is on the sticker: a reload or a second phone must not pile up orders).
    Holds what the pay page needs to go on: the order token and the PaymentIntent's client
    secret, both of an unpaid order only, gone with the TTL.

    Key: PK `TENANT#<tenant_id>`, SK `OPENORDER#<sn>#<plan_id>`.
    Index pubsn `PUBSN#<sn>`: found with its terminal by the pay page's one Query (card orders, issue 17).
    Index pubtid `PUBTID#<tid>`: the same by TID.
    TTL: the order's payment window.
    """

    order_id = UnicodeAttribute()
    order_token = UnicodeAttribute()
    client_secret = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()


class RateLimitItem(Item, discriminator="rate"):
    """One fixed window of one rate limit: an atomic hit counter.

    Key: PK `RATE#<bucket>#<sha256(subject)[:32]>#<window>`, SK `RATE`.
    TTL: two windows.
    """

    hits = NumberAttribute(default=0)


class IdempotencyItem(Item, discriminator="idempotency"):
    """An Idempotency-Key claim and, once done, the answer to replay.

    Key: PK `IDEMP#<sha256(scope, key)>`, SK `IDEMP`.
    TTL: 24 hours.
    """

    request_hash = UnicodeAttribute()
    state = UnicodeAttribute()  # "in_progress" | "done"
    status_code = NumberAttribute(null=True)
    response_json = UnicodeAttribute(null=True)


class MerchantItem(Item, discriminator="merchant"):
    """A merchant of the agent (the shop a terminal is rented to).

    Key: PK `TENANT#<tenant_id>`, SK `MERCHANT#<merchant_id>`.
    Index search `TENANT#<tenant_id>#MSEARCH#<shard>` / `<merchant_id>`: the compact list (search, names, totals).
    """

    tenant_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    contact_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    version = VersionAttribute()


class MerchantKeyItem(Item, discriminator="merchant_key"):
    """Uniqueness of (name, phone) inside a tenant, so imports match instead of duplicating.

    Key: PK `TENANT#<tenant_id>`, SK `MKEY#<sha256(casefold(name), phone)[:40]>`.
    """

    merchant_id = UnicodeAttribute()


class PlanItem(Item, discriminator="plan"):
    """A renewal plan of the agent: term, data quota, price in fen.

    Key: PK `TENANT#<tenant_id>`, SK `PLAN#<plan_id>`.
    """

    tenant_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    name = UnicodeAttribute()
    term_months = NumberAttribute()
    data_quota_mb = NumberAttribute()
    price_fen = NumberAttribute()
    active = BooleanAttribute()
    version = VersionAttribute()


class PlanNameItem(Item, discriminator="plan_name"):
    """Uniqueness of a plan name inside a tenant (case-insensitive), and name → plan id for imports.

    Key: PK `TENANT#<tenant_id>`, SK `PLANNAME#<casefold(name)>`.
    """

    plan_id = UnicodeAttribute()


class TerminalItem(Item, discriminator="terminal"):
    """A POS terminal of the agent: identifiers, merchant, plan, expiry, usage and stored status.

    Key: PK `TENANT#<tenant_id>`, SK `TERM#<sn>`.
    Index gsi1 `TENANT#<tenant_id>#MERCHANT#<merchant_id>` / `<sn>`: a merchant's terminals (only with a merchant).
    Index gsi2 `TENANT#<tenant_id>#TID` / `<tid>`: by TID and TID prefix.
    Index gsi3 `TENANT#<tenant_id>#STATUS#<status>` / `<expires_on>#<sn>`: by stored status, by expiry.
    Index gsi4 `TENANT#<tenant_id>#TERMS` / `<expires_on>#<sn>`: every terminal by expiry.
    Index expiry `EXP#<expires_on>#<shard>` / `<tenant_id>#<sn>`: the sweep's queue (only in swept statuses).
    Index search `TENANT#<tenant_id>#TSEARCH#<shard>` / `<sn>`: the compact fleet (search, sort, totals).
    Index pubsn `PUBSN#<sn>`: the pay page's look-up by SN, across tenants (one Query).
    Index pubtid `PUBTID#<tid>`: the pay page's look-up by TID, across tenants (one Query).
    """

    tenant_id = UnicodeAttribute()
    sn = UnicodeAttribute()
    tid = UnicodeAttribute()
    iccid = UnicodeAttribute()
    carrier = UnicodeAttribute()
    model = UnicodeAttribute()
    merchant_id = UnicodeAttribute(null=True)
    plan_id = UnicodeAttribute(null=True)
    expires_on = UnicodeAttribute()  # YYYY-MM-DD in the tenant's timezone
    data_quota_mb = NumberAttribute(null=True)
    data_used_mb = NumberAttribute(default=0)
    usage_as_of = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # stored: inventory|active|grace|suspended|deactivated
    renewed_at_json = UnicodeAttribute(default="[]")  # paid renewals of the last 24 h (risk control)
    risk_flagged_at = UnicodeAttribute(null=True)
    version = VersionAttribute()


class ClaimItem(Item, discriminator="claim"):
    """Global uniqueness of an identifier (SN, TID, ICCID): which tenant and terminal hold it.

    Key: PK `<SN|TID|ICCID>#<value>`, SK `CLAIM`.
    """

    tenant_id = UnicodeAttribute()
    sn = UnicodeAttribute()


class TerminalEventItem(Item, discriminator="terminal_event"):
    """Something that happened to a terminal and must be acted on once (quota alerts, receipts,
    transfer notices): the merchant-notice kind of outbox item.

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<sn>#EVENT#<term>#<event>`.
    Index gsi1 `PENDING_EVENTS#<shard>` / `<created_at>#<tenant_id>#<sn>#<event>`: not yet sent (sparse).
    """

    tenant_id = UnicodeAttribute()
    sn = UnicodeAttribute()
    event = UnicodeAttribute()
    term = UnicodeAttribute()  # the expires_on of the term it belongs to
    detail_json = UnicodeAttribute()
    state = UnicodeAttribute()  # pending|sent|recorded|dropped
    # Set by the outbox dispatcher when a send failed (it stays pending; the 5-minute drain retries).
    attempts = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)


class TransferCodeItem(Item, discriminator="transfer_code"):
    """A one-time code that lets another agent take this terminal over (hashed).

    Key: PK `TENANT#<tenant_id>`, SK `XFER#<sn>`.
    TTL: 7 days after the code expires.
    """

    tenant_id = UnicodeAttribute()
    sn = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    used = BooleanAttribute(default=False)


class ImportItem(Item, discriminator="import"):
    """A bulk import job: status, counters (the checkpoint) and the worker lease.

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>`.
    Index gsi1 `TENANT#<tenant_id>#IMPORTS` / `<created_at µs>#<import_id>`: the tenant's import history.
    TTL: 30 days.
    """

    tenant_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    status = UnicodeAttribute()  # awaiting_upload|queued|running|done|failed
    file_sha256 = UnicodeAttribute()
    chunks = NumberAttribute()
    # Presigned uploads (source "upload"): the file is the S3 object, read as a stream; else the
    # body's chunks in the table. encoding is found by the worker's first pass over the file.
    source = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    size_bytes = NumberAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    total = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    error_message = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    heartbeat_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)


class ExportItem(Item, discriminator="export"):
    """A CSV export job; the worker writes the file to the bucket (exports/<tenant_id>/<export_id>.csv).

    Key: PK `TENANT#<tenant_id>`, SK `EXPORT#<export_id>`.
    TTL: 2 days (the file's lifecycle rule removes it after 1).
    """

    tenant_id = UnicodeAttribute()
    export_id = UnicodeAttribute()
    export_kind = UnicodeAttribute()  # terminals|orders|ledger|notifications|expiring
    filters = UnicodeAttribute()  # JSON object, as given
    status = UnicodeAttribute()  # queued|running|done|failed
    rows = NumberAttribute(default=0)
    size_bytes = NumberAttribute(default=0)
    object_key = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    heartbeat_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)


class ImportChunkItem(Item, discriminator="import_chunk"):
    """A slice of the uploaded file (items are capped at 400 KB).

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>#CHUNK#<index:05d>`.
    TTL: 30 days.
    """

    data = BinaryAttribute(legacy_encoding=False)


class ImportErrorItem(Item, discriminator="import_error"):
    """One refused row of an import, keyed by row so a rerun overwrites it.

    Key: PK `TENANT#<tenant_id>`, SK `IMPORT#<import_id>#ERR#<row:07d>`.
    TTL: 30 days.
    """

    row = NumberAttribute()
    field = UnicodeAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()


class OrderItem(Item, discriminator="order"):
    """A renewal order: its lines, status, payment and its own money ledger (paid, reserved, refunds).

    Key: PK `TENANT#<tenant_id>`, SK `ORDER#<order_id>`.
    Index gsi1 `TENANT#<tenant_id>#ORDERS` / `<created_at>#<order_id>`: the agent's orders, newest first.
    Index gsi2 `PENDING_ORDERS#<shard>` / `<expires_at>#<tenant_id>#<order_id>`: unpaid orders to expire (sparse).
    """

    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    status = UnicodeAttribute()
    payment = UnicodeAttribute()
    channel = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount_fen = NumberAttribute()
    lines_json = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute(null=True)
    token_hash = UnicodeAttribute(null=True)  # the public pay page's order_token, hashed
    expires_at = UTCDateTimeAttribute()
    paid_at = UTCDateTimeAttribute(null=True)
    fulfilled_at = UTCDateTimeAttribute(null=True)
    refunded_fen = NumberAttribute(default=0)
    audit_json = UnicodeAttribute(default="[]")
    # The order's own money ledger (domain.orders.Order): paid, reserved and refunded amounts,
    # each refund and each duplicate payment, and what Stripe said before the payment arrived.
    paid_fen = NumberAttribute(default=0)
    paid_via = UnicodeAttribute(null=True)
    reserved_fen = NumberAttribute(default=0)
    refunds_json = UnicodeAttribute(default="[]")
    duplicates_json = UnicodeAttribute(default="[]")
    early_json = UnicodeAttribute(default="{}")
    attempts_json = UnicodeAttribute(default="[]")  # trades opened on WeChat Pay / Alipay (PaymentAttempt)
    version = VersionAttribute()


class PaymentIntentItem(Item, discriminator="payment_intent"):
    """Global lookup → tenant and order: by Stripe PaymentIntent id (webhooks carry no tenant) and
    by order id (the public pay page knows no tenant).

    Key: PK `PI#<payment_intent_id>` or `ORDERID#<order_id>`, SK `LOOKUP`.
    """

    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    # The SNs of the order's lines (on `PI#` items of PaymentIntents): the webhook reads the order,
    # its tenant and its terminals in one BatchGetItem. Absent on older items: read after the order.
    sns = ListAttribute(of=UnicodeAttribute, null=True)


class StripeEventItem(Item, discriminator="stripe_event"):
    """A Stripe event already applied: a duplicate delivery is a no-op.

    Key: PK `STRIPE_EVENT#<event_id>`, SK `EVENT`.
    TTL: 60 days.
    """

    event_type = UnicodeAttribute()
    outcome = UnicodeAttribute()


class RenewalItem(Item, discriminator="renewal"):
    """Append-only ledger line of a terminal's expiry (renewal, reversal, refund, adjustment, transfer).

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<sn>#RENEWAL#<at>#<source>#<line:02d>#<entry>`.
    """

    tenant_id = UnicodeAttribute()
    sn = UnicodeAttribute()
    entry = UnicodeAttribute()  # renewal | reversal | refund | adjustment | transfer_out | transfer_in
    source = UnicodeAttribute()  # order id or voucher batch id
    old_expires_on = UnicodeAttribute()
    new_expiry = UnicodeAttribute()
    amount_fen = NumberAttribute()
    term_months = NumberAttribute()
    actor = UnicodeAttribute(null=True)  # who made a manual change (key id)
    note = UnicodeAttribute(null=True)  # why: the reason of a manual change, the import it came from


class VoucherBatchItem(Item, discriminator="voucher_batch"):
    """A batch of prepaid voucher codes for one plan.

    Key: PK `TENANT#<tenant_id>`, SK `VBATCH#<batch_id>`.
    """

    tenant_id = UnicodeAttribute()
    batch_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    size = NumberAttribute()
    created_by = UnicodeAttribute()
    # Changed in the same transaction as the code they count (ADD), so they cannot drift.
    redeemed_count = NumberAttribute(default=0)
    voided_count = NumberAttribute(default=0)


class VoucherItem(Item, discriminator="voucher"):
    """One voucher, global and keyed by the code's hash (codes are shown once and never stored).

    Key: PK `VOUCHER#<code_hash>`, SK `VOUCHER`.
    Index gsi1 `TENANT#<tenant_id>#VOUCHERS_REDEEMED` / `<redeemed_at>#<sn>`: redemptions by time (sparse).
    """

    tenant_id = UnicodeAttribute()
    batch_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    redeemed = BooleanAttribute(default=False)
    redeemed_sn = UnicodeAttribute(null=True)
    redeemed_at = UTCDateTimeAttribute(null=True)
    voided_at = UTCDateTimeAttribute(null=True)  # a voided code is never redeemable
    voided_by = UnicodeAttribute(null=True)


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
