"""The daily sweep fanned out: one coordinator, one worker per expiry shard (each under a lease,
with its own checkpoint and continuation), the day's end by the last worker. The steps are run
from a recording dispatcher (what Lambda would invoke), in the order and as often as the test
says. Collected by unit (moto) and integration (DynamoDB Local)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb import keys
from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
from simrenew.adapters.dynamodb.sweeps import RUN_LEASE, SweepRepository, SweepStateItem
from simrenew.clock import FixedClock
from simrenew.services import sweep as sweep_module
from simrenew.services.sweep_runs import SweepRuns
from tests.support.builders import signup_body
from tests.support.fleet import terminal_body
from tests.support.sweep import Killed, RecordingDispatcher, RecordingSender, sweep_service

_days = itertools.count(random.randrange(0, 150))
AGENT = signup_body(name="Fan-out Agent")


@pytest.fixture
def day0() -> date:
    """A day of its own per test (the integration suite shares one table)."""
    return date(2040, 1, 1) + timedelta(days=next(_days) * 100)


@pytest.fixture
def world(make_services: Any, day0: date) -> Any:
    clock = FixedClock(datetime(day0.year, day0.month, day0.day, 2, 0, tzinfo=UTC))
    svc = make_services(clock)
    SweepStateItem("SWEEP", "LAST", last_day=(day0 - timedelta(days=1)).isoformat()).save()
    return svc, clock


def _fleet(svc: Any, expires_on: date, per_shard: int, shards: range = range(keys.EXPIRY_SHARDS)) -> dict[str, int]:
    """Terminals expiring on one day, `per_shard` in each of `shards` (their SN decides the shard):
    SN -> shard. One agent, one merchant, SMS only."""
    tenant, _ = svc.tenants.create_active(dict(AGENT))
    m = svc.fleet.create_merchant(tenant.tenant_id, {"name": "扇出店", "phone": "13812345678"})
    wanted = dict.fromkeys(shards, per_shard)
    made: dict[str, int] = {}
    for n in itertools.count():
        if not any(wanted.values()):
            return made
        sn = f"FAN{random.randrange(10**6):06d}{n:05d}"
        shard = keys.expiry_shard(sn)
        if wanted.get(shard):
            body = terminal_body(merchant_id=m.merchant_id, expires_on=expires_on.isoformat())
            svc.fleet.register(tenant.tenant_id, {**body, "sn": sn})
            made[sn] = shard
            wanted[shard] -= 1
    return made


def _runs(sender: RecordingSender, clock: FixedClock, **service: Any) -> tuple[SweepRuns, RecordingDispatcher]:
    dispatcher = RecordingDispatcher()
    sweep = sweep_service(sender, clock, **service)
    return SweepRuns(sweep, SweepDayRepository(), dispatcher, clock), dispatcher


def _one_shard(
    world: Any, day0: date, sender: RecordingSender, shard: int, per_shard: int
) -> tuple[dict[str, int], SweepRuns, RecordingDispatcher, dict[str, Any]]:
    """`per_shard` terminals of `shard` due their 1-day reminder, the day's run requested and its
    coordinator handled: the terminals, the runs, their dispatcher and the shard's worker event."""
    svc, clock = world
    sns = _fleet(svc, day0 + timedelta(days=1), per_shard=per_shard, shards=range(shard, shard + 1))
    runs, dispatcher = _runs(sender, clock)
    runs.request(day0)
    runs.handle(dispatcher.take()[0])  # the coordinator
    (worker,) = [e for e in dispatcher.take() if e["shard"] == shard]
    return sns, runs, dispatcher, worker


def _sent(sender: RecordingSender, sns: dict[str, int]) -> list[str]:
    return sorted(m["sn"] for m in sender.sent if m["sn"] in sns)


def test_the_coordinator_starts_one_worker_per_shard_and_every_shard_is_swept_exactly_once(
    world: Any, day0: date
) -> None:
    svc, clock = world
    sns = _fleet(svc, day0 + timedelta(days=7), per_shard=1)  # the 7-day reminder, in every shard
    sender = RecordingSender()
    runs, dispatcher = _runs(sender, clock)
    started = runs.request(day0)  # what POST /v1/admin/sweeps does
    (coordinate,) = dispatcher.take()
    assert coordinate == {"sweep": "coordinate", "run_id": started["run_id"], "as_of": day0.isoformat()}
    assert runs.progress(started["run_id"])["status"] == "queued"

    runs.handle(coordinate)
    workers = dispatcher.take()
    assert sorted(e["shard"] for e in workers) == list(range(keys.EXPIRY_SHARDS))  # each shard once
    assert {(e["sweep"], e["run_id"], e["invocation"]) for e in workers} == {("shard", started["run_id"], 1)}

    random.shuffle(workers)  # Lambda runs them in any order, and may deliver one twice
    answers = [runs.handle(e) for e in [*workers, workers[0]]]
    assert dispatcher.take() == []  # nobody needed a continuation
    assert [a["status"] for a in answers] == ["done"] * (keys.EXPIRY_SHARDS + 1)
    assert sorted(a["items_read"] for a in answers) == [0] + [1] * keys.EXPIRY_SHARDS  # the repeat read nothing
    assert next(a for a in answers if "finish" in a)["finish"]["digests_sent"] == 1  # by the last worker

    assert _sent(sender, sns) == sorted(sns)  # one reminder per terminal: no shard read twice, none skipped
    assert len([m for m in sender.sent if m["kind"] == "digest" and m["to"] == AGENT["contact_email"]]) == 1
    progress = runs.progress(started["run_id"])
    assert (progress["status"], progress["shards_done"], progress["totals"]["items_read"]) == ("done", 8, 8)
    assert [s["items_read"] for s in progress["shards"]] == [1] * keys.EXPIRY_SHARDS
    assert SweepRepository().last_day() == day0
    # The schedule's run of the same day later: every shard is complete, nothing is sent again.
    runs.scheduled(day0)
    for event in dispatcher.take():
        runs.handle(event)
    assert _sent(sender, sns) == sorted(sns)


