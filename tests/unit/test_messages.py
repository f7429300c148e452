"""Message texts (every kind, both languages, both channels), money, and the SMS daytime window."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simrenew.domain.messages import (
    KINDS,
    LANGUAGES,
    Message,
    format_fen,
    next_sms_window,
    render,
    sms_allowed_at,
)

TERMINAL_KINDS = [kind for kind in KINDS if kind != "digest"]
# Kinds about the term, which must name its (new) expiry date; quota alerts are about usage.
DATED_KINDS = [
    *("reminder", "expires_today", "grace_started", "suspended", "receipt"),
    *("time_transfer_out", "time_transfer_in", "refund"),
]
PAY_URL = "https://pay.simrenew.example/pay/PAX-A920-0001"
# 11+ digits in a row would be a phone number, 19-20 an ICCID: neither may reach an SMS.
LONG_DIGITS = re.compile(r"\d{11,}")
SHANGHAI = "Asia/Shanghai"


# --- builders -------------------------------------------------------------------------------------


def terminal_ctx(**overrides: Any) -> dict[str, Any]:
    """A context valid for every terminal kind (each kind ignores the keys it does not use)."""
    ctx: dict[str, Any] = {
        "sn": "PAX-A920-0001",
        "tid": "12345678",
        "expires_on": "2027-01-31",
        "agent_name": "深圳示例支付代理",
        "merchant_name": "张记便利店",
        "pay_url": PAY_URL,
        "days_left": 7,
        "grace_end": "2027-02-07",
        "amount_fen": 1234,
        "data_used_mb": 820,
        "data_quota_mb": 1024,
        "months": 3,
        "other_sn": "PAX-A920-0002",
    }
    ctx.update(overrides)
    return ctx


def digest_ctx(**overrides: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "agent_name": "深圳示例支付代理",
        "date": "2027-01-24",
        "expiring": [
            {"sn": "PAX-A920-0001", "merchant_name": "张记便利店", "expires_on": "2027-01-25", "pay_url": PAY_URL},
            {
                "sn": "SUNMI-P2-0002",
                "merchant_name": "",
                "expires_on": "2027-01-31",
                "pay_url": "https://pay.simrenew.example/pay/SUNMI-P2-0002",
            },
        ],
        "suspended": [{"sn": "NEWLAND-N910-0003", "merchant_name": "李记面馆"}],
    }
    ctx.update(overrides)
    return ctx


def utc(local: str, tz: str) -> datetime:
    """The UTC instant of a wall-clock time ("2025-06-01 08:59") in `tz`."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


# --- every kind, both languages -------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TERMINAL_KINDS)
def test_given_a_terminal_kind_when_rendered_then_it_carries_the_sn_tid_agent_and_pay_link(
    kind: str, language: str, channel: str
) -> None:
    subject, body = render(kind, language, terminal_ctx(), channel)

    assert PAY_URL in body
    assert "PAX-A920-0001" in body
    assert "12345678" in body
    assert "深圳示例支付代理" in body
    if channel == "sms":
        assert subject is None
    else:
        assert subject is not None and "PAX-A920-0001" in subject
        assert "\n" not in subject


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", DATED_KINDS)
def test_given_a_term_kind_when_rendered_then_the_expiry_date_is_in_it(kind: str, language: str, channel: str) -> None:
    _, body = render(kind, language, terminal_ctx(), channel)

    assert "2027-01-31" in body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TERMINAL_KINDS)
def test_given_the_chinese_or_english_text_when_rendered_then_the_language_is_the_one_asked(
    kind: str, language: str
) -> None:
    _, body = render(kind, language, terminal_ctx(agent_name="Acme Payments"), "sms")

    has_chinese = re.search(r"[\u4e00-\u9fff]", body) is not None
    assert has_chinese is (language == "zh-CN")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", TERMINAL_KINDS)
def test_given_any_kind_when_rendered_for_sms_then_no_iccid_or_phone_sized_digit_run_appears(
    kind: str, language: str
) -> None:
    _, body = render(kind, language, terminal_ctx(), "sms")

    assert LONG_DIGITS.search(body) is None


