"""The public (pay page) order's writes at their floor (issue 17): the order is written in one
transaction that also carries every rule that used to be a request of its own, and its
PaymentIntent is attached in one more, together with the open-order slot the next merchant reuses.

1. create: Put the order and its look-up, ConditionCheck the tenant's version and status (a price or
   setting read from the per-container context is the stored one), ConditionCheck the terminal
   (still there, not deactivated: it was read from an eventually consistent index), ConditionCheck the
   paid-renewals counter, Update the open-orders counter. Cancelled → nothing written.
2. attach: Put the order with its PaymentIntent id, the PaymentIntent look-up and the open-order slot
   (which carries the pubsn / pubtid keys, so the pay page's one Query finds it with the terminal).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.models import (
    Item,
    OpenOrderItem,
    OrderItem,
    PaymentIntentItem,
    TenantItem,
    TerminalItem,
    Transaction,
)
from simrenew.adapters.dynamodb.orders import intent_lookup, new_order_items
from simrenew.domain.fleet import TerminalStatus
from simrenew.domain.orders import Order
from simrenew.errors import TransientStoreError


class GuardsFailed(Exception):
    """The create transaction was cancelled by one of the guards: `codes` in the order they were added
    (tenant, terminal, then the caller's), None where that one was fine."""

    def __init__(self, codes: list[str | None]) -> None:
        super().__init__(f"public order refused: {codes}")
        self.codes = codes


class PublicOrderRepository:
    def create(
        self,
        order: Order,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
        *,
        tenant_version: int,
        sn: str,
        limits: Callable[[Transaction], None],
    ) -> OrderItem:
        item, lookup = new_order_items(order, token_hash, now, expires_at)
        tenant_pk = keys.tenant_pk(order.tenant_id)
        try:
            with Transaction() as tx:
                tx.condition_check(
                    TenantItem,
                    tenant_pk,
                    keys.tenant_profile_sk(),
                    condition=(TenantItem.version == tenant_version) & (TenantItem.status == "active"),
                )
                tx.condition_check(
                    TerminalItem,
                    tenant_pk,
                    keys.terminal_sk(sn),
                    condition=TerminalItem.pk.exists() & (TerminalItem.status != TerminalStatus.DEACTIVATED.value),
                )
                limits(tx)
                tx.save(item, condition=OrderItem.pk.does_not_exist())
                tx.save(lookup, condition=PaymentIntentItem.pk.does_not_exist())
        except TransactWriteError as exc:
            codes = tx.codes(exc)
            if "ConditionalCheckFailed" in codes[:-2]:
                raise GuardsFailed(codes[:-2]) from None
            raise TransientStoreError("could not save the order; retry") from exc
        return item

    def attach(
        self,
        item: OrderItem,
        payment_intent_id: str,
        now: datetime,
        *,
        sn: str,
        tid: str,
        plan_id: str,
        token: str,
        client_secret: str,
    ) -> None:
        """The PaymentIntent on the order, its look-up, and the slot the next merchant reuses: one write."""
        item.payment_intent_id = payment_intent_id
        item.updated_at = now
        slot = OpenOrderItem(
            item.pk,
            keys.open_public_order_sk(sn, plan_id),
            order_id=item.order_id,
            order_token=token,
            client_secret=client_secret,
            payment_intent_id=payment_intent_id,
            expires_at=item.expires_at,
            ttl=item.expires_at,
            pubsn_pk=keys.public_sn_pk(sn),
            pubtid_pk=keys.public_tid_pk(tid),
        )
        with Transaction() as tx:
            tx.save(item)
            tx.save(intent_lookup(item, payment_intent_id, now), condition=PaymentIntentItem.pk.does_not_exist())
            tx.save(slot)


def found_with(items: list[Item], tenant_id: str, sn: str, plan_id: str) -> OpenOrderItem | None:
    """The open-order slot for this terminal and plan among what the pay page's Query returned."""
    want = (keys.tenant_pk(tenant_id), keys.open_public_order_sk(sn, plan_id))
    return next((i for i in items if isinstance(i, OpenOrderItem) and (i.pk, i.sk) == want), None)
