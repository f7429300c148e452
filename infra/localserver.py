"""One local origin for everything: the Chalice API (/v1), the webhook function (/webhooks)
and the static UI, served by Chalice's local server with a handler that routes by path."""

from __future__ import annotations

import importlib.util
import json
import mimetypes
import os
import re
import secrets
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from chalice.config import Config as ChaliceConfig
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def load_function_module(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (all three are `app.py`)."""
    folder = FUNCTIONS / name
    # Chalice's app imports its own `chalicelib` package from its folder.
    if name == "api" and str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"simrenew_fn_{name}", folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def static_root() -> Path:
    """The built UI (`npm run build` in frontend/, which `make dev` and `make test` run)."""
    return ROOT / "frontend" / "dist"


# localstripe's fake Stripe.js finds its API from its own <script src>; served from our origin
# it must be told where localstripe is. It also lacks createPaymentMethod: the documented test
# cards map to localstripe's test PaymentMethods, so the pay page's real card flow runs locally.
LOCAL_STRIPE_PATCH = """
;(function () {
  var make = Stripe;
  var cards = {"4242424242424242": "pm_card_visa", "4000000000000002": "pm_card_chargeCustomerFail",
    "4000000000000341": "pm_card_chargeCustomerFail"};
  window.Stripe = function (key) {
    var s = make(key);
    var elements = s.elements;
    s.elements = function () {
      var els = elements.apply(this, arguments);
      var create = els.create;
      els.create = function () {
        var el = create.apply(this, arguments);
        var mount = el.mount;
        el.mount = function (where) {
          mount.call(el, where);
          var names = {number: "Card number", exp_month: "MM", exp_year: "YY", cvc: "CVC", postal_code: "Postal code"};
          Object.keys(el._inputs || {}).forEach(function (k) {
            el._inputs[k].setAttribute("aria-label", names[k] || k);
            el._inputs[k].setAttribute("inputmode", "numeric");
          });
        };
        return el;
      };
      return els;
    };
    s.createPaymentMethod = async function (opts) {
      var el = opts && (opts.card || (opts.elements && opts.elements._cardElement));
      var inputs = el && el._inputs;
      var number = inputs && inputs.number ? inputs.number.value.replace(/\\s+/g, "") : "";
      if (!cards[number]) {
        return {error: {type: "validation_error", code: "incorrect_number",
          message: "Local test cards: 4242 4242 4242 4242 (paid) or 4000 0000 0000 0002 (declined)"}};
      }
      return {paymentMethod: {id: cards[number], type: "card"}};
    };
    return s;
  };
})();
"""


def local_stripe_js(api_base: str) -> bytes:
    import localstripe  # dev dependency; only the local stack serves this file

    source = (Path(localstripe.__file__).parent / "localstripe-v3.js").read_text(encoding="utf-8")
    marker = "document.currentScript.src"
    if marker not in source:
        raise RuntimeError("localstripe-v3.js changed: update infra/localserver.py")
    source = source.replace(marker, json.dumps(api_base.rstrip("/") + "/js.stripe.com/v3/"), 1)
    return (source + LOCAL_STRIPE_PATCH).encode()


class LocalContext:
    """Enough of a Lambda context for our handlers."""

    function_name = "local"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def proxy_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes | None, client_ip: str
) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event, as the webhook function receives it in AWS."""
    parts = urlsplit(raw_path)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()} or None
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": query,
        "body": (body or b"").decode("utf-8", errors="replace"),
        "isBase64Encoded": False,
        "requestContext": {"requestId": str(uuid.uuid4()), "identity": {"sourceIp": client_ip}, "path": parts.path},
    }


