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


# What a function reads, by feature: the variables its template environment sets (AWS), then the
# ones only the local stack sets. Each composition root (simrenew/bootstrap.py) names its groups;
# a variable outside them is not read, so a function is never asked for what it does not use.
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "public_url": (("PUBLIC_BASE_URL",), ()),
    "platform_key": (("PLATFORM_KEY_SECRET_ARN",), ("SIMRENEW_PLATFORM_KEY",)),
    "stripe": (
        ("STRIPE_SECRET_ARN",),
        ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"),
    ),
    "rails": (
        ("WECHATPAY_SECRET_ARN", "ALIPAY_SECRET_ARN"),
        ("WECHATPAY_CREDENTIALS", "ALIPAY_CREDENTIALS", "NOTIFY_BASE_URL"),
    ),
    "origin_verify": (("ORIGIN_VERIFY_SECRET_ARN",), ("ORIGIN_VERIFY_SECRET",)),
    "import_worker": (("IMPORT_WORKER_FUNCTION",), ()),
    "sweep_function": (("SWEEP_FUNCTION",), ()),
    "uploads": (("UPLOADS_BUCKET",), ("S3_ENDPOINT",)),
    "notify": (("SENDER_EMAIL",), ("LOCAL_OUTBOX",)),
    "carrier": (("CARRIER_SECRET_PREFIX",), ("CARRIER_SECRETS_FILE",)),
    "carrier_sync_function": (("CARRIER_SYNC_FUNCTION",), ()),
}
# Read by every function: the stage, the table, the region (set by Lambda), the log level.
COMMON = ("SIMRENEW_ENV", "TABLE_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "LOG_LEVEL", "DDB_ENDPOINT")


# The variables of GROUPS read as they are (None when unset or not needed), each into the Config
# field of its name in lower case but for _FIELDS; load_config checks or combines the others.
_FIELDS = {"LOCAL_OUTBOX": "outbox_path"}
_AS_THEY_ARE = tuple(
    name
    for aws, local in GROUPS.values()
    for name in aws + local
    if name not in ("PUBLIC_BASE_URL", "SIMRENEW_PLATFORM_KEY", "S3_ENDPOINT")
)


@dataclass(frozen=True)
class Needs:
    """The settings one function's composition root reads: `groups` in AWS and locally,
    `local_groups` only on the local stack, which runs other functions' work in the API's
    process (sweep runs and their messages); in AWS it reads the common variables and the AWS
    variables of `groups`, which its template environment sets, and nothing else."""

    groups: frozenset[str]
    local_groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (self.groups | self.local_groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown setting groups: {sorted(unknown)}")

    def aws_variables(self) -> frozenset[str]:
        """The variables the function's template environment sets (besides the common ones)."""
        return frozenset(name for group in self.groups for name in GROUPS[group][0])

    def variables(self) -> frozenset[str]:
        """Every variable the function reads on the local stack (the common ones included)."""
        names = set(COMMON)
        for group in self.groups | self.local_groups:
            names.update(GROUPS[group][0] + GROUPS[group][1])
        return frozenset(names)


EVERYTHING = Needs(frozenset(GROUPS))  # the whole configuration: tests, benchmarks, tools


def _required(env: Mapping[str, str], name: str, missing: list[str]) -> str:
    value = env.get(name, "").strip()
    if not value:
        missing.append(name)
    return value


def _checked(source: Mapping[str, str], needs: Needs) -> tuple[str, str, str, str, str | None]:
    """The stage, table, region, public URL and platform key sources, or ConfigError naming
    every missing one this function needs."""
    missing: list[str] = []
    stage = _required(source, "SIMRENEW_ENV", missing)
    table_name = _required(source, "TABLE_NAME", missing)
    region = source.get("AWS_REGION", "").strip() or source.get("AWS_DEFAULT_REGION", "").strip()
    if not region:
        missing.append("AWS_REGION")
    public_base_url = _required(source, "PUBLIC_BASE_URL", missing).rstrip("/") if "public_url" in needs.groups else ""
    if missing:
        raise ConfigError(f"missing required environment variables: {', '.join(missing)}")
    if stage not in ("local", "aws"):
        raise ConfigError(f"SIMRENEW_ENV must be 'local' or 'aws', not {stage!r}")
    if "platform_key" not in needs.groups:
        return stage, table_name, region, public_base_url, None
    platform_key = source.get("SIMRENEW_PLATFORM_KEY", "").strip() or None
    platform_key_secret_arn = source.get("PLATFORM_KEY_SECRET_ARN", "").strip() or None
    if platform_key is None and platform_key_secret_arn is None:
        raise ConfigError("set SIMRENEW_PLATFORM_KEY (local) or PLATFORM_KEY_SECRET_ARN (AWS)")
    if platform_key is not None and len(platform_key) < 24:
        raise ConfigError("SIMRENEW_PLATFORM_KEY must be at least 24 characters")
    return stage, table_name, region, public_base_url, platform_key


class _Reader:
    """Reads a variable only if the function needs it (None otherwise, as when it is unset): in
    AWS the common ones and its groups' AWS variables (and S3_ENDPOINT, to refuse it), locally
    also the local stack's."""

    def __init__(self, source: Mapping[str, str], needs: Needs, stage: str) -> None:
        self._source = source
        if stage == "local":
            self._names = needs.variables()
        else:
            self._names = frozenset(COMMON) | needs.aws_variables() | ({"S3_ENDPOINT"} & needs.variables())

    def __call__(self, name: str) -> str | None:
        if name not in self._names:
            return None
        return self._source.get(name, "").strip() or None


def load_config(env: Mapping[str, str] | None = None, needs: Needs = EVERYTHING) -> Config:
    """Read and check what `needs` names of the environment; raise ConfigError naming every
    missing variable the function needs (one it does not need is neither read nor required)."""
    source = os.environ if env is None else env
    stage, table_name, region, public_base_url, platform_key = _checked(source, needs)
    read = _Reader(source, needs, stage)
    ddb_endpoint = read("DDB_ENDPOINT")
    if stage == "aws" and ddb_endpoint is not None:
        raise ConfigError("DDB_ENDPOINT is for the local stack only")
    s3_endpoint = read("S3_ENDPOINT")
    if stage == "aws" and s3_endpoint is not None:
        raise ConfigError("S3_ENDPOINT is for the local stack only")
    return Config(
        env=stage,
        table_name=table_name,
        region=region,
        ddb_endpoint=ddb_endpoint,
        public_base_url=public_base_url,
        platform_key=platform_key,
        log_level=(read("LOG_LEVEL") or "INFO").upper(),
        s3_endpoint=s3_endpoint,
        **{_FIELDS.get(name, name.lower()): read(name) for name in _AS_THEY_ARE},
    )
