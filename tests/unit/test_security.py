"""Security properties a user would notice if they broke: API keys never reach a log or a later answer,
phone numbers, emails and ICCIDs are masked in logs and in what the public and the listings show, the
public routes are rate limited with the documented error shape, and every secret is compared in
constant time (hmac.compare_digest), checked both where it runs and in the source."""

from __future__ import annotations

import ast
import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from simrenew.log import get_logger
from simrenew.services import webhooks
from tests.support.builders import Agent, create_agent
from tests.support.client import ApiClient, Resp
from tests.support.env import PLATFORM_KEY, WEBHOOK_SECRET
from tests.support.fleet import terminal_body
from tests.support.payments import FakeGateway, sign
from tests.support.sweep import swept

ROOT = Path(__file__).resolve().parent.parent.parent
MERCHANT_PHONE = "+8613812345678"
MERCHANT_EMAIL = "zhang.shop@example.com"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything logged during the test, at every level: the app's JSON logger (raised to DEBUG, its
    output to stdout captured) and any other logger at INFO and above (botocore's DEBUG wire dumps are
    off in Lambda and would show the DynamoDB writes themselves)."""
    logger = get_logger()
    handler = logger.registered_handler
    stdout = io.StringIO()
    previous_stream, previous_level = handler.setStream(stdout), logger.log_level
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.INFO)
    try:
        yield (
            lambda: (
                stdout.getvalue()
                + "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.__dict__}" for r in caplog.records)
            )
        )
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)


def _secret_part(api_key: str, key_id: str) -> str:
    prefix = f"srk_{key_id}_"
    assert api_key.startswith(prefix)
    return api_key[len(prefix) :]


def _assert_absent(needle: str, where: str, what: str) -> None:
    assert needle and needle not in where, f"{what} found: {needle!r}"


# --- (a) API keys ---------------------------------------------------------------------------------


def test_api_keys_never_appear_in_logs_or_in_any_later_answer(
    api: ApiClient, platform_key: str, logs: Callable[[], str]
) -> None:
    agent = create_agent(api, platform_key)  # the tenant and its first admin key
    created = api.post("/v1/api-keys", {"role": "staff", "label": "till"}, key=agent.admin_key)
    assert created.status == 201
    staff_key, staff_id = created.json["api_key"], created.json["key_id"]
    secrets = {
        "first admin key": agent.admin_key,
        "its secret part": _secret_part(agent.admin_key, agent.admin_key_id),
        "staff key": staff_key,
        "staff secret part": _secret_part(staff_key, staff_id),
    }

    later: list[Resp] = [
        api.get("/v1/merchants", key=staff_key),  # used
        api.get("/v1/api-keys", key=agent.admin_key),
        api.get("/v1/tenant", key=agent.admin_key),
        api.get(f"/v1/admin/tenants/{agent.tenant_id}", key=platform_key),
        api.delete(f"/v1/api-keys/{staff_id}", key=agent.admin_key),  # revoked
        api.get("/v1/merchants", key=staff_key),  # refused
        api.get("/v1/merchants", key=staff_key[:-2] + "xx"),  # tampered
        api.get("/v1/api-keys", key=agent.admin_key),
    ]
    assert [r.status for r in later] == [200, 200, 200, 200, 204, 401, 401, 200]
    assert {k["key_id"] for k in later[-1].json["items"]} >= {agent.admin_key_id, staff_id}

    logged = logs()
    answers = "\n".join(r.body.decode() for r in later)
    for what, secret in secrets.items():
        _assert_absent(secret, logged, f"{what} in the logs")
        _assert_absent(secret, answers, f"{what} in a later answer")


def test_a_key_failing_inside_a_request_is_not_logged_with_the_error(
    api: ApiClient, services: Any, platform_key: str, logs: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = create_agent(api, platform_key)

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(services.listing, "merchants", boom)
    assert api.get("/v1/merchants", key=agent.admin_key).status == 500
    logged = logs()
    assert "store exploded" in logged  # the failure itself is logged, with its traceback
    _assert_absent(_secret_part(agent.admin_key, agent.admin_key_id), logged, "the key's secret in the error log")


# --- (b) phone numbers, emails and ICCIDs -------------------------------------------------------


def _merchant_terminal(api: ApiClient, agent: Agent, expires_in_days: int) -> dict[str, Any]:
    m = api.post(
        "/v1/merchants",
        {"name": "张记便利店", "phone": MERCHANT_PHONE, "email": MERCHANT_EMAIL},
        key=agent.admin_key,
    ).json
    expires = (date.today() + timedelta(days=expires_in_days)).isoformat()
    body = terminal_body(merchant_id=m["merchant_id"], expires_on=expires)
    t = api.post("/v1/terminals", body, key=agent.admin_key)
    assert t.status == 201, t.body
    return t.json  # type: ignore[no-any-return]


def _private_values(t: dict[str, Any]) -> dict[str, str]:
    return {
        "phone": MERCHANT_PHONE,
        "phone without +86": MERCHANT_PHONE[3:],
        "email": MERCHANT_EMAIL,
        "ICCID": t["iccid"],
        "merchant name": "张记便利店",
    }


def test_the_public_lookup_shows_no_phone_email_iccid_or_full_merchant_name(
    api: ApiClient, platform_key: str, logs: Callable[[], str]
) -> None:
    agent = create_agent(api, platform_key)
    t = _merchant_terminal(api, agent, expires_in_days=30)
    for ident in (t["sn"], t["tid"]):
        r = api.get(f"/v1/public/terminals/{ident}")
        assert r.status == 200, r.body
        assert r.json["merchant_name_masked"] == "张***店"
        for what, value in _private_values(t).items():
            _assert_absent(value, r.body.decode(), f"the {what} in the public answer")
    logged = logs()
    for what, value in _private_values(t).items():
        if what != "merchant name":
            _assert_absent(value, logged, f"the {what} in the logs")


def test_reminders_list_and_log_recipients_masked(api: ApiClient, platform_key: str, logs: Callable[[], str]) -> None:
    agent = create_agent(api, platform_key)
    t = _merchant_terminal(api, agent, expires_in_days=400)
    as_of = (date.fromisoformat(t["expires_on"]) - timedelta(days=7)).isoformat()
    swept(api, platform_key, as_of)

    listed = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key)
    as_csv = api.get(f"/v1/notifications?sn={t['sn']}", key=agent.admin_key, headers={"Accept": "text/csv"})
    assert listed.status == 200 and as_csv.status == 200
    recipients = {n["channel"]: n["recipient"] for n in listed.json["items"]}
    assert set(recipients) == {"sms", "email"}
    assert "****" in recipients["sms"] and recipients["email"].endswith("@example.com")
    shown = listed.body.decode() + as_csv.body.decode("utf-8-sig") + logs()
    for what, value in _private_values(t).items():
        if what != "merchant name":
            _assert_absent(value, shown, f"the {what} in the notifications listing or the logs")


# --- (c) rate limits of the public routes ----------------------------------------------------------


def _assert_rate_limited(r: Resp) -> None:
    assert r.status == 429, r.body
    assert set(r.json) == {"error"} and r.error["code"] == "rate_limited" and r.error["message"]
    assert int(r.headers["retry-after"]) > 0


def _one_window(seconds_needed: float = 20.0, window_s: int = 60) -> None:
    """The limits count per fixed clock window (the minute): a test that sends limit + 1 requests
    starts them in a window with time left, else a loaded machine's requests can straddle two
    windows and the last one is rightly let through (CI saw exactly that)."""
    left = window_s - time.time() % window_s
    if left < seconds_needed:
        time.sleep(left + 0.05)


def test_the_public_lookup_answers_429_after_30_lookups_a_minute_from_one_client(
    api: ApiClient, platform_key: str
) -> None:
    _one_window()
    # Unknown serial numbers count too: the limit is what stops enumerating the fleet.
    statuses = {api.get(f"/v1/public/terminals/NO-SUCH-{i:04d}").status for i in range(30)}
    assert statuses == {404}
    _assert_rate_limited(api.get("/v1/public/terminals/NO-SUCH-9999"))


def test_voucher_guessing_from_one_client_is_429_after_10_wrong_codes_across_terminals(
    api: ApiClient, platform_key: str
) -> None:
    agent = create_agent(api, platform_key)
    sns = [api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json["sn"] for _ in range(3)]
    _one_window(seconds_needed=60, window_s=3600)  # wrong codes count per clock hour
    wrong = "ABCD-EFGH-JKMN-PQRS"  # well-formed, but no such voucher
    # At most 4 per terminal, under the per-terminal limit of 5, so only the per-client limit of 10 can bite.
    statuses = [api.post("/v1/public/vouchers/redeem", {"sn": sns[i % 3], "code": wrong}).status for i in range(10)]
    assert set(statuses) <= {400, 422}, statuses
    _assert_rate_limited(api.post("/v1/public/vouchers/redeem", {"sn": sns[1], "code": wrong}))


# --- (d) constant-time comparisons ---------------------------------------------------------------


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every hmac.compare_digest call (still answered by the real function)."""
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_api_key_hashes_are_compared_with_compare_digest(
    api: ApiClient, platform_key: str, compared: list[tuple[Any, Any]]
) -> None:
    agent = create_agent(api, platform_key)
    compared.clear()
    assert api.get("/v1/tenant", key=agent.admin_key).status == 200
    assert (_sha256(agent.admin_key), _sha256(agent.admin_key)) in compared

    tampered = agent.admin_key[:-1] + ("A" if agent.admin_key[-1] != "A" else "B")
    compared.clear()
    assert api.get("/v1/tenant", key=tampered).status == 401
    assert (_sha256(tampered), _sha256(agent.admin_key)) in compared  # same key id: the stored hash is found


