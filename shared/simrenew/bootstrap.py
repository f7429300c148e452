"""Composition root: builds adapters and services from one Config (no Lambda event here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simrenew.adapters.dispatch import LambdaDispatcher, QueueDispatcher, ThreadDispatcher
from simrenew.adapters.dynamodb.api_keys import ApiKeyRepository
from simrenew.adapters.dynamodb.carrier import CarrierRepository
from simrenew.adapters.dynamodb.fleet import MerchantRepository, PlanRepository, TerminalRepository
from simrenew.adapters.dynamodb.idempotency import IdempotencyStore
from simrenew.adapters.dynamodb.imports import ImportRepository
from simrenew.adapters.dynamodb.models import bind_table
from simrenew.adapters.dynamodb.orders import OrderRepository
from simrenew.adapters.dynamodb.outbox import OutboxRepository
from simrenew.adapters.dynamodb.ratelimit import RateLimiter
from simrenew.adapters.dynamodb.search import SearchIndexRepository
from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
from simrenew.adapters.dynamodb.sweeps import SweepRepository
from simrenew.adapters.dynamodb.tenants import TenantRepository
from simrenew.adapters.dynamodb.transfers import TimeTransferRepository
from simrenew.adapters.dynamodb.vouchers import VoucherRepository
from simrenew.adapters.objects import ObjectStore
from simrenew.adapters.payments import PaymentGateway, PaymentRails, StripeGateway, stripe_keys_loader
from simrenew.adapters.secrets import SecretValue
from simrenew.clock import Clock, SystemClock
from simrenew.config import Config
from simrenew.errors import ConfigError
from simrenew.services.auth import AuthService
from simrenew.services.carrier import CarrierAccounts, CarrierOperations, CarrierSync, OutboxCarrier
from simrenew.services.exports import ExportService
from simrenew.services.fleet import FleetService
from simrenew.services.imports import Dispatcher, ImportService
from simrenew.services.listing import ListingService
from simrenew.services.orders import OrderService
from simrenew.services.outbox import OutboxDispatcher
from simrenew.services.reports import DashboardReport, ExpiryReports, ReportService
from simrenew.services.sweep import NotifierSender, SweepService
from simrenew.services.sweep_runs import SweepRuns
from simrenew.services.tenants import TenantService
from simrenew.services.transfers import TransferService
from simrenew.services.usage_import import UsageImportService
from simrenew.services.vouchers import VoucherService


@dataclass
class Services:
    config: Config
    clock: Clock
    auth: AuthService
    tenants: TenantService
    idempotency: IdempotencyStore
    rate_limiter: RateLimiter
    fleet: FleetService
    imports: ImportService
    orders: OrderService
    vouchers: VoucherService
    reports: ReportService
    sweep: SweepService
    sweep_runs: SweepRuns  # the day fanned out over shard workers (POST /v1/admin/sweeps, the schedule)
    sweep_dispatcher: Any  # hands a run's steps to the sweep function (a Lambda invoke; a thread locally)
    expiry_reports: ExpiryReports
    dashboard: DashboardReport
    webhooks: Any
    dispatcher: Any
    transfers: TransferService
    outbox: OutboxDispatcher  # delivers outbox items (functions/dispatcher, the 5-minute drain)
    listing: ListingService  # filters, search, sort and totals of the lists (issue 16)
    usage_imports: UsageImportService
    carrier_accounts: CarrierAccounts  # an agent's carrier platform logins (docs/carrier.md)
    carrier_ops: CarrierOperations  # suspensions and reactivations at the carrier (outbox items)
    carrier_sync: CarrierSync  # status and usage read from the carriers, drift
    objects: ObjectStore  # the uploads/exports bucket (presigned uploads, exports)
    exports: ExportService


def build_rails(config: Config, token_of: Any) -> PaymentRails:
    """The direct rails this deployment has: each where its secret (AWS) or credentials file (local) is set."""
    rails: dict[str, Any] = {}
    base = config.notify_base
    if config.wechatpay_secret_arn or (config.is_local and config.wechatpay_credentials):

        def wechatpay() -> Any:
            from simrenew.adapters.wechatpay import WeChatPayGateway, wechatpay_keys_loader

            return WeChatPayGateway(wechatpay_keys_loader(config), f"{base}/webhooks/wechatpay")

        rails["wechatpay"] = wechatpay
    if config.alipay_secret_arn or (config.is_local and config.alipay_credentials):

        def alipay() -> Any:
            from simrenew.adapters.alipay import AlipayGateway, alipay_keys_loader

            return AlipayGateway(alipay_keys_loader(config), f"{base}/webhooks/alipay")

        rails["alipay"] = alipay
    return PaymentRails(rails, token_of)


def build_services(
    config: Config,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
    rails: PaymentRails | None = None,
) -> Services:
    bind_table(config.table_name, config.region, config.ddb_endpoint)
    clock = clock or SystemClock()
    tenants = TenantRepository()
    api_keys = ApiKeyRepository()
    rate_limiter = RateLimiter()
    platform_key = SecretValue(
        value=config.platform_key, secret_arn=config.platform_key_secret_arn, region=config.region
    )
    terminals = TerminalRepository()
    merchants, plans = MerchantRepository(), PlanRepository()
    fleet = FleetService(tenants, merchants, plans, terminals, rate_limiter, clock, CarrierRepository())
    the_gateway = gateway or StripeGateway(stripe_keys_loader(config), local=config.is_local)
    holder_t: dict[str, TenantService] = {}
    the_rails = rails or build_rails(config, lambda tenant_id: holder_t["tenants"].alipay_token(tenant_id))
    if rails is not None and getattr(rails, "_token_of", None) is None:
        rails._token_of = lambda tenant_id: holder_t["tenants"].alipay_token(tenant_id)
    tenant_service = TenantService(tenants, api_keys, rate_limiter, clock, the_rails)
    holder_t["tenants"] = tenant_service
    order_repo = OrderRepository()
    orders = OrderService(
        tenants,
        terminals,
        plans,
        merchants,
        order_repo,
        the_gateway,
        rate_limiter,
        clock,
        the_rails,
        config.public_base_url,
    )
    webhooks = _webhooks(config, clock)
    sweeps = SweepRepository()
    sweep_days = SweepDayRepository()
    sweep = SweepService(
        tenants,
        terminals,
        merchants,
        sweeps,
        NotifierSender(lambda: _notifier(config)),
        webhooks,
        OutboxCarrier(),
        clock,
        config.public_base_url,
        sweep_days,
    )
    sweep_dispatcher: Dispatcher
    runs: dict[str, SweepRuns] = {}
    if config.is_local:
        sweep_dispatcher = QueueDispatcher(lambda event: runs["runs"].handle(event))
    elif config.sweep_function:
        sweep_dispatcher = LambdaDispatcher(config.sweep_function, config.region)
    else:
        raise ConfigError("SWEEP_FUNCTION is required in AWS")
    runs["runs"] = SweepRuns(sweep, sweep_days, sweep_dispatcher, clock)
    dispatcher: Dispatcher
    holder: dict[str, Any] = {}
    if config.is_local:
        dispatcher = ThreadDispatcher(lambda event: run_worker_task(holder["services"], event))
    elif config.import_worker_function:
        dispatcher = LambdaDispatcher(config.import_worker_function, config.region)
    else:
        raise ConfigError("IMPORT_WORKER_FUNCTION is required in AWS")
    objects = ObjectStore(config.uploads_bucket, config.region, config.s3_endpoint, config.is_local)
    imports = ImportService(ImportRepository(), fleet, terminals, dispatcher, clock, objects)
    reports = ReportService(tenants, order_repo, the_gateway, VoucherRepository(), the_rails)
    expiry_reports = ExpiryReports(tenants, terminals, sweeps, clock)
    carrier_accounts, carrier_ops, carrier_sync = _carrier(config, clock, tenants, terminals)
    built = Services(
        config=config,
        clock=clock,
        auth=AuthService(api_keys, tenants, platform_key),
        tenants=tenant_service,
        idempotency=IdempotencyStore(),
        rate_limiter=rate_limiter,
        fleet=fleet,
        imports=imports,
        orders=orders,
        vouchers=VoucherService(VoucherRepository(), plans, terminals, orders, rate_limiter, clock),
        reports=reports,
        sweep=sweep,
        expiry_reports=expiry_reports,
        sweep_runs=runs["runs"],
        sweep_dispatcher=sweep_dispatcher,
        dashboard=DashboardReport(tenants, terminals, reports, clock),
        webhooks=webhooks,
        dispatcher=dispatcher,
        transfers=TransferService(tenants, terminals, TimeTransferRepository(), clock),
        objects=objects,
        exports=ExportService(fleet, orders, expiry_reports, objects, dispatcher, clock),
        listing=ListingService(tenants, terminals, merchants, SearchIndexRepository(), order_repo, clock),
        usage_imports=UsageImportService(fleet),
        outbox=OutboxDispatcher(OutboxRepository(), webhooks, sweep, clock, carrier=carrier_ops),
        carrier_accounts=carrier_accounts,
        carrier_ops=carrier_ops,
        carrier_sync=carrier_sync,
    )
    holder["services"] = built
    return built


def run_worker_task(services: Services, event: dict[str, Any]) -> str:
    """What the worker function does with a task the API handed it: an export, or an import
    (from its checkpoint). Locally the thread dispatcher calls this in the API's process."""
    if event.get("task") == "export":
        return services.exports.run(str(event["tenant_id"]), str(event["export_id"]))
    return services.imports.run(str(event["tenant_id"]), str(event["import_id"]))


