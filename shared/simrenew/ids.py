"""Identifiers and secrets: all randomness comes from the OS CSPRNG (secrets)."""

from __future__ import annotations

import secrets

# Crockford base32, lower case: no i, l, o, u, so ids survive being read aloud.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str, length: int = 16) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
