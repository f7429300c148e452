// The colour pairs the UI puts text on meet WCAG AA (4.5:1), read from base.css itself so a
// changed token fails here instead of on a merchant's phone in the sun.
import { describe, expect, it } from "vitest";
import css from "./base.css?raw";

const token = (name: string): string => {
  const m = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css);
  if (!m) throw new Error(`no --${name} in base.css`);
  return m[1];
};

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe("contrast", () => {
  const pairs: [string, string][] = [
    ["text", "bg"],
    ["text", "surface"],
    ["muted", "bg"],
    ["muted", "surface"],
    ["primary", "surface"],
    ["primary-text", "primary"],
    ["ok", "surface"],
    ["warn", "surface"],
    ["bad", "surface"],
  ];
  for (const [fg, bg] of pairs) {
    it(`--${fg} on --${bg} is at least 4.5:1`, () => {
      expect(contrast(token(fg), token(bg))).toBeGreaterThanOrEqual(4.5);
    });
  }
  it("the alert backgrounds keep their text readable", () => {
    expect(contrast(token("bad"), "#fdecea")).toBeGreaterThanOrEqual(4.5);
    expect(contrast(token("ok"), "#e7f4ea")).toBeGreaterThanOrEqual(4.5);
  });
  it("measures a known pair", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
  });
});
