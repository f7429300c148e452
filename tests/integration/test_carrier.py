"""The carrier connection end to end against the local carrier platform (infra/local_carrier.py,
Control Center REST shapes, its own process): the API server and the outbox poller (the
dispatcher) are real processes too, DynamoDB Local underneath. Each bullet of issue 15's "How it
is shown" is a test here."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.processes import LOCAL, free_port
from tests.integration.conftest import LocalCarrier, OutboxPollerProcess
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body
from tests.support.sweep import swept
from tests.support.waiting import wait_for


def _wait(check: Any, timeout: float = 90, what: str = "condition") -> Any:
    return wait_for(check, timeout, what)


def _connect(api: ApiClient, agent: Agent, carrier: LocalCarrier, username: str, key: str | None = None) -> str:
    body = {
        "carrier": "CMCC",
        "platform": "control_center",
        "base_url": carrier.base_url,
        "username": username,
        "api_key": key or carrier.api_key,
    }
    r = api.post("/v1/carrier-accounts", body, key=agent.admin_key)
    assert r.status == 201, r.body
    assert "api_key" not in r.json and r.json["status"] == "unchecked"
    return str(r.json["account_id"])


_day = iter(range(random.randrange(0, 3000), 10**6))


def _suspendable(api: ApiClient, agent: Agent) -> tuple[dict[str, Any], date]:
    """A terminal with a merchant whose grace ends on a day no other test sweeps."""
    m = api.post("/v1/merchants", {"name": f"运营商小店{next(_day)}", "phone": "13812340000"}, key=agent.admin_key).json
    expires = date(2060, 1, 1) + timedelta(days=next(_day) * 3)
    t = api.post(
        "/v1/terminals",
        terminal_body(merchant_id=m["merchant_id"], expires_on=expires.isoformat()),
        key=agent.admin_key,
    ).json
    return t, expires + timedelta(days=8)  # default grace 7 days: suspended the day after


def _sweep(api: ApiClient, platform_key: str, as_of: date) -> dict[str, Any]:
    """A sweep run to its end (202, then its progress: tests/support/sweep.py)."""
    return swept(api, platform_key, as_of.isoformat())


def _carrier_state(api: ApiClient, agent: Agent, sn: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/terminals/{sn}", key=agent.admin_key).json["carrier_state"])


def _changes(carrier: LocalCarrier, username: str, iccid: str) -> list[tuple[str, str]]:
    return [(e["priorValue"], e["value"]) for e in carrier.audit(username, iccid)]


def _user() -> str:
    return f"agent-{os.urandom(4).hex()}"


@pytest.fixture
def poller(outbox_poller: OutboxPollerProcess, local_carrier: LocalCarrier) -> OutboxPollerProcess:
    local_carrier.clear_faults()
    outbox_poller.start()
    return outbox_poller


def _connected_suspendable(
    api: ApiClient, platform_key: str, carrier: LocalCarrier, key: str | None = None
) -> tuple[Agent, str, str, dict[str, Any], date]:
    """A new agent with a carrier account on a fresh username (`key` its API key, if not the
    platform's) and one terminal on it whose grace ends on `grace_over`:
    (agent, username, account id, terminal, grace_over)."""
    agent = create_agent(api, platform_key)
    user = _user()
    account = _connect(api, agent, carrier, user, key=key)
    t, grace_over = _suspendable(api, agent)
    return agent, user, account, t, grace_over


def test_suspension_reaches_the_carrier(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, poller: OutboxPollerProcess
) -> None:
    agent, user, _account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier)
    assert local_carrier.device(user, t["iccid"])["status"] == "ACTIVATED"

    assert _sweep(api, platform_key, grace_over)["totals"]["suspended"] >= 1
    state = _wait(
        lambda: (s := _carrier_state(api, agent, t["sn"]))["status"] == "DEACTIVATED" and s, what="DEACTIVATED"
    )
    assert state["pending"] is None and state["last_error"] is None and state["drift"] is None
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED")]
    # Each way back to service: test_a_suspended_sim_comes_back_at_the_carrier_by_every_way_its_terminal_does


def test_three_injected_errors_still_land_the_change_exactly_once(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, poller: OutboxPollerProcess
) -> None:
    agent, user, _account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier)
    local_carrier.fault("error", 3)
    _sweep(api, platform_key, grace_over)
    _wait(lambda: _carrier_state(api, agent, t["sn"])["status"] == "DEACTIVATED", what="DEACTIVATED")
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED")]


def test_a_dispatcher_killed_mid_call_makes_one_change(
    api: ApiClient,
    platform_key: str,
    local_carrier: LocalCarrier,
    poller: OutboxPollerProcess,
    env: dict[str, str],
    ddb: Any,
) -> None:
    """The platform carries out the PUT and answers late; the dispatcher dies waiting. Its successor
    gets the same stream record again and stands aside while the dead runner's lease holds; the
    drain after it lapsed reads DEACTIVATED and sends nothing."""
    agent, user, _account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier)
    local_carrier.fault("timeout", 1, method="PUT", delay_s=40)
    _sweep(api, platform_key, grace_over)
    _wait(lambda: _changes(local_carrier, user, t["iccid"]), what="the PUT carried out")
    os.kill(poller.proc.pid, signal.SIGKILL)  # mid-call: the platform has not answered yet
    poller.proc.wait(10)
    poller.start()  # gets the same stream record: the dead runner's lease still holds it
    time.sleep(3)
    ops = api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"]
    assert [(o["state"], o["attempts"]) for o in ops] == [("pending", 0)]
    # The 5-minute drain, once the lease has lapsed, reads DEACTIVATED and sends nothing.
    assert _drain_after_the_lease(env) == 1
    _wait(lambda: _carrier_state(api, agent, t["sn"])["status"] == "DEACTIVATED", what="DEACTIVATED")
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED")]
    ops = api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"]
    assert [(o["state"], o["outcome"]) for o in ops] == [("done", "already")]


def _runner(env: dict[str, str], clock: Any) -> Any:
    """A dispatcher's carrier runner in this process (DynamoDB Local, the local platform)."""
    from simrenew.adapters.carrier.factory import PlatformFactory
    from simrenew.adapters.carrier.secrets import FileSecrets
    from simrenew.adapters.dynamodb.carrier_store import CarrierStore
    from simrenew.adapters.dynamodb.fleet import TerminalRepository
    from simrenew.services.carrier import CarrierOperations

    platforms = PlatformFactory(FileSecrets(Path(env["CARRIER_SECRETS_FILE"])), clock, local=True)
    return CarrierOperations(CarrierStore(), TerminalRepository(), platforms, clock)


def _drain_after_the_lease(env: dict[str, str]) -> int:
    from datetime import UTC, datetime

    from simrenew.adapters.dynamodb.carrier import OP_LEASE
    from simrenew.clock import FixedClock

    done: int = _runner(env, FixedClock(datetime.now(UTC) + OP_LEASE + timedelta(seconds=5))).drain_due()
    return done


def test_two_runners_at_once_make_one_platform_change(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, env: dict[str, str], ddb: Any
) -> None:
    """The stream and the 5-minute drain start the same operation at the same moment (the platform
    slow to answer): one holds the lease and changes the SIM, the other stands aside."""
    import threading

    from simrenew.adapters.dynamodb import keys
    from simrenew.clock import SystemClock

    local_carrier.clear_faults()
    agent, user, _account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier)
    _sweep(api, platform_key, grace_over)  # no poller: the operation waits in the table
    op = api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"][0]
    sk = keys.carrier_op_sk(t["sn"], int(op["op_id"].split("_")[1]), "suspend")
    local_carrier.fault("timeout", 1, method="GET", delay_s=2)  # the first read is slow
    outcomes: list[str] = []
    runners = [_runner(env, SystemClock()) for _ in range(2)]
    threads = [
        threading.Thread(target=lambda r=r: outcomes.append(r.deliver(keys.tenant_pk(agent.tenant_id), sk)))
        for r in runners
    ]
    for th in threads:
        th.start()
        time.sleep(0.3)
    for th in threads:
        th.join(120)
    assert sorted(outcomes) == ["done", "in_progress"], outcomes
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED")]


