"""Every function as Lambda runs it: built in the layout Lambda unpacks, its template handler in its
own interpreter with exactly the template's environment, on the events AWS delivers, against moto.
Every AWS call is checked against the function's IAM statements in template.yaml and every
variable its code reads against its environment (tests/deploy/harness.py); an invocation with a
problem fails the test that made it."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from tests.deploy.events import GBK_IMPORT, load, render
from tests.deploy.harness import Container, Deployment, Invocation
from tests.deploy.stack import ROOT, Stack, lambda_env
from tests.support.fleet import terminal_body
from tests.support.payments import sign

pytestmark = pytest.mark.deploy  # the deployed-shape tier (pyproject.toml markers)

AS_OF = date(2031, 3, 2)


def clean(inv: Invocation) -> Invocation:
    assert not inv.problems, "\n".join(inv.problems)
    return inv


class Api:
    """The API function, called with the tier's API Gateway fixtures."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.platform_key = dep.secret_values["PlatformKeySecret"]  # type: ignore[attr-defined]
        self.origin = dep.secret_values["OriginVerifySecret"]  # type: ignore[attr-defined]

    def call(self, fixture: str, key: str | None = None, **values: Any) -> tuple[Invocation, int, Any]:
        event = render(fixture, origin_verify=self.origin, key=key or "", **values)
        inv = clean(self.dep.invoke("ApiFunction", event))
        answer = inv.result
        assert isinstance(answer, dict) and "statusCode" in answer, answer
        body = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            import base64

            body = base64.b64decode(body).decode("utf-8")
        content_type = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}.get("content-type", "")
        parsed = json.loads(body) if body and "json" in content_type else body
        return inv, int(answer["statusCode"]), parsed


@pytest.fixture(scope="module")
def api(deployment: Deployment) -> Api:
    return Api(deployment)


@pytest.fixture(scope="module")
def agent(api: Api) -> dict[str, Any]:
    """An agent made with the platform key, a merchant (text JSON body), a plan (base64 JSON body)."""
    body = {"name": "部署测试代理", "contact_name": "赵", "contact_email": "agent@deploy.example"}
    body["contact_phone"] = "13800138000"
    _, status, tenant = api.call(
        "api_post_admin_tenants", key=api.platform_key, body=json.dumps(body), idempotency_key=str(uuid.uuid4())
    )
    assert status == 201, tenant
    key = tenant["api_key"]
    shop = {"name": "部署小店", "phone": "13812345678", "email": "shop@deploy.example"}
    _, status, merchant = api.call("api_post_merchants", key=key, body=json.dumps(shop, ensure_ascii=False))
    assert status == 201, merchant
    _, status, plan = api.call("api_post_plans_base64", key=key)
    assert status == 201 and plan["name"] == "年卡", plan
    return {"tenant_id": tenant["tenant_id"], "key": key, "merchant_id": merchant["merchant_id"], "plan": plan}


def test_every_function_starts_from_its_build_with_only_its_code_and_the_layer(deployment: Deployment) -> None:
    for name, fn in deployment.stack.functions.items():
        init = deployment.container(name).init
        assert init["leaks"] == [], f"{name} can import test packages: {init['leaks']}"
        task = deployment.built[fn.code_dir]
        layers = tuple(str(deployment.built[d]) for d in fn.layer_dirs)
        assert init["sys_path"][0] == str(task)
        for module, origin in init["modules"].items():
            assert origin and origin.startswith(layers), f"{name}: {module} from {origin}, not a layer"
        assert init["modules"]["simrenew"].startswith(str(deployment.built["shared/"]))
        # The builds ship our code's bytecode: a cold start compiles none of it (issue 17; without
        # the .pyc files it compiled ~115 modules, ~50 ms of the api's start on the bench machine)
        # but a function's one small app.py where SAM's Python builder ships it (no Makefile).
        ours = (str(task), str(deployment.built["shared/"]))
        compiled = [p for p in init["compiled_from_source"] if p.startswith(ours)]
        copied = not (ROOT / fn.code_dir / "Makefile").exists()
        assert compiled == ([str(task / "app.py")] if copied else []), name
        # What Lambda and the template give it, nothing else (no PYTHONPATH, no local settings).
        env = lambda_env(fn, task)
        assert not {k for k in env if k.startswith("PYTHON")} and env["SIMRENEW_ENV"] == "aws"


