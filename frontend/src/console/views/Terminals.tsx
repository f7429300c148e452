// The fleet: search, filters and server paging (never the whole fleet); select rows to print
// QR stickers; export the filtered fleet as CSV.
import { useState } from "preact/hooks";
import { day, locale, megabytes } from "../../common/i18n";
import { go, href } from "../router";
import { api, canWrite, session } from "../session";
import { saveCsv } from "../transfer";
import { t, tn, type Key } from "../strings";
import { MerchantPicker } from "./MerchantPicker";
import { FilterButtons, SelectField, useFields } from "../forms";
import { Badge, Field, ItemsTable, LoadState, Pager, SnLink, riskRecent, useAction, usePaged } from "../ui";
import { driftLabel } from "./Carrier";
import type { TerminalPage } from "../../common/types";


export const TERMINAL_STATUSES = ["active", "expiring", "grace", "suspended", "inventory", "deactivated"];
const FILTERS = ["q", "status", "expires_before", "merchant_id", "sort", "carrier", "limit"] as const;
const SORTS = ["sn", "expires_on", "-expires_on", "name"] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

// The selection survives filter changes and visits to a terminal's page (not a reload).
let kept = new Set<string>();

function filtersFrom(query: URLSearchParams): Filters {
  const f = {} as Filters;
  for (const k of FILTERS) f[k] = query.get(k) ?? "";
  return f;
}

function listQuery(f: Filters, cursor: string | null): string {
  const qs = new URLSearchParams();
  for (const k of FILTERS) if (f[k]) qs.set(k, f[k]);
  if (!qs.has("limit")) qs.set("limit", "50");
  if (cursor) qs.set("cursor", cursor);
  return qs.toString();
}

export function Terminals({ query }: { query: URLSearchParams }) {
  const applied = filtersFrom(query);
  const { v: draft, setV: setDraft, set } = useFields<Filters>(applied);
  const [selected, setSelectedState] = useState<Set<string>>(kept);
  const setSelected = (next: Set<string>) => {
    kept = next;
    setSelectedState(next);
  };
  const exporting = useAction();
  const me = session();
  const submit = (e: Event) => {
    e.preventDefault();
    go("terminals", draft);
  };
  const reset = () => {
    const empty = filtersFrom(new URLSearchParams());
    setDraft(empty);
    go("terminals");
  };
  const exportCsv = () =>
    exporting.run(async () => {
      const qs = new URLSearchParams(listQuery(applied, null));
      qs.delete("limit");
      await saveCsv(`/v1/terminals?${qs}`, "terminals.csv", "terminals", Object.fromEntries(qs));
    });
  return (
    <section class="stack" data-testid="view-terminals">
      <div class="row spread">
        <h1>{t("nav_terminals")}</h1>
        <div class="row">
          {canWrite(me) && (
            <a class="button" href={href("register")} data-testid="open-register">
              {t("nav_register")}
            </a>
          )}
          {me?.admin && (
            <a class="button" href={href("claim")} data-testid="open-claim">
              {t("nav_claim")}
            </a>
          )}
        </div>
      </div>
      <form class="card filters" role="search" onSubmit={submit} data-testid="terminal-filters">
        <div class="grid">
          <Field id="f-q" label={t("searchAny")} hint={t("searchAnyHint")}>
            {(a) => <input {...a} type="search" maxLength={64} value={draft.q} onInput={set("q")} data-testid="terminal-search" />}
          </Field>
          <SelectField
            id="f-status"
            label={t("status")}
            value={draft.status}
            onChange={set("status")}
            blank={t("all")}
            options={TERMINAL_STATUSES.map((s) => [s, t(`st_${s}` as "st_active")])}
            testid="filter-status"
          />
          <Field id="f-exp" label={t("expiresBefore")}>
            {(a) => <input {...a} type="date" value={draft.expires_before} onInput={set("expires_before")} />}
          </Field>
          <MerchantPicker
            id="f-merchant"
            label={t("merchant")}
            value={draft.merchant_id}
            onChange={(id) => setDraft({ ...draft, merchant_id: id })}
            testid="filter-merchant"
          />
          <SelectField id="f-sort" label={t("sortBy")} value={draft.sort || "sn"} onChange={set("sort")} options={SORTS.map((k) => [k, t(`sort_${k}` as Key)])} testid="filter-sort" />
          <div class="check">
            <input
              type="checkbox"
              id="f-carrier"
              checked={draft.carrier === "disagrees"}
              onChange={(e) => setDraft({ ...draft, carrier: e.currentTarget.checked ? "disagrees" : "" })}
              data-testid="filter-carrier"
            />
            <label for="f-carrier">{t("carrierDisagrees")}</label>
          </div>
          <SelectField id="f-limit" label={t("perPage")} value={draft.limit || "50"} onChange={set("limit")} options={["25", "50", "100", "200"].map((n) => [n, n])} />
        </div>
        <FilterButtons search="terminal-search-submit" onReset={reset} exporting={exporting} onExport={exportCsv} exportTestid="terminal-export" />
      </form>
      <div class="row selection-bar" aria-live="polite">
        <span data-testid="selected-count">{t("selectedN", { n: selected.size })}</span>
        <button
          type="button"
          class="primary"
          disabled={selected.size === 0}
          onClick={() => go("stickers", { sns: [...selected].join(",") })}
          data-testid="print-stickers"
        >
          {t("printStickers")}
        </button>
        {selected.size > 0 && (
          <button type="button" onClick={() => setSelected(new Set())}>
            {t("clearSelection")}
          </button>
        )}
      </div>
      <TerminalTable key={listQuery(applied, null)} filters={applied} selected={selected} setSelected={setSelected} />
    </section>
  );
}

