"""What the two local payment platforms (infra/local_wechatpay.py, infra/local_alipay.py) share:
key pairs made once under .local/, a threaded HTTP server on 127.0.0.1, the payer's H5 page with
its "pay" and "fail" buttons, and the delivery of notifications to the notify_url of a trade.

Local only, for `make dev` and the tests: nothing here is ever deployed.
"""

from __future__ import annotations

import argparse
import atexit
import html
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


def new_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_key(pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def public_key(pem: str) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, RSAPublicKey)
    return key


def rsa_sign(key: RSAPrivateKey, message: str) -> str:
    import base64

    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: RSAPublicKey, message: str, signature: str) -> bool:
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(signature, validate=True), message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, binascii.Error, ValueError):
        return False


def write_private(path: Path, data: dict[str, Any]) -> None:
    """JSON, mode 600, replaced in one step (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    os.replace(tmp, path)


def kept(path: Path, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Made once, then read back on every start."""
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    data = make()
    write_private(path, data)
    return data


def ensure_state(home: Path, make: Callable[[], dict[str, Any]], credentials: dict[str, str]) -> dict[str, Any]:
    """A platform's state (platform.json under `home`: its keys and ids), made once by `make`, and
    credentials.json, what our side reads (the shape of the AWS secret), written from it:
    `credentials` names the state field of each credential."""
    state = kept(home / "platform.json", make)
    creds = home / "credentials.json"
    if not creds.exists():
        write_private(creds, ours(state, credentials))
    return state


def ours(state: dict[str, Any], credentials: dict[str, str]) -> dict[str, Any]:
    """Our side's credentials (each of `credentials` from its state field)."""
    return {name: state[field] for name, field in credentials.items()}


class LocalRail:
    """What each platform keeps: its state, its own address, its signing key (`own_key` of the
    state) and the public key our side's requests verify with (`caller_key`), and its trades,
    refunds and bills, under one lock."""

    own_key: str
    caller_key: str

    def __init__(self, state: dict[str, Any], base: str) -> None:
        self.state = state
        self.base = base
        self.key = private_key(state[self.own_key])
        self.caller = public_key(state[self.caller_key])
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.bills: dict[str, bytes] = {}
        self.lock = threading.RLock()


def main(
    handler: Callable[[dict[str, Any], str], type[Handler]],
    ensure_keys: Callable[[Path], dict[str, Any]],
    credentials: dict[str, str],
    where: tuple[str, str],
    port_variable: str,
    default_port: int,
    home: Path,
) -> None:
    """Run one platform on 127.0.0.1 (--port, default from `port_variable`), its keys under --home;
    while it runs, credentials-<port>.json says where it is (credential where[0]: its address and
    the path where[1])."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get(port_variable, str(default_port))))
    parser.add_argument("--home", default=str(home))
    args = parser.parse_args()
    state = ensure_keys(Path(args.home))
    base = f"http://127.0.0.1:{args.port}"
    creds = Path(args.home) / f"credentials-{args.port}.json"
    write_private(creds, {**ours(state, credentials), where[0]: base + where[1]})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    atexit.register(lambda: creds.unlink(missing_ok=True))  # this port's credentials go with the process
    serve(handler(state, base), args.port)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 15) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def later(delay_s: float, fn: Callable[[], Any]) -> None:
    """Run fn in the background after a short delay (how the platforms send refund notices)."""

    def run() -> None:
        time.sleep(delay_s)
        fn()

    threading.Thread(target=run, daemon=True).start()


def payer_page(title: str, amount: str, subtitle: str, pay_action: str, fail_action: str, state: str) -> bytes:
    """The payer's page on the local platform: what a phone would show, with a pay and a fail button."""
    t = html.escape
    done = state not in ("open",)
    buttons = (
        f'<p class="state" data-testid="sim-state">{t(state)}</p>'
        if done
        else f"""<form method="post" action="{t(pay_action)}"><button type="submit" class="pay"
 data-testid="sim-pay">pay · 支付</button></form>
<form method="post" action="{t(fail_action)}"><button type="submit" class="fail"
 data-testid="sim-fail">fail · 失败</button></form>"""
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t(title)}</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#111}}
.amount{{font-size:2rem;font-weight:700}} button{{width:100%;padding:.9rem;margin:.4rem 0;font-size:1.1rem;
border-radius:.5rem;border:1px solid #333}} .pay{{background:#07c160;color:#fff;border-color:#07c160}}
.note{{color:#555;font-size:.85rem}}</style></head><body>
<h1>{t(title)}</h1><p class="note">{t(subtitle)}</p><p class="amount" data-testid="sim-amount">¥{t(amount)}</p>
{buttons}
<p class="note">Local test platform: nothing is charged. 本地测试平台，不会真实扣款。</p></body></html>""".encode()


class Handler(BaseHTTPRequestHandler):
    """JSON and form helpers; `route(method, path, query, body)` is the platform's."""

    server_version = "local-rail/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        import sys

        sys.stderr.write(f"[{self.server_version}] {format % args}\n")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8", headers)

    def redirect(self, location: str) -> None:
        self.send(303, b"", "text/plain", {"Location": location})

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self._body()
        try:
            self.route(self.command, parts.path, query, body)
        except Exception as exc:  # noqa: BLE001 - a local tool: show what went wrong
            self.json(500, {"code": "SYSTEM_ERROR", "message": repr(exc)})

    def route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        raise NotImplementedError

    def trade_state(self, otn: str, trade: dict[str, Any], refunds: list[dict[str, Any]]) -> None:
        """GET /_sim/transactions/<out_trade_no>: `trade` (the platform's own fields), then its refunds
        (each `out_refund_no`, `amount`, `status` and the last notification sent of it)."""
        self.json(200, {"out_trade_no": otn, **trade, "refunds": refunds})

    def paid(self, result: dict[str, Any]) -> None:
        """POST /_sim/transactions/<out_trade_no>/pay: what paying it did (409 when it could not)."""
        self.json(409 if "error" in result else 200, result)

    do_GET = do_POST = do_HEAD = _dispatch


def serve(handler: type[Handler], port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


def token() -> str:
    return secrets.token_hex(16)


def refund_states(refunds: Iterable[dict[str, Any]], otn: str, number: str, notice: str) -> list[dict[str, Any]]:
    """The refunds of trade `otn` as the /_sim/ controls show them: each refund's number (its
    field `number` on this platform), amount, status and the last notification sent (`notice`)."""
    return [
        {"out_refund_no": r[number], "amount": r["amount"], "status": r["status"], "notification": r.get(notice)}
        for r in refunds
        if r["out_trade_no"] == otn
    ]


def yuan(fen: int) -> str:
    """An amount in fen as both platforms write yuan: 1234 -> "12.34"."""
    return f"{fen // 100}.{fen % 100:02d}"
