"""Composition roots: one per function (`build_api`, `build_webhook`, `build_sweep`, `build_worker`,
`build_dispatcher`, `build_carrier_sync`), each over the settings its function reads (`NEEDS`, see
simrenew/config.py) and exposing only what its handlers call (no Lambda event here).

Every service is built on first use (`cached_property`), with its imports inside: a container
imports and wires only what its routes touch, so a cold `api` container answering the public
look-up never imports the sweep, the carrier sync, the exports or the reports (issue 17, cold
start; `bench.cold_import` measures the import of each function and the first look-up's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, overload

from simrenew.clock import Clock, SystemClock
from simrenew.config import Config, Needs
from simrenew.errors import ConfigError

R = TypeVar("R")

if TYPE_CHECKING:
    from simrenew.adapters.carrier.factory import PlatformFactory
    from simrenew.adapters.carrier.secrets import CarrierSecrets
    from simrenew.adapters.dynamodb.api_keys import ApiKeyRepository
    from simrenew.adapters.dynamodb.carrier_store import CarrierStore
    from simrenew.adapters.dynamodb.fleet import MerchantRepository, PlanRepository, TerminalRepository
    from simrenew.adapters.dynamodb.idempotency import IdempotencyStore
    from simrenew.adapters.dynamodb.models import ImportItem, TerminalEventItem, TerminalItem, VoucherItem
    from simrenew.adapters.dynamodb.orders import OrderRepository
    from simrenew.adapters.dynamodb.outbox import OutboxItem
    from simrenew.adapters.dynamodb.public_orders import CheckoutStore
    from simrenew.adapters.dynamodb.ratelimit import RateLimiter
    from simrenew.adapters.dynamodb.sweep_days import SweepDayRepository
    from simrenew.adapters.dynamodb.sweeps import SweepRepository
    from simrenew.adapters.dynamodb.tenants import TenantRepository
    from simrenew.adapters.objects import ObjectStore
    from simrenew.adapters.payments import PaymentGateway, PaymentRails
    from simrenew.ports.dispatch import Dispatcher
    from simrenew.services.auth import AuthService
    from simrenew.services.carrier import CarrierAccounts, CarrierOperations, CarrierSync
    from simrenew.services.exports import ExportService
    from simrenew.services.fleet import FleetService
    from simrenew.services.imports import ImportService
    from simrenew.services.listing import ListingService
    from simrenew.services.orders import OrderService
    from simrenew.services.outbox import OutboxDispatcher
    from simrenew.services.reports import DashboardReport, ExpiryReports, ReportService
    from simrenew.services.sweep import SweepService
    from simrenew.services.sweep_runs import SweepRuns
    from simrenew.services.tenants import TenantService
    from simrenew.services.transfers import TransferService
    from simrenew.services.usage_import import UsageImportService
    from simrenew.services.vouchers import VoucherService


class _Attribute(Generic[R]):
    """A class attribute whose value an instance reads as `_value(instance)` (typed `R` there): the
    descriptor machinery the repositories and the roots' forwarded attributes share."""

    _attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self._attribute = attribute

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type) -> R: ...

    def __get__(self, instance: object | None, owner: type) -> Self | R:
        return self if instance is None else self._value(instance)

    def _value(self, instance: Any) -> R:
        raise NotImplementedError


class _Repository(_Attribute[R]):
    """A repository of the table, imported and made on first use and then kept on the instance (as
    `cached_property` does): `simrenew.adapters.dynamodb.<module>.<name>()`, where the attribute's
    annotation names the same class (test_bootstrap checks each)."""

    def __init__(self, module: str, name: str) -> None:
        self.module = f"simrenew.adapters.dynamodb.{module}"
        self.name = name

    def _value(self, instance: Any) -> R:
        made: R = getattr(import_module(self.module), self.name)()
        instance.__dict__[self._attribute] = made
        return made


