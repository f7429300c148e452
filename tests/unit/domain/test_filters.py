"""The filters of each list are one value: what a list, its CSV and an asynchronous export parse
from a query string or a JSON `filters` object is the same, and goes back to a query unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from simrenew.domain.filters import MerchantFilters, OrderFilters, TerminalFilters, normalize_text
from simrenew.errors import ValidationError


def test_terminal_filters_survive_a_round_trip_through_query_parameters() -> None:
    f = TerminalFilters.parse(
        {
            "q": " 华强北 ",
            "status": "grace",
            "merchant_id": "m_1",
            "expires_before": "2027-01-05",
            "sort": "-expires_on",
        }
    )
    assert f == TerminalFilters(
        q="华强北", status="grace", merchant_id="m_1", expires_before=date(2027, 1, 5), sort="-expires_on"
    )
    assert TerminalFilters.parse(f.to_query()) == f


def test_paging_parameters_are_not_filters_and_unknown_filters_are_refused() -> None:
    assert TerminalFilters.parse({"limit": "5", "cursor": "x"}) == TerminalFilters()
    with pytest.raises(ValidationError) as err:
        TerminalFilters.parse({"colour": "red"})
    assert err.value.field == "colour"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"sort": "price"}, "sort"),
        ({"status": 3}, "status"),
        ({"q": "x" * 65}, "q"),
        ({"expires_before": "1/2"}, "expires_before"),
    ],
)
def test_a_bad_terminal_filter_names_its_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        TerminalFilters.parse(raw)
    assert err.value.field == field


def test_order_filters_normalise_the_sn_and_check_the_range() -> None:
    f = OrderFilters.parse({"sn": " sn-000001 ", "from": "2027-01-01", "to": "2027-01-31", "channel": "public"})
    assert (f.sn, f.from_day, f.to_day, f.channel) == ("SN-000001", date(2027, 1, 1), date(2027, 1, 31), "public")
    assert OrderFilters.parse(f.to_query()) == f
    with pytest.raises(ValidationError) as err:
        OrderFilters.parse({"from": "2027-02-02", "to": "2027-02-01"})
    assert err.value.field == "to"


def test_merchant_filters_round_trip() -> None:
    f = MerchantFilters.parse({"q": "Blue", "sort": "-name"})
    assert MerchantFilters.parse(f.to_query()) == f


def test_search_text_ignores_width_case_and_spaces() -> None:
    assert normalize_text("ＳＮ－１２３ ab") == normalize_text("sn-123AB") == "sn-123ab"
    assert normalize_text("138 1234 5678") == "13812345678"
