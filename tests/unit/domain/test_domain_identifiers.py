"""SN, TID and ICCID rules and the carrier an ICCID implies (docs/domain.md, identifier rules)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.identifiers import (
    Carrier,
    carrier_from_iccid,
    is_luhn_valid,
    luhn_check_digit,
    normalize_sn,
    resolve_carrier,
    validate_iccid,
    validate_tid,
)
from simrenew.errors import ValidationError

CMCC_PREFIXES = ("898600", "898602", "898604", "898607", "898608")
CUCC_PREFIXES = ("898601", "898606", "898609")
CTCC_PREFIXES = ("898603", "898611")
FOREIGN_PREFIX = "894400"  # a UK ICCID: no carrier implied


def make_iccid(prefix: str = "898600", length: int = 20, body: str = "") -> str:
    """A valid ICCID: prefix, then body padded with a fixed digit pattern, then the Luhn digit."""
    payload = (prefix + body + "1234567890" * 2)[: length - 1]
    return payload + luhn_check_digit(payload)


def with_wrong_check_digit(iccid: str) -> str:
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


def assert_rejected(exc: pytest.ExceptionInfo[ValidationError], field: str, code: str) -> None:
    assert exc.value.field == field
    assert exc.value.code == code
    assert exc.value.message


# --- SN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc123", "ABC123"),
        ("  pax-a920-0001  ", "PAX-A920-0001"),
        ("\tN86001234\n", "N86001234"),
        ("A" * 32, "A" * 32),
        ("000000", "000000"),
        ("------", "------"),
    ],
)
def test_sn_given_letters_digits_and_dashes_is_trimmed_and_upper_cased(raw: str, expected: str) -> None:
    assert normalize_sn(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ABC12",  # 5 characters
        "A" * 33,
        "ABC 123",
        "ABC_123",
        "ABC.123",
        "序列号123456",
        "ＡＢＣ１２３",  # full-width look-alikes
        "ﬁ12345",  # a ligature that str.upper() turns into ASCII "FI"
    ],
)
def test_sn_outside_the_allowed_form_is_rejected_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_sn(raw)
    assert_rejected(exc, "sn", "invalid_sn")


@pytest.mark.parametrize("raw", [None, 123456, b"ABC123"])
def test_sn_that_is_not_text_is_rejected_not_crashed_on(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        normalize_sn(raw)  # type: ignore[arg-type]
    assert_rejected(exc, "sn", "invalid_sn")


# --- TID --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("12345678", "12345678"), (" 00000001 ", "00000001")])
def test_tid_of_eight_digits_is_accepted_trimmed(raw: str, expected: str) -> None:
    assert validate_tid(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "1234567", "123456789", "1234567a", "1234 5678", "１２３４５６７８", "١٢٣٤٥٦٧٨", None, 12345678]
)
def test_tid_that_is_not_exactly_eight_ascii_digits_is_rejected(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tid(raw)  # type: ignore[arg-type]
    assert_rejected(exc, "tid", "invalid_tid")


# --- Luhn -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "digit"), [("7992739871", "3"), ("0", "0"), ("", "0"), ("1", "8")])
def test_luhn_check_digit_of_known_payloads(payload: str, digit: str) -> None:
    assert luhn_check_digit(payload) == digit


@pytest.mark.parametrize("payload", ["12a4", "１２", " 12"])
def test_luhn_check_digit_of_non_digits_is_a_programming_error(payload: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        luhn_check_digit(payload)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("79927398713", True), ("79927398710", False), ("00", True), ("", False), ("5", False), ("1a3", False)],
)
def test_is_luhn_valid_answers_without_raising(number: str, valid: bool) -> None:
    assert is_luhn_valid(number) is valid


# --- ICCID ------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [19, 20])
def test_iccid_of_19_or_20_digits_with_valid_check_digit_is_accepted(length: int) -> None:
    iccid = make_iccid(length=length)
    assert validate_iccid(iccid) == iccid


def test_iccid_typed_in_groups_with_spaces_is_returned_without_them() -> None:
    iccid = make_iccid()
    grouped = " " + " ".join(iccid[i : i + 4] for i in range(0, 20, 4)) + " "
    assert validate_iccid(grouped) == iccid


@pytest.mark.parametrize(
    "raw",
    [
        "",
        make_iccid(length=19)[:-1],  # 18 digits
        make_iccid(length=20) + "0",  # 21 digits
        "8986001234567890123A",
        "8986-0012-3456-7890-123",
        make_iccid(prefix="880000"),  # wrong industry prefix, valid Luhn
        make_iccid(prefix="190000"),
        "８９８６００１２３４５６７８９０１２３４",
        None,
        89860012345678901234,
    ],
)
def test_iccid_with_wrong_length_characters_or_prefix_is_rejected_as_invalid(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_iccid(raw)  # type: ignore[arg-type]
    assert_rejected(exc, "iccid", "invalid_iccid")


@pytest.mark.parametrize("length", [19, 20])
def test_iccid_with_wrong_check_digit_is_rejected_naming_the_field(length: int) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_iccid(with_wrong_check_digit(make_iccid(length=length)))
    assert_rejected(exc, "iccid", "iccid_checksum")


# --- carriers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "carrier"),
    [(p, Carrier.CMCC) for p in CMCC_PREFIXES]
    + [(p, Carrier.CUCC) for p in CUCC_PREFIXES]
    + [(p, Carrier.CTCC) for p in CTCC_PREFIXES],
)
def test_chinese_iccid_prefix_implies_its_carrier(prefix: str, carrier: Carrier) -> None:
    assert carrier_from_iccid(make_iccid(prefix=prefix)) is carrier


@pytest.mark.parametrize("prefix", [FOREIGN_PREFIX, "898605", "898610", "891000"])
def test_iccid_prefix_of_no_known_chinese_carrier_implies_none(prefix: str) -> None:
    assert carrier_from_iccid(make_iccid(prefix=prefix)) is None


@pytest.mark.parametrize(
    ("stated", "carrier"),
    [
        ("CMCC", Carrier.CMCC),
        (" cmcc ", Carrier.CMCC),
        ("中国移动", Carrier.CMCC),
        ("移动", Carrier.CMCC),
        ("China Mobile", Carrier.CMCC),
        ("CHINA  MOBILE", Carrier.CMCC),
        ("cucc", Carrier.CUCC),
        ("中国联通", Carrier.CUCC),
        ("联通", Carrier.CUCC),
        ("china unicom", Carrier.CUCC),
        ("Ctcc", Carrier.CTCC),
        ("中国电信", Carrier.CTCC),
        ("电信", Carrier.CTCC),
        ("China Telecom", Carrier.CTCC),
        ("other", Carrier.OTHER),
    ],
)
def test_stated_carrier_code_or_name_is_accepted_when_the_iccid_implies_none(stated: str, carrier: Carrier) -> None:
    assert resolve_carrier(stated, make_iccid(prefix=FOREIGN_PREFIX)) is carrier


@pytest.mark.parametrize("stated", ["Vodafone", "移動", "CM", "China", "中国"])
def test_unknown_stated_carrier_is_rejected_naming_the_field(stated: str) -> None:
    with pytest.raises(ValidationError) as exc:
        resolve_carrier(stated, make_iccid(prefix=FOREIGN_PREFIX))
    assert_rejected(exc, "carrier", "invalid_carrier")


@pytest.mark.parametrize(
    ("stated", "prefix", "implied"),
    [
        ("CUCC", "898600", "CMCC"),
        ("中国电信", "898601", "CUCC"),
        ("China Mobile", "898611", "CTCC"),
        ("OTHER", "898602", "CMCC"),
    ],
)
def test_stated_carrier_contradicting_the_iccid_prefix_is_rejected_naming_the_implied_one(
    stated: str, prefix: str, implied: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        resolve_carrier(stated, make_iccid(prefix=prefix))
    assert_rejected(exc, "carrier", "carrier_mismatch")
    assert implied in exc.value.message


def test_stated_carrier_agreeing_with_the_iccid_prefix_is_accepted() -> None:
    assert resolve_carrier("联通", make_iccid(prefix="898609")) is Carrier.CUCC


@pytest.mark.parametrize("stated", [None, "", "   "])
def test_no_stated_carrier_takes_the_one_the_iccid_implies(stated: str | None) -> None:
    assert resolve_carrier(stated, make_iccid(prefix="898603")) is Carrier.CTCC


@pytest.mark.parametrize("stated", [None, ""])
def test_no_stated_carrier_and_a_foreign_iccid_gives_other(stated: str | None) -> None:
    assert resolve_carrier(stated, make_iccid(prefix=FOREIGN_PREFIX)) is Carrier.OTHER


# --- properties -------------------------------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=None)
digits = st.text(alphabet="0123456789", max_size=20)
identifier_like = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 -abcxyzABC\t\n", max_size=40),
    digits,
)


@PROPERTY
@given(raw=identifier_like)
def test_any_text_given_as_identifier_is_normalised_or_rejected_with_a_validation_error(raw: str) -> None:
    for validate, field in ((normalize_sn, "sn"), (validate_tid, "tid"), (validate_iccid, "iccid")):
        try:
            value = validate(raw)
        except ValidationError as exc:
            assert exc.field == field
        else:
            assert value.isascii()
            assert value == value.strip()


@PROPERTY
@given(stated=st.one_of(st.none(), st.text(max_size=20)), iccid=identifier_like)
def test_any_stated_carrier_resolves_or_is_rejected_with_a_validation_error(stated: str | None, iccid: str) -> None:
    try:
        assert isinstance(resolve_carrier(stated, iccid), Carrier)
    except ValidationError as exc:
        assert exc.code in {"invalid_carrier", "carrier_mismatch"}


@PROPERTY
@given(raw=st.text(alphabet="abcXYZ0189- ", min_size=0, max_size=40))
def test_a_normalised_sn_is_stable_when_normalised_again(raw: str) -> None:
    try:
        sn = normalize_sn(raw)
    except ValidationError:
        return
    assert normalize_sn(sn) == sn
    assert sn == sn.upper().strip()


valid_iccids = st.builds(
    lambda prefix, body, length: (lambda p: p + luhn_check_digit(p))((prefix + body)[: length - 1]),
    st.one_of(st.sampled_from(CMCC_PREFIXES + CUCC_PREFIXES + CTCC_PREFIXES), st.just("89")),
    st.text(alphabet="0123456789", min_size=18, max_size=18),
    st.sampled_from([19, 20]),
)


@PROPERTY
@given(iccid=valid_iccids)
def test_generated_valid_iccids_always_pass(iccid: str) -> None:
    assert validate_iccid(iccid) == iccid
    assert is_luhn_valid(iccid)


@PROPERTY
@given(iccid=valid_iccids, data=st.data())
def test_any_single_mistyped_digit_after_the_89_prefix_is_caught_by_the_check_digit(
    iccid: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(min_value=2, max_value=len(iccid) - 1))
    typo = data.draw(st.sampled_from([d for d in "0123456789" if d != iccid[position]]))
    mistyped = iccid[:position] + typo + iccid[position + 1 :]
    with pytest.raises(ValidationError) as exc:
        validate_iccid(mistyped)
    assert exc.value.code == "iccid_checksum"
