import { describe, expect, it } from "vitest";
import { followHash, href, parseHash } from "./router";

/** A window stand-in: its hash and its hashchange listeners. */
function fakeWindow(hash: string) {
  const listeners = new Set<() => void>();
  return {
    hash,
    listeners,
    addEventListener: (_: string, f: () => void) => void listeners.add(f),
    removeEventListener: (_: string, f: () => void) => void listeners.delete(f),
    navigate(to: string) {
      this.hash = to;
      listeners.forEach((f) => f());
    },
  };
}

describe("followHash", () => {
  it("sees a hash that changed before it subscribed (the page opened while the console mounted)", () => {
    const win = fakeWindow("#/dashboard");
    const rendered = win.hash; // the first render read this
    win.navigate("#/merchants"); // nobody listens yet: this hashchange is lost
    const seen: string[] = [rendered];
    followHash(win as unknown as Window, () => win.hash, (h) => seen.push(h));
    expect(seen[seen.length - 1]).toBe("#/merchants");
  });

  it("follows later changes and stops when unsubscribed", () => {
    const win = fakeWindow("#/dashboard");
    const seen: string[] = [];
    const stop = followHash(win as unknown as Window, () => win.hash, (h) => seen.push(h));
    win.navigate("#/orders");
    stop();
    win.navigate("#/plans");
    expect(seen).toEqual(["#/dashboard", "#/orders"]);
    expect(win.listeners.size).toBe(0);
  });
});

describe("parseHash and href", () => {
  it("round-trips a path and its query", () => {
    const r = parseHash(href("terminals", { merchant_id: "m_1", q: undefined }));
    expect(r.parts).toEqual(["terminals"]);
    expect(r.query.get("merchant_id")).toBe("m_1");
    expect(r.query.has("q")).toBe(false);
  });
});
