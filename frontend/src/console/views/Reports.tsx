// Reports: revenue per day, the settlement (admin), terminals expiring, the day's reconciliation;
// each also as CSV.
import { useEffect, useState } from "preact/hooks";
import { day, locale, money } from "../../common/i18n";
import { addDaysIso, number, saveBlob, todayIso } from "../format";
import { href } from "../router";
import { api, apiBlob, session } from "../session";
import { saveCsv } from "../transfer";
import { label, t, tn } from "../strings";
import { ts } from "../strings_screens";
import { Badge, ErrorAlert, Field, Submit, Table, useAction } from "../ui";
import { WeekChart } from "./Dashboard";
import { daysLeft } from "./Terminals";
import type { ExpiringReport as Expiring, ReconciliationReport as Recon, ReconciliationRow as ReconRow, RevenueReport as Revenue, SettlementDay as SettlementRow, SettlementReport as Settlement } from "../../common/types";


function useCsv() {
  const action = useAction();
  const get = (path: string, name: string, kind?: string, filters: Record<string, string> = {}) =>
    action.run(async () => (kind ? saveCsv(path, name, kind, filters) : saveBlob(await apiBlob(path, { accept: "text/csv" }), name)));
  return { action, get };
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
  const today = todayIso(session()?.timezone);
  const [from, setFrom] = useState(today.slice(0, 8) + "01");
  const [to, setTo] = useState(today);
  const [data, setData] = useState<Revenue | null>(null);
  const action = useAction();
  const csv = useCsv();
  const qs = () => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const load = async () => {
    const out = await action.run(() => api<Revenue>(`/v1/reports/revenue?${qs()}`));
    if (out) setData(out);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    load();
  };
  useEffect(() => void load(), []);
  const l = locale();
  return (
    <div class="card stack" data-testid="report-revenue">
      <h2>{t("revenueReport")}</h2>
      <form class="row align-end" onSubmit={submit} noValidate>
        <Field id="rv-from" label={t("from")} error={action.fieldError("from")}>
          {(a) => <input {...a} type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />}
        </Field>
        <Field id="rv-to" label={t("to")} error={action.fieldError("to")}>
          {(a) => <input {...a} type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />}
        </Field>
        <div class="field row">
          <Submit busy={action.busy} label={t("show")} testid="revenue-show" />
          <button type="button" disabled={csv.action.busy} onClick={() => csv.get(`/v1/reports/revenue?${qs()}`, `revenue-${from}-${to}.csv`)} data-testid="revenue-csv">
            {csv.action.busy ? t("busy") : t("downloadCsv")}
          </button>
        </div>
      </form>
      <ErrorAlert error={action.fieldError("from") || action.fieldError("to") ? null : action.error} />
      <ErrorAlert error={csv.action.error} />
      {data && (
        <Table
          caption={t("revenueReport")}
          testid="revenue-table"
          head={
            <tr>
              <th scope="col">{t("date")}</th>
              <th scope="col">{t("ordersCount")}</th>
              <th scope="col">{t("gross")}</th>
              <th scope="col">{t("fees")}</th>
              <th scope="col">{t("refunds")}</th>
              <th scope="col">{t("net")}</th>
            </tr>
          }
        >
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
  const [data, setData] = useState<Expiring | null>(null);
  const action = useAction();
  const csv = useCsv();
  const load = async () => {
    const out = await action.run(() => api<Expiring>(`/v1/reports/expiring?days=${encodeURIComponent(days)}`));
    if (out) setData(out);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    load();
  };
  useEffect(() => void load(), []);
  return (
    <div class="card stack" data-testid="report-expiring">
      <h2 id="exp-title">{t("expiringReport")}</h2>
      <form class="row align-end" onSubmit={submit} noValidate>
        <Field id="ex-days" label={t("withinDays")} hint={t("daysRange")} error={action.fieldError("days")}>
          {(a) => <input {...a} type="number" min={1} max={365} value={days} onInput={(e) => setDays(e.currentTarget.value)} data-testid="expiring-days" />}
        </Field>
        <div class="field row">
          <Submit busy={action.busy} label={t("show")} testid="expiring-show" />
          <button type="button" disabled={csv.action.busy} onClick={() => csv.get(`/v1/reports/expiring?days=${encodeURIComponent(days)}`, `expiring-${days}d.csv`, "expiring", { days: String(days) })} data-testid="expiring-csv">
            {csv.action.busy ? t("busy") : t("downloadCsv")}
          </button>
        </div>
      </form>
      <ErrorAlert error={action.fieldError("days") ? null : action.error} />
      <ErrorAlert error={csv.action.error} />
      {data && (
        <>
          <p data-testid="expiring-total">{tn("expiringTotal", data.total, { days: data.days })}</p>
          {data.per_week.length > 0 && <WeekChart weeks={data.per_week} labelledBy="exp-title" />}
          {data.truncated && <p class="hint">{t("listTruncated", { n: data.items.length })}</p>}
          <Table
            caption={t("expiringReport")}
            testid="expiring-table"
            empty={data.items.length === 0}
            head={
              <tr>
                <th scope="col">SN</th>
                <th scope="col">TID</th>
                <th scope="col">{t("status")}</th>
                <th scope="col">{t("expiresOn")}</th>
                <th scope="col">{ts("merchant")}</th>
              </tr>
            }
          >
            {data.items.map((r) => (
              <tr key={r.sn}>
                <td class="mono">
                  <a href={href(`terminals/${encodeURIComponent(r.sn)}`)}>{r.sn}</a>
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
            ))}
          </Table>
        </>
      )}
    </div>
  );
}

function ReconReport() {
  const [date, setDate] = useState(addDaysIso(todayIso(session()?.timezone), -1));
  const [data, setData] = useState<Recon | null>(null);
  const action = useAction();
  const csv = useCsv();
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await action.run(() => api<Recon>(`/v1/reports/reconciliation?date=${encodeURIComponent(date)}`));
    if (out) setData(out);
  };
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
      <form class="row align-end" onSubmit={submit} noValidate>
        <Field id="rc-date" label={t("date")} error={action.fieldError("date")}>
          {(a) => <input {...a} type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />}
        </Field>
        <div class="field row">
          <Submit busy={action.busy} label={t("show")} testid="recon-show" />
          <button type="button" disabled={csv.action.busy} onClick={() => csv.get(`/v1/reports/reconciliation?date=${encodeURIComponent(date)}`, `reconciliation-${date}.csv`)} data-testid="recon-csv">
            {csv.action.busy ? t("busy") : t("downloadCsv")}
          </button>
        </div>
      </form>
      <ErrorAlert error={action.fieldError("date") ? null : action.error} />
      <ErrorAlert error={csv.action.error} />
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
          <Table
            caption={t("reconReport")}
            empty={rows.length === 0}
            head={
              <tr>
                <th scope="col">{t("state")}</th>
                <th scope="col">{t("reconKind")}</th>
                <th scope="col">{t("orderId")}</th>
                <th scope="col">PaymentIntent</th>
                <th scope="col">{t("amount")}</th>
                <th scope="col">{t("reason")}</th>
              </tr>
            }
          >
            {rows.map((r, i) => (
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
            ))}
          </Table>
        </>
      )}
    </div>
  );
}

