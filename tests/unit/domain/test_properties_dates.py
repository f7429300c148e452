"""Properties of renewal-date arithmetic (docs/domain.md, renewal rules), beyond the examples and properties of
test_domain_dates.py: month-end clamping, what stacking several renewals really gives, an expiry that never
moves backwards under the "stack" basis, the renewed terminal, and refunds that put the expiry back.

The rules as the code has them (domain/dates.py, domain/orders.py):
- new expiry = basis + term in calendar months, clamped at month end; basis "stack" is the current expiry when
  it is the payment day or later, else the payment day; "from_payment" is always the payment day;
- so n early renewals of k months are NOT one renewal of n*k months from the same anchor: each clamp is kept,
  the day drifts down to the shortest month passed on the way (Jan 31 +1 +1 = Mar 28, Jan 31 +2 = Mar 31);
  they agree whenever the anchor's day is 28 or less;
- a full refund before the renewed term starts restores the expiry the renewal replaced exactly.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.dates import add_months, new_expiry, whole_months_between
from simrenew.domain.fleet import MAX_EXPIRY, MIN_EXPIRY, Plan, Terminal, TerminalStatus
from simrenew.domain.orders import OrderLine, expiry_after_line_refund, line_refund, renewed_terminal

# Deterministic for CI (no example database, no random seed); each property runs in well under a second.
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

expiries = st.dates(min_value=MIN_EXPIRY, max_value=MAX_EXPIRY)  # the range expires_on is validated to
terms = st.integers(min_value=1, max_value=36)  # a plan's term_months
bases = st.sampled_from(["stack", "from_payment"])


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def line_for(before: date, after: date, term: int, price: int = 12000, fee: int = 300) -> OrderLine:
    """An order line as fulfilment leaves it: the expiry it replaced and the one it set."""
    line = OrderLine("SN-000001", "p_1", "plan", term, 1024, price, fee)
    line.expires_before, line.expires_after = before.isoformat(), after.isoformat()
    return line


def terminal(expires_on: date, status: TerminalStatus, used: int = 700) -> Terminal:
    return Terminal("t_1", "SN-000001", "12345678", "89860012345678901234", "CMCC", "PAX", expires_on, status,
                    plan_id="p_old", data_quota_mb=500, data_used_mb=used)  # fmt: skip


# --- month-end clamping -----------------------------------------------------------------------


@PROPERTY
@given(year=st.integers(min_value=1, max_value=9998))
def test_january_31_plus_one_month_is_the_last_day_of_february_in_leap_and_common_years(year: int) -> None:
    assert add_months(date(year, 1, 31), 1) == date(year, 2, 29 if calendar.isleap(year) else 28)


@PROPERTY
@given(start=expiries, months=terms)
def test_a_month_end_expiry_renewed_into_a_shorter_month_ends_on_that_months_last_day(start: date, months: int) -> None:
    start = start.replace(day=last_day(start.year, start.month))
    result = add_months(start, months)
    if last_day(result.year, result.month) <= start.day:
        assert result.day == last_day(result.year, result.month)
    else:
        assert result.day == start.day


# --- stacking -------------------------------------------------------------------------------


def test_two_one_month_renewals_from_january_31_end_on_march_28_not_march_31() -> None:
    first = new_expiry(date(2025, 1, 31), date(2025, 1, 20), 1, "stack")
    second = new_expiry(first, date(2025, 2, 20), 1, "stack")
    assert (first, second) == (date(2025, 2, 28), date(2025, 3, 28))
    assert new_expiry(date(2025, 1, 31), date(2025, 1, 20), 2, "stack") == date(2025, 3, 31)


@PROPERTY
@given(
    anchor=st.dates(min_value=MIN_EXPIRY, max_value=date(2090, 12, 31)),
    term=st.integers(min_value=1, max_value=12),
    count=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_stacked_early_renewals_land_in_the_month_of_one_long_renewal_never_later_in_it(
    anchor: date, term: int, count: int, data: st.DataObject
) -> None:
    expiry = anchor
    for _ in range(count):
        # Each renewal is paid on or before the expiry it extends (renewing early).
        paid = expiry - timedelta(days=data.draw(st.integers(min_value=0, max_value=60)))
        expiry = new_expiry(expiry, paid, term, "stack")
    at_once = add_months(anchor, count * term)
    assert month_index(expiry) == month_index(at_once)
    assert expiry.day <= at_once.day
    if anchor.day <= 28:
        assert expiry == at_once  # no month is shorter than 28 days: nothing to clamp
    else:
        assert expiry.day >= 28  # the drift stops at the shortest month's last day


# --- the expiry never moves backwards -----------------------------------------------------------


@PROPERTY
@given(current=st.one_of(st.none(), expiries), paid=expiries, term=terms)
def test_a_stacked_renewal_ends_after_both_the_current_expiry_and_the_payment_day(
    current: date | None, paid: date, term: int
) -> None:
    expiry = new_expiry(current, paid, term, "stack")
    assert expiry > paid
    if current is not None:
        assert expiry > current


@PROPERTY
@given(current=expiries, paid=expiries, term=terms)
def test_from_payment_renews_from_the_payment_day_even_when_that_shortens_a_paid_up_expiry(
    current: date, paid: date, term: int
) -> None:
    # The rule as written (docs/domain.md: the tenant setting may force "from_payment"): days left on the
    # current term are not carried over, so an early renewal for a short plan can end before the old expiry.
    assert new_expiry(current, paid, term, "from_payment") == add_months(paid, term) > paid


@PROPERTY
@given(
    current=expiries,
    today=expiries,
    term=terms,
    quota=st.integers(min_value=0, max_value=10_000_000),
    status=st.sampled_from([s for s in TerminalStatus if s is not TerminalStatus.DEACTIVATED]),
    basis=bases,
)
def test_a_renewed_terminal_gets_the_new_expiry_a_fresh_quota_and_works_again(
    current: date, today: date, term: int, quota: int, status: TerminalStatus, basis: str
) -> None:
    before = terminal(current, status)
    after = renewed_terminal(before, today, Plan("p_new", "t_1", "Yearly", term, quota, 100), basis)
    assert after.expires_on == new_expiry(current, today, term, basis)
    assert (after.data_quota_mb, after.data_used_mb, after.plan_id) == (quota, 0, "p_new")
    reactivated = status in (TerminalStatus.GRACE, TerminalStatus.SUSPENDED)
    assert after.status is (TerminalStatus.ACTIVE if reactivated else status)
    assert (after.sn, after.tid, after.iccid, after.tenant_id) == (before.sn, before.tid, before.iccid, "t_1")
    if basis == "stack":
        assert after.expires_on > current


# --- refunds ----------------------------------------------------------------------------------


@PROPERTY
@given(current=expiries, term=terms, basis=bases, data=st.data())
def test_a_full_refund_before_the_renewed_term_starts_restores_the_old_expiry_exactly(
    current: date, term: int, basis: str, data: st.DataObject
) -> None:
    paid = current - timedelta(days=data.draw(st.integers(min_value=1, max_value=400)))
    renewed = new_expiry(current, paid, term, basis)
    line = line_for(current, renewed, term)
    today = data.draw(st.dates(min_value=paid, max_value=current - timedelta(days=1)))

    refund = line_refund(line, today)
    assert (refund.amount_fen, refund.months) == (line.total_fen, term)
    assert expiry_after_line_refund(line, renewed, today, refund.months) == current


@PROPERTY
@given(current=expiries, term=terms, data=st.data())
def test_a_refund_once_the_term_started_returns_unused_whole_months_and_moves_back_by_them(
    current: date, term: int, data: st.DataObject
) -> None:
    # The terminal had lapsed: the renewal ran from the payment day, which is the start of the term.
    paid = current + timedelta(days=data.draw(st.integers(min_value=1, max_value=90)))
    renewed = new_expiry(current, paid, term, "stack")
    line = line_for(current, renewed, term)
    today = data.draw(st.dates(min_value=paid, max_value=renewed + timedelta(days=40)))

    refund = line_refund(line, today)
    assert refund.months == min(whole_months_between(today, renewed), term)
    assert 0 <= refund.amount_fen == line.price_fen * refund.months // term <= line.price_fen  # never the fee
    assert expiry_after_line_refund(line, renewed, today, refund.months) == add_months(renewed, -refund.months)
