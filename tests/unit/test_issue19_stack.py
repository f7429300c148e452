"""Issue 19's template and stack fixes: BinaryMediaTypes equal to the API's binary types, no implicit
Stage stage, the uploads bucket with its lifecycle rules, S3 trigger and least-privilege rights;
the 5-minute job going on through a Stripe outage; a local stack whose demo tenant is gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra import template_check
from infra.localserver import load_function_module
from simrenew.clock import FixedClock
from simrenew.errors import ProviderUnavailable
from tests.support.env import WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway

ROOT = Path(__file__).resolve().parent.parent.parent
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in China: SMS may go out
AGENT = {"name": "Job Agent", "contact_name": "赵", "contact_email": "j@example.com", "contact_phone": "13800138000"}


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return template_check.transformed((ROOT / "template.yaml").read_text(encoding="utf-8"))


def _resources(out: dict[str, Any], kind: str) -> dict[str, Any]:
    return {n: r["Properties"] for n, r in out["Resources"].items() if r["Type"] == kind}


def test_the_api_has_one_stage_the_throttled_one_and_text_csv_is_a_binary_media_type(
    translated: dict[str, Any], api_module: Any
) -> None:
    stages = _resources(translated, "AWS::ApiGateway::Stage")
    (stage,) = stages.values()  # one: no implicit "Stage" stage beside it
    assert stage["StageName"] == {"Ref": "Stage"}
    (api,) = _resources(translated, "AWS::ApiGateway::RestApi").values()
    declared = [t.replace("~1", "/") for t in api["BinaryMediaTypes"]]
    assert declared == api_module.app.api.binary_types and "text/csv" in declared


def test_the_uploads_bucket_is_private_expires_its_objects_and_starts_imports(translated: dict[str, Any]) -> None:
    bucket = _resources(translated, "AWS::S3::Bucket")["UploadsBucket"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    rules = {r["Prefix"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["uploads/"]["ExpirationInDays"] == 30 and rules["exports/"]["ExpirationInDays"] == 1
    (lam,) = bucket["NotificationConfiguration"]["LambdaConfigurations"]
    assert lam["Function"] == {"Fn::GetAtt": ["ImportWorkerFunction", "Arn"]}
    assert lam["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]


def test_only_the_api_and_the_worker_touch_the_bucket_each_on_its_own_prefix_and_actions() -> None:
    statements = template_check.function_statements((ROOT / "template.yaml").read_text(encoding="utf-8"))
    rights: dict[str, set[tuple[str, str]]] = {}
    for fn, stmts in statements.items():
        for stmt in stmts:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            for action in actions:
                if action.startswith("s3:"):
                    resource = json.dumps(stmt["Resource"])
                    prefix = next((p for p in ("uploads/*", "exports/*") if f"/{p}" in resource), "?")
                    rights.setdefault(fn, set()).add((action, prefix))
    assert rights == {
        "ApiFunction": {("s3:PutObject", "uploads/*"), ("s3:GetObject", "exports/*")},
        "ImportWorkerFunction": {
            ("s3:GetObject", "uploads/*"),
            ("s3:PutObject", "exports/*"),
            ("s3:AbortMultipartUpload", "exports/*"),
        },
    }


def test_the_local_bucket_is_made_from_the_templates_definition() -> None:
    from infra.s3_local import _cors, _lifecycle, bucket_properties, upload_trigger

    props = bucket_properties()
    assert {r["Filter"]["Prefix"]: r["Expiration"]["Days"] for r in _lifecycle(props)["Rules"]} == {
        "uploads/": 30,
        "exports/": 1,
    }
    assert _cors(props, "http://127.0.0.1:8000")["CORSRules"][0]["AllowedOrigins"] == ["http://127.0.0.1:8000"]
    assert upload_trigger()["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]


class OutageGateway(FakeGateway):
    """Stripe unreachable for cancellations (the 5-minute job's first step)."""

    down = True

    def cancel(self, intent_id: str) -> str:
        if self.down:
            raise ProviderUnavailable("the payment provider answered: APIConnectionError")
        return super().cancel(intent_id)


def test_a_stripe_outage_during_the_5_minute_job_still_sends_the_receipts_and_expires_later(
    make_services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(T0)
    gateway = OutageGateway(WEBHOOK_SECRET)
    svc = make_services(clock, gateway)
    a = svc.tenants.create_active(dict(AGENT))[0].tenant_id
    m = svc.fleet.create_merchant(a, {"name": "店", "phone": "13500009999", "email": "shop@example.com"})
    plan = svc.fleet.create_plan(a, {"name": "月卡", "term_months": 1, "data_quota_mb": 10, "price_fen": 1500})
    paid_t = svc.fleet.register(a, terminal_body(merchant_id=m.merchant_id, expires_on="2026-12-31"))
    unpaid = [svc.fleet.register(a, terminal_body(merchant_id=m.merchant_id)) for _ in range(2)]
    orders = [svc.orders.create(a, {"lines": [{"sn": t.sn, "plan_id": plan.plan_id}]}, actor="t")[0] for t in unpaid]
    body = {"lines": [{"sn": paid_t.sn, "plan_id": plan.plan_id}], "payment": "offline"}
    cash, _ = svc.orders.create(a, body, actor="t")
    svc.orders.mark_paid(a, cash.order_id, {"note": "cash"}, "t")  # its receipt is queued
    clock.advance(timedelta(minutes=31))
    sweep = load_function_module("sweep")
    monkeypatch.setattr(sweep, "services", lambda: svc)

    result = sweep.handler({"source": "aws.scheduler", "detail": {"task": "expire_orders"}}, None)

    assert result["orders_expired"] == 0 and result["queued_messages_sent"] >= 1 and result["failed_steps"] == []
    sent = [n for n in svc.expiry_reports.notifications(a, paid_t.sn) if n["state"] == "sent"]
    assert {n["channel"] for n in sent} == {"sms", "email"}
    # Not marked expired with their intents still open: the next run, Stripe back, finishes them.
    assert all(svc.orders.get(a, o.order_id).status.value == "pending_payment" for o in orders)
    gateway.down = False
    clock.advance(timedelta(minutes=5))
    assert sweep.handler({"source": "aws.scheduler", "detail": {"task": "expire_orders"}}, None)["orders_expired"] == 2
    assert sorted(gateway.cancelled) == sorted(o.payment_intent_id for o in orders)


def test_a_failing_queue_step_does_not_stop_the_others(make_services: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = make_services(FixedClock(T0), FakeGateway(WEBHOOK_SECRET))

    def broken() -> int:
        raise RuntimeError("webhook retries broke")

    monkeypatch.setattr(svc.webhooks, "retry_due", broken)
    sweep = load_function_module("sweep")
    monkeypatch.setattr(sweep, "services", lambda: svc)
    result = sweep.handler({"source": "aws.scheduler", "detail": {"task": "expire_orders"}}, None)
    assert result["failed_steps"] == ["webhooks_retried"]
    assert result["outbox_delivered"] == 0 and result["queued_messages_sent"] == 0


def test_a_demo_state_naming_a_missing_tenant_loads_the_demo_again(make_services: Any, tmp_path: Path) -> None:
    from infra import demo

    svc = make_services(FixedClock(T0))
    state_file = tmp_path / "demo.json"
    state_file.write_text(json.dumps({"tenant_id": "t_gone000000000000", "api_key": "srk_x"}))
    state = demo.load_once(svc, state_file)
    assert state["tenant_id"] != "t_gone000000000000"
    assert svc.tenants.get(state["tenant_id"]).name == demo.DEMO_AGENT["name"]
    assert json.loads(state_file.read_text()) == state
    assert demo.load_once(svc, state_file) == state  # loaded once: kept from now on
