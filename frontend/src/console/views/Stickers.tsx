// Printable QR sticker sheet: SN, TID, the agent's service phone and the QR code of the pay link for
// each chosen terminal, 3 × 8 per A4 page. The QR SVG needs the key, so it is fetched and shown from a blob URL.
import { useEffect, useState } from "preact/hooks";
import { api, apiBlob } from "../session";
import { errorText, t, tn } from "../strings";
import { phoneText } from "../../common/phone";
import { BackLink } from "../ui";
import type { Me, Terminal } from "../../common/types";

interface Sticker {
  sn: string;
  tid?: string;
  qr?: string;
  error?: string;
}

const PARALLEL = 4;
const MAX = 600;

export function Stickers({ sns }: { sns: string[] }) {
  const wanted = [...new Set(sns.map((s) => s.trim().toUpperCase()))].slice(0, MAX);
  const [stickers, setStickers] = useState<Sticker[]>(() => wanted.map((sn) => ({ sn })));
  const [done, setDone] = useState(0);
  // The service phone as it is now (it may have been set after this session signed in).
  const [phone, setPhone] = useState<string | null>(null);
  useEffect(() => {
    api<Me>("/v1/me").then(
      (me) => setPhone(me.service_phone ?? null),
      () => setPhone(null),
    );
  }, []);
  const key = wanted.join(",");
  useEffect(() => {
    let stop = false;
    const urls: string[] = [];
    const out: Sticker[] = wanted.map((sn) => ({ sn }));
    let next = 0;
    let finished = 0;
    const worker = async () => {
      while (!stop && next < wanted.length) {
        const i = next++;
        const sn = wanted[i];
        const path = `/v1/terminals/${encodeURIComponent(sn)}`;
        try {
          const [term, svg] = await Promise.all([api<Terminal>(path), apiBlob(`${path}/qr.svg`, { accept: "image/svg+xml" })]);
          const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
          urls.push(url);
          out[i] = { sn: term.sn, tid: term.tid, qr: url };
        } catch (e) {
          out[i] = { sn, error: errorText(e) };
        }
        finished++;
        if (!stop) {
          setStickers([...out]);
          setDone(finished);
        }
      }
    };
    setDone(0);
    Promise.all(Array.from({ length: Math.min(PARALLEL, wanted.length) }, worker));
    return () => {
      stop = true;
      urls.forEach((u) => URL.revokeObjectURL(u));
    };
  }, [key]);
  const ready = done === wanted.length;
  return (
    <section class="stack" data-testid="view-stickers">
      <div class="no-print stack">
        <BackLink to="terminals" label={t("backToFleet")} />
        <h1>{t("stickerSheet")}</h1>
        {wanted.length === 0 ? (
          <p>{t("noStickers")}</p>
        ) : (
          <>
            <p class="hint">{t("stickerHint")}</p>
            {sns.length > MAX && <p class="alert info">{t("stickerMax", { n: MAX })}</p>}
            <div class="row">
              <span role="status" data-testid="sticker-progress">
                {ready ? tn("stickersReady", wanted.length) : t("stickersLoading", { done, total: wanted.length })}
              </span>
              <button type="button" class="primary" disabled={!ready} onClick={() => window.print()} data-testid="print">
                {t("print")}
              </button>
            </div>
          </>
        )}
      </div>
      <ul class="sheet" aria-label={t("stickerSheet")} data-testid="sticker-sheet">
        {stickers.map((s) => (
          <li class="sticker" key={s.sn} data-testid="sticker">
            <div class="sticker-qr">
              {s.qr ? <img src={s.qr} alt={t("qrAlt", { sn: s.sn })} data-testid="sticker-qr" /> : s.error ? <span class="field-error">{s.error}</span> : <span class="hint">…</span>}
            </div>
            <div class="sticker-text">
              <div class="sticker-title">{t("stickerTitle")}</div>
              <div>
                SN <span class="mono" data-testid="sticker-sn">{s.sn}</span>
              </div>
              <div>
                TID <span class="mono" data-testid="sticker-tid">{s.tid ?? "—"}</span>
              </div>
              <div class="sticker-scan">{t("stickerScan")}</div>
              {phone && (
                <div class="sticker-phone" data-testid="sticker-phone">
                  {t("stickerPhone", { phone: phoneText(phone) })}
                </div>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
