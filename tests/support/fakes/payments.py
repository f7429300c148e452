"""The PaymentGateway port (Stripe) in memory: tests/support/payments.FakeGateway records
PaymentIntents and refunds and keeps Stripe's rules (one refund per idempotency key, never more
than was received); events are signed and verified with the real scheme."""

from __future__ import annotations

from tests.support.payments import FakeGateway, event, sign, succeeded_for

WEBHOOK_SECRET = "whsec_service_tier"

__all__ = ["WEBHOOK_SECRET", "FakeGateway", "event", "sign", "succeeded_for"]
