"""Fleet imports on the in-memory store: a file's bad rows refused with their reasons and the rest
applied, the checkpoint moved batch by batch and the import resumed from it, a re-import reporting
rows unchanged, and one agent never reading another's import."""

from __future__ import annotations

from typing import Any

import pytest

from simrenew.adapters.dynamodb.imports import ImportItem
from simrenew.adapters.dynamodb.models import TerminalItem
from simrenew.errors import Conflict, NotFound, ValidationError
from simrenew.services.imports import ImportService
from tests.service.conftest import World
from tests.support.fakes.imports import FakeImportRepository
from tests.support.fleet import IMPORT_HEADER, bad_luhn, csv_row, terminal_body

Imports = ImportService[ImportItem, TerminalItem]


class Dispatcher:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def dispatch(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class Batches:
    """A Lambda deadline with time for `batches` batches, then 10 s left (the worker stops at 30 s)."""

    def __init__(self, batches: int) -> None:
        self.left = batches

    def remaining_ms(self) -> int:
        self.left -= 1
        return 600_000 if self.left >= 0 else 10_000


def service(world: World) -> tuple[Imports, Dispatcher]:
    dispatcher = Dispatcher()
    imports = ImportService(
        FakeImportRepository(world.table),
        world.fleet,
        world.terminals,
        world.plans,
        world.merchants,
        dispatcher,
        world.clock,
        writers=2,
    )
    return imports, dispatcher


def csv(bodies: list[dict[str, Any]], merchant: tuple[str, str] | None = None) -> bytes:
    return ("\n".join([IMPORT_HEADER, *(csv_row(b, merchant) for b in bodies)]) + "\n").encode()


def test_a_bad_row_is_refused_with_its_reason_and_the_other_rows_are_applied(world: World) -> None:
    tenant = world.agent()
    imports, dispatcher = service(world)
    bodies = [terminal_body() for _ in range(4)]
    bodies[2]["iccid"] = bad_luhn(bodies[2]["iccid"])
    import_id = imports.start(tenant, csv(bodies, ("商户甲", "13800138000")), "test")
    assert dispatcher.events == [{"tenant_id": tenant, "import_id": import_id}]
    assert imports.run(tenant, import_id) == "done"
    status = imports.status(tenant, import_id)
    assert (status["status"], status["total"], status["created"], status["failed"]) == ("done", 4, 3, 1)
    ((error),) = status["errors"]
    assert (error["row"], error["field"]) == (4, "iccid")  # the header is row 1
    stored = {t.sn for t in world.terminals.iterate(tenant)}
    assert stored == {b["sn"] for i, b in enumerate(bodies) if i != 2}
    assert imports.run(tenant, import_id) == "nothing_to_do"


def test_an_import_stopped_at_its_deadline_resumes_from_the_checkpoint(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("simrenew.services.imports.BATCH_ROWS", 3)
    tenant = world.agent()
    imports, dispatcher = service(world)
    bodies = [terminal_body() for _ in range(7)]
    import_id = imports.start(tenant, csv(bodies), "test")
    again: list[str] = []
    assert imports.run(tenant, import_id, Batches(2), redispatch=lambda: again.append("again")) == "continued"
    status = imports.status(tenant, import_id)
    assert (status["status"], status["processed"], status["created"], again) == ("running", 6, 6, ["again"])
    assert imports.resume(tenant, import_id)["processed"] == 6  # its lease was handed back: resumable
    assert dispatcher.events[-1] == {"tenant_id": tenant, "import_id": import_id}
    assert imports.run(tenant, import_id) == "done"
    status = imports.status(tenant, import_id)
    assert (status["processed"], status["created"], status["failed"]) == (7, 7, 0)
    assert len(list(world.terminals.iterate(tenant))) == 7
    with pytest.raises(Conflict) as finished:
        imports.resume(tenant, import_id)
    assert finished.value.code == "import_finished"


def test_a_reimport_reports_its_rows_unchanged_and_a_changed_row_updated(world: World) -> None:
    tenant = world.agent()
    imports, _ = service(world)
    bodies = [terminal_body() for _ in range(3)]
    first = imports.start(tenant, csv(bodies), "test")
    imports.run(tenant, first)
    bodies[0]["model"] = "Sunmi P2"
    again = imports.start(tenant, csv(bodies), "test")
    assert imports.run(tenant, again) == "done"
    status = imports.status(tenant, again)
    assert (status["created"], status["updated"], status["unchanged"]) == (0, 1, 2)
    terminal = world.terminals.get(tenant, bodies[0]["sn"])
    assert terminal is not None and terminal.model == "Sunmi P2"


def test_a_file_without_rows_is_refused_before_anything_is_written(world: World) -> None:
    tenant = world.agent()
    imports, dispatcher = service(world)
    with pytest.raises(ValidationError) as empty:
        imports.start(tenant, (IMPORT_HEADER + "\n").encode(), "test")
    assert empty.value.code == "no_rows" and dispatcher.events == []


def test_one_agent_never_reads_or_resumes_anothers_import(world: World) -> None:
    a, b = world.agent(), world.agent()
    imports, _ = service(world)
    import_id = imports.start(a, csv([terminal_body()]), "test")
    for call in (imports.status, imports.resume, imports.all_errors):
        with pytest.raises(NotFound):
            call(b, import_id)
    assert imports.run(b, import_id) == "nothing_to_do"
    assert list(world.terminals.iterate(b)) == []
