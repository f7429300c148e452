"""Repository and service behaviour below the HTTP layer, with an injected clock:
tenant isolation of every repository, transfer-code expiry, import crash and resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simrenew.clock import FixedClock
from simrenew.errors import NotFound, RuleViolation
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body
from tests.support.sweep import RecordingDispatcher

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
AGENT = {"name": "Repo Agent", "contact_name": "赵", "contact_email": "r@example.com", "contact_phone": "13800138000"}


@pytest.fixture
def world(make_services: Any) -> Any:
    clock = FixedClock(T0)
    svc = make_services(clock)
    dispatcher = RecordingDispatcher()
    svc.imports._dispatcher = dispatcher  # run imports synchronously in the test
    a, a_key = svc.tenants.create_active(dict(AGENT))
    b, _ = svc.tenants.create_active(dict(AGENT, name="Other Agent"))
    return svc, clock, dispatcher, a.tenant_id, b.tenant_id, a_key


def test_every_repository_answers_only_for_its_own_tenant(world: Any) -> None:
    svc, _clock, _dispatcher, a, b, a_key = world
    fleet = svc.fleet
    m = fleet.create_merchant(a, {"name": "甲店", "phone": "13500001111"})
    p = fleet.create_plan(a, {"name": "月卡", "term_months": 1, "data_quota_mb": 100, "price_fen": 1000})
    t = fleet.register(a, terminal_body(merchant_id=m.merchant_id, plan_id=p.plan_id))
    imp = svc.imports.start(a, (IMPORT_HEADER + "\n" + csv_row(terminal_body(tid="1")) + "\n").encode(), "test")
    svc.imports.run(a, imp)

    assert fleet.merchants.get(b, m.merchant_id) is None
    assert fleet.merchants.page(b, 50, None).items == []
    assert fleet.merchants.find_by_key(b, "甲店", "+8613500001111") is None
    assert fleet.plans.get(b, p.plan_id) is None
    assert fleet.plans.all(b) == []
    assert fleet.plans.ids_by_name(b, ["月卡"]) == {}
    assert fleet.terminals.get(b, t.sn) is None
    assert fleet.terminals.get_many(b, [t.sn]) == {}
    assert fleet.terminals.search(b, t.sn[:4], 10) == []
    assert fleet.terminals.find_by_tid(b, t.tid) is None
    assert fleet.terminals.children(b, t.sn) == []
    assert list(fleet.terminals.iterate(b)) == []
    for status in ("active", None):
        page = fleet.terminals.page(
            b, status=status, merchant_id=None, expires_from=None, expires_before=None, limit=50, cursor=None
        )
        assert page.items == []
    assert svc.imports._imports.get(b, imp) is None
    assert svc.imports._imports.errors(b, imp) == []
    with pytest.raises(NotFound):
        svc.imports.status(b, imp)
    keys_repo = svc.auth._keys
    assert keys_repo.get(b, a_key.key.key_id) is None
    assert a_key.key.key_id not in {k.key_id for k in keys_repo.list_all(b)}
    with pytest.raises(NotFound):
        keys_repo.revoke(b, a_key.key.key_id, T0)
    # ...and every one of them does answer for the owner.
    assert fleet.terminals.get(a, t.sn) is not None
    assert svc.imports._imports.errors(a, imp)[0].field == "tid"


def test_a_transfer_code_expires_after_72_hours(world: Any) -> None:
    svc, clock, _d, a, b, _ = world
    t = svc.fleet.register(a, terminal_body())
    code, expires_at = svc.fleet.issue_transfer_code(a, t.sn)
    assert expires_at == "2026-11-28T02:00:00Z"
    clock.advance(timedelta(hours=72, seconds=1))
    with pytest.raises(RuleViolation) as err:
        svc.fleet.claim(b, {"sn": t.sn, "code": code})
    assert err.value.code == "invalid_transfer_code"
    assert svc.fleet.terminals.get(a, t.sn) is not None


def test_an_import_killed_midway_resumes_without_duplicates(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, clock, dispatcher, a, _b, _ = world
    monkeypatch.setattr("simrenew.services.imports.BATCH_ROWS", 30)
    rows = [terminal_body() for _ in range(35)]
    data = ("\n".join([IMPORT_HEADER, *[csv_row(r, ("甲店", "13500001111")) for r in rows]]) + "\n").encode()
    import_id = svc.imports.start(a, data, "test")
    assert dispatcher.events == [{"tenant_id": a, "import_id": import_id}]

    terminals = svc.imports._terminals
    real = terminals.register_many
    doomed = rows[25]["sn"]

    def dies_on_the_second_transaction(batch: Any, now: Any) -> Any:
        # Batch 1's transactions (rows 1-25, 26-30) run side by side: the one of rows 26-30 "dies"
        # (the worker waits for the other, which writes its 25 rows).
        if doomed in {t.sn for t in batch}:
            raise KeyboardInterrupt("killed")
        return real(batch, now)

    monkeypatch.setattr(terminals, "register_many", dies_on_the_second_transaction)
    with pytest.raises(KeyboardInterrupt):
        svc.imports.run(a, import_id)
    half = svc.imports.status(a, import_id)
    assert half["status"] == "running" and half["processed"] == 0

    # The lease is held for 2 minutes by the dead worker; a resume before then is refused.
    from simrenew.errors import Conflict

    with pytest.raises(Conflict):
        svc.imports.resume(a, import_id)
    clock.advance(timedelta(minutes=3))
    svc.imports.resume(a, import_id)
    monkeypatch.setattr(terminals, "register_many", real)
    assert svc.imports.run(a, import_id) == "done"

    done = svc.imports.status(a, import_id)
    assert done["processed"] == done["total"] == 35
    assert done["failed"] == 0
    # Rows written before the worker died come back as unchanged, never twice: batch 1's first
    # transaction (rows 1-25), and batch 2 (rows 31-35), which went to the writers while batch 1
    # was in flight (at most two batches are written past the checkpoint). Only rows 26-30 are new.
    assert (done["created"], done["unchanged"]) == (5, 30)
    sns = [t.sn for t in svc.fleet.terminals.iterate(a)]
    assert sorted(sns) == sorted(r["sn"] for r in rows)
    assert len(svc.fleet.merchants.page(a, 50, None).items) == 1


def test_unpaid_orders_expire_after_30_minutes_and_a_late_payment_still_renews(make_services: Any) -> None:
    from tests.support.env import WEBHOOK_SECRET
    from tests.support.payments import FakeGateway, sign

    clock = FixedClock(T0)
    gateway = FakeGateway(WEBHOOK_SECRET)
    svc = make_services(clock, gateway)
    a = svc.tenants.create_active(dict(AGENT))[0].tenant_id
    m = svc.fleet.create_merchant(a, {"name": "店", "phone": "13500009999"})
    plan = svc.fleet.create_plan(a, {"name": "月卡", "term_months": 1, "data_quota_mb": 10, "price_fen": 1500})
    t = svc.fleet.register(a, terminal_body(merchant_id=m.merchant_id, expires_on="2026-12-31"))
    order, payment = svc.orders.create(a, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="test")
    assert payment is not None
    clock.advance(timedelta(minutes=29))
    assert svc.orders.expire_due() == 0
    clock.advance(timedelta(minutes=2))
    assert svc.orders.expire_due() == 1
    assert svc.orders.get(a, order.order_id).status.value == "expired"
    assert gateway.cancelled == [payment["payment_intent_id"]]
    # The merchant had paid just before the cancel reached Stripe: the payment is honoured.
    payload = gateway.succeeded_event(payment["payment_intent_id"])
    svc.orders.handle_webhook(payload, sign(payload, WEBHOOK_SECRET))
    assert svc.orders.get(a, order.order_id).status.value == "fulfilled"
    assert svc.fleet.get(a, t.sn).expires_on.isoformat() == "2027-01-31"
