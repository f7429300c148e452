"""Contact details: phone numbers (E.164), emails, bounded text, and masking for display."""

from __future__ import annotations

import unicodedata

from simrenew.errors import ValidationError


def normalize_phone(raw: str, field: str = "phone") -> str:
    import phonenumbers  # slow to import: only on the paths that take a phone number

    text = raw.strip() if isinstance(raw, str) else ""
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(field, "invalid_phone", f"{field} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, "invalid_phone", f"{field} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_email(raw: str, field: str = "email") -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(raw.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValidationError(field, "invalid_email", f"{field} is not a valid email address") from None


def clean_text(raw: object, field: str, *, min_len: int = 1, max_len: int, required: bool = True) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str):
        raise ValidationError(field, "invalid_type", f"{field} must be a string")
    text = raw.strip()
    if not text:
        if required:
            raise ValidationError(field, "required", f"{field} is required")
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError(field, "invalid_text", f"{field} contains control characters")
    if len(text) < min_len:
        raise ValidationError(field, "too_short", f"{field} must be at least {min_len} characters")
    if len(text) > max_len:
        raise ValidationError(field, "too_long", f"{field} must be at most {max_len} characters")
    return text