def test_a_refused_operation_is_listed_and_its_retry_lands_it(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, poller: OutboxPollerProcess
) -> None:
    agent, user, account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier, key="a-wrong-key")
    _sweep(api, platform_key, grace_over)
    failed = _wait(lambda: api.get("/v1/carrier-operations", key=agent.admin_key).json["items"], what="failed op")
    assert [(o["sn"], o["action"], o["state"]) for o in failed] == [(t["sn"], "suspend", "failed")]
    assert "carrier_auth_failed" in failed[0]["last_error"]
    assert "carrier_auth_failed" in (_carrier_state(api, agent, t["sn"])["last_error"] or "")
    # The agent fixes the credentials and presses retry.
    assert api.delete(f"/v1/carrier-accounts/{account}", key=agent.admin_key).status == 204
    _connect(api, agent, local_carrier, user)
    r = api.post(f"/v1/carrier-operations/{failed[0]['op_id']}/retry", {}, key=agent.admin_key)
    assert (r.status, r.json["state"], r.json["outcome"]) == (200, "done", "changed"), r.body
    assert api.get("/v1/carrier-operations", key=agent.admin_key).json["items"] == []
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED")]


def test_the_account_check_tells_good_credentials_from_bad_and_a_dead_platform(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier
) -> None:
    agent = create_agent(api, platform_key)
    good = _connect(api, agent, local_carrier, _user())
    r = api.post(f"/v1/carrier-accounts/{good}/check", {}, key=agent.admin_key)
    assert (r.status, r.json["ok"]) == (200, True)
    assert api.delete(f"/v1/carrier-accounts/{good}", key=agent.admin_key).status == 204
    bad = _connect(api, agent, local_carrier, _user(), key="nope")
    r = api.post(f"/v1/carrier-accounts/{bad}/check", {}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (422, "carrier_auth_failed")
    api.delete(f"/v1/carrier-accounts/{bad}", key=agent.admin_key)
    body = {
        "carrier": "CMCC",
        "platform": "control_center",
        "base_url": f"http://127.0.0.1:{free_port()}",
        "username": "x",
        "api_key": "y",
    }
    dead = api.post("/v1/carrier-accounts", body, key=agent.admin_key).json["account_id"]
    r = api.post(f"/v1/carrier-accounts/{dead}/check", {}, key=agent.admin_key)
    assert (r.status, r.error["code"]) == (422, "carrier_unreachable")
    accounts = api.get("/v1/carrier-accounts", key=agent.admin_key).json["items"]
    assert [(a["account_id"], a["status"]) for a in accounts] == [(dead, "unreachable")]


def _sync(api: ApiClient, agent: Agent, timeout: float = 600) -> dict[str, Any]:
    before = time.time()
    r = api.post("/v1/carrier-sync", {}, key=agent.admin_key)
    assert r.status == 202, r.body

    def done() -> Any:
        accounts = api.get("/v1/carrier-sync", key=agent.admin_key).json["accounts"]
        last = accounts[0]["last_sync"] or {}
        finished = last.get("finished_at")
        if last.get("state") in ("done", "failed") and finished and _epoch(finished) >= int(before):
            return last
        return None

    return dict(_wait(done, timeout, "the sync"))


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _register(tenant_id: str, merchant_id: str, rows: list[dict[str, Any]]) -> None:
    """10,000 terminals straight into DynamoDB Local (the import's own transactions, 25 a time)."""
    from datetime import UTC, datetime

    from simrenew.adapters.dynamodb.fleet import TerminalRepository
    from simrenew.domain.fleet import Terminal, TerminalStatus

    repo, now = TerminalRepository(), datetime.now(UTC)
    terminals = [
        Terminal(
            tenant_id,
            r["sn"],
            r["tid"],
            r["iccid"],
            "CMCC",
            r["model"],
            date.fromisoformat(r["expires_on"]),
            TerminalStatus.ACTIVE,
            merchant_id=merchant_id,
            data_quota_mb=1024,
        )
        for r in rows
    ]
    for start in range(0, len(terminals), 25):
        assert repo.register_many(terminals[start : start + 25], now) == {}


def test_a_sync_of_10000_sims_updates_usage_in_batches_and_lists_what_changed_behind_our_back(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, ddb: Any
) -> None:
    agent = create_agent(api, platform_key)
    user = _user()
    _connect(api, agent, local_carrier, user)
    rows = [terminal_body() for _ in range(10_000)]
    shop = api.post("/v1/merchants", {"name": "万卡商户", "phone": "13900001111"}, key=agent.admin_key).json
    _register(agent.tenant_id, shop["merchant_id"], rows)
    mib = 1_048_576
    shipped = "2026-01-01T00:00:00+00:00"  # the SIMs last changed at the carrier long before our first sync
    devices = [
        {"iccid": r["iccid"], "bytes": (n % 500) * mib + 123, "date_updated": shipped} for n, r in enumerate(rows)
    ]
    local_carrier.add_devices(user, devices)
    before = local_carrier.stats()["by_account"].get(user, 0)

    first = _sync(api, agent)
    assert first["state"] == "done" and first["sims"] == 10_000 and first["usages_read"] == 10_000
    page = first["page_size"]
    pages = -(-10_000 // page)
    # Usage is updated in 10,000 / page-size requests (usage by rate plan, the plans known from the
    # statuses). The statuses are a second paged read of the same size on the first sync (Search
    # Devices since the beginning): no documented Control Center call returns status and usage of
    # many SIMs together (Search Devices: ICCID, status, rate plan; usage by rate plan: usage only;
    # ctdUsages has both, for one SIM a call), so the first sync is 2 × 10,000 / page-size in all.
    assert first["usage_requests"] == pages, first
    assert first["status_requests"] == pages, first
    assert first["carrier_requests"] == 2 * pages, first
    assert local_carrier.stats()["by_account"][user] - before == first["carrier_requests"]
    for n in (0, 1, 499, 9_999):
        t = api.get(f"/v1/terminals/{rows[n]['sn']}", key=agent.admin_key).json
        assert t["data_used_mb"] == n % 500 and t["carrier_state"]["data_used_mb"] == n % 500
        assert t["carrier_state"]["status"] == "ACTIVATED" and t["carrier_state"]["synced_at"]

    # Behind our back: one SIM deactivated in the carrier's portal; new usage on another.
    local_carrier.set_status(user, rows[7]["iccid"], "DEACTIVATED")
    local_carrier.add_usage(user, rows[8]["iccid"], 3 * mib)
    second = _sync(api, agent)
    # The daily sync: one Search Devices page of what changed, then the usage pages.
    assert (second["status_requests"], second["usage_requests"]) == (1, pages), second
    assert second["sim_writes"] <= 2 + 5, second  # only what changed is written
    drift = api.get("/v1/reports/carrier-drift", key=agent.admin_key).json
    assert [(d["sn"], d["carrier_status"], d["reason"]) for d in drift["items"]] == [
        (rows[7]["sn"], "DEACTIVATED", "inactive_at_carrier")
    ]
    csv_text = api.get("/v1/reports/carrier-drift", key=agent.admin_key, headers={"Accept": "text/csv"}).body.decode()
    assert rows[7]["sn"] in csv_text and "inactive_at_carrier" in csv_text
    listed = api.get("/v1/terminals?carrier=disagrees", key=agent.admin_key).json["items"]
    assert [x["sn"] for x in listed] == [rows[7]["sn"]]
    t8 = api.get(f"/v1/terminals/{rows[8]['sn']}", key=agent.admin_key).json
    assert t8["data_used_mb"] == 8 + 3


def test_tenant_b_sync_never_touches_tenant_a_sims(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier
) -> None:
    a, b = create_agent(api, platform_key), create_agent(api, platform_key)
    user_a, user_b = _user(), _user()
    _connect(api, a, local_carrier, user_a)
    _connect(api, b, local_carrier, user_b)
    ta = api.post("/v1/terminals", terminal_body(), key=a.admin_key).json
    tb = api.post("/v1/terminals", terminal_body(), key=b.admin_key).json
    _sync(api, a)
    a_state = _carrier_state(api, a, ta["sn"])
    a_calls = local_carrier.stats()["by_account"][user_a]
    local_carrier.add_usage(user_a, ta["iccid"], 5 * 1_048_576)  # A's SIM changes at the carrier

    result = _sync(api, b)
    assert result["sims"] == 1 and result["state"] == "done"
    assert local_carrier.stats()["by_account"][user_a] == a_calls  # not one platform call with A's login
    assert _carrier_state(api, a, ta["sn"]) == a_state  # B's sync wrote nothing of A's
    assert _carrier_state(api, b, tb["sn"])["status"] == "ACTIVATED"
    # B cannot see, check, sync or remove A's account.
    a_account = api.get("/v1/carrier-accounts", key=a.admin_key).json["items"][0]["account_id"]
    assert api.post(f"/v1/carrier-accounts/{a_account}/check", {}, key=b.admin_key).status == 404
    assert api.delete(f"/v1/carrier-accounts/{a_account}", key=b.admin_key).status == 404
    assert [x["account_id"] for x in api.get("/v1/carrier-accounts", key=b.admin_key).json["items"]] != [a_account]


def test_carrier_credentials_are_in_no_answer_and_no_log_line(
    api: ApiClient, platform_key: str, local_carrier: LocalCarrier, poller: OutboxPollerProcess, env: dict[str, str]
) -> None:
    agent = create_agent(api, platform_key)
    user = _user()
    marker, idem = "cck_" + os.urandom(12).hex(), "idem-" + os.urandom(6).hex()
    # An account with a secret key of its own on a second username (the platform takes only its key,
    # so this one fails auth: its key must not surface in the refusal either).
    body = {
        "carrier": "CMCC",
        "platform": "control_center",
        "base_url": local_carrier.base_url,
        "username": user,
        "api_key": marker,
    }
    created = api.post("/v1/carrier-accounts", body, key=agent.admin_key, headers={"Idempotency-Key": idem})
    replay = api.post("/v1/carrier-accounts", body, key=agent.admin_key, headers={"Idempotency-Key": idem})
    answers = [created, replay]
    account = created.json["account_id"]
    t, grace_over = _suspendable(api, agent)
    answers.append(api.post(f"/v1/carrier-accounts/{account}/check", {}, key=agent.admin_key))
    answers.append(api.get("/v1/carrier-accounts", key=agent.admin_key))
    _sweep(api, platform_key, grace_over)
    _wait(lambda: api.get("/v1/carrier-operations", key=agent.admin_key).json["items"], what="failed op")
    answers += [
        api.get("/v1/carrier-operations", key=agent.admin_key),
        api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key),
        api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key),
        api.get("/v1/carrier-sync", key=agent.admin_key),
    ]
    for answer in answers:
        assert marker not in answer.body.decode(errors="replace"), answer.body
    time.sleep(1)  # log lines flushed
    for log in (LOCAL / "logs").glob("it-*.log"):
        assert marker not in log.read_text(encoding="utf-8", errors="replace"), log
    secrets_file = Path(env["CARRIER_SECRETS_FILE"])
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert marker in json.loads(secrets_file.read_text()).values()  # kept, only there


