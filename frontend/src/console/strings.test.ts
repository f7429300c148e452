import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../common/api";
import { setLocale, waitUnit } from "../common/i18n";
import { errorText, label, tn } from "./strings";

afterEach(() => setLocale("zh-CN"));

describe("codes the API answers with", () => {
  it("are shown as words in both languages, never as the code", () => {
    expect(label("audit_action", "mark_paid")).toBe("标记线下收款");
    expect(label("notification_template", "grace_started")).toBe("已到期，宽限期开始");
    expect(label("notification_channel", "sms")).toBe("短信");
    setLocale("en");
    expect(label("ledger_kind", "renewal")).toBe("Renewal");
    expect(label("notification_state", "sent")).toBe("Sent");
    expect(label("role", "finance")).toBe("Finance");
  });
  it("show a value a newer API added as itself, and nothing as a dash", () => {
    expect(label("ledger_kind", "brand_new_kind")).toBe("brand_new_kind");
    expect(label("ledger_kind", null)).toBe("—");
  });
});

describe("plurals", () => {
  it("say 1 month and 2 months, 1 day left and 3 days left in English", () => {
    setLocale("en");
    expect(tn("months", 1)).toBe("1 month");
    expect(tn("months", 2)).toBe("2 months");
    expect(tn("daysLeft", 1)).toBe("1 day left");
    expect(tn("daysLeft", 3)).toBe("3 days left");
    expect(tn("expiringTotal", 1, { days: 30 })).toBe("1 terminal expires in the next 30 days.");
  });
  it("need no plural in Chinese", () => {
    expect(tn("months", 1)).toBe("1 个月");
    expect(tn("months", 2)).toBe("2 个月");
  });
});

describe("waits", () => {
  it("are told in minutes or hours, not thousands of seconds", () => {
    expect(waitUnit(30)).toEqual({ unit: "s", n: 30 });
    expect(waitUnit(2434)).toEqual({ unit: "min", n: 41 });
    expect(waitUnit(7200)).toEqual({ unit: "h", n: 2 });
    expect(errorText(new ApiError(429, "rate_limited", "slow down", undefined, 2434))).toBe("操作过于频繁，请约 41 分钟后再试。");
    setLocale("en");
    expect(errorText(new ApiError(429, "rate_limited", "slow down", undefined, 2434))).toBe("Too many requests. Try again in about 41 minutes.");
    expect(errorText(new ApiError(429, "rate_limited", "slow down", undefined, 20))).toBe("Too many requests. Try again in 20 s.");
  });
});
