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

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        """`class NotFound(SimRenewError, status=404, code="not_found")`: the subclass's HTTP status
        and default code (each inherited when not given)."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

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


class ValidationError(SimRenewError, status=400, code="invalid_input"):
    """Bad input: 400, always naming the field."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message, code=code, field=field)


class AuthenticationError(SimRenewError, status=401, code="unauthorized"):
    """No key, an unknown key, a revoked key, or a suspended tenant: 401."""


class PermissionDenied(SimRenewError, status=403, code="forbidden"):
    """The key is valid but its role is too low: 403."""


class NotFound(SimRenewError, status=404, code="not_found"):
    """Missing, or another tenant's: 404 (the two are indistinguishable on purpose)."""


class Conflict(SimRenewError, status=409, code="conflict"):
    """A uniqueness or state conflict: 409."""


class RuleViolation(SimRenewError, status=422, code="rule_violation"):
    """Well-formed input that breaks a business rule: 422."""


class PayloadTooLarge(SimRenewError, status=413, code="body_too_large"):
    """A request body above what the route accepts: 413."""


class RateLimited(SimRenewError, status=429, code="rate_limited"):
    """Too many requests (or a risk limit): 429."""

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s

    def to_body(self) -> dict[str, Any]:
        """The error shape plus `retry_after_s` (also sent as the Retry-After header)."""
        body: dict[str, Any] = super().to_body()
        body["error"]["retry_after_s"] = self.retry_after_s
        return body


class ConfigError(SimRenewError, code="config_error"):
    """A required setting is missing or wrong: start-up fails loudly."""


class TransientStoreError(SimRenewError, status=503, code="service_unavailable"):
    """The data store throttled or timed out after retries: 503, safe to retry."""


class ProviderUnavailable(SimRenewError, status=503, code="payment_provider_unavailable"):
    """The payment provider failed or refused unexpectedly: 503, safe to retry."""


class OutboxDeliveryFailed(SimRenewError, status=503, code="outbox_delivery_failed"):
    """An outbox item could not be delivered now: it stays pending and is tried again."""
