"""The service tier: the services built on the in-memory fakes (tests/support/fakes), no moto, no
DynamoDB Local, no network. Every socket connection is refused for the whole session, so a
service that still reaches a real client (boto3, PynamoDB, Stripe) fails here instead of
passing against something it should not touch."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from simrenew.adapters.dynamodb.carrier_store import CarrierStore
from simrenew.bootstrap import order_service
from simrenew.clock import FixedClock, today_in
from simrenew.domain.fleet import Plan, Terminal
from simrenew.domain.tenant import Tenant, TenantSettings, TenantStatus
from simrenew.ids import new_id
from simrenew.services.fleet import FleetService
from simrenew.services.tenants import TenantService
from simrenew.services.transfers import TransferService
from simrenew.services.vouchers import VoucherService
from tests.support.fakes.api_keys import FakeApiKeyRepository
from tests.support.fakes.carrier import FakeCarrierRepository
from tests.support.fakes.checkout import FakeCheckoutStore
from tests.support.fakes.fleet import FakeMerchantRepository, FakePlanRepository, FakeTerminalRepository
from tests.support.fakes.fleet_store import FakeFleetTerminalStore
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.payments import WEBHOOK_SECRET, FakeGateway
from tests.support.fakes.ratelimit import FakeRateLimiter
from tests.support.fakes.table import FakeTable
from tests.support.fakes.tenants import FakeTenantRepository
from tests.support.fakes.transfers import FakeTimeTransferRepository
from tests.support.fakes.vouchers import FakeVoucherRepository
from tests.support.fleet import iccid, terminal_body

NOON_SHANGHAI = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


class NetworkRefused(RuntimeError):
    """The service tier opened a connection: something is not faked."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per test (a session-wide patch would outlive this directory in a `pytest tests` run)."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise NetworkRefused("the service tier never opens a connection (a real adapter was used)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # boto3 / PynamoDB need credentials before they dial: none, so a real client cannot sign either.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class World:
    """One platform in memory: the table, the repositories on it, the services on them."""

    clock: FixedClock
    table: FakeTable = field(default_factory=FakeTable)
    gateway: FakeGateway = field(default_factory=lambda: FakeGateway(WEBHOOK_SECRET))

    def __post_init__(self) -> None:
        t = self.table
        self.tenants = FakeTenantRepository(t)
        self.merchants = FakeMerchantRepository(t)
        self.plans = FakePlanRepository(t)
        self.terminals = FakeTerminalRepository(t)
        self.rate = FakeRateLimiter(t)
        self.orders_repo = FakeOrderRepository(t)
        self.vouchers_repo = FakeVoucherRepository(t)
        self.transfers_repo = FakeTimeTransferRepository(t)
        self.carrier = FakeCarrierRepository(t)
        self.carrier_store = CarrierStore(self.carrier)
        self.fleet_terminals = FakeFleetTerminalStore(t)
        self.api_keys = FakeApiKeyRepository(t)
        self.pay_page = FakeCheckoutStore(t, self.terminals, self.orders_repo, self.rate)
        self.onboarding = TenantService(self.tenants, self.api_keys, self.rate, self.clock)
        self.fleet = FleetService(
            self.tenants, self.merchants, self.plans, self.fleet_terminals, self.rate, self.clock, self.carrier_store
        )
        self.orders = order_service(
            self.tenants,
            self.terminals,
            self.plans,
            self.merchants,
            self.orders_repo,
            self.gateway,
            self.rate,
            self.clock,
            pay_page=self.pay_page,
        )
        self.vouchers = VoucherService(
            self.vouchers_repo, self.plans, self.terminals, self.orders, self.rate, self.clock
        )
        self.transfers = TransferService(self.tenants, self.terminals, self.transfers_repo, self.clock)

    # --- set-up in the agents' own words -----------------------------------------------------------------
    def agent(self, **settings: Any) -> str:
        tenant_id = new_id("t")
        tenant = Tenant(
            tenant_id=tenant_id,
            name=f"测试代理商 {tenant_id[-4:]}",
            contact_name="李四",
            contact_email=f"{tenant_id}@example.com",
            contact_phone="+8613912345678",
            status=TenantStatus.ACTIVE,
            settings=TenantSettings(**settings),
            created_at="",
        )
        self.tenants.create(tenant, self.clock.now())
        return tenant_id

    def plan(self, tenant_id: str, *, months: int = 12, price_fen: int = 12_000, name: str | None = None) -> Plan:
        body = {"name": name or f"{months} 个月 {price_fen}", "term_months": months, "data_quota_mb": 1024}
        return self.fleet.create_plan(tenant_id, {**body, "price_fen": price_fen})

    def terminal(self, tenant_id: str, *, expires_on: date | None = None, **overrides: Any) -> Terminal:
        n = next(_SEQ)  # the world's own identifiers: the same in every run
        expires = expires_on or self.today(tenant_id) + timedelta(days=90)
        body = terminal_body(
            sn=f"SVC-{n:08d}", tid=f"{n % 10**8:08d}", iccid=iccid(n=n), expires_on=expires.isoformat()
        )
        if "merchant_id" not in overrides:
            body["merchant_id"] = self.merchant(tenant_id)
        body.update(overrides)
        return self.fleet.register(tenant_id, body)

    def merchant(self, tenant_id: str) -> str:
        n = next(_SEQ)
        return self.fleet.create_merchant(
            tenant_id, {"name": f"商户 {n}", "phone": f"+86139{n % 10**8:08d}"}
        ).merchant_id

    def today(self, tenant_id: str) -> date:
        tenant = self.tenants.get(tenant_id)
        assert tenant is not None
        return today_in(self.clock, tenant.settings.timezone)

    def expiry(self, tenant_id: str, sn: str) -> date:
        terminal = self.terminals.get(tenant_id, sn)
        assert terminal is not None
        return terminal.expires_on


_SEQ = iter(range(10_000_000, 99_999_999, 7))


@pytest.fixture
def world() -> World:
    return World(FixedClock(NOON_SHANGHAI))
