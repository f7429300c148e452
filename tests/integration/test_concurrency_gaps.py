"""Concurrency and crash cases against DynamoDB Local that the other suites leave out.

Already covered elsewhere (and not repeated here): the same Stripe event twenty times at once,
ten paid orders for one terminal at once, ten redemptions of one voucher at once
(test_payment_journey.py); a sweep killed after k of n reminders and rerun, an import killed
mid-batch and resumed (tests/cases, run against moto and DynamoDB Local).

Here: several different vouchers redeemed on one terminal at once, the import worker delivered
twice at the same moment (Lambda's async invoke is at-least-once), and the same sweep day run
twice at the same moment (a schedule fired twice, or the operator's POST /v1/admin/sweeps
during the scheduled run). Each checks the exact end state; two of them found races (since fixed,
see their docstrings).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simrenew.domain.dates import add_months
from tests.support.builders import create_agent, one_terminal
from tests.support.client import ApiClient
from tests.support.concurrency import at_once
from tests.support.fleet import IMPORT_HEADER, csv_row, terminal_body
from tests.support.sweep import RecordingSender, sweep_service

AGENT = {
    "name": "Race Agent",
    "contact_name": "周",
    "contact_email": "race@example.com",
    "contact_phone": "13800138000",
}


def test_six_different_vouchers_redeemed_on_one_terminal_at_once_add_six_terms(
    api: ApiClient, platform_key: str
) -> None:
    """Six codes of one batch redeemed on one terminal at the same moment: each adds a term.

    This found two bugs, both fixed: PynamoDB sends a transaction's items as condition checks,
    deletes, puts, then updates, whatever the order of the calls, so cancellation reason 0 was
    the terminal's version check and a concurrent renewal read as "voucher used" (models.
    Transaction now gives reasons back in call order); and two codes of one batch on one
    terminal within a second had the same ledger key (the code's id is now part of it)."""
    agent = create_agent(api, platform_key)
    shop = ("并发小店", "13987650000")
    plan, t = one_terminal(api, agent, merchant=shop, plan=("月卡", 1), price_fen=1500, quota_mb=512)
    batch = api.post("/v1/vouchers/batches", {"plan_id": plan["plan_id"], "count": 6}, key=agent.admin_key)
    assert batch.status == 201, batch.body
    codes = batch.json["codes"]

    def redeem(code: str) -> int:
        for _ in range(5):  # a 503 (the terminal kept changing) is retried, as the pay page does
            r = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": code})
            if r.status != 503:
                return r.status
            time.sleep(0.2)
        return 503

    statuses = at_once([lambda c=c: redeem(c) for c in codes])
    assert statuses == [200] * 6, statuses
    expected = add_months(date.fromisoformat(t["expires_on"]), 6).isoformat()
    assert api.get(f"/v1/terminals/{t['sn']}", key=agent.admin_key).json["expires_on"] == expected
    ledger = api.get(f"/v1/terminals/{t['sn']}/renewals", key=agent.admin_key).json["items"]
    assert len(ledger) == 6
    # The six terms chain without a gap or an overlap.
    spans = sorted((r["old_expires_on"], r["new_expires_on"]) for r in ledger)
    assert spans[0][0] == t["expires_on"] and spans[-1][1] == expected
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    again = api.post("/v1/public/vouchers/redeem", {"sn": t["sn"], "code": codes[0]})
    assert (again.status, again.error["code"]) == (422, "invalid_voucher")


def test_the_import_worker_delivered_twice_at_once_writes_every_row_once(make_services: Any, ddb: Any) -> None:
    from simrenew.clock import SystemClock

    svc = make_services(SystemClock())
    tenant, _ = svc.tenants.create_active(dict(AGENT))

    class Held:
        def dispatch(self, event: dict[str, Any]) -> None:  # the invocation is made by the test
            pass

    svc.imports._dispatcher = Held()
    rows = [terminal_body() for _ in range(260)]  # two batches of the worker
    data = "\n".join([IMPORT_HEADER, *[csv_row(r, ("双投商户", "13500002222")) for r in rows]]) + "\n"
    import_id = svc.imports.start(tenant.tenant_id, data.encode(), "test")

    outcomes = at_once([lambda: svc.imports.run(tenant.tenant_id, import_id) for _ in range(2)])
    assert sorted(map(str, outcomes)) == ["busy", "done"], outcomes  # the lease lets one through
    status = svc.imports.status(tenant.tenant_id, import_id)
    assert (status["status"], status["processed"], status["created"], status["failed"]) == ("done", 260, 260, 0)
    stored = sorted(t.sn for t in svc.fleet.terminals.iterate(tenant.tenant_id))
    assert stored == sorted(r["sn"] for r in rows)
    assert len(svc.fleet.merchants.page(tenant.tenant_id, 50, None).items) == 1
    # A third, late delivery finds nothing to do.
    assert svc.imports.run(tenant.tenant_id, import_id) == "nothing_to_do"


class SlowSender(RecordingSender):
    """An SMS provider taking 50 ms a message, thread-safe (the two sweeps share nothing else)."""

    lock = threading.Lock()

    def send_to(self, message: Any) -> str:
        time.sleep(0.05)
        with self.lock:
            return super().send_to(message)


def test_the_same_sweep_day_run_twice_at_once_sends_each_message_once(make_services: Any, ddb: Any) -> None:
    """Two invocations of the sweep for one day at the same moment (a schedule fired twice).

    This found a race, fixed: a claim still 'sending' under another run id was taken over as if
    that run had died, so two live runs both sent it. Runs now keep a heartbeat; only a dead
    run's claim (or a held SMS) is taken over, and conditionally, by one run only."""
    from simrenew.adapters.dynamodb.sweeps import SweepStateItem
    from simrenew.clock import FixedClock

    day = date(2075, 1, 2) + timedelta(days=random.randrange(0, 2500) * 3 + 1)  # a day of its own
    clock = FixedClock(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
    svc = make_services(FixedClock(clock.now() - timedelta(days=10)))
    SweepStateItem("SWEEP", "LAST", last_day=(day - timedelta(days=1)).isoformat()).save()
    tenant, _ = svc.tenants.create_active(dict(AGENT, contact_email="race-sweep@example.com"))
    m = svc.fleet.create_merchant(tenant.tenant_id, {"name": "双跑店", "phone": "13812340000"})
    expected: dict[str, str] = {}
    for offset, kind in ((7, "reminder_7"), (1, "reminder_1"), (-1, "grace_started")):
        for _ in range(4):
            t = svc.fleet.register(
                tenant.tenant_id,
                terminal_body(merchant_id=m.merchant_id, expires_on=(day + timedelta(days=offset)).isoformat()),
            )
            expected[t.sn] = kind

    def sweep(sender: RecordingSender) -> Any:
        return sweep_service(sender, clock).run(day)

    senders = [SlowSender(), SlowSender()]
    results = at_once([lambda s=s: sweep(s) for s in senders])
    assert not [r for r in results if isinstance(r, BaseException)], results
    sent = [(m["sn"], m["key"].split("#")[-2]) for s in senders for m in s.sent if m["sn"] in expected]
    assert sorted(sent) == sorted(expected.items())  # each once, across both runs
    digests = [m for s in senders for m in s.sent if m["kind"] == "digest" and m["to"] == "race-sweep@example.com"]
    assert len(digests) == 1
    grace = [sn for sn, kind in expected.items() if kind == "grace_started"]
    assert {svc.fleet.get(tenant.tenant_id, sn).status.value for sn in grace} == {"grace"}
    assert sum(r.moved_to_grace for r in results) == len(grace)
