"""The response contract, checked on every answer the unit tier receives: a 2xx JSON body must be
exactly what its route's response model (functions/api/chalicelib/responses/) describes: no field
the model does not name, none it requires missing, every type as declared. A handler that adds a
field without its model fails the suite; the OpenAPI document (built from the same models) stays true."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from tests.support.client import Resp, Transport


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    params: int
    spec: Any


def _routes(specs: list[Any]) -> list[_Route]:
    routes = []
    for spec in specs:
        regex = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(spec.path)) + "$"
        routes.append(_Route(spec.method, re.compile(regex), spec.path.count("{"), spec))
    # A literal segment wins over a parameter, as in the router (POST /v1/terminals/claim, not {sn}).
    return sorted(routes, key=lambda r: r.params)


class ContractViolation(AssertionError):
    pass


def check_response(routes: list[_Route], method: str, path: str, resp: Resp) -> None:
    """Raise ContractViolation when a 2xx JSON answer is not its route's response model."""
    if not 200 <= resp.status < 300 or not resp.body:
        return
    if not resp.headers.get("content-type", "").startswith("application/json"):
        return
    bare = path.split("?", 1)[0]
    route = next((r for r in routes if r.method == method and r.pattern.match(bare)), None)
    if route is None:
        return  # not a route of the app (Chalice answers it itself)
    record = os.environ.get("SIMRENEW_RECORD_RESPONSES")
    if record:  # a contributor's aid: collect real answers to write a model from
        with open(record, "a", encoding="utf-8") as out:
            line = {"route": f"{method} {route.spec.path}", "status": resp.status, "body": json.loads(resp.body)}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    from chalicelib.responses import model_for

    model = model_for(route.spec, resp.status)
    if model is None:
        raise ContractViolation(f"{method} {route.spec.path} answers {resp.status} JSON but declares no response model")
    from pydantic import ValidationError

    try:
        model.model_validate_json(resp.body, strict=True)
    except ValidationError as err:
        raise ContractViolation(
            f"{method} {path} answered {resp.status} not as {model.__name__} declares:\n{err}\n"
            f"body: {resp.body[:2000]!r}"
        ) from None


class CheckedTransport:
    """A transport that checks each answer against the response contract before handing it back."""

    def __init__(self, inner: Transport, specs: list[Any]) -> None:
        self._inner = inner
        self._routes = _routes(specs)

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Resp:
        resp = self._inner.send(method, path, headers, body)
        check_response(self._routes, method, path, resp)
        return resp
