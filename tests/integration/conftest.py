"""Integration fixtures: one DynamoDB Local (in memory) and one local API server process per
session, both on 127.0.0.1 and both stopped at the end; requests go over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
import requests

from infra.processes import (
    LOCAL,
    Starter,
    serving,
    start_api_server,
    start_dynamodb_local,
    start_local_alipay,
    start_local_carrier,
    start_local_wechatpay,
    start_localstripe,
    stop,
)
from infra.s3_local import start_local_s3
from infra.table import ensure_table
from simrenew.adapters.dynamodb.models import bind_table
from tests.support.client import ApiClient, HttpTransport
from tests.support.env import PLATFORM_KEY, function_env

TABLE = "simrenew-it"
LOGS = LOCAL / "logs"


def _local_server(start: Starter, log_name: str) -> Any:
    """A session fixture: the base URL of the server `start` starts on a free 127.0.0.1 port (its
    output in .local/logs/<log_name>), stopped at the end of the session."""

    @pytest.fixture(scope="session")
    def fixture() -> Iterator[str]:
        with serving(start, LOGS / log_name) as url:
            yield url

    return fixture


# DynamoDB Local, in memory.
ddb_endpoint = _local_server(lambda port, log: start_dynamodb_local(port, None, log), "it-dynamodb.log")
# localstripe (its own process: it is GPL).
stripe_base = _local_server(start_localstripe, "it-localstripe.log")
# moto's S3 server (the local server creates the bucket from template.yaml and delivers its upload
# events to the worker).
s3_endpoint = _local_server(start_local_s3, "it-s3.log")
# The local WeChat Pay platform (infra/local_wechatpay.py), its keys under .local/wechatpay.
wechatpay_base = _local_server(start_local_wechatpay, "it-wechatpay.log")
# The local Alipay gateway (infra/local_alipay.py), its keys under .local/alipay.
alipay_base = _local_server(start_local_alipay, "it-alipay.log")


@pytest.fixture(scope="session")
def env(ddb_endpoint: str, stripe_base: str, s3_endpoint: str, wechatpay_base: str, alipay_base: str) -> dict[str, str]:
    wx_port, ali_port = wechatpay_base.rsplit(":", 1)[1], alipay_base.rsplit(":", 1)[1]
    return {
        **function_env(TABLE, ddb_endpoint, "http://127.0.0.1:8000"),
        "S3_ENDPOINT": s3_endpoint,
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_SECRET_KEY": "sk_test_integration",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_integration",
        "WECHATPAY_CREDENTIALS": str(LOCAL / "wechatpay" / f"credentials-{wx_port}.json"),
        "ALIPAY_CREDENTIALS": str(LOCAL / "alipay" / f"credentials-{ali_port}.json"),
        # In-process services: the platforms' notifications go nowhere (the server sets its own).
        "NOTIFY_BASE_URL": "http://127.0.0.1:9",
    }


@pytest.fixture(scope="session")
def ddb_client(ddb_endpoint: str, env: dict[str, str]) -> Any:
    client = boto3.client(
        "dynamodb",
        endpoint_url=ddb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ensure_table(client, TABLE)
    return client


@pytest.fixture
def ddb(ddb_client: Any, ddb_endpoint: str) -> Any:
    """Models bound to DynamoDB Local (repository tests run in this process)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    bind_table(TABLE, "us-east-1", ddb_endpoint)
    return ddb_client


@pytest.fixture(scope="session")
def server_url(ddb_client: Any, env: dict[str, str]) -> Iterator[str]:
    def start(port: int, log: IO[bytes]) -> Any:
        origin = f"http://127.0.0.1:{port}"  # the platforms notify this server, and it sends payers back here
        child_env = {**os.environ, **env, "NOTIFY_BASE_URL": origin, "PUBLIC_BASE_URL": origin}
        return start_api_server(port, log, child_env, "local API server")

    with serving(start, LOGS / "it-server.log") as url:
        # localstripe signs its webhooks with our secret and posts them to our origin.
        requests.post(
            f"{env['STRIPE_API_BASE']}/_config/webhooks/simrenew",
            data={"url": f"{url}/webhooks/stripe", "secret": env["STRIPE_WEBHOOK_SECRET"]},
            timeout=10,
        )
        yield url


