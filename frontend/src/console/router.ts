// Hash routing: #/terminals/SN-1?x=y → { parts: ["terminals", "SN-1"], query }.
import { useEffect, useMemo, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(qs) };
}

/** The window's hash, followed: `seen` gets each new hash, and once more right after subscribing,
 * because the hash may have changed between the first render and the effect that subscribes
 * (a link followed, or an address typed, while the console mounts): that change fires its
 * `hashchange` before anyone listens. Returns the unsubscribe. */
export function followHash(
  win: Pick<Window, "addEventListener" | "removeEventListener">,
  read: () => string,
  seen: (hash: string) => void,
): () => void {
  const on = () => seen(read());
  win.addEventListener("hashchange", on);
  on();
  return () => win.removeEventListener("hashchange", on);
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => followHash(window, () => location.hash, setHash), []);
  return useMemo(() => parseHash(hash), [hash]);
}

export function href(path: string, query?: Record<string, string | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) qs.set(k, v);
  const s = qs.toString();
  return `#/${path}${s ? `?${s}` : ""}`;
}

export function go(path: string, query?: Record<string, string | undefined | null>): void {
  location.hash = href(path, query);
}