def test_a_worker_near_its_deadline_checkpoints_and_its_continuation_resumes_without_resending(
    world: Any, day0: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_module, "CHECKPOINT_EVERY", 2)
    sender = RecordingSender()
    sns, runs, dispatcher, worker = _one_shard(world, day0, sender, shard=3, per_shard=7)
    calls = itertools.count()
    # Lambda's clock: plenty for the first few terminals, then under a minute before the deadline.
    first = runs.handle(worker, remaining_ms=lambda: 120_000 if next(calls) < 4 else 30_000)
    assert first["status"] == "continued" and 0 < first["items_read"] < 7
    (continuation,) = dispatcher.take()
    assert continuation == {**worker, "invocation": 2}  # it re-invokes itself, same shard, next invocation
    before = _sent(sender, sns)
    second = runs.handle(continuation, remaining_ms=lambda: 800_000)
    assert second["status"] == "done"
    assert first["items_read"] + second["items_read"] == 7  # resumed at the checkpoint: nothing read twice
    assert _sent(sender, sns) == sorted(sns) and len(before) == first["items_read"]
    shard = runs.progress(worker["run_id"])["shards"][3]
    assert (shard["invocations"], shard["items_read"], shard["reminders_sent"]) == (2, 7, 7)


def test_a_worker_killed_mid_shard_is_retried_from_its_checkpoint_and_sends_each_message_once(
    world: Any, day0: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    _svc, clock = world
    monkeypatch.setattr(sweep_module, "CHECKPOINT_EVERY", 2)
    dying = RecordingSender(die_after=3)  # killed after three messages: past one checkpoint, not two
    sns, runs, _dispatcher, worker = _one_shard(world, day0, dying, shard=5, per_shard=6)
    with pytest.raises(Killed):
        runs.handle(worker)
    retry = RecordingSender()
    runs_again, _ = _runs(retry, clock)
    assert runs_again.handle(worker)["status"] == "done"  # Lambda's retry of the same event
    assert sorted(_sent(dying, sns) + _sent(retry, sns)) == sorted(sns)  # n messages in all, none twice
    assert runs_again.progress(worker["run_id"])["shards"][5]["items_read"] < 6 + 3  # not from the start


def test_a_shard_held_by_a_live_worker_is_waited_for_and_taken_over_only_once_its_heartbeat_stops(
    world: Any, day0: date
) -> None:
    svc, clock = world
    sns = _fleet(svc, day0 + timedelta(days=7), per_shard=2, shards=range(0, 1))
    days, repo = SweepDayRepository(), SweepRepository()
    sender = RecordingSender()
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the clock moves while the worker waits
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    sweep = sweep_service(sender, clock, sleep=sleep)
    sweep.begin(day0)
    repo.alive("run_other", clock.now() + RUN_LEASE)  # another worker holds shard 0 and is alive
    assert days.take_shard(day0, 0, "run_other", None, clock.now()) is not None
    outcome = sweep.sweep_shard(day0, 0)
    assert outcome.status == "done" and outcome.result.items_read == 2
    assert RUN_LEASE.total_seconds() <= sum(slept) <= (RUN_LEASE + timedelta(seconds=5)).total_seconds()
    assert _sent(sender, sns) == sorted(sns)

    # A holder that keeps beating is alive: the newcomer leaves the shard to it.
    repo.alive("run_alive", clock.now() + RUN_LEASE)
    day1 = day0 + timedelta(days=1)
    sweep.begin(day1)
    assert days.take_shard(day1, 0, "run_alive", None, clock.now()) is not None

    def beating(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))
        repo.alive("run_alive", clock.now() + RUN_LEASE)

    patient = sweep_service(RecordingSender(), clock, sleep=beating)
    assert patient.sweep_shard(day1, 0).status == "busy"
    assert days.shard(day1, 0).holder == "run_alive"