@pytest.mark.parametrize("kind", TERMINAL_KINDS)
def test_given_a_realistic_terminal_when_rendered_as_chinese_sms_then_it_fits_140_characters(kind: str) -> None:
    ctx = terminal_ctx(sn="PAX-A920-00012345", pay_url="https://pay.simrenew.cn/pay/PAX-A920-00012345")

    _, body = render(kind, "zh-CN", ctx, "sms")

    assert len(body) <= 140, body


@pytest.mark.parametrize("language", LANGUAGES)
def test_given_no_tid_when_rendered_then_no_empty_tid_label_is_left(language: str) -> None:
    for tid in (None, "", "  "):
        _, sms = render("reminder", language, terminal_ctx(tid=tid), "sms")
        _, email = render("reminder", language, terminal_ctx(tid=tid), "email")

        assert "TID" not in sms
        assert "TID" not in email


@pytest.mark.parametrize(("language", "greeting"), [("zh-CN", "张记便利店，您好："), ("en", "Dear 张记便利店,")])
def test_given_a_merchant_name_when_rendered_as_email_then_the_merchant_is_greeted(
    language: str, greeting: str
) -> None:
    _, body = render("reminder", language, terminal_ctx(), "email")

    assert body.startswith(greeting)


@pytest.mark.parametrize(("language", "greeting"), [("zh-CN", "您好："), ("en", "Hello,")])
def test_given_no_merchant_name_when_rendered_as_email_then_a_plain_greeting_is_used(
    language: str, greeting: str
) -> None:
    _, body = render("reminder", language, terminal_ctx(merchant_name=None), "email")

    assert body.startswith(greeting)


def test_given_a_reminder_when_rendered_then_the_days_left_are_stated() -> None:
    assert "剩7天" in render("reminder", "zh-CN", terminal_ctx(days_left=7), "sms")[1]
    assert "1 day left" in render("reminder", "en", terminal_ctx(days_left=1), "sms")[1]
    assert "30 days left" in render("reminder", "en", terminal_ctx(days_left=30), "sms")[1]


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_given_grace_when_rendered_then_the_grace_end_is_stated(language: str, channel: str) -> None:
    _, body = render("grace_started", language, terminal_ctx(grace_end="2027-02-07"), channel)

    assert "2027-02-07" in body


@pytest.mark.parametrize(("language", "money"), [("zh-CN", "¥12.34"), ("en", "CNY 12.34")])
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_given_a_receipt_when_rendered_then_the_amount_is_in_yuan(language: str, money: str, channel: str) -> None:
    _, body = render("receipt", language, terminal_ctx(amount_fen=1234, expires_on="2028-01-31"), channel)

    assert money in body
    assert "2028-01-31" in body


@pytest.mark.parametrize(("kind", "used", "percent"), [("quota_80", 820, "80%"), ("quota_100", 1030, "100%")])
@pytest.mark.parametrize("language", LANGUAGES)
def test_given_a_quota_alert_when_rendered_as_email_then_usage_and_quota_are_stated(
    kind: str, used: int, percent: str, language: str
) -> None:
    _, body = render(kind, language, terminal_ctx(data_used_mb=used, data_quota_mb=1024), "email")

    assert f"{used} MB / 1024 MB" in body
    assert percent in body


def test_given_a_quota_alert_without_an_expiry_when_rendered_then_it_still_renders() -> None:
    ctx = terminal_ctx()
    del ctx["expires_on"]

    _, body = render("quota_80", "zh-CN", ctx, "sms")

    assert PAY_URL in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_given_dates_as_objects_or_as_json_text_when_rendered_then_the_texts_are_the_same(language: str) -> None:
    # Held SMS keep their context as JSON until the window opens: dates come back as strings.
    as_dates = terminal_ctx(expires_on=date(2027, 1, 31), grace_end=date(2027, 2, 7))
    as_text = json.loads(json.dumps(as_dates, default=str))

    for kind in TERMINAL_KINDS:
        assert render(kind, language, as_dates, "email") == render(kind, language, as_text, "email")


