"""The deployed-shape tier's stack: moto's server (its own process, on 127.0.0.1) with what the
template creates that the functions use (the table from its definition, the secrets, the SES
identity, the buckets), and the functions built and started in their own interpreters."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.processes import LOCAL, free_port, spawn, stop, wait_for_port
from infra.table import ensure_table
from tests.deploy.harness import Deployment
from tests.deploy.stack import REGION, Stack

# The secrets' values in this tier (in AWS: generated at deploy, or put by the operator).
SECRET_VALUES = {
    "PlatformKeySecret": "srp_deploytest-platform-key-0000000000000000",
    "OriginVerifySecret": "origin-verify-deploytest-00000000000000",
    "StripeSecret": '{"secret_key": "sk_test_deploytest", "publishable_key": "pk_test_deploytest", '
    '"webhook_secret": "whsec_deploytest_000000000000"}',
}


@pytest.fixture(scope="package")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
    with (LOCAL / "logs" / "deploy-moto.log").open("ab") as log:
        proc = spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log)
        try:
            wait_for_port(port, proc, 60, "moto server")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="deploytest",
        aws_secret_access_key="deploytest",
    )


@pytest.fixture(scope="package")
def deployment(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from infra.template_check import TEMPLATE

    text = TEMPLATE.read_text(encoding="utf-8")
    draft = Stack(text)
    overrides: dict[tuple[str, str], str] = {}
    values: dict[str, str] = {}
    sm = client(moto_endpoint, "secretsmanager")
    for name, resource in draft.of_type("AWS::SecretsManager::Secret").items():
        props = resource["Properties"]
        value = SECRET_VALUES.get(name) or props.get("SecretString") or secrets.token_urlsafe(32)
        arn = sm.create_secret(Name=str(draft.resolve(props["Name"])), SecretString=value)["ARN"]
        overrides[(name, "Ref")] = arn  # Ref of a secret is its ARN: moto's, with its own suffix
        values[name] = value
    stack = Stack(text, overrides)
    ddb = client(moto_endpoint, "dynamodb")
    for name in stack.of_type("AWS::DynamoDB::Table"):
        ensure_table(ddb, str(stack.ref(name)))  # infra/table.py: the template's definition
    ses = client(moto_endpoint, "ses")
    sender = str(stack.parameter("SenderEmail"))
    ses.verify_email_identity(EmailAddress=sender)
    ses.verify_domain_identity(Domain=sender.split("@", 1)[1])
    s3 = client(moto_endpoint, "s3")
    for name in stack.of_type("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=str(stack.ref(name)))
    deployment = Deployment(stack, moto_endpoint, tmp_path_factory.mktemp("deploy"))
    deployment.secret_values = values  # type: ignore[attr-defined]
    try:
        yield deployment
    finally:
        deployment.stop()
