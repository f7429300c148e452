"""IAM for the deployed-shape tier: what each recorded AWS call needs (actions, resources, condition
keys) and whether a function's role allows it, evaluated the way IAM does for one identity policy
set: an explicit Deny wins, else an Allow must match action, resource and every condition.

The role's statements are the SAM translator's output for template.yaml (what CloudFormation
deploys: inline statements, SAM policy templates already expanded), with intrinsic functions
resolved to the tier's fixture values. Managed policies are ARNs there: MANAGED_POLICIES expands
the ones the template may attach. SAM_POLICY_TEMPLATES is the expansion of every SAM policy
template the template uses; tests/deploy/test_iam.py holds it equal to the translator's.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

# --- expansion tables --------------------------------------------------------------------------------
# AWS managed policies a function role may carry (template_check allows only the first two).
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
}

# The S3 policy templates' actions, on the bucket and its objects.
_S3_READ = (
    "s3:GetObject",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetObjectVersion",
    "s3:GetLifecycleConfiguration",
)
_S3_WRITE = ("s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration")
_S3_BUCKET = ("arn:${AWS::Partition}:s3:::${BucketName}", "arn:${AWS::Partition}:s3:::${BucketName}/*")

# SAM policy templates (samtranslator's policy_templates.json): name -> statements, `${Param}` standing
# for the parameter the template passes (TableName, BucketName...). The translator expands them in
# template.yaml; this table says what each one grants and test_iam.py keeps it equal to the translator.
SAM_POLICY_TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "DynamoDBCrudPolicy": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ],
            "Resource": [
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
            ],
        }
    ],
    "DynamoDBReadPolicy": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
            ],
            "Resource": [
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
            ],
        }
    ],
    "S3ReadPolicy": [{"Effect": "Allow", "Action": list(_S3_READ), "Resource": list(_S3_BUCKET)}],
    "S3WritePolicy": [{"Effect": "Allow", "Action": list(_S3_WRITE), "Resource": list(_S3_BUCKET)}],
    # S3CrudPolicy grants what the other two do, and deleting.
    "S3CrudPolicy": [
        {"Effect": "Allow", "Action": [*_S3_READ, *_S3_WRITE, "s3:DeleteObject"], "Resource": list(_S3_BUCKET)}
    ],
    "LambdaInvokePolicy": [
        {
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}*",
        }
    ],
    "SQSSendMessagePolicy": [
        {
            "Effect": "Allow",
            "Action": ["sqs:SendMessage*"],
            "Resource": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${QueueName}",
        }
    ],
    "AWSSecretsManagerGetSecretValuePolicy": [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "${SecretArn}"}
    ],
}

# S3 operations -> the IAM actions they need (the operation name is not always the action).
S3_ACTIONS: dict[str, list[str]] = {
    "GetObject": ["s3:GetObject"],
    "HeadObject": ["s3:GetObject"],
    "PutObject": ["s3:PutObject"],
    "CreateMultipartUpload": ["s3:PutObject"],
    "UploadPart": ["s3:PutObject"],
    "CompleteMultipartUpload": ["s3:PutObject"],
    "AbortMultipartUpload": ["s3:AbortMultipartUpload"],
    "ListParts": ["s3:ListMultipartUploadParts"],
    "ListMultipartUploads": ["s3:ListBucketMultipartUploads"],
    "DeleteObject": ["s3:DeleteObject"],
    "DeleteObjects": ["s3:DeleteObject"],
    "ListObjects": ["s3:ListBucket"],
    "ListObjectsV2": ["s3:ListBucket"],
    "HeadBucket": ["s3:ListBucket"],
    "GetBucketLocation": ["s3:GetBucketLocation"],
    "GetObjectTagging": ["s3:GetObjectTagging"],
    "PutObjectTagging": ["s3:PutObjectTagging"],
    "CopyObject": ["s3:PutObject"],  # and s3:GetObject on the source (see requests_of)
}
# DynamoDB transaction parts -> the per-item actions IAM checks (there is no TransactWriteItems action).
TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
# Calls that need no permission at all.
NO_PERMISSION = {("sts", "GetCallerIdentity")}


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource (any one of `resources` suffices: SES
    authorizes a send against the address's identity or its domain's), with its condition keys."""

    action: str
    resources: tuple[str, ...]
    context: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        ctx = f" with {self.context}" if self.context else ""
        return f"{self.action} on {' or '.join(self.resources)}{ctx}"