class Repositories:
    """The table's repositories this container uses, each made once, on first use."""

    tenants: _Repository[TenantRepository] = _Repository("tenants", "TenantRepository")
    api_keys: _Repository[ApiKeyRepository] = _Repository("api_keys", "ApiKeyRepository")
    rate_limiter: _Repository[RateLimiter] = _Repository("ratelimit", "RateLimiter")
    terminals: _Repository[TerminalRepository] = _Repository("fleet", "TerminalRepository")
    merchants: _Repository[MerchantRepository] = _Repository("fleet", "MerchantRepository")
    plans: _Repository[PlanRepository] = _Repository("fleet", "PlanRepository")
    orders: _Repository[OrderRepository] = _Repository("orders", "OrderRepository")
    sweeps: _Repository[SweepRepository] = _Repository("sweeps", "SweepRepository")
    sweep_days: _Repository[SweepDayRepository] = _Repository("sweep_days", "SweepDayRepository")


class Services:
    """What a function's handlers call. Built lazily: `services.orders` wires the order service
    (and what it needs) the first time a handler asks for it, and keeps it for the container."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        gateway: PaymentGateway | None = None,
        rails: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.repos = Repositories()
        self._given_gateway = gateway
        self._given_rails = rails  # name -> DirectRail: these instead of the configured ones (tests)

    # --- payments ----------------------------------------------------------------------------------
    @cached_property
    def gateway(self) -> PaymentGateway:
        if self._given_gateway is not None:
            return self._given_gateway
        from simrenew.adapters.payments import StripeGateway, stripe_keys_loader

        return StripeGateway(stripe_keys_loader(self.config), local=self.config.is_local)

    @cached_property
    def rails(self) -> PaymentRails:
        def token_of(tenant_id: str) -> str | None:
            return self.tenants.alipay_token(tenant_id)

        if self._given_rails is not None:
            from simrenew.adapters.payments import PaymentRails

            return PaymentRails(dict(self._given_rails), token_of)
        return build_rails(self.config, token_of)

    # --- onboarding and keys -----------------------------------------------------------------------
    @cached_property
    def auth(self) -> AuthService:
        from simrenew.adapters.secrets import SecretValue
        from simrenew.services.auth import AuthService

        c = self.config
        platform_key = SecretValue(value=c.platform_key, secret_arn=c.platform_key_secret_arn, region=c.region)
        return AuthService(self.repos.api_keys, self.repos.tenants, platform_key)

    @cached_property
    def tenants(self) -> TenantService:
        from simrenew.services.tenants import TenantService

        r = self.repos
        return TenantService(r.tenants, r.api_keys, r.rate_limiter, self.clock, self.rails)

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        from simrenew.adapters.dynamodb.idempotency import IdempotencyStore

        return IdempotencyStore()

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.repos.rate_limiter

    # --- fleet -------------------------------------------------------------------------------------
    @cached_property
    def fleet(self) -> FleetService:
        from simrenew.adapters.dynamodb.carrier_store import CarrierStore
        from simrenew.adapters.dynamodb.fleet_store import FleetTerminalStore
        from simrenew.services.fleet import FleetService

        r = self.repos
        terminals = FleetTerminalStore()
        return FleetService(r.tenants, r.merchants, r.plans, terminals, r.rate_limiter, self.clock, CarrierStore())

    @cached_property
    def listing(self) -> ListingService:
        from simrenew.adapters.dynamodb.search import SearchIndexRepository
        from simrenew.services.listing import ListingService

        r = self.repos
        return ListingService(r.tenants, r.terminals, r.merchants, SearchIndexRepository(), r.orders, self.clock)

    @cached_property
    def usage_imports(self) -> UsageImportService:
        from simrenew.services.usage_import import UsageImportService

        return UsageImportService(self.fleet, self.repos.terminals)

    @cached_property
    def transfers(self) -> TransferService[TerminalItem]:
        from simrenew.adapters.dynamodb.transfers import TimeTransferRepository
        from simrenew.services.transfers import TransferService

        return TransferService(self.repos.tenants, self.repos.terminals, TimeTransferRepository(), self.clock)

    # --- imports and exports (the worker function's tasks) ------------------------------------------
    @cached_property
    def dispatcher(self) -> Dispatcher:
        """Hands an import or export to the worker function (a thread in this process, locally)."""
        from simrenew.adapters.dispatch import LambdaDispatcher, ThreadDispatcher

        if self.config.is_local:
            return ThreadDispatcher(lambda event: run_worker_task(self, event))
        if self.config.import_worker_function:
            return LambdaDispatcher(self.config.import_worker_function, self.config.region)
        raise ConfigError("IMPORT_WORKER_FUNCTION is required in AWS")

    @cached_property
    def objects(self) -> ObjectStore:
        from simrenew.adapters.objects import ObjectStore

        c = self.config
        return ObjectStore(c.uploads_bucket, c.region, c.s3_endpoint, c.is_local)

    @cached_property
    def imports(self) -> ImportService[ImportItem, TerminalItem]:
        from simrenew.adapters.dynamodb.imports import ImportRepository
        from simrenew.services.imports import ImportService

        r = self.repos
        return ImportService(
            ImportRepository(), self.fleet, r.terminals, r.plans, r.merchants, self.dispatcher, self.clock, self.objects
        )

    @cached_property
    def exports(self) -> ExportService:
        from simrenew.adapters.dynamodb.exports import ExportRepository
        from simrenew.services.exports import ExportService

        return ExportService(
            self.fleet, self.orders, self.expiry_reports, self.objects, self.dispatcher, self.clock, ExportRepository()
        )

    # --- orders, vouchers, reports -----------------------------------------------------------------
    @cached_property
    def orders(self) -> OrderService:
        from simrenew.adapters.dynamodb.public_orders import CheckoutStore

        r = self.repos
        return order_service(
            r.tenants,
            r.terminals,
            r.plans,
            r.merchants,
            r.orders,
            self.gateway,
            r.rate_limiter,
            self.clock,
            self.rails,
            self.config.public_base_url,
            pay_page=CheckoutStore(r.terminals, r.orders, r.rate_limiter),
        )

    @cached_property
    def vouchers(self) -> VoucherService[VoucherItem, TerminalItem]:
        from simrenew.adapters.dynamodb.vouchers import VoucherRepository
        from simrenew.services.vouchers import VoucherService

        r = self.repos
        return VoucherService(VoucherRepository(), r.plans, r.terminals, self.orders, r.rate_limiter, self.clock)

    @cached_property
    def reports(self) -> ReportService:
        from simrenew.adapters.dynamodb.reports import RedemptionStore, ReportOrderStore
        from simrenew.adapters.dynamodb.vouchers import VoucherRepository
        from simrenew.services.reports import ReportService

        orders, vouchers = ReportOrderStore(self.repos.orders), RedemptionStore(VoucherRepository())
        return ReportService(self.repos.tenants, orders, self.gateway, vouchers, self.rails)

    @cached_property
    def expiry_reports(self) -> ExpiryReports:
        from simrenew.services.reports import ExpiryReports

        return ExpiryReports(self.repos.tenants, self.repos.terminals, self.repos.sweeps, self.clock)

    @cached_property
    def dashboard(self) -> DashboardReport:
        from simrenew.services.reports import DashboardReport

        return DashboardReport(self.repos.tenants, self.repos.terminals, self.reports, self.clock)

    # --- sweep, outbound webhooks, outbox ----------------------------------------------------------
    @cached_property
    def webhooks(self) -> Any:
        return _webhooks(self.config, self.clock)

    @cached_property
    def sweep(self) -> SweepService:
        from simrenew.adapters.dynamodb.carrier import OutboxCarrier
        from simrenew.adapters.dynamodb.sweep_store import SweepStore
        from simrenew.adapters.notify_sender import NotifierSender
        from simrenew.services.sweep import SweepService

        r = self.repos
        sender = NotifierSender(lambda: _notifier(self.config))
        return SweepService(
            r.tenants,
            r.terminals,
            r.merchants,
            SweepStore(r.sweeps, r.terminals),
            sender,
            self.webhooks,
            OutboxCarrier(),
            self.clock,
            self.config.public_base_url,
            r.sweep_days,
        )

    @cached_property
    def sweep_dispatcher(self) -> Dispatcher:
        """Hands a run's steps to the sweep function (a Lambda invoke; a queue in this process, locally)."""
        from simrenew.adapters.dispatch import LambdaDispatcher, QueueDispatcher

        if self.config.is_local:
            return QueueDispatcher(lambda event: self.sweep_runs.handle(event))
        if self.config.sweep_function:
            return LambdaDispatcher(self.config.sweep_function, self.config.region)
        raise ConfigError("SWEEP_FUNCTION is required in AWS")

    @cached_property
    def sweep_runs(self) -> SweepRuns:
        """The day fanned out over shard workers (POST /v1/admin/sweeps, the schedule)."""
        from simrenew.services.sweep_runs import SweepRuns

        return SweepRuns(self.sweep, self.repos.sweep_days, self.sweep_dispatcher, self.clock)

    @cached_property
    def outbox(self) -> OutboxDispatcher[OutboxItem, TerminalEventItem]:
        """Delivers outbox items (functions/dispatcher, the 5-minute drain)."""
        from simrenew.adapters.dynamodb.outbox import OutboxRepository
        from simrenew.services.outbox import OutboxDispatcher

        return OutboxDispatcher(OutboxRepository(), self.webhooks, self.sweep, self.clock, carrier=self.carrier_ops)

    # --- carrier (docs/carrier.md) -----------------------------------------------------------------
    @cached_property
    def _carrier_secrets(self) -> CarrierSecrets:
        """Keys: Secrets Manager in AWS (CARRIER_SECRET_PREFIX), a mode-600 file locally
        (CARRIER_SECRETS_FILE, default .local/carrier-secrets.json)."""
        from simrenew.adapters.carrier.secrets import FileSecrets, SecretsManagerSecrets

        c = self.config
        if c.is_local:
            return FileSecrets(Path(c.carrier_secrets_file or ".local/carrier-secrets.json"))
        if not c.carrier_secret_prefix:
            raise ConfigError("CARRIER_SECRET_PREFIX is not set: carrier account keys cannot be read")
        return SecretsManagerSecrets(c.carrier_secret_prefix, c.region)

    @cached_property
    def _carrier_repo(self) -> CarrierStore:
        from simrenew.adapters.dynamodb.carrier_store import CarrierStore

        return CarrierStore()

    @cached_property
    def _platforms(self) -> PlatformFactory:
        from simrenew.adapters.carrier.factory import PlatformFactory

        return PlatformFactory(self._carrier_secrets, self.clock, local=self.config.is_local)

    @cached_property
    def carrier_accounts(self) -> CarrierAccounts:
        """An agent's carrier platform logins."""
        from simrenew.services.carrier import CarrierAccounts

        local = self.config.is_local
        return CarrierAccounts(self._carrier_repo, self._carrier_secrets, self._platforms, self.clock, local=local)

    @cached_property
    def carrier_ops(self) -> CarrierOperations:
        """Suspensions and reactivations at the carrier (outbox items)."""
        from simrenew.services.carrier import CarrierOperations

        return CarrierOperations(self._carrier_repo, self.repos.terminals, self._platforms, self.clock)

    @cached_property
    def carrier_sync(self) -> CarrierSync[TerminalItem]:
        """Status and usage read from the carriers, drift; an agent's sync handed to the carrier
        sync function (a thread in this process, locally, calling this same service)."""
        from simrenew.adapters.dynamodb.carrier_store import CarrierTerminalStore
        from simrenew.services.carrier import CarrierSync

        dispatch: Callable[[dict[str, Any]], None]
        if self.config.is_local:
            from simrenew.adapters.dispatch import ThreadDispatcher

            dispatch = ThreadDispatcher(lambda event: self.carrier_sync.run(str(event["tenant_id"]))).dispatch
        else:
            dispatch = _sync_dispatch(self.config)
        r = self.repos
        terminals = CarrierTerminalStore(r.terminals)
        return CarrierSync(self._carrier_repo, r.tenants, terminals, self._platforms, self.clock, dispatch)


