"""A local WeChat Pay platform (APIv3, partner mode) for `make dev` and the tests: its own process on
127.0.0.1 (WECHATPAY_PORT, default 8450), like localstripe.

It speaks the documented formats: it verifies our WECHATPAY2-SHA256-RSA2048 Authorization with
the merchant certificate's key we registered, signs its answers and notifications with its own key
(微信支付公钥 mode: Wechatpay-Serial is its public key id), and encrypts notification resources
with the APIv3 key (AEAD_AES_256_GCM). Keys are made once under .local/wechatpay/: the platform's
side (platform.json) and what our side reads (credentials.json, the shape of the AWS secret).

Test controls, local only:
  POST /_sim/transactions/{out_trade_no}/pay    the payer pays: SUCCESS, and the notification is sent
  POST /_sim/transactions/{out_trade_no}/fail   the payment fails (PAYERROR; WeChat sends no notice)
  GET  /_sim/transactions/{out_trade_no}        {trade_state, amount, refunds: [{out_refund_no, amount, status}]}
The payer's H5 page (/h5/pay?prepay_id=…) has "pay" and "fail" buttons.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infra.local_rails import (
    Handler,
    LocalRail,
    ensure_state,
    later,
    main,
    new_key_pem,
    payer_page,
    post,
    public_pem,
    refund_states,
    rsa_sign,
    rsa_verify,
    token,
    yuan,
)
from infra.processes import LOCAL

CHINA = ZoneInfo("Asia/Shanghai")
HOME = LOCAL / "wechatpay"
DEMO_SUB_MCHID = "1900000109"
TOLERANCE_S = 300


def ensure_keys(home: Path = HOME) -> dict[str, Any]:
    """The platform's state file, made once: its key pair, our merchant key pair, the APIv3 key and
    ids; credentials.json (what our side reads) is written from it."""

    def make() -> dict[str, Any]:
        merchant = new_key_pem()
        platform = new_key_pem()
        return {
            "sp_mchid": "1900000100",
            "sp_appid": "wx00000000000local",
            "sp_appsecret": token(),
            "apiv3_key": token(),  # 32 hex characters
            "merchant_private_key": merchant,
            "merchant_public_key": public_pem(merchant),
            "cert_serial_no": uuid.uuid4().hex.upper() + "00000000",
            "platform_private_key": platform,
            "public_key": public_pem(platform),
            "public_key_id": "PUB_KEY_ID_" + uuid.uuid4().hex.upper(),
        }

    return ensure_state(home, make, CREDENTIALS)


# What our side reads (credentials.json, the shape of the AWS secret): each credential's field of the state.
CREDENTIALS = {
    **{name: name for name in ("sp_mchid", "sp_appid", "sp_appsecret", "apiv3_key")},
    "private_key": "merchant_private_key",
    **{name: name for name in ("cert_serial_no", "public_key", "public_key_id")},
}


def china_now() -> str:
    return datetime.now(CHINA).isoformat(timespec="seconds")


def signed_headers(key: RSAPrivateKey, public_key_id: str, body: str, stamp: int | None = None) -> dict[str, str]:
    """How WeChat Pay signs an answer or a notification: over timestamp, nonce and body with its key,
    Wechatpay-Serial naming its public key (微信支付公钥 mode)."""
    ts, nonce = str(int(time.time()) if stamp is None else stamp), uuid.uuid4().hex
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(key, f"{ts}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": public_key_id,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def encrypted(apiv3_key: str, resource: dict[str, Any], original_type: str) -> dict[str, str]:
    """A notification's resource as WeChat Pay encrypts it: AEAD_AES_256_GCM under the APIv3 key,
    the original type as associated data."""
    nonce = uuid.uuid4().hex[:12]
    plain = json.dumps(resource, ensure_ascii=False).encode()
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plain, original_type.encode())
    return {
        "original_type": original_type,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": original_type,
        "nonce": nonce,
    }


class Platform(LocalRail):
    """The platform's memory: trades by out_trade_no, refunds by out_refund_no, bills by token, OAuth
    codes; it signs with its own key, and verifies our requests with our merchant certificate's key."""

    own_key = "platform_private_key"
    caller_key = "merchant_public_key"

    def __init__(self, state: dict[str, Any], base: str) -> None:
        super().__init__(state, base)
        self.codes: dict[str, str] = {}  # OAuth code -> openid

    # --- signatures -----------------------------------------------------------------------------------
    def verify_request(self, method: str, target: str, auth: str, body: bytes) -> str | None:
        """Our Authorization header: None if it verifies, else why not."""
        m = re.match(r"WECHATPAY2-SHA256-RSA2048 (.*)", auth or "")
        if not m:
            return "no WECHATPAY2-SHA256-RSA2048 Authorization"
        fields = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if fields.get("mchid") != self.state["sp_mchid"]:
            return "mchid is not this service provider"
        if fields.get("serial_no") != self.state["cert_serial_no"]:
            return "unknown merchant certificate serial"
        stamp = fields.get("timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_S:
            return "timestamp out of range"
        message = f"{method}\n{target}\n{stamp}\n{fields.get('nonce_str', '')}\n{body.decode('utf-8')}\n"
        return None if rsa_verify(self.caller, message, fields.get("signature", "")) else "signature is wrong"

    def signed_headers(self, body: str) -> dict[str, str]:
        return signed_headers(self.key, self.state["public_key_id"], body)

    def notification(self, event_type: str, summary: str, resource: dict[str, Any], kind: str) -> dict[str, Any]:
        body = json.dumps(
            {
                "id": "EV-" + uuid.uuid4().hex,
                "create_time": china_now(),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": summary,
                "resource": encrypted(self.state["apiv3_key"], resource, kind),
            },
            ensure_ascii=False,
        )
        return {"headers": {"Content-Type": "application/json", **self.signed_headers(body)}, "body": body}

    def deliver(self, url: str, note: dict[str, Any]) -> int:
        status, _ = post(url, note["body"].encode(), note["headers"])
        return status

    # --- trades -----------------------------------------------------------------------------------------
    def transaction(self, trade: dict[str, Any]) -> dict[str, Any]:
        """The partner transaction resource, as query answers and notifications carry it."""
        out: dict[str, Any] = {
            "sp_appid": self.state["sp_appid"],
            "sp_mchid": self.state["sp_mchid"],
            "sub_mchid": trade["sub_mchid"],
            "out_trade_no": trade["out_trade_no"],
            "trade_type": trade["trade_type"],
            "trade_state": trade["trade_state"],
            "trade_state_desc": trade["trade_state"],
            "amount": {"total": trade["total"], "currency": "CNY"},
            "attach": "",
        }
        if trade["trade_state"] in ("SUCCESS", "REFUND"):
            out.update(
                transaction_id=trade["transaction_id"],
                bank_type="OTHERS",
                success_time=trade["success_time"],
                payer={"sp_openid": trade.get("openid") or "o_local_payer"},
            )
            out["amount"].update(payer_total=trade["total"], payer_currency="CNY")
        return out

    def pay(self, otn: str, notify: bool = True) -> dict[str, Any]:
        with self.lock:
            trade = self.trades.get(otn)
            if trade is None:
                return {"error": "ORDER_NOT_EXIST"}
            if trade["trade_state"] not in ("NOTPAY", "USERPAYING", "PAYERROR", "SUCCESS"):
                return {"error": f"trade is {trade['trade_state']}"}
            if trade["trade_state"] != "SUCCESS":
                trade.update(
                    trade_state="SUCCESS",
                    transaction_id="42000" + str(int(time.time() * 1000)) + uuid.uuid4().hex[:6],
                    success_time=china_now(),
                    paid_at=datetime.now(UTC),
                )
            note = self.notification("TRANSACTION.SUCCESS", "支付成功", self.transaction(trade), "transaction")
        status = self.deliver(trade["notify_url"], note) if notify else 0
        return {"trade_state": "SUCCESS", "notify_status": status, "notification": note}

    def refund_notice(self, refund: dict[str, Any]) -> None:
        trade = self.trades[refund["out_trade_no"]]
        resource = {
            "sp_mchid": self.state["sp_mchid"],
            "sub_mchid": trade["sub_mchid"],
            "transaction_id": trade["transaction_id"],
            "out_trade_no": trade["out_trade_no"],
            "refund_id": refund["refund_id"],
            "out_refund_no": refund["out_refund_no"],
            "refund_status": refund["status"],
            "success_time": china_now(),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": trade["total"],
                "refund": refund["amount"],
                "payer_total": trade["total"],
                "payer_refund": refund["amount"],
            },
        }
        note = self.notification("REFUND." + refund["status"], "退款成功", resource, "refund")
        refund["last_notice"] = note
        if refund.get("notify_url"):
            refund["notify_status"] = self.deliver(refund["notify_url"], note)

    def bill_file(self, day: str, sub_mchid: str | None) -> bytes:
        from simrenew.adapters.wechatpay import BILL_HEADER

        lines = [BILL_HEADER]
        charges = refunds = 0
        rows = 0
        with self.lock:
            for trade in self.trades.values():
                if sub_mchid and trade["sub_mchid"] != sub_mchid:
                    continue
                paid_at = trade.get("paid_at")
                if paid_at and paid_at.astimezone(CHINA).date().isoformat() == day:
                    fee = round(trade["total"] * 0.006)
                    total = yuan(trade["total"])
                    money: tuple[str, ...] = (total, "0.00", "0", "0", "0.00", "0.00", "", "")
                    tail: tuple[str, ...] = (trade["description"], "", f"{fee / 100:.5f}", "0.60%", total, "0.00", "")
                    lines.append(self._bill_row(paid_at, trade, "SUCCESS", money + tail))
                    charges += trade["total"]
                    rows += 1
            for refund in self.refunds.values():
                trade = self.trades[refund["out_trade_no"]]
                if sub_mchid and trade["sub_mchid"] != sub_mchid:
                    continue
                at = refund["created"]
                if at.astimezone(CHINA).date().isoformat() != day or refund["status"] != "SUCCESS":
                    continue
                amount = yuan(refund["amount"])
                money = ("0.00", "0.00", refund["refund_id"], refund["out_refund_no"], amount, "0.00")
                tail = ("ORIGINAL", "SUCCESS", trade["description"], "", "0.00000", "0.60%", "0.00", amount, "")
                lines.append(self._bill_row(at, trade, "REFUND", money + tail))
                refunds += refund["amount"]
                rows += 1
        lines.append("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额")
        lines.append(f"`{rows},`{yuan(charges)},`{yuan(refunds)},`0.00,`0.00000,`{yuan(charges)},`{yuan(refunds)}")
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def _bill_row(self, at: datetime, trade: dict[str, Any], kind: str, rest: tuple[str, ...]) -> str:
        """One line of the trade bill: the columns every line starts with, then `rest`, each with a backtick."""
        stamp = at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        ids = (self.state["sp_appid"], self.state["sp_mchid"], trade["sub_mchid"], "", trade["transaction_id"])
        head = (stamp, *ids, trade["out_trade_no"], "o_local_payer", trade["trade_type"], kind, "OTHERS", "CNY")
        return ",".join("`" + v for v in (*head, *rest))


