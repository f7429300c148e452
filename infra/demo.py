"""Demo data for `make dev`, loaded once: a demo agent with plans, merchants and terminals."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEMO_AGENT = {
    "name": "演示代理商 Demo Agent",
    "contact_name": "王小明",
    "contact_email": "demo-agent@example.com",
    "contact_phone": "13800138000",
}


DEMO_MERCHANTS = [
    {"name": "张记便利店", "contact_name": "张伟", "phone": "13812345678", "email": "zhang@example.com"},
    {"name": "李家面馆", "contact_name": "李娜", "phone": "13987654321"},
    {"name": "Sunrise Coffee", "contact_name": "Wang Fang", "phone": "+8613700001234", "email": "sunrise@example.com"},
]
# (days from today until expiry, merchant index or None for stock, ICCID prefix); 7 and 1
# days out get their reminders from the first sweep (see .local/outbox.jsonl).
DEMO_TERMINALS = [
    (7, 0, "898600"),
    (1, 0, "898602"),
    (20, 1, "898601"),
    (45, 1, "898606"),
    (120, 2, "898603"),
    (300, 2, "898611"),
    (-2, 0, "898600"),
    (200, None, "898604"),
]


def _iccid(prefix: str, n: int) -> str:
    from simrenew.domain.identifiers import luhn_check_digit

    body = f"{prefix}{n:013d}"
    return body + luhn_check_digit(body)


def _fleet(services: Any, tenant_id: str) -> None:
    from datetime import timedelta

    fleet = services.fleet
    fleet.create_plan(tenant_id, {"name": "月卡 Monthly", "term_months": 1, "data_quota_mb": 300, "price_fen": 1500})
    fleet.create_plan(tenant_id, {"name": "季卡 Quarterly", "term_months": 3, "data_quota_mb": 1024, "price_fen": 4000})
    year = fleet.create_plan(
        tenant_id, {"name": "年卡 Yearly", "term_months": 12, "data_quota_mb": 5120, "price_fen": 12000}
    )
    merchants = [fleet.create_merchant(tenant_id, dict(m)) for m in DEMO_MERCHANTS]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the demo agent's timezone
    for n, (days, merchant, prefix) in enumerate(DEMO_TERMINALS, start=1):
        fleet.register(
            tenant_id,
            {
                "sn": f"DEMO-{n:06d}",
                "tid": f"{90000000 + n}",
                "iccid": _iccid(prefix, 7_000_000 + n),
                "model": "PAX A920" if n % 2 else "Newland ME31",
                "merchant_id": merchants[merchant].merchant_id if merchant is not None else None,
                "plan_id": year.plan_id,
                "expires_on": (today + timedelta(days=days)).isoformat(),
                "data_quota_mb": 5120,
            },
        )


def _sub_merchant(services: Any, tenant_id: str) -> None:
    """The demo agent is a sub-merchant of the local WeChat Pay platform (its sub_mchid) and of the
    local Alipay gateway (an app_auth_token the gateway minted for its app), of each the stack runs:
    services built without the local platforms (tests of the demo data alone) onboard none."""
    from infra.local_alipay import DEMO_AUTH_APP_ID, ensure_keys, mint_token
    from infra.local_wechatpay import DEMO_SUB_MCHID

    settings: dict[str, Any] = {}
    if services.orders.rails.has("wechatpay"):
        settings["wechatpay_sub_mchid"] = DEMO_SUB_MCHID
    if services.orders.rails.has("alipay"):
        settings["alipay_app_auth_token"] = mint_token(ensure_keys(), DEMO_AUTH_APP_ID)
    if settings:
        services.tenants.update(tenant_id, {"settings": settings})


def load_once(services: Any, state_file: Path) -> dict[str, str]:
    """Create the demo agent unless the kept state names one that still exists. A state file
    that names a missing agent (the table was removed, `.local/ddb` deleted or TABLE_NAME
    changed) or that cannot be read simply loads the demo data again."""
    from simrenew.errors import NotFound

    if state_file.exists():
        try:
            state: dict[str, str] = json.loads(state_file.read_text())
            existing = services.tenants.get(state["tenant_id"])
            if existing is not None:
                if existing.wechatpay_sub_mchid is None:  # made before the direct rails: onboard it now
                    _sub_merchant(services, existing.tenant_id)
                return state
        except (NotFound, ValueError, KeyError, TypeError):
            print(f"{state_file} names no agent of this table: loading the demo data again", flush=True)
    tenant, issued = services.tenants.create_active(DEMO_AGENT)
    _fleet(services, tenant.tenant_id)
    _sub_merchant(services, tenant.tenant_id)
    state = {"tenant_id": tenant.tenant_id, "api_key": issued.secret}
    # Local only: the demo key is kept so every `make dev` can print it (AWS keeps hashes only).
    state_file.touch(mode=0o600)
    state_file.write_text(json.dumps(state))
    os.chmod(state_file, 0o600)
    return state


DEMO_CARRIER_USERNAME = "demo-agent"


def connect_carrier(services: Any, state: dict[str, str], base_url: str, api_key: str) -> None:
    """Connect the demo agent's China Mobile, China Unicom and China Telecom SIMs to the local
    carrier platform (Control Center shapes), once; then sync, so the console shows carrier state."""
    tenant_id = state["tenant_id"]
    connected = {a.carrier for a in services.carrier_accounts.list(tenant_id)}
    added = False
    for carrier in ("CMCC", "CUCC", "CTCC"):
        if carrier in connected:
            continue
        account = services.carrier_accounts.create(
            tenant_id,
            {
                "carrier": carrier,
                "platform": "control_center",
                "base_url": base_url,
                "username": f"{DEMO_CARRIER_USERNAME}-{carrier.lower()}",
                "api_key": api_key,
            },
        )
        try:
            services.carrier_accounts.check(tenant_id, account.account_id)
        except Exception as exc:  # noqa: BLE001 - shown as unreachable in the console; the stack still starts
            print(f"[carrier] demo account check failed: {exc!r}", flush=True)
        added = True
    if added:
        try:
            services.carrier_sync.run(tenant_id)
        except Exception as exc:  # noqa: BLE001 - the demo still starts; the daily sync catches up
            print(f"[carrier] first demo sync failed: {exc!r}", flush=True)
