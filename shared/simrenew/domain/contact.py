"""Contact data rules: phone (E.164) and email normalisation, bounded free text, and masking for
listings and logs, where full phone numbers, emails, ICCIDs and names must never appear."""

from __future__ import annotations

import unicodedata

from simrenew.errors import ValidationError

# Merchants type local mobile numbers ("138 1234 5678"); those are read as Chinese numbers.
DEFAULT_PHONE_REGION = "CN"
# Far beyond any real number with its spaces and dashes; keeps parsing cost bounded.
_MAX_PHONE_INPUT = 64
# Cc: C0/C1 controls (NUL, newline, escape...); Cs: lone surrogates, which cannot be stored as UTF-8.
_REJECTED_CATEGORIES = frozenset({"Cc", "Cs"})


def normalize_phone(raw: str, field: str = "phone") -> str:
    """A phone number in E.164 ("+8613812345678"); numbers without a country code are read as Chinese."""
    # Imported here: phonenumbers loads large metadata tables and most requests never need it.
    import phonenumbers

    invalid = ValidationError(
        field,
        "invalid_phone",
        f"{field} must be a valid phone number, e.g. 13812345678 or +8613812345678",
    )
    if not isinstance(raw, str):
        raise invalid
    value = raw.strip()
    if not value or len(value) > _MAX_PHONE_INPUT:
        raise invalid
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    if number.extension:
        # E.164 has no extensions, and SMS reminders cannot reach one: dropping it would lose data.
        raise ValidationError(field, "invalid_phone", f"{field} must not contain an extension")
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164


def normalize_email(raw: str, field: str = "email") -> str:
    """A syntactically valid email address, normalised (domain lower-cased); no DNS look-up."""
    # Imported here to keep cold starts short: only merchant writes need it.
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(field, "invalid_email", f"{field} must be an email address")
    try:
        # No deliverability check: it needs DNS, which is slow and unavailable in tests.
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(field, "invalid_email", f"{field} is not a valid email address: {exc}") from None
    return result.normalized


def clean_text(
    raw: object,
    field: str,
    *,
    min_len: int = 1,
    max_len: int,
    required: bool = True,
) -> str | None:
    """Trimmed free text with length bounds in characters; None when optional and absent or blank."""
    if raw is None:
        if required:
            raise ValidationError(field, "required", f"{field} is required")
        return None
    if not isinstance(raw, str):
        raise ValidationError(field, "invalid_type", f"{field} must be text")
    value = raw.strip()
    if not value:
        if required:
            raise ValidationError(field, "required", f"{field} is required")
        return None
    # Control characters break CSV exports, SMS templates and log lines; they are never meant.
    if any(unicodedata.category(char) in _REJECTED_CATEGORIES for char in value):
        raise ValidationError(field, "invalid_text", f"{field} must not contain control characters")
    if len(value) < min_len:
        raise ValidationError(field, "too_short", f"{field} must be at least {min_len} characters")
    if len(value) > max_len:
        raise ValidationError(field, "too_long", f"{field} must be at most {max_len} characters")
    return value


def mask_phone(e164: str) -> str:
    """Hide the 4 digits before the last 4, the usual Chinese style: "+8613812345678" -> "+86138****5678".

    Numbers of 8 digits or fewer keep only their last 2 digits.
    """
    sign = "+" if e164.startswith("+") else ""
    digits = e164[len(sign) :]
    if len(digits) > 8:
        return f"{sign}{digits[:-8]}****{digits[-4:]}"
    if len(digits) > 4:
        return f"{sign}{'*' * (len(digits) - 2)}{digits[-2:]}"
    return sign + "*" * len(digits)


def mask_email(email: str) -> str:
    """First character of the local part, then "***" whatever its length: "zhang@ex.com" -> "z***@ex.com"."""
    local, at, domain = email.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_iccid(iccid: str) -> str:
    """Keep the first 6 digits (country and carrier) and the last 4; anything of 10 or fewer is all stars."""
    if len(iccid) <= 10:
        return "*" * len(iccid)
    return f"{iccid[:6]}{'*' * (len(iccid) - 10)}{iccid[-4:]}"


def mask_name(name: str) -> str:
    """Enough of a shop's name for its owner to recognise it, not enough for a stranger to learn it:
    the first and the last character, and the first two of a long name (the city or district most
    shop names start with), one "*" for every hidden character.

    "深圳华强北数码店" -> "深圳*****店", "张三便利店" -> "张***店", "张三丰" -> "张*丰", "张三" -> "张*";
    a one-character name becomes "*", so a whole name is never shown.
    """
    value = name.strip()
    if len(value) <= 1:
        return "*" * len(value)
    if len(value) == 2:
        return value[0] + "*"
    head = 2 if len(value) >= 7 else 1
    return value[:head] + "*" * (len(value) - head - 1) + value[-1]
