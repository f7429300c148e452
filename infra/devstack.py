"""`make dev`: DynamoDB Local, localstripe, the local WeChat Pay platform and Alipay gateway, the
API + UI on one origin, the sweep scheduler and
the outbox poller (DynamoDB Local's stream → the dispatcher function, as Lambda does in AWS).

Everything binds 127.0.0.1. Ctrl-C (or SIGTERM) stops every child; children also die with
this process if it is killed outright (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import urllib.request
import uuid
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from infra import demo, settings
from infra.localserver import LocalContext, ensure_origin_secret, load_function_module, make_server
from infra.processes import (
    port_in_use,
    start_dynamodb_local,
    start_local_alipay,
    start_local_carrier,
    start_local_wechatpay,
    start_localstripe,
    start_outbox_poller,
    stop,
)
from infra.s3_local import start_local_s3
from infra.serve import start_upload_events
from infra.table import ensure_table


def scheduled_event() -> dict[str, Any]:
    """The payload EventBridge Scheduler hands the sweep function."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": now,
        "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:000000000000:schedule/default/simrenew-sweep"],
        "detail": {},
    }


def run_scheduler(sweep: Any, every_s: int, stopping: threading.Event) -> None:
    while not stopping.wait(every_s):
        try:
            result = sweep.handler(scheduled_event(), LocalContext())
            print(f"[sweep] {result}", flush=True)
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the schedule
            print(f"[sweep] failed: {exc!r}", flush=True)


def run_carrier_sync(services: Any, every_s: int, stopping: threading.Event) -> None:
    """The local stand-in for the daily CarrierSyncSchedule (every CARRIER_SYNC_EVERY_S seconds)."""
    while not stopping.wait(every_s):
        try:
            print(f"[carrier] synced {services.carrier_sync.run_all()} agent(s)", flush=True)
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the schedule
            print(f"[carrier] sync failed: {exc!r}", flush=True)


def register_stripe_webhook(cfg: settings.LocalSettings) -> None:
    data = f"url={cfg.base_url}/webhooks/stripe&secret={cfg.stripe_webhook_secret}".encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{cfg.stripe_port}/_config/webhooks/simrenew", data=data, method="POST"
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def main() -> int:
    cfg = settings.load()
    ports = (
        ("PORT", cfg.port),
        ("DDB_PORT", cfg.ddb_port),
        ("STRIPE_PORT", cfg.stripe_port),
        ("S3_PORT", cfg.s3_port),
        ("WECHATPAY_PORT", cfg.wechatpay_port),
        ("ALIPAY_PORT", cfg.alipay_port),
    )
    for name, port in (*ports, ("CARRIER_PORT", cfg.carrier_port)):
        if port_in_use(port):
            print(f"port {port} ({name}) is already in use: is another `make dev` running? Set {name} to move it.")
            return 1
    os.environ.update(cfg.app_env())
    logs = cfg.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children = []
    stopping = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        print("starting DynamoDB Local ...", flush=True)
        ddb_log = (logs / "dynamodb.log").open("ab")
        children.append(start_dynamodb_local(cfg.ddb_port, cfg.data_dir / "ddb", ddb_log))
        print("starting local Stripe (localstripe) ...", flush=True)
        children.append(start_localstripe(cfg.stripe_port, (logs / "localstripe.log").open("ab")))
        print("starting local S3 (moto server) ...", flush=True)
        children.append(start_local_s3(cfg.s3_port, (logs / "s3.log").open("ab")))
        print("starting the local carrier platform (Control Center REST) ...", flush=True)
        carrier_log, carrier_state = (logs / "carrier.log").open("ab"), cfg.data_dir / "carrier" / "state.json"
        children.append(start_local_carrier(cfg.carrier_port, carrier_state, carrier_log, cfg.carrier_api_key))
        print("starting the local WeChat Pay platform and Alipay gateway ...", flush=True)
        children.append(start_local_wechatpay(cfg.wechatpay_port, (logs / "wechatpay.log").open("ab")))
        children.append(start_local_alipay(cfg.alipay_port, (logs / "alipay.log").open("ab")))

        import boto3

        client = boto3.client("dynamodb", endpoint_url=os.environ["DDB_ENDPOINT"], region_name="us-east-1")
        if ensure_table(client, cfg.table_name):
            print(f"created table {cfg.table_name} from template.yaml", flush=True)

        ensure_origin_secret()  # before the API module reads its config
        api_module = load_function_module("api")
        webhook_module = load_function_module("webhook")
        sweep_module = load_function_module("sweep")
        state = demo.load_once(api_module.services(), cfg.data_dir / "demo.json")
        demo.connect_carrier(api_module.services(), state, f"http://127.0.0.1:{cfg.carrier_port}", cfg.carrier_api_key)
        register_stripe_webhook(cfg)
        print("starting the outbox poller (receipts and agent webhooks within seconds) ...", flush=True)
        children.append(start_outbox_poller(cfg.data_dir / "outbox-poller.json", (logs / "outbox.log").open("ab")))

        threading.Thread(target=run_scheduler, args=(sweep_module, cfg.sweep_every_s, stopping), daemon=True).start()
        every = int(os.environ.get("CARRIER_SYNC_EVERY_S", "3600") or 3600)
        threading.Thread(target=run_carrier_sync, args=(api_module.services(), every, stopping), daemon=True).start()
        server = make_server("127.0.0.1", cfg.port, api_module.app, webhook_module.handler)
        start_upload_events(cfg.base_url)  # the uploads bucket from template.yaml, its trigger to the worker
        banner = f"""
SimRenew local stack is up (Ctrl-C stops everything; data is kept in {cfg.data_dir}/ddb)

  agent console     {cfg.base_url}/            (sign in with the demo API key below)
  merchant pay page {cfg.base_url}/pay/DEMO-000001   (local test card 4242 4242 4242 4242)
  API docs          {cfg.base_url}/v1/openapi.json
  Health            {cfg.base_url}/v1/health
  DynamoDB Local    http://127.0.0.1:{cfg.ddb_port}
  local Stripe      http://127.0.0.1:{cfg.stripe_port}
  local S3          http://127.0.0.1:{cfg.s3_port}   (bucket {settings.LOCAL_BUCKET}; uploads start imports)
  local carrier     http://127.0.0.1:{cfg.carrier_port}   (Control Center REST; API key {cfg.carrier_api_key})
  local WeChat Pay  http://127.0.0.1:{cfg.wechatpay_port}   (POST /_sim/transactions/<out_trade_no>/pay)
  local Alipay      http://127.0.0.1:{cfg.alipay_port}/gateway.do   (the demo agent is a sub-merchant of both)
  sweep             every {cfg.sweep_every_s}s
  outbox            stream poller, log in {logs}/outbox.log; messages in {cfg.data_dir}/outbox.jsonl

  platform key      {cfg.platform_key}
  demo agent        {state["tenant_id"]}
  demo API key      {state["api_key"]}

  try:  curl -H "Authorization: Bearer {state["api_key"]}" {cfg.base_url}/v1/tenant
"""
        print(banner, flush=True)
        server.server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        stopping.set()
        for proc in reversed(children):
            stop(proc)
        print("stopped: no process left behind", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
