"""Carrier connection on moto, in-process: accounts (the key never comes back and lives only in the
secret store), the operations the sweep and a paid renewal write, how the dispatcher's runner
decides (read first, send once, retry with backoff, fail, manual), drift rules."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.carrier import CarrierRepository, carrier_op
from simrenew.adapters.dynamodb.carrier_store import CarrierStore
from simrenew.clock import FixedClock
from simrenew.domain.carrier import (
    CarrierAction,
    CarrierAuthFailed,
    CarrierUnreachable,
    SimState,
    SimStatus,
    base_url_of,
    drift,
    usage_mb,
)
from simrenew.errors import ValidationError
from simrenew.ports.carrier_store import SyncMark
from simrenew.services.carrier import MAX_RUNS, CarrierOperations
from tests.support.builders import create_agent, paid_offline
from tests.support.carrier_fixtures import ACCOUNT
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body


def _secrets_file() -> Path:
    return Path(os.environ["CARRIER_SECRETS_FILE"])


# --- accounts over the API -------------------------------------------------------------------------------
def test_an_admin_connects_a_carrier_account_and_the_key_is_never_answered(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key)
    assert r.status == 201
    assert set(r.json) >= {"account_id", "carrier", "platform", "base_url", "username", "status"}
    assert (r.json["base_url"], r.json["status"]) == ("https://cc.example.com", "unchecked")
    listed = api.get("/v1/carrier-accounts", key=agent.admin_key)
    assert [a["account_id"] for a in listed.json["items"]] == [r.json["account_id"]]
    for answer in (r, listed):
        assert "super-secret-key-1" not in answer.body.decode()
    stored = json.loads(_secrets_file().read_text())
    assert stored[f"{agent.tenant_id}/{r.json['account_id']}"] == "super-secret-key-1"
    assert stat.S_IMODE(_secrets_file().stat().st_mode) == 0o600
    # One account per carrier: a terminal uses the account of its carrier.
    again = api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key)
    assert (again.status, again.error["code"], again.error["field"]) == (409, "carrier_account_exists", "carrier")
    assert api.delete(f"/v1/carrier-accounts/{r.json['account_id']}", key=agent.admin_key).status == 204
    assert f"{agent.tenant_id}/{r.json['account_id']}" not in json.loads(_secrets_file().read_text())
    assert api.delete(f"/v1/carrier-accounts/{r.json['account_id']}", key=agent.admin_key).status == 404


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"carrier": "XX"}, "carrier", "invalid_choice"),
        ({"platform": "jasper"}, "platform", "invalid_choice"),
        ({"base_url": "ftp://cc.example.com"}, "base_url", "invalid_url"),
        ({"base_url": "http://cc.example.com"}, "base_url", "insecure_url"),
        ({"base_url": "https://user:pw@cc.example.com"}, "base_url", "invalid_url"),
        ({"username": ""}, "username", "required"),
        ({"api_key": ""}, "api_key", "required"),
        ({"api_key": "has space"}, "api_key", "invalid_api_key"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field_and_nothing_is_stored(
    api: ApiClient, platform_key: str, change: dict[str, str], field: str, code: str
) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/carrier-accounts", {**ACCOUNT, **change}, key=agent.admin_key)
    assert (r.status, r.error["field"], r.error["code"]) == (400, field, code)
    assert api.get("/v1/carrier-accounts", key=agent.admin_key).json["items"] == []


def test_onelink_is_china_mobile_only_and_staff_cannot_connect(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/carrier-accounts", {**ACCOUNT, "carrier": "CUCC", "platform": "onelink"}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (422, "platform_mismatch")
    staff = agent.key(api, "staff")
    assert api.post("/v1/carrier-accounts", ACCOUNT, key=staff).status == 403


def test_a_sync_needs_a_carrier_account(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    r = api.post("/v1/carrier-sync", {}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (422, "no_carrier_account")


def test_a_paid_renewal_of_a_suspended_terminal_asks_the_carrier_to_resume(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = api.post("/v1/merchants", {"name": "停机小店", "phone": "13800001234"}, key=agent.admin_key).json
    t = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on="2020-01-01"), key=agent.admin_key
    ).json
    assert t["status"] == "suspended" and t["carrier_state"]["status"] is None
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1, "price_fen": 100}, key=agent.admin_key
    ).json
    paid_offline(api, agent, t["sn"], plan["plan_id"])
    ops = api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"]
    assert [(o["action"], o["state"]) for o in ops] == [("resume", "pending")]
    after = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json
    assert after["status"] == "active" and after["carrier_state"]["pending"] == "resume"
    # An active terminal renewed again writes no carrier operation.
    paid_offline(api, agent, t["sn"], plan["plan_id"])
    assert len(api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"]) == 1


# --- the runner's decisions ---------------------------------------------------------------------------------
@dataclass
class FakePlatform:
    states: dict[str, SimState]
    fail_with: list[Exception] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0

    def status(self, iccid: str) -> SimStatus:
        if self.fail_with:
            raise self.fail_with.pop(0)
        state = self.states.get(iccid, SimState.ACTIVE)
        return SimStatus(iccid, "ACTIVATED" if state is SimState.ACTIVE else "DEACTIVATED", state)

    def suspend(self, iccid: str) -> None:
        self.sent.append(("suspend", iccid))
        self.states[iccid] = SimState.SUSPENDED

    def resume(self, iccid: str) -> None:
        self.sent.append(("resume", iccid))
        self.states[iccid] = SimState.ACTIVE


@dataclass
class Factory:
    platform: FakePlatform

    def open(self, account: Any) -> FakePlatform:
        return self.platform


def _suspended(services: Any, clock: FixedClock, api: ApiClient, platform_key: str, *, account: bool = True) -> Any:
    agent = create_agent(api, platform_key)
    if account:
        api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key)
    m = api.post("/v1/merchants", {"name": "小店", "phone": "13800004321"}, key=agent.admin_key).json
    t = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on="2020-01-01"), key=agent.admin_key
    )
    terminal = services.fleet.get(agent.tenant_id, t.json["sn"])
    op = carrier_op(terminal, CarrierAction.SUSPEND, clock.now())
    CarrierRepository().put_op(op)
    return terminal, op


def _runner(services: Any, platform: FakePlatform, clock: FixedClock) -> CarrierOperations:
    return CarrierOperations(CarrierStore(), services.fleet.terminals, Factory(platform), clock)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))


def test_the_runner_reads_first_and_sends_only_when_needed(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    terminal, op = _suspended(services, clock, api, platform_key)
    platform = FakePlatform({terminal.iccid: SimState.ACTIVE})
    runner = _runner(services, platform, clock)
    assert runner.deliver(op.pk, op.sk) == "done"
    assert runner.deliver(op.pk, op.sk) == "already_done"  # the stream delivers again: nothing sent
    assert platform.sent == [("suspend", terminal.iccid)]
    # Already suspended at the carrier (a dispatcher died after the change): nothing is sent.
    terminal2, op2 = _suspended(services, clock, api, platform_key)
    platform.states[terminal2.iccid] = SimState.SUSPENDED
    assert runner.deliver(op2.pk, op2.sk) == "done"
    assert platform.sent == [("suspend", terminal.iccid)]
    assert CarrierRepository().op(op2.pk, op2.sk).outcome == "already"  # type: ignore[union-attr]


def test_a_failing_run_is_retried_with_backoff_then_failed_and_listed(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    terminal, op = _suspended(services, clock, api, platform_key)
    platform = FakePlatform({}, fail_with=[CarrierUnreachable("down")] * 100)
    runner = _runner(services, platform, clock)
    waits = []
    for run in range(1, MAX_RUNS + 1):
        outcome = runner.deliver(op.pk, op.sk)
        item = CarrierRepository().op(op.pk, op.sk)
        assert item is not None
        if run < MAX_RUNS:
            assert (outcome, item.state) == ("retry_later", "pending")
            waits.append(item.next_attempt_at - clock.now())  # type: ignore[operator]
            assert runner.drain_due() == 0  # not due yet
            clock.advance(waits[-1] + timedelta(seconds=1))  # type: ignore[attr-defined]
        else:
            assert (outcome, item.state) == ("failed", "failed")
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
    failed = runner.failed(terminal.tenant_id)
    assert [(f["sn"], f["action"], f["attempts"]) for f in failed] == [(terminal.sn, "suspend", MAX_RUNS)]
    assert platform.sent == []
    # The agent retries once the platform answers again.
    platform.fail_with.clear()
    assert runner.retry(terminal.tenant_id, failed[0]["op_id"])["state"] == "done"
    assert runner.failed(terminal.tenant_id) == []


def test_refused_credentials_fail_at_once_and_no_account_means_manual(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    _terminal, op = _suspended(services, clock, api, platform_key)
    runner = _runner(services, FakePlatform({}, fail_with=[CarrierAuthFailed("no")]), clock)
    assert runner.deliver(op.pk, op.sk) == "failed"
    _t2, op2 = _suspended(services, clock, api, platform_key, account=False)
    assert runner.deliver(op2.pk, op2.sk) == "manual"
    item = CarrierRepository().op(op2.pk, op2.sk)
    assert item is not None and "no CMCC carrier account" in (item.last_error or "")


def test_another_agents_operation_cannot_be_retried(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    terminal, op = _suspended(services, clock, api, platform_key)
    _runner(services, FakePlatform({}, fail_with=[CarrierAuthFailed("no")]), clock).deliver(op.pk, op.sk)
    other = create_agent(api, platform_key)
    op_id = api.get("/v1/carrier-operations", key=create_agent(api, platform_key).admin_key).json["items"]
    assert op_id == []
    mine = services.carrier_ops.failed(terminal.tenant_id)[0]["op_id"]
    r = api.post(f"/v1/carrier-operations/{mine}/retry", {}, key=other.admin_key)
    assert (r.status, r.error["code"]) == (404, "carrier_operation_not_found")
    assert keys.tenant_pk(terminal.tenant_id) == op.pk


# --- pure rules --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ours", "theirs", "reason"),
    [
        ("active", SimState.ACTIVE, None),
        ("grace", SimState.SUSPENDED, "inactive_at_carrier"),
        ("active", SimState.NOT_ACTIVE, "inactive_at_carrier"),
        ("suspended", SimState.SUSPENDED, None),
        ("suspended", SimState.ACTIVE, "active_at_carrier"),
        ("deactivated", SimState.ACTIVE, "active_at_carrier_deactivated_here"),
        ("inventory", SimState.SUSPENDED, None),
        ("active", SimState.UNKNOWN, "unknown_at_carrier"),
        ("active", None, None),
    ],
)
def test_drift_is_a_carrier_status_that_disagrees_with_ours(
    ours: str, theirs: SimState | None, reason: str | None
) -> None:
    assert drift(ours, theirs) == reason


def test_usage_is_bytes_over_1048576_rounded_down() -> None:
    assert [usage_mb(b) for b in (0, 1_048_575, 1_048_576, 5 * 1_048_576 + 1, -3)] == [0, 0, 1, 5, 0]


def test_only_the_local_stack_may_use_plain_http_to_its_own_loopback() -> None:
    assert base_url_of("http://127.0.0.1:8430/", allow_local=True) == "http://127.0.0.1:8430"
    with pytest.raises(ValidationError):
        base_url_of("http://127.0.0.1:8430", allow_local=False)
    assert date.today()  # (the suite's clock is real elsewhere)


def test_secrets_manager_keeps_one_secret_per_account_under_the_prefix() -> None:
    import boto3
    from moto import mock_aws

    from simrenew.adapters.carrier.secrets import SecretsManagerSecrets

    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        store = SecretsManagerSecrets("simrenew/prod/carrier", "us-east-1", client=client)
        store.put("t_aaaa1111", "ca_bbbb2222", "the-key")
        names = [s["Name"] for s in client.list_secrets()["SecretList"]]
        assert names == ["simrenew/prod/carrier/t_aaaa1111/ca_bbbb2222"]
        assert (
            SecretsManagerSecrets("simrenew/prod/carrier/", "us-east-1", client=client).get("t_aaaa1111", "ca_bbbb2222")
            == "the-key"
        )
        with pytest.raises(ValueError):
            store.get("../other", "ca_bbbb2222")  # names come from ids only
        store.delete("t_aaaa1111", "ca_bbbb2222")
        fresh = SecretsManagerSecrets("simrenew/prod/carrier/", "us-east-1", client=client)
        with pytest.raises(Exception):  # noqa: B017 - scheduled for deletion: no longer readable
            fresh.get("t_aaaa1111", "ca_bbbb2222")


def test_marking_a_sync_while_the_account_changed_meanwhile_retries_and_lands(
    api: ApiClient, platform_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two syncs asked at once: the second finds the account's version moved on and retries (once a
    500: the retry sent the version increment twice). Found by the OpenAPI fuzz on DynamoDB Local."""
    agent = create_agent(api, platform_key)
    account_id = api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key).json["account_id"]
    repo = CarrierRepository()
    stale = repo.account_item(agent.tenant_id, account_id)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    repo.mark_sync(agent.tenant_id, account_id, SyncMark("running"), now)  # the version moves on
    real = repo.account_item
    calls = iter([stale])
    monkeypatch.setattr(repo, "account_item", lambda t, a: next(calls, None) or real(t, a))
    repo.mark_sync(agent.tenant_id, account_id, SyncMark("queued"), now + timedelta(seconds=1))
    item = real(agent.tenant_id, account_id)
    assert item is not None and item.sync_state == "queued"


