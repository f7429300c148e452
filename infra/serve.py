"""Serve the API, webhook and UI on 127.0.0.1:<port> against an already running DynamoDB.

Used by the integration tests (and by devstack's pieces): the environment carries the
same variables as in Lambda; the table is created from template.yaml if missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from infra.localserver import ensure_origin_secret, load_function_module, make_server
from infra.table import ensure_table


def start_upload_events(origin: str) -> None:
    """The uploads bucket (from template.yaml) on the local S3, and its trigger: the worker
    function runs in this process for every upload that arrives (as S3 invokes Lambda)."""
    from infra.localserver import LocalContext
    from infra.s3_local import S3EventPoller, ensure_bucket

    endpoint, bucket = os.environ["S3_ENDPOINT"], os.environ["UPLOADS_BUCKET"]
    queue_url = ensure_bucket(endpoint, bucket, origin)
    assert queue_url is not None
    worker = load_function_module("worker")
    S3EventPoller(endpoint, queue_url, worker.handler, LocalContext).start()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import boto3

    client = boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"], region_name=os.environ["AWS_REGION"])
    ensure_table(client, os.environ["TABLE_NAME"])
    ensure_origin_secret()  # before the API module reads its config
    api = load_function_module("api")
    webhook = load_function_module("webhook")
    server = make_server("127.0.0.1", args.port, api.app, webhook.handler)
    if os.environ.get("S3_ENDPOINT"):
        start_upload_events(f"http://127.0.0.1:{args.port}")
    with contextlib.suppress(KeyboardInterrupt):
        server.server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
