"""The fleet: merchants, plans, terminals, the global identifier claims, and what is written under a
terminal's log (its pending merchant notices, transfer codes and time transfers)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, TenantOwned, TerminalOwned, Versioned


class MerchantItem(TenantOwned, Versioned, Item, discriminator="merchant"):
    """A merchant of the agent (the shop a terminal is rented to).

    Key: PK `TENANT#<tenant_id>`, SK `MERCHANT#<merchant_id>`.
    Index search `TENANT#<tenant_id>#MSEARCH#<shard>` / `<merchant_id>`: the compact list (search, names, totals).
    """

    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    contact_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()


class MerchantKeyItem(Item, discriminator="merchant_key"):
    """Uniqueness of (name, phone) inside a tenant, so imports match instead of duplicating.

    Key: PK `TENANT#<tenant_id>`, SK `MKEY#<sha256(casefold(name), phone)[:40]>`.
    """

    merchant_id = UnicodeAttribute()


class PlanItem(TenantOwned, Versioned, Item, discriminator="plan"):
    """A renewal plan of the agent: term, data quota, price in fen.

    Key: PK `TENANT#<tenant_id>`, SK `PLAN#<plan_id>`.
    """

    plan_id = UnicodeAttribute()
    name = UnicodeAttribute()
    term_months = NumberAttribute()
    data_quota_mb = NumberAttribute()
    price_fen = NumberAttribute()
    active = BooleanAttribute()


class PlanNameItem(Item, discriminator="plan_name"):
    """Uniqueness of a plan name inside a tenant (case-insensitive), and name → plan id for imports.

    Key: PK `TENANT#<tenant_id>`, SK `PLANNAME#<casefold(name)>`.
    """

    plan_id = UnicodeAttribute()


class TerminalItem(TerminalOwned, Versioned, Item, discriminator="terminal"):
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


class ClaimItem(TerminalOwned, Item, discriminator="claim"):
    """Global uniqueness of an identifier (SN, TID, ICCID): which tenant and terminal hold it.

    Key: PK `<SN|TID|ICCID>#<value>`, SK `CLAIM`.
    """


class TransferCodeItem(TerminalOwned, Item, discriminator="transfer_code"):
    """A one-time code that lets another agent take this terminal over (hashed).

    Key: PK `TENANT#<tenant_id>`, SK `XFER#<sn>`.
    TTL: 7 days after the code expires.
    """

    code_hash = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    used = BooleanAttribute(default=False)


class TerminalEventItem(TerminalOwned, Item, discriminator="terminal_event"):
    """Something that happened to a terminal and must be acted on once (quota alerts, receipts,
    transfer notices): the merchant-notice kind of outbox item.

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<sn>#EVENT#<term>#<event>`.
    Index gsi1 `PENDING_EVENTS#<shard>` / `<created_at>#<tenant_id>#<sn>#<event>`: not yet sent (sparse).
    """

    event = UnicodeAttribute()
    term = UnicodeAttribute()  # the expires_on of the term it belongs to
    detail_json = UnicodeAttribute()
    state = UnicodeAttribute()  # pending|sent|recorded|dropped
    # Set by the outbox dispatcher when a send failed (it stays pending; the 5-minute drain retries).
    attempts = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)


class TimeTransferItem(TenantOwned, Item, discriminator="time_transfer"):
    """Who moved how many months from which terminal to which, and why (stored under the source).

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<from_sn>#TIMEXFER#<transfer_id>`.
    """

    transfer_id = UnicodeAttribute()
    from_sn = UnicodeAttribute()
    to_sn = UnicodeAttribute()
    months = NumberAttribute()
    reason = UnicodeAttribute()
    actor = UnicodeAttribute()
    from_before = UnicodeAttribute()
    from_after = UnicodeAttribute()
    to_before = UnicodeAttribute()
    to_after = UnicodeAttribute()