# --- every change that gives a stopped SIM its service back asks the carrier to resume ------------------------
def _stopped(api: ApiClient, platform_key: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """An agent with a plan and a terminal suspended here (its SIM stopped at the carrier)."""
    agent = create_agent(api, platform_key)
    m = api.post("/v1/merchants", {"name": "复机小店", "phone": "13800005678"}, key=agent.admin_key).json
    t = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on="2020-01-01"), key=agent.admin_key
    ).json
    assert t["status"] == "suspended"
    plan = api.post(
        "/v1/plans", {"name": "季卡", "term_months": 3, "data_quota_mb": 1, "price_fen": 100}, key=agent.admin_key
    ).json
    return agent, t, plan


def _ops(api: ApiClient, agent: Any, sn: str) -> list[tuple[str, str]]:
    items = api.get(f"/v1/terminals/{sn}/carrier-operations", key=agent.admin_key).json["items"]
    return [(o["action"], o["state"]) for o in items]


def test_a_voucher_redeemed_for_a_suspended_terminal_asks_the_carrier_to_resume(
    api: ApiClient, platform_key: str
) -> None:
    agent, t, plan = _stopped(api, platform_key)
    codes = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 2}, key=agent.admin_key).json
    assert api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": codes["codes"][0]}).status == 200
    after = api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json
    assert after["status"] == "active" and _ops(api, agent, t["sn"]) == [("resume", "pending")]
    # A second voucher on the now active terminal asks nothing of the carrier.
    assert api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": codes["codes"][1]}).status == 200
    assert _ops(api, agent, t["sn"]) == [("resume", "pending")]


