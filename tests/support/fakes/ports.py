"""Each fake held against its port (simrenew.ports): `make typecheck` checks this module, so a
fake whose methods drift from the Protocol the services depend on fails the build."""

from __future__ import annotations

from simrenew.adapters.dynamodb.models import ImportItem, OrderItem, TerminalEventItem, TerminalItem, VoucherItem
from simrenew.adapters.dynamodb.orders import PaymentContext
from simrenew.adapters.dynamodb.outbox import OutboxItem
from simrenew.adapters.dynamodb.webhooks import WebhookDeliveryItem, WebhookEndpointItem
from simrenew.ports.api_keys import ApiKeys
from simrenew.ports.carrier import CarrierPlatform
from simrenew.ports.carrier_store import CarrierKeys, CarrierStore, CarrierTerminals, Platforms
from simrenew.ports.checkout import CheckoutOrders, CheckoutStore, TenantContexts
from simrenew.ports.fleet import Merchants, Plans, Terminals
from simrenew.ports.fleet_store import FleetTerminals
from simrenew.ports.fulfilment import PaymentStore, StoredTerminalBatch
from simrenew.ports.imports import ImportStore, ImportTerminals
from simrenew.ports.orders import Ledger, Orders, StoredOrders
from simrenew.ports.outbox import OutboxStore
from simrenew.ports.payment_events import PaymentEvents
from simrenew.ports.payments import PaymentGateway
from simrenew.ports.ratelimit import RateLimits
from simrenew.ports.reports import Redemptions, ReportOrders
from simrenew.ports.sweep_store import SweepStore
from simrenew.ports.sweeps import SweepDays
from simrenew.ports.tenants import Tenants
from simrenew.ports.transfers import StoredTerminals, TimeTransfers
from simrenew.ports.vouchers import Vouchers
from simrenew.ports.webhooks import WebhookStore
from tests.support.fakes.api_keys import FakeApiKeyRepository
from tests.support.fakes.carrier_store import (
    FakeCarrierKeys,
    FakeCarrierPlatform,
    FakePlatforms,
    fake_carrier_store,
    fake_carrier_terminals,
)
from tests.support.fakes.checkout import FakeCheckoutStore, FakeTenantContexts
from tests.support.fakes.fleet import FakeMerchantRepository, FakePlanRepository, FakeTerminalRepository
from tests.support.fakes.fleet_store import FakeFleetTerminalStore
from tests.support.fakes.imports import FakeImportRepository
from tests.support.fakes.orders import FakeOrderRepository
from tests.support.fakes.outbox import FakeOutboxRepository
from tests.support.fakes.payment_events import fake_payment_events
from tests.support.fakes.payments import WEBHOOK_SECRET, FakeGateway
from tests.support.fakes.ratelimit import FakeRateLimiter
from tests.support.fakes.reports import FakeReportOrders, fake_redemptions
from tests.support.fakes.sweep import FakeSweepDays, fake_sweep_store
from tests.support.fakes.table import FakeTable
from tests.support.fakes.tenants import FakeTenantRepository
from tests.support.fakes.transfers import FakeTimeTransferRepository
from tests.support.fakes.vouchers import FakeVoucherRepository
from tests.support.fakes.webhooks import FakeWebhookRepository


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
    # checkout (the pay page)
    checkout_orders: CheckoutOrders[OrderItem] = FakeOrderRepository(table)
    pay_page: CheckoutStore[OrderItem] = FakeCheckoutStore(
        table, FakeTerminalRepository(table), FakeOrderRepository(table), FakeRateLimiter(table)
    )
    contexts: TenantContexts = FakeTenantContexts(table)
    # io (imports, exports, outbox, webhooks)
    outbox: OutboxStore[OutboxItem, TerminalEventItem] = FakeOutboxRepository(table)
    webhooks: WebhookStore[WebhookEndpointItem, WebhookDeliveryItem] = FakeWebhookRepository(table)
    imports: ImportStore[ImportItem, TerminalItem] = FakeImportRepository(table)
    import_terminals: ImportTerminals[TerminalItem] = FakeTerminalRepository(table)
    # payment events (Stripe events, the direct rails' notifications): the real adapter over the fake repository
    payment_events: PaymentEvents[OrderItem, PaymentContext] = fake_payment_events(table)
    # reports (revenue, settlement, reconciliation)
    report_orders: ReportOrders = FakeReportOrders(table)
    redemptions: Redemptions = fake_redemptions(table)
    # fulfilment and refunds (ports/fulfilment.py): the order store and the terminals it reads
    payments: PaymentStore[OrderItem, TerminalItem, PaymentContext] = FakeOrderRepository(table)
    terminal_batch: StoredTerminalBatch[TerminalItem] = FakeTerminalRepository(table)
    # sweep (services/sweep.py)
    sweep_store: SweepStore = fake_sweep_store(table)
    sweep_days: SweepDays = FakeSweepDays()
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
        checkout_orders,
        pay_page,
        contexts,
        outbox,  # io
        webhooks,  # io
        imports,  # io
        import_terminals,  # io
        payment_events,
        report_orders,
        redemptions,
        payments,
        terminal_batch,
        sweep_store,
        sweep_days,
        carrier_store,
        carrier_terminals,
        carrier_keys,
        carrier_platform,
        platforms,
        fleet_terminals,
    )


def conforming_files() -> tuple[object, ...]:
    """The export jobs, the bucket and the worker hand-off, typed as their ports."""
    from simrenew.ports.dispatch import Dispatcher
    from simrenew.ports.exports import Exports
    from simrenew.ports.objects import Objects
    from tests.support.fakes.exports import FakeDispatcher, FakeExports, FakeObjects

    exports: Exports = FakeExports()
    objects: Objects = FakeObjects()
    dispatcher: Dispatcher = FakeDispatcher()
    return exports, objects, dispatcher