function SettlementReport() {
  const today = todayIso(session()?.timezone);
  const [from, setFrom] = useState(today.slice(0, 8) + "01");
  const [to, setTo] = useState(today);
  const [data, setData] = useState<Settlement | null>(null);
  const action = useAction();
  const csv = useCsv();
  const qs = () => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  const load = async () => {
    const out = await action.run(() => api<Settlement>(`/v1/reports/settlement?${qs()}`));
    if (out) setData(out);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    load();
  };
  useEffect(() => void load(), []);
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
      <form class="row align-end" onSubmit={submit} noValidate>
        <Field id="st-from" label={t("from")} error={action.fieldError("from")}>
          {(a) => <input {...a} type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} data-testid="settlement-from" />}
        </Field>
        <Field id="st-to" label={t("to")} error={action.fieldError("to")}>
          {(a) => <input {...a} type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} data-testid="settlement-to" />}
        </Field>
        <div class="field row">
          <Submit busy={action.busy} label={t("show")} testid="settlement-show" />
          <button type="button" disabled={csv.action.busy} onClick={() => csv.get(`/v1/reports/settlement?${qs()}`, `settlement-${from}-${to}.csv`)} data-testid="settlement-csv">
            {csv.action.busy ? t("busy") : t("downloadCsv")}
          </button>
        </div>
      </form>
      <ErrorAlert error={action.fieldError("from") || action.fieldError("to") ? null : action.error} />
      <ErrorAlert error={csv.action.error} />
      {data && (
        <>
          <p class="hint" data-testid="settlement-via">
            {data.settles_via === "stripe_connected_account" ? t("settlementViaConnected") : t("settlementViaPlatform")}
          </p>
          <Table
            caption={t("settlementReport")}
            testid="settlement-table"
            head={
              <tr>
                <th scope="col">{t("date")}</th>
                <th scope="col">{t("ordersCount")}</th>
                <th scope="col">{t("collected")}</th>
                <th scope="col">{t("settlementServiceFee")}</th>
                <th scope="col">{t("refunds")}</th>
                <th scope="col">{t("stripeFees")}</th>
                <th scope="col">{t("platformFee")}</th>
                <th scope="col">{t("payable")}</th>
                <th scope="col">{t("cashCollected")}</th>
                <th scope="col">{t("cashRefunds")}</th>
                <th scope="col">{t("vouchersRedeemed")}</th>
                {direct && (
                  <>
                    <th scope="col">{t("directCollected")}</th>
                    <th scope="col">{t("directRefunds")}</th>
                    <th scope="col">{t("directFees")}</th>
                  </>
                )}
              </tr>
            }
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