def test_the_platform_key_is_compared_with_compare_digest(
    api: ApiClient, platform_key: str, compared: list[tuple[Any, Any]]
) -> None:
    assert api.get("/v1/admin/tenants", key="srp_wrong").status == 401
    assert (b"srp_wrong", PLATFORM_KEY.encode()) in compared


def test_stripe_webhook_signatures_are_compared_with_compare_digest(
    deliver: Any, gateway: FakeGateway, compared: list[tuple[Any, Any]]
) -> None:
    payload = json.dumps({"id": "evt_sec_1", "type": "customer.created", "data": {"object": {}}}).encode()
    header = sign(payload, WEBHOOK_SECRET)
    v1 = header.split("v1=")[1]
    assert deliver(payload, header)[0] == 200
    assert any(b == v1 for _a, b in compared)

    forged = header.replace(v1, "0" * len(v1))
    compared.clear()
    assert deliver(payload, forged)[0] == 400
    assert any(b == "0" * len(v1) for _a, b in compared)


def test_outbound_webhook_signatures_verify_with_compare_digest(compared: list[tuple[Any, Any]]) -> None:
    now = int(time.time())
    body = b'{"type": "order.fulfilled"}'
    header = webhooks.sign("whsec_agent", now, body)
    assert webhooks.verify("whsec_agent", header, body, now=now)
    assert not webhooks.verify("whsec_other", header, body, now=now)
    signature = header.split("v1=")[1].encode()
    assert [b for _a, b in compared] == [signature, signature]


