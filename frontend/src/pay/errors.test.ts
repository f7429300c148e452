import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../common/api";
import { setLocale } from "../common/i18n";
import { explain } from "./errors";

const SERVER_TEXT = "an order may not exceed 1000000 fen";
const CASES: [number, string][] = [
  [422, "amount_too_large"],
  [429, "too_many_orders"],
  [429, "rate_limited"],
  [400, "unknown_plan"],
  [409, "order_not_payable"],
  [404, "order_not_found"],
  [404, "terminal_not_found"],
  [422, "terminal_deactivated"],
  [400, "invalid_sn"],
  [400, "invalid_voucher"],
  [402, "card_declined"],
  [400, "invalid_json"],
  [413, "body_too_large"],
  [400, "body_too_deep"],
  [415, "unsupported_media_type"],
  [403, "origin_required"],
  [400, "some_code_the_page_does_not_know"],
  [409, "conflict"],
  [422, "rule_violation"],
  [503, "service_unavailable"],
];

afterEach(() => setLocale("zh-CN"));

describe("explain", () => {
  it("tells every API error in the merchant's language, never the server's English text", () => {
    for (const [status, code] of CASES) {
      const err = new ApiError(status, code, SERVER_TEXT, undefined, 30);
      setLocale("zh-CN");
      const zh = explain(err);
      setLocale("en");
      const en = explain(err);
      expect(zh, code).not.toContain(SERVER_TEXT);
      expect(en, code).not.toContain(SERVER_TEXT);
      expect(zh, code).toMatch(/[\u4e00-\u9fff]/);
      expect(en, code).not.toMatch(/[\u4e00-\u9fff]/);
      expect(zh, code).not.toMatch(/^err\./); // a key without words
    }
  });

  it("names the order limit in words for amount_too_large", () => {
    setLocale("en");
    expect(explain(new ApiError(422, "amount_too_large", SERVER_TEXT))).toContain("maximum");
  });
});

describe("a long wait", () => {
  it("is told in minutes", () => {
    expect(explain(new ApiError(429, "rate_limited", SERVER_TEXT, undefined, 2434))).toBe("查询太频繁，请约 41 分钟后再试。");
    setLocale("en");
    expect(explain(new ApiError(429, "rate_limited", SERVER_TEXT, undefined, 2434))).toBe("Too many look-ups. Please try again in about 41 minutes.");
  });
});