def _back_by_renewal(api: ApiClient, agent: Agent, t: dict[str, Any], plan: dict[str, Any], ddb: Any) -> None:
    lines = [{"sn": t["sn"], "plan_id": plan["plan_id"]}]
    order = api.post("/v1/orders", {"lines": lines, "payment": "offline"}, key=agent.admin_key).json
    assert api.post(f"/v1/orders/{order['order_id']}/mark-paid", {"note": "cash"}, key=agent.admin_key).status == 200


def _back_by_voucher(api: ApiClient, agent: Agent, t: dict[str, Any], plan: dict[str, Any], ddb: Any) -> None:
    code = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 1}, key=agent.admin_key).json
    assert api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code["codes"][0]}).status == 200


def _back_by_transfer(api: ApiClient, agent: Agent, t: dict[str, Any], plan: dict[str, Any], ddb: Any) -> None:
    m = api.post("/v1/merchants", {"name": f"送时间{next(_day)}", "phone": "13812340001"}, key=agent.admin_key).json
    later = (date.today() + timedelta(days=400)).isoformat()
    giver = api.post(
        "/v1/terminals", terminal_body(merchant_id=m["merchant_id"], expires_on=later), key=agent.admin_key
    ).json
    body = {"to_sn": t["sn"], "months": 1, "reason": "转赠"}
    assert api.post(f"/v1/terminals/{giver['sn']}/transfer-time", body, key=agent.admin_key).status == 201