@dataclass(frozen=True)
class Account:
    partition: str
    region: str
    account_id: str
    tables: dict[str, str]  # table name -> its partition key attribute (and each index's: "name/index/x")
    secret_arns: dict[str, str]  # secret name or ARN -> ARN
    function_arns: dict[str, str]  # function name or ARN -> ARN

    def table_arn(self, name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account_id}:table/{name}"


# --- what a call needs ---------------------------------------------------------------------------------
def requests_of(service: str, operation: str, params: dict[str, Any], account: Account) -> list[Request]:
    """The authorization requests a recorded call makes (raises KeyError for an unknown call)."""
    if (service, operation) in NO_PERMISSION:
        return []
    if service == "dynamodb":
        return _dynamodb(operation, params, account)
    if service == "lambda" and operation in ("Invoke", "InvokeAsync"):
        name = str(params["FunctionName"])
        return [Request("lambda:InvokeFunction", (account.function_arns.get(name, _function_arn(name, account)),))]
    if service == "secretsmanager":
        secret = str(params.get("SecretId", "*"))
        return [Request(f"secretsmanager:{operation}", (account.secret_arns.get(secret, secret),))]
    if service in ("ses", "sesv2") and operation in ("SendEmail", "SendRawEmail"):
        source = params.get("Source") or params.get("FromEmailAddress") or ""
        address = parseaddr(str(source))[1]
        domain = address.rsplit("@", 1)[-1]
        base = f"arn:{account.partition}:ses:{account.region}:{account.account_id}:identity/"
        return [Request(f"ses:{operation}", (base + address, base + domain), {"ses:FromAddress": address})]
    if service == "sns" and operation == "Publish":
        target = params.get("TopicArn") or params.get("TargetArn") or "*"  # SMS to a number: no resource
        return [Request("sns:Publish", (str(target),))]
    if service == "sqs":
        url = str(params.get("QueueUrl", ""))
        name = url.rstrip("/").rsplit("/", 1)[-1]
        arn = f"arn:{account.partition}:sqs:{account.region}:{account.account_id}:{name}"
        return [Request(f"sqs:{operation}", (arn,))]
    if service == "s3":
        if operation not in S3_ACTIONS:
            raise KeyError(f"s3:{operation} has no IAM mapping: add it to tests/deploy/iam.py S3_ACTIONS")
        bucket = str(params.get("Bucket", ""))
        key = params.get("Key")
        resource = f"arn:{account.partition}:s3:::{bucket}" + (f"/{key}" if key is not None else "")
        out = [Request(a, (resource,)) for a in S3_ACTIONS[operation]]
        if operation == "CopyObject":
            source = str(params.get("CopySource", "")).lstrip("/").split("?", 1)[0]
            out.append(Request("s3:GetObject", (f"arn:{account.partition}:s3:::{source}",)))
        return out
    return [Request(f"{service}:{operation}", ("*",))]


def _function_arn(name: str, account: Account) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:{account.partition}:lambda:{account.region}:{account.account_id}:function:{name}"