def _notifier(config: Config) -> Any:
    """SMS by SNS and e-mail by SES in AWS; the local outbox on a laptop and in tests."""
    from simrenew.adapters.notify import ChannelRouter, LocalOutbox, SesEmailSender, SnsSmsSender

    if config.is_local:
        outbox = LocalOutbox(Path(config.outbox_path) if config.outbox_path else None)
        return ChannelRouter(sms=outbox, email=outbox)
    if not config.sender_email:
        raise ConfigError("SENDER_EMAIL is required in AWS (the SES From address)")
    return ChannelRouter(sms=SnsSmsSender(config.region), email=SesEmailSender(config.region, config.sender_email))


def _webhooks(config: Config, clock: Clock) -> Any:
    from simrenew.adapters.dynamodb.webhooks import WebhookRepository
    from simrenew.services.webhooks import UrllibTransport, WebhookService

    return WebhookService(WebhookRepository(), UrllibTransport(), clock, allow_http_local=config.is_local)


def _carrier(
    config: Config, clock: Clock, tenants: TenantRepository, terminals: TerminalRepository
) -> tuple[CarrierAccounts, CarrierOperations, CarrierSync]:
    """Carrier accounts, operations and sync. Keys: Secrets Manager in AWS (CARRIER_SECRET_PREFIX),
    a mode-600 file locally (CARRIER_SECRETS_FILE, default .local/carrier-secrets.json)."""
    from simrenew.adapters.carrier.secrets import CarrierSecrets, FileSecrets, SecretsManagerSecrets
    from simrenew.services.carrier import PlatformFactory

    secrets: CarrierSecrets
    if config.is_local:
        secrets = FileSecrets(Path(config.carrier_secrets_file or ".local/carrier-secrets.json"))
    else:
        secrets = SecretsManagerSecrets(config.carrier_secret_prefix or "simrenew/unset/carrier/", config.region)
    repo = CarrierRepository()
    platforms = PlatformFactory(secrets, clock, local=config.is_local)
    holder: dict[str, CarrierSync] = {}
    dispatch: Callable[[dict[str, Any]], None]
    if config.is_local:
        dispatch = ThreadDispatcher(lambda event: holder["sync"].run(str(event["tenant_id"]))).dispatch
    else:
        dispatch = _sync_dispatch(config)
    sync = CarrierSync(repo, tenants, terminals, platforms, clock, dispatch)
    holder["sync"] = sync
    accounts = CarrierAccounts(repo, secrets, platforms, clock, local=config.is_local)
    return accounts, CarrierOperations(repo, terminals, platforms, clock), sync


def _sync_dispatch(config: Config) -> Callable[[dict[str, Any]], None]:
    def dispatch(event: dict[str, Any]) -> None:
        if not config.carrier_sync_function:
            raise ConfigError("CARRIER_SYNC_FUNCTION is not set: carrier syncs cannot be handed over")
        LambdaDispatcher(config.carrier_sync_function, config.region).dispatch(event)

    return dispatch