def _back_by_reactivation(api: ApiClient, agent: Agent, t: dict[str, Any], plan: dict[str, Any], ddb: Any) -> None:
    from simrenew.adapters.dynamodb.fleet import TerminalRepository

    assert api.post(f"/v1/terminals/{t['sn']}/deactivate", {}, key=agent.admin_key).status == 200
    item = TerminalRepository().item(agent.tenant_id, t["sn"])  # set-up: it has time left again
    assert item is not None
    item.expires_on = (date.today() + timedelta(days=60)).isoformat()
    item.save()
    r = api.post(f"/v1/terminals/{t['sn']}/reactivate", {}, key=agent.admin_key)
    assert (r.status, r.json["status"]) == (200, "active"), r.body


@pytest.mark.parametrize("bring_back", [_back_by_renewal, _back_by_voucher, _back_by_transfer, _back_by_reactivation])
def test_a_suspended_sim_comes_back_at_the_carrier_by_every_way_its_terminal_does(
    api: ApiClient,
    platform_key: str,
    local_carrier: LocalCarrier,
    poller: OutboxPollerProcess,
    ddb: Any,
    bring_back: Any,
) -> None:
    agent, user, _account, t, grace_over = _connected_suspendable(api, platform_key, local_carrier)
    _sweep(api, platform_key, grace_over)
    _wait(lambda: _carrier_state(api, agent, t["sn"])["status"] == "DEACTIVATED", what="DEACTIVATED")
    plan = api.post(
        "/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 100}, key=agent.admin_key
    ).json
    bring_back(api, agent, t, plan, ddb)
    _wait(lambda: _carrier_state(api, agent, t["sn"])["status"] == "ACTIVATED", what="ACTIVATED")
    assert _changes(local_carrier, user, t["iccid"]) == [("ACTIVATED", "DEACTIVATED"), ("DEACTIVATED", "ACTIVATED")]
    ops = api.get(f"/v1/terminals/{t['sn']}/carrier-operations", key=agent.admin_key).json["items"]
    assert [(o["action"], o["state"], o["outcome"]) for o in ops] == [
        ("resume", "done", "changed"),
        ("suspend", "done", "changed"),
    ]