def test_api_routes_of_each_kind_answer_within_the_api_functions_permissions(api: Api, agent: dict[str, Any]) -> None:
    key = agent["key"]
    _, status, health = api.call("api_get_health")
    assert (status, health["status"], health["env"]) == (200, "ok", "aws")
    body = terminal_body(merchant_id=agent["merchant_id"], expires_on=(AS_OF + timedelta(days=60)).isoformat())
    _, status, terminal = api.call("api_post_terminals", key=key, body=json.dumps(body))
    assert status == 201, terminal
    _, status, got = api.call("api_get_terminal", key=key, sn=body["sn"])
    assert (status, got["sn"]) == (200, body["sn"])
    inv, status, csv_text = api.call("api_get_terminals_csv", key=key)
    assert status == 200 and csv_text.lstrip("\ufeff").startswith("sn,") and body["sn"] in csv_text
    assert inv.services() <= {"dynamodb", "secretsmanager"}
    _, status, public = api.call("api_get_public_terminal", sn=body["sn"])
    # The merchant's phone never reaches the public look-up; the agent's service phone is public by design.
    assert status == 200 and public["sn"] == body["sn"]
    assert {k for k in public if "phone" in k} == {"agent_phone"}, public
    assert "13812345678" not in json.dumps(public), public  # nor its E.164 form, which contains it
    _, status, refused = api.call("api_get_terminal", key="srk_not-a-key", sn=body["sn"])
    assert status == 401, refused
    # Without CloudFront's origin secret the API refuses everything (403 origin_required).
    event = render("api_get_health", origin_verify="wrong")
    answer = clean(api.dep.invoke("ApiFunction", event)).result
    assert answer["statusCode"] == 403 and "origin_required" in answer["body"]


def _import(api: Api, agent: dict[str, Any], fixture: str) -> tuple[dict[str, Any], list[Invocation]]:
    inv, status, started = api.call(fixture, key=agent["key"])
    assert status == 202, started
    ((target, payload),) = inv.invokes()
    assert target == api.dep.stack.functions["ImportWorkerFunction"].function_name
    assert set(payload) == set(load("invoke_import_worker")) and payload["tenant_id"] == agent["tenant_id"]
    worker = [clean(w) for w in api.dep.deliver(inv)]
    assert [w.function for w in worker] == ["ImportWorkerFunction"]
    _, status, done = api.call("api_get_import", key=agent["key"], import_id=started["import_id"])
    assert status == 200, done
    return done, worker


def test_a_gbk_csv_as_api_gateway_delivers_it_base64_imports_cleanly_in_the_worker(
    api: Api, agent: dict[str, Any]
) -> None:
    assert load("api_post_imports_gbk_base64")["isBase64Encoded"] is True
    done, _ = _import(api, agent, "api_post_imports_gbk_base64")
    assert (done["status"], done["processed"], done["created"], done["failed"]) == ("done", 4, 3, 1), done
    _, _, merchants = api.call("api_get_merchants", key=agent["key"])
    names = {m["name"] for m in merchants["items"]}
    assert {"张记便利店", "李氏五金", "王记超市"} <= names, names  # decoded from GBK, not mangled
    assert "坏卡号小店" in GBK_IMPORT and "坏卡号小店" not in names  # its row was refused (bad ICCID)
    text_done, _ = _import(api, agent, "api_post_imports_text")
    assert (text_done["status"], text_done["created"]) == ("done", 1), text_done


