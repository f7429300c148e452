"""Terminal and SIM identifiers (SN, TID, ICCID) and the carrier an ICCID implies.
Every failure is a ValidationError naming the field, so bad input becomes a clear 400."""

from __future__ import annotations

import re
from enum import StrEnum

from simrenew.errors import ValidationError

# Explicit ASCII classes: `\d` and `str.isdigit()` also accept Arabic-Indic or full-width digits,
# which would slip past validation and then break uniqueness (two spellings of one identifier).
_SN_RE = re.compile(r"[A-Za-z0-9-]{6,32}")
_TID_RE = re.compile(r"[0-9]{8}")
_DIGITS_RE = re.compile(r"[0-9]+")
_ICCID_RE = re.compile(r"[0-9]{19,20}")

SN_MIN_LEN = 6
SN_MAX_LEN = 32


def normalize_sn(raw: str) -> str:
    """Trim and upper-case a terminal serial number (序列号); 6-32 of A-Z, 0-9 and '-'."""
    # Defensive: JSON bodies and CSV builders may hand over numbers or null despite the hint.
    if not isinstance(raw, str):
        raise ValidationError("sn", "invalid_sn", "SN must be a text value")
    value = raw.strip()
    # Checked before upper-casing: str.upper() maps some non-ASCII letters to ASCII ('ﬁ' -> 'FI'),
    # which would let a look-alike spelling of another terminal's SN through.
    if not _SN_RE.fullmatch(value):
        raise ValidationError(
            "sn",
            "invalid_sn",
            f"SN must be {SN_MIN_LEN} to {SN_MAX_LEN} characters of letters A-Z, digits 0-9 and '-'",
        )
    return value.upper()


def validate_tid(raw: str) -> str:
    """Trim a terminal number (终端号) and check it is exactly 8 ASCII digits."""
    if not isinstance(raw, str):
        raise ValidationError("tid", "invalid_tid", "TID must be a text value of 8 digits")
    value = raw.strip()
    if not _TID_RE.fullmatch(value):
        raise ValidationError("tid", "invalid_tid", "TID must be exactly 8 digits")
    return value


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to `payload` (ASCII digits); ValueError on anything else."""
    if payload and not _DIGITS_RE.fullmatch(payload):
        raise ValueError("Luhn payload must consist of ASCII digits only")
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled first.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_luhn_valid(number: str) -> bool:
    """True when the last digit of `number` is the Luhn check digit of the rest; never raises."""
    if not isinstance(number, str) or len(number) < 2 or not _DIGITS_RE.fullmatch(number):
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def validate_iccid(raw: str) -> str:
    """Normalise an ICCID (trim, drop inner spaces) and check length, '89' prefix and Luhn digit."""
    if not isinstance(raw, str):
        raise ValidationError("iccid", "invalid_iccid", "ICCID must be a text value of 19 or 20 digits")
    # Card packaging prints ICCIDs in groups ("8986 0012 ..."), so any whitespace is dropped.
    value = "".join(raw.split())
    if not _ICCID_RE.fullmatch(value):
        raise ValidationError("iccid", "invalid_iccid", "ICCID must be 19 or 20 digits")
    if not value.startswith("89"):
        raise ValidationError("iccid", "invalid_iccid", "ICCID must start with 89 (telecom SIM cards)")
    if not is_luhn_valid(value):
        raise ValidationError(
            "iccid",
            "iccid_checksum",
            "ICCID check digit is wrong: the number was probably mistyped",
        )
    return value


# Full-width forms (Ｕ+FF01..FF5E) as a Chinese IME types them, and the ideographic space. Only these:
# NFKC would also turn "¹" or "①" into digits, which nobody meant as a number.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation as their ASCII forms: "２０２７／１／５" -> "2027/1/5"."""
    return text.translate(_HALFWIDTH)


# What Excel makes of a long number it was not told is text: 8.98601E+19, 8,98601E+19 (a comma-decimal
# locale), 8.986001234567891e+19 (the float a workbook stores, as openpyxl reads it).
_SCIENTIFIC_RE = re.compile(r"[0-9][.,]?[0-9]*[eE]\+?[0-9]{1,3}")
ICCID_SCIENTIFIC_MESSAGE = (
    "Excel 把 ICCID 变成了科学计数法：请把该列设为文本后重新导出。"
    " Excel turned the ICCID into scientific notation (its last digits are lost): format the ICCID column"
    " as text and export the file again."
)