# Bodies the local origin reads at all (the CSV import route takes up to 10 MB).
MAX_BODY = 12 * 1024 * 1024
# What CloudFront adds to origin requests in AWS (template.yaml); the local server sets the
# same from the socket, overwriting whatever the client sent.
VIEWER_ADDRESS = "CloudFront-Viewer-Address"
ORIGIN_VERIFY = "X-Origin-Verify"
ORIGIN_SECRET_ENV = "ORIGIN_VERIFY_SECRET"  # noqa: S105 - the variable's name, not a secret
# Threads that serve requests, and connections the kernel may queue meanwhile: a burst of a
# few hundred concurrent clients (Stripe retrying a backlog of deliveries) is queued, not reset
# (the standard library's default backlog of 5 reset 1-7 of 20 concurrent deliveries).
WORKERS = 32
BACKLOG = 1024


class PooledHTTPServer(HTTPServer):
    """Requests served by a fixed pool of threads, with a deep listen backlog."""

    request_queue_size = BACKLOG
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="local-http")
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._serve_one, request, client_address)

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - one broken connection must not stop the pool
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class LocalRequestHandler(ChaliceRequestHandler):
    # Chalice writes headers and body separately; without TCP_NODELAY a kept-alive client
    # waits ~40 ms for the delayed ACK on every response.
    disable_nagle_algorithm = True
    webhook: Handler | None = None
    static_dir: Path = ROOT / "frontend" / "dist"
    # A client that stops sending mid-request frees its thread after this long.
    timeout = 30

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (431 headers too large, 414, 400 bad request line, 501)
        in the API's error shape, never its HTML page."""
        codes = {400: "bad_request", 408: "request_timeout", 414: "uri_too_long", 431: "headers_too_large"}
        body = json.dumps(
            {"error": {"code": codes.get(code, "bad_request"), "message": message or "the request was refused"}}
        ).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass  # the client has gone
        self.close_connection = True

    def _edge_headers(self) -> None:
        """What CloudFront does in AWS: the viewer's address, and the origin secret."""
        for name in (VIEWER_ADDRESS, ORIGIN_VERIFY):
            del self.headers[name]
        host, port = self.client_address[0], self.client_address[1]
        self.headers[VIEWER_ADDRESS] = f"{host}:{port}"
        secret = os.environ.get(ORIGIN_SECRET_ENV)
        if secret:
            self.headers[ORIGIN_VERIFY] = secret

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        """The body by a Content-Length that must be a plain number within MAX_BODY and must
        arrive in full; otherwise a 4xx in the error shape (was a 500 or a dropped connection)."""
        raw = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise _Refused(411, "length_required", "send a Content-Length (chunked bodies are not accepted)")
        if raw is None:
            return dict(self.headers), None
        if not raw.strip().isdigit():
            raise _Refused(400, "invalid_content_length", "Content-Length must be a whole number of bytes")
        length = int(raw)
        if length > MAX_BODY:
            raise _Refused(413, "body_too_large", f"the body must be at most {MAX_BODY} bytes")
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _Refused(400, "incomplete_body", "the body is shorter than its Content-Length")
        return dict(self.headers), body or None

    def log_message(self, format: str, *args: Any) -> None:
        # Order tokens are bearer secrets of the pay page: never in a log line.
        line = re.sub(r"(token=)[^&\s\"]+", r"\1***", format % args)
        sys.stderr.write(f"[http] {line}\n")

    def _generic_handle(self) -> None:
        path = urlsplit(self.path).path
        self._edge_headers()
        try:
            self._route(path)
        except _Refused as refused:
            self.close_connection = True  # what is left of the body must not be read as a request
            self._send_json(refused.status, {"error": {"code": refused.code, "message": refused.message}})

    def _route(self, path: str) -> None:
        if path.startswith("/webhooks/"):
            self._handle_webhook()
        elif path == "/v1" or path.startswith("/v1/"):
            super()._generic_handle()
        elif path == "/_local/stripe.js" and self.command in ("GET", "HEAD"):
            self._handle_local_stripe_js()
        elif self.command in ("GET", "HEAD"):
            self._handle_static(path)
        else:
            self._send_json(405, {"error": {"code": "method_not_allowed", "message": "static files are read-only"}})

    # The base class binds do_GET & co. to its own _generic_handle at class creation.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _generic_handle

    def _send_http_response(self, code: int, headers: Any, body: Any) -> None:
        # A method a route does not have: Chalice answers {"Code": "MethodNotAllowedError", ...};
        # agents get the documented error shape (in AWS, API Gateway's answer is mapped likewise).
        if (
            code == 405
            and body is not None
            and b"MethodNotAllowedError" in (body if isinstance(body, bytes) else str(body).encode())
        ):
            headers = {**dict(headers or {}), "Content-Type": "application/json"}
            body = json.dumps(
                {"error": {"code": "method_not_allowed", "message": f"{self.command} is not allowed here"}}
            )
        super()._send_http_response(code, headers, body)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # API Gateway answers an unknown route with 403 "Missing Authentication Token";
        # agents get the documented error shape instead.
        if isinstance(error, ForbiddenError):
            self._send_json(
                404,
                {
                    "error": {
                        "code": "route_not_found",
                        "message": f"no route {self.command} {urlsplit(self.path).path}",
                    }
                },
            )
            return
        super()._send_error_response(error)

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send_http_response(status, {"Content-Type": "application/json"}, json.dumps(body))

    def _handle_webhook(self) -> None:
        headers, body = self._parse_payload()
        if self.webhook is None:
            self._send_json(404, {"error": {"code": "route_not_found", "message": "no webhook function"}})
            return
        event = proxy_event(self.command, self.path, headers, body, self.client_address[0])
        result = self.webhook(event, LocalContext())
        out_headers = dict(result.get("headers") or {})
        self._send_http_response(int(result.get("statusCode", 200)), out_headers, result.get("body") or "")

    def _handle_local_stripe_js(self) -> None:
        base = os.environ.get("STRIPE_API_BASE")
        if not base:
            self._send_json(404, {"error": {"code": "not_found", "message": "no local Stripe configured"}})
            return
        headers = {"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "no-cache"}
        self._send_http_response(200, headers, local_stripe_js(base))

    def _handle_static(self, path: str) -> None:
        root = self.static_dir.resolve()
        target = (root / unquote(path).lstrip("/")).resolve()
        if root not in target.parents and target != root:
            self._send_json(404, {"error": {"code": "not_found", "message": "no such file"}})
            return
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            # Two pages: /pay and /pay/<sn or TID> get the pay page, any other path the console
            # (which routes by #hash). CloudFront does the same with a viewer-request function.
            page = "pay.html" if path == "/pay" or path.startswith("/pay/") else "index.html"
            target = root / page
        if not target.is_file():
            self._send_json(
                404, {"error": {"code": "not_found", "message": "no UI built: run `make dev` (it builds frontend/)"}}
            )
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        self._send_http_response(200, {"Content-Type": ctype, "Cache-Control": "no-cache"}, target.read_bytes())


def ensure_origin_secret() -> str:
    """The secret the local server adds to API requests as CloudFront does in AWS; the API reads
    it from the environment when its module loads, so call this before load_function_module."""
    return os.environ.setdefault(ORIGIN_SECRET_ENV, secrets.token_urlsafe(32))


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def make_server(host: str, port: int, api_app: Any, webhook: Handler | None) -> LocalDevServer:
    # What `chalice local` does: thread-local current_request so requests run in parallel.
    CustomLocalChalice.__bases__ = (LocalChalice, api_app.__class__)
    api_app.__class__ = CustomLocalChalice
    config = ChaliceConfig.create(chalice_stage="dev", app_name="simrenew-api", lambda_timeout=29)
    handler_cls = type(
        "BoundLocalRequestHandler",
        (LocalRequestHandler,),
        {"webhook": staticmethod(webhook) if webhook else None, "static_dir": static_root()},
    )
    ensure_origin_secret()
    return LocalDevServer(
        api_app,
        config,
        host,
        port,
        handler_cls=partial(handler_cls),  # type: ignore[arg-type]
        server_cls=PooledHTTPServer,
    )