def test_post_admin_sweeps_sends_through_the_sweep_functions_permissions_not_the_apis(
    api: Api, agent: dict[str, Any], deployment: Deployment
) -> None:
    key = agent["key"]
    body = terminal_body(merchant_id=agent["merchant_id"], expires_on=(AS_OF + timedelta(days=7)).isoformat())
    assert api.call("api_post_terminals", key=key, body=json.dumps(body))[1] == 201
    inv, status, started = api.call("api_post_admin_sweeps", key=api.platform_key, as_of=AS_OF.isoformat())
    assert status == 202 and started["status"] == "queued", started
    assert inv.services() <= {"dynamodb", "lambda", "secretsmanager"}  # no SES, no SNS: it sends nothing
    ((target, payload),) = inv.invokes()
    sweep = deployment.stack.functions["SweepFunction"]
    assert target == sweep.function_name and payload == render(
        "invoke_sweep_coordinate", run_id=started["run_id"], as_of=AS_OF.isoformat()
    )
    steps = [clean(s) for s in deployment.deliver(inv)]
    assert {s.function for s in steps} == {"SweepFunction"}
    shards = [s.event for s in steps if s.event.get("sweep") == "shard"]
    assert sorted(e["shard"] for e in shards) == list(range(8))  # one worker per shard
    assert all(set(e) == set(load("invoke_sweep_shard")) for e in shards)
    sent = {(c["service"], c["operation"]) for s in steps for c in s.calls}
    assert ("ses", "SendEmail") in sent  # allowed for the sweep function's role (and SMS below)
    _, status, progress = api.call("api_get_admin_sweep", key=api.platform_key, run_id=started["run_id"])
    assert (status, progress["status"], progress["shards_done"]) == (200, "done", 8), progress
    assert progress["totals"]["reminders_sent"] >= 1
    _, _, log = api.call("api_get_notifications", key=key, sn=body["sn"])
    by_channel = {n["channel"]: n for n in log["items"]}
    assert by_channel["email"]["state"] == "sent" and by_channel["sms"]["state"] in ("sent", "held"), log
    # The SMS goes out in the agent's daytime only (the functions run on the real clock here).
    assert (by_channel["sms"]["state"] == "sent") == (("sns", "Publish") in sent)
    # The same calls made by the API function would be refused by its role.
    api_fn = deployment.stack.functions["ApiFunction"]
    sends = [c for s in steps for c in s.calls if c["service"] in ("ses", "sns")]
    assert sends and all(deployment.check(api_fn, {"calls": [c]}) for c in sends)
    assert api.call("api_get_admin_sweep", key=key, run_id=started["run_id"])[1] == 401  # the platform's key only


def test_a_shard_worker_near_its_deadline_invokes_its_own_continuation(
    api: Api, agent: dict[str, Any], deployment: Deployment
) -> None:
    from simrenew.adapters.dynamodb.keys import expiry_shard

    day = AS_OF + timedelta(days=40)
    body = terminal_body(merchant_id=agent["merchant_id"], expires_on=(day + timedelta(days=1)).isoformat())
    assert api.call("api_post_terminals", key=agent["key"], body=json.dumps(body))[1] == 201
    start, status, _ = api.call("api_post_admin_sweeps", key=api.platform_key, as_of=day.isoformat())
    assert status == 202
    ((_, coordinate),) = start.invokes()
    fan = clean(deployment.invoke("SweepFunction", coordinate))
    ((_, worker),) = [(f, e) for f, e in fan.invokes() if e["shard"] == expiry_shard(body["sn"])]
    # Lambda's clock says 30 s are left: the worker stops at its checkpoint and invokes itself.
    stopped = clean(deployment.invoke("SweepFunction", worker, remaining_ms=[30_000]))
    assert stopped.result["status"] == "continued" and stopped.result["items_read"] == 0
    ((target, continuation),) = stopped.invokes()
    assert target == deployment.stack.functions["SweepFunction"].function_name
    assert continuation == {**worker, "invocation": 2}  # allowed by FanOutAndContinue (checked)
    (resumed,) = [clean(i) for i in deployment.deliver(stopped)]
    assert resumed.result["status"] == "done" and resumed.result["items_read"] == 1


