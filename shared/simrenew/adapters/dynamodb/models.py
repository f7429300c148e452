"""The one import of every item of the single table: the base and each aggregate's entities.

The models are defined by aggregate in `items/` (docs/data-model.md has them all, with every read):

- `items/base.py`: the base `Item` (pk, sk, kind), its indexes, the retry policy, the shared
  connection, `Transaction` and `bind_table`;
- `items/tenants.py`, `items/fleet.py`, `items/orders.py`, `items/vouchers.py`, `items/imports.py`,
  `items/exports.py`, `items/sweeps.py`, `items/webhooks.py`, `items/outbox.py`,
  `items/carrier.py`, `items/platform.py`: the entities, one PynamoDB subclass each, whose
  docstring states its key and indexes.

Import items from here, not from `items/`: a polymorphic read (`Item.query`, `Item.batch_get`,
`Item.from_raw_data`) can only build the subclasses PynamoDB has registered, i.e. imported, and
importing this module imports (registers) every one of them.
"""

from __future__ import annotations

from simrenew.adapters.dynamodb.items.base import (
    CONFLICT_BACKOFF_MAX_S,
    CONFLICT_BACKOFF_S,
    POOL_CONNECTIONS,
    RETRIES,
    SEARCH_PROJECTION,
    UNBOUND_TABLE,
    Item,
    Transaction,
    all_models,
    bind_table,
    connection,
    retry_transaction_conflict,
)
from simrenew.adapters.dynamodb.items.carrier import (
    CarrierAccountGuardItem,
    CarrierAccountItem,
    CarrierOpItem,
    CarrierSimItem,
)
from simrenew.adapters.dynamodb.items.exports import ExportItem
from simrenew.adapters.dynamodb.items.fleet import (
    ClaimItem,
    MerchantItem,
    MerchantKeyItem,
    PlanItem,
    PlanNameItem,
    TerminalEventItem,
    TerminalItem,
    TimeTransferItem,
    TransferCodeItem,
)
from simrenew.adapters.dynamodb.items.imports import ImportChunkItem, ImportErrorItem, ImportItem
from simrenew.adapters.dynamodb.items.orders import (
    OpenOrderItem,
    OrderItem,
    PaymentIntentItem,
    RenewalItem,
    StripeEventItem,
)
from simrenew.adapters.dynamodb.items.outbox import OutboxItem
from simrenew.adapters.dynamodb.items.platform import IdempotencyItem, RateLimitItem
from simrenew.adapters.dynamodb.items.sweeps import (
    NotificationItem,
    SweepDayItem,
    SweepDigestItem,
    SweepRequestItem,
    SweepRunItem,
    SweepShardItem,
    SweepStateItem,
)
from simrenew.adapters.dynamodb.items.tenants import ApiKeyItem, ApiKeyLookupItem, TenantItem
from simrenew.adapters.dynamodb.items.vouchers import VoucherBatchItem, VoucherItem
from simrenew.adapters.dynamodb.items.webhooks import WebhookDeliveryItem, WebhookEndpointItem

__all__ = [
    "CONFLICT_BACKOFF_MAX_S",
    "CONFLICT_BACKOFF_S",
    "POOL_CONNECTIONS",
    "RETRIES",
    "SEARCH_PROJECTION",
    "UNBOUND_TABLE",
    "ApiKeyItem",
    "ApiKeyLookupItem",
    "CarrierAccountGuardItem",
    "CarrierAccountItem",
    "CarrierOpItem",
    "CarrierSimItem",
    "ClaimItem",
    "ExportItem",
    "IdempotencyItem",
    "ImportChunkItem",
    "ImportErrorItem",
    "ImportItem",
    "Item",
    "MerchantItem",
    "MerchantKeyItem",
    "NotificationItem",
    "OpenOrderItem",
    "OrderItem",
    "OutboxItem",
    "PaymentIntentItem",
    "PlanItem",
    "PlanNameItem",
    "RateLimitItem",
    "RenewalItem",
    "StripeEventItem",
    "SweepDayItem",
    "SweepDigestItem",
    "SweepRequestItem",
    "SweepRunItem",
    "SweepShardItem",
    "SweepStateItem",
    "TenantItem",
    "TerminalEventItem",
    "TerminalItem",
    "TimeTransferItem",
    "Transaction",
    "TransferCodeItem",
    "VoucherBatchItem",
    "VoucherItem",
    "WebhookDeliveryItem",
    "WebhookEndpointItem",
    "all_models",
    "bind_table",
    "connection",
    "retry_transaction_conflict",
]
