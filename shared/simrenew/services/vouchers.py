"""Voucher batches (充值卡) for an agent's plan, and their one-time redemption by merchants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from simrenew.clock import Clock, iso_utc, today_in
from simrenew.domain.fleet import Plan, TerminalStatus
from simrenew.domain.orders import renewed_terminal
from simrenew.domain.tenant import Tenant
from simrenew.domain.vouchers import MAX_BATCH, code_hash, generate_code, normalize_code
from simrenew.errors import NotFound, RuleViolation, TransientStoreError, ValidationError
from simrenew.ids import new_id
from simrenew.ports.fleet import Plans
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.transfers import LedgerLine, StoredTerminals
from simrenew.ports.vouchers import Voucher, Vouchers
from simrenew.services.carrier import resumes
from simrenew.services.orders import OrderService

V = TypeVar("V")  # a voucher as the store holds it
T = TypeVar("T")  # a terminal as the store holds it

WRONG_CODES_PER_HOUR_PER_CLIENT = 10
WRONG_CODES_PER_HOUR_PER_SN = 5  # per client and terminal


@dataclass(eq=False, repr=False)
class VoucherService(Generic[V, T]):
    _vouchers: Vouchers[V, T]
    _plans: Plans
    _terminals: StoredTerminals[T]
    _orders: OrderService
    _rate: RateLimits
    _clock: Clock

    def create_batch(self, tenant_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        plan_id, count = body.get("plan_id"), body.get("count")
        if not isinstance(plan_id, str) or not plan_id:
            raise ValidationError("plan_id", "required", "plan_id is required")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
            raise ValidationError("count", "out_of_range", f"count must be 1 to {MAX_BATCH}")
        plan = self._plans.get(tenant_id, plan_id)
        if plan is None or not plan.active:
            raise ValidationError("plan_id", "unknown_plan", "plan_id is not an active plan of yours")
        codes = [generate_code() for _ in range(count)]
        batch_id = new_id("vb")
        now = self._clock.now()
        self._vouchers.create_batch(
            tenant_id, batch_id, plan_id, [code_hash(c.replace("-", "")) for c in codes], actor, now
        )
        return {"batch_id": batch_id, "plan_id": plan_id, "count": count, "codes": codes, "created_at": iso_utc(now)}

    def batches(self, tenant_id: str) -> list[dict[str, Any]]:
        return [
            {
                "batch_id": b.batch_id,
                "plan_id": b.plan_id,
                "count": b.size,
                "redeemed": b.redeemed,
                "voided": b.voided,
                "available": b.size - b.redeemed - b.voided,
                "created_at": iso_utc(b.created_at) if b.created_at else None,
            }
            for b in self._vouchers.batch_list(tenant_id)
        ]

    def void(self, tenant_id: str, batch_id: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        """Void one code of a batch (lost, sold by mistake): it can never be redeemed. The code
        travels in the body, not the path, so it is not written to access logs."""
        if not self._vouchers.has_batch(tenant_id, batch_id):
            raise NotFound("no such voucher batch", code="voucher_batch_not_found")
        code = normalize_code(body.get("code"))
        found = self._vouchers.voucher(code_hash(code))
        if found is None or found[1].tenant_id != tenant_id or found[1].batch_id != batch_id:
            raise ValidationError("code", "unknown_code", "this code is not one of this batch")
        stored, voucher = found
        if voucher.redeemed:
            raise RuleViolation(
                f"this code was redeemed for {voucher.redeemed_sn} and cannot be voided", code="voucher_redeemed"
            )
        if not voucher.voided and not self._vouchers.void(stored, actor, self._clock.now()):
            fresh = self._vouchers.voucher(code_hash(code))
            if fresh is not None and fresh[1].redeemed:
                raise RuleViolation("this code was redeemed meanwhile", code="voucher_redeemed")
        batch = next(b for b in self.batches(tenant_id) if b["batch_id"] == batch_id)
        return {"batch_id": batch_id, "code_status": "voided", "batch": batch}

    def redeem(self, body: dict[str, Any], client_id: str) -> dict[str, Any]:
        if not isinstance(body.get("sn"), str) or not body["sn"].strip():
            raise ValidationError("sn", "required", "sn is required")
        tenant, terminal = self._orders.find_public(body["sn"])
        now = self._clock.now()
        invalid = RuleViolation("this voucher code is not valid for this terminal", code="invalid_voucher")

        # Wrong codes are counted per client and per (client, terminal). Once a limit is reached
        # the code path is closed for that client (and terminal) until the window passes, correct
        # codes included, so guessing cannot go on "until one works"; another merchant (another
        # client) is never locked out by it.
        pair = f"{client_id}#{terminal.sn}"
        self._rate.check("voucher-client", client_id, limit=WRONG_CODES_PER_HOUR_PER_CLIENT, window_s=3600, now=now)
        self._rate.check("voucher-pair", pair, limit=WRONG_CODES_PER_HOUR_PER_SN, window_s=3600, now=now)

        def wrong() -> RuleViolation:
            self._rate.hit("voucher-client", client_id, limit=WRONG_CODES_PER_HOUR_PER_CLIENT, window_s=3600, now=now)
            self._rate.hit("voucher-pair", pair, limit=WRONG_CODES_PER_HOUR_PER_SN, window_s=3600, now=now)
            return invalid

        try:
            code = normalize_code(body.get("code"))
        except ValidationError as err:
            wrong()
            raise err from None
        found = self._vouchers.voucher(code_hash(code))
        if found is None or found[1].tenant_id != tenant.tenant_id or found[1].redeemed or found[1].voided:
            raise wrong()
        stored, voucher = found
        plan = self._plans.get(tenant.tenant_id, voucher.plan_id)
        if plan is None:
            raise wrong()
        if terminal.status is TerminalStatus.DEACTIVATED:
            raise RuleViolation("this terminal is deactivated and cannot be renewed", code="terminal_deactivated")
        outcome, expires_on = self._apply(tenant, terminal.sn, (stored, voucher), plan, now)
        if outcome == "used":
            raise wrong()
        if outcome == "gone":
            raise invalid
        return {"status": "fulfilled", "sn": terminal.sn, "expires_on": expires_on, "plan_name": plan.name}

    def _apply(self, tenant: Tenant, sn: str, found: tuple[V, Voucher], plan: Plan, now: datetime) -> tuple[str, str]:
        """Extend the terminal by the voucher's plan and spend the code in one transaction, reloading
        when a concurrent renewal changed the terminal: ("ok", new expiry), ("used", "") or ("gone", "")."""
        stored_voucher, voucher = found
        for _attempt in range(8):
            read = self._terminals.stored(tenant.tenant_id, sn)
            if read is None:
                return "gone", ""
            item, current = read
            today = today_in(self._clock, tenant.settings.timezone)
            updated = renewed_terminal(current, today, plan, tenant.settings.renewal_basis)
            new = updated.expires_on
            line = LedgerLine(
                updated,
                "renewal",
                # The code's own id (a prefix of its hash) keeps two codes of one batch on one
                # terminal in the same second apart in the ledger.
                f"voucher:{voucher.batch_id}:{voucher.code_id}",
                0,
                current.expires_on.isoformat(),
                new.isoformat(),
                0,
                plan.term_months,
            )
            # A suspended SIM's service back at the carrier: an outbox item in the same transaction.
            resume = current if resumes(current, updated) else None
            outcome = self._vouchers.redeem_renewal(stored_voucher, item, updated, line, resume, now)
            if outcome == "ok":
                return "ok", new.isoformat()
            if outcome == "used":
                return "used", ""
        raise TransientStoreError("the terminal kept changing; try again")