def _dynamodb(operation: str, params: dict[str, Any], account: Account) -> list[Request]:
    def leading(table: str, keys: list[dict[str, Any]], index: str | None = None) -> dict[str, Any]:
        attr = account.tables.get(f"{table}/index/{index}" if index else table, "pk")
        values = sorted({_scalar(k[attr]) for k in keys if attr in k})
        return {"dynamodb:LeadingKeys": values}

    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        table = params["TableName"]
        return [Request(f"dynamodb:{operation}", (account.table_arn(table),), leading(table, [params["Key"]]))]
    if operation == "PutItem":
        table = params["TableName"]
        return [Request("dynamodb:PutItem", (account.table_arn(table),), leading(table, [params["Item"]]))]
    if operation in ("Query", "Scan"):
        table, index = params["TableName"], params.get("IndexName")
        resource = account.table_arn(table) + (f"/index/{index}" if index else "")
        context = {}
        if operation == "Query":
            attr = account.tables.get(f"{table}/index/{index}" if index else table, "pk")
            context = {"dynamodb:LeadingKeys": [_query_hash_value(params, attr)]}
        return [Request(f"dynamodb:{operation}", (resource,), context)]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        out = []
        for table, spec in params["RequestItems"].items():
            if operation == "BatchGetItem":
                keys = list(spec.get("Keys", []))
            else:
                keys = [r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") for r in spec]
            out.append(Request(f"dynamodb:{operation}", (account.table_arn(table),), leading(table, keys)))
        return out
    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for part in params["TransactItems"]:
            ((kind, spec),) = part.items()
            action = "GetItem" if operation == "TransactGetItems" else TRANSACT_PARTS[kind]
            key = spec.get("Key") or spec.get("Item")
            table = spec["TableName"]
            out.append(Request(f"dynamodb:{action}", (account.table_arn(table),), leading(table, [key])))
        return out
    table = params.get("TableName")
    return [Request(f"dynamodb:{operation}", (account.table_arn(table) if table else "*",))]


def _scalar(value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _query_hash_value(params: dict[str, Any], attr: str) -> str:
    """The partition key value a Query names in its KeyConditionExpression."""
    expression = str(params.get("KeyConditionExpression", ""))
    names = {k: v for k, v in (params.get("ExpressionAttributeNames") or {}).items()}
    values = params.get("ExpressionAttributeValues") or {}
    for name_token, value_token in re.findall(r"(#?[\w.]+)\s*=\s*(:\w+)", expression):
        if names.get(name_token, name_token) == attr and value_token in values:
            return _scalar(values[value_token])
    raise KeyError(f"no {attr} = :value in the KeyConditionExpression {expression!r}")


# --- policy evaluation -----------------------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


CONDITION_OPERATORS = {
    "StringEquals": lambda want, got: got == want,
    "StringNotEquals": lambda want, got: got != want,
    "StringLike": lambda want, got: _like(want, got),
    "StringNotLike": lambda want, got: not _like(want, got),
    "ArnEquals": lambda want, got: got == want,
    "ArnLike": lambda want, got: _like(want, got),
    "Bool": lambda want, got: str(got).lower() == str(want).lower(),
}


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, Any]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if op not in CONDITION_OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not evaluated by tests/deploy/iam.py")
    test = CONDITION_OPERATORS[op]
    wants = [str(w) for w in _as_list(wanted)]
    if key not in context:
        return op.endswith("NotEquals") or op.endswith("NotLike") if not qualifier else qualifier == "ForAllValues"
    got = context[key]
    values = [str(v) for v in _as_list(got)]
    if qualifier == "ForAnyValue":
        return any(test(w, v) for v in values for w in wants)
    if qualifier == "ForAllValues":
        return all(any(test(w, v) for w in wants) for v in values)
    if op.startswith("StringNot"):
        return all(test(w, values[0]) for w in wants)
    return any(test(w, values[0]) for w in wants)


def statement_matches(statement: dict[str, Any], request: Request, resource: str) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise ValueError("NotAction/NotResource are not evaluated by tests/deploy/iam.py")
    if not any(_like(str(a), request.action, case=False) for a in _as_list(statement.get("Action", []))):
        return False
    if not any(_like(str(r), resource) for r in _as_list(statement.get("Resource", []))):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, wanted in tests.items():
            if not _condition_holds(operator, key, wanted, {"aws:SecureTransport": "true", **request.context}):
                return False
    return True


def decide(statements: list[dict[str, Any]], request: Request) -> str:
    """ "allowed", "denied" (an explicit Deny matched) or "not allowed" (no Allow matched)."""
    for resource in request.resources:
        if any(s.get("Effect") == "Deny" and statement_matches(s, request, resource) for s in statements):
            return "denied"
    for resource in request.resources:
        if any(s.get("Effect") == "Allow" and statement_matches(s, request, resource) for s in statements):
            return "allowed"
    return "not allowed"
