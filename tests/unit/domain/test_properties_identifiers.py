"""Properties of the identifier rules (docs/domain.md, identifier rules) over generated input, beyond the examples
and properties of test_domain_identifiers.py: spelling variants of one identifier normalise to one value,
digits of other scripts never pass, the Luhn digit catches the typos it is meant to catch, the carrier
follows the ICCID prefix, and no input of any JSON type raises anything but the domain ValidationError."""

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

# Deterministic for CI (no example database, no random seed); 200 examples a property keep the file at a few seconds.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

ASCII_DIGITS = "0123456789"
PREFIXES: dict[str, Carrier] = {
    **dict.fromkeys(("898600", "898602", "898604", "898607", "898608"), Carrier.CMCC),
    **dict.fromkeys(("898601", "898606", "898609"), Carrier.CUCC),
    **dict.fromkeys(("898603", "898611"), Carrier.CTCC),
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
@given(raw=json_values)
def test_any_json_value_given_as_an_identifier_is_normalised_or_refused_with_a_validation_error(raw: Any) -> None:
    for validate, field in ((normalize_sn, "sn"), (validate_tid, "tid"), (validate_iccid, "iccid")):
        try:
            value = validate(raw)
        except ValidationError as exc:
            assert exc.field == field and exc.code and exc.message
        else:
            assert isinstance(raw, str) and value.isascii() and value == validate(value)


@PROPERTY
@given(stated=json_values, iccid=json_values)
def test_any_json_values_given_as_carrier_and_iccid_resolve_or_are_refused_with_a_validation_error(
    stated: Any, iccid: Any
) -> None:
    try:
        carrier = resolve_carrier(stated, iccid)
    except ValidationError as exc:
        assert exc.field == "carrier" and exc.code in {"invalid_carrier", "carrier_mismatch"}
    else:
        assert isinstance(carrier, Carrier)
