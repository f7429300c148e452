"""Request/response shapes of the carrier platforms, taken from their public documentation, for
the adapters' unit tests (and a fake transport that answers with them).

Control Center: developer.cisco.com/docs/control-center (Get Device Details, Edit Device Details,
Get Device Usage, Search Devices, Get Rate Plans, Get Usage by Rate Plan, error body
{"errorMessage", "errorCode"}). OneLink: the EC API v5 documents (CMIOT_API25S04 单卡状态查询,
CMIOT_API25U04 单卡本月流量累计使用量查询, CMIOT_API23S03 单卡状态变更, CMIOT_API25S05 码号信息批量查询,
CMIOT_API25U03 物联卡单月GPRS流量使用量批量查询, the token call), envelope {"status", "message",
"result": [...]}.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simrenew.adapters.carrier.http import Response

ICCID = "89860112345678901231"
ICCID_2 = "89860112345678901249"
# The body of POST /v1/carrier-accounts the carrier tests connect an agent with.
ACCOUNT = {
    "carrier": "CMCC",
    "platform": "control_center",
    "base_url": "https://cc.example.com/",
    "username": "agent-a",
    "api_key": "super-secret-key-1",
}

# --- Control Center ---------------------------------------------------------------------------------------
# The device's identity, at the head of both Get Device Details and Get Device Usage.
CC_IDENTITY = {
    "iccid": ICCID,
    "imsi": "460011234567890",
    "msisdn": "1064812345678",
    "imei": "861234567890123",
    "status": "ACTIVATED",
    "ratePlan": "CUCC-POS-30MB",
    "communicationPlan": "CUCC-DATA",
}
CC_DEVICE = {
    **CC_IDENTITY,
    "customer": None,
    "endConsumerId": None,
    "dateActivated": "2026-01-05 08:00:00.000+0000",
    "dateAdded": "2025-12-20 02:11:45.000+0000",
    "dateUpdated": "2026-11-01 09:30:00.000+0000",
    "dateShipped": "2025-12-21 00:00:00.000+0000",
    "accountId": "100020620",
    "fixedIPAddress": None,
    "operatorCustom1": "",
    "accountCustom1": "",
    "simNotes": None,
    "deviceID": None,
    "modemID": "",
    "globalSimType": "",
}
CC_EDIT_RESPONSE = {"iccid": ICCID}
CC_CTD_USAGE = {
    **CC_IDENTITY,
    "ctdDataUsage": 23_068_672,  # bytes: 22 MiB
    "ctdSMSUsage": 0,
    "ctdVoiceUsage": 0,
    "ctdSessionCount": 14,
    "overageLimitReached": False,
    "overageLimitOverride": "DEFAULT",
}
CC_SEARCH_PAGE_1 = {
    "pageNumber": 1,
    "devices": [{"iccid": ICCID, "status": "ACTIVATED", "ratePlan": "CUCC-POS-30MB", "communicationPlan": "CUCC-DATA"}],
    "lastPage": False,
}
CC_SEARCH_PAGE_2 = {
    "pageNumber": 2,
    "devices": [
        {"iccid": ICCID_2, "status": "DEACTIVATED", "ratePlan": "CUCC-POS-30MB", "communicationPlan": "CUCC-DATA"}
    ],
    "lastPage": True,
}
CC_RATE_PLANS = {
    "operatorName": "China Unicom",
    "operatorId": 100,
    "timeStamp": "2026-11-30T03:00:00.000Z",
    "pageNumber": 1,
    "ratePlans": [{"name": "CUCC-POS-30MB", "type": "Individual"}],
    "lastPage": True,
}
CC_USAGE_BY_RATE_PLAN = {
    "pageNumber": 1,
    "zones": [
        {"zone": "China", "devices": [{"deviceId": ICCID, "usage": {"dataUsage": 1_048_576, "smsMOUsage": 0}}]},
        {"zone": "Roaming", "devices": [{"deviceId": ICCID, "usage": {"dataUsage": 524_288, "smsMOUsage": 0}}]},
        {"zone": "China", "devices": [{"deviceId": "89860199999999999999", "usage": {"dataUsage": 7}}]},
    ],
    "lastPage": True,
}
CC_ERROR_AUTH = {"errorMessage": "Invalid credentials.", "errorCode": "10000001"}
CC_ERROR_INVALID = {"errorMessage": "Invalid status.", "errorCode": "10000003"}
CC_ERROR_NOT_FOUND = {"errorMessage": "Resource not found - Invalid ICCID.", "errorCode": "10000024"}

# --- OneLink -------------------------------------------------------------------------------------------------
OL_TOKEN = {"status": "0", "message": "正确", "result": [{"token": "tk-5f6e7d", "ttl": "3600"}]}
OL_TOKEN_REFUSED = {"status": "12009", "message": "APPID或密码错误", "result": []}
OL_TOKEN_GONE = {"status": "12021", "message": "token不存在或已过期", "result": []}
OL_STATUS_ACTIVE = {
    "status": "0",
    "message": "正确",
    "result": [{"cardStatus": "2", "lastChangeDate": "2026-01-05 08:00:00"}],
}
OL_STATUS_STOPPED = {
    "status": "0",
    "message": "正确",
    "result": [{"cardStatus": "4", "lastChangeDate": "2026-11-30 10:00:00"}],
}
OL_DATA_USAGE = {
    "status": "0",
    "message": "正确",
    "result": [{"dataAmount": "2048.00", "apnUseAmountList": [{"apnName": "CMIOT", "apnUseAmount": "2048.00"}]}],
}
OL_CHANGE = {"status": "0", "message": "正确", "result": [{"orderNum": "1060000000000001", "msisdn": "1440123456789"}]}


def ol_card_info(iccids: list[str]) -> dict[str, Any]:
    return {
        "status": "0",
        "message": "正确",
        "result": [
            {"status": "0", "message": "正确", "iccid": i, "msisdn": f"1440{i[-9:]}", "imsi": f"46004{i[-10:]}"}
            for i in iccids
        ],
    }


def ol_monthly(msisdns: list[str], kb: str = "1024") -> dict[str, Any]:
    return {
        "status": "0",
        "message": "正确",
        "result": [
            {
                "deadLine": "20261129",
                "dataAmountList": [
                    {"dataAmount": kb, "apnDataAmountList": [{"apnName": "CMIOT", "apnDataAmount": kb}], "msisdn": m}
                    for m in msisdns
                ],
            }
        ],
    }


# --- a transport that answers from the fixtures ------------------------------------------------------------------
@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


Answer = Response | OSError | Callable[[Sent], Response]


@dataclass
class FakeTransport:
    """Answers (method, path) with the queued answers in order (the last one repeats); an OSError
    in the queue is raised as a timeout would be. Records every request."""

    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> FakeTransport:
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout_s: float) -> Response:
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        request = Sent(method, parts.path, query, dict(headers), json.loads(body) if body else None)
        self.sent.append(request)
        queue = self.routes.get((method, parts.path))
        if not queue:
            return Response(404, json.dumps(CC_ERROR_NOT_FOUND).encode())
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, OSError):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(body, ensure_ascii=False).encode(), headers or {})
