"""Orders, payments and the renewal ledger: the order with its own money ledger, the open public
order, the global payment look-ups, applied Stripe events and each terminal's expiry ledger lines."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from simrenew.adapters.dynamodb.items.base import Item, TenantOwned, TerminalOwned, Versioned


class OrderItem(TenantOwned, Versioned, Item, discriminator="order"):
    """A renewal order: its lines, status, payment and its own money ledger (paid, reserved, refunds).

    Key: PK `TENANT#<tenant_id>`, SK `ORDER#<order_id>`.
    Index gsi1 `TENANT#<tenant_id>#ORDERS` / `<created_at>#<order_id>`: the agent's orders, newest first.
    Index gsi2 `PENDING_ORDERS#<shard>` / `<expires_at>#<tenant_id>#<order_id>`: unpaid orders to expire (sparse).
    """

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


class PaymentIntentItem(TenantOwned, Item, discriminator="payment_intent"):
    """Global lookup → tenant and order: by Stripe PaymentIntent id (webhooks carry no tenant) and
    by order id (the public pay page knows no tenant).

    Key: PK `PI#<payment_intent_id>` or `ORDERID#<order_id>`, SK `LOOKUP`.
    """

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


class RenewalItem(TerminalOwned, Item, discriminator="renewal"):
    """Append-only ledger line of a terminal's expiry (renewal, reversal, refund, adjustment, transfer).

    Key: PK `TENANT#<tenant_id>`, SK `TLOG#<sn>#RENEWAL#<at>#<source>#<line:02d>#<entry>`.
    """

    entry = UnicodeAttribute()  # renewal | reversal | refund | adjustment | transfer_out | transfer_in
    source = UnicodeAttribute()  # order id or voucher batch id
    old_expires_on = UnicodeAttribute()
    new_expiry = UnicodeAttribute()
    amount_fen = NumberAttribute()
    term_months = NumberAttribute()
    actor = UnicodeAttribute(null=True)  # who made a manual change (key id)
    note = UnicodeAttribute(null=True)  # why: the reason of a manual change, the import it came from
