// Reports: revenue per day, the settlement (admin), terminals expiring, the day's reconciliation;
// each also as CSV.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { day, locale, money } from "../../common/i18n";
import { addDaysIso, number, saveBlob, todayIso } from "../format";
import { href } from "../router";
import { api, apiBlob, session } from "../session";
import { saveCsv } from "../transfer";
import { label, t, tn } from "../strings";
import { BusyButton, type Action } from "../forms";
import { Badge, ErrorAlert, Field, ItemsTable, SnLink, Submit, Table, useAction } from "../ui";
import { WeekChart } from "./Dashboard";
import { daysLeft } from "./Terminals";
import type { ExpiringReport as Expiring, ReconciliationReport as Recon, ReconciliationRow as ReconRow, RevenueReport as Revenue, SettlementDay as SettlementRow, SettlementReport as Settlement } from "../../common/types";


function useCsv() {
  const action = useAction();
  const get = (path: string, name: string, kind?: string, filters: Record<string, string> = {}) =>
    action.run(async () => (kind ? saveCsv(path, name, kind, filters) : saveBlob(await apiBlob(path, { accept: "text/csv" }), name)));
  return { action, get };
}

/** A report shown from its form: loaded on submit (and at once, unless `lazy`), its CSV on demand. */
function useReport<T>(path: () => string, lazy = false) {
  const [data, setData] = useState<T | null>(null);
  const action = useAction();
  const csv = useCsv();
  const load = async () => {
    const out = await action.run(() => api<T>(path()));
    if (out) setData(out);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    load();
  };
  useEffect(() => {
    if (!lazy) void load();
  }, []);
  return { data, action, csv, submit };
}

