"""The SIM at its carrier, in domain terms: what a carrier platform says about a SIM (its status as
the platform names it and what that means here), usage this cycle, the changes we ask for, carrier
accounts (validation; the API key is a secret and never part of an account's answer) and drift:
a SIM whose carrier status disagrees with its terminal's status here.

Pure rules: no HTTP, no AWS. The platforms themselves are behind simrenew.ports.carrier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from simrenew.clock import iso_utc
from simrenew.domain.fleet import Terminal, TerminalStatus
from simrenew.errors import RuleViolation, SimRenewError, ValidationError

BYTES_PER_MB = 1_048_576  # quotas are counted in MiB: the platforms' bytes ÷ 1,048,576
CARRIERS = ("CMCC", "CUCC", "CTCC")
MAX_USERNAME = 100
MAX_API_KEY = 256


class Platform(StrEnum):
    CONTROL_CENTER = "control_center"  # Cisco IoT Control Center REST (中国联通 and many others)
    ONELINK = "onelink"  # 中国移动 OneLink EC API


class SimState(StrEnum):
    """What a platform status means here."""

    ACTIVE = "active"  # the SIM has service (Control Center ACTIVATED, OneLink 2 已激活)
    SUSPENDED = "suspended"  # deactivated / 停机: no service, can be resumed
    NOT_ACTIVE = "not_active"  # never activated yet: inventory, test, activation ready
    RETIRED = "retired"  # retired / 预销户: gone for good
    UNKNOWN = "unknown"  # the platform does not know this SIM (in this account)


class CarrierAction(StrEnum):
    SUSPEND = "suspend"
    RESUME = "resume"

    @property
    def target(self) -> SimState:
        return SimState.SUSPENDED if self is CarrierAction.SUSPEND else SimState.ACTIVE


class AccountStatus(StrEnum):
    UNCHECKED = "unchecked"
    OK = "ok"
    AUTH_FAILED = "auth_failed"
    UNREACHABLE = "unreachable"


# --- what a platform says about one SIM ---------------------------------------------------------------
@dataclass(frozen=True)
class SimStatus:
    iccid: str
    status: str  # as the platform names it ("ACTIVATED", "DEACTIVATED"; OneLink "2", "4", ...)
    state: SimState
    rate_plan: str | None = None


@dataclass(frozen=True)
class SimUsage:
    iccid: str
    bytes_used: int  # this billing cycle, as the platform counts it
    as_of: datetime

    @property
    def mb(self) -> int:
        return usage_mb(self.bytes_used)


def usage_mb(bytes_used: int) -> int:
    """Data used in whole MiB (rounded down, as quotas are counted)."""
    return max(0, int(bytes_used)) // BYTES_PER_MB


# --- typed errors: what a caller can act on -----------------------------------------------------------
class CarrierError(SimRenewError):
    """Base of every carrier platform failure. `retryable`: trying again later may help."""

    status = 422
    code = "carrier_error"
    retryable = False


class CarrierAuthFailed(CarrierError):
    """The platform refused the account's credentials (401/403, OneLink token refused)."""

    code = "carrier_auth_failed"


class CarrierUnreachable(CarrierError):
    """No answer in time, a connection error or 5xx after the retries: the change may or may
    not have been applied (read the SIM's status before sending it again)."""

    code = "carrier_unreachable"
    retryable = True


class CarrierThrottled(CarrierUnreachable):
    """429 (or OneLink's rate limit) after the retries; nothing was applied."""

    code = "carrier_throttled"


class CarrierRejected(CarrierError):
    """The platform answered and refused the request (a 4xx other than auth, a OneLink error)."""

    code = "carrier_rejected"


class SimUnknown(CarrierError):
    """The platform does not know this SIM in this account (404)."""

    code = "carrier_sim_unknown"


# --- terminals here vs SIMs there -----------------------------------------------------------------------
def expected_state(terminal_status: str) -> SimState | None:
    """What the SIM's state should be at the carrier for a terminal status here; None: no
    expectation (stock terminals may be in any carrier state)."""
    if terminal_status in ("active", "grace"):
        return SimState.ACTIVE
    if terminal_status in ("suspended", "deactivated"):
        return SimState.SUSPENDED
    return None


