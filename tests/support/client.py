"""One small HTTP client interface over two transports: Chalice's in-process gateway (unit,
moto) and real HTTP against the local server (integration, DynamoDB Local)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Resp:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error(self) -> dict[str, Any]:
        data = self.json
        assert isinstance(data, dict) and "error" in data, f"not an error body: {self.body!r}"
        return data["error"]  # type: ignore[no-any-return]


class Transport(Protocol):
    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Resp: ...


class ApiClient:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Resp:
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        payload = body if body is not None else (b"" if json_body is None else json.dumps(json_body).encode())
        return self._transport.send(method, path, sent, payload)

    def get(self, path: str, **kw: Any) -> Resp:
        return self.call("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Resp:
        return self.call("POST", path, json_body=json_body if json_body is not None else {}, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Resp:
        return self.call("PATCH", path, json_body=json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Resp:
        return self.call("DELETE", path, **kw)


class ChaliceTransport:
    def __init__(self, app: Any, settle: Any = None) -> None:
        from chalice.test import Client

        self._client = Client(app)
        # Called after each request: the in-process tests wait there for the background work the
        # request started (a sweep run's steps), as moto's in-memory tables take one thread at a time.
        self._settle = settle

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Resp:
        r = self._client.http.request(method, path, headers=headers, body=body)
        if self._settle is not None:
            self._settle()
        return Resp(r.status_code, r.body or b"", {k.lower(): v for k, v in r.headers.items()})


class HttpTransport:
    def __init__(self, base_url: str) -> None:
        import requests

        self._base = base_url
        self._session = requests.Session()

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Resp:
        r = self._session.request(method, self._base + path, headers=headers, data=body, timeout=30)
        return Resp(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})