/** From the first of this month (the agent's time zone) to today, as the revenue and settlement start. */
function useMonthToDate() {
  const today = todayIso(session()?.timezone);
  const [from, setFrom] = useState(today.slice(0, 8) + "01");
  const [to, setTo] = useState(today);
  return { from, setFrom, to, setTo, qs: () => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` };
}

/** The report `name` over a range of days (month to date at first): /v1/reports/`name`?from=…&to=…,
 * its CSV saved as `name`-from-to.csv. */
function useRangeReport<T>(name: string) {
  const range = useMonthToDate();
  const path = () => `/v1/reports/${name}?${range.qs()}`;
  const report = useReport<T>(path);
  return { ...report, name, range, saveCsv: () => report.csv.get(path(), `${name}-${range.from}-${range.to}.csv`) };
}

/** The form of a range report: its from and to fields (ids `id`-from and `id`-to; test ids `testid`-from and -to). */
function RangeReportForm({ report, id, testid }: { report: ReturnType<typeof useRangeReport>; id: string; testid?: string }) {
  const { range, action } = report;
  return (
    <ReportForm report={report} name={report.name} fields={["from", "to"]} onCsv={report.saveCsv}>
      <Field id={`${id}-from`} label={t("from")} error={action.fieldError("from")}>
        {(a) => <input {...a} type="date" value={range.from} onInput={(e) => range.setFrom(e.currentTarget.value)} data-testid={testid && `${testid}-from`} />}
      </Field>
      <Field id={`${id}-to`} label={t("to")} error={action.fieldError("to")}>
        {(a) => <input {...a} type="date" value={range.to} onInput={(e) => range.setTo(e.currentTarget.value)} data-testid={testid && `${testid}-to`} />}
      </Field>
    </ReportForm>
  );
}

/** A report's form: its `children` (the fields), Show and the CSV download (test ids `name`-show and
 * `name`-csv); then the report's error, unless one of `fields` shows it, and the download's. */
function ReportForm(props: {
  report: { action: Action; csv: ReturnType<typeof useCsv>; submit: (e: Event) => void };
  name: string;
  fields: string[];
  onCsv: () => unknown;
  children: ComponentChildren;
}) {
  const { action, csv, submit } = props.report;
  return (
    <>
      <form class="row align-end" onSubmit={submit} noValidate>
        {props.children}
        <div class="field row">
          <Submit busy={action.busy} label={t("show")} testid={`${props.name}-show`} />
          <BusyButton busy={csv.action.busy} label={t("downloadCsv")} onClick={props.onCsv} testid={`${props.name}-csv`} />
        </div>
      </form>
      <ErrorAlert error={props.fields.some((f) => action.fieldError(f)) ? null : action.error} />
      <ErrorAlert error={csv.action.error} />
    </>
  );
}

export function Reports({ admin }: { admin: boolean }) {
  return (
    <section class="stack" data-testid="view-reports">
      <h1>{t("nav_reports")}</h1>
      <RevenueReport />
      {admin && <SettlementReport />}
      <ExpiringReport />
      <ReconReport />
    </section>
  );
}

function RevenueReport() {
  const report = useRangeReport<Revenue>("revenue");
  const { data } = report;
  const l = locale();
  return (
    <div class="card stack" data-testid="report-revenue">
      <h2>{t("revenueReport")}</h2>
      <RangeReportForm report={report} id="rv" />
      {data && (
        <Table caption={t("revenueReport")} testid="revenue-table" cols={[t("date"), t("ordersCount"), t("gross"), t("fees"), t("refunds"), t("net")]}>
          {data.days
            .filter((r) => r.orders || r.gross_fen || r.refunds_fen)
            .map((r) => (
              <tr key={r.date}>
                <td class="nowrap">{day(r.date)}</td>
                <td class="num">{number(r.orders, l)}</td>
                <td class="num">{money(r.gross_fen)}</td>
                <td class="num">{money(r.fees_fen)}</td>
                <td class="num">{money(r.refunds_fen)}</td>
                <td class="num">{money(r.net_fen)}</td>
              </tr>
            ))}
          <tr class="total" data-testid="revenue-total">
            <th scope="row">{t("total")}</th>
            <td class="num">{number(data.totals.orders, l)}</td>
            <td class="num">{money(data.totals.gross_fen)}</td>
            <td class="num">{money(data.totals.fees_fen)}</td>
            <td class="num">{money(data.totals.refunds_fen)}</td>
            <td class="num">{money(data.totals.net_fen)}</td>
          </tr>
        </Table>
      )}
    </div>
  );
}

function ExpiringReport() {
  const [days, setDays] = useState("30");
  const path = () => `/v1/reports/expiring?days=${encodeURIComponent(days)}`;
  const report = useReport<Expiring>(path);
  const { data, action } = report;
  return (
    <div class="card stack" data-testid="report-expiring">
      <h2 id="exp-title">{t("expiringReport")}</h2>
      <ReportForm report={report} name="expiring" fields={["days"]} onCsv={() => report.csv.get(path(), `expiring-${days}d.csv`, "expiring", { days: String(days) })}>
        <Field id="ex-days" label={t("withinDays")} hint={t("daysRange")} error={action.fieldError("days")}>
          {(a) => <input {...a} type="number" min={1} max={365} value={days} onInput={(e) => setDays(e.currentTarget.value)} data-testid="expiring-days" />}
        </Field>
      </ReportForm>
      {data && (
        <>
          <p data-testid="expiring-total">{tn("expiringTotal", data.total, { days: data.days })}</p>
          {data.per_week.length > 0 && <WeekChart weeks={data.per_week} labelledBy="exp-title" />}
          {data.truncated && <p class="hint">{t("listTruncated", { n: data.items.length })}</p>}
          <ItemsTable items={data.items} caption={t("expiringReport")} testid="expiring-table" cols={["SN", "TID", t("status"), t("expiresOn"), t("merchant")]}>
            {(r) => (
              <tr key={r.sn}>
                <td class="mono">
                  <SnLink sn={r.sn} />
                </td>
                <td class="mono">{r.tid}</td>
                <td>
                  <Badge status={r.status} />
                </td>
                <td class="nowrap">
                  {day(r.expires_on)} <span class="hint">({daysLeft(r.days_left)})</span>
                </td>
                <td data-testid="expiring-merchant">
                  {r.merchant_name ?? "—"}
                  {r.merchant_phone && <div class="hint mono">{r.merchant_phone}</div>}
                </td>
              </tr>
            )}
          </ItemsTable>
        </>
      )}
    </div>
  );
}

function ReconReport() {
  const [date, setDate] = useState(addDaysIso(todayIso(session()?.timezone), -1));
  const path = () => `/v1/reports/reconciliation?date=${encodeURIComponent(date)}`;
  const report = useReport<Recon>(path, true);
  const { data, action } = report;
  const rows: (ReconRow & { state: string })[] = data
    ? [
        ...data.matched.map((r) => ({ ...r, state: "matched" })),
        ...data.unmatched_stripe.map((r) => ({ ...r, state: "unmatched_stripe" })),
        ...(data.unmatched_bill ?? []).map((r) => ({ ...r, state: "unmatched_bill" })),
        ...data.unmatched_orders.map((r) => ({ ...r, state: "unmatched_orders" })),
      ]
    : [];
  return (
    <div class="card stack" data-testid="report-recon">
      <h2>{t("reconReport")}</h2>
      <ReportForm report={report} name="recon" fields={["date"]} onCsv={() => report.csv.get(path(), `reconciliation-${date}.csv`)}>
        <Field id="rc-date" label={t("date")} error={action.fieldError("date")}>
          {(a) => <input {...a} type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />}
        </Field>
      </ReportForm>
      {data && (
        <>
          <ul class="counts" data-testid="recon-summary">
            <li>
              {t("matched")}: <strong>{data.summary.matched}</strong>
            </li>
            <li>
              {t("unmatchedStripe")}: <strong>{data.summary.unmatched_stripe}</strong>
            </li>
            <li>
              {t("unmatchedOrders")}: <strong>{data.summary.unmatched_orders}</strong>
            </li>
            {data.summary.unmatched_bill ? (
              <li>
                {label("reconciliation_status", "unmatched_bill")}: <strong>{data.summary.unmatched_bill}</strong>
              </li>
            ) : null}
          </ul>
          <ItemsTable items={rows} caption={t("reconReport")} cols={[t("state"), t("reconKind"), t("orderId"), "PaymentIntent", t("amount"), t("reason")]}>
            {(r, i) => (
              <tr key={i}>
                <td>
                  {r.state === "matched"
                    ? t("matched")
                    : r.state === "unmatched_stripe"
                      ? t("unmatchedStripe")
                      : r.state === "unmatched_bill"
                        ? label("reconciliation_status", "unmatched_bill")
                        : t("unmatchedOrders")}
                </td>
                <td>
                  {r.kind === "refund" ? t("kind_refund") : r.kind === "charge" || !r.kind ? t("kind_charge") : label("reconciliation_kind", r.kind)}
                  {r.provider && r.provider !== "stripe" ? ` · ${label("payment_provider", r.provider)}` : ""}
                </td>
                <td class="mono">{r.order_id ? <a href={href(`orders/${encodeURIComponent(r.order_id)}`)}>{r.order_id}</a> : "—"}</td>
                <td class="mono">{r.payment_intent_id ?? r.out_trade_no ?? "—"}</td>
                <td class="num">{money(r.amount_fen)}</td>
                <td>{r.reason ?? ""}</td>
              </tr>
            )}
          </ItemsTable>
        </>
      )}
    </div>
  );
}

function SettlementReport() {
  const report = useRangeReport<Settlement>("settlement");
  const { data } = report;
  const l = locale();
  // The direct rails' columns only for an agent that has direct payments in the range.
  const direct = !!data && !!(data.totals.direct_fen || data.totals.direct_refunds_fen || data.totals.direct_fees_fen);
  const cells = (r: Omit<SettlementRow, "date">) => (
    <>
      <td class="num">{number(r.orders, l)}</td>
      <td class="num">{money(r.collected_fen)}</td>
      <td class="num">{money(r.service_fee_fen)}</td>
      <td class="num">{money(r.refunds_fen)}</td>
      <td class="num">{money(r.stripe_fees_fen)}</td>
      <td class="num">{money(r.platform_fee_fen)}</td>
      <td class="num">
        <strong>{money(r.payable_fen)}</strong>
      </td>
      <td class="num">{money(r.cash_fen)}</td>
      <td class="num">{money(r.cash_refunds_fen)}</td>
      <td class="num">{number(r.voucher_count, l)}</td>
      {direct && (
        <>
          <td class="num">{money(r.direct_fen ?? 0)}</td>
          <td class="num">{money(r.direct_refunds_fen ?? 0)}</td>
          <td class="num">{money(r.direct_fees_fen ?? 0)}</td>
        </>
      )}
    </>
  );
  return (
    <div class="card stack" data-testid="report-settlement">
      <h2>{t("settlementReport")}</h2>
      <p class="hint">{t("settlementHint")}</p>
      <RangeReportForm report={report} id="st" testid="settlement" />
      {data && (
        <>
          <p class="hint" data-testid="settlement-via">
            {data.settles_via === "stripe_connected_account" ? t("settlementViaConnected") : t("settlementViaPlatform")}
          </p>
          <Table
            caption={t("settlementReport")}
            testid="settlement-table"
            cols={[
              t("date"), t("ordersCount"), t("collected"), t("settlementServiceFee"), t("refunds"), t("stripeFees"), t("platformFee"),
              t("payable"), t("cashCollected"), t("cashRefunds"), t("vouchersRedeemed"),
              ...(direct ? [t("directCollected"), t("directRefunds"), t("directFees")] : []),
            ]}
          >
            {data.days
              .filter((r) => r.orders || r.collected_fen || r.refunds_fen || r.stripe_fees_fen || r.cash_fen || r.cash_refunds_fen || r.voucher_count || r.direct_fen || r.direct_refunds_fen)
              .map((r) => (
                <tr key={r.date}>
                  <td class="nowrap">{day(r.date)}</td>
                  {cells(r)}
                </tr>
              ))}
            <tr class="total" data-testid="settlement-total">
              <th scope="row">{t("total")}</th>
              {cells(data.totals)}
            </tr>
          </Table>
        </>
      )}
    </div>
  );
}
