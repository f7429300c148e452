"""Fleet onboarding: merchants, plans, terminals (register, list, change, deactivate, usage)
and moving a terminal between agents with a single-use transfer code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.carrier import SERVICE_STATUSES, resumes
from simrenew.domain.dates import parse_date
from simrenew.domain.fleet import (
    LIST_STATUSES,
    ExpiryWindow,
    Merchant,
    Plan,
    Terminal,
    TerminalStatus,
    expiring_window,
    initial_status,
    merchant_fields,
    plan_fields,
    quota_crossings,
    status_after_assignment,
    terminal_fields,
    terminal_patch,
    usage_fields,
)
from simrenew.domain.identifiers import normalize_sn
from simrenew.domain.orders import MAX_ORDER_FEN
from simrenew.domain.tenant import Role, Tenant
from simrenew.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationError
from simrenew.ids import new_id
from simrenew.ports.carrier_store import CarrierStore
from simrenew.ports.fleet import Merchants, Plans
from simrenew.ports.fleet_store import Adjustment, FleetTerminals
from simrenew.ports.paging import Page
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.tenants import Tenants
from simrenew.services.carrier import stopped_at_carrier
from simrenew.services.lookups import tenant_or_404

TRANSFER_TTL = timedelta(hours=72)
# Unambiguous: no 0/O, 1/I/L.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
WRONG_TRANSFER_CODES_PER_HOUR = 10
MAX_TRANSFER_HISTORY = 47  # items of a terminal's history one transaction can move with it


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


@dataclass(eq=False, repr=False)
class FleetService:
    _tenants: Tenants
    merchants: Merchants
    plans: Plans
    terminals: FleetTerminals[Any]  # the stored terminal is opaque here: handed back to the store
    _rate: RateLimits
    _clock: Clock
    _carrier: CarrierStore  # what the carrier said of a SIM (a reactivation may resume it)

    def tenant(self, tenant_id: str) -> Tenant:
        return tenant_or_404(self._tenants, tenant_id, "no such tenant")

    def today(self, tenant: Tenant) -> date:
        return today_in(self._clock, tenant.settings.timezone)

    # --- merchants -------------------------------------------------------------------------------
    def create_merchant(self, tenant_id: str, body: dict[str, Any]) -> Merchant:
        fields = merchant_fields(body, partial=False)
        now = self._clock.now()
        merchant = Merchant(merchant_id=new_id("m"), tenant_id=tenant_id, created_at=iso_utc(now), **fields)
        self.merchants.create(merchant, now)
        return merchant

    def get_merchant(self, tenant_id: str, merchant_id: str) -> Merchant:
        merchant = self.merchants.get(tenant_id, merchant_id)
        if merchant is None:
            raise NotFound("no such merchant", code="merchant_not_found")
        return merchant

    def list_merchants(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Merchant]:
        return self.merchants.page(tenant_id, limit, cursor)

    def update_merchant(self, tenant_id: str, merchant_id: str, body: dict[str, Any]) -> Merchant:
        changes = merchant_fields(body, partial=True)
        return self.merchants.update(tenant_id, merchant_id, changes, self._clock.now())

    # --- plans -----------------------------------------------------------------------------------
    def create_plan(self, tenant_id: str, body: dict[str, Any]) -> Plan:
        fields = plan_fields(body, partial=False)
        self._fits_order_limit(tenant_id, fields["price_fen"])
        now = self._clock.now()
        plan = Plan(plan_id=new_id("p"), tenant_id=tenant_id, created_at=iso_utc(now), **fields)
        self.plans.create(plan, now)
        return plan

    def list_plans(self, tenant_id: str) -> list[Plan]:
        return sorted(self.plans.all(tenant_id), key=lambda p: (not p.active, p.term_months, p.price_fen))

    def update_plan(self, tenant_id: str, plan_id: str, body: dict[str, Any]) -> Plan:
        changes = plan_fields(body, partial=True)
        if "price_fen" in changes:
            self._fits_order_limit(tenant_id, changes["price_fen"])
        return self.plans.update(tenant_id, plan_id, changes, self._clock.now())

    def _fits_order_limit(self, tenant_id: str, price_fen: int) -> None:
        """A plan whose price plus the agent's fee exceeds the order limit could be offered but
        never bought (every order of it is refused 422): refused here, naming price_fen."""
        fee = self.tenant(tenant_id).settings.service_fee.fee_fen(price_fen)
        if price_fen + fee > MAX_ORDER_FEN:
            raise ValidationError(
                "price_fen",
                "over_order_limit",
                f"price_fen plus the service fee ({fee} fen) must be at most {MAX_ORDER_FEN} fen, the order limit",
            )

    # --- terminals -------------------------------------------------------------------------------
    def _check_refs(self, tenant_id: str, merchant_id: str | None, plan_id: str | None) -> None:
        # Merchants and plans are never deleted, so checking before the write is safe.
        if merchant_id and self.merchants.get(tenant_id, merchant_id) is None:
            raise ValidationError("merchant_id", "unknown_merchant", "merchant_id is not one of your merchants")
        if plan_id and self.plans.get(tenant_id, plan_id) is None:
            raise ValidationError("plan_id", "unknown_plan", "plan_id is not one of your plans")

    def register(self, tenant_id: str, body: dict[str, Any]) -> Terminal:
        fields = terminal_fields(body)
        tenant = self.tenant(tenant_id)
        self._check_refs(tenant_id, fields["merchant_id"], fields["plan_id"])
        now = self._clock.now()
        status = initial_status(
            fields["merchant_id"], fields["expires_on"], self.today(tenant), tenant.settings.grace_days
        )
        terminal = Terminal(
            tenant_id=tenant_id, status=status, created_at=iso_utc(now), updated_at=iso_utc(now), **fields
        )
        self.terminals.register(terminal, now)
        return terminal

    def get(self, tenant_id: str, sn: str) -> Terminal:
        return self.terminals.existing(tenant_id, sn)

    @staticmethod
    def _sn(raw: str) -> str:
        try:
            return normalize_sn(raw)
        except ValidationError:
            # A path that cannot be an SN names no terminal: 404, like any unknown one.
            raise NotFound("no such terminal", code="terminal_not_found") from None

    def list_terminals(self, tenant_id: str, query: dict[str, str], limit: int, cursor: str | None) -> Page[Terminal]:
        tenant = self.tenant(tenant_id)
        q = query.get("q", "").strip()
        if q:
            if len(q) > 32:
                raise ValidationError("q", "too_long", "q is at most 32 characters")
            return Page(self.terminals.search(tenant_id, q, limit), None)
        status = query.get("status") or None
        if status is not None and status not in LIST_STATUSES:
            raise ValidationError("status", "invalid_choice", f"status must be one of {', '.join(LIST_STATUSES)}")
        expires_before = parse_date(query["expires_before"], "expires_before") if query.get("expires_before") else None
        span: ExpiryWindow = {"status": status, "expires_from": None, "expires_before": expires_before}
        if status == "expiring":
            span = expiring_window(self.today(tenant), self.expiring_window(tenant), expires_before)
        merchant_id = query.get("merchant_id") or None
        return self.terminals.page(tenant_id, limit=limit, cursor=cursor, merchant_id=merchant_id, **span)

    @staticmethod
    def expiring_window(tenant: Tenant) -> int:
        return max(tenant.settings.reminder_days, default=30)

    def update(
        self, tenant_id: str, sn: str, body: dict[str, Any], *, actor: str = "", role: Role = Role.ADMIN
    ) -> Terminal:
        """PATCH a terminal. Moving `expires_on` is a change of money and time: it needs an
        admin key and a `reason`, and writes an `adjustment` ledger line with who and why."""
        body = dict(body)
        reason = body.pop("reason", None)
        item, current = self._stored(tenant_id, sn)
        if current.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation("a deactivated terminal cannot be changed", code="terminal_deactivated")
        if reason is not None and (not isinstance(reason, str) or not reason.strip() or len(reason) > 500):
            raise ValidationError("reason", "invalid", "reason is a text of 1 to 500 characters")
        if not body and reason is not None:
            raise ValidationError("body", "empty_patch", "nothing to change")
        changes = terminal_patch(body, current)
        if "expires_on" in changes:
            if role < Role.ADMIN:
                raise PermissionDenied("changing expires_on by hand needs an admin key", code="admin_required")
            if reason is None:
                raise ValidationError("reason", "required", "say why expires_on changes (reason); it is in the ledger")
        if not changes:
            return current
        self._check_refs(tenant_id, changes.get("merchant_id"), changes.get("plan_id"))
        return self.apply_changes(item, current, changes, self._clock.now(), actor=actor, note=reason)

    def apply_changes(
        self,
        item: Any,
        current: Terminal,
        changes: dict[str, Any],
        now: Any,
        *,
        actor: str = "",
        note: str | None = None,
    ) -> Terminal:
        """Save validated changes (API PATCH or an import row): stock ↔ active follows the
        merchant, a new TID or ICCID moves its claim, and a moved expiry writes an
        `adjustment` ledger line (who and why), all in the same transaction."""
        if current.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation("a deactivated terminal cannot be changed", code="terminal_deactivated")
        updated = replace(current, **changes)
        updated = replace(updated, status=status_after_assignment(updated.status, updated.merchant_id))
        moved: dict[str, tuple[str, str]] = {
            name: (getattr(current, name), changes[name]) for name in ("tid", "iccid") if name in changes
        }
        adjustment = None
        if "expires_on" in changes and changes["expires_on"] != current.expires_on:
            adjustment = Adjustment(
                f"manual:{new_id('adj')}",
                current.expires_on.isoformat(),
                actor=actor or None,
                note=note.strip() if note else None,
            )
        return self.terminals.save_change(item, updated, now, moved, adjustment=adjustment)

    def _stored(self, tenant_id: str, sn: str) -> tuple[Any, Terminal]:
        found = self.terminals.stored(tenant_id, self._sn(sn))
        if found is None:
            raise NotFound("no such terminal", code="terminal_not_found")
        return found

    def deactivate(self, tenant_id: str, sn: str) -> Terminal:
        item, current = self._stored(tenant_id, sn)
        if current.status is TerminalStatus.DEACTIVATED:
            return current
        deactivated = replace(current, status=TerminalStatus.DEACTIVATED)
        return self.terminals.save_change(item, deactivated, self._clock.now(), {})

    def reactivate(self, tenant_id: str, sn: str) -> Terminal:
        """Undo a deactivation. The terminal takes the status its merchant and expiry give it, as
        at registration (docs/domain.md's lifecycle): no merchant → inventory; expiry today or later →
        active; within grace_days after it → grace; later → suspended (a paid renewal reactivates
        the SIM). The sweep watches it again from here; reminders already sent are not repeated."""
        item, current = self._stored(tenant_id, sn)
        if current.status is not TerminalStatus.DEACTIVATED:
            raise RuleViolation(
                f"the terminal is {current.status.value}, not deactivated", code="terminal_not_deactivated"
            )
        tenant = self.tenant(tenant_id)
        status = initial_status(current.merchant_id, current.expires_on, self.today(tenant), tenant.settings.grace_days)
        updated, now = replace(current, status=status), self._clock.now()
        # A SIM stopped while the terminal was suspended gets its service back at the carrier when
        # the terminal comes back with service: the carrier operation is written with the change.
        stopped = status in SERVICE_STATUSES and stopped_at_carrier(self._carrier, tenant_id, current.sn)
        resume = current if resumes(current, updated, stopped_at_carrier=stopped) else None
        return self.terminals.save_change(item, updated, now, {}, resume=resume)

    def record_usage(self, tenant_id: str, sn: str, body: dict[str, Any]) -> tuple[Terminal, list[str]]:
        """Apply a usage reading; returns the terminal and the quota alerts it raised."""
        used, as_of = usage_fields(body)
        item, current = self._stored(tenant_id, sn)
        if current.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation("a deactivated terminal takes no usage", code="terminal_deactivated")
        if current.usage_as_of and as_of.isoformat() < current.usage_as_of:
            return current, []  # an older reading arriving late changes nothing
        crossings = quota_crossings(current.data_quota_mb, current.data_used_mb, used)
        events = [
            (f"quota_{pct}", {"percent": pct, "data_used_mb": used, "data_quota_mb": current.data_quota_mb})
            for pct in crossings
        ]
        updated = replace(current, data_used_mb=used, usage_as_of=as_of.isoformat())
        saved = self.terminals.record_usage(item, updated, events, self._clock.now())
        return saved, [name for name, _ in events]

    # --- transfer between agents -------------------------------------------------------------------
    def issue_transfer_code(self, tenant_id: str, sn: str) -> tuple[str, str]:
        terminal = self.get(tenant_id, sn)
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        now = self._clock.now()
        expires_at = now + TRANSFER_TTL
        self.terminals.put_transfer_code(tenant_id, terminal.sn, _hash_code(code), expires_at, now)
        return code, iso_utc(expires_at)

    def claim(self, tenant_id: str, body: dict[str, Any]) -> Terminal:
        if not isinstance(body.get("sn"), str) or not body["sn"].strip():
            raise ValidationError("sn", "required", "sn is required")
        if not isinstance(body.get("code"), str) or not body["code"].strip():
            raise ValidationError("code", "required", "code is required")
        sn = normalize_sn(body["sn"])
        now = self._clock.now()
        invalid = RuleViolation("this transfer code is not valid for this terminal", code="invalid_transfer_code")
        # Per claiming agent and terminal: after the limit of wrong codes the path is closed,
        # correct codes included, until the window passes; other agents are not affected.
        pair = f"{tenant_id}#{sn}"
        self._rate.check("transfer-code", pair, limit=WRONG_TRANSFER_CODES_PER_HOUR, window_s=3600, now=now)
        holder = self.terminals.holder("sn", sn)
        if holder is not None and holder == tenant_id:
            raise Conflict("this terminal is already yours", code="already_yours", field="sn")
        code_item = self.terminals.transfer_code_of(holder, sn) if holder else None
        if (
            holder is None
            or code_item is None
            or not hmac.compare_digest(code_item.code_hash, _hash_code(body["code"].strip()))
            or code_item.used
            or code_item.expires_at <= now
        ):
            # Counted only on failure, so honest users are never slowed down.
            self._rate.hit("transfer-code", pair, limit=WRONG_TRANSFER_CODES_PER_HOUR, window_s=3600, now=now)
            raise invalid
        found = self.terminals.stored(holder, sn)
        if found is None:
            raise invalid
        item, current = found
        # Merchants and plans belong to the old agent: the new one assigns its own.
        moved = replace(
            current,
            tenant_id=tenant_id,
            merchant_id=None,
            plan_id=None,
            status=status_after_assignment(current.status, None),
        )
        if not self.terminals.move_to(item, moved, code_item, now, max_history=MAX_TRANSFER_HISTORY):
            raise RuleViolation("this terminal's history is too long to move in one step", code="transfer_too_large")
        return moved
