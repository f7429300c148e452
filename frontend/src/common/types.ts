// The API's answers as the UI uses them: aliases of the types openapi-typescript generates from the
// API's OpenAPI document (schema.d.ts, written by `make ui` from the response models in
// functions/api/chalicelib/responses/). Never declare an answer's shape by hand: add or change the
// model, rebuild, and alias it here (docs/architecture.md, "The response contract and the UI's types").
import type { components } from "./schema";

type Schemas = components["schemas"];

// tenants, keys, the platform
export type Me = Schemas["Me"];
export type Tenant = Schemas["Tenant"];
export type TenantSettings = Schemas["TenantSettings"];
export type TenantPage = Schemas["TenantPage"];
export type TenantState = Schemas["TenantState"];
export type TenantApproved = Schemas["TenantApproved"];
export type ApiKey = Schemas["ApiKey"];
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
export type ApiKeyPage = Schemas["ApiKeyPage"];

// the fleet
export type Merchant = Schemas["Merchant"];
export type MerchantCard = Schemas["MerchantCard"];
export type MerchantPage = Schemas["MerchantPage"];
export type Plan = Schemas["Plan"];
export type PlanPage = Schemas["PlanPage"];
export type Terminal = Schemas["Terminal"];
export type TerminalPage = Schemas["TerminalPage"];
export type TimeTransfer = Schemas["TimeTransfer"];
export type TransferCode = Schemas["TransferCode"];
export type TransferSide = Schemas["TransferSide"];

// carriers
export type CarrierState = Schemas["CarrierState"];
export type CarrierAccount = Schemas["CarrierAccount"];
export type CarrierAccountPage = Schemas["CarrierAccountPage"];
export type CarrierOperation = Schemas["CarrierOperation"];
export type CarrierOperationPage = Schemas["CarrierOperationPage"];
export type CarrierDrift = Schemas["CarrierDrift"];
export type CarrierDriftReport = Schemas["CarrierDriftReport"];

// imports and exports
// An import's status is a plain string in the document (the import_status vocabulary does not name
// awaiting_upload); the console has a text for each of these four.
export type ImportState = "awaiting_upload" | "running" | "done" | "failed";
export type Import = Omit<Schemas["Import"], "status"> & { status: ImportState };
export type ImportPage = Schemas["ImportPage"];
export type ImportSummary = Schemas["ImportSummary"];
export type ImportUpload = Schemas["ImportUpload"];
export type RowError = Schemas["RowError"];
export type UsageImport = Schemas["UsageImport"];
export type Export = Schemas["Export"];
export type ExportStarted = Schemas["ExportStarted"];

// orders, the ledger, vouchers
export type Order = Schemas["Order"];
export type OrderDetail = Schemas["OrderDetail"];
export type OrderLine = Schemas["OrderLine"];
export type OrderPage = Schemas["OrderPage"];
export type CreatedOrder = Schemas["CreatedOrder"];
export type Payment = Schemas["Payment"];
export type RenewalRecord = Schemas["RenewalRecord"];
export type RenewalPage = Schemas["RenewalPage"];
export type VoucherBatch = Schemas["VoucherBatch"];
export type VoucherBatchCreated = Schemas["VoucherBatchCreated"];
export type VoucherBatchPage = Schemas["VoucherBatchPage"];

// reports, notifications, webhooks
export type Dashboard = Schemas["Dashboard"];
export type RevenueReport = Schemas["RevenueReport"];
export type RevenueDay = Schemas["RevenueDay"];
export type SettlementDay = Schemas["SettlementDay"];
export type SettlementReport = Schemas["SettlementReport"];
export type ReconciliationReport = Schemas["ReconciliationReport"];
export type ReconciliationRow = Schemas["ReconciliationRow"];
export type ExpiringReport = Schemas["ExpiringReport"];
export type Notification = Schemas["Notification"];
export type NotificationPage = Schemas["NotificationPage"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type WebhookEndpointCreated = Schemas["WebhookEndpointCreated"];
export type WebhookEndpointPage = Schemas["WebhookEndpointPage"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookDeliveryPage = Schemas["WebhookDeliveryPage"];

// the pay page
export type PublicTerminal = Schemas["PublicTerminal"];
export type PublicPlan = Schemas["PublicPlan"];
export type PublicOrder = Schemas["PublicOrder"];
export type PublicOrderStatus = Schemas["PublicOrderStatus"];
export type PublicPaymentConfirmed = Schemas["PublicPaymentConfirmed"];
export type VoucherRedeemed = Schemas["VoucherRedeemed"];