def test_time_transferred_to_a_suspended_terminal_asks_the_carrier_to_resume(api: ApiClient, platform_key: str) -> None:
    agent, t, _plan = _stopped(api, platform_key)
    m = api.post("/v1/merchants", {"name": "有时间的店", "phone": "13800005679"}, key=agent.admin_key).json
    rich = api.post(
        "/v1/terminals",
        terminal_body(merchant_id=m["merchant_id"], expires_on=(date.today() + timedelta(days=400)).isoformat()),
        key=agent.admin_key,
    ).json
    body = {"to_sn": t["sn"], "months": 2, "reason": "换机"}
    r = api.post(f"/v1/terminals/{rich['sn']}/transfer-time", body, key=agent.admin_key)
    assert r.status == 201, r.body
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["status"] == "active"
    assert _ops(api, agent, t["sn"]) == [("resume", "pending")]
    assert _ops(api, agent, rich["sn"]) == []  # the giving terminal keeps its service


def _deactivated_with_time(api: ApiClient, agent: Any, sn: str) -> None:
    """Deactivate, then (test set-up, as if its expiry had been moved before) give it time left."""
    from simrenew.adapters.dynamodb.fleet import TerminalRepository

    assert api.post(f"/v1/terminals/{sn}/deactivate", {}, key=agent.admin_key).status == 200
    item = TerminalRepository().item(agent.tenant_id, sn)
    assert item is not None
    item.expires_on = (date.today() + timedelta(days=60)).isoformat()
    item.save()