def test_the_daily_schedule_fans_out_and_the_five_minute_job_runs_within_the_sweeps_permissions(
    deployment: Deployment, agent: dict[str, Any]
) -> None:
    day = AS_OF + timedelta(days=1)
    event = render(
        "scheduler_daily_sweep",
        execution_id=str(uuid.uuid4()),
        scheduled_time=f"{day.isoformat()}T02:00:00Z",
        schedule="simrenew-sweep-daily",
    )
    first = clean(deployment.invoke("SweepFunction", event))
    assert first.result["as_of"] == day.isoformat() and first.result["workers"] == 8
    steps = [clean(s) for s in deployment.deliver(first)]
    assert len([s for s in steps if s.event["sweep"] == "shard"]) == 8
    job = clean(deployment.invoke("SweepFunction", load("scheduler_expire_orders")))
    assert set(job.result) >= {"orders_expired", "webhooks_retried", "outbox_delivered", "queued_messages_sent"}


def test_the_stripe_webhook_and_the_outbox_stream_batch(
    api: Api, agent: dict[str, Any], deployment: Deployment, moto_endpoint: str
) -> None:
    from tests.deploy.conftest import client

    payload = json.dumps(
        {
            "id": f"evt_deploy{int(time.time())}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": {"id": "pi_deploytest_unknown", "object": "payment_intent", "metadata": {}}},
        }
    )
    secret = json.loads(deployment.secret_values["StripeSecret"])["webhook_secret"]  # type: ignore[attr-defined]
    signature = sign(payload.encode(), secret)
    signed = render("webhook_stripe", origin_verify=api.origin, payload=payload, signature=signature)
    hook = clean(deployment.invoke("WebhookFunction", signed))
    assert hook.result["statusCode"] == 200 and "ignored" in hook.result["body"], hook.result
    forged = render("webhook_stripe", origin_verify=api.origin, payload=payload, signature="t=1,v1=00")
    assert clean(deployment.invoke("WebhookFunction", forged)).result["statusCode"] == 400

    # A paid order queues the merchant's receipt in the outbox (a pending terminal_event item).
    key = agent["key"]
    body = terminal_body(merchant_id=agent["merchant_id"], expires_on=(AS_OF + timedelta(days=200)).isoformat())
    assert api.call("api_post_terminals", key=key, body=json.dumps(body))[1] == 201
    lines = {"lines": [{"sn": body["sn"], "plan_id": agent["plan"]["plan_id"]}], "payment": "offline"}
    _, status, order = api.call("api_post_orders", key=key, body=json.dumps(lines))
    assert status == 201, order
    assert api.call("api_post_order_mark_paid", key=key, order_id=order["order_id"])[1] == 200
    table = str(deployment.stack.ref("SimRenewTable"))
    items = client(moto_endpoint, "dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={
            ":pk": {"S": f"TENANT#{agent['tenant_id']}"},
            ":sk": {"S": f"TLOG#{body['sn']}#EVENT#"},
        },
    )["Items"]
    (receipt,) = [i for i in items if i.get("kind", {}).get("S") == "terminal_event" and "receipt" in i["sk"]["S"]]
    batch = render(
        "dynamodb_stream_outbox",
        keys={"pk": receipt["pk"], "sk": receipt["sk"]},
        new_image=receipt,
        stream_arn=str(deployment.stack.get_att("SimRenewTable", "StreamArn")),
    )
    dispatched = clean(deployment.invoke("DispatcherFunction", batch))
    assert dispatched.result == {"batchItemFailures": []}
    assert ("ses", "SendEmail") in {(c["service"], c["operation"]) for c in dispatched.calls}  # the receipt


