"""Answers of the service routes (health)."""

from __future__ import annotations

from typing import Any

from chalicelib.responses._base import Out, absent


class HealthChecks(Out):
    dynamodb: str


class Health(Out):
    status: str
    version: str
    env: str
    checks: HealthChecks


class SweepQueued(Out):
    run_id: str
    as_of: str
    status: str


class SweepCounters(Out):
    items_read: int = 0
    queries: int = 0
    reminders_sent: int = 0
    held_for_daytime: int = 0
    moved_to_grace: int = 0
    suspended: int = 0


class SweepTotals(SweepCounters):
    """The run's counters over its shards (empty until it is coordinated)."""

    digests_sent: int = 0
    events_sent: int = 0


class SweepShard(SweepCounters):
    shard: int
    status: str
    dates_done: int
    dates: int
    invocations: int


class SweepRun(Out):
    """A sweep run's progress: its shards and their counters, the totals once done."""

    run_id: str
    as_of: str
    source: str
    requested_at: str | None
    coordinated_at: str | None
    status: str
    shards_total: int
    shards_done: int
    shards: list[SweepShard]
    totals: SweepTotals
    start: str = absent()
    dates: list[str] = absent()
    finished_at: str | None = None


MODELS = [Health, SweepQueued, SweepCounters, SweepTotals, SweepShard, SweepRun]


class OpenApiDocument(Out):
    """This API's OpenAPI 3 document (its own schema is OpenAPI's)."""

    openapi: str
    info: dict[str, Any]
    servers: list[dict[str, Any]]
    paths: dict[str, Any]
    components: dict[str, Any]


MODELS.append(OpenApiDocument)
