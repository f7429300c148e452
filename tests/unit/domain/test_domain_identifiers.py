"""SN, TID and ICCID rules and the carrier an ICCID implies (docs/domain.md, identifier rules): examples,
then properties over generated input: spelling variants of one identifier normalise to one value, digits of
other scripts never pass, the Luhn digit catches the typos it is meant to catch, the carrier follows the
ICCID prefix, and no input of any JSON type raises anything but the domain ValidationError."""

from __future__ import annotations

from typing import Any

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

# Deterministic for CI (no example database, no random seed); 200 examples a property keep the file at a few seconds.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

ASCII_DIGITS = "0123456789"
PREFIXES: dict[str, Carrier] = {
    **dict.fromkeys(CMCC_PREFIXES, Carrier.CMCC),
    **dict.fromkeys(CUCC_PREFIXES, Carrier.CUCC),
    **dict.fromkeys(CTCC_PREFIXES, Carrier.CTCC),
}
ALIASES: dict[Carrier, tuple[str, ...]] = {
    Carrier.CMCC: ("CMCC", "中国移动", "移动", "China Mobile"),
    Carrier.CUCC: ("CUCC", "中国联通", "联通", "China Unicom"),
    Carrier.CTCC: ("CTCC", "中国电信", "电信", "China Telecom"),
}
# The same ten digits in other scripts: str.isdigit() and int() accept them, the identifier rules must not.
OTHER_DIGITS = ("０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "߀߁߂߃߄߅߆߇߈߉")

whitespace = st.text(alphabet=" \t\n\r\u3000", max_size=3)
sns = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-", min_size=6, max_size=32)
tids = st.text(alphabet=ASCII_DIGITS, min_size=8, max_size=8)
identifier_like = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 -abcxyzABC\t\n", max_size=40),
    st.text(alphabet=ASCII_DIGITS, max_size=20),
)


@st.composite
def iccids(draw: st.DrawFn, prefixes: tuple[str, ...] = tuple(PREFIXES)) -> str:
    prefix = draw(st.sampled_from(prefixes))
    length = draw(st.sampled_from([19, 20]))
    body = draw(st.text(alphabet=ASCII_DIGITS, min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix)))
    payload = prefix + body
    return payload + luhn_check_digit(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
valid_iccids = st.builds(
    lambda prefix, body, length: (lambda p: p + luhn_check_digit(p))((prefix + body)[: length - 1]),
    st.one_of(st.sampled_from(CMCC_PREFIXES + CUCC_PREFIXES + CTCC_PREFIXES), st.just("89")),
    st.text(alphabet=ASCII_DIGITS, min_size=18, max_size=18),
    st.sampled_from([19, 20]),
)


# --- SN and TID -------------------------------------------------------------------------------


@PROPERTY
@given(sn=sns, before=whitespace, after=whitespace, data=st.data())
def test_an_sn_in_any_case_with_any_surrounding_whitespace_normalises_to_one_value(
    sn: str, before: str, after: str, data: st.DataObject
) -> None:
    variant = "".join(ch.lower() if data.draw(st.booleans()) else ch.upper() for ch in sn)
    normalised = normalize_sn(before + variant + after)
    assert normalised == sn.upper()
    assert normalize_sn(normalised) == normalised


@PROPERTY
@given(raw=st.text(alphabet="abcXYZ0189- ", min_size=0, max_size=40))
def test_a_normalised_sn_is_stable_when_normalised_again(raw: str) -> None:
    try:
        sn = normalize_sn(raw)
    except ValidationError:
        return
    assert normalize_sn(sn) == sn
    assert sn == sn.upper().strip()


@PROPERTY
@given(tid=tids, before=whitespace, after=whitespace)
def test_a_tid_of_eight_ascii_digits_is_accepted_trimmed_and_stays_the_same(tid: str, before: str, after: str) -> None:
    assert validate_tid(before + tid + after) == tid
    assert validate_tid(tid) == tid


@PROPERTY
@given(tid=tids, position=st.integers(min_value=0, max_value=7), script=st.sampled_from(OTHER_DIGITS))
def test_a_tid_with_one_digit_written_in_another_script_is_rejected(tid: str, position: int, script: str) -> None:
    # Two spellings of one TID would hold two claims on one terminal number.
    look_alike = tid[:position] + script[int(tid[position])] + tid[position + 1 :]
    with pytest.raises(ValidationError) as exc:
        validate_tid(look_alike)
    assert (exc.value.field, exc.value.code) == ("tid", "invalid_tid")


# --- Luhn -------------------------------------------------------------------------------------


@PROPERTY
@given(payload=st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=25), digit=st.sampled_from(ASCII_DIGITS))
def test_the_luhn_check_digit_is_the_only_last_digit_that_validates(payload: str, digit: str) -> None:
    assert is_luhn_valid(payload + digit) is (digit == luhn_check_digit(payload))


