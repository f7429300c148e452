"""Phone and email normalisation, bounded text, and the masks used in listings and logs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from tests.support.outcomes import value_or_refusal

SHARED = Path(__file__).resolve().parents[3] / "shared"
PROPERTY = settings(max_examples=200, deadline=None)


# --- examples: each rule, given an input, gives this value or refuses it ------------------------


def examples(rule: Callable[[Any], Any], what: str, pairs: list[tuple[Any, Any]]) -> list[Any]:
    """One case a pair: `rule(raw)` gives `expected`; `what` names the cases."""
    return [pytest.param(rule, raw, expected, id=f"{what}-{i}") for i, (raw, expected) in enumerate(pairs)]


def refusals(rule: Callable[[Any], Any], field: str, codes: list[tuple[Any, str]]) -> list[Any]:
    """One case a pair: `rule(raw)` is refused naming `field`, with the code."""
    return [pytest.param(rule, raw, field, code, id=f"{field}-{code}-{i}") for i, (raw, code) in enumerate(codes)]


def bounded(raw: Any) -> str | None:
    return clean_text(raw, "name", min_len=2, max_len=10)


NAME_MASKS = [
    ("深圳市福田区便利店", "深圳******店"),  # issue 16: a merchant must recognise the own shop
    ("徐记五金建材批发商行", "徐记*******行"),
    ("张三便利店", "张***店"),
    ("欧阳娜娜", "欧**娜"),
    ("王小明", "王*明"),
    ("张三", "张*"),
    ("张", "*"),
    ("", ""),
]
MOBILE_FORMS = [
    "13812345678",
    "138 1234 5678",
    "+86 138-1234-5678",
    "008613812345678",
    " +8613812345678 ",
    "8613812345678",
]
BAD_PHONES = [
    "",
    "   ",
    "12345",
    "1381234567",
    "138123456789",
    "phone",
    "+86 13812345678 ext 5",
    "1" * 100,
    None,
    13812345678,
]
BAD_EMAILS = ["", "  ", "zhang", "zhang@", "@example.com", "a@b", "a@@example.com", "a b@example.com", None, 5]


@pytest.mark.parametrize(
    ("rule", "raw", "expected"),
    [
        *examples(
            normalize_phone, "chinese-mobile-in-any-usual-form", [(raw, "+8613812345678") for raw in MOBILE_FORMS]
        ),
        *examples(
            normalize_phone,
            "landline-or-foreign-number-with-its-code",
            [
                ("+1 650-253-0000", "+16502530000"),
                ("010-6552 9988", "+861065529988"),
                ("+852 9123 4567", "+85291234567"),
            ],
        ),
        *examples(
            normalize_email,
            "email-trimmed-its-domain-lower-cased",
            [
                ("zhang@example.com", "zhang@example.com"),
                ("  Zhang.San@Example.COM ", "Zhang.San@example.com"),
                ("shop+pos@mail.example.cn", "shop+pos@mail.example.cn"),
            ],
        ),
        *examples(
            bounded,
            "text-within-bounds-trimmed",
            [("  张三便利店 ", "张三便利店"), ("ab", "ab"), ("a" * 10, "a" * 10), ("Shop\u3000", "Shop")],
        ),
        *examples(
            mask_phone,
            "phone-mask-hides-the-middle-digits",
            [
                ("+8613812345678", "+86138****5678"),
                ("+16502530000", "+165****0000"),
                ("+8612345", "+*****45"),
                ("", ""),
            ],
        ),
        *examples(
            mask_email,
            "email-mask-keeps-the-first-letter-and-the-domain",
            [("zhang@example.com", "z***@example.com"), ("z@example.com", "z***@example.com"), ("nonsense", "***")],
        ),
        *examples(
            mask_iccid,
            "iccid-mask-keeps-the-carrier-prefix-and-the-last-four",
            [
                ("89860012345678901234", "898600**********1234"),
                ("8986001234567890128", "898600*********0128"),
                ("1234567890", "**********"),
            ],
        ),
        *examples(mask_name, "name-mask-keeps-the-first-and-last-characters", NAME_MASKS),
    ],
)
def test_a_rule_given_an_input_gives_its_normalised_or_masked_value(
    rule: Callable[[Any], Any], raw: Any, expected: Any
) -> None:
    assert rule(raw) == expected


@pytest.mark.parametrize(
    ("rule", "raw", "field", "code"),
    [
        *refusals(
            lambda raw: normalize_phone(raw, "merchant_phone"),
            "merchant_phone",
            [(raw, "invalid_phone") for raw in BAD_PHONES],
        ),
        *refusals(
            lambda raw: normalize_email(raw, "contact_email"),
            "contact_email",
            [(raw, "invalid_email") for raw in BAD_EMAILS],
        ),
        *refusals(
            lambda raw: clean_text(raw, "merchant_name", min_len=2, max_len=10),
            "merchant_name",
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
        ),
    ],
)
def test_an_input_breaking_a_rule_is_refused_naming_the_given_field_with_its_code(
    rule: Callable[[Any], Any], raw: Any, field: str, code: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        rule(raw)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert field in exc.value.message


@pytest.mark.parametrize(("name", "_masked"), NAME_MASKS)
def test_a_masked_name_keeps_its_length_recognisable_with_nothing_added(name: str, _masked: str) -> None:
    assert len(mask_name(name)) == len(name)


# --- phone ------------------------------------------------------------------------------------


def test_invalid_phone_names_the_phone_field_by_default() -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_phone("12")
    assert exc.value.field == "phone"


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


@pytest.mark.parametrize("raw", [None, "", "  \t "])
def test_optional_text_left_empty_is_none(raw: object) -> None:
    assert clean_text(raw, "label", max_len=60, required=False) is None


def test_optional_text_given_is_still_checked() -> None:
    with pytest.raises(ValidationError) as exc:
        clean_text("x" * 61, "label", max_len=60, required=False)
    assert exc.value.code == "too_long"


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(raw=st.one_of(st.text(max_size=40), st.text(alphabet="+0123456789 -()ext", max_size=30)))
def test_any_text_as_a_phone_is_normalised_or_rejected_with_a_validation_error(raw: str) -> None:
    e164 = value_or_refusal(lambda: normalize_phone(raw), codes={"invalid_phone"})
    if e164 is None:
        return
    assert e164.startswith("+")
    assert e164[1:].isascii()
    assert e164[1:].isdigit()
    assert normalize_phone(e164) == e164


@PROPERTY
@given(raw=st.one_of(st.text(max_size=60), st.emails()))
def test_any_text_as_an_email_is_normalised_or_rejected_with_a_validation_error(raw: str) -> None:
    email = value_or_refusal(lambda: normalize_email(raw), codes={"invalid_email"})
    assert email is None or normalize_email(email) == email


@PROPERTY
@given(raw=st.one_of(st.none(), st.integers(), st.text(max_size=30)), min_len=st.integers(0, 5))
def test_any_value_as_text_is_trimmed_and_bounded_or_rejected(raw: object, min_len: int) -> None:
    codes = {"invalid_type", "invalid_text", "too_short", "too_long"}
    value = value_or_refusal(lambda: clean_text(raw, "note", min_len=min_len, max_len=20, required=False), codes=codes)
    if value is not None:
        assert value == value.strip()
        assert max(min_len, 1) <= len(value) <= 20


@PROPERTY
@given(national=st.from_regex(r"1(3[0-9]|8[0-9])[0-9]{8}", fullmatch=True))
def test_a_masked_chinese_mobile_never_shows_the_whole_number(national: str) -> None:
    masked = mask_phone(normalize_phone(national))
    assert masked == f"+86{national[:3]}****{national[-4:]}"
    assert national not in masked
