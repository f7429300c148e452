// Languages: zh-CN (default) and English, switchable and remembered in localStorage; dates
// and money formatted for the locale. Money stays integer fen until it is shown.

export type Locale = "zh-CN" | "en";
export const LOCALES: Locale[] = ["zh-CN", "en"];
const STORE = "simrenew.locale";

type Listener = (l: Locale) => void;
const listeners = new Set<Listener>();

function initial(): Locale {
  try {
    const asked = new URLSearchParams(location.search).get("lang");
    if (asked === "en" || asked === "zh-CN") return asked;
    const saved = localStorage.getItem(STORE);
    if (saved === "en" || saved === "zh-CN") return saved;
  } catch {
    /* storage blocked (private mode): default */
  }
  return "zh-CN";
}

let current: Locale = typeof location === "undefined" ? "zh-CN" : initial();

export function locale(): Locale {
  return current;
}

export function setLocale(l: Locale): void {
  current = l;
  try {
    localStorage.setItem(STORE, l);
  } catch {
    /* not remembered, still switched */
  }
  if (typeof document !== "undefined") document.documentElement.lang = l;
  listeners.forEach((f) => f(l));
}

export function onLocale(f: Listener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** A dictionary per language; the English one must have every key of the Chinese one (tsc checks). */
export type Dict<K extends string> = Record<K, string>;

export function translator<K extends string>(zh: Dict<K>, en: Dict<K>) {
  return (key: K, vars?: Record<string, string | number>): string => {
    let text = (current === "en" ? en : zh)[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
    return text;
  };
}

/** ¥1,234.50 from 123450 fen; exact for any safe integer. */
export function money(fen: number, l: Locale = current, currency = "CNY"): string {
  const negative = fen < 0;
  const abs = Math.abs(Math.trunc(fen));
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  const grouped = new Intl.NumberFormat(l, { maximumFractionDigits: 0 }).format(yuan);
  const symbol = currency === "CNY" ? "¥" : `${currency} `;
  return `${negative ? "-" : ""}${symbol}${grouped}.${String(cents).padStart(2, "0")}`;
}

/** A calendar date (YYYY-MM-DD) for the locale, without any time-zone shift. */
export function day(iso: string | null | undefined, l: Locale = current): string {
  if (!iso) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(l, { year: "numeric", month: l === "en" ? "short" : "long", day: "numeric", timeZone: "UTC" }).format(d);
}

/** An ISO timestamp in the viewer's time zone. */
export function moment(iso: string | null | undefined, l: Locale = current): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

export function megabytes(mb: number | null | undefined, l: Locale = current): string {
  if (mb === null || mb === undefined) return "—";
  if (mb >= 1024) return `${new Intl.NumberFormat(l, { maximumFractionDigits: 1 }).format(mb / 1024)} GB`;
  return `${new Intl.NumberFormat(l).format(mb)} MB`;
}

/** A wait the API gives in seconds (Retry-After), in the unit people say it in: seconds below 90 s,
 * then whole minutes, then hours from 90 minutes. {unit: "s" | "min" | "h", n}. */
export function waitUnit(seconds: number): { unit: "s" | "min" | "h"; n: number } {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 90) return { unit: "s", n: s };
  if (s < 90 * 60) return { unit: "min", n: Math.round(s / 60) };
  return { unit: "h", n: Math.round(s / 3600) };
}
