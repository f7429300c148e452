"""The sweep through the real composition (templates, local outbox) and its reports over the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.builders import create_agent, one_terminal, paid_offline
from tests.support.client import ApiClient
from tests.support.fleet import terminal_body
from tests.support.sweep import swept


def test_the_platform_runs_a_sweep_and_the_agent_sees_what_was_sent(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = api.post(
        "/v1/merchants",
        {"name": "张记便利店", "phone": "13812345678", "email": "shop@example.com"},
        key=agent.admin_key,
    ).json
    t = api.post(
        "/v1/terminals",
        terminal_body(merchant_id=m["merchant_id"], expires_on=(date.today() + timedelta(days=400)).isoformat()),
        key=agent.admin_key,
    ).json
    as_of = (date.fromisoformat(t["expires_on"]) - timedelta(days=7)).isoformat()
    # The platform's key only: an agent's admin key, or none, is refused on both routes.
    assert api.post("/v1/admin/sweeps", {"as_of": as_of}, key=agent.admin_key).status == 401
    assert api.post("/v1/admin/sweeps", {"as_of": as_of}).status == 401
    bad = api.post("/v1/admin/sweeps", {"as_of": "tomorrow"}, key=platform_key)
    assert (bad.status, bad.error["field"]) == (400, "as_of")
    # Found by fuzzing: days at datetime's ends overflowed the sweep's day arithmetic (a 500).
    for far in ("0001-01-01", "9999-12-31"):
        out = api.post("/v1/admin/sweeps", {"as_of": far}, key=platform_key)
        assert (out.status, out.error["field"], out.error["code"]) == (400, "as_of", "out_of_range")
    run = swept(api, platform_key, as_of)  # 202 {run_id}, then GET /v1/admin/sweeps/{run_id} until done
    assert run["totals"]["reminders_sent"] + run["totals"]["held_for_daytime"] >= 1
    assert (run["as_of"], run["source"], run["shards_total"], run["shards_done"]) == (as_of, "api", 8, 8)
    assert {s["status"] for s in run["shards"]} == {"done"} and run["finished_at"]
    assert sum(s["items_read"] for s in run["shards"]) == run["totals"]["items_read"] >= 1
    for key in (agent.admin_key, None):
        assert api.get(f"/v1/admin/sweeps/{run['run_id']}", key=key).status == 401
    missing = api.get("/v1/admin/sweeps/sweep_nosuchrun", key=platform_key)
    assert (missing.status, missing.error["code"]) == (404, "sweep_run_not_found")
    # The same day again: a run of its own, which finds every shard read and sends nothing more.
    again = swept(api, platform_key, as_of)
    assert again["run_id"] != run["run_id"] and again["totals"] == run["totals"]
    sent = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key)
    assert sent.status == 200
    by_channel = {n["channel"]: n for n in sent.json["items"]}
    assert by_channel["email"]["state"] == "sent" and by_channel["email"]["template"] == "reminder_7"
    assert by_channel["sms"]["state"] in ("sent", "held")  # SMS only in the agent's daytime
    assert by_channel["sms"]["recipient"] != "+8613812345678" and "****" in by_channel["sms"]["recipient"]
    csv_r = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert csv_r.body.decode("utf-8-sig").splitlines()[0] == "created_at,template,channel,recipient,state,term"
    other = create_agent(api, platform_key)
    assert api.get(f"/v1/notifications?sn={t['sn']}", key=other.admin_key).status == 404
    assert api.get("/v1/notifications", key=agent.admin_key).error["field"] == "sn"


def test_the_expiring_report_counts_per_week_and_lists(api: ApiClient, platform_key: str) -> None:
    agent = create_agent(api, platform_key)
    m = api.post("/v1/merchants", {"name": "店", "phone": "13812345679"}, key=agent.admin_key).json
    made = []
    for days in (3, 10, 25, 200):
        body = terminal_body(merchant_id=m["merchant_id"], expires_on=(date.today() + timedelta(days=days)).isoformat())
        made.append(api.post("/v1/terminals", body, key=agent.admin_key).json["sn"])
    r = api.get("/v1/reports/expiring?days=30", key=agent.admin_key)
    assert r.status == 200, r.body
    assert {i["sn"] for i in r.json["items"]} == set(made[:3])
    assert sum(w["count"] for w in r.json["per_week"]) == 3 == r.json["total"]
    csv_r = api.get("/v1/reports/expiring?days=30", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert len(csv_r.body.decode("utf-8-sig").strip().splitlines()) == 4
    assert api.get("/v1/reports/expiring?days=0", key=agent.admin_key).error["field"] == "days"
    # Found by fuzzing: "²" passed str.isdigit() and int() raised (a 500).
    assert api.get("/v1/reports/expiring?days=%C2%B2", key=agent.admin_key).error["field"] == "days"
    other = create_agent(api, platform_key)
    assert api.get("/v1/reports/expiring?days=30", key=other.admin_key).json["items"] == []


def test_agents_receive_signed_webhooks_for_expiring_terminals_and_paid_orders(
    api: ApiClient, platform_key: str, make_services: Any
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from simrenew.services.webhooks import verify

    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        agent = create_agent(api, platform_key)
        endpoint = api.post(
            "/v1/webhook-endpoints",
            {"url": f"http://127.0.0.1:{server.server_port}/hook", "events": ["terminal.expiring", "order.fulfilled"]},
            key=agent.admin_key,
        )
        assert endpoint.status == 201, endpoint.body
        secret = endpoint.json["secret"]
        assert secret.startswith("whsec_")
        assert api.get("/v1/webhook-endpoints", key=agent.admin_key).json["items"][0].get("secret") is None
        bad = api.post("/v1/webhook-endpoints", {"url": "ftp://x", "events": ["order.fulfilled"]}, key=agent.admin_key)
        assert (bad.status, bad.error["field"]) == (400, "url")

        plan, t = one_terminal(
            api, agent, merchant=("店", "13812345670"), price_fen=100, quota_mb=1, expires_in_days=900
        )
        as_of = (date.fromisoformat(t["expires_on"]) - timedelta(days=30)).isoformat()
        swept(api, platform_key, as_of)
        paid_offline(api, agent, t["sn"], plan["plan_id"])
        # order.fulfilled is an outbox entry written with the fulfilment; the dispatcher delivers it
        # (in AWS from the table's stream; here its safety-net drain, past the stream's head start).
        import time
        from datetime import UTC, datetime

        from simrenew.clock import FixedClock

        dispatcher = make_services(FixedClock(datetime.now(UTC) + timedelta(minutes=2))).outbox
        deadline = time.monotonic() + 30
        while len(received) < 2 and time.monotonic() < deadline:  # a stream poller may be quicker
            dispatcher.drain_due()
            time.sleep(0.2)

        kinds = [json.loads(body)["type"] for _, body in received]
        assert kinds == ["terminal.expiring", "order.fulfilled"]
        for headers, body in received:
            assert verify(secret, headers["simrenew-signature"], body)
        assert json.loads(received[0][1])["data"]["sn"] == t["sn"]
        log = api.get(f"/v1/webhook-endpoints/{endpoint.json['endpoint_id']}/deliveries", key=agent.admin_key)
        assert {d["state"] for d in log.json["items"]} == {"delivered"}
    finally:
        server.shutdown()


def test_the_dashboard_counts_the_fleet_the_weeks_ahead_and_this_months_revenue(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    key = agent.admin_key
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 6000}, key=key
    ).json
    m = api.post("/v1/merchants", {"name": "王记超市", "phone": "13812340000"}, key=key).json
    sns = {}
    for days in (2, 20, 60, 300):
        body = terminal_body(merchant_id=m["merchant_id"], expires_on=(date.today() + timedelta(days=days)).isoformat())
        sns[days] = api.post("/v1/terminals", body, key=key).json["sn"]
    assert api.post(f"/v1/terminals/{sns[300]}/deactivate", {}, key=key).status == 200
    assert api.post("/v1/terminals", terminal_body(), key=key).json["status"] == "inventory"  # no merchant yet
    lines = [{"sn": sns[60], "plan_id": plan["plan_id"]}]
    order = api.post("/v1/orders", {"lines": lines, "payment": "offline"}, key=key)
    assert order.status == 201, order.body
    paid = api.post(f"/v1/orders/{order.json['order_id']}/mark-paid", {"note": "现金 cash"}, key=key)
    assert paid.status == 200, paid.body

    r = api.get("/v1/reports/dashboard", key=agent.key(api, "readonly"))

    assert r.status == 200, r.body
    d = r.json
    c = d["counts"]
    assert (c["active"], c["inventory"], c["deactivated"], c["grace"], c["suspended"]) == (3, 1, 1, 0, 0), c
    assert (c["expiring_7"], c["expiring_30"]) == (1, 2)
    assert d["revenue_month"]["gross_fen"] == order.json["amount_fen"] and d["revenue_month"]["orders"] == 1
    assert len(d["per_week"]) == 12
    today = date.fromisoformat(d["today"])
    first = date.fromisoformat(d["per_week"][0]["week_start"])
    assert first.weekday() == 0 and first <= today < first + timedelta(days=7)
    # The renewed terminal now expires 12 months later: outside the 12 weeks. Two remain.
    assert sum(w["count"] for w in d["per_week"]) == 2
    other = create_agent(api, platform_key)
    theirs = api.get("/v1/reports/dashboard", key=other.admin_key).json
    assert theirs["counts"]["active"] == 0 and theirs["revenue_month"]["gross_fen"] == 0
    assert api.get("/v1/reports/dashboard").status == 401


def test_a_paid_renewals_receipt_goes_out_within_minutes_not_at_the_next_daily_sweep(
    api: ApiClient, platform_key: str, make_services: Any
) -> None:
    from simrenew.clock import SystemClock

    agent = create_agent(api, platform_key)
    key = agent.admin_key
    shop = {"name": "回执小店", "phone": "13812347777", "email": "r@example.com"}
    m = api.post("/v1/merchants", shop, key=key).json
    t = api.post("/v1/terminals", terminal_body(merchant_id=m["merchant_id"]), key=key).json
    plan = api.post("/v1/plans", {"name": "月卡", "term_months": 1, "data_quota_mb": 1, "price_fen": 100}, key=key).json
    lines = [{"sn": t["sn"], "plan_id": plan["plan_id"]}]
    order = api.post("/v1/orders", {"lines": lines, "payment": "offline"}, key=key)
    assert api.post(f"/v1/orders/{order.json['order_id']}/mark-paid", {"note": "cash"}, key=key).status == 200
    assert api.get(f"/v1/notifications?sn={t['sn']}", key=key).json["items"] == []  # queued, not sent yet

    svc = make_services(SystemClock())
    assert svc.sweep.drain_queued() >= 1  # what the 5-minute schedule runs

    sent = api.get(f"/v1/notifications?sn={t['sn']}", key=key).json["items"]
    assert {(n["template"], n["channel"]) for n in sent if n["state"] in ("sent", "held")} >= {("receipt", "email")}
    svc.sweep.drain_queued()  # a second pass sends nothing more for it
    assert api.get(f"/v1/notifications?sn={t['sn']}", key=key).json["items"] == sent
