// The API's vocabularies (the `x-enum` components of its OpenAPI document, in the API's order), for
// the lists of choices the UI offers: vite.config.ts reads them from frontend/openapi.json when it
// builds, so a value the API adds is offered without typing the list again here.
import type { components } from "./schema";

type Schemas = components["schemas"];

/** The vocabularies the UI offers as choices, named as in the document's `x-enum`. */
export interface ApiEnums {
  webhook_event: Schemas["WebhookEvent"][];
  account_carrier: Schemas["AccountCarrier"][];
  carrier_platform: Schemas["CarrierPlatform"][];
  payment_method: Schemas["PaymentMethod"][];
}

declare const __API_ENUMS__: ApiEnums;

export const API_ENUMS: ApiEnums = __API_ENUMS__;
