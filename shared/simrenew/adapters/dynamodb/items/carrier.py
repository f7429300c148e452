"""The carrier connection: an agent's carrier accounts (one per carrier), what each carrier said of a
SIM, and the carrier operations (an outbox item)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, Retried, TenantOwned, TerminalOwned, Versioned


# --- models --------------------------------------------------------------------------------------------
class CarrierAccountItem(TenantOwned, Versioned, Item, discriminator="carrier_account"):
    """An agent's login at a carrier platform (the API key is in the secret store, never here).

    Key: PK `TENANT#<tenant_id>`, SK `CARRIER#ACCOUNT#<account_id>`.
    Index gsi1 `CARRIER_ACCOUNTS` / `<tenant_id>#<account_id>`: every connected account, for the daily sync.
    """

    account_id = UnicodeAttribute()
    carrier = UnicodeAttribute()
    platform = UnicodeAttribute()
    base_url = UnicodeAttribute()
    username = UnicodeAttribute()
    status = UnicodeAttribute()
    checked_at = UTCDateTimeAttribute(null=True)
    synced_through = UTCDateTimeAttribute(null=True)  # the next sync asks for changes since then
    sync_state = UnicodeAttribute(null=True)  # queued | running | done | failed
    last_sync_json = UnicodeAttribute(null=True)


class CarrierAccountGuardItem(Item, discriminator="carrier_account_guard"):
    """One account per carrier per agent (a terminal uses the account of its carrier).

    Key: PK `TENANT#<tenant_id>`, SK `CARRIER#BY#<carrier>`.
    """

    account_id = UnicodeAttribute()


class CarrierSimItem(TerminalOwned, Item, discriminator="carrier_sim"):
    """What the carrier last said about a terminal's SIM: status as the platform names it, usage, drift.

    Key: PK `TENANT#<tenant_id>`, SK `CARRIER#SIM#<sn>`.
    Index gsi1 `CARRIER_DRIFT#<tenant_id>` / `<sn>`: SIMs whose carrier status disagrees with ours (sparse).
    """

    iccid = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # as the platform names it
    state = UnicodeAttribute(null=True)  # SimState
    rate_plan = UnicodeAttribute(null=True)
    bytes_used = NumberAttribute(null=True)
    usage_as_of = UTCDateTimeAttribute(null=True)
    synced_at = UTCDateTimeAttribute(null=True)
    drift = UnicodeAttribute(null=True)
    pending = UnicodeAttribute(null=True)  # suspend | resume, while an operation runs
    last_error = UnicodeAttribute(null=True)


class CarrierOpItem(TerminalOwned, Retried, Item, discriminator="carrier_op"):
    """A carrier operation (suspend, resume): an outbox item written with the status change.

    Key: PK `TENANT#<tenant_id>`, SK `CARRIER#OP#<sn>#<terminal version:010d>#<action>`.
    Index gsi1 `CARRIER_OPS_DUE#<shard>` / `<next_attempt_at>#<tenant_id>#<sk>`: pending, by due time (sparse).
    Index gsi1 `CARRIER_OPS_FAILED#<tenant_id>` / `<failed_at>#<sk>`: failed after its retries (sparse).
    TTL: 90 days after it is finished.
    """

    iccid = UnicodeAttribute()
    carrier = UnicodeAttribute()
    action = UnicodeAttribute()  # suspend | resume
    terminal_version = NumberAttribute()
    # pending → done (outcome changed | already), failed (after the retry budget; retry puts it back
    # to pending), manual (no carrier account: do it in the carrier's portal), superseded, dropped.
    state = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)
    done_at = UTCDateTimeAttribute(null=True)
    # The runner's lease (claim_op): one runner at a time; a dead runner's lease lapses.
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