# --- digest ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_given_an_agent_digest_when_rendered_then_every_terminal_is_listed_with_its_pay_link(language: str) -> None:
    subject, body = render("digest", language, digest_ctx(), "email")

    assert subject is not None and "2027-01-24" in subject and "深圳示例支付代理" in subject
    assert "PAX-A920-0001" in body and PAY_URL in body and "2027-01-25" in body and "张记便利店" in body
    assert "SUNMI-P2-0002" in body and "https://pay.simrenew.example/pay/SUNMI-P2-0002" in body
    assert "NEWLAND-N910-0003" in body and "李记面馆" in body
    assert "（无）" not in body and "(none)" not in body


@pytest.mark.parametrize(("language", "empty"), [("zh-CN", "（无）"), ("en", "(none)")])
def test_given_an_empty_digest_when_rendered_then_both_sections_say_so(language: str, empty: str) -> None:
    _, body = render("digest", language, digest_ctx(expiring=[], suspended=[]), "email")

    assert body.count(empty) == 2


@pytest.mark.parametrize(("language", "heading"), [("zh-CN", "已停机（1 台）"), ("en", "Suspended (1)")])
def test_given_only_suspensions_when_rendered_then_the_expiring_section_says_none(language: str, heading: str) -> None:
    _, body = render("digest", language, digest_ctx(expiring=[]), "email")

    assert heading in body
    assert body.count("（无）" if language == "zh-CN" else "(none)") == 1


def test_given_a_digest_when_asked_for_sms_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="email only"):
        render("digest", "zh-CN", digest_ctx(), "sms")


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "language", "channel"),
    [("renewal", "zh-CN", "sms"), ("reminder", "fr", "sms"), ("reminder", "zh", "sms"), ("reminder", "en", "fax")],
)
def test_given_an_unknown_kind_language_or_channel_when_rendered_then_value_error(
    kind: str, language: str, channel: str
) -> None:
    with pytest.raises(ValueError, match="unknown"):
        render(kind, language, terminal_ctx(), channel)


@pytest.mark.parametrize("missing", ["sn", "pay_url", "agent_name", "days_left"])
def test_given_a_context_missing_a_key_when_rendered_then_key_error(missing: str) -> None:
    ctx = terminal_ctx()
    del ctx[missing]

    with pytest.raises(KeyError):
        render("reminder", "zh-CN", ctx, "sms")


def test_given_a_malformed_expiry_when_rendered_then_value_error() -> None:
    with pytest.raises(ValueError):
        render("reminder", "en", terminal_ctx(expires_on="2027-01-31#quota_80"), "sms")


def test_given_a_message_when_changed_then_it_refuses_because_it_is_frozen() -> None:
    message = Message("sms", "+8613812345678", None, "body", "reminder", "zh-CN", "t_1", "SN1", "k1")

    with pytest.raises(dataclasses.FrozenInstanceError):
        message.body = "other"  # type: ignore[misc]


# --- money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "zh", "en"),
    [
        (1234, "¥12.34", "CNY 12.34"),
        (5, "¥0.05", "CNY 0.05"),
        (0, "¥0.00", "CNY 0.00"),
        (100, "¥1.00", "CNY 1.00"),
        (123456789, "¥1234567.89", "CNY 1,234,567.89"),
        (-250, "-¥2.50", "-CNY 2.50"),
    ],
)
def test_given_fen_when_formatted_then_yuan_with_two_decimals(fen: int, zh: str, en: str) -> None:
    assert format_fen(fen, "zh-CN") == zh
    assert format_fen(fen, "en") == en


@pytest.mark.parametrize("bad", [12.34, "1234", True, None])
def test_given_money_that_is_not_integer_fen_when_formatted_then_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        format_fen(bad, "zh-CN")


