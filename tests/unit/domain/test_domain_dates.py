"""Month arithmetic, renewal basis and new expiry, strict dates, whole months for refunds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.dates import (
    add_months,
    new_expiry,
    parse_date,
    renewal_basis,
    whole_months_between,
)
from simrenew.errors import ValidationError

PROPERTY = settings(max_examples=200, deadline=None)
D = date.fromisoformat


# --- add_months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),  # leap year
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-10-31", 1, "2024-11-30"),
        ("2024-01-15", 1, "2024-02-15"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-08-31", 36, "2027-08-31"),
        ("2024-05-15", 0, "2024-05-15"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2025-01-15", -1, "2024-12-15"),
        ("2025-03-31", -13, "2024-02-29"),
    ],
)
def test_adding_months_keeps_the_day_or_clamps_it_to_month_end(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


@pytest.mark.parametrize(("start", "months"), [("9999-12-01", 1), ("0001-01-31", -1)])
def test_adding_months_past_the_supported_years_is_a_value_error(start: str, months: int) -> None:
    with pytest.raises(ValueError, match="outside the supported years"):
        add_months(D(start), months)


# --- renewal basis and new expiry -------------------------------------------------------------

PAID = D("2025-03-10")


@pytest.mark.parametrize(
    ("current", "basis", "expected"),
    [
        (D("2025-04-30"), "stack", D("2025-04-30")),  # renewed early: the remaining days are kept
        (PAID, "stack", PAID),  # expiring today still counts as current
        (D("2025-03-09"), "stack", PAID),  # already expired: starts from the payment
        (None, "stack", PAID),  # never had a term
        (D("2025-04-30"), "from_payment", PAID),
        (None, "from_payment", PAID),
    ],
)
def test_renewal_basis_is_the_current_expiry_when_not_past_else_the_payment_date(
    current: date | None, basis: str, expected: date
) -> None:
    assert renewal_basis(current, PAID, basis) == expected


@pytest.mark.parametrize("basis", ["", "STACK", "from_expiry"])
def test_unknown_renewal_basis_is_a_value_error(basis: str) -> None:
    with pytest.raises(ValueError, match="renewal basis"):
        renewal_basis(None, PAID, basis)


@pytest.mark.parametrize(
    ("current", "paid", "term", "basis", "expected"),
    [
        ("2025-01-31", "2025-01-20", 1, "stack", "2025-02-28"),
        ("2025-01-31", "2025-01-20", 12, "stack", "2026-01-31"),
        ("2025-01-31", "2025-01-20", 3, "from_payment", "2025-04-20"),
        ("2024-12-01", "2025-01-20", 1, "stack", "2025-02-20"),
        (None, "2025-01-31", 1, "stack", "2025-02-28"),
    ],
)
def test_new_expiry_is_the_basis_plus_the_plan_term(
    current: str | None, paid: str, term: int, basis: str, expected: str
) -> None:
    assert new_expiry(D(current) if current else None, D(paid), term, basis) == D(expected)


@pytest.mark.parametrize("term", [0, -1])
def test_new_expiry_for_a_term_under_one_month_is_a_value_error(term: int) -> None:
    with pytest.raises(ValueError, match="at least 1 month"):
        new_expiry(None, PAID, term, "stack")


# --- parse_date -------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("2025-01-31", D("2025-01-31")), (" 2024-02-29 ", D("2024-02-29"))])
def test_date_written_as_yyyy_mm_dd_is_parsed(raw: str, expected: date) -> None:
    assert parse_date(raw, "expires_on") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "2025-1-31",
        "20250131",
        "2025/01/31",
        "31/01/2025",
        "2025-02-30",
        "2025-13-01",
        "2025-01-31T00:00:00",
        "2025-W05-1",
        "２０２５-01-31",
        None,
        20250131,
        D("2025-01-31"),
    ],
)
def test_anything_but_a_real_yyyy_mm_dd_date_is_rejected_naming_the_field(raw: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_date(raw, "expires_on")
    assert (exc.value.field, exc.value.code) == ("expires_on", "invalid_date")


# --- whole months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2025-01-15", "2025-01-15", 0),
        ("2025-01-15", "2024-12-01", 0),  # end before start
        ("2025-01-15", "2025-02-14", 0),
        ("2025-01-15", "2025-02-15", 1),
        ("2025-01-31", "2025-02-28", 1),  # clamped month end counts as a whole month
        ("2025-01-31", "2025-03-30", 1),
        ("2025-01-31", "2025-03-31", 2),
        ("2025-01-15", "2026-01-14", 11),
        ("2025-01-15", "2026-01-15", 12),
    ],
)
def test_whole_months_between_counts_only_completed_calendar_months(start: str, end: str, months: int) -> None:
    assert whole_months_between(D(start), D(end)) == months


# --- properties -------------------------------------------------------------------------------

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
month_counts = st.integers(min_value=-120, max_value=120)


@PROPERTY
@given(d=dates, months=month_counts)
def test_adding_months_lands_in_the_right_month_on_the_same_or_an_earlier_day(d: date, months: int) -> None:
    result = add_months(d, months)
    assert result.year * 12 + result.month == d.year * 12 + d.month + months
    assert result.day <= d.day
    if result.day < d.day:
        # Clamped only because the month is too short: the result is its last day.
        assert (result + timedelta(days=1)).day == 1


@PROPERTY
@given(d=dates, months=month_counts)
def test_adding_then_removing_months_never_goes_past_the_start(d: date, months: int) -> None:
    assert add_months(add_months(d, months), -months) <= d


@PROPERTY
@given(
    current=st.one_of(st.none(), dates),
    paid=dates,
    term=st.integers(min_value=1, max_value=36),
)
def test_stacking_a_renewal_never_loses_days(current: date | None, paid: date, term: int) -> None:
    expiry = new_expiry(current, paid, term, "stack")
    assert expiry >= add_months(paid, term)  # never worse than renewing from the payment date
    if current is not None and current >= paid:
        assert expiry > current
        assert whole_months_between(current, expiry) == term  # the whole term comes on top


@PROPERTY
@given(start=dates, end=dates)
def test_whole_months_between_is_the_largest_month_count_that_fits(start: date, end: date) -> None:
    months = whole_months_between(start, end)
    assert months >= 0
    if end > start:
        assert add_months(start, months) <= end < add_months(start, months + 1)
    else:
        assert months == 0


@PROPERTY
@given(d=st.dates())
def test_every_date_round_trips_through_its_iso_text(d: date) -> None:
    assert parse_date(d.isoformat(), "expires_on") == d