def order_service(
    tenants: TenantRepository,
    terminals: TerminalRepository,
    plans: PlanRepository,
    merchants: MerchantRepository,
    orders: OrderRepository,
    gateway: PaymentGateway,
    rate_limiter: RateLimiter,
    clock: Clock,
    rails: PaymentRails | None = None,
    public_base_url: str = "",
    *,
    pay_page: CheckoutStore,
) -> OrderService:
    """The order service and its parts (checkout, fulfilment, refunds, Stripe events, the direct
    rails, the ledger) over the same repositories and gateway."""
    from simrenew.adapters.dynamodb.payment_events import PaymentEventStore
    from simrenew.adapters.payments import PaymentRails
    from simrenew.adapters.qr import qr_svg_data_uri
    from simrenew.services.checkout import CheckoutService
    from simrenew.services.direct_payments import DirectPaymentService
    from simrenew.services.fulfilment import FulfilmentService
    from simrenew.services.ledger import LedgerService
    from simrenew.services.orders import OrderService
    from simrenew.services.refunds import RefundService
    from simrenew.services.stripe_events import StripeEventService

    rails = rails or PaymentRails({})
    events = PaymentEventStore(orders)
    fulfilment = FulfilmentService(tenants, terminals, orders, gateway, clock, rate_limiter)
    refunds = RefundService(tenants, terminals, orders, gateway, clock, rails)
    return OrderService(
        tenants,
        orders,
        rails,
        clock,
        checkout=CheckoutService(tenants, terminals, plans, merchants, orders, gateway, rate_limiter, clock, pay_page),
        fulfilment=fulfilment,
        refunds=refunds,
        stripe_events=StripeEventService(events, fulfilment, refunds, clock, gateway),
        direct=DirectPaymentService(events, fulfilment, refunds, clock, rails, public_base_url, qr_svg_data_uri),
        ledger=LedgerService(terminals, orders),
    )


