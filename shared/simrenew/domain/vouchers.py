"""Prepaid voucher codes (充值卡密码): 16 characters from an unambiguous alphabet, the last
one a check character, so a mistyped code is caught before any lookup."""

from __future__ import annotations

import hashlib
import secrets

from simrenew.errors import ValidationError

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
LENGTH = 16
MAX_BATCH = 1000


def _check_char(body: str) -> str:
    # Weighted sum mod a prime-sized alphabet (31): catches any single substitution and
    # any swap of two neighbouring characters.
    total = sum((i + 1) * ALPHABET.index(ch) for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def generate_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    code = body + _check_char(body)
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def normalize_code(raw: object) -> str:
    """Upper-case, without spaces or dashes; ValidationError if it cannot be a voucher."""
    if not isinstance(raw, str):
        raise ValidationError("code", "required", "code is required")
    code = "".join(ch for ch in raw.upper() if ch not in " -")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        raise ValidationError("code", "invalid_code", f"a voucher code has {LENGTH} letters and digits")
    if _check_char(code[:-1]) != code[-1]:
        raise ValidationError("code", "invalid_code", "this code has a typo: please check it")
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