def drift(terminal_status: str, state: SimState | None) -> str | None:
    """Why the carrier disagrees with us, or None. `state` None: never read from the carrier."""
    if state is None:
        return None
    if state is SimState.UNKNOWN:
        return "unknown_at_carrier"
    wanted = expected_state(terminal_status)
    if wanted is None:
        return None
    if wanted is SimState.ACTIVE and state is not SimState.ACTIVE:
        return "inactive_at_carrier"  # active here, deactivated (or never active, retired) there
    if wanted is SimState.SUSPENDED and state is SimState.ACTIVE:
        if terminal_status == "deactivated":
            return "active_at_carrier_deactivated_here"
        return "active_at_carrier"  # suspended here, still has service there
    return None


DRIFT_REASONS = ("unknown_at_carrier", "inactive_at_carrier", "active_at_carrier", "active_at_carrier_deactivated_here")


# --- carrier accounts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CarrierAccount:
    """An agent's login at a carrier platform. The API key is kept as a secret elsewhere."""

    account_id: str
    tenant_id: str
    carrier: str
    platform: Platform
    base_url: str
    username: str
    status: AccountStatus
    created_at: str = ""
    checked_at: str | None = None
    last_sync: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "carrier": self.carrier,
            "platform": self.platform.value,
            "base_url": self.base_url,
            "username": self.username,
            "status": self.status.value,
            "created_at": self.created_at,
            "checked_at": self.checked_at,
            "last_sync": self.last_sync,
        }


@dataclass(frozen=True)
class NewAccount:
    carrier: str
    platform: Platform
    base_url: str
    username: str
    api_key: str  # secret: goes to the secret store, never into an answer or a log line

    def __repr__(self) -> str:  # a stray log of the object must not print the key
        return f"NewAccount(carrier={self.carrier!r}, platform={self.platform.value!r}, username={self.username!r})"


ACCOUNT_FIELDS = ("carrier", "platform", "base_url", "username", "api_key")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


def _text(body: dict[str, Any], name: str, max_len: int) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ValidationError(name, "required", f"{name} is required")
    if not isinstance(value, str):
        raise ValidationError(name, "invalid_type", f"{name} must be a string")
    value = value.strip()
    if not value or len(value) > max_len:
        raise ValidationError(name, "invalid_length", f"{name} must be 1-{max_len} characters")
    return value