def _s3_triggers(stack: Stack) -> list[tuple[str, str, dict[str, str]]]:
    """(function logical id, bucket logical id, key filter {prefix, suffix}) of every S3 trigger:
    a SAM `Type: S3` event, or a bucket's NotificationConfiguration.LambdaConfigurations (which
    the translator also makes of the former: each pair once)."""
    found: dict[tuple[str, str], dict[str, str]] = {}

    def rules(spec: dict[str, Any]) -> dict[str, str]:
        key = (spec.get("Filter") or {}).get("S3Key") or {}
        return {str(r["Name"]).lower(): str(r["Value"]) for r in key.get("Rules", [])}

    for fn in stack.functions.values():
        for event in fn.events.values():
            if isinstance(event, dict) and event.get("Type") == "S3":
                props = event.get("Properties", {})
                found.setdefault((fn.name, str(props["Bucket"]["Ref"])), rules(props))
    for name, bucket in stack.of_type("AWS::S3::Bucket").items():
        config = bucket.get("Properties", {}).get("NotificationConfiguration", {})
        for target in config.get("LambdaConfigurations", []):
            arn = str(stack.resolve(target["Function"]))
            fn = stack.function_named(arn)
            if fn is not None:
                found.setdefault((fn.name, name), rules(target))
    return [(fn, bucket, key_filter) for (fn, bucket), key_filter in found.items()]


def test_an_s3_object_created_event_reaches_the_function_its_trigger_names_within_its_permissions(
    deployment: Deployment, moto_endpoint: str
) -> None:
    from tests.deploy.conftest import client

    triggers = _s3_triggers(deployment.stack)
    if not triggers:
        pytest.skip("template.yaml has no S3 trigger yet (the presigned-upload import adds one)")
    s3 = client(moto_endpoint, "s3")
    for function, bucket_id, key_filter in triggers:
        bucket = str(deployment.stack.ref(bucket_id))
        key = f"{key_filter.get('prefix', '')}deploytest/{uuid.uuid4().hex}{key_filter.get('suffix', '.csv')}"
        body = GBK_IMPORT.encode("gbk")
        etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
        event = render(
            "s3_object_created", bucket=bucket, key=key, size=len(body), etag=etag, configuration_id=function
        )
        inv = deployment.invoke(function, event)
        # The object is not an upload the app announced: what it does with it is its own; what it
        # may call, and what it reads of its environment, is checked.
        problems = [p for p in inv.problems if not p.startswith(f"{function} failed")]
        assert not problems, "\n".join(problems)


def test_the_tier_fails_a_call_the_role_does_not_allow_and_a_variable_the_function_lacks(
    deployment: Deployment, api: Api
) -> None:
    # IAM: the template without the API's permission to start sweep runs.
    text = deployment.stack.text.replace(
        "            - Sid: StartSweepRuns\n              Effect: Allow\n              Action: lambda:InvokeFunction\n"
        "              Resource: !GetAtt SweepFunction.Arn\n",
        "",
    )
    assert text != deployment.stack.text
    narrower = Stack(text, deployment.stack.overrides).functions["ApiFunction"]
    sweep_start, status, _ = api.call("api_post_admin_sweeps", key=api.platform_key, as_of="2031-12-31")
    assert status == 202 and sweep_start.invokes()  # allowed by the real template (not delivered here)
    problems = deployment.check(narrower, {"calls": sweep_start.calls})
    assert any("lambda:InvokeFunction" in p and "not allowed" in p for p in problems), problems
    # Environment: the API function without SWEEP_FUNCTION answers what needs no sweep (services
    # are built on first use) and fails, loudly, the call that hands a run to the sweep function.
    fn = deployment.stack.functions["ApiFunction"]
    lacking = type(fn)(**{**fn.__dict__, "env": {k: v for k, v in fn.env.items() if k != "SWEEP_FUNCTION"}})
    container = Container(
        lacking,
        deployment.built[fn.code_dir],
        [deployment.built[d] for d in fn.layer_dirs],
        deployment.endpoint,
        deployment.logs,
    )
    try:
        health = container.invoke(render("api_get_health", origin_verify=api.origin))
        started = container.invoke(
            render("api_post_admin_sweeps", origin_verify=api.origin, key=api.platform_key, as_of="2031-12-30")
        )
    finally:
        container.stop()
    assert deployment.check(lacking, health) == []
    problems = deployment.check(lacking, started)
    assert any("SWEEP_FUNCTION is required in AWS" in p for p in problems), problems