class WeChatPayHandler(Handler):
    platform: Platform  # set per server by _platform_handler()
    server_version = "local-wechatpay/1"

    def signed(self, status: int, data: Any) -> None:
        text = json.dumps(data, ensure_ascii=False)
        self.send(status, text.encode(), "application/json; charset=utf-8", self.platform.signed_headers(text))

    def fail(self, status: int, code: str, message: str) -> None:
        self.json(status, {"code": code, "message": message})

    def route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if path.startswith("/_sim/"):
            return self.sim(method, path, body, query)
        if path.startswith("/h5/"):
            return self.h5(method, path, query)
        if path == "/connect/oauth2/authorize":
            return self.authorize(query)
        if path == "/sns/oauth2/access_token":
            return self.access_token(query)
        if path == "/v3/billdownload/file":
            data = self.platform.bills.get(query.get("token", ""))
            if data is None:
                return self.fail(404, "NOT_FOUND", "no such bill")
            return self.send(200, data, "application/octet-stream")
        why = self.platform.verify_request(method, self.path, self.headers.get("Authorization", ""), body)
        if why:
            return self.fail(401, "SIGN_ERROR", why)
        return self.api(method, path, query, json.loads(body) if body else {})

    def authorize(self, query: dict[str, str]) -> None:
        code = token()
        self.platform.codes[code] = "o_local_" + token()[:12]
        sep = "&" if "?" in query.get("redirect_uri", "") else "?"
        return self.redirect(f"{query.get('redirect_uri', '/')}{sep}code={code}&state={query.get('state', '')}")

    def access_token(self, query: dict[str, str]) -> None:
        openid = self.platform.codes.pop(query.get("code", ""), None)
        if query.get("secret") != self.platform.state["sp_appsecret"] or openid is None:
            return self.json(200, {"errcode": 40029, "errmsg": "invalid code"})
        return self.json(200, {"openid": openid, "access_token": token(), "expires_in": 7200})

    def api(self, method: str, path: str, query: dict[str, str], data: dict[str, Any]) -> None:
        """The signed APIv3 calls (the request's signature already verified)."""
        m = re.fullmatch(r"/v3/pay/partner/transactions/(native|h5|jsapi)", path)
        if m and method == "POST":
            return self.prepay(m.group(1).upper() if m.group(1) != "h5" else "MWEB", data)
        m = re.fullmatch(r"/v3/pay/partner/transactions/out-trade-no/([^/]+)", path)
        if m and method == "GET":
            return self.query_trade(m.group(1), query)
        m = re.fullmatch(r"/v3/pay/partner/transactions/out-trade-no/([^/]+)/close", path)
        if m and method == "POST":
            return self.close(m.group(1))
        if path == "/v3/refund/domestic/refunds" and method == "POST":
            return self.refund(data)
        m = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)
        if m and method == "GET":
            refund = self.platform.refunds.get(m.group(1))
            if refund is None:
                return self.fail(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return self.signed(200, self.refund_json(refund))
        if path == "/v3/bill/tradebill" and method == "GET":
            return self.tradebill(query)
        return self.fail(404, "NOT_FOUND", f"no route {method} {path}")

    def query_trade(self, otn: str, query: dict[str, str]) -> None:
        trade = self.platform.trades.get(otn)
        if trade is None or trade["sub_mchid"] != query.get("sub_mchid"):
            return self.fail(404, "ORDER_NOT_EXIST", "订单不存在")
        return self.signed(200, self.platform.transaction(trade))

    def close(self, otn: str) -> None:
        with self.platform.lock:
            trade = self.platform.trades.get(otn)
            if trade is None:
                return self.fail(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade["trade_state"] in ("SUCCESS", "REFUND"):
                return self.fail(400, "ORDERPAID", "订单已支付")
            trade["trade_state"] = "CLOSED"
        return self.send(204, b"", "application/json", self.platform.signed_headers(""))

    def tradebill(self, query: dict[str, str]) -> None:
        data_bytes = self.platform.bill_file(query.get("bill_date", ""), query.get("sub_mchid"))
        raw = gzip.compress(data_bytes) if query.get("tar_type") == "GZIP" else data_bytes
        bill_token = token()
        self.platform.bills[bill_token] = raw
        return self.signed(
            200,
            {
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(raw).hexdigest(),  # noqa: S324 - WeChat's checksum
                "download_url": f"{self.platform.base}/v3/billdownload/file?token={bill_token}",
            },
        )

    def prepay(self, trade_type: str, data: dict[str, Any]) -> None:
        if (
            data.get("sp_mchid") != self.platform.state["sp_mchid"]
            or data.get("sp_appid") != self.platform.state["sp_appid"]
        ):
            return self.fail(400, "PARAM_ERROR", "sp_mchid/sp_appid 与请求的商户不符")
        sub = str(data.get("sub_mchid") or "")
        if not re.fullmatch(r"\d{8,10}", sub):
            return self.fail(400, "PARAM_ERROR", "sub_mchid 不是本服务商的特约商户")
        otn = str(data.get("out_trade_no") or "")
        amount = data.get("amount") or {}
        total = amount.get("total")
        if not re.fullmatch(r"[0-9A-Za-z_\-|*]{6,32}", otn) or not isinstance(total, int) or total <= 0:
            return self.fail(400, "PARAM_ERROR", "out_trade_no 或 amount.total 不合法")
        if not data.get("notify_url"):
            return self.fail(400, "PARAM_ERROR", "缺少 notify_url")
        if trade_type == "JSAPI" and not (data.get("payer") or {}).get("sp_openid"):
            return self.fail(400, "PARAM_ERROR", "缺少 payer.sp_openid")
        with self.platform.lock:
            trade = self.platform.trades.get(otn)
            if trade is not None:
                if trade["trade_state"] in ("SUCCESS", "REFUND"):
                    return self.fail(400, "ORDERPAID", "该订单已支付")
                if trade["trade_type"] != trade_type or trade["total"] != total or trade["sub_mchid"] != sub:
                    return self.fail(400, "INVALID_REQUEST", "201 商户订单号重复")
            else:
                trade = {
                    "out_trade_no": otn,
                    "trade_type": trade_type,
                    "sub_mchid": sub,
                    "total": total,
                    "description": str(data.get("description") or ""),
                    "notify_url": data["notify_url"],
                    "trade_state": "NOTPAY",
                    "prepay_id": "wx" + datetime.now(CHINA).strftime("%d%H%M%S") + token()[:18],
                    "openid": (data.get("payer") or {}).get("sp_openid"),
                    "created": datetime.now(UTC),
                }
                self.platform.trades[otn] = trade
        if trade_type == "NATIVE":
            return self.signed(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={trade['prepay_id'][-12:]}"})
        if trade_type == "MWEB":
            return self.signed(200, {"h5_url": f"{self.platform.base}/h5/pay?prepay_id={trade['prepay_id']}"})
        return self.signed(200, {"prepay_id": trade["prepay_id"]})

    def refund_json(self, refund: dict[str, Any]) -> dict[str, Any]:
        trade = self.platform.trades[refund["out_trade_no"]]
        return {
            "refund_id": refund["refund_id"],
            "out_refund_no": refund["out_refund_no"],
            "transaction_id": trade.get("transaction_id"),
            "out_trade_no": trade["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": refund["created"].astimezone(CHINA).isoformat(timespec="seconds"),
            "status": refund["status"],
            "amount": {"total": trade["total"], "refund": refund["amount"], "currency": "CNY"},
        }

    def refund(self, data: dict[str, Any]) -> None:
        out_refund_no = str(data.get("out_refund_no") or "")
        amount = data.get("amount") or {}
        with self.platform.lock:
            existing = self.platform.refunds.get(out_refund_no)
            if existing is not None:  # the same out_refund_no: the same refund, once
                return self.signed(200, self.refund_json(existing))
            trade = self.platform.trades.get(str(data.get("out_trade_no") or ""))
            if trade is None or trade["sub_mchid"] != data.get("sub_mchid"):
                return self.fail(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            if trade["trade_state"] not in ("SUCCESS", "REFUND"):
                return self.fail(400, "INVALID_REQUEST", "订单未支付，无法退款")
            refund_fen, total = amount.get("refund"), amount.get("total")
            if total != trade["total"]:
                return self.fail(400, "PARAM_ERROR", "订单金额与原订单不一致")
            done = sum(
                r["amount"] for r in self.platform.refunds.values() if r["out_trade_no"] == trade["out_trade_no"]
            )
            if not isinstance(refund_fen, int) or refund_fen <= 0 or done + refund_fen > trade["total"]:
                return self.fail(400, "NOT_ENOUGH", "退款金额超过订单可退金额")
            refund = {
                "refund_id": "50300" + str(int(time.time() * 1000)) + token()[:6],
                "out_refund_no": out_refund_no,
                "out_trade_no": trade["out_trade_no"],
                "amount": refund_fen,
                "status": "PROCESSING",
                "created": datetime.now(UTC),
                "notify_url": data.get("notify_url"),
            }
            self.platform.refunds[out_refund_no] = refund
            trade["trade_state"] = "REFUND"
        answer = self.refund_json(refund)

        def finish() -> None:
            refund["status"] = "SUCCESS"
            self.platform.refund_notice(refund)

        later(0.3, finish)
        return self.signed(200, answer)

    def h5(self, method: str, path: str, query: dict[str, str]) -> None:
        m = re.fullmatch(r"/h5/pay(?:/([^/]+)/(pay|fail))?", path)
        if not m:
            return self.fail(404, "NOT_FOUND", "no such page")
        if m.group(1):
            otn, action = m.group(1), m.group(2)
            if action == "pay":
                self.platform.pay(otn)
            else:
                self.fail_trade(otn)
            back = query.get("redirect_url")
            return self.redirect(back) if back else self.redirect(f"/h5/pay?otn={otn}")
        prepay = query.get("prepay_id")
        trade = next(
            (
                t
                for t in self.platform.trades.values()
                if t["prepay_id"] == prepay or t["out_trade_no"] == query.get("otn")
            ),
            None,
        )
        if trade is None:
            return self.fail(404, "NOT_FOUND", "no such prepay_id")
        state = {"NOTPAY": "open", "USERPAYING": "open"}.get(trade["trade_state"], trade["trade_state"])
        from urllib.parse import quote

        back = f"?redirect_url={quote(query['redirect_url'], safe='')}" if query.get("redirect_url") else ""
        page = payer_page(
            "微信支付 WeChat Pay",
            f"{trade['total'] / 100:.2f}",
            trade["description"],
            f"/h5/pay/{trade['out_trade_no']}/pay{back}",
            f"/h5/pay/{trade['out_trade_no']}/fail{back}",
            state,
        )
        return self.send(200, page, "text/html; charset=utf-8")

    def fail_trade(self, otn: str) -> bool:
        with self.platform.lock:
            trade = self.platform.trades.get(otn)
            if trade is None or trade["trade_state"] not in ("NOTPAY", "USERPAYING"):
                return False
            trade["trade_state"] = "PAYERROR"
            return True

    def sim(self, method: str, path: str, body: bytes, query: dict[str, str]) -> None:
        m = re.fullmatch(r"/_sim/transactions/([^/]+)(?:/(pay|fail|refund-notice))?", path)
        if not m:
            return self.fail(404, "NOT_FOUND", "no such control")
        otn, action = m.group(1), m.group(2)
        trade = self.platform.trades.get(otn)
        if trade is None:
            return self.fail(404, "ORDER_NOT_EXIST", "no such trade")
        if action is None and method == "GET":
            refunds = refund_states(self.platform.refunds.values(), otn, number="out_refund_no", notice="last_notice")
            own = {
                "trade_state": trade["trade_state"],
                "trade_type": trade["trade_type"],
                "sub_mchid": trade["sub_mchid"],
                "amount": trade["total"],
            }
            return self.trade_state(otn, own, refunds)
        if action == "pay" and method == "POST":
            return self.paid(self.platform.pay(otn, notify=query.get("notify") != "0"))
        if action == "fail" and method == "POST":
            ok = self.fail_trade(otn)
            return self.json(200 if ok else 409, {"trade_state": self.platform.trades[otn]["trade_state"]})
        return self.fail(405, "METHOD_NOT_ALLOWED", "use POST for pay and fail, GET for the state")


def _platform_handler(state: dict[str, Any], base: str) -> type[Handler]:
    return type("WeChatPayHandler", (WeChatPayHandler,), {"platform": Platform(state, base)})


if __name__ == "__main__":
    main(_platform_handler, ensure_keys, CREDENTIALS, ("api_base", ""), "WECHATPAY_PORT", 8450, HOME)
