"""Each fake held against its port (simrenew.ports): `make typecheck` checks this module, so a
fake whose methods drift from the Protocol the services depend on fails the build."""

from __future__ import annotations

from simrenew.adapters.dynamodb.models import OrderItem, TerminalItem, VoucherItem
from simrenew.ports.api_keys import ApiKeys
from simrenew.ports.carrier import CarrierPlatform
from simrenew.ports.carrier_store import CarrierKeys, CarrierStore, CarrierTerminals, Platforms
from simrenew.ports.fleet import Merchants, Plans, Terminals
from simrenew.ports.fleet_store import FleetTerminals
from simrenew.ports.orders import Ledger, Orders, StoredOrders
from simrenew.ports.payments import PaymentGateway
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.tenants import Tenants
from simrenew.ports.transfers import StoredTerminals, TimeTransfers
from simrenew.ports.vouchers import Vouchers
from tests.support.fakes.api_keys import FakeApiKeyRepository
from tests.support.fakes.carrier_store import (
    FakeCarrierKeys,
    FakeCarrierPlatform,
    FakePlatforms,
    fake_carrier_store,
    fake_carrier_terminals,
)
from tests.support.fakes.fleet import FakeMerchantRepository, FakePlanRepository, FakeTerminalRepository
from tests.support.fakes.fleet_store import FakeFleetTerminalStore
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.payments import WEBHOOK_SECRET, FakeGateway
from tests.support.fakes.ratelimit import FakeRateLimiter
from tests.support.fakes.table import FakeTable
from tests.support.fakes.tenants import FakeTenantRepository
from tests.support.fakes.transfers import FakeTimeTransferRepository
from tests.support.fakes.vouchers import FakeVoucherRepository


def conforming(table: FakeTable) -> tuple[object, ...]:
    """Every fake, typed as its port (an assignment mypy checks member by member)."""
    tenants: Tenants = FakeTenantRepository(table)
    api_keys: ApiKeys = FakeApiKeyRepository(table)
    merchants: Merchants = FakeMerchantRepository(table)
    plans: Plans = FakePlanRepository(table)
    terminals: Terminals = FakeTerminalRepository(table)
    orders: Orders = FakeOrderRepository(table)
    vouchers: Vouchers[VoucherItem, TerminalItem] = FakeVoucherRepository(table)
    stored_terminals: StoredTerminals[TerminalItem] = FakeTerminalRepository(table)
    stored_orders: StoredOrders[OrderItem] = FakeOrderRepository(table)
    ledger: Ledger = FakeOrderRepository(table)
    transfers: TimeTransfers[TerminalItem] = FakeTimeTransferRepository(table)
    rate: RateLimits = FakeRateLimiter(table)
    gateway: PaymentGateway = FakeGateway(WEBHOOK_SECRET)
    # --- carrier (services/carrier.py) ---
    carrier_store: CarrierStore = fake_carrier_store(table)
    carrier_terminals: CarrierTerminals[TerminalItem] = fake_carrier_terminals(table)
    carrier_keys: CarrierKeys = FakeCarrierKeys()
    carrier_platform: CarrierPlatform = FakeCarrierPlatform()
    platforms: Platforms = FakePlatforms(FakeCarrierKeys())
    # --- fleet (services/fleet.py) ---
    fleet_terminals: FleetTerminals[TerminalItem] = FakeFleetTerminalStore(table)
    return (
        tenants,
        api_keys,
        merchants,
        plans,
        terminals,
        orders,
        vouchers,
        stored_terminals,
        stored_orders,
        ledger,
        transfers,
        rate,
        gateway,
        carrier_store,
        carrier_terminals,
        carrier_keys,
        carrier_platform,
        platforms,
        fleet_terminals,
    )
