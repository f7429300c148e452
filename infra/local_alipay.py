"""A local Alipay gateway (open platform, ISV calls with app_auth_token) for `make dev` and the tests:
its own process on 127.0.0.1 (ALIPAY_PORT, default 8460).

It speaks the documented formats: requests to /gateway.do are verified (RSA2 over the sorted
parameters without `sign`) with the ISV app's public key; answers are signed over the JSON of
their `<method>_response` member and notifications over the sorted form without sign and
sign_type, with the gateway's own key. Keys are made once under .local/alipay/: platform.json
(the gateway's side) and credentials.json (what our side reads, the shape of the AWS secret).

An agent's app_auth_token names its authorised app and carries the gateway's HMAC, so any token
the gateway minted stays valid across restarts (`POST /_sim/app_auth_tokens` mints one).

Test controls, local only:
  POST /_sim/transactions/{out_trade_no}/pay    the payer pays: TRADE_SUCCESS, and the notification is sent
  POST /_sim/transactions/{out_trade_no}/fail   the payer gives up (the trade stays unpaid)
  GET  /_sim/transactions/{out_trade_no}        {trade_state, amount, refunds: [{out_refund_no, amount, status}]}
The payer's WAP page (/gateway.do?method=alipay.trade.wap.pay…, or /h5/{out_trade_no}) has "pay" and "fail".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo

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
HOME = LOCAL / "alipay"
DEMO_AUTH_APP_ID = "2021000000000109"


def ensure_keys(home: Path = HOME) -> dict[str, Any]:
    def make() -> dict[str, Any]:
        app = new_key_pem()
        gateway = new_key_pem()
        return {
            "app_id": "2021000000000100",
            "app_private_key": app,
            "app_public_key": public_pem(app),
            "gateway_private_key": gateway,
            "alipay_public_key": public_pem(gateway),
            "token_key": base64.b64encode(os.urandom(32)).decode(),
            "token_secret": token(),
        }

    return ensure_state(home, make, CREDENTIALS)


# What our side reads (credentials.json, the shape of the AWS secret): each credential's field of the state.
CREDENTIALS = {name: name for name in ("app_id", "app_private_key", "alipay_public_key", "token_key")}


def mint_token(state: dict[str, Any], auth_app_id: str) -> str:
    """An app_auth_token for the merchant app `auth_app_id` (what the agent's authorisation gives)."""
    mac = hmac.new(state["token_secret"].encode(), auth_app_id.encode(), hashlib.sha256).hexdigest()[:24]
    return f"202612BB{auth_app_id}{mac}"


def token_app(state: dict[str, Any], app_auth_token: str) -> str | None:
    m = re.fullmatch(r"202612BB(\d{16})([0-9a-f]{24})", app_auth_token or "")
    if not m or not hmac.compare_digest(mint_token(state, m.group(1)), app_auth_token):
        return None
    return m.group(1)


def sign_string(params: dict[str, str], *, without: tuple[str, ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in without and v != "")


def china_now() -> str:
    return datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def fen(raw: str) -> int | None:
    m = re.fullmatch(r"(\d{1,9})(?:\.(\d{1,2}))?", raw or "")
    if not m:
        return None
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


class Gateway(LocalRail):
    """The gateway's memory: trades by out_trade_no, refunds by out_trade_no + out_request_no, bills by
    token; it signs with its own key, and verifies our requests with the ISV app's public key."""

    own_key = "gateway_private_key"
    caller_key = "app_public_key"

    def answer(self, method: str, body: dict[str, Any]) -> bytes:
        name = method.replace(".", "_") + "_response"
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return f'{{"{name}":{inner},"sign":"{rsa_sign(self.key, inner)}"}}'.encode()

    def notify(self, trade: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, Any]:
        form = {
            "notify_time": china_now(),
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex,
            "app_id": self.state["app_id"],
            "auth_app_id": trade["auth_app_id"],
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"],
            "trade_status": trade["trade_status"],
            "total_amount": yuan(trade["total"]),
            "receipt_amount": yuan(trade["total"]),
            "buyer_pay_amount": yuan(trade["total"]),
            "subject": trade["subject"],
            "gmt_create": trade["gmt_create"],
            "seller_id": "2088" + trade["auth_app_id"][-12:],
            "buyer_id": "2088000000000001",
            **({"gmt_payment": trade["gmt_payment"]} if trade.get("gmt_payment") else {}),
            **(extra or {}),
        }
        form["sign"] = rsa_sign(self.key, sign_string(form, without=("sign", "sign_type")))
        form["sign_type"] = "RSA2"
        body = urlencode(form)
        return {"headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, "body": body}

    def deliver(self, trade: dict[str, Any], note: dict[str, Any]) -> int:
        if not trade.get("notify_url"):
            return 0
        status, answer = post(trade["notify_url"], note["body"].encode(), note["headers"])
        return status if answer.strip() == b"success" else (status or 0) + 1000

    def pay(self, otn: str, notify: bool = True) -> dict[str, Any]:
        with self.lock:
            trade = self.trades.get(otn)
            if trade is None:
                return {"error": "ACQ.TRADE_NOT_EXIST"}
            if trade["trade_status"] not in ("WAIT_BUYER_PAY", "TRADE_SUCCESS"):
                return {"error": f"trade is {trade['trade_status']}"}
            if trade["trade_status"] == "WAIT_BUYER_PAY":
                trade.update(trade_status="TRADE_SUCCESS", gmt_payment=china_now(), paid_at=datetime.now(UTC))
            note = self.notify(trade)
        status = self.deliver(trade, note) if notify else 0
        return {"trade_state": "TRADE_SUCCESS", "notify_status": status, "notification": note}

    def bill_zip(self, day: str, auth_app_id: str) -> bytes:
        from simrenew.adapters.alipay import BILL_HEADER

        lines = [
            "#支付宝业务明细查询",
            f"#账号：[{auth_app_id}]",
            f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            BILL_HEADER,
        ]
        blank = [""] * 8
        with self.lock:
            for trade in self.trades.values():
                paid = trade.get("paid_at")
                if trade["auth_app_id"] != auth_app_id or not paid or paid.astimezone(CHINA).date().isoformat() != day:
                    continue
                stamp = paid.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
                fee = round(trade["total"] * 0.006)
                lines.append(
                    ",".join(
                        [
                            trade["trade_no"],
                            trade["out_trade_no"],
                            "交易",
                            trade["subject"],
                            trade["gmt_create"],
                            stamp,
                            *["", "", "", "", "buyer@example.com", yuan(trade["total"]), yuan(trade["total"])],
                            *blank,
                            *["", f"-{yuan(fee)}", "0.00", ""],
                        ]
                    )
                )
            for refund in self.refunds.values():
                trade = self.trades[refund["out_trade_no"]]
                at = refund["created"]
                if trade["auth_app_id"] != auth_app_id or at.astimezone(CHINA).date().isoformat() != day:
                    continue
                stamp = at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
                lines.append(
                    ",".join(
                        [
                            trade["trade_no"],
                            trade["out_trade_no"],
                            "退款",
                            trade["subject"],
                            trade["gmt_create"],
                            stamp,
                            *["", "", "", "", "buyer@example.com"],
                            *["-" + yuan(refund["amount"]), "-" + yuan(refund["amount"])],
                            *blank,
                            *[refund["out_request_no"], "0.00", "0.00", ""],
                        ]
                    )
                )
        lines.append("#-----------------------------------------业务明细列表结束------------------------------------")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(f"{auth_app_id}_{day.replace('-', '')}_业务明细.csv", "\r\n".join(lines).encode("gbk"))
            archive.writestr(f"{auth_app_id}_{day.replace('-', '')}_业务明细(汇总).csv", "#汇总\r\n".encode("gbk"))
        return out.getvalue()


class AlipayHandler(Handler):
    gw: Gateway  # set per server by _gateway_handler()
    server_version = "local-alipay/1"

    def route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if path.startswith("/_sim/"):
            return self.sim(method, path, body, query)
        if path.startswith("/_bill/"):
            data = self.gw.bills.get(path.removeprefix("/_bill/").removesuffix(".zip"))
            if data is None:
                return self.json(404, {"error": "no such bill"})
            return self.send(200, data, "application/zip")
        m = re.fullmatch(r"/h5/([^/]+)(?:/(pay|fail))?", path)
        if m:
            return self.page(m.group(1), m.group(2), query)
        if path != "/gateway.do":
            return self.json(404, {"error": f"no route {path}"})
        params = dict(query)
        if method == "POST" and body:
            params.update(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
        return self.gateway(params)

    def gateway(self, params: dict[str, str]) -> None:
        api = params.get("method", "")
        sign = params.get("sign", "")
        if params.get("app_id") != self.gw.state["app_id"]:
            return self.refuse(api, "40002", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2" or not rsa_verify(
            self.gw.caller, sign_string(params, without=("sign",)), sign
        ):
            return self.refuse(api, "40002", "isv.invalid-signature", "验签出错")
        app = token_app(self.gw.state, params.get("app_auth_token", ""))
        if app is None:
            return self.refuse(api, "20001", "aop.invalid-app-auth-token", "无效的应用授权令牌")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            return self.refuse(api, "40002", "isv.invalid-parameter", "biz_content 不是 JSON")
        handler = {
            "alipay.trade.precreate": self.precreate,
            "alipay.trade.wap.pay": self.wap,
            "alipay.trade.query": self.query_trade,
            "alipay.trade.close": self.close,
            "alipay.trade.refund": self.refund,
            "alipay.open.auth.token.app.query": self.token_query,
            "alipay.data.dataservice.bill.downloadurl.query": self.bill,
        }.get(api)
        if handler is None:
            return self.refuse(api, "40004", "isv.unsupported-method", "本地网关不支持该接口")
        return handler(api, app, biz, params)

    def ok(self, api: str, data: dict[str, Any]) -> None:
        self.send(200, self.gw.answer(api, {"code": "10000", "msg": "Success", **data}), "text/html;charset=utf-8")

    def refuse(self, api: str, code: str, sub_code: str, sub_msg: str) -> None:
        msg = {"40002": "Invalid Arguments", "20001": "Insufficient Token Permissions"}.get(code, "Business Failed")
        body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
        self.send(200, self.gw.answer(api or "error", body), "text/html;charset=utf-8")

    def _new_trade(self, app: str, biz: dict[str, Any], params: dict[str, str], kind: str) -> Any:
        otn = str(biz.get("out_trade_no") or "")
        total = fen(str(biz.get("total_amount") or ""))
        if not re.fullmatch(r"[0-9A-Za-z_]{1,64}", otn) or not total:
            return "ACQ.INVALID_PARAMETER"
        with self.gw.lock:
            trade = self.gw.trades.get(otn)
            if trade is not None:
                if trade["auth_app_id"] != app or trade["total"] != total:
                    return "ACQ.CONTEXT_INCONSISTENT"
                if trade["trade_status"] != "WAIT_BUYER_PAY":
                    return (
                        "ACQ.TRADE_HAS_SUCCESS" if trade["trade_status"] == "TRADE_SUCCESS" else "ACQ.TRADE_HAS_CLOSE"
                    )
                return trade
            trade = {
                "out_trade_no": otn,
                "trade_no": datetime.now(CHINA).strftime("%Y%m%d") + "22001" + token()[:14],
                "auth_app_id": app,
                "total": total,
                "subject": str(biz.get("subject") or ""),
                "trade_status": "WAIT_BUYER_PAY",
                "gmt_create": china_now(),
                "notify_url": params.get("notify_url"),
                "return_url": params.get("return_url"),
                "kind": kind,
            }
            self.gw.trades[otn] = trade
            return trade

    def precreate(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        trade = self._new_trade(app, biz, params, "precreate")
        if isinstance(trade, str):
            return self.refuse(api, "40004", trade, "交易信息有误")
        return self.ok(
            api, {"out_trade_no": trade["out_trade_no"], "qr_code": f"{self.gw.base}/h5/{trade['out_trade_no']}"}
        )

    def wap(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        trade = self._new_trade(app, biz, params, "wap")
        if isinstance(trade, str):
            return self.send(400, f"<p>交易信息有误 {trade}</p>".encode(), "text/html; charset=utf-8")
        return self.page(trade["out_trade_no"], None, {})

    def query_trade(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        trade = self.gw.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None or trade["auth_app_id"] != app:
            return self.refuse(api, "40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        refunded = sum(r["amount"] for r in self.gw.refunds.values() if r["out_trade_no"] == trade["out_trade_no"])
        return self.ok(
            api,
            {
                "trade_no": trade["trade_no"],
                "out_trade_no": trade["out_trade_no"],
                "trade_status": trade["trade_status"],
                "total_amount": yuan(trade["total"]),
                "buyer_pay_amount": yuan(trade["total"]) if trade.get("gmt_payment") else "0.00",
                **({"send_pay_date": trade["gmt_payment"]} if trade.get("gmt_payment") else {}),
                **({"refund_fee": yuan(refunded)} if refunded else {}),
            },
        )

    def close(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        with self.gw.lock:
            trade = self.gw.trades.get(str(biz.get("out_trade_no") or ""))
            if trade is None or trade["auth_app_id"] != app:
                return self.refuse(api, "40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
            if trade["trade_status"] != "WAIT_BUYER_PAY":
                return self.refuse(api, "40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            trade["trade_status"] = "TRADE_CLOSED"
        return self.ok(api, {"trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"]})

    def refund(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        otn = str(biz.get("out_trade_no") or "")
        request_no = str(biz.get("out_request_no") or otn)
        amount = fen(str(biz.get("refund_amount") or ""))
        with self.gw.lock:
            trade = self.gw.trades.get(otn)
            if trade is None or trade["auth_app_id"] != app:
                return self.refuse(api, "40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
            key = f"{otn}#{request_no}"
            done = sum(r["amount"] for r in self.gw.refunds.values() if r["out_trade_no"] == otn)
            existing = self.gw.refunds.get(key)
            if existing is not None:  # the same out_request_no: the same refund, no money moves again
                if existing["amount"] != amount:
                    return self.refuse(api, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额与原请求不一致")
                return self.ok(api, self.refund_answer(trade, done, "N"))
            if trade["trade_status"] not in ("TRADE_SUCCESS", "TRADE_CLOSED") or not trade.get("gmt_payment"):
                return self.refuse(api, "40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if not amount or done + amount > trade["total"]:
                return self.refuse(api, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            self.gw.refunds[key] = {
                "out_trade_no": otn,
                "out_request_no": request_no,
                "amount": amount,
                "status": "REFUND_SUCCESS",
                "created": datetime.now(UTC),
            }
            done += amount
            if done >= trade["total"]:
                trade["trade_status"] = "TRADE_CLOSED"
            note = self.gw.notify(
                trade, {"refund_fee": yuan(done), "gmt_refund": china_now(), "out_biz_no": request_no}
            )
            self.gw.refunds[key]["notification"] = note
        later(0.3, lambda: self.gw.deliver(trade, note))
        return self.ok(api, self.refund_answer(trade, done, "Y"))

    def refund_answer(self, trade: dict[str, Any], done: int, changed: str) -> dict[str, Any]:
        return {
            "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"],
            "buyer_logon_id": "buy***@example.com",
            "fund_change": changed,
            "refund_fee": yuan(done),
            "gmt_refund_pay": china_now(),
        }

    def token_query(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        asked = token_app(self.gw.state, str(biz.get("app_auth_token") or ""))
        if asked is None:
            return self.refuse(api, "40004", "isv.invalid-app-auth-token", "无效的应用授权令牌")
        return self.ok(
            api,
            {
                "user_id": "2088" + asked[-12:],
                "auth_app_id": asked,
                "expires_in": 31536000,
                "re_expires_in": 32140800,
                "auth_start": china_now(),
                "auth_end": "2099-12-31 23:59:59",
                "status": "valid",
                "auth_methods": ["alipay.trade.precreate", "alipay.trade.wap.pay", "alipay.trade.refund"],
            },
        )

    def bill(self, api: str, app: str, biz: dict[str, Any], params: dict[str, str]) -> None:
        day = str(biz.get("bill_date") or "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            return self.refuse(api, "40004", "isp.bill_not_exist", "账单不存在")
        bill_token = token()
        self.gw.bills[bill_token] = self.gw.bill_zip(day, app)
        return self.ok(api, {"bill_download_url": f"{self.gw.base}/_bill/{bill_token}.zip"})

    def page(self, otn: str, action: str | None, query: dict[str, str]) -> None:
        trade = self.gw.trades.get(otn)
        if trade is None:
            return self.send(404, "<p>交易不存在</p>".encode(), "text/html; charset=utf-8")
        if action == "pay":
            self.gw.pay(otn)
        elif action == "fail":
            pass  # the payer gave up: nothing happens at Alipay, the trade stays unpaid until it is closed
        if action:
            back = trade.get("return_url")
            if back and action == "pay":
                sep = "&" if "?" in back else "?"
                return self.redirect(f"{back}{sep}out_trade_no={quote(otn)}")
            if back:
                return self.redirect(back)
            return self.redirect(f"/h5/{otn}")
        state = {"WAIT_BUYER_PAY": "open"}.get(trade["trade_status"], trade["trade_status"])
        page = payer_page(
            "支付宝 Alipay",
            yuan(trade["total"]),
            trade["subject"],
            f"/h5/{otn}/pay",
            f"/h5/{otn}/fail",
            state,
        )
        return self.send(200, page, "text/html; charset=utf-8")

    def sim(self, method: str, path: str, body: bytes, query: dict[str, str]) -> None:
        if path == "/_sim/app_auth_tokens" and method == "POST":
            app = "2021" + str(int(time.time() * 1000))[-6:] + str(uuid.uuid4().int)[:6]
            return self.json(201, {"app_auth_token": mint_token(self.gw.state, app), "auth_app_id": app})
        m = re.fullmatch(r"/_sim/transactions/([^/]+)(?:/(pay|fail))?", path)
        if not m:
            return self.json(404, {"error": "no such control"})
        otn, action = m.group(1), m.group(2)
        trade = self.gw.trades.get(otn)
        if trade is None:
            return self.json(404, {"error": "ACQ.TRADE_NOT_EXIST"})
        if action is None and method == "GET":
            refunds = refund_states(self.gw.refunds.values(), otn, number="out_request_no", notice="notification")
            own = {
                "trade_state": trade["trade_status"],
                "kind": trade["kind"],
                "auth_app_id": trade["auth_app_id"],
                "amount": trade["total"],
            }
            return self.trade_state(otn, own, refunds)
        if action == "pay" and method == "POST":
            return self.paid(self.gw.pay(otn, notify=query.get("notify") != "0"))
        if action == "fail" and method == "POST":
            return self.json(200, {"trade_state": trade["trade_status"]})
        return self.json(405, {"error": "use POST for pay and fail, GET for the state"})


def _gateway_handler(state: dict[str, Any], base: str) -> type[Handler]:
    return type("AlipayHandler", (AlipayHandler,), {"gw": Gateway(state, base)})


if __name__ == "__main__":
    main(_gateway_handler, ensure_keys, CREDENTIALS, ("gateway", "/gateway.do"), "ALIPAY_PORT", 8460, HOME)
