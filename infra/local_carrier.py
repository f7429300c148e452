"""A local carrier platform for `make dev` and the tests: its own process (like localstripe), bound
to 127.0.0.1, speaking the Cisco IoT Control Center REST shapes SimRenew uses.

    python -m infra.local_carrier [--port 8430] [--state .local/carrier/state.json]

- HTTP Basic: any username (each username is its own account, with its own SIMs), the password
  must be CARRIER_API_KEY (make dev generates one into .local/carrier_api_key and prints it).
- `GET /rws/api/v1/devices/{iccid}` (a SIM is known at first sight: ACTIVATED, 0 bytes, in the
  account of the username), `PUT /rws/api/v1/devices/{iccid}` {"status"}, `GET .../ctdUsages`,
  Search Devices `GET /rws/api/v1/devices?modifiedSince=&pageSize=&pageNumber=` (50 at most a page,
  oldest change first), `GET .../auditTrails` (every change made), `GET /rws/api/v1/rateplans`,
  `GET /rws/api/v1/usages?ratePlanName=` (usage by rate plan), `GET /rws/api/v1/echo/{text}`.
- Test controls, local only: `POST /_sim/devices/{iccid}/usage {"bytes": n}` adds usage;
  `POST /_sim/devices {"devices": [{"iccid", "status"?, "bytes"?, "date_updated"?}]}` adds SIMs in bulk;
  `POST /_sim/faults {"mode": "error"|"timeout"|"throttle", "count": n, "delay_s"?}` makes the next
  n platform calls fail (timeout: the call is carried out, then the answer comes after delay_s;
  `"method": "PUT"` limits the fault to changes);
  `GET /_sim/stats` counts the platform calls per account (`POST /_sim/stats/reset`).

State (accounts, SIMs, audit trails) is kept in the state file, written a moment after changes.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.processes import LOCAL

API = "/rws/api/v1"
MAX_PAGE = 50
RATE_PLAN = "SIMRENEW-LOCAL-1GB"
COMMUNICATION_PLAN = "SIMRENEW-LOCAL-DATA"
STATUSES = {
    "ACTIVATED",
    "DEACTIVATED",
    "ACTIVATION_READY",
    "TEST_READY",
    "INVENTORY",
    "RETIRED",
    "PURGED",
    "REPLACED",
}
_ICCID = re.compile(r"^[0-9]{18,22}$")


def cc_date(moment: datetime) -> str:
    """Control Center's response date format: yyyy-MM-dd HH:mm:ss.SSS+0000."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_since(raw: str) -> datetime | None:
    """modifiedSince as sent (yyyy-MM-ddTHH:mm:ss+00:00; a "+" left unescaped arrives as a space)."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Platform:
    """The platform's state: accounts → SIMs (status, bytes, dates, audit trail)."""

    def __init__(self, state_file: Path | None, api_key: str) -> None:
        self.api_key = api_key
        self.state_file = state_file
        self.lock = threading.RLock()
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {}
        self.faults: list[dict[str, Any]] = []
        self.stats: Counter[str] = Counter()
        self._dirty = False
        if state_file is not None and state_file.exists():
            try:
                self.accounts = json.loads(state_file.read_text(encoding="utf-8")).get("accounts", {})
            except ValueError:
                self.accounts = {}

    # --- state ---------------------------------------------------------------------------------
    def device(self, account: str, iccid: str, now: datetime) -> dict[str, Any]:
        sims = self.accounts.setdefault(account, {})
        sim = sims.get(iccid)
        if sim is None:
            stamp = cc_date(now)
            sim = sims[iccid] = {
                "iccid": iccid,
                "status": "ACTIVATED",
                "bytes": 0,
                "ratePlan": RATE_PLAN,
                "communicationPlan": COMMUNICATION_PLAN,
                "dateAdded": stamp,
                "dateActivated": stamp,
                "dateUpdated": stamp,
                "updated_ts": now.timestamp(),
                "audit": [],
            }
            self._dirty = True
        return sim

    def set_status(self, account: str, sim: dict[str, Any], status: str, now: datetime, by: str) -> None:
        if sim["status"] == status:
            return  # no change, nothing in the audit trail
        sim["audit"].append(
            {
                "field": "SIM status",
                "priorValue": sim["status"],
                "value": status,
                "effectiveDate": cc_date(now),
                "status": "Executed",
                "userName": by,
                "ipAddress": "127.0.0.1",
            }
        )
        sim["status"] = status
        sim["dateUpdated"] = cc_date(now)
        sim["updated_ts"] = now.timestamp()
        self._dirty = True

    def save_if_dirty(self) -> None:
        with self.lock:
            if not self._dirty or self.state_file is None:
                return
            data = json.dumps({"accounts": self.accounts})
            self._dirty = False
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(self.state_file)

    def take_fault(self, method: str) -> dict[str, Any] | None:
        """The next injected fault for this call (a fault may name the method it hits)."""
        with self.lock:
            for fault in self.faults:
                if fault.get("method") in (None, method):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return dict(fault)
            return None


