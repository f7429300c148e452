"""Phone and email normalisation, bounded text, and the masks used in listings and logs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.contact import (
    clean_text,
    mask_email,
    mask_iccid,
    mask_name,
    mask_phone,
    normalize_email,
    normalize_phone,
)
from simrenew.errors import ValidationError

SHARED = Path(__file__).resolve().parents[3] / "shared"
PROPERTY = settings(max_examples=200, deadline=None)


# --- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678", " +8613812345678 ", "8613812345678"],
)
def test_chinese_mobile_in_any_usual_form_is_normalised_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+1 650-253-0000", "+16502530000"), ("010-6552 9988", "+861065529988"), ("+852 9123 4567", "+85291234567")],
)
def test_landline_or_foreign_number_with_its_code_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "1381234567",  # 10 digits: one short
        "138123456789",  # 12 digits
        "phone",
        "+86 13812345678 ext 5",
        "1" * 100,
        None,
        13812345678,
    ],
)
def test_invalid_phone_is_rejected_naming_the_given_field(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw, "merchant_phone")  # type: ignore[arg-type]
    assert (exc.value.field, exc.value.code) == ("merchant_phone", "invalid_phone")
    assert "merchant_phone" in exc.value.message


def test_invalid_phone_names_the_phone_field_by_default() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_phone("12")
    assert exc.value.field == "phone"


# --- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zhang@example.com", "zhang@example.com"),
        ("  Zhang.San@Example.COM ", "Zhang.San@example.com"),
        ("shop+pos@mail.example.cn", "shop+pos@mail.example.cn"),
    ],
)
def test_valid_email_is_trimmed_and_its_domain_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "  ", "zhang", "zhang@", "@example.com", "a@b", "a@@example.com", "a b@example.com", None, 5]
)
def test_invalid_email_is_rejected_naming_the_given_field(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_email(raw, "contact_email")  # type: ignore[arg-type]
    assert (exc.value.field, exc.value.code) == ("contact_email", "invalid_email")


def test_importing_the_contact_rules_does_not_load_the_slow_libraries() -> None:
    # Cold start matters: phonenumbers and email_validator load only when a number or address is checked.
    probe = (
        "import sys, simrenew.domain.contact; "
        "print(sorted(m for m in ('phonenumbers', 'email_validator') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env={"PYTHONPATH": str(SHARED)}, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  张三便利店 ", "张三便利店"), ("ab", "ab"), ("a" * 10, "a" * 10), ("Shop\u3000", "Shop")],
)
def test_text_within_bounds_is_returned_trimmed(raw: str, expected: str) -> None:
    assert clean_text(raw, "name", min_len=2, max_len=10) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "required"),
        ("", "required"),
        ("   ", "required"),
        (12, "invalid_type"),
        (["a"], "invalid_type"),
        ("a", "too_short"),
        ("a" * 11, "too_long"),
        ("张三便利店张三便利店张", "too_long"),  # 11 characters, counted as characters not bytes
        ("line\nbreak", "invalid_text"),
        ("nul\x00", "invalid_text"),
        ("esc\x1b[31m", "invalid_text"),
        ("c1\x85c1", "invalid_text"),
        ("surrogate\ud800", "invalid_text"),
    ],
)
def test_required_text_breaking_a_rule_is_rejected_with_its_code(raw: object, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        clean_text(raw, "merchant_name", min_len=2, max_len=10)
    assert (exc.value.field, exc.value.code) == ("merchant_name", code)


@pytest.mark.parametrize("raw", [None, "", "  \t "])
def test_optional_text_left_empty_is_none(raw: object) -> None:
    assert clean_text(raw, "label", max_len=60, required=False) is None


def test_optional_text_given_is_still_checked() -> None:
    with pytest.raises(ValidationError) as exc:
        clean_text("x" * 61, "label", max_len=60, required=False)
    assert exc.value.code == "too_long"


# --- masks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "masked"),
    [("+8613812345678", "+86138****5678"), ("+16502530000", "+165****0000"), ("+8612345", "+*****45"), ("", "")],
)
def test_phone_mask_hides_the_middle_digits(e164: str, masked: str) -> None:
    assert mask_phone(e164) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [("zhang@example.com", "z***@example.com"), ("z@example.com", "z***@example.com"), ("nonsense", "***")],
)
def test_email_mask_keeps_the_first_letter_and_the_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("iccid", "masked"),
    [
        ("89860012345678901234", "898600**********1234"),
        ("8986001234567890128", "898600*********0128"),
        ("1234567890", "**********"),
    ],
)
def test_iccid_mask_keeps_the_carrier_prefix_and_the_last_four_digits(iccid: str, masked: str) -> None:
    assert mask_iccid(iccid) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("深圳市福田区便利店", "深圳******店"),  # issue 16: a merchant must recognise the own shop
        ("徐记五金建材批发商行", "徐记*******行"),
        ("张三便利店", "张***店"),
        ("欧阳娜娜", "欧**娜"),
        ("王小明", "王*明"),
        ("张三", "张*"),
        ("张", "*"),
        ("", ""),
    ],
)
def test_name_mask_keeps_the_first_and_last_characters_and_hides_the_rest(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert len(mask_name(name)) == len(name)  # the length stays: recognisable, nothing added


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(raw=st.one_of(st.text(max_size=40), st.text(alphabet="+0123456789 -()ext", max_size=30)))
def test_any_text_as_a_phone_is_normalised_or_rejected_with_a_validation_error(raw: str) -> None:
    try:
        e164 = normalize_phone(raw)
    except ValidationError as exc:
        assert exc.code == "invalid_phone"
        return
    assert e164.startswith("+")
    assert e164[1:].isascii()
    assert e164[1:].isdigit()
    assert normalize_phone(e164) == e164


@PROPERTY
@given(raw=st.one_of(st.text(max_size=60), st.emails()))
def test_any_text_as_an_email_is_normalised_or_rejected_with_a_validation_error(raw: str) -> None:
    try:
        email = normalize_email(raw)
    except ValidationError as exc:
        assert exc.code == "invalid_email"
        return
    assert normalize_email(email) == email


@PROPERTY
@given(raw=st.one_of(st.none(), st.integers(), st.text(max_size=30)), min_len=st.integers(0, 5))
def test_any_value_as_text_is_trimmed_and_bounded_or_rejected(raw: object, min_len: int) -> None:
    try:
        value = clean_text(raw, "note", min_len=min_len, max_len=20, required=False)
    except ValidationError as exc:
        assert exc.code in {"invalid_type", "invalid_text", "too_short", "too_long"}
        return
    if value is not None:
        assert value == value.strip()
        assert max(min_len, 1) <= len(value) <= 20


@PROPERTY
@given(national=st.from_regex(r"1(3[0-9]|8[0-9])[0-9]{8}", fullmatch=True))
def test_a_masked_chinese_mobile_never_shows_the_whole_number(national: str) -> None:
    masked = mask_phone(normalize_phone(national))
    assert masked == f"+86{national[:3]}****{national[-4:]}"
    assert national not in masked
