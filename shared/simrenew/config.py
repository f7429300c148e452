"""All configuration is read here, once; a missing required variable fails start-up loudly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from simrenew.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Settings for one process (a Lambda container or the local stack)."""

    env: str  # "local" or "aws"
    table_name: str
    region: str
    ddb_endpoint: str | None  # DynamoDB Local; None means the real service
    public_base_url: str
    platform_key: str | None  # given directly (local); else read from the secret below
    platform_key_secret_arn: str | None
    stripe_secret_arn: str | None
    import_worker_function: str | None  # AWS: the worker Lambda the API hands imports to
    log_level: str
    # Local stack only (AWS reads them from STRIPE_SECRET_ARN): localstripe and its keys.
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    sender_email: str | None = None  # SES From address (AWS); local messages go to the outbox
    outbox_path: str | None = None  # local: where the outbox also writes JSON lines
    sweep_function: str | None = None  # AWS: the sweep Lambda (its runs' steps: coordinator, shard workers)
    # The secret CloudFront adds to every origin request (X-Origin-Verify): from Secrets Manager
    # in AWS (ORIGIN_VERIFY_SECRET_ARN), given directly by the local server (ORIGIN_VERIFY_SECRET).
    origin_verify_secret: str | None = None
    origin_verify_secret_arn: str | None = None
    # The private bucket of presigned fleet uploads and exports (template.yaml UploadsBucket);
    # locally an S3-compatible server at S3_ENDPOINT (moto's server mode, started by make dev).
    uploads_bucket: str | None = None
    s3_endpoint: str | None = None
    # Carrier accounts (docs/carrier.md): AWS keeps each API key in Secrets Manager under this name
    # prefix; locally they are in this file (mode 600). The function the API hands syncs to (AWS).
    carrier_secret_prefix: str | None = None
    carrier_secrets_file: str | None = None
    carrier_sync_function: str | None = None
    # The direct rails of mainland China (the platform as 服务商 / ISV): Secrets Manager in AWS
    # (WECHATPAY_SECRET_ARN, ALIPAY_SECRET_ARN), the local platforms' credential files locally.
    # A rail without either is not offered (orders for it go through Stripe).
    wechatpay_secret_arn: str | None = None
    alipay_secret_arn: str | None = None
    wechatpay_credentials: str | None = None
    alipay_credentials: str | None = None
    # Where the rails send notifications (…/webhooks/wechatpay, …/webhooks/alipay): PUBLIC_BASE_URL
    # unless NOTIFY_BASE_URL says otherwise (a local server on a port of its own).
    notify_base_url: str | None = None

    @property
    def notify_base(self) -> str:
        return (self.notify_base_url or self.public_base_url).rstrip("/")

    @property
    def is_local(self) -> bool:
        return self.env == "local"


def _required(env: Mapping[str, str], name: str, missing: list[str]) -> str:
    value = env.get(name, "").strip()
    if not value:
        missing.append(name)
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read and check the environment; raise ConfigError naming every missing variable."""
    source = os.environ if env is None else env
    missing: list[str] = []
    stage = _required(source, "SIMRENEW_ENV", missing)
    table_name = _required(source, "TABLE_NAME", missing)
    region = source.get("AWS_REGION", "").strip() or source.get("AWS_DEFAULT_REGION", "").strip()
    if not region:
        missing.append("AWS_REGION")
    public_base_url = _required(source, "PUBLIC_BASE_URL", missing).rstrip("/")
    platform_key = source.get("SIMRENEW_PLATFORM_KEY", "").strip() or None
    platform_key_secret_arn = source.get("PLATFORM_KEY_SECRET_ARN", "").strip() or None
    if missing:
        raise ConfigError(f"missing required environment variables: {', '.join(missing)}")
    if stage not in ("local", "aws"):
        raise ConfigError(f"SIMRENEW_ENV must be 'local' or 'aws', not {stage!r}")
    if platform_key is None and platform_key_secret_arn is None:
        raise ConfigError("set SIMRENEW_PLATFORM_KEY (local) or PLATFORM_KEY_SECRET_ARN (AWS)")
    if platform_key is not None and len(platform_key) < 24:
        raise ConfigError("SIMRENEW_PLATFORM_KEY must be at least 24 characters")
    ddb_endpoint = source.get("DDB_ENDPOINT", "").strip() or None
    if stage == "aws" and ddb_endpoint is not None:
        raise ConfigError("DDB_ENDPOINT is for the local stack only")
    s3_endpoint = source.get("S3_ENDPOINT", "").strip() or None
    if stage == "aws" and s3_endpoint is not None:
        raise ConfigError("S3_ENDPOINT is for the local stack only")
    return Config(
        env=stage,
        table_name=table_name,
        region=region,
        ddb_endpoint=ddb_endpoint,
        public_base_url=public_base_url,
        platform_key=platform_key,
        platform_key_secret_arn=platform_key_secret_arn,
        stripe_secret_arn=source.get("STRIPE_SECRET_ARN", "").strip() or None,
        import_worker_function=source.get("IMPORT_WORKER_FUNCTION", "").strip() or None,
        sweep_function=source.get("SWEEP_FUNCTION", "").strip() or None,
        log_level=source.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
        stripe_secret_key=source.get("STRIPE_SECRET_KEY", "").strip() or None,
        stripe_publishable_key=source.get("STRIPE_PUBLISHABLE_KEY", "").strip() or None,
        stripe_webhook_secret=source.get("STRIPE_WEBHOOK_SECRET", "").strip() or None,
        stripe_api_base=source.get("STRIPE_API_BASE", "").strip() or None,
        sender_email=source.get("SENDER_EMAIL", "").strip() or None,
        outbox_path=source.get("LOCAL_OUTBOX", "").strip() or None,
        origin_verify_secret=source.get("ORIGIN_VERIFY_SECRET", "").strip() or None,
        origin_verify_secret_arn=source.get("ORIGIN_VERIFY_SECRET_ARN", "").strip() or None,
        uploads_bucket=source.get("UPLOADS_BUCKET", "").strip() or None,
        s3_endpoint=s3_endpoint,
        carrier_secret_prefix=source.get("CARRIER_SECRET_PREFIX", "").strip() or None,
        carrier_secrets_file=source.get("CARRIER_SECRETS_FILE", "").strip() or None,
        carrier_sync_function=source.get("CARRIER_SYNC_FUNCTION", "").strip() or None,
        wechatpay_secret_arn=source.get("WECHATPAY_SECRET_ARN", "").strip() or None,
        alipay_secret_arn=source.get("ALIPAY_SECRET_ARN", "").strip() or None,
        wechatpay_credentials=source.get("WECHATPAY_CREDENTIALS", "").strip() or None,
        alipay_credentials=source.get("ALIPAY_CREDENTIALS", "").strip() or None,
        notify_base_url=source.get("NOTIFY_BASE_URL", "").strip() or None,
    )