def public_device(sim: dict[str, Any], account: str) -> dict[str, Any]:
    return {
        "iccid": sim["iccid"],
        "imsi": "4600" + sim["iccid"][-11:],
        "msisdn": "1440" + sim["iccid"][-9:],
        "imei": None,
        "status": sim["status"],
        "ratePlan": sim["ratePlan"],
        "communicationPlan": sim["communicationPlan"],
        "customer": None,
        "endConsumerId": None,
        "dateActivated": sim["dateActivated"],
        "dateAdded": sim["dateAdded"],
        "dateUpdated": sim["dateUpdated"],
        "dateShipped": sim["dateAdded"],
        "accountId": account,
        "fixedIPAddress": None,
        "simNotes": None,
        "deviceID": None,
        "modemID": None,
        "globalSimType": "",
    }


class Handler(BaseHTTPRequestHandler):
    platform: Platform  # set by make_handler
    protocol_version = "HTTP/1.1"
    server_version = "SimRenewLocalCarrier/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no credentials in logs
        pass

    # --- plumbing ------------------------------------------------------------------------------
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"errorMessage": message, "errorCode": code}, headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def _account(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, key = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if not user or not hmac.compare_digest(key.encode(), self.platform.api_key.encode()):
            return None
        return user

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self._body() if method in ("PUT", "POST") else None
        account = self._account()
        if account is None:
            self._error(401, "10000001", "Invalid credentials")
            return
        if path.startswith("/_sim/"):
            self._control(method, path, body, account)
        elif path.startswith(API + "/"):
            self._api(method, path[len(API) :], query, body, account)
        else:
            self._error(404, "10000024", "Resource not found")

    # --- the platform API ----------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: dict[str, str], body: Any, account: str) -> None:
        with self.platform.lock:
            self.platform.stats[account] += 1
            self.platform.stats["*"] += 1
        fault = self.platform.take_fault(method)
        if fault and fault["mode"] == "error":
            self._error(500, "10000000", "Internal error (injected)")
            return
        if fault and fault["mode"] == "throttle":
            self._error(429, "40000029", "Rate limit exceeded (injected)", {"Retry-After": "1"})
            return
        now = datetime.now(UTC)
        with self.platform.lock:
            status, answer = self._answer(method, path, query, body, account, now)
        if fault and fault["mode"] == "timeout":
            time.sleep(float(fault.get("delay_s") or 15))  # carried out, answered too late
        if status >= 400:
            self._error(status, str(answer.get("errorCode")), str(answer.get("errorMessage")))
        else:
            self._send(status, answer)

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Any, account: str, now: datetime
    ) -> tuple[int, dict[str, Any]]:
        sims = self.platform.accounts.setdefault(account, {})
        segments = [s for s in path.split("/") if s]
        if method == "GET" and len(segments) == 2 and segments[0] == "echo":
            return 200, {"context": segments[1]}
        if method == "GET" and segments == ["devices"]:
            return self._search(sims, query)
        if method == "GET" and segments == ["rateplans"]:
            return 200, {
                "ratePlans": [{"name": RATE_PLAN, "type": "Individual"}],
                "pageNumber": 1,
                "lastPage": True,
            }
        if method == "GET" and segments == ["usages"]:
            return self._usages(sims, query)
        if len(segments) >= 2 and segments[0] == "devices":
            return self._device(method, segments, query, body, account, now)
        return 404, {"errorCode": "10000024", "errorMessage": "Resource not found"}

    def _device(
        self, method: str, segments: list[str], query: dict[str, str], body: Any, account: str, now: datetime
    ) -> tuple[int, dict[str, Any]]:
        iccid = segments[1]
        if not _ICCID.match(iccid):
            return 404, {"errorCode": "10000024", "errorMessage": "Invalid ICCID"}
        sim = self.platform.device(account, iccid, now)
        if method == "GET" and len(segments) == 2:
            return 200, public_device(sim, account)
        if method == "PUT" and len(segments) == 2:
            status = (body or {}).get("status") if isinstance(body, dict) else None
            if status is not None:
                if status not in STATUSES:
                    return 400, {"errorCode": "10000003", "errorMessage": f"Invalid status {status}"}
                self.platform.set_status(account, sim, status, now, by=account)
            return 200, {"iccid": iccid}
        if method == "GET" and segments[2:] == ["ctdUsages"]:
            return 200, {
                **{k: public_device(sim, account)[k] for k in ("iccid", "imsi", "msisdn", "imei", "status")},
                "ratePlan": sim["ratePlan"],
                "communicationPlan": sim["communicationPlan"],
                "ctdDataUsage": int(sim["bytes"]),
                "ctdSMSUsage": 0,
                "ctdVoiceUsage": 0,
                "ctdSessionCount": 1 if sim["bytes"] else 0,
                "overageLimitReached": False,
                "overageLimitOverride": "DEFAULT",
            }
        if method == "GET" and segments[2:] == ["auditTrails"]:
            size, number = self._paging(query)
            trail = sim["audit"]
            page = trail[(number - 1) * size : number * size]
            return 200, {
                "iccid": iccid,
                "deviceAuditTrails": page,
                "pageNumber": number,
                "lastPage": number * size >= len(trail),
            }
        return 404, {"errorCode": "10000024", "errorMessage": "Resource not found"}

    @staticmethod
    def _paging(query: dict[str, str]) -> tuple[int, int]:
        size = int(query["pageSize"]) if query.get("pageSize", "").isdigit() else MAX_PAGE
        number = int(query["pageNumber"]) if query.get("pageNumber", "").isdigit() else 1
        return max(1, min(size, MAX_PAGE)), max(1, number)

    def _search(self, sims: dict[str, dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        since = parse_since(query.get("modifiedSince", ""))
        if since is None:
            return 400, {"errorCode": "10000003", "errorMessage": "modifiedSince is required (ISO 8601)"}
        size, number = self._paging(query)
        wanted = query.get("status")
        found = sorted(
            (
                s
                for s in sims.values()
                if s["updated_ts"] >= since.timestamp() and (not wanted or s["status"] == wanted)
            ),
            key=lambda s: (s["updated_ts"], s["iccid"]),
        )
        page = found[(number - 1) * size : number * size]
        devices = [
            {
                "iccid": s["iccid"],
                "status": s["status"],
                "ratePlan": s["ratePlan"],
                "communicationPlan": s["communicationPlan"],
            }
            for s in page
        ]
        return 200, {"pageNumber": number, "devices": devices, "lastPage": number * size >= len(found)}

    def _usages(self, sims: dict[str, dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if query.get("ratePlanName") != RATE_PLAN:
            return 404, {"errorCode": "20000012", "errorMessage": "Rate plan not found"}
        size, number = self._paging(query)
        found = sorted((s for s in sims.values() if s["ratePlan"] == RATE_PLAN), key=lambda s: s["iccid"])
        page = found[(number - 1) * size : number * size]
        devices = [
            {
                "deviceId": s["iccid"],
                "usage": {
                    "dataUsage": int(s["bytes"]),
                    "smsMOUsage": 0,
                    "smsMTUsage": 0,
                    "voiceMOUsage": 0,
                    "voiceMTUsage": 0,
                },
            }
            for s in page
        ]
        return 200, {
            "ratePlanName": RATE_PLAN,
            "zones": [{"zone": "China", "devices": devices}],
            "pageNumber": number,
            "lastPage": number * size >= len(found),
        }

    # --- test controls ------------------------------------------------------------------------------------
    def _add_devices(self, data: dict[str, Any], account: str, now: datetime) -> int:
        added = 0
        for row in data.get("devices") or []:
            if not isinstance(row, dict) or not _ICCID.match(str(row.get("iccid", ""))):
                continue
            sim = self.platform.device(account, str(row["iccid"]), now)
            if isinstance(row.get("bytes"), int):
                sim["bytes"] = max(0, row["bytes"])
            if row.get("status") in STATUSES:
                self.platform.set_status(account, sim, str(row["status"]), now, by="portal")
            updated = parse_since(str(row.get("date_updated") or ""))
            if updated is not None:  # a SIM last changed long ago (shipped, activated)
                sim["dateUpdated"], sim["updated_ts"] = cc_date(updated), updated.timestamp()
            added += 1
        self.platform._dirty = True
        return added

    def _control(self, method: str, path: str, body: Any, account: str) -> None:
        now = datetime.now(UTC)
        segments = [s for s in path.split("/") if s][1:]
        data = body if isinstance(body, dict) else {}
        with self.platform.lock:
            if method == "POST" and segments == ["faults"]:
                mode, count = data.get("mode"), data.get("count", 1)
                if mode not in ("error", "timeout", "throttle") or not isinstance(count, int) or count < 0:
                    self._error(400, "bad_fault", "mode must be error|timeout|throttle, count a number")
                    return
                hits = data.get("method") if data.get("method") in ("GET", "PUT") else None
                self.platform.faults.append(
                    {"mode": mode, "count": count, "delay_s": data.get("delay_s"), "method": hits}
                )
                self._send(200, {"faults": self.platform.faults})
                return
            if method == "POST" and segments == ["faults", "clear"]:
                self.platform.faults.clear()
                self._send(200, {"faults": []})
                return
            if method == "GET" and segments == ["stats"]:
                self._send(200, {"requests": self.platform.stats["*"], "by_account": dict(self.platform.stats)})
                return
            if method == "POST" and segments == ["stats", "reset"]:
                self.platform.stats.clear()
                self._send(200, {"requests": 0})
                return
            if method == "POST" and segments == ["devices"]:
                self._send(200, {"devices": self._add_devices(data, account, now)})
                return
            if method == "POST" and len(segments) == 3 and segments[0] == "devices" and segments[2] == "usage":
                if not _ICCID.match(segments[1]) or not isinstance(data.get("bytes"), int):
                    self._error(400, "bad_usage", "iccid and bytes (a whole number) are required")
                    return
                sim = self.platform.device(account, segments[1], now)
                sim["bytes"] = max(0, int(sim["bytes"]) + int(data["bytes"]))
                self.platform._dirty = True
                self._send(200, {"iccid": sim["iccid"], "ctdDataUsage": sim["bytes"]})
                return
        self._error(404, "not_found", "no such control")


def make_handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    return type("BoundHandler", (Handler,), {"platform": platform})


def kept_api_key(state_dir: Path = LOCAL) -> str:
    """CARRIER_API_KEY, else one generated once into .local/carrier_api_key (mode 600)."""
    given = os.environ.get("CARRIER_API_KEY", "").strip()
    if given:
        return given
    path = state_dir / "carrier_api_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    value = "cck_" + secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def serve(port: int, state_file: Path | None, api_key: str) -> None:
    platform = Platform(state_file, api_key)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(platform))
    server.daemon_threads = True
    stopping = threading.Event()

    def saver() -> None:
        while not stopping.wait(0.5):
            platform.save_if_dirty()

    threading.Thread(target=saver, daemon=True).start()

    def on_term(signum: int, frame: Any) -> None:
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print(f"[carrier] local Control Center platform on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        platform.save_if_dirty()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local carrier platform (Control Center REST shapes)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CARRIER_PORT", "8430") or 8430))
    parser.add_argument("--state", type=Path, default=LOCAL / "carrier" / "state.json")
    args = parser.parse_args(argv)
    serve(args.port, args.state, kept_api_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
