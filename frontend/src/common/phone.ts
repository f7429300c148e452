// Phone numbers as people in China read them: the API gives E.164 ("+8613812345678"); a mobile is
// shown 138 1234 5678, a 400/800 service number 400 812 3456, a landline with its trunk 0 (0755 1234 5678).
// Shared by the pay page and the console's stickers; kept tiny for the pay page's budget.

export function phoneText(e164: string): string {
  const m = /^\+86(\d+)$/.exec(e164);
  if (!m) return e164;
  const n = m[1];
  if (/^1\d{10}$/.test(n)) return `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
  if (/^[48]00\d{7}$/.test(n)) return `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
  // Area codes: 2 digits for 10 and 2x (Beijing, Shanghai, Guangzhou...), else 3 (755 Shenzhen).
  const area = /^(10|2\d)/.test(n) ? 2 : 3;
  const local = n.slice(area);
  return `0${n.slice(0, area)} ${local.length === 8 ? `${local.slice(0, 4)} ${local.slice(4)}` : local}`;
}

/** The tel: link of an E.164 number (dialable as is from a phone in China or abroad). */
export function telHref(e164: string): string {
  return `tel:${e164.replace(/[^+\d]/g, "")}`;
}
