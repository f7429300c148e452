// Merchants: list (server paging), add and edit (staff and admin). Reminders go to their phone
// and e-mail; each row links to the merchant's terminals.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { href } from "../router";
import { api } from "../session";
import { t, tn } from "../strings";
import { EditorRow, FormEnd, SaveForm, ToggleButton, useOpen, useSaveForm } from "../forms";
import { Field, ItemsTable, LoadState, Pager, usePaged } from "../ui";
import type { Merchant, MerchantPage } from "../../common/types";


export function Merchants({ canWrite }: { canWrite: boolean }) {
  const [round, setRound] = useState(0);
  const [q, setQ] = useState("");
  return <MerchantList key={`${round}|${q}`} q={q} onSearch={setQ} canWrite={canWrite} onChanged={() => setRound(round + 1)} />;
}

function MerchantList({ canWrite, onChanged, q, onSearch }: { canWrite: boolean; onChanged: () => void; q: string; onSearch: (q: string) => void }) {
  const [draft, setDraft] = useState(q);
  const paged = usePaged((cursor) => {
    const qs = new URLSearchParams({ limit: "50", sort: "name" });
    if (q) qs.set("q", q);
    if (cursor) qs.set("cursor", cursor);
    return api<MerchantPage>(`/v1/merchants?${qs}`);
  });
  const editing = useOpen<string>();
  return (
    <section class="stack" data-testid="view-merchants">
      <h1>{t("nav_merchants")}</h1>
      <p class="hint">{t("merchantsIntro")}</p>
      <form
        class="card row align-end"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          onSearch(draft.trim());
        }}
      >
        <Field id="m-q" label={t("merchantSearch")}>
          {(a) => <input {...a} type="search" maxLength={64} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} data-testid="merchant-search" />}
        </Field>
        <button type="submit" class="primary" data-testid="merchant-search-submit">
          {t("search")}
        </button>
      </form>
      {paged.data && typeof paged.data.total === "number" && (
        <p class="hint" data-testid="merchant-total">
          {tn("totalMerchants", paged.data.total)}
        </p>
      )}
      <LoadState load={paged} />
      <ItemsTable
        items={paged.data?.items}
        caption={t("nav_merchants")}
        testid="merchants-table"
        cols={[t("name"), t("contactName"), t("merchantPhone"), t("merchantEmail"), t("created"), t("actions")]}
      >
        {(m) => (
          <EditorRow key={m.merchant_id} open={editing.is(m.merchant_id)} span={6} editor={<MerchantForm merchant={m} onSaved={editing.closeAnd(paged.reload)} />}>
            <tr data-testid="merchant-row">
              <td>{m.name}</td>
              <td>{m.contact_name ?? "—"}</td>
              <td class="mono nowrap">{m.phone}</td>
              <td>{m.email ?? "—"}</td>
              <td class="nowrap">{moment(m.created_at)}</td>
              <td class="row">
                <a href={href("terminals", { merchant_id: m.merchant_id })}>{t("merchantTerminals")}</a>
                {canWrite && (
                  <ToggleButton
                    open={editing.is(m.merchant_id)}
                    onClick={() => editing.toggle(m.merchant_id)}
                    label={t("edit")}
                    ariaLabel={`${t("edit")} ${m.name}`}
                    testid="merchant-edit"
                  />
                )}
              </td>
            </tr>
          </EditorRow>
        )}
      </ItemsTable>
      <Pager of={paged} />
      {canWrite ? <MerchantForm onSaved={onChanged} /> : <p class="hint" data-testid="staff-only">{t("staffOnly")}</p>}
    </section>
  );
}

function MerchantForm({ merchant, onSaved }: { merchant?: Merchant; onSaved: () => void }) {
  const start = {
    name: merchant?.name ?? "",
    contact_name: merchant?.contact_name ?? "",
    phone: merchant?.phone ?? "",
    email: merchant?.email ?? "",
  };
  const edit = merchant && `/v1/merchants/${encodeURIComponent(merchant.merchant_id)}`;
  const { v, set, action, save } = useSaveForm(start, { create: "/v1/merchants", edit }, onSaved);
  const p = merchant ? `me-${merchant.merchant_id}` : "mn";
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = {};
    for (const k of ["name", "contact_name", "phone", "email"] as const) {
      const value = v[k].trim();
      if (merchant ? value !== (start[k] ?? "") : value) body[k] = value;
    }
    await save(body, t("merchantCreated"));
  };
  const fe = action.fieldError;
  const end = <FormEnd action={action} fields={["name", "contact_name", "phone", "email"]} status="merchant" label={merchant ? t("save") : t("createMerchant")} testid="merchant-submit" />;
  return (
    <SaveForm name="merchant" editing={!!merchant} title={merchant ? t("editMerchant", { name: merchant.name }) : t("newMerchant")} onSubmit={submit} end={end}>
      <Field id={`${p}-name`} label={t("name")} error={fe("name")}>
        {(a) => <input {...a} maxLength={100} value={v.name} onInput={set("name")} data-testid="merchant-name" />}
      </Field>
      <Field id={`${p}-contact`} label={t("contactName")} error={fe("contact_name")}>
        {(a) => <input {...a} maxLength={60} value={v.contact_name} onInput={set("contact_name")} />}
      </Field>
      <Field id={`${p}-phone`} label={t("merchantPhone")} hint={t("phoneHint")} error={fe("phone")}>
        {(a) => <input {...a} type="tel" inputMode="tel" value={v.phone} onInput={set("phone")} data-testid="merchant-phone" />}
      </Field>
      <Field id={`${p}-email`} label={t("merchantEmail")} error={fe("email")}>
        {(a) => <input {...a} type="email" value={v.email} onInput={set("email")} data-testid="merchant-email" />}
      </Field>
    </SaveForm>
  );
}