# --- ICCID ------------------------------------------------------------------------------------


@PROPERTY
@given(iccid=iccids(), data=st.data())
def test_an_iccid_printed_in_groups_normalises_to_its_digits_and_stays_the_same(
    iccid: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(min_value=1, max_value=len(iccid) - 1), max_size=6)))
    pieces = [iccid[a:b] for a, b in zip([0, *cuts], [*cuts, len(iccid)], strict=True)]
    gaps = [data.draw(st.text(alphabet=" \t\n\u3000", min_size=1, max_size=2)) for _ in pieces[1:]]
    grouped = pieces[0] + "".join(gap + piece for gap, piece in zip(gaps, pieces[1:], strict=True))
    assert validate_iccid(grouped) == iccid
    assert validate_iccid(validate_iccid(grouped)) == iccid


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
    typo = data.draw(st.sampled_from([d for d in ASCII_DIGITS if d != iccid[position]]))
    mistyped = iccid[:position] + typo + iccid[position + 1 :]
    with pytest.raises(ValidationError) as exc:
        validate_iccid(mistyped)
    assert exc.value.code == "iccid_checksum"


@PROPERTY
@given(iccid=iccids(), position=st.integers(min_value=0, max_value=19), data=st.data())
def test_any_single_digit_change_of_a_valid_iccid_is_rejected(iccid: str, position: int, data: st.DataObject) -> None:
    position %= len(iccid)
    typo = data.draw(st.sampled_from([d for d in ASCII_DIGITS if d != iccid[position]]))
    changed = iccid[:position] + typo + iccid[position + 1 :]
    with pytest.raises(ValidationError) as exc:
        validate_iccid(changed)
    # A change inside "89" breaks the telecom prefix; anywhere else only the check digit can tell.
    assert exc.value.field == "iccid"
    assert exc.value.code == ("invalid_iccid" if position < 2 else "iccid_checksum")


@PROPERTY
@given(iccid=iccids(), position=st.integers(min_value=2, max_value=18))
def test_swapping_two_neighbouring_digits_of_an_iccid_is_caught_unless_they_are_0_and_9(
    iccid: str, position: int
) -> None:
    # Luhn's one blind spot among adjacent transpositions is 09 <-> 90.
    position = min(position, len(iccid) - 2)
    a, b = iccid[position], iccid[position + 1]
    swapped = iccid[:position] + b + a + iccid[position + 2 :]
    if a == b or {a, b} == {"0", "9"}:
        return
    with pytest.raises(ValidationError) as exc:
        validate_iccid(swapped)
    assert exc.value.code == "iccid_checksum"


# --- carrier ----------------------------------------------------------------------------------


@PROPERTY
@given(iccid=iccids(), data=st.data())
def test_the_carrier_follows_the_iccid_prefix_whatever_alias_states_it(iccid: str, data: st.DataObject) -> None:
    implied = PREFIXES[iccid[:6]]
    assert carrier_from_iccid(iccid) is implied
    assert resolve_carrier(None, iccid) is implied
    alias = data.draw(st.sampled_from(ALIASES[implied]))
    spelled = data.draw(st.sampled_from([alias, alias.lower(), alias.upper(), f"  {alias} "]))
    assert resolve_carrier(spelled, iccid) is implied
    other = data.draw(st.sampled_from([c for c in ALIASES if c is not implied]))
    with pytest.raises(ValidationError) as exc:
        resolve_carrier(data.draw(st.sampled_from(ALIASES[other])), iccid)
    assert (exc.value.field, exc.value.code) == ("carrier", "carrier_mismatch")


# --- anything at all --------------------------------------------------------------------------


@PROPERTY
@given(raw=st.one_of(identifier_like, json_values))
def test_any_text_or_json_value_given_as_an_identifier_is_normalised_or_refused_with_a_validation_error(
    raw: Any,
) -> None:
    for validate, field in ((normalize_sn, "sn"), (validate_tid, "tid"), (validate_iccid, "iccid")):
        try:
            value = validate(raw)
        except ValidationError as exc:
            assert exc.field == field and exc.code and exc.message
        else:
            assert isinstance(raw, str) and value.isascii() and value == value.strip() and value == validate(value)


@PROPERTY
@given(stated=st.one_of(st.none(), st.text(max_size=20), json_values), iccid=st.one_of(identifier_like, json_values))
def test_any_text_or_json_values_given_as_carrier_and_iccid_resolve_or_are_refused_with_a_validation_error(
    stated: Any, iccid: Any
) -> None:
    try:
        carrier = resolve_carrier(stated, iccid)
    except ValidationError as exc:
        assert exc.field == "carrier" and exc.code in {"invalid_carrier", "carrier_mismatch"}
    else:
        assert isinstance(carrier, Carrier)
