"""What the two handlers of payment notifications share: Stripe's events (services.stripe_events)
and the WeChat Pay / Alipay notices (services.direct_payments) both record what they saw on the
order store and hand a payment to fulfilment, a refund to refunds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from simrenew.clock import Clock
from simrenew.ports.payment_events import Fulfilments, PaymentEvents, Refunds

S = TypeVar("S")  # an order as the store holds it
C = TypeVar("C")  # what a payment reads with its order (tenant, terminals)


@dataclass(eq=False, repr=False)
class PaymentNotices(Generic[S, C]):
    _orders: PaymentEvents[S, C]
    _fulfilment: Fulfilments[S, C]
    _refunds: Refunds[S]
    _clock: Clock