# --- SMS daytime window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "tz", "allowed"),
    [
        ("2025-06-01 08:59", SHANGHAI, False),
        ("2025-06-01 08:59:59.999999", SHANGHAI, False),
        ("2025-06-01 09:00", SHANGHAI, True),
        ("2025-06-01 12:00", SHANGHAI, True),
        ("2025-06-01 20:59", SHANGHAI, True),
        ("2025-06-01 20:59:59", SHANGHAI, True),
        ("2025-06-01 21:00", SHANGHAI, False),
        ("2025-06-01 00:00", SHANGHAI, False),
        ("2025-06-01 08:59", "Asia/Urumqi", False),
        ("2025-06-01 09:00", "Asia/Urumqi", True),
        ("2025-06-01 20:59", "Asia/Urumqi", True),
        ("2025-06-01 21:00", "Asia/Urumqi", False),
        ("2025-01-15 08:59", "America/Los_Angeles", False),  # PST, UTC-8
        ("2025-01-15 09:00", "America/Los_Angeles", True),
        ("2025-07-15 20:59", "America/Los_Angeles", True),  # PDT, UTC-7
        ("2025-07-15 21:00", "America/Los_Angeles", False),
    ],
)
def test_given_a_local_time_when_checked_then_sms_is_allowed_only_from_0900_to_before_2100(
    local: str, tz: str, allowed: bool
) -> None:
    assert sms_allowed_at(utc(local, tz), tz) is allowed


def test_given_the_same_instant_when_checked_in_two_timezones_then_the_answers_differ() -> None:
    # 01:30 UTC is 09:30 in Shanghai but still 07:30 in Urumqi: the tenant's zone decides.
    now = datetime(2025, 6, 1, 1, 30, tzinfo=UTC)

    assert sms_allowed_at(now, SHANGHAI) is True
    assert sms_allowed_at(now, "Asia/Urumqi") is False


@pytest.mark.parametrize(
    ("local", "tz", "expected_utc"),
    [
        # Inside the window: now.
        ("2025-06-01 09:00", SHANGHAI, "2025-06-01T01:00:00+00:00"),
        ("2025-06-01 20:59", SHANGHAI, "2025-06-01T12:59:00+00:00"),
        # Early morning: 09:00 the same local day.
        ("2025-06-01 08:59", SHANGHAI, "2025-06-01T01:00:00+00:00"),
        ("2025-06-01 00:00", SHANGHAI, "2025-06-01T01:00:00+00:00"),
        # Evening: 09:00 the next local day, across midnight.
        ("2025-06-01 21:00", SHANGHAI, "2025-06-02T01:00:00+00:00"),
        ("2025-06-01 23:59", SHANGHAI, "2025-06-02T01:00:00+00:00"),
        ("2025-12-31 22:30", SHANGHAI, "2026-01-01T01:00:00+00:00"),  # across the year
        ("2024-02-28 21:00", SHANGHAI, "2024-02-29T01:00:00+00:00"),  # leap day
        ("2025-06-01 21:00", "Asia/Urumqi", "2025-06-02T03:00:00+00:00"),
        ("2025-06-01 06:00", "Asia/Urumqi", "2025-06-01T03:00:00+00:00"),
        # DST: the night of the change is 23 or 25 hours long; 09:00 local still wins.
        ("2025-03-08 22:00", "America/Los_Angeles", "2025-03-09T16:00:00+00:00"),  # PST -> PDT
        ("2025-11-01 22:00", "America/Los_Angeles", "2025-11-02T17:00:00+00:00"),  # PDT -> PST
    ],
)
def test_given_a_local_time_when_the_next_window_is_asked_then_it_is_now_or_the_next_0900_local(
    local: str, tz: str, expected_utc: str
) -> None:
    window = next_sms_window(utc(local, tz), tz)

    assert window == datetime.fromisoformat(expected_utc)
    assert window.utcoffset() == timedelta(0)


def test_given_an_instant_in_another_offset_when_inside_the_window_then_it_comes_back_as_utc() -> None:
    now = datetime.fromisoformat("2025-06-01T10:00:00+08:00")

    window = next_sms_window(now, SHANGHAI)

    assert window == now and window.tzinfo == UTC


def test_given_a_naive_datetime_when_checked_then_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sms_allowed_at(datetime(2025, 6, 1, 10, 0), SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_sms_window(datetime(2025, 6, 1, 10, 0), SHANGHAI)


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    tz=st.sampled_from([SHANGHAI, "Asia/Urumqi", "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe"]),
)
def test_given_any_instant_when_the_next_window_is_asked_then_it_is_allowed_and_within_a_day(
    now: datetime, tz: str
) -> None:
    window = next_sms_window(now, tz)

    assert now <= window <= now + timedelta(hours=13)
    assert sms_allowed_at(window, tz)
    assert (window == now) is sms_allowed_at(now, tz)
