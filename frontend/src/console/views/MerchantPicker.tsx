// A searchable merchant picker: type part of a name or phone, choose from the matches
// (GET /v1/merchants?q=&sort=name); the chosen merchant is shown by name, never as an m_… id.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../session";
import { t } from "../strings";
import type { MerchantCard, MerchantPage } from "../../common/types";


export function MerchantPicker(props: {
  id: string;
  label: string;
  value: string;
  onChange: (merchantId: string) => void;
  error?: string;
  testid?: string;
}) {
  const [q, setQ] = useState("");
  const [chosen, setChosen] = useState<MerchantCard | null>(null);
  const [found, setFound] = useState<MerchantCard[] | null>(null);
  const seq = useRef(0);
  useEffect(() => {
    if (!props.value) return setChosen(null);
    if (chosen?.merchant_id === props.value) return;
    api<MerchantCard>(`/v1/merchants/${encodeURIComponent(props.value)}`).then(setChosen, () => setChosen(null));
  }, [props.value]);
  useEffect(() => {
    const mine = ++seq.current;
    if (!q.trim()) return setFound(null);
    const timer = setTimeout(() => {
      const qs = new URLSearchParams({ q: q.trim(), sort: "name", limit: "8" });
      api<MerchantPage>(`/v1/merchants?${qs}`).then(
        (page) => mine === seq.current && setFound(page.items),
        () => mine === seq.current && setFound([]),
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [q]);
  const pick = (m: MerchantCard | null) => {
    setChosen(m);
    setQ("");
    setFound(null);
    props.onChange(m ? m.merchant_id : "");
  };
  const testid = props.testid ?? props.id;
  return (
    <div class="field merchant-picker" data-testid={testid}>
      <label for={props.id}>{props.label}</label>
      <div class="row">
        <span data-testid={`${testid}-chosen`}>{chosen ? t("merchantChosen", { name: chosen.name }) : t("merchantNone")}</span>
        {chosen && (
          <button type="button" onClick={() => pick(null)} data-testid={`${testid}-clear`}>
            {t("clear")}
          </button>
        )}
      </div>
      <input
        id={props.id}
        type="search"
        maxLength={64}
        placeholder={t("merchantSearch")}
        aria-label={t("merchantSearch")}
        aria-invalid={props.error ? "true" : undefined}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
        data-testid={`${testid}-search`}
      />
      {found && (
        <ul class="picker-list" role="listbox" aria-label={t("merchantPicker")} data-testid={`${testid}-options`}>
          {found.length === 0 && <li class="hint">{t("merchantNoMatch")}</li>}
          {found.map((m) => (
            <li key={m.merchant_id} role="option" aria-selected={m.merchant_id === props.value ? "true" : "false"}>
              <button type="button" class="link" onClick={() => pick(m)} data-testid={`${testid}-option`}>
                {m.name} <span class="hint">{m.phone}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <div class="field-error" role="alert" data-testid={`error-${props.id}`}>
          {props.error}
        </div>
      )}
    </div>
  );
}