def test_reactivating_a_terminal_whose_sim_was_stopped_asks_the_carrier_to_resume(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    agent, t, _plan = _stopped(api, platform_key)
    terminal = services.fleet.get(agent.tenant_id, t["sn"])
    op = carrier_op(terminal, CarrierAction.SUSPEND, clock.now())
    CarrierRepository().put_op(op)
    api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key)
    platform = FakePlatform({terminal.iccid: SimState.ACTIVE})
    assert _runner(services, platform, clock).deliver(op.pk, op.sk) == "done"  # the SIM is stopped
    _deactivated_with_time(api, agent, t["sn"])
    r = api.post(f"/v1/terminals/{t['sn']}/reactivate", {}, key=agent.admin_key)
    assert (r.status, r.json["status"]) == (200, "active")
    assert _ops(api, agent, t["sn"]) == [("resume", "pending"), ("suspend", "done")]


def test_reactivating_a_terminal_whose_sim_kept_its_service_asks_nothing_of_the_carrier(
    api: ApiClient, platform_key: str
) -> None:
    """A deactivation does not stop the SIM (DOMAIN.md), so an active terminal deactivated and
    reactivated has nothing to resume; nor is a deactivation a carrier operation."""
    agent = create_agent(api, platform_key)
    m = api.post("/v1/merchants", {"name": "一直在用", "phone": "13800005670"}, key=agent.admin_key).json
    expires = (date.today() + timedelta(days=60)).isoformat()
    t = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on=expires), key=agent.admin_key
    ).json
    assert api.post(f"/v1/terminals/{t['sn']}/deactivate", {}, key=agent.admin_key).status == 200
    assert _ops(api, agent, t["sn"]) == []
    r = api.post(f"/v1/terminals/{t['sn']}/reactivate", {}, key=agent.admin_key)
    assert (r.status, r.json["status"]) == (200, "active")
    assert _ops(api, agent, t["sn"]) == []