def base_url_of(raw: str, *, allow_local: bool) -> str:
    """The platform's origin: https (http only to the local stack's own 127.0.0.1/localhost),
    no credentials, query or fragment; a trailing slash is dropped."""
    try:
        parts = urlsplit(raw)
        hostname = parts.hostname
    except ValueError:
        raise ValidationError("base_url", "invalid_url", "base_url is not a URL") from None
    local = hostname in ("127.0.0.1", "localhost")
    if parts.scheme not in ("https", "http") or not hostname:
        raise ValidationError("base_url", "invalid_url", "base_url must be an https:// URL")
    if parts.scheme == "http" and not (allow_local and local):
        raise ValidationError("base_url", "insecure_url", "base_url must use https")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError("base_url", "invalid_url", "base_url must not carry credentials, a query or a fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValidationError("base_url", "invalid_url", "base_url has an invalid port") from None
    netloc = hostname + (f":{port}" if port else "")
    if ":" in hostname:
        netloc = f"[{hostname}]" + (f":{port}" if port else "")
    if any(c.isspace() or ord(c) < 32 for c in raw):
        raise ValidationError("base_url", "invalid_url", "base_url must not contain spaces or control characters")
    if len(raw) > 300:
        raise ValidationError("base_url", "invalid_length", "base_url must be at most 300 characters")
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def account_fields(body: dict[str, Any], *, allow_local: bool) -> NewAccount:
    """Validate `POST /v1/carrier-accounts`; every error names its field."""
    unknown = sorted(set(body) - set(ACCOUNT_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "unknown_field", f"unknown field {unknown[0]!r}")
    carrier = _text(body, "carrier", 8).upper()
    if carrier not in CARRIERS:
        raise ValidationError("carrier", "invalid_choice", "carrier must be CMCC, CUCC or CTCC")
    raw_platform = _text(body, "platform", 32)
    try:
        platform = Platform(raw_platform)
    except ValueError:
        raise ValidationError("platform", "invalid_choice", "platform must be control_center or onelink") from None
    base_url = base_url_of(_text(body, "base_url", 300), allow_local=allow_local)
    username = _text(body, "username", MAX_USERNAME)
    api_key = body.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        raise ValidationError("api_key", "required" if api_key in (None, "") else "invalid_type", "api_key is required")
    if len(api_key) > MAX_API_KEY or not _PRINTABLE.match(api_key):
        raise ValidationError("api_key", "invalid_api_key", f"api_key must be 1-{MAX_API_KEY} visible ASCII characters")
    if platform is Platform.ONELINK and carrier != "CMCC":
        raise RuleViolation("OneLink is China Mobile's platform: carrier must be CMCC", code="platform_mismatch")
    return NewAccount(carrier, platform, base_url, username, api_key)


# --- what we keep of the carrier's view, and the operations we send it ---------------------------------
@dataclass(frozen=True)
class SimRecord:
    """What we keep of the carrier's view of one SIM (the stored carrier SIM record, as data)."""

    sn: str
    iccid: str
    account_id: str | None = None
    status: str | None = None
    state: SimState | None = None
    rate_plan: str | None = None
    bytes_used: int | None = None
    usage_as_of: datetime | None = None
    synced_at: datetime | None = None
    drift: str | None = None
    pending: str | None = None
    last_error: str | None = None

    def same_reading(self, other: SimRecord | None) -> bool:
        if other is None:
            return False
        fields = ("iccid", "account_id", "status", "state", "rate_plan", "bytes_used", "drift", "pending", "last_error")
        return all(getattr(self, f) == getattr(other, f) for f in fields)


def op_id(sn: str, version: int, action: str) -> str:
    """The id the API shows for an operation (decodable: no index needed to find it)."""
    return f"cop_{version}_{action}_{sn}"


@dataclass(frozen=True)
class CarrierOp:
    """One carrier operation (suspend | resume) as read: an outbox item written with the status
    change it carries out. `pk`/`sk` name it for the dispatcher; `lease_owner` is the runner
    holding it (the outcome of a run is written only while that lease holds)."""

    pk: str
    sk: str
    tenant_id: str
    sn: str
    iccid: str
    carrier: str
    action: str
    terminal_version: int
    state: str  # pending | done | failed | manual | superseded | dropped
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    outcome: str | None = None
    created_at: datetime | None = None
    done_at: datetime | None = None
    lease_owner: str | None = None

    def to_json(self) -> dict[str, Any]:
        pending = self.next_attempt_at is not None and self.state == "pending"
        return {
            "op_id": op_id(self.sn, self.terminal_version, self.action),
            "sn": self.sn,
            "action": self.action,
            "state": self.state,
            "outcome": self.outcome,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": _iso(self.next_attempt_at) if pending else None,
            "created_at": _iso(self.created_at),
            "done_at": _iso(self.done_at),
        }


def _iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


# Statuses whose SIM has service at the carrier (a terminal in grace still works).
SERVICE_STATUSES = frozenset({TerminalStatus.ACTIVE, TerminalStatus.GRACE})


def resumes(current: Terminal, updated: Terminal, *, stopped_at_carrier: bool = False) -> bool:
    """Whether the change from `current` to `updated` gives a stopped SIM its service back: a paid
    renewal, a voucher, a time transfer (转赠) to a suspended terminal, the reactivation of a
    deactivated one whose SIM was stopped (`stopped_at_carrier`). The change then writes the
    carrier resume in its own transaction."""
    stopped = current.status is TerminalStatus.SUSPENDED or (
        stopped_at_carrier and current.status is TerminalStatus.DEACTIVATED
    )
    return stopped and updated.status in SERVICE_STATUSES