@pytest.fixture(autouse=True)
def fresh_client_limits(ddb_client: Any) -> None:
    """Every request of this suite comes from 127.0.0.1, so per-client limits (wrong voucher codes
    per hour, public look-ups per minute, sign-ups) would carry over from test to test and make the
    outcome depend on their order: each test starts with its client's budget unspent. Tests of
    the limits spend it within the test."""
    import time

    from simrenew.adapters.dynamodb.keys import rate_limit_pk
    from tests.support.fuzz import CLIENT_BUCKETS, LOCAL_CLIENT

    now = int(time.time())
    for bucket, window in CLIENT_BUCKETS:
        key = {"pk": {"S": rate_limit_pk(bucket, LOCAL_CLIENT, now // window)}, "sk": {"S": "RATE"}}
        ddb_client.delete_item(TableName=TABLE, Key=key)


@pytest.fixture
def api(server_url: str) -> ApiClient:
    return ApiClient(HttpTransport(server_url))


@pytest.fixture
def platform_key() -> str:
    return PLATFORM_KEY


@pytest.fixture
def make_services(ddb: Any, env: dict[str, str]) -> Any:
    from simrenew.bootstrap import build_services
    from simrenew.config import load_config

    def make(clock: Any, gateway: Any = None, rails: Any = None) -> Any:
        return build_services(load_config(env), clock, gateway, rails)

    return make


class OutboxPollerProcess:
    """infra/outbox_poller.py as the local stack runs it: a child process (binds nothing) that
    feeds DynamoDB Local's stream to the dispatcher function. One checkpoint per session, so each
    start resumes where the last one stopped (as Lambda's event source mapping does)."""

    def __init__(self, env: dict[str, str], checkpoint: Path, outbox_file: Path) -> None:
        self.env, self.checkpoint, self.outbox_file = env, checkpoint, outbox_file
        self.proc: Any = None

    def start(self, fault: str | None = None) -> Any:
        from infra.outbox_poller import FAULT_ENV
        from infra.processes import start_outbox_poller

        self.stop()
        env = {**os.environ, **self.env, "LOCAL_OUTBOX": str(self.outbox_file)}
        env.pop(FAULT_ENV, None)
        if fault:
            env[FAULT_ENV] = fault
        with (LOGS / "it-outbox-poller.log").open("ab") as log:
            self.proc = start_outbox_poller(self.checkpoint, log, env)
        return self.proc

    def status(self) -> dict[str, Any]:
        import json

        try:
            data = json.loads(self.checkpoint.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def wait_caught_up(self, timeout: float = 120) -> None:
        """Until this process has read the stream to its end (it writes caught_up when a pass
        over every shard finds nothing new)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, "the outbox poller exited"
            status = self.status()
            if status.get("pid") == self.proc.pid and status.get("caught_up") is True:
                return
            time.sleep(0.2)
        raise AssertionError("the outbox poller did not catch up with the stream in time")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            assert self.proc.poll() is not None
            self.proc = None


@pytest.fixture(scope="session")
def outbox_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox") / "poller.json"


@pytest.fixture
def outbox_poller(
    ddb_client: Any, env: dict[str, str], outbox_checkpoint: Path, tmp_path: Path
) -> Iterator[OutboxPollerProcess]:
    """The outbox poller, started by the test (`start()`), stopped at its end. Not started for
    every test: the sweep cases count what their own recording sender sends."""
    poller = OutboxPollerProcess(env, outbox_checkpoint, tmp_path / "outbox.jsonl")
    try:
        yield poller
    finally:
        poller.stop()


class LocalCarrier:
    """infra/local_carrier.py as `make dev` runs it (its own process), with its test controls."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url, self.api_key = base_url, api_key

    def _call(self, method: str, path: str, username: str, body: Any = None) -> Any:
        r = requests.request(method, self.base_url + path, json=body, auth=(username, self.api_key), timeout=60)
        assert r.status_code < 500, (path, r.status_code, r.text)
        return r.json()

    def audit(self, username: str, iccid: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/rws/api/v1/devices/{iccid}/auditTrails", username)["deviceAuditTrails"])

    def device(self, username: str, iccid: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/rws/api/v1/devices/{iccid}", username))

    def set_status(self, username: str, iccid: str, status: str) -> None:
        """A change made behind our back (in the carrier's portal, or by its API directly)."""
        self._call("PUT", f"/rws/api/v1/devices/{iccid}", username, {"status": status})

    def add_usage(self, username: str, iccid: str, n_bytes: int) -> None:
        self._call("POST", f"/_sim/devices/{iccid}/usage", username, {"bytes": n_bytes})

    def add_devices(self, username: str, devices: list[dict[str, Any]]) -> None:
        for start in range(0, len(devices), 2000):
            self._call("POST", "/_sim/devices", username, {"devices": devices[start : start + 2000]})

    def fault(self, mode: str, count: int, **extra: Any) -> None:
        self._call("POST", "/_sim/faults", "tests", {"mode": mode, "count": count, **extra})

    def clear_faults(self) -> None:
        self._call("POST", "/_sim/faults/clear", "tests")

    def stats(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_sim/stats", "tests"))


@pytest.fixture(scope="session")
def local_carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCarrier]:
    """The local carrier platform on a free 127.0.0.1 port, its state in a temporary file."""
    key = "cck_integration_" + os.urandom(6).hex()
    state = tmp_path_factory.mktemp("carrier") / "state.json"
    with serving(lambda port, log: start_local_carrier(port, state, log, key), LOGS / "it-carrier.log") as url:
        yield LocalCarrier(url, key)
