import { describe, expect, it } from "vitest";
import { fenToYuanText, parseYuan, todayIso } from "./format";

describe("parseYuan", () => {
  it("turns yuan text into integer fen without floating point", () => {
    expect(parseYuan("12.34")).toBe(1234);
    expect(parseYuan("0.1")).toBe(10);
    expect(parseYuan("0.29")).toBe(29);
    expect(parseYuan("1.005")).toBeNull();
    expect(parseYuan("19.99")).toBe(1999);
    expect(parseYuan("¥1,234.5")).toBe(123450);
    expect(parseYuan("99")).toBe(9900);
    expect(parseYuan(".5")).toBe(50);
    expect(parseYuan("12.")).toBe(1200);
  });
  it("refuses what is not an amount", () => {
    for (const bad of ["", "-1", "abc", "1e3", "12.3.4", "."]) expect(parseYuan(bad)).toBeNull();
  });
  it("round-trips with fenToYuanText", () => {
    for (const fen of [0, 1, 99, 100, 1234, 9007199254740]) expect(parseYuan(fenToYuanText(fen))).toBe(fen);
  });
});

describe("todayIso", () => {
  // 16:30 UTC on Dec 1 is already Dec 2 in Shanghai: the reports' default day is the agent's.
  const lateUtc = new Date(Date.UTC(2026, 11, 1, 16, 30));
  it("gives the date in the agent's time zone, not the browser's", () => {
    expect(todayIso("Asia/Shanghai", lateUtc)).toBe("2026-12-02");
    expect(todayIso("UTC", lateUtc)).toBe("2026-12-01");
    expect(todayIso("America/Los_Angeles", lateUtc)).toBe("2026-12-01");
  });
  it("falls back to the browser's date for an unknown zone", () => {
    expect(todayIso("Not/AZone", lateUtc)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
