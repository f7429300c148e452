"""The daily sweep fanned out over the expiry shards, whatever the platform's size.

One run of a day is a chain of asynchronous invocations of the sweep function (a Lambda `Invoke`
with InvocationType=Event in AWS; a background thread locally), each one step of SweepService:

    {"sweep": "coordinate", run_id, as_of}        begin: the day's window and dates, held SMS;
                                                  then one worker event per expiry shard
    {"sweep": "shard", run_id, as_of, shard, n}   a worker: the shard from its checkpoint, under
                                                  its lease; near the time limit it invokes
                                                  itself again (n + 1) and stops
    {"sweep": "finish", run_id, as_of}            the day's end (digests, last swept day): run by
                                                  the worker that completed the last shard, and
                                                  continued the same way if it runs short

`POST /v1/admin/sweeps` records a request and dispatches its coordinator (the API function itself
never sends a message); the daily schedule coordinates in its own invocation. `progress` is what
`GET /v1/admin/sweeps/{run_id}` shows. A day is swept once: a second run of it finds its shards
complete and sends nothing (each message is claimed in any case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from simrenew.clock import Clock, iso_utc
from simrenew.errors import NotFound, ValidationError
from simrenew.ids import new_id
from simrenew.log import get_logger
from simrenew.ports.dispatch import Dispatcher
from simrenew.ports.sweeps import COUNTERS, SweepDays
from simrenew.services.sweep import SweepService

STEPS = ("coordinate", "shard", "finish")


@dataclass(eq=False, repr=False)
class SweepRuns:
    _sweep: SweepService
    _days: SweepDays
    _dispatcher: Dispatcher
    _clock: Clock

    # --- starting a run ---------------------------------------------------------------------------------
    def request(self, as_of: date, source: str = "api") -> dict[str, Any]:
        """Record a run of the day and hand its coordinator to the sweep function (202)."""
        self._sweep.check_day(as_of)
        run_id = new_id("sweep")
        self._days.add_request(run_id, as_of, source, self._clock.now())
        self._dispatcher.dispatch({"sweep": "coordinate", "run_id": run_id, "as_of": as_of.isoformat()})
        return {"run_id": run_id, "as_of": as_of.isoformat(), "status": "queued"}

    def scheduled(self, as_of: date) -> dict[str, Any]:
        """The daily schedule's invocation: a run recorded and coordinated right here."""
        self._sweep.check_day(as_of)
        run_id = new_id("sweep")
        self._days.add_request(run_id, as_of, "schedule", self._clock.now())
        return self.coordinate(run_id, as_of)

    # --- the steps (the sweep function) -----------------------------------------------------------------
    def handle(self, event: dict[str, Any], remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
        step = event.get("sweep")
        if step not in STEPS:
            raise ValidationError("sweep", "unknown_step", f"sweep must be one of {', '.join(STEPS)}")
        run_id, as_of = str(event["run_id"]), date.fromisoformat(str(event["as_of"]))
        if step == "coordinate":
            return self.coordinate(run_id, as_of)
        if step == "shard":
            return self.work(run_id, as_of, int(event["shard"]), int(event.get("invocation", 1)), remaining_ms)
        return self.finish(run_id, as_of, remaining_ms)

    def coordinate(self, run_id: str, as_of: date) -> dict[str, Any]:
        day, released = self._sweep.begin(as_of)
        for shard in range(day.shards):
            self._dispatcher.dispatch(
                {"sweep": "shard", "run_id": run_id, "as_of": as_of.isoformat(), "shard": shard, "invocation": 1}
            )
        self._days.request_coordinated(run_id, self._clock.now())
        get_logger().info("sweep fanned out", extra={"run_id": run_id, "as_of": as_of.isoformat()})
        return {"run_id": run_id, "as_of": as_of.isoformat(), "workers": day.shards, "held_sms_sent": released}

    def work(
        self, run_id: str, as_of: date, shard: int, invocation: int, remaining_ms: Callable[[], int] | None
    ) -> dict[str, Any]:
        outcome = self._sweep.sweep_shard(as_of, shard, remaining_ms)
        answer = {"run_id": run_id, "as_of": as_of.isoformat(), "shard": shard, "status": outcome.status}
        answer |= {name: getattr(outcome.result, name) for name in COUNTERS}
        if outcome.status == "continued":
            # Before the deadline: the rest of the shard in a fresh invocation, from the checkpoint.
            self._dispatcher.dispatch(
                {
                    "sweep": "shard",
                    "run_id": run_id,
                    "as_of": as_of.isoformat(),
                    "shard": shard,
                    "invocation": invocation + 1,
                }
            )
        elif outcome.status == "done" and outcome.day_complete:
            answer["finish"] = self.finish(run_id, as_of, remaining_ms)
        return answer

    def finish(self, run_id: str, as_of: date, remaining_ms: Callable[[], int] | None) -> dict[str, Any]:
        end = self._sweep.finish_day(as_of, remaining_ms)
        if end.status == "continued":
            self._dispatcher.dispatch({"sweep": "finish", "run_id": run_id, "as_of": as_of.isoformat()})
        return {"status": end.status, "digests_sent": end.digests_sent, "events_sent": end.events_sent}

    # --- progress -----------------------------------------------------------------------------------------
    def progress(self, run_id: str) -> dict[str, Any]:
        request = self._days.request(run_id)
        if request is None:
            raise NotFound("no such sweep run", code="sweep_run_not_found")
        day = self._days.day(request.as_of)
        out: dict[str, Any] = {
            "run_id": run_id,
            "as_of": request.as_of.isoformat(),
            "source": request.source,
            "requested_at": iso_utc(request.requested_at) if request.requested_at else None,
            "coordinated_at": iso_utc(request.coordinated_at) if request.coordinated_at else None,
        }
        if day is None:
            return out | {"status": "queued", "shards_total": 0, "shards_done": 0, "shards": [], "totals": {}}
        shards = []
        totals = dict.fromkeys(COUNTERS, 0)
        for state in self._days.shards(request.as_of, day.shards):
            read = len(set(day.dates) & state.done_dates)
            if state.complete(day):
                status = "done"
            elif state.holder:
                status = "running"
            else:
                status = "waiting" if state.invocations else "pending"
            for name in COUNTERS:
                totals[name] += state.counters.get(name, 0)
            shards.append(
                {
                    "shard": state.shard,
                    "status": status,
                    "dates_done": read,
                    "dates": len(day.dates),
                    "invocations": state.invocations,
                    **{name: state.counters.get(name, 0) for name in COUNTERS},
                }
            )
        totals["reminders_sent"] += day.released
        totals |= {"digests_sent": day.digests_sent, "events_sent": day.events_sent}
        done = sum(1 for s in shards if s["status"] == "done")
        # Queued until its coordinator has run (the day may be another run's, finished already).
        status = "queued" if request.coordinated_at is None else "done" if day.finished_at else "running"
        return out | {
            "status": status,
            "start": day.start.isoformat(),
            "dates": [d.isoformat() for d in day.dates],
            "shards_total": day.shards,
            "shards_done": done,
            "shards": shards,
            "totals": totals,
            "finished_at": iso_utc(day.finished_at) if day.finished_at else None,
        }
