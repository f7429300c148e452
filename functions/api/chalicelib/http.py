"""The thin HTTP edge of the API function: routing, auth, JSON in/out, error mapping.

Every route is declared through `Api.route`, which records it for the OpenAPI document,
authenticates the caller, parses the body, applies Idempotency-Key semantics and turns
typed domain errors into the error shape of docs/api.md. No business rule lives here.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field, replace
from typing import Any

from chalice.app import Chalice, Response

from simrenew.bootstrap import Services
from simrenew.config import Config
from simrenew.domain.tenant import Principal, Role
from simrenew.errors import NotFound, PayloadTooLarge, PermissionDenied, RateLimited, SimRenewError, ValidationError
from simrenew.log import begin_request, bind, get_logger
from simrenew.services.auth import bearer_token, require_role

PUBLIC = "public"
PLATFORM = "platform"
Auth = str | Role

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Every id or SN in a path is far shorter; a longer one cannot exist, and passed on it would overflow
# DynamoDB's key size (a ValidationException, so a 500: found by fuzzing).
MAX_PATH_PARAM = 100
# Secrets are shown once: a replayed answer never carries them again. A pay page order's token is
# not one of them: the open order hands it back to the same terminal and plan anyway, and the pay
# page that sends its order again (the first answer lost) needs it to confirm and follow the order.
_SECRET_FIELDS = ("api_key", "codes", "secret")
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
# A 503 (the data store or the payment provider busy after retries) tells the client when to retry.
RETRY_AFTER_UNAVAILABLE_S = 2
# JSON bodies: no route needs more (CSV imports have their own route and limit), and nesting
# deeper than this is no document any route takes (deeper was a RecursionError: a 500).
MAX_JSON_BODY = 1024 * 1024
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
# Client identity behind CloudFront: the viewer's address CloudFront measured, trusted only on a
# request that carries the secret CloudFront adds as an origin custom header (template.yaml).
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"
ORIGIN_VERIFY_HEADER = "x-origin-verify"


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Req:
    services: Services
    principal: Principal | None
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    client_id: str
    _json: Any = None

    def wants_csv(self) -> bool:
        return "text/csv" in self.headers.get("accept", "")

    def is_json_object(self) -> bool:
        """A JSON body on a route that also takes CSV: sent as application/json, or not as text/csv and
        starting with "{" or "[" (which no CSV header does): clients such as `curl -d` send JSON
        without saying so."""
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "text/csv":
            return False
        # A JSON body that is not an object ("[1]", "{bad") is still JSON: refused naming `body`.
        return kind == "application/json" or self.raw_body.lstrip()[:1] in (b"{", b"[")

    @property
    def client_ip(self) -> str:
        """The payer's address for WeChat Pay's scene_info (CloudFront's viewer address, without its port)."""
        raw = self.headers.get("cloudfront-viewer-address") or self.headers.get("CloudFront-Viewer-Address") or ""
        host = raw.rsplit(":", 1)[0].strip("[]") if ":" in raw else raw
        return host or "127.0.0.1"

    @property
    def tenant_id(self) -> str:
        assert self.principal is not None and self.principal.tenant_id is not None
        return self.principal.tenant_id

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is an empty object. Bounded in size and
        nesting depth before it is parsed."""
        if self._json is None:
            if not self.raw_body.strip():
                self._json = {}
            else:
                self._json = parse_json_body(self.raw_body)
            if not isinstance(self._json, dict):
                raise ValidationError("body", "invalid_json", "the body must be a JSON object")
        return self._json


def _headers(headers: dict[str, str]) -> dict[str, str | list[str]]:
    """Chalice's Response takes multi-value headers too; ours are all single-valued."""
    return dict(headers)


def _as_bytes(raw: str | bytes | None) -> bytes:
    """The body as Chalice holds it (bytes; a str only from its local test gateway)."""
    if raw is None:
        return b""
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json_body(raw: bytes) -> Any:
    if len(raw) > MAX_JSON_BODY:
        raise PayloadTooLarge(f"the body must be at most {MAX_JSON_BODY} bytes", field="body")
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
        raise ValidationError("body", "body_too_deep", f"the body may nest at most {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("body", "invalid_json", "the body is not valid JSON") from None
    except RecursionError:  # belt and braces: the depth check above should have caught it
        raise ValidationError("body", "body_too_deep", "the body nests too deeply") from None


_origin_secrets: dict[str, Any] = {}


def _expected_origin_secret(config: Config) -> str | None:
    """The X-Origin-Verify value requests must carry: Secrets Manager in AWS (read once per
    container), the local server's own value locally; None when nothing is configured."""
    if config.origin_verify_secret:
        return config.origin_verify_secret
    arn = config.origin_verify_secret_arn
    if not arn:
        return None
    if arn not in _origin_secrets:
        from simrenew.adapters.secrets import SecretValue

        _origin_secrets[arn] = SecretValue(secret_arn=arn, region=config.region)
    return str(_origin_secrets[arn].get())


def viewer_address(raw: str) -> str | None:
    """The client from `CloudFront-Viewer-Address` ("198.51.100.7:46532", "2001:db8::1:46532").
    An IPv6 viewer counts as its /64 (one subscriber's block), so rotating addresses inside it
    does not escape a limit."""
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not port.isdigit():
        return None
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_identity(config: Config, headers: dict[str, str], source_ip: str | None) -> str:
    """Who is calling, for rate limits and public idempotency scopes. In AWS every request must
    carry CloudFront's secret origin header (403 otherwise: nobody can reach API Gateway around
    CloudFront and spoof the viewer header); the client is then CloudFront's viewer address.
    Locally the local server sets both headers from the socket peer."""
    expected = _expected_origin_secret(config)
    if expected is None:
        if not config.is_local:
            get_logger().error("no ORIGIN_VERIFY_SECRET_ARN configured: every request is refused")
            raise PermissionDenied("requests must come through the site's address", code="origin_required")
        return source_ip or "unknown"  # in-process test gateway: no edge in front
    given = headers.get(ORIGIN_VERIFY_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionDenied("requests must come through the site's address", code="origin_required")
    return viewer_address(headers.get(VIEWER_ADDRESS_HEADER, "")) or source_ip or "unknown"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    auth: Auth
    summary: str
    status: int
    # The route's request models (chalicelib/requests), named lazily: "fleet.TerminalCreate", "queries.Page".
    request: str | None
    query: str | None
    idempotent: bool
    tag: str
    body_type: str = "application/json"
    response_type: str = "application/json"  # what a success answers with, for the OpenAPI document
    finance: bool = False  # a finance key may call it (GET routes only)
    # A second body the route also takes (media type, request model), and further documented answers.
    alt_body: tuple[str, str] | None = None
    also: tuple[tuple[int, str], ...] = ()
    # The response model of a JSON success (its schema name in chalicelib/responses), or one per status.
    response: str | dict[int, str] | None = None

    @property
    def responses(self) -> dict[int, str]:
        """The response model's schema name for each success status that answers JSON."""
        if self.response is None:
            return {}
        return dict(self.response) if isinstance(self.response, dict) else {self.status: self.response}

    @property
    def roles(self) -> list[str]:
        """The agent roles that may call the route, for the OpenAPI document."""
        if not isinstance(self.auth, Role):
            return []
        ordered = [r.label for r in Role if r is not Role.FINANCE and r >= self.auth]
        return [*ordered, Role.FINANCE.label] if self.finance else ordered


def error_response(err: SimRenewError) -> Response:
    headers = dict(JSON_HEADERS)
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after_s)
    elif err.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE_S)
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="simrenew"'
    return Response(
        body=json.dumps(err.to_body(), ensure_ascii=False), status_code=err.status, headers=_headers(headers)
    )


def internal_error_response() -> Response:
    body = {"error": {"code": "internal_error", "message": "something went wrong on our side; it was logged"}}
    return Response(body=json.dumps(body), status_code=500, headers=dict(JSON_HEADERS))


def _abandon(services: Services, idem: tuple[str, str]) -> None:
    """Release the Idempotency-Key of a failed request; if the store is down too, the claim
    goes stale on its own (a minute) and the answer stays the error being sent."""
    try:
        services.idempotency.abandon(*idem)
    except Exception:  # noqa: BLE001 - never turn the answer being sent into another error
        get_logger().warning("idempotency claim not released", exc_info=True)


def _store_unavailable(exc: BaseException) -> SimRenewError | None:
    from simrenew.adapters.dynamodb.errors import store_unavailable  # the error path only

    return store_unavailable(exc)


def _bad_start_key(exc: BaseException) -> SimRenewError | None:
    from simrenew.adapters.dynamodb.errors import bad_start_key  # the error path only

    return bad_start_key(exc)


def _validate(spec: RouteSpec, req: Req) -> list[Any]:
    """The one place a request meets its route's models (chalicelib/requests): before the handler runs, so
    a refused body or query string writes nothing; the validated models are what the handler gets after the
    request, the body's then the query's. A JSON body sent to a route that also takes CSV meets the JSON
    model (`alt_body`); a CSV body is no model (None)."""
    models: list[Any] = []
    if spec.request is not None:
        models.append(_body(spec, req))
    if spec.query is not None:
        from chalicelib.requests import validate_query  # pydantic: only for a route with a query string

        models.append(validate_query(spec.query, req.query))
    return models


def _body(spec: RouteSpec, req: Req) -> Any:
    if spec.body_type == "application/json" and spec.request is not None:
        ref: str | None = spec.request
    elif spec.alt_body is not None and spec.alt_body[0] == "application/json" and req.is_json_object():
        ref = spec.alt_body[1]
    else:
        return None
    from chalicelib.requests import validate_body  # pydantic: only for a route with a body

    assert ref is not None
    return validate_body(ref, req.json())


def _redact(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: (None if k in _SECRET_FIELDS else v) for k, v in body.items()}
    return body


def _refused(err: SimRenewError, services: Services | None, idem: tuple[str, str] | None) -> Response:
    if err.status >= 500:
        get_logger().exception("service error")
    if idem is not None and services is not None:
        # A refused request is answered the same way on replay; a rate limit is no
        # answer to the request itself (the same request later must go through).
        if err.status < 500 and err.status != 429:
            services.idempotency.complete(idem[0], idem[1], err.status, err.to_body())
        else:
            _abandon(services, idem)
    return error_response(err)


def _failed(exc: Exception, services: Services | None, idem: tuple[str, str] | None) -> Response:
    logger = get_logger()
    if idem is not None and services is not None:
        _abandon(services, idem)
    refused = _bad_start_key(exc)
    if refused is not None:  # a forged cursor: the caller's input, not our bug
        return error_response(refused)
    unavailable = _store_unavailable(exc)
    if unavailable is not None:  # throttled or timed out after the retry policy: 503, not a bug
        logger.warning("data store unavailable", exc_info=True)
        return error_response(unavailable)
    logger.exception("unhandled error")
    return internal_error_response()


Decorator = Callable[[Callable[..., Any]], Callable[..., Response]]


def _summary(handler: Callable[..., Any]) -> str:
    """A route's summary, when the route names none: its handler's docstring, the lines joined by spaces."""
    if not handler.__doc__:
        raise ValueError(f"{handler.__name__}: a route says what it does (its summary, or its handler's docstring)")
    return " ".join(line.strip() for line in handler.__doc__.strip().splitlines())


class Api:
    def __init__(self, app: Chalice, services: Callable[[], Services]) -> None:
        self.app = app
        self._services = services
        self.specs: list[RouteSpec] = []
        self.tag = ""  # the routes' tag when a route names none (`tagged`)
        self._root = self  # the API that serves the routes (a section's requests go to it)

    def tagged(self, tag: str) -> Api:
        """This API, its routes tagged `tag` unless they name another: one section of the document."""
        section = copy(self)  # the same app, list of specs and root
        section.tag = tag
        return section

    def route(
        self,
        path: str,
        method: str,
        *,
        auth: Auth,
        summary: str = "",
        status: int = 200,
        request: str | None = None,
        query: str | None = None,
        idempotent: bool = False,
        tag: str = "",
        body_type: str = "application/json",
        response_type: str = "application/json",
        finance: bool | None = None,
        alt_body: tuple[str, str] | None = None,
        also: tuple[tuple[int, str], ...] = (),
        response: str | dict[int, str] | None = None,
    ) -> Decorator:
        # A finance key reads what a readonly key reads, and routes may grant it more reads by name;
        # never a write: that is decided here, for every route, not route by route.
        if finance is None:
            finance = method == "GET" and auth == Role.READONLY
        if finance and method != "GET":
            raise ValueError(f"{method} {path}: a finance key never changes anything")
        draft = RouteSpec(
            path,
            method,
            auth,
            summary,
            status,
            request,
            query,
            idempotent,
            tag or self.tag,
            body_type,
            response_type,
            finance,
            alt_body,
            also,
            response,
        )

        def register(handler: Callable[..., Any]) -> Callable[..., Response]:
            spec = draft if draft.summary else replace(draft, summary=_summary(handler))
            self.specs.append(spec)

            def view(**params: str) -> Response:
                return self._root._dispatch(spec, handler, params)

            view.__name__ = handler.__name__
            self.app.route(path, methods=[method], content_types=["*/*"])(view)
            return view

        return register

    def create(
        self, path: str, *, auth: Auth, request: str, response: str, tag: str = "", status: int = 201
    ) -> Decorator:
        """A POST that creates something: 201 (202 when the work is queued), and an Idempotency-Key replays
        the first answer."""
        return self.route(
            path, "POST", auth=auth, status=status, idempotent=True, request=request, tag=tag, response=response
        )

    def report(self, path: str, *, auth: Auth, query: str, response: str) -> Decorator:
        """A report (GET) that a finance key may read too, whatever role it otherwise takes."""
        return self.route(path, "GET", auth=auth, query=query, finance=True, response=response)

    def action(self, path: str, *, auth: Auth, response: str, tag: str = "") -> Decorator:
        """A POST that takes no body (an empty JSON object at most): approve, suspend, deactivate, resume."""
        return self.route(path, "POST", auth=auth, request="Empty", tag=tag, response=response)

    # --- request pipeline ------------------------------------------------------------------
    def _dispatch(self, spec: RouteSpec, handler: Callable[..., Any], params: dict[str, str]) -> Response:
        request = self.app.current_request
        assert request is not None, "Chalice sets current_request before calling a view"
        context = request.context or {}
        request_id = str(context.get("requestId", ""))
        begin_request(request_id=request_id or None, route=f"{spec.method} {spec.path}")
        idem: tuple[str, str] | None = None
        services: Services | None = None
        try:
            services = self._services()
            req = self._request(services, spec, params)
            models = _validate(spec, req)
            claimed = self._claim(services, spec, req)
            if isinstance(claimed, Response):
                return claimed
            idem = claimed
            # A route with a body or a query string gets its validated models (None for a CSV body).
            result = handler(req, *models)
            reply = result if isinstance(result, Reply) else Reply(result, spec.status)
            if idem is not None:
                services.idempotency.complete(idem[0], idem[1], reply.status, _redact(reply.body))
            return self._to_response(reply)
        except SimRenewError as err:
            return _refused(err, services, idem)
        except Exception as exc:  # noqa: BLE001 - _failed logs it and answers 500 (or 400/503 it recognises)
            return _failed(exc, services, idem)

    def _request(self, services: Services, spec: RouteSpec, params: dict[str, str]) -> Req:
        """Who is calling and what they sent: the origin, the key, the path parameters."""
        request = self.app.current_request
        assert request is not None
        context = request.context or {}
        headers = {k.lower(): v for k, v in (request.headers or {}).items()}
        client_id = client_identity(services.config, headers, context.get("identity", {}).get("sourceIp"))
        principal = self._authenticate(services, spec, headers.get("authorization"))
        if principal is not None and principal.tenant_id:
            bind(tenant_id=principal.tenant_id)
        for name, value in params.items():
            if len(value) > MAX_PATH_PARAM:
                raise NotFound(f"no such {name}", code="not_found")
        return Req(
            services=services,
            principal=principal,
            params=dict(params),
            query=dict(request.query_params or {}),
            headers=headers,
            raw_body=_as_bytes(request.raw_body),
            client_id=client_id,
        )

    def _claim(self, services: Services, spec: RouteSpec, req: Req) -> Response | tuple[str, str] | None:
        """Idempotency-Key: the stored answer of an earlier identical request, or the claim to complete."""
        if not spec.idempotent or "idempotency-key" not in req.headers:
            return None
        scope = self._scope(req.principal, req.client_id)
        key = req.headers["idempotency-key"]
        if not _IDEMPOTENCY_KEY.match(key):
            raise ValidationError(
                "Idempotency-Key", "invalid_idempotency_key", "Idempotency-Key must be 1-255 visible ASCII characters"
            )
        request = self.app.current_request
        assert request is not None
        digest = hashlib.sha256(f"{spec.method} {request.path}\n".encode() + req.raw_body).hexdigest()
        stored = services.idempotency.begin(scope, key, digest, services.clock.now())
        if stored is None:
            return (scope, key)
        replay_headers = {**JSON_HEADERS, "Idempotent-Replayed": "true"}
        return Response(
            body=json.dumps(stored.body, ensure_ascii=False),
            status_code=stored.status_code,
            headers=_headers(replay_headers),
        )

    def _authenticate(self, services: Services, spec: RouteSpec, header: str | None) -> Principal | None:
        auth = spec.auth
        if auth == PUBLIC:
            return None
        token = bearer_token(header)
        if auth == PLATFORM:
            return services.auth.authenticate_platform(token)
        principal = services.auth.authenticate_tenant(token)
        assert isinstance(auth, Role)
        require_role(principal, auth, finance=spec.finance)
        return principal

    @staticmethod
    def _scope(principal: Principal | None, client_id: str) -> str:
        if principal is None:
            return f"public:{client_id}"
        return "platform" if principal.is_platform else f"tenant:{principal.tenant_id}"

    def _to_response(self, reply: Reply) -> Response:
        if isinstance(reply.body, str | bytes):
            body = reply.body
            content_type = {k.lower(): v for k, v in reply.headers.items()}.get("content-type", "")
            if isinstance(body, str) and content_type.split(";")[0].strip() in self.app.api.binary_types:
                body = body.encode("utf-8")  # Chalice base64-encodes binary types, which must be bytes
            return Response(body=body, status_code=reply.status, headers=_headers(reply.headers))
        headers = {**JSON_HEADERS, **reply.headers}
        body = "" if reply.body is None else json.dumps(reply.body, ensure_ascii=False)
        return Response(body=body, status_code=reply.status, headers=_headers(headers))
