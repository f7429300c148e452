"""Typed domain errors: every failure a caller can act on has its own class.

One mapper in the API layer turns these into HTTP answers (docs/api.md error shape); no
code ever matches on message text.
"""

from __future__ import annotations

from typing import Any


class SimRenewError(Exception):
    """Base of every error the service layer raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return {"error": body}


class ValidationError(SimRenewError):
    """Bad input: 400, always naming the field."""

    status = 400
    code = "invalid_input"

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message, code=code, field=field)


class AuthenticationError(SimRenewError):
    """No key, an unknown key, a revoked key, or a suspended tenant: 401."""

    status = 401
    code = "unauthorized"


class PermissionDenied(SimRenewError):
    """The key is valid but its role is too low: 403."""

    status = 403
    code = "forbidden"


class NotFound(SimRenewError):
    """Missing, or another tenant's: 404 (the two are indistinguishable on purpose)."""

    status = 404
    code = "not_found"


class Conflict(SimRenewError):
    """A uniqueness or state conflict: 409."""

    status = 409
    code = "conflict"


class RuleViolation(SimRenewError):
    """Well-formed input that breaks a business rule: 422."""

    status = 422
    code = "rule_violation"


class PayloadTooLarge(SimRenewError):
    """A request body above what the route accepts: 413."""

    status = 413
    code = "body_too_large"


class RateLimited(SimRenewError):
    """Too many requests (or a risk limit): 429."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s

    def to_body(self) -> dict[str, Any]:
        """The error shape plus `retry_after_s` (also sent as the Retry-After header)."""
        body: dict[str, Any] = super().to_body()
        body["error"]["retry_after_s"] = self.retry_after_s
        return body


class ConfigError(SimRenewError):
    """A required setting is missing or wrong: start-up fails loudly."""

    code = "config_error"


class TransientStoreError(SimRenewError):
    """The data store throttled or timed out after retries: 503, safe to retry."""

    status = 503
    code = "service_unavailable"


class ProviderUnavailable(SimRenewError):
    """The payment provider failed or refused unexpectedly: 503, safe to retry."""

    status = 503
    code = "payment_provider_unavailable"


class OutboxDeliveryFailed(SimRenewError):
    """An outbox item could not be delivered now: it stays pending and is tried again."""

    status = 503
    code = "outbox_delivery_failed"
