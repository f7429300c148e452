"""The carrier adapters against the platforms' documented request and response shapes
(tests/support/carrier_fixtures.py): what they send, what they make of the answers, how they
retry, and which typed error each failure becomes."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest

from simrenew.adapters.carrier.control_center import ControlCenter
from simrenew.adapters.carrier.onelink import OneLink
from simrenew.clock import FixedClock
from simrenew.domain.carrier import (
    CarrierAuthFailed,
    CarrierRejected,
    CarrierThrottled,
    CarrierUnreachable,
    SimState,
    SimUnknown,
)
from tests.support import carrier_fixtures as fx
from tests.support.carrier_fixtures import FakeTransport, ok

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
BASE = "https://restapi3.jasper.com"
DEVICE = f"/rws/api/v1/devices/{fx.ICCID}"


@pytest.fixture
def sleeps() -> list[float]:
    return []


def cc(transport: FakeTransport, sleeps: list[float]) -> ControlCenter:
    return ControlCenter.connect(BASE, "agent-a", "key-123", transport, FixedClock(NOW), sleep=sleeps.append)


def onelink(transport: FakeTransport, sleeps: list[float]) -> OneLink:
    return OneLink.connect(
        "https://api.iot.10086.cn", "200216378200200000", "pw-9", transport, FixedClock(NOW), sleep=sleeps.append
    )


# --- Control Center: one SIM ------------------------------------------------------------------------------
def test_control_center_reads_a_device_with_basic_auth_of_username_and_api_key(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", DEVICE, ok(fx.CC_DEVICE))
    status = cc(transport, sleeps).status(fx.ICCID)
    assert (status.status, status.state, status.rate_plan) == ("ACTIVATED", SimState.ACTIVE, "CUCC-POS-30MB")
    sent = transport.sent[0]
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"agent-a:key-123").decode()


def test_control_center_suspends_and_resumes_by_editing_the_device_status(sleeps: list[float]) -> None:
    transport = FakeTransport().on("PUT", DEVICE, ok(fx.CC_EDIT_RESPONSE))
    platform = cc(transport, sleeps)
    platform.suspend(fx.ICCID)
    platform.resume(fx.ICCID)
    assert [(s.method, s.path, s.body) for s in transport.sent] == [
        ("PUT", DEVICE, {"status": "DEACTIVATED"}),
        ("PUT", DEVICE, {"status": "ACTIVATED"}),
    ]


def test_control_center_usage_is_the_cycle_to_date_bytes(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", DEVICE + "/ctdUsages", ok(fx.CC_CTD_USAGE))
    usage = cc(transport, sleeps).usage(fx.ICCID)
    assert (usage.bytes_used, usage.mb, usage.as_of) == (23_068_672, 22, NOW)


def test_control_center_search_devices_pages_through_modified_since(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", "/rws/api/v1/devices", ok(fx.CC_SEARCH_PAGE_1), ok(fx.CC_SEARCH_PAGE_2))
    found = list(cc(transport, sleeps).changed_since(datetime(2026, 11, 29, 3, 0, tzinfo=UTC)))
    assert [(s.iccid, s.state) for s in found] == [(fx.ICCID, SimState.ACTIVE), (fx.ICCID_2, SimState.SUSPENDED)]
    assert [s.query for s in transport.sent] == [
        {"modifiedSince": "2026-11-29T03:00:00+00:00", "pageSize": "50", "pageNumber": "1"},
        {"modifiedSince": "2026-11-29T03:00:00+00:00", "pageSize": "50", "pageNumber": "2"},
    ]


def test_control_center_batch_usage_sums_a_device_over_zones_and_keeps_only_ours(sleeps: list[float]) -> None:
    transport = (
        FakeTransport()
        .on("GET", "/rws/api/v1/rateplans", ok(fx.CC_RATE_PLANS))
        .on("GET", "/rws/api/v1/usages", ok(fx.CC_USAGE_BY_RATE_PLAN))
    )
    usages = list(cc(transport, sleeps).usages([fx.ICCID, fx.ICCID_2]))
    assert [(u.iccid, u.bytes_used) for u in usages] == [(fx.ICCID, 1_572_864)]
    assert transport.sent[1].query == {
        "ratePlanName": "CUCC-POS-30MB",
        "usageType": "DATA",
        "pageSize": "50",
        "pageNumber": "1",
    }


def test_control_center_batch_usage_skips_the_rate_plan_look_up_when_the_plans_are_known(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", "/rws/api/v1/usages", ok(fx.CC_USAGE_BY_RATE_PLAN))
    usages = list(cc(transport, sleeps).usages([fx.ICCID], rate_plans=["CUCC-POS-30MB"]))
    assert [u.bytes_used for u in usages] == [1_572_864]
    assert [s.path for s in transport.sent] == ["/rws/api/v1/usages"]


def test_control_center_unknown_sim_in_a_batch_read_is_unknown_not_an_error(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", DEVICE, ok(fx.CC_ERROR_NOT_FOUND, 404))
    assert [s.state for s in cc(transport, sleeps).statuses([fx.ICCID])] == [SimState.UNKNOWN]


# --- Control Center: failures --------------------------------------------------------------------------------
def test_three_server_errors_then_an_answer_is_retried_with_growing_backoff(sleeps: list[float]) -> None:
    error = ok({"errorMessage": "Internal error", "errorCode": "10000000"}, 500)
    transport = FakeTransport().on("GET", DEVICE, error, error, error, ok(fx.CC_DEVICE))
    assert cc(transport, sleeps).status(fx.ICCID).state is SimState.ACTIVE
    assert len(transport.sent) == 4 and len(sleeps) == 3
    assert all(0 <= s <= 0.25 * 2**i for i, s in enumerate(sleeps))


def test_a_timeout_of_a_read_is_retried_and_then_reported_unreachable(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", DEVICE, TimeoutError("timed out"))
    with pytest.raises(CarrierUnreachable):
        cc(transport, sleeps).status(fx.ICCID)
    assert len(transport.sent) == 5  # 1 + 4 retries


def test_a_change_that_may_have_been_applied_is_never_resent_blindly(sleeps: list[float]) -> None:
    for answer in (TimeoutError("timed out"), ok({"errorMessage": "busy", "errorCode": "1"}, 503)):
        transport = FakeTransport().on("PUT", DEVICE, answer, ok(fx.CC_EDIT_RESPONSE))
        with pytest.raises(CarrierUnreachable):
            cc(transport, sleeps).suspend(fx.ICCID)
        assert len(transport.sent) == 1


def test_a_throttled_change_was_not_applied_so_it_is_retried_after_retry_after(sleeps: list[float]) -> None:
    throttled = ok({"errorMessage": "Too many requests", "errorCode": "40000029"}, 429, {"retry-after": "2"})
    transport = FakeTransport().on("PUT", DEVICE, throttled, ok(fx.CC_EDIT_RESPONSE))
    cc(transport, sleeps).suspend(fx.ICCID)
    assert len(transport.sent) == 2 and sleeps == [2.0]


def test_throttling_that_outlasts_the_retries_is_a_typed_error(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", DEVICE, ok({"errorCode": "40000029"}, 429))
    with pytest.raises(CarrierThrottled):
        cc(transport, sleeps).status(fx.ICCID)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, fx.CC_ERROR_AUTH, CarrierAuthFailed),
        (403, fx.CC_ERROR_AUTH, CarrierAuthFailed),
        (404, fx.CC_ERROR_NOT_FOUND, SimUnknown),
        (400, fx.CC_ERROR_INVALID, CarrierRejected),
    ],
)
def test_platform_refusals_become_typed_errors_without_retries(
    sleeps: list[float], status: int, body: dict[str, str], error: type[Exception]
) -> None:
    transport = FakeTransport().on("GET", DEVICE, ok(body, status))
    with pytest.raises(error) as caught:
        cc(transport, sleeps).status(fx.ICCID)
    assert len(transport.sent) == 1
    assert "key-123" not in str(caught.value)
    if status == 400:
        assert "10000003" in str(caught.value)


# --- OneLink -----------------------------------------------------------------------------------------------------
OL = "/v5/ec"


def test_onelink_gets_one_token_and_sends_it_with_a_transid_on_every_call(sleeps: list[float]) -> None:
    transport = (
        FakeTransport()
        .on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN))
        .on("GET", f"{OL}/query/sim-status", ok(fx.OL_STATUS_ACTIVE))
    )
    platform = onelink(transport, sleeps)
    first, second = platform.status(fx.ICCID), platform.status(fx.ICCID)
    assert (first.status, first.state) == ("已激活", SimState.ACTIVE) and second == first
    assert [s.path for s in transport.sent] == [f"{OL}/get/token", f"{OL}/query/sim-status", f"{OL}/query/sim-status"]
    token_call = transport.sent[0].query
    assert (token_call["appid"], token_call["password"]) == ("200216378200200000", "pw-9")
    for call in transport.sent:
        assert re.fullmatch(r"200216378200200000" + r"20261130110000" + r"\d{8}", call.query["transid"])
    assert transport.sent[1].query["token"] == "tk-5f6e7d" and transport.sent[1].query["iccid"] == fx.ICCID


def test_onelink_stop_and_resume_are_oper_type_0_and_1(sleeps: list[float]) -> None:
    transport = (
        FakeTransport()
        .on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN))
        .on("GET", f"{OL}/change/sim-status", ok(fx.OL_CHANGE))
        .on("GET", f"{OL}/query/sim-status", ok(fx.OL_STATUS_STOPPED))
    )
    platform = onelink(transport, sleeps)
    platform.suspend(fx.ICCID)
    platform.resume(fx.ICCID)
    assert [s.query["operType"] for s in transport.sent if s.path.endswith("change/sim-status")] == ["0", "1"]
    assert platform.status(fx.ICCID).state is SimState.SUSPENDED


def test_onelink_usage_is_kilobytes_turned_into_bytes(sleeps: list[float]) -> None:
    transport = (
        FakeTransport()
        .on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN))
        .on("GET", f"{OL}/query/sim-data-usage", ok(fx.OL_DATA_USAGE))
    )
    usage = onelink(transport, sleeps).usage(fx.ICCID)
    assert (usage.bytes_used, usage.mb) == (2048 * 1024, 2)


def test_onelink_fetches_a_new_token_once_when_the_old_one_is_gone(sleeps: list[float]) -> None:
    transport = (
        FakeTransport()
        .on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN))
        .on("GET", f"{OL}/query/sim-status", ok(fx.OL_TOKEN_GONE), ok(fx.OL_STATUS_ACTIVE))
    )
    assert onelink(transport, sleeps).status(fx.ICCID).state is SimState.ACTIVE
    assert [s.path.rsplit("/", 1)[-1] for s in transport.sent] == ["token", "sim-status", "token", "sim-status"]


def test_onelink_refusing_the_appid_and_password_is_an_auth_failure(sleeps: list[float]) -> None:
    transport = FakeTransport().on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN_REFUSED))
    with pytest.raises(CarrierAuthFailed) as caught:
        onelink(transport, sleeps).check()
    assert "pw-9" not in str(caught.value)


def test_onelink_batch_usage_reads_100_sims_a_request_through_their_msisdns(sleeps: list[float]) -> None:
    iccids = [f"8986000{n:012d}9"[:19] + str(n % 10) for n in range(150)]

    def card_info(request: fx.Sent) -> fx.Response:
        return ok(fx.ol_card_info(request.query["iccids"].split("_")))

    def monthly(request: fx.Sent) -> fx.Response:
        return ok(fx.ol_monthly(request.query["msisdns"].split("_"), kb="3072"))

    transport = (
        FakeTransport()
        .on("GET", f"{OL}/get/token", ok(fx.OL_TOKEN))
        .on("GET", f"{OL}/query/sim-card-info/batch", card_info)
        .on("GET", f"{OL}/query/sim-data-usage-monthly/batch", monthly)
    )
    usages = list(onelink(transport, sleeps).usages(iccids))
    assert sorted(u.iccid for u in usages) == sorted(iccids)
    assert {u.mb for u in usages} == {3}
    batch_calls = [s for s in transport.sent if "batch" in s.path]
    assert len(batch_calls) == 4  # 2 × (card info + monthly usage) for 150 SIMs
    assert [s.query.get("queryDate") for s in batch_calls if "monthly" in s.path] == ["202611", "202611"]