def test_the_pay_page_order_token_is_compared_with_compare_digest(
    api: ApiClient, platform_key: str, gateway: FakeGateway, compared: list[tuple[Any, Any]]
) -> None:
    agent = create_agent(api, platform_key)
    plan = api.post(
        "/v1/plans", {"name": "年卡", "term_months": 12, "data_quota_mb": 1024, "price_fen": 9900}, key=agent.admin_key
    ).json
    t = api.post("/v1/terminals", terminal_body(), key=agent.admin_key).json
    order = api.post("/v1/public/orders", {"sn": t["sn"], "plan_id": plan["plan_id"]}).json
    compared.clear()
    assert api.get(f"/v1/public/orders/{order['order_id']}?token={order['order_token']}").status == 200
    assert any(_sha256(order["order_token"]) in (a, b) for a, b in compared)


SECRET_WORDS = ("secret", "signature", "token", "key_hash", "code_hash", "token_hash", "mac", "v1")


def test_no_secret_is_compared_with_a_plain_equality_in_the_source() -> None:
    """`==` on secrets returns as soon as a character differs, leaking how much of a guess was right."""
    offenders = []
    for path in sorted([*(ROOT / "shared" / "simrenew").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                if any(word in name.lower() for name in names for word in SECRET_WORDS):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, "\n".join(offenders)
