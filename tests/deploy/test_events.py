"""The event fixtures are what tests/deploy/events.py makes (regenerate with
`python -m tests.deploy.events`), in the SAM CLI's shapes, and the scheduler's match template.yaml."""

from __future__ import annotations

import json

import pytest

from infra import template_check as tc
from tests.deploy import events

pytestmark = pytest.mark.deploy  # the deployed-shape tier (pyproject.toml markers)

# Top-level keys of the SAM CLI's templates (samcli/lib/generated_sample_events/events/).
AWS_PROXY_KEYS = {
    "body", "resource", "path", "httpMethod", "isBase64Encoded", "queryStringParameters",
    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "headers", "multiValueHeaders",
    "requestContext",
}  # fmt: skip
S3_RECORD_KEYS = {
    "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity", "requestParameters",
    "responseElements", "s3",
}  # fmt: skip
STREAM_RECORD_KEYS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"}


def test_the_fixture_files_are_current() -> None:
    made = events.fixtures()
    on_disk = {p.stem for p in events.HERE.glob("*.json")}
    assert on_disk == set(made), "run: .venv/bin/python -m tests.deploy.events"
    for name, data in made.items():
        assert (events.HERE / f"{name}.json").read_text(encoding="utf-8") == events.text(data), name


def test_the_fixtures_have_the_sam_cli_shapes() -> None:
    for name in events.fixtures():
        data = events.load(name)
        if name.startswith(("api_", "webhook_")):
            assert set(data) == AWS_PROXY_KEYS, name
            assert data["requestContext"]["resourcePath"] == data["resource"], name
        elif name.startswith("s3_"):
            assert set(data["Records"][0]) == S3_RECORD_KEYS
        elif name.startswith("dynamodb_"):
            assert set(data["Records"][0]) == STREAM_RECORD_KEYS
    gbk = events.load("api_post_imports_gbk_base64")
    import base64

    assert base64.b64decode(gbk["body"]).decode("gbk") == events.GBK_IMPORT


def test_the_scheduler_fixtures_are_the_templates_inputs_filled_in() -> None:
    resources = tc.parse(tc.TEMPLATE.read_text(encoding="utf-8"))["Resources"]
    daily = json.loads(resources["SweepSchedule"]["Properties"]["Target"]["Input"])
    five = json.loads(resources["OrderExpirySchedule"]["Properties"]["Target"]["Input"])
    fixture = events.load("scheduler_daily_sweep")
    assert set(fixture) == set(daily) and fixture["detail"] == daily["detail"] and fixture["source"] == daily["source"]
    assert daily["time"] == "<aws.scheduler.scheduled-time>" and fixture["time"] == "{{scheduled_time}}"
    assert events.load("scheduler_expire_orders") == five