def build_rails(config: Config, token_of: Any) -> PaymentRails:
    """The direct rails this deployment has: each where its secret (AWS) or credentials file (local) is set."""
    from simrenew.adapters.payments import PaymentRails

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
    rails: Mapping[str, Any] | None = None,
) -> Services:
    """Binds the table and returns every (lazy) service over one configuration: the API's root,
    and the tests', benchmarks' and local tools' (which drive several functions' work at once).
    `gateway` and `rails` (name -> DirectRail) replace the configured payment providers (tests)."""
    from simrenew.adapters.dynamodb.models import bind_table

    bind_table(config.table_name, config.region, config.ddb_endpoint)
    return Services(config, clock or SystemClock(), gateway, rails)


# --- the composition roots: what each function reads and what its handlers get ---------------------
_PAYMENTS = frozenset({"public_url", "stripe", "rails"})
NEEDS: dict[str, Needs] = {
    # Every feature; the notifier only locally, where sweep runs and their messages stay in-process.
    "api": Needs(
        frozenset(
            {
                *_PAYMENTS,
                "platform_key",
                "origin_verify",
                "import_worker",
                "sweep_function",
                "uploads",
                "carrier",
                "carrier_sync_function",
            }
        ),
        local_groups=frozenset({"notify"}),
    ),
    "webhook": Needs(_PAYMENTS),  # applies payments and refunds: the order service and its rails
    # Sweep runs (reminders by SMS and e-mail), expiring unpaid orders (Stripe and the rails),
    # webhook retries, the outbox's drain (its carrier operations read the account's key).
    "sweep": Needs(_PAYMENTS | {"sweep_function", "notify", "carrier"}),
    "worker": Needs(frozenset({"public_url", "import_worker", "uploads"})),  # imports and exports
    "dispatcher": Needs(frozenset({"public_url", "notify", "carrier"})),  # outbox delivery
    "carrier_sync": Needs(frozenset({"carrier", "carrier_sync_function"})),
}