function TerminalTable(props: { filters: Filters; selected: Set<string>; setSelected: (s: Set<string>) => void }) {
  const paged = usePaged((cursor) => api<TerminalPage>(`/v1/terminals?${listQuery(props.filters, cursor)}`));
  const items = paged.data?.items ?? [];
  const l = locale();
  const allOnPage = items.length > 0 && items.every((i) => props.selected.has(i.sn));
  const toggle = (sn: string, on: boolean) => {
    const next = new Set(props.selected);
    if (on) next.add(sn);
    else next.delete(sn);
    props.setSelected(next);
  };
  const toggleAll = (on: boolean) => {
    const next = new Set(props.selected);
    items.forEach((i) => (on ? next.add(i.sn) : next.delete(i.sn)));
    props.setSelected(next);
  };
  return (
    <div class="stack">
      <LoadState load={paged} always />
      {paged.data && typeof paged.data.total === "number" && (
        <p class="hint" data-testid="terminal-total">
          {tn("totalTerminals", paged.data.total)}
        </p>
      )}
      <ItemsTable
        items={paged.data?.items}
        caption={t("nav_terminals")}
        testid="terminal-table"
        cols={[
          <input
            type="checkbox"
            id="select-all"
            aria-label={t("selectAllOnPage")}
            checked={allOnPage}
            onChange={(e) => toggleAll(e.currentTarget.checked)}
            data-testid="select-all"
          />,
          "SN",
          "TID",
          t("merchant"),
          t("status"),
          t("expiresOn"),
          t("carrier"),
          t("model"),
          t("dataUsage"),
        ]}
      >
        {(x) => (
          <tr key={x.sn} data-testid="terminal-row">
            <td>
              <input
                type="checkbox"
                aria-label={t("selectTerminal", { sn: x.sn })}
                checked={props.selected.has(x.sn)}
                onChange={(e) => toggle(x.sn, e.currentTarget.checked)}
                data-testid={`select-${x.sn}`}
              />
            </td>
            <td class="mono">
              <SnLink sn={x.sn} testid="terminal-link" />
            </td>
            <td class="mono">{x.tid}</td>
            <td data-testid="terminal-merchant">
              {x.merchant ? (
                <>
                  {x.merchant.name}
                  <div class="hint mono">{x.merchant.phone}</div>
                </>
              ) : (
                "—"
              )}
            </td>
            <td>
              <Badge status={x.status} />
              {x.expiring && x.status === "active" && (
                <>
                  {" "}
                  <Badge status="expiring" />
                </>
              )}
              {riskRecent(x.risk_flagged_at) && (
                <>
                  {" "}
                  <Badge status="risk" />
                </>
              )}
              {x.carrier_state?.drift && <div class="hint" data-testid="carrier-drift">{driftLabel(x.carrier_state.drift)}</div>}
            </td>
            <td class="nowrap">
              {day(x.expires_on)}
              <div class="hint">{daysLeft(x.days_left)}</div>
            </td>
            <td>{carrierLabel(x.carrier)}</td>
            <td>{x.model}</td>
            <td class="nowrap">
              {megabytes(x.data_used_mb ?? 0, l)} / {megabytes(x.data_quota_mb, l)}
            </td>
          </tr>
        )}
      </ItemsTable>
      <Pager of={paged} />
    </div>
  );
}

export function daysLeft(n: number): string {
  if (n === 0) return t("expiresToday");
  return n > 0 ? tn("daysLeft", n) : tn("daysAgo", -n);
}

export function carrierLabel(c: string | null): string {
  if (!c) return "—";
  const k = { CMCC: "carrier_CMCC", CUCC: "carrier_CUCC", CTCC: "carrier_CTCC", OTHER: "carrier_OTHER" }[c];
  return k ? t(k as "carrier_CMCC") : c;
}
