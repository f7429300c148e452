"""The tier's event fixtures: tests/deploy/events/*.json, in the shapes `sam local generate-event`
produces (the SAM CLI's templates, samcli/lib/generated_sample_events/events/), filled in as the
service would deliver them to this stack:

    apigateway aws-proxy   AwsProxy.json: body, resource, path, httpMethod, isBase64Encoded,
                           query strings, pathParameters, stageVariables, headers and
                           multiValueHeaders (CloudFront's, plus X-Origin-Verify), requestContext
    s3 put                 S3Put.json: Records[].s3.bucket/object, eventName ObjectCreated:Put
    dynamodb update        DynamoDBUpdate.json: Records[] with Keys/NewImage, here one INSERT of an
                           outbox item as the table's NEW_IMAGE stream delivers it
    cloudwatch scheduled   ScheduledEvent.json, here EventBridge Scheduler's: template.yaml's Input
                           with <aws.scheduler.*> filled in
    (async invoke)         the payload a function passes to Lambda Invoke, InvocationType=Event

The SAM CLI is not needed: `python -m tests.deploy.events` writes the files; test_events.py checks
they are current. `{{name}}` marks what the test fills in when it sends one (`render`): a string
that is only a marker becomes the value itself (an object for a stream record's NewImage).

API Gateway, with `BinaryMediaTypes` for text/csv or not, hands a JSON body over as text; the SAM
CLI encodes every body (isBase64Encoded true): both shapes are here, and a GBK CSV file base64
encoded (as API Gateway delivers a binary media type).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).with_name("events")
STAGE = "prod"
API_ID = "a1b2c3d4e5"
ACCOUNT = "123456789012"
# A GBK file as an agent's spreadsheet exports it: Chinese merchant names, one bad row (bad ICCID).
GBK_IMPORT = (
    "sn,tid,iccid,carrier,model,merchant_name,merchant_phone,plan_name,expires_on,data_quota_mb\r\n"
    "GBK-0000001,71000001,89860000000710000010,CMCC,PAX A920,张记便利店,13812340001,,2031-06-01,\r\n"
    "GBK-0000002,71000002,89860000000710000028,CMCC,PAX A920,李氏五金,13812340002,,2031-06-02,\r\n"
    "GBK-0000003,71000003,89860000000710000036,CMCC,PAX A920,王记超市,13812340003,,2031-06-03,\r\n"
    "GBK-0000004,71000004,89860000000710000045,CMCC,PAX A920,坏卡号小店,13812340004,,2031-06-04,\r\n"
)
TEXT_IMPORT = (
    "sn,tid,iccid,carrier,model,merchant_name,merchant_phone,plan_name,expires_on,data_quota_mb\n"
    "TXT-0000001,72000001,89860000000720000018,CMCC,PAX A920,Text Shop,13812350001,,2031-07-01,\n"
)


def _headers(*, key: bool, content_type: str | None = None, accept: str = "application/json") -> dict[str, str]:
    headers = {
        "Accept": accept,
        "CloudFront-Forwarded-Proto": "https",
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Viewer-Address": "203.0.113.7:50123",
        "CloudFront-Viewer-Country": "CN",
        "Host": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "Amazon CloudFront",
        "Via": "2.0 08f323deadbeefa7af34d5feb414ce27.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": "cDehVQoZnx43VYQb9j2-nvCh-9z396Uhbp027Y2JvkCPNLmGJHqlaA==",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Origin-Verify": "{{origin_verify}}",
    }
    if key:
        headers["Authorization"] = "Bearer {{key}}"
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def api_event(
    method: str,
    resource: str,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
    base64_body: bytes | None = None,
    key: bool = True,
    content_type: str | None = None,
    accept: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (proxy integration) event for `resource` (AwsProxy.json's shape)."""
    path = resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    headers = _headers(key=key, content_type=content_type, accept=accept) | (extra_headers or {})
    if base64_body is not None:
        body_value: str | None = base64.b64encode(base64_body).decode()
    else:
        body_value = body
    return {
        "body": body_value,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "isBase64Encoded": base64_body is not None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "resourceId": "abc123",
            "stage": STAGE,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "01/Jan/2031:02:00:00 +0000",
            "requestTimeEpoch": 1924999200000,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "accessKey": None,
                "sourceIp": "130.176.0.1",
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "Amazon CloudFront",
                "user": None,
            },
            "path": f"/{STAGE}{path}",
            "resourcePath": resource,
            "httpMethod": method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1",
        },
    }


