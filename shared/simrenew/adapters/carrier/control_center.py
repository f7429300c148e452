"""Cisco IoT Control Center REST API (the platform behind 中国联通's IoT connection management and
many carriers elsewhere), as documented at developer.cisco.com/docs/control-center:

- HTTP Basic with the Control Center username and the account's API key;
- Get Device Details `GET /rws/api/v1/devices/{iccid}` → {iccid, status, ratePlan, ...};
- Edit Device Details `PUT /rws/api/v1/devices/{iccid}` {"status": "DEACTIVATED"} → {"iccid"};
- Get Device Usage `GET /rws/api/v1/devices/{iccid}/ctdUsages` → {ctdDataUsage (bytes), ...};
- Search Devices `GET /rws/api/v1/devices?modifiedSince=&pageSize=&pageNumber=` → {devices: [{iccid,
  status, ratePlan}], pageNumber, lastPage} (at most 50 a page, oldest change first);
- Get Rate Plans `GET /rws/api/v1/rateplans` and Get Usage by Rate Plan `GET /rws/api/v1/usages
  ?ratePlanName=` → {zones: [{devices: [{deviceId (the ICCID), usage: {dataUsage}}]}], lastPage}:
  cycle-to-date usage of every device of a rate plan, 50 a page (the batch usage read);
- Echo `GET /rws/api/v1/echo/{text}` (the credentials check).

Control Center asks for at most 5 calls a second and one at a time: `min_interval_s` paces them.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from simrenew.adapters.carrier.http import PlatformAdapter, PlatformClient
from simrenew.clock import Clock
from simrenew.domain.carrier import CarrierRejected, SimState, SimStatus, SimUnknown, SimUsage

API = "/rws/api/v1"
PAGE_SIZE = 50  # the documented maximum
MAX_PAGES = 10_000  # a runaway "lastPage: false" must end somewhere
SUSPENDED_STATUS = "DEACTIVATED"
ACTIVE_STATUS = "ACTIVATED"
# SIM Status Values (Control Center) → what they mean here.
STATES = {
    "ACTIVATED": SimState.ACTIVE,
    "DEACTIVATED": SimState.SUSPENDED,
    "ACTIVATION_READY": SimState.NOT_ACTIVE,
    "TEST_READY": SimState.NOT_ACTIVE,
    "INVENTORY": SimState.NOT_ACTIVE,
    "RETIRED": SimState.RETIRED,
    "PURGED": SimState.RETIRED,
    "REPLACED": SimState.RETIRED,
}


def state_of(status: str) -> SimState:
    return STATES.get(status.upper(), SimState.NOT_ACTIVE)


def iso_param(moment: datetime) -> str:
    """Control Center's date format for request parameters: yyyy-MM-ddTHH:mm:ss+00:00."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ControlCenter(PlatformAdapter):
    platform = "control_center"
    supports_changed_since = True
    page_size = PAGE_SIZE

    def __init__(self, client: PlatformClient, username: str, api_key: str, clock: Clock) -> None:
        super().__init__(client, username, api_key, clock)
        token = base64.b64encode(f"{username}:{api_key}".encode()).decode("ascii")
        self._auth = {"Authorization": f"Basic {token}"}

    def _get(self, path: str, query: dict[str, str] | None = None, label: str | None = None) -> Any:
        return self._client.call("GET", API + path, query=query, headers=self._auth, label=label).json()

    # --- one SIM ---------------------------------------------------------------------------------
    def check(self) -> None:
        self._get("/echo/simrenew", label="GET echo")

    def status(self, iccid: str) -> SimStatus:
        data = self._get(f"/devices/{quote(iccid)}", label="GET device")
        return _status(data, iccid)

    def usage(self, iccid: str) -> SimUsage:
        data = self._get(f"/devices/{quote(iccid)}/ctdUsages", label="GET ctdUsages")
        used = data.get("ctdDataUsage") if isinstance(data, dict) else None
        if isinstance(used, bool) or not isinstance(used, int | float):
            raise CarrierRejected("control_center: ctdUsages carried no ctdDataUsage")
        return SimUsage(iccid, int(used), self._clock.now())

    def suspend(self, iccid: str) -> None:
        self._edit_status(iccid, SUSPENDED_STATUS)

    def resume(self, iccid: str) -> None:
        self._edit_status(iccid, ACTIVE_STATUS)

    def _edit_status(self, iccid: str, status: str) -> None:
        # Not idempotent for our purposes: after a timeout the caller reads the status first.
        self._client.call(
            "PUT",
            f"{API}/devices/{quote(iccid)}",
            headers=self._auth,
            body={"status": status},
            idempotent=False,
            label=f"PUT device status={status}",
        )

    # --- batches ---------------------------------------------------------------------------------
    def changed_since(self, since: datetime) -> Iterator[SimStatus]:
        for data in self._pages("/devices", {"modifiedSince": iso_param(since)}, "GET search devices"):
            for device in data.get("devices") or []:
                if isinstance(device, dict) and isinstance(device.get("iccid"), str):
                    yield _status(device, device["iccid"])

    def statuses(self, iccids: Iterable[str]) -> Iterator[SimStatus]:
        # Control Center has no read of many given ICCIDs; Search Devices covers the rest.
        for iccid in iccids:
            try:
                yield self.status(iccid)
            except SimUnknown:
                yield SimStatus(iccid, "UNKNOWN", SimState.UNKNOWN)

    def rate_plans(self) -> list[str]:
        names: list[str] = []
        for data in self._pages("/rateplans", {}, "GET rateplans"):
            names += [str(p["name"]) for p in data.get("ratePlans") or [] if isinstance(p, dict) and p.get("name")]
        return names

    def usages(self, iccids: Iterable[str], rate_plans: Collection[str] = ()) -> Iterator[SimUsage]:
        """Usage by rate plan: every device of each plan, 50 a page. The plans are the ones the
        SIMs are known to be on (from Search Devices), else the account's (Get Rate Plans)."""
        wanted = set(iccids)
        if not wanted:
            return
        now = self._clock.now()
        totals: dict[str, int] = {}
        for plan in sorted(set(rate_plans)) or self.rate_plans():
            query = {"ratePlanName": plan, "usageType": "DATA"}
            for data in self._pages("/usages", query, "GET usages by rate plan"):
                for zone in data.get("zones") or []:
                    for device in (zone or {}).get("devices") or []:
                        iccid = str((device or {}).get("deviceId") or "")
                        used = ((device or {}).get("usage") or {}).get("dataUsage")
                        if iccid in wanted and isinstance(used, int | float) and not isinstance(used, bool):
                            totals[iccid] = totals.get(iccid, 0) + int(used)
        for iccid, used in totals.items():
            yield SimUsage(iccid, used, now)

    def _pages(self, path: str, query: dict[str, str], label: str) -> Iterator[dict[str, Any]]:
        for number in range(1, MAX_PAGES + 1):
            data = self._get(path, {**query, "pageSize": str(PAGE_SIZE), "pageNumber": str(number)}, label)
            if not isinstance(data, dict):
                raise CarrierRejected(f"control_center: {label} answered no object")
            yield data
            if data.get("lastPage", True) is not False:
                return


def _status(data: Any, iccid: str) -> SimStatus:
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise CarrierRejected("control_center: the device carried no status")
    status = data["status"].upper()
    plan = data.get("ratePlan") if isinstance(data.get("ratePlan"), str) else None
    return SimStatus(str(data.get("iccid") or iccid), status, state_of(status), plan)
