"""Local-stack settings: the defaults in the README's "What runs locally" table, each overridable by its variable."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from infra.processes import LOCAL

LOCAL_BUCKET = "simrenew-local-uploads"


@dataclass(frozen=True)
class LocalSettings:
    port: int
    ddb_port: int
    stripe_port: int
    s3_port: int
    wechatpay_port: int
    alipay_port: int
    sweep_every_s: int
    platform_key: str
    stripe_webhook_secret: str
    table_name: str
    data_dir: Path
    carrier_port: int = 8430  # the local carrier platform (infra/local_carrier.py)
    carrier_api_key: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_env(self) -> dict[str, str]:
        """The environment the functions see locally (what Lambda gets from template.yaml)."""
        return {
            "SIMRENEW_ENV": "local",
            "TABLE_NAME": self.table_name,
            "DDB_ENDPOINT": f"http://127.0.0.1:{self.ddb_port}",
            "PUBLIC_BASE_URL": self.base_url,
            "SIMRENEW_PLATFORM_KEY": self.platform_key,
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.stripe_port}",
            # localstripe accepts any test key; these never reach Stripe.
            "STRIPE_SECRET_KEY": "sk_test_simrenew_local",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_simrenew_local",
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "simrenew",
            # Reminders, digests and receipts land here (and in the log) instead of SMS/e-mail.
            "LOCAL_OUTBOX": str(self.data_dir / "outbox.jsonl"),
            # Presigned uploads and exports: moto's S3 server, the bucket from template.yaml.
            "S3_ENDPOINT": f"http://127.0.0.1:{self.s3_port}",
            "UPLOADS_BUCKET": LOCAL_BUCKET,
            # Carrier accounts' API keys (mode 600), as Secrets Manager keeps them in AWS.
            "CARRIER_SECRETS_FILE": str(self.data_dir / "carrier-secrets.json"),
            # The local WeChat Pay platform and Alipay gateway write these when they start.
            "WECHATPAY_CREDENTIALS": str(self.data_dir / "wechatpay" / f"credentials-{self.wechatpay_port}.json"),
            "ALIPAY_CREDENTIALS": str(self.data_dir / "alipay" / f"credentials-{self.alipay_port}.json"),
        }


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SystemExit(f"{name} must be a number, not {raw!r}")
    return int(raw)


def _kept_secret(env_name: str, file: Path, make: str) -> str:
    """The variable if set, else a value generated once and kept (mode 600) under .local/."""
    given = os.environ.get(env_name, "").strip()
    if given:
        return given
    if file.exists():
        return file.read_text().strip()
    file.parent.mkdir(parents=True, exist_ok=True)
    value = make + secrets.token_urlsafe(32)
    file.touch(mode=0o600)
    file.write_text(value + "\n")
    return value


def load(data_dir: Path = LOCAL) -> LocalSettings:
    return LocalSettings(
        port=_int("PORT", 8000),
        ddb_port=_int("DDB_PORT", 8001),
        stripe_port=_int("STRIPE_PORT", 8420),
        s3_port=_int("S3_PORT", 8440),
        wechatpay_port=_int("WECHATPAY_PORT", 8450),
        alipay_port=_int("ALIPAY_PORT", 8460),
        sweep_every_s=_int("SWEEP_EVERY_S", 300),
        platform_key=_kept_secret("SIMRENEW_PLATFORM_KEY", data_dir / "platform_key", "srp_"),
        stripe_webhook_secret=_kept_secret("STRIPE_WEBHOOK_SECRET", data_dir / "stripe_webhook_secret", "whsec_"),
        table_name=os.environ.get("TABLE_NAME", "").strip() or "simrenew-local",
        data_dir=data_dir,
        carrier_port=_int("CARRIER_PORT", 8430),
        carrier_api_key=_kept_secret("CARRIER_API_KEY", data_dir / "carrier_api_key", "cck_"),
    )
