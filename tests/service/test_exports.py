"""CSV exports on the fakes: a bad kind or filter refused at once with its field (nothing queued),
the worker writing the agent's rows (never another agent's) once, the download offered only when
the file is written, and a failed write reported as failed."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from simrenew.errors import NotFound, ValidationError
from simrenew.services.exports import ExportService
from simrenew.services.reports import ExpiryReports
from tests.service.conftest import World
from tests.support.fakes.exports import FakeDispatcher, FakeExports, FakeObjects


class Exporting:
    def __init__(self, world: World) -> None:
        self.jobs = FakeExports()
        self.objects = FakeObjects()
        self.dispatcher = FakeDispatcher()
        reports = ExpiryReports(world.tenants, world.terminals, None, world.clock)
        self.service = ExportService(
            world.fleet, world.orders, reports, self.objects, self.dispatcher, world.clock, self.jobs
        )

    def start(self, tenant_id: str, body: dict[str, Any]) -> str:
        export_id: str = self.service.start(tenant_id, body, created_by="key_1")["export_id"]
        return export_id

    def written(self, tenant_id: str, export_id: str) -> list[list[str]]:
        data = self.objects.files[self.objects.export_key(tenant_id, export_id)]
        assert data.startswith("\ufeff".encode()), "the BOM makes Excel read UTF-8"
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def exporting(world: World) -> Exporting:
    return Exporting(world)


def test_an_export_is_queued_written_by_the_worker_and_then_offered_for_download(
    world: World, exporting: Exporting
) -> None:
    agent = world.agent()
    sns = {world.terminal(agent).sn for _ in range(3)}
    export_id = exporting.start(agent, {"kind": "terminals"})
    assert exporting.dispatcher.events == [{"task": "export", "tenant_id": agent, "export_id": export_id}]
    before = exporting.service.status(agent, export_id)
    assert (before["status"], before["download_url"]) == ("running", None)

    assert exporting.service.run(agent, export_id) == "done"

    rows = exporting.written(agent, export_id)
    # The SN as Excel text (="..."), so a sheet keeps its leading zeros and long digits.
    assert rows[0][0] == "sn" and {row[0] for row in rows[1:]} == {f'="{sn}"' for sn in sns}
    after = exporting.service.status(agent, export_id)
    assert after["status"] == "done" and after["rows"] == 3
    assert after["size_bytes"] == len(exporting.objects.files[exporting.objects.export_key(agent, export_id)])
    assert after["download_url"].endswith(f"filename=terminals-{export_id}.csv")
    assert after["download_expires_at"] is not None


def test_a_second_run_of_a_finished_export_writes_nothing(world: World, exporting: Exporting) -> None:
    agent = world.agent()
    world.terminal(agent)
    export_id = exporting.start(agent, {"kind": "terminals"})
    assert exporting.service.run(agent, export_id) == "done"
    assert exporting.service.run(agent, export_id) == "nothing_to_do"
    assert exporting.objects.uploads == 1


def test_an_agent_exports_only_its_own_terminals_and_cannot_read_another_agents_export(
    world: World, exporting: Exporting
) -> None:
    mine, theirs = world.agent(), world.agent()
    my_sn = world.terminal(mine).sn
    world.terminal(theirs)
    export_id = exporting.start(mine, {"kind": "terminals"})
    exporting.service.run(mine, export_id)
    assert [row[0] for row in exporting.written(mine, export_id)[1:]] == [f'="{my_sn}"']
    with pytest.raises(NotFound) as err:
        exporting.service.status(theirs, export_id)
    assert err.value.code == "export_not_found"
    with pytest.raises(NotFound):
        exporting.service.run(theirs, export_id)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "everything"}, "kind", "invalid_choice"),
        ({"kind": "terminals", "filters": {"status": "sleeping"}}, "filters.status", "invalid_choice"),
        ({"kind": "terminals", "filters": ["status"]}, "filters", "invalid_type"),
        ({"kind": "terminals", "filters": {"q": True}}, "filters.q", "invalid_type"),
        ({"kind": "ledger"}, "filters.sn", "required"),
        ({"kind": "expiring", "filters": {"days": "400"}}, "filters.days", "out_of_range"),
    ],
)
def test_a_bad_kind_or_filter_is_refused_at_once_with_its_field_and_nothing_is_queued(
    world: World, exporting: Exporting, body: dict[str, Any], field: str, code: str
) -> None:
    agent = world.agent()
    world.terminal(agent)
    with pytest.raises(ValidationError) as err:
        exporting.start(agent, body)
    assert (err.value.field, err.value.code) == (field, code)
    assert exporting.jobs.jobs == {} and exporting.dispatcher.events == []


def test_the_filters_select_the_rows_and_paging_parameters_are_dropped(world: World, exporting: Exporting) -> None:
    agent = world.agent()
    merchant = world.merchant(agent)
    wanted = world.terminal(agent, merchant_id=merchant).sn
    world.terminal(agent)
    export_id = exporting.start(agent, {"kind": "terminals", "filters": {"q": wanted, "limit": 1, "cursor": "x"}})
    assert exporting.service.status(agent, export_id)["filters"] == {"q": wanted}
    exporting.service.run(agent, export_id)
    assert [row[0] for row in exporting.written(agent, export_id)[1:]] == [f'="{wanted}"']


def test_an_orders_export_lists_each_order_with_its_terminals(world: World, exporting: Exporting) -> None:
    agent = world.agent()
    plan = world.plan(agent)
    sns = [world.terminal(agent).sn, world.terminal(agent).sn]
    lines = [{"sn": sn, "plan_id": plan.plan_id} for sn in sns]
    order, _ = world.orders.create(agent, {"lines": lines, "payment": "offline"}, actor="k")
    export_id = exporting.start(agent, {"kind": "orders"})
    exporting.service.run(agent, export_id)
    header, *rows = exporting.written(agent, export_id)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["order_id"] == order.order_id and row["sns"] == " ".join(sns)
    assert row["amount_fen"] == str(2 * plan.price_fen)


def test_a_write_that_fails_marks_the_export_failed_with_no_download(world: World, exporting: Exporting) -> None:
    agent = world.agent()
    world.terminal(agent)
    export_id = exporting.start(agent, {"kind": "terminals"})
    exporting.objects.fail_uploads = True
    assert exporting.service.run(agent, export_id) == "failed"
    status = exporting.service.status(agent, export_id)
    assert status["status"] == "failed" and status["download_url"] is None
    assert status["message"] == "the bucket is throttling"
