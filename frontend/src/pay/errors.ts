// Every API error the pay page can meet, told in the merchant's language: by error code where
// one has its own words, else by status. The server's `message` (English, for developers) is
// never shown.
import { ApiError } from "../common/api";
import { waitUnit } from "../common/i18n";
import { type Key, t } from "./strings";

const BY_CODE: Record<string, Key> = {
  amount_too_large: "err.amount_too_large",
  too_many_orders: "err.too_many_orders",
  unknown_plan: "err.unknown_plan",
  plan_not_found: "err.unknown_plan",
  plan_inactive: "err.plan_inactive",
  order_not_found: "err.order_not_found",
  order_not_payable: "err.order_not_payable",
  order_expired: "expired",
  terminal_not_found: "notFound",
  terminal_deactivated: "notRenewable",
  invalid_sn: "err.invalid_identifier",
  invalid_tid: "err.invalid_identifier",
  invalid_voucher: "voucherInvalid",
  invalid_code: "voucherInvalid",
  card_declined: "cardDeclined",
  invalid_payment_method: "err.invalid_payment_method",
  invalid_json: "err.body",
  body_too_large: "err.body",
  body_too_deep: "err.body",
  unsupported_media_type: "err.body",
  headers_too_large: "err.body",
  origin_required: "err.forbidden",
};

export function explain(e: unknown): string {
  if (!(e instanceof ApiError)) return t("serverError");
  if (e.status === 0) return t("network");
  const wait = { s: e.retryAfterS ?? 60 };
  const key = BY_CODE[e.code];
  if (key) return t(key, wait);
  if (e.status === 404) return t("notFound");
  if (e.status === 429) {
    const w = waitUnit(wait.s);
    return w.unit === "s" ? t("rateLimited", wait) : t("rateLimitedMinutes", { m: w.unit === "h" ? w.n * 60 : w.n });
  }
  if (e.status >= 500) return t("serverError");
  if (e.status === 403) return t("err.forbidden");
  if (e.status === 409) return t("err.conflict");
  if (e.status === 422) return t("err.rule");
  return t("err.input");
}