class _Root:
    """What one function's handlers see of the shared `Services` (only what they call)."""

    def __init__(self, services: Services) -> None:
        self._services = services


class _Forwarded(_Attribute[R]):
    """A root's read of the `Services` attribute of the same name (built there on first use); its
    annotation repeats the type `Services` gives that attribute (test_bootstrap checks each)."""

    def _value(self, instance: Any) -> R:
        value: R = getattr(instance._services, self._attribute)
        return value


class WebhookServices(_Root):
    """functions/webhook: the order service's payment notifications."""

    orders: _Forwarded[OrderService] = _Forwarded()


class SweepServices(_Root):
    """functions/sweep: sweep runs and the 5-minute jobs."""

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.clock = services.clock

    sweep_runs: _Forwarded[SweepRuns] = _Forwarded()
    sweep: _Forwarded[SweepService] = _Forwarded()
    orders: _Forwarded[OrderService] = _Forwarded()
    webhooks: _Forwarded[Any] = _Forwarded()
    outbox: _Forwarded[OutboxDispatcher[OutboxItem, TerminalEventItem]] = _Forwarded()


class WorkerServices(_Root):
    """functions/worker: imports (from their uploads or checkpoints) and exports."""

    imports: _Forwarded[ImportService[ImportItem, TerminalItem]] = _Forwarded()
    exports: _Forwarded[ExportService] = _Forwarded()
    dispatcher: _Forwarded[Dispatcher] = _Forwarded()
    objects: _Forwarded[ObjectStore] = _Forwarded()


