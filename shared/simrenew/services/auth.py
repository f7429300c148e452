"""Authentication of API keys and the platform key, and role checks.

Keys look like `srk_<key_id>_<secret>`: the id finds the lookup item, the SHA-256 of the
whole key is compared in constant time, and the tenant must still be active.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from simrenew.domain.tenant import Principal, Role, TenantStatus
from simrenew.errors import AuthenticationError, PermissionDenied
from simrenew.ids import new_id, new_secret
from simrenew.ports.api_keys import ApiKeys, Secret
from simrenew.ports.tenants import Tenants

KEY_PREFIX = "srk_"
_KEY_SHAPE = re.compile(r"^srk_(k_[0-9a-z]{16})_([A-Za-z0-9_-]{43})$")


def hash_key(raw_key: str) -> str:
    # The key carries 256 bits from the CSPRNG, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def mint_key() -> tuple[str, str]:
    """A new (key_id, full key) pair; the full key is shown once and never stored."""
    key_id = new_id("k")
    return key_id, f"{KEY_PREFIX}{key_id}_{new_secret(32)}"


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError("missing Authorization: Bearer <api key>", code="missing_api_key")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be 'Bearer <api key>'", code="invalid_api_key")
    return token.strip()


class AuthService:
    def __init__(self, api_keys: ApiKeys, tenants: Tenants, platform_key: Secret) -> None:
        self._keys = api_keys
        self._tenants = tenants
        self._platform_key = platform_key

    def authenticate_tenant(self, token: str) -> Principal:
        match = _KEY_SHAPE.match(token)
        if match is None:
            raise AuthenticationError("invalid API key", code="invalid_api_key")
        key_id = match.group(1)
        lookup = self._keys.lookup(key_id)
        # Hash and compare even when the id is unknown, so timing says nothing about ids.
        presented = hash_key(token)
        stored = lookup.key_hash if lookup else hash_key("")
        if not hmac.compare_digest(presented, stored) or lookup is None:
            raise AuthenticationError("invalid API key", code="invalid_api_key")
        if lookup.revoked:
            raise AuthenticationError("this API key was revoked", code="revoked_api_key")
        tenant = self._tenants.get(lookup.tenant_id)
        if tenant is None or tenant.status is not TenantStatus.ACTIVE:
            raise AuthenticationError("this agent account is not active", code="tenant_not_active")
        return Principal(tenant_id=lookup.tenant_id, role=lookup.role, key_id=key_id)

    def authenticate_platform(self, token: str) -> Principal:
        if not hmac.compare_digest(token.encode(), self._platform_key.get().encode()):
            raise AuthenticationError("invalid platform key", code="invalid_api_key")
        return Principal(tenant_id=None, role=None, key_id="platform", is_platform=True)


def require_role(principal: Principal, needed: Role, *, finance: bool = False) -> None:
    """`needed` or higher; a finance key only where the route grants it (`finance`, reads only)."""
    if principal.is_platform or principal.role is None:
        raise PermissionDenied("this route needs an agent API key", code="agent_key_required")
    if principal.role is Role.FINANCE:
        if finance:
            return
        raise PermissionDenied(
            "a finance key reads orders, the ledger and the money reports, and changes nothing",
            code="insufficient_role",
        )
    if principal.role < needed:
        raise PermissionDenied(
            f"this action needs the {needed.label} role; this key is {principal.role.label}",
            code="insufficient_role",
        )