def fixtures() -> dict[str, Any]:
    """Every fixture, by file name (without .json)."""
    json_type = "application/json"
    plan = json.dumps({"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 6000}, ensure_ascii=False)
    return {
        # --- API Gateway: one of each kind of route -------------------------------------------------
        "api_get_health": api_event("GET", "/v1/health", key=False),
        "api_post_admin_tenants": api_event(
            "POST",
            "/v1/admin/tenants",
            body="{{body}}",
            content_type=json_type,
            extra_headers={"Idempotency-Key": "{{idempotency_key}}"},
        ),
        "api_post_merchants": api_event("POST", "/v1/merchants", body="{{body}}", content_type=json_type),
        "api_post_plans_base64": api_event(
            "POST", "/v1/plans", base64_body=plan.encode("utf-8"), content_type=json_type
        ),
        "api_post_terminals": api_event("POST", "/v1/terminals", body="{{body}}", content_type=json_type),
        "api_get_terminal": api_event("GET", "/v1/terminals/{sn}", path_params={"sn": "{{sn}}"}),
        "api_get_terminals_csv": api_event("GET", "/v1/terminals", query={"limit": "50"}, accept="text/csv"),
        "api_get_public_terminal": api_event(
            "GET", "/v1/public/terminals/{sn_or_tid}", path_params={"sn_or_tid": "{{sn}}"}, key=False
        ),
        "api_post_imports_text": api_event(
            "POST", "/v1/imports", body=TEXT_IMPORT, content_type="text/csv; charset=utf-8"
        ),
        "api_post_imports_gbk_base64": api_event(
            "POST", "/v1/imports", base64_body=GBK_IMPORT.encode("gbk"), content_type="text/csv"
        ),
        "api_get_import": api_event("GET", "/v1/imports/{import_id}", path_params={"import_id": "{{import_id}}"}),
        "api_get_merchants": api_event("GET", "/v1/merchants", query={"limit": "50"}),
        "api_post_orders": api_event("POST", "/v1/orders", body="{{body}}", content_type=json_type),
        "api_post_order_mark_paid": api_event(
            "POST",
            "/v1/orders/{order_id}/mark-paid",
            path_params={"order_id": "{{order_id}}"},
            body='{"note": "现金 cash"}',
            content_type=json_type,
        ),
        "api_post_admin_sweeps": api_event(
            "POST", "/v1/admin/sweeps", body='{"as_of": "{{as_of}}"}', content_type=json_type
        ),
        "api_get_admin_sweep": api_event("GET", "/v1/admin/sweeps/{run_id}", path_params={"run_id": "{{run_id}}"}),
        "api_get_notifications": api_event("GET", "/v1/notifications", query={"sn": "{{sn}}"}),
        "webhook_stripe": api_event(
            "POST",
            "/webhooks/stripe",
            body="{{payload}}",
            key=False,
            content_type="application/json; charset=utf-8",
            extra_headers={
                "Stripe-Signature": "{{signature}}",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        ),
        # --- EventBridge Scheduler (template.yaml's Inputs, filled in) --------------------------------
        "scheduler_daily_sweep": {
            "version": "0",
            "id": "{{execution_id}}",
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "time": "{{scheduled_time}}",
            "resources": [f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{{{{schedule}}}}"],
            "detail": {},
        },
        "scheduler_expire_orders": {"source": "aws.scheduler", "detail": {"task": "expire_orders"}},
        # --- S3 ObjectCreated (S3Put.json) --------------------------------------------------------------
        "s3_object_created": {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2031-01-01T02:00:00.000Z",
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "AWS:AROAEXAMPLE:deploytest"},
                    "requestParameters": {"sourceIPAddress": "203.0.113.7"},
                    "responseElements": {
                        "x-amz-request-id": "EXAMPLE123456789",
                        "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH",
                    },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "{{configuration_id}}",
                        "bucket": {
                            "name": "{{bucket}}",
                            "ownerIdentity": {"principalId": "EXAMPLE"},
                            "arn": "arn:aws:s3:::{{bucket}}",
                        },
                        "object": {
                            "key": "{{key}}",
                            "size": "{{size}}",
                            "eTag": "{{etag}}",
                            "sequencer": "0A1B2C3D4E5F678901",
                        },
                    },
                }
            ]
        },
        # --- the table's stream (DynamoDBUpdate.json's shape; NEW_IMAGE, as the mapping filters it) ----
        "dynamodb_stream_outbox": {
            "Records": [
                {
                    "eventID": "c4ca4238a0b923820dcc509a6f75849b",
                    "eventName": "INSERT",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "ApproximateCreationDateTime": 1924999200,
                        "Keys": "{{keys}}",
                        "NewImage": "{{new_image}}",
                        "SequenceNumber": "4421584500000000017450439091",
                        "SizeBytes": 512,
                        "StreamViewType": "NEW_IMAGE",
                    },
                    "eventSourceARN": "{{stream_arn}}",
                }
            ]
        },
        # --- asynchronous invokes: the payloads the functions hand to Lambda ---------------------------
        "invoke_import_worker": {"tenant_id": "{{tenant_id}}", "import_id": "{{import_id}}"},
        "invoke_sweep_coordinate": {"sweep": "coordinate", "run_id": "{{run_id}}", "as_of": "{{as_of}}"},
        "invoke_sweep_shard": {
            "sweep": "shard",
            "run_id": "{{run_id}}",
            "as_of": "{{as_of}}",
            "shard": "{{shard}}",
            "invocation": "{{invocation}}",
        },
        "invoke_sweep_finish": {"sweep": "finish", "run_id": "{{run_id}}", "as_of": "{{as_of}}"},
    }


def text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_all() -> list[Path]:
    HERE.mkdir(exist_ok=True)
    written = []
    for name, data in fixtures().items():
        path = HERE / f"{name}.json"
        path.write_text(text(data), encoding="utf-8")
        written.append(path)
    return written


def load(name: str) -> Any:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


_MARK = re.compile(r"\{\{(\w+)\}\}")


def render(name: str, **values: Any) -> Any:
    """The fixture with its `{{markers}}` filled in (every marker must be given)."""

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {fill(k): fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, str):
            whole = _MARK.fullmatch(node)
            if whole:
                return copy.deepcopy(values[whole.group(1)])
            return _MARK.sub(lambda m: str(values[m.group(1)]), node)
        return node

    return fill(load(name))


def markers(name: str) -> set[str]:
    return set(_MARK.findall((HERE / f"{name}.json").read_text(encoding="utf-8")))


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    sys.exit(0)
