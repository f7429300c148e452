"""中国移动 OneLink (物联卡能力开放平台) EC API v5, as its public documentation and the clients
built on it show it (base https://api.iot.10086.cn):

- token: `GET /v5/ec/get/token?appid=&password=&transid=` → {"status": "0", "message": "正确",
  "result": [{"token", "ttl"}]}; every other call carries `transid` and `token`; status 12021 means
  the token is gone (fetch a new one once);
- transid: appid + yyyyMMddHHmmss + an 8-digit sequence;
- single-SIM status (CMIOT_API25S04) `GET /v5/ec/query/sim-status?iccid=` → result[0].cardStatus:
  1 待激活, 2 已激活, 4 停机, 6 可测试, 7 库存, 8 预销户;
- usage this month (CMIOT_API25U04) `GET /v5/ec/query/sim-data-usage?iccid=` → result[0].dataAmount
  in KB;
- 停复机 (CMIOT_API23S03) `GET /v5/ec/change/sim-status?iccid=&operType=` (0 停机, 1 复机) →
  result[0].orderNum;
- batches of up to 100: `GET /v5/ec/query/sim-card-info/batch?iccids=a_b_c` (ICCID → MSISDN) and
  `GET /v5/ec/query/sim-data-usage-monthly/batch?msisdns=&queryDate=yyyyMM` (usage per MSISDN, KB,
  this month up to yesterday). OneLink has no status read for many SIMs and no "changed since".

Every answer is HTTP 200 with a `status` of its own: "0" is success, anything else an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simrenew.adapters.carrier.http import PlatformAdapter, PlatformClient
from simrenew.clock import Clock
from simrenew.domain.carrier import (
    CarrierAuthFailed,
    CarrierRejected,
    CarrierThrottled,
    SimState,
    SimStatus,
    SimUnknown,
    SimUsage,
)

API = "/v5/ec"
BATCH = 100
KB = 1024
TOKEN_GONE = {"12021"}  # the token expired or was replaced
THROTTLED = {"12013"}  # calls too frequent
BEIJING = ZoneInfo("Asia/Shanghai")
# cardStatus → (the platform's name, what it means here)
STATES = {
    "1": ("待激活", SimState.NOT_ACTIVE),
    "2": ("已激活", SimState.ACTIVE),
    "4": ("停机", SimState.SUSPENDED),
    "6": ("可测试", SimState.NOT_ACTIVE),
    "7": ("库存", SimState.NOT_ACTIVE),
    "8": ("预销户", SimState.RETIRED),
}
SUSPEND, RESUME = "0", "1"


class OneLink(PlatformAdapter):
    platform = "onelink"
    supports_changed_since = False
    page_size = BATCH

    def __init__(self, client: PlatformClient, appid: str, password: str, clock: Clock) -> None:
        super().__init__(client, appid, password, clock)
        self._appid = appid
        self._password = password
        self._token: str | None = None
        self._token_until: datetime | None = None
        self._seq = itertools.count(1)

    def transid(self) -> str:
        stamp = self._clock.now().astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
        return f"{self._appid}{stamp}{next(self._seq) % 10**8:08d}"

    # --- the envelope ------------------------------------------------------------------------------
    def _token_now(self) -> str:
        now = self._clock.now()
        if self._token and self._token_until and now < self._token_until:
            return self._token
        answer = self._client.call(
            "GET",
            f"{API}/get/token",
            query={"appid": self._appid, "password": self._password, "transid": self.transid()},
            label="GET token",
        ).json()
        if not isinstance(answer, dict) or str(answer.get("status")) != "0":
            raise CarrierAuthFailed("onelink refused the appid and password")
        first = (answer.get("result") or [{}])[0] or {}
        token = first.get("token")
        if not isinstance(token, str) or not token:
            raise CarrierAuthFailed("onelink answered no token")
        ttl = int(str(first.get("ttl") or "3600")) if str(first.get("ttl") or "3600").isdigit() else 3600
        self._token, self._token_until = token, now + timedelta(seconds=max(60, ttl - 60))
        return token

    def _call(self, path: str, params: dict[str, str], *, idempotent: bool = True, label: str) -> list[dict[str, Any]]:
        for fresh in (False, True):
            if fresh:
                self._token = None
            query = {"transid": self.transid(), "token": self._token_now(), **params}
            answer = self._client.call("GET", API + path, query=query, idempotent=idempotent, label=label).json()
            if not isinstance(answer, dict):
                raise CarrierRejected(f"onelink: {label} answered no object")
            status = str(answer.get("status"))
            if status == "0":
                result = answer.get("result") or []
                return [r for r in result if isinstance(r, dict)] if isinstance(result, list) else []
            if status in TOKEN_GONE and not fresh:
                continue
            if status in THROTTLED:
                raise CarrierThrottled(f"onelink: {label} throttled ({status})")
            raise CarrierRejected(f"onelink refused {label}: {status} {str(answer.get('message') or '')[:80]}")
        raise CarrierAuthFailed("onelink refused a fresh token")

    # --- one SIM ---------------------------------------------------------------------------------
    def check(self) -> None:
        self._token = None
        self._token_now()

    def status(self, iccid: str) -> SimStatus:
        try:
            result = self._call("/query/sim-status", {"iccid": iccid}, label="GET sim-status")
        except CarrierRejected as exc:
            raise SimUnknown(f"onelink: {exc.message}") from exc
        code = str((result[0] if result else {}).get("cardStatus") or "")
        name, state = STATES.get(code, (code or "?", SimState.NOT_ACTIVE))
        return SimStatus(iccid, name, state)

    def usage(self, iccid: str) -> SimUsage:
        result = self._call("/query/sim-data-usage", {"iccid": iccid}, label="GET sim-data-usage")
        return SimUsage(iccid, _kb_to_bytes((result[0] if result else {}).get("dataAmount")), self._clock.now())

    def suspend(self, iccid: str) -> None:
        self._call("/change/sim-status", {"iccid": iccid, "operType": SUSPEND}, idempotent=False, label="停机")

    def resume(self, iccid: str) -> None:
        self._call("/change/sim-status", {"iccid": iccid, "operType": RESUME}, idempotent=False, label="复机")

    # --- batches ---------------------------------------------------------------------------------
    def changed_since(self, since: datetime) -> Iterator[SimStatus]:
        raise NotImplementedError("OneLink has no search by modification time; use statuses()")

    def statuses(self, iccids: Iterable[str]) -> Iterator[SimStatus]:
        for iccid in iccids:  # no batch status read on OneLink
            try:
                yield self.status(iccid)
            except SimUnknown:
                yield SimStatus(iccid, "UNKNOWN", SimState.UNKNOWN)

    def usages(self, iccids: Iterable[str], rate_plans: Collection[str] = ()) -> Iterator[SimUsage]:
        wanted = list(dict.fromkeys(iccids))
        now = self._clock.now()
        as_of = now.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)  # up to yesterday
        month = now.astimezone(BEIJING).strftime("%Y%m")
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            info = self._call("/query/sim-card-info/batch", {"iccids": "_".join(chunk)}, label="GET sim-card-info")
            by_msisdn = {str(r["msisdn"]): str(r["iccid"]) for r in info if r.get("msisdn") and r.get("iccid")}
            if not by_msisdn:
                continue
            result = self._call(
                "/query/sim-data-usage-monthly/batch",
                {"msisdns": "_".join(by_msisdn), "queryDate": month},
                label="GET sim-data-usage-monthly",
            )
            for block in result:
                for row in block.get("dataAmountList") or []:
                    iccid = by_msisdn.get(str((row or {}).get("msisdn")))
                    if iccid:
                        yield SimUsage(iccid, _kb_to_bytes(row.get("dataAmount")), as_of)


def _kb_to_bytes(raw: Any) -> int:
    try:
        return max(0, round(float(str(raw)) * KB))
    except ValueError:
        raise CarrierRejected(f"onelink: usage is not a number: {str(raw)[:20]!r}") from None