def validate_sheet_iccid(raw: str) -> str:
    """An ICCID cell of an imported spreadsheet: full-width digits and a ="..." text wrapper are
    accepted, and a number Excel rewrote in scientific notation is named as such, with the fix."""
    value = halfwidth(raw).strip() if isinstance(raw, str) else raw
    if isinstance(value, str) and _SCIENTIFIC_RE.fullmatch(value):
        raise ValidationError("iccid", "iccid_scientific", ICCID_SCIENTIFIC_MESSAGE)
    if isinstance(value, str) and value.endswith(".0") and _DIGITS_RE.fullmatch(value[:-2]):
        # A workbook number shown without exponent still lost its digits beyond the 15th or 16th.
        raise ValidationError("iccid", "iccid_scientific", ICCID_SCIENTIFIC_MESSAGE)
    return validate_iccid(value)


def validate_sheet_tid(raw: str) -> str:
    """A TID cell of an imported spreadsheet (full-width digits accepted); a TID Excel shortened by
    dropping its leading zeros is named as such."""
    value = halfwidth(raw).strip() if isinstance(raw, str) else raw
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value) and len(value) < 8:
        raise ValidationError(
            "tid",
            "invalid_tid",
            "TID must be exactly 8 digits; Excel drops leading zeros of numbers: format the TID column as text"
            " and export again (Excel 去掉了终端号开头的 0：请把该列设为文本后重新导出)",
        )
    return validate_tid(value)


class Carrier(StrEnum):
    CMCC = "CMCC"  # 中国移动 China Mobile
    CUCC = "CUCC"  # 中国联通 China Unicom
    CTCC = "CTCC"  # 中国电信 China Telecom
    OTHER = "OTHER"


CARRIER_NAMES: dict[Carrier, str] = {
    Carrier.CMCC: "中国移动 China Mobile",
    Carrier.CUCC: "中国联通 China Unicom",
    Carrier.CTCC: "中国电信 China Telecom",
    Carrier.OTHER: "other carrier",
}

# The six-digit issuer prefixes (89 telecom, 86 China, 2-digit issuer) assigned to each carrier.
_PREFIX_CARRIER: dict[str, Carrier] = {
    **dict.fromkeys(("898600", "898602", "898604", "898607", "898608"), Carrier.CMCC),
    **dict.fromkeys(("898601", "898606", "898609"), Carrier.CUCC),
    **dict.fromkeys(("898603", "898611"), Carrier.CTCC),
}

# Keys are case-folded with whitespace collapsed, see _carrier_key.
_CARRIER_ALIASES: dict[str, Carrier] = {
    **{carrier.value.casefold(): carrier for carrier in Carrier},
    "中国移动": Carrier.CMCC,
    "移动": Carrier.CMCC,
    "china mobile": Carrier.CMCC,
    "中国联通": Carrier.CUCC,
    "联通": Carrier.CUCC,
    "china unicom": Carrier.CUCC,
    "中国电信": Carrier.CTCC,
    "电信": Carrier.CTCC,
    "china telecom": Carrier.CTCC,
}


def carrier_from_iccid(iccid: str) -> Carrier | None:
    """The carrier a Chinese ICCID prefix implies, or None when the prefix is not a known one."""
    if not isinstance(iccid, str):
        return None
    return _PREFIX_CARRIER.get("".join(iccid.split())[:6])


def _carrier_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def resolve_carrier(stated: str | None, iccid: str) -> Carrier:
    """The terminal's carrier: the stated one (code, Chinese or English name) checked against the ICCID.

    With nothing stated, the ICCID's implied carrier is used, else OTHER.
    """
    implied = carrier_from_iccid(iccid)
    if stated is None or (isinstance(stated, str) and not stated.strip()):
        return implied if implied is not None else Carrier.OTHER
    carrier = _CARRIER_ALIASES.get(_carrier_key(stated)) if isinstance(stated, str) else None
    if carrier is None:
        raise ValidationError(
            "carrier",
            "invalid_carrier",
            "carrier must be one of CMCC (中国移动), CUCC (中国联通), CTCC (中国电信) or OTHER",
        )
    if implied is not None and carrier is not implied:
        raise ValidationError(
            "carrier",
            "carrier_mismatch",
            f"carrier {carrier.value} contradicts the ICCID, whose prefix belongs to "
            f"{implied.value} ({CARRIER_NAMES[implied]})",
        )
    return carrier
