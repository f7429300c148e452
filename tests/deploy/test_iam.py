"""The tier's IAM evaluation (tests/deploy/iam.py) on known cases, and its SAM policy template table
equal to the SAM translator's own expansion."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import template_check as tc
from tests.deploy import iam
from tests.deploy.stack import PSEUDO, Stack

pytestmark = pytest.mark.deploy  # the deployed-shape tier (pyproject.toml markers)

ACCOUNT = iam.Account(
    "aws",
    "us-east-1",
    "123456789012",
    {"T": "pk", "T/index/gsi1": "gsi1pk"},
    {},
    {"fn-a": "arn:aws:lambda:us-east-1:123456789012:function:fn-a"},
)
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/T"
ALLOW_ITEMS = {
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:Query"],
    "Resource": [TABLE, f"{TABLE}/index/*"],
}
DENY_KEYS = {
    "Effect": "Deny",
    "Action": "dynamodb:*",
    "Resource": [TABLE, f"{TABLE}/index/*"],
    "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["APIKEY#*"]}},
}


def verdicts(statements: list[dict[str, Any]], service: str, op: str, params: dict[str, Any]) -> list[str]:
    return [iam.decide(statements, r) for r in iam.requests_of(service, op, params, ACCOUNT)]


def test_an_explicit_deny_on_leading_keys_wins_over_the_allow() -> None:
    rules = [ALLOW_ITEMS, DENY_KEYS]
    get = {"TableName": "T", "Key": {"pk": {"S": "TENANT#t1"}, "sk": {"S": "X"}}}
    assert verdicts(rules, "dynamodb", "GetItem", get) == ["allowed"]
    key = {"TableName": "T", "Key": {"pk": {"S": "APIKEY#k1"}, "sk": {"S": "X"}}}
    assert verdicts(rules, "dynamodb", "GetItem", key) == ["denied"]
    query = {
        "TableName": "T",
        "IndexName": "gsi1",
        "KeyConditionExpression": "#0 = :0",
        "ExpressionAttributeNames": {"#0": "gsi1pk"},
        "ExpressionAttributeValues": {":0": {"S": "APIKEY#x"}},
    }
    assert verdicts(rules, "dynamodb", "Query", query) == ["denied"]
    assert verdicts(rules, "dynamodb", "PutItem", {"TableName": "T", "Item": {"pk": {"S": "A"}}}) == ["not allowed"]


def test_a_transaction_needs_each_parts_own_action() -> None:
    items = {
        "TransactItems": [
            {"Put": {"TableName": "T", "Item": {"pk": {"S": "TENANT#a"}}}},
            {"ConditionCheck": {"TableName": "T", "Key": {"pk": {"S": "TENANT#a"}}}},
        ]
    }
    rules = [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE}]
    assert verdicts(rules, "dynamodb", "TransactWriteItems", items) == ["allowed", "not allowed"]


def test_ses_is_authorized_against_the_sender_identity_and_its_from_address_condition() -> None:
    rules = [
        {
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
            "Condition": {"StringEquals": {"ses:FromAddress": "noreply@example.com"}},
        }
    ]
    assert verdicts(rules, "ses", "SendEmail", {"Source": "Shop <noreply@example.com>"}) == ["allowed"]
    assert verdicts(rules, "ses", "SendEmail", {"Source": "other@example.com"}) == ["not allowed"]


def test_invoke_names_the_function_and_sms_has_no_resource() -> None:
    rules = [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": ACCOUNT.function_arns["fn-a"]},
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"},
    ]
    assert verdicts(rules, "lambda", "Invoke", {"FunctionName": "fn-a"}) == ["allowed"]
    assert verdicts(rules, "lambda", "Invoke", {"FunctionName": "fn-b"}) == ["not allowed"]
    assert verdicts(rules, "sns", "Publish", {"PhoneNumber": "+8613800138000"}) == ["allowed"]
    with pytest.raises(KeyError, match="S3_ACTIONS"):
        iam.requests_of("s3", "SelectObjectContent", {"Bucket": "b", "Key": "k"}, ACCOUNT)
    assert [r.action for r in iam.requests_of("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, ACCOUNT)] == [
        "s3:GetObject"
    ]


def test_an_unknown_condition_operator_is_an_error_not_a_pass() -> None:
    condition = {"NumericLessThan": {"x": "1"}}
    rules = [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*", "Condition": condition}]
    with pytest.raises(ValueError, match="NumericLessThan"):
        verdicts(rules, "sns", "Publish", {"PhoneNumber": "+1"})


def _translated_statements(name: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """What the SAM translator makes of one policy template on a one-function template."""
    policy = json.dumps({name: params})
    text = f"""
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api/
      Handler: app.app
      Runtime: python3.11
      Policies:
        - {policy}
"""
    stack = Stack(text)
    return [stack.resolve(s) for s in tc.function_statements(text)["Fn"]]


PARAMS = {"TableName": "T", "BucketName": "b", "FunctionName": "f", "QueueName": "q", "SecretArn": "arn:s"}


@pytest.mark.parametrize("name", sorted(iam.SAM_POLICY_TEMPLATES))
def test_the_policy_template_table_equals_the_translators_expansion(name: str) -> None:
    wanted = [p for p in PARAMS if "${" + p + "}" in json.dumps(iam.SAM_POLICY_TEMPLATES[name])]
    got = _translated_statements(name, {p: PARAMS[p] for p in wanted})

    def ours(statement: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(statement)
        for p in wanted:
            raw = raw.replace("${" + p + "}", PARAMS[p])
        for pseudo, value in PSEUDO.items():
            raw = raw.replace("${" + pseudo + "}", str(value))
        data: dict[str, Any] = json.loads(raw)
        return data

    def norm(statements: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
        return sorted(
            (s["Effect"], sorted(iam._as_list(s["Action"])), sorted(iam._as_list(s["Resource"]))) for s in statements
        )

    assert norm([ours(s) for s in iam.SAM_POLICY_TEMPLATES[name]]) == norm(got)


def test_every_sam_policy_template_the_template_uses_is_in_the_table() -> None:
    used = set(re.findall(r"^\s+- (\w+Policy):", tc.TEMPLATE.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert used <= set(iam.SAM_POLICY_TEMPLATES), f"add {sorted(used - set(iam.SAM_POLICY_TEMPLATES))} to iam.py"