class DispatcherServices(_Root):
    """functions/dispatcher: the outbox's delivery."""

    outbox: _Forwarded[OutboxDispatcher[OutboxItem, TerminalEventItem]] = _Forwarded()


class CarrierSyncServices(_Root):
    """functions/carrier_sync: the carrier sync."""

    carrier_sync: _Forwarded[CarrierSync[TerminalItem]] = _Forwarded()


def build_api(config: Config, clock: Clock | None = None) -> Services:
    """functions/api: its routes reach every service (the outbox's delivery aside)."""
    return build_services(config, clock)


def build_webhook(config: Config, clock: Clock | None = None) -> WebhookServices:
    return WebhookServices(build_services(config, clock))


def build_sweep(config: Config, clock: Clock | None = None) -> SweepServices:
    return SweepServices(build_services(config, clock))


def build_worker(config: Config, clock: Clock | None = None) -> WorkerServices:
    return WorkerServices(build_services(config, clock))


def build_dispatcher(config: Config, clock: Clock | None = None) -> DispatcherServices:
    return DispatcherServices(build_services(config, clock))


def build_carrier_sync(config: Config, clock: Clock | None = None) -> CarrierSyncServices:
    return CarrierSyncServices(build_services(config, clock))


ROOTS: dict[str, Callable[[Config], object]] = {
    "api": build_api,
    "webhook": build_webhook,
    "sweep": build_sweep,
    "worker": build_worker,
    "dispatcher": build_dispatcher,
    "carrier_sync": build_carrier_sync,
}


def run_worker_task(services: Services | WorkerServices, event: dict[str, Any]) -> str:
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
    from simrenew.adapters.outbound import UrllibTransport, system_resolver
    from simrenew.services.webhooks import WebhookService

    return WebhookService(
        WebhookRepository(), UrllibTransport(), clock, allow_http_local=config.is_local, resolver=system_resolver
    )


def _sync_dispatch(config: Config) -> Callable[[dict[str, Any]], None]:
    from simrenew.adapters.dispatch import LambdaDispatcher

    def dispatch(event: dict[str, Any]) -> None:
        if not config.carrier_sync_function:
            raise ConfigError("CARRIER_SYNC_FUNCTION is not set: carrier syncs cannot be handed over")
        LambdaDispatcher(config.carrier_sync_function, config.region).dispatch(event)

    return dispatch