# --- one runner at a time ---------------------------------------------------------------------------------------
def test_two_runners_at_once_make_one_platform_change(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    """The stream and the drain deliver the same operation at the same moment: the one that holds the
    lease runs it, the other stands aside (while the first is between its read and its send)."""
    terminal, op = _suspended(services, clock, api, platform_key)
    platform = FakePlatform({terminal.iccid: SimState.ACTIVE})
    first, second = _runner(services, platform, clock), _runner(services, platform, clock)
    seen: list[str] = []
    real_status = platform.status

    def status_then_rival(iccid: str) -> SimStatus:
        reading = real_status(iccid)
        if not seen:
            seen.append(second.deliver(op.pk, op.sk))  # the rival arrives mid-run
        return reading

    platform.status = status_then_rival  # type: ignore[method-assign]
    assert first.deliver(op.pk, op.sk) == "done"
    assert seen == ["in_progress"]
    assert platform.sent == [("suspend", terminal.iccid)]
    item = CarrierRepository().op(op.pk, op.sk)
    assert item is not None and item.lease_owner is None and item.outcome == "changed"


def test_a_dead_runners_lease_lapses_and_the_next_run_lands_the_change_once(
    services: Any, api: ApiClient, platform_key: str, clock: FixedClock
) -> None:
    from simrenew.adapters.dynamodb.carrier import OP_LEASE

    terminal, op = _suspended(services, clock, api, platform_key)
    repo = CarrierRepository()
    held = repo.op(op.pk, op.sk)
    assert held is not None and repo.claim_op(held, "run_dead", clock.now())  # then the runner dies
    platform = FakePlatform({terminal.iccid: SimState.ACTIVE})
    runner = _runner(services, platform, clock)
    assert runner.deliver(op.pk, op.sk) == "in_progress"
    assert runner.drain_due() == 0 and platform.sent == []
    clock.advance(OP_LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert runner.drain_due() == 1
    assert platform.sent == [("suspend", terminal.iccid)]
    # The dead runner, had it only been slow, can no longer record an outcome over it.
    assert repo.finish_op(held, "done", clock.now(), outcome="changed") is False


def test_an_update_retried_with_the_same_actions_sets_the_version_once(api: ApiClient, platform_key: str) -> None:
    """PynamoDB appends the version increment to the list it is given; Item.update passes a copy, so
    a caller retrying with its own list (after a version conflict) is not refused by DynamoDB."""
    from simrenew.adapters.dynamodb.carrier import CarrierAccountItem

    agent = create_agent(api, platform_key)
    account_id = api.post("/v1/carrier-accounts", ACCOUNT, key=agent.admin_key).json["account_id"]
    repo = CarrierRepository()
    item = repo.account_item(agent.tenant_id, account_id)
    assert item is not None
    actions = [CarrierAccountItem.sync_state.set("running")]
    item.update(actions=actions)
    item.update(actions=actions)
    assert len(actions) == 1
    fresh = repo.account_item(agent.tenant_id, account_id)
    assert fresh is not None and fresh.sync_state == "running" and fresh.version == item.version
