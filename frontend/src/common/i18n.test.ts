import { describe, expect, it } from "vitest";
import { day, megabytes, money, translator } from "./i18n";

describe("money", () => {
  it("shows fen as yuan with two decimals and grouping, exactly", () => {
    expect(money(123450, "zh-CN")).toBe("¥1,234.50");
    expect(money(5, "en")).toBe("¥0.05");
    expect(money(-9900, "en")).toBe("-¥99.00");
    expect(money(900719925474099, "en")).toBe("¥9,007,199,254,740.99");
  });
});

describe("day", () => {
  it("formats a calendar date without a time-zone shift", () => {
    expect(day("2026-03-01", "zh-CN")).toBe("2026年3月1日");
    expect(day("2026-03-01", "en")).toBe("Mar 1, 2026");
    expect(day(null, "en")).toBe("—");
  });
});

describe("megabytes", () => {
  it("switches to GB above 1024 MB", () => {
    expect(megabytes(512, "en")).toBe("512 MB");
    expect(megabytes(3072, "en")).toBe("3 GB");
  });
});

describe("translator", () => {
  it("fills named placeholders", () => {
    const t = translator({ hi: "你好 {name}" }, { hi: "Hello {name}" });
    expect(t("hi", { name: "A" })).toBe("你好 A");
  });
});
