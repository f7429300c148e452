"""The sweep: notifications sent once, run heartbeats and state, and the fanned-out sweep's days,
shard checkpoints, requests and digest notes."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from simrenew.adapters.dynamodb.items.base import Item, TenantOwned


class NotificationItem(TenantOwned, Item, discriminator="notification"):
    """One message to one recipient (reminder, grace, suspension notice, the agent's digest); its
    key is the dedupe key, so each is sent once.

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<sn>#NOTIF#<term>#<kind>#<channel>` or `DIGEST#<day>`.
    Index gsi2 `HELD_SMS#<shard>` / `<hold_until>#<pk>#<sk>`: SMS held for daytime (sparse).
    """

    sn = UnicodeAttribute(null=True)
    template = UnicodeAttribute()
    channel = UnicodeAttribute()
    recipient_masked = UnicodeAttribute()
    state = UnicodeAttribute()  # sending | sent | held | failed | skipped
    term = UnicodeAttribute(null=True)
    provider_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    hold_until = UTCDateTimeAttribute(null=True)
    # Only while held for daytime: what is needed to send it later (cleared once sent).
    held_json = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute(null=True)  # the sweep invocation that claimed it


class SweepRunItem(Item, discriminator="sweep_run"):
    """A sweep invocation's heartbeat: alive until `alive_until` (set to the end when it stops).

    Key: PK `SWEEP`, SK `ALIVE#<run_id>`.
    TTL: 2 days after `alive_until`.
    """

    alive_until = UTCDateTimeAttribute()


class SweepStateItem(Item, discriminator="sweep_state"):
    """The sweep's bookkeeping: the last completed day (LAST) and the registry of reminder offsets and
    grace lengths in use (OFFSETS); before the fan-out also a day's checkpoint (RUN#, old items only).

    Key: PK `SWEEP`, SK `RUN#<day>` or `LAST` or `OFFSETS`.
    TTL: 30 days (RUN# only).
    """

    done_parts = UnicodeSetAttribute(null=True)  # before the fan-out: "<date>#<shard>" read (old items only)
    # The OFFSETS item: the distinct reminder offsets and grace lengths agents have chosen (see
    # SweepRepository.offsets); `seeded_at` says it was once rebuilt from the active tenants.
    reminder_days = NumberSetAttribute(null=True)
    grace_days = NumberSetAttribute(null=True)
    seeded_at = UTCDateTimeAttribute(null=True)
    last_day = UnicodeAttribute(null=True)
    runs = NumberAttribute(default=0)


class SweepDayItem(Item, discriminator="sweep_day"):
    """A swept day: its catch-up window, the expiry dates it reads, its shards and the day's end.

    Key: PK `SWEEP`, SK `DAY#<as_of>`.
    TTL: 30 days.
    """

    as_of = UnicodeAttribute()
    start = UnicodeAttribute()  # first day of the catch-up window (fixed by the first run of the day)
    dates = UnicodeSetAttribute(null=True)  # expiry dates to read (grows if agents' settings do)
    shards = NumberAttribute()
    released = NumberAttribute(default=0)  # held SMS sent by the day's coordinators
    events_sent = NumberAttribute(default=0)
    digests_sent = NumberAttribute(default=0)
    digest_cursor = UnicodeAttribute(null=True)  # last tenant whose digest the day's end handled
    finished_at = UTCDateTimeAttribute(null=True)


class SweepShardItem(Item, discriminator="sweep_shard"):
    """One expiry shard of a day: the lease (holder), the checkpoint (cursor, dates done), counters.

    Key: PK `SWEEP`, SK `DAY#<as_of>#SHARD#<shard>`.
    TTL: 30 days.
    """

    as_of = UnicodeAttribute()
    shard = NumberAttribute()
    holder = UnicodeAttribute(null=True)  # the run (worker invocation) holding the lease
    done_dates = UnicodeSetAttribute(null=True)
    cursor_date = UnicodeAttribute(null=True)  # within cursor_date, every exp_sk <= cursor_sk is done
    cursor_sk = UnicodeAttribute(null=True)
    invocations = NumberAttribute(default=0)
    items_read = NumberAttribute(default=0)
    queries = NumberAttribute(default=0)
    reminders_sent = NumberAttribute(default=0)
    held_for_daytime = NumberAttribute(default=0)
    moved_to_grace = NumberAttribute(default=0)
    suspended = NumberAttribute(default=0)


class SweepRequestItem(Item, discriminator="sweep_request"):
    """A sweep run asked for (the API's POST /v1/admin/sweeps or the schedule) and when it was coordinated.

    Key: PK `SWEEP`, SK `REQ#<run_id>`.
    TTL: 30 days.
    """

    run_id = UnicodeAttribute()
    as_of = UnicodeAttribute()
    source = UnicodeAttribute()  # "api" | "schedule"
    coordinated_at = UTCDateTimeAttribute(null=True)


class SweepDigestItem(TenantOwned, Item, discriminator="sweep_digest"):
    """An agent had terminals due on the day: it gets the day's digest; the terminals suspended.
    One item per worker invocation of a shard (written whole, in batches: no two writers share
    one), the day's end merges them; `SWEEPDIGEST#<as_of>` alone: items written before issue 17.

    Key: PK `TENANT#<tenant_id>`, SK `SWEEPDIGEST#<as_of>#<shard>#<invocation>` or `SWEEPDIGEST#<as_of>`.
    Index gsi1 `SWEEPDIGEST#<as_of>` / `<tenant_id>`: every agent due a digest for the day.
    TTL: 30 days.
    """

    as_of = UnicodeAttribute()
    suspended = UnicodeSetAttribute(null=True)  # JSON {"sn", "merchant_name"} each
