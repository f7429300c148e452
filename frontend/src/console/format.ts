// Small pure helpers: yuan text ↔ integer fen (no floats), CSV building, saving a Blob.

/** "12.34" → 1234, "12" → 1200, "¥1,234.5" → 123450; null when it is not an amount. */
export function parseYuan(input: string): number | null {
  const s = input.replace(/[¥,，\s]/g, "").replace(/^CNY/i, "");
  const m = /^(\d{1,12})(?:\.(\d{0,2}))?$/.exec(s) ?? /^()\.(\d{1,2})$/.exec(s);
  if (!m) return null;
  const whole = m[1] ? Number(m[1]) : 0;
  const cents = Number(((m[2] ?? "") + "00").slice(0, 2));
  const fen = whole * 100 + cents;
  return Number.isSafeInteger(fen) ? fen : null;
}

/** 1234 → "12.34" (for a form field). */
export function fenToYuanText(fen: number): string {
  const abs = Math.abs(Math.trunc(fen));
  return `${fen < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function cell(value: unknown): string {
  let s = value === null || value === undefined ? "" : String(value);
  // A spreadsheet must not run a cell as a formula.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text with a UTF-8 BOM so Excel opens Chinese correctly. */
export function csvBlob(rows: unknown[][]): Blob {
  const text = rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
  return new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" });
}

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Today's date (YYYY-MM-DD) in the agent's time zone: its reports count days there, not in the browser's. */
export function todayIso(timeZone?: string | null, now: Date = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timeZone ?? undefined,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(now);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
    return `${part("year")}-${part("month")}-${part("day")}`;
  } catch {
    // An unknown zone (an old browser): the browser's own date.
    return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  }
}

export function addDaysIso(iso: string, days: number): string {
  const [y, m, d] = iso.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return t.toISOString().slice(0, 10);
}

export function number(n: number | null | undefined, l: string): string {
  if (n === null || n === undefined) return "—";
  return new Intl.NumberFormat(l).format(n);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
