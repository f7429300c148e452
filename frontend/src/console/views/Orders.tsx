// Orders: list with a status filter and paging; one order with its lines and audit trail,
// mark-paid (offline payment) and refund, each confirmed once more. Amounts typed in yuan.
import { useState } from "preact/hooks";
import { day, moment, money } from "../../common/i18n";
import { fenToYuanText, parseYuan, saveBlob } from "../format";
import { go, href } from "../router";
import { api, apiBlob, canWrite, session } from "../session";
import { label, t, tn } from "../strings";
import { FilterButtons, FormCard, FormEnd, SelectField, ToggleButton, useFields } from "../forms";
import { Badge, ErrorAlert, Field, ItemsTable, Loading, PageHead, Pager, SnLink, Table, localError, useAction, useLoad, usePaged } from "../ui";
import { NewOrder } from "./Terminal";
import type { Order, OrderDetail, OrderPage, PlanPage } from "../../common/types";



const ORDER_STATUSES = ["pending_payment", "paid", "fulfilled", "failed", "expired", "refunded", "partially_refunded", "needs_review"];

const CHANNELS = ["agent", "public"] as const;

const ORDER_FILTERS = ["status", "sn", "channel", "from", "to"] as const;
type OrderFilterValues = Record<(typeof ORDER_FILTERS)[number], string>;

function orderQuery(f: OrderFilterValues, cursor: string | null): URLSearchParams {
  const qs = new URLSearchParams({ limit: "50" });
  for (const k of ORDER_FILTERS) if (f[k]) qs.set(k, f[k]);
  if (cursor) qs.set("cursor", cursor);
  return qs;
}

export function Orders({ query, admin }: { query: URLSearchParams; admin: boolean }) {
  const applied = Object.fromEntries(ORDER_FILTERS.map((k) => [k, query.get(k) ?? ""])) as OrderFilterValues;
  const { v: draft, set: setF } = useFields<OrderFilterValues>(applied);
  const exporting = useAction();
  const paged = usePaged((cursor) => api<OrderPage>(`/v1/orders?${orderQuery(applied, cursor)}`));
  const exportCsv = () =>
    exporting.run(async () => {
      const qs = orderQuery(applied, null);
      qs.delete("limit");
      saveBlob(await apiBlob(`/v1/orders?${qs}`, { accept: "text/csv" }), "orders.csv");
    });
  const plans = useLoad(() => api<PlanPage>("/v1/plans"), []);
  const [showNew, setShowNew] = useState(false);
  return (
    <section class="stack" data-testid="view-orders">
      <div class="row spread">
        <h1>{t("nav_orders")}</h1>
        {canWrite(session()) && (
          <ToggleButton open={showNew} onClick={() => setShowNew(!showNew)} label={t("newOrder")} testid="order-new-toggle" />
        )}
      </div>
      {showNew && canWrite(session()) && <NewOrder plans={plans.data?.items ?? []} admin={admin} />}
      <form
        class="card stack"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go("orders", draft);
        }}
        data-testid="order-filters"
      >
        <div class="grid">
        <Field id="o-sn" label={t("ordersSn")}>
          {(a) => <input {...a} class="mono" value={draft.sn} onInput={setF("sn")} data-testid="order-sn-filter" />}
        </Field>
        <SelectField id="o-channel" label={t("channel")} value={draft.channel} onChange={setF("channel")} blank={t("all")} options={CHANNELS.map((c) => [c, t(`ch_${c}`)])} testid="order-channel-filter" />
        <Field id="o-from" label={t("from")}>
          {(a) => <input {...a} type="date" value={draft.from} onInput={setF("from")} data-testid="order-from" />}
        </Field>
        <Field id="o-to" label={t("to")}>
          {(a) => <input {...a} type="date" value={draft.to} onInput={setF("to")} data-testid="order-to" />}
        </Field>
        <SelectField
          id="o-status"
          label={t("status")}
          value={draft.status}
          onChange={(e) => go("orders", { ...draft, status: e.currentTarget.value })}
          blank={t("all")}
          options={ORDER_STATUSES.map((s) => [s, t(`os_${s}` as "os_paid")])}
          testid="order-status-filter"
        />
        </div>
        <FilterButtons search="order-search" onReset={() => go("orders")} exporting={exporting} onExport={exportCsv} exportTestid="order-export" />
      </form>
      <ErrorAlert error={paged.error} />
      {paged.data && (
        <p class="hint" data-testid="order-total">
          {typeof paged.data.total === "number" ? tn("totalOrders", paged.data.total) : t("totalUnknown")}
        </p>
      )}
      <Loading show={paged.loading} />
      <ItemsTable
        items={paged.data?.items}
        caption={t("nav_orders")}
        testid="orders-table"
        cols={[t("orderId"), t("created"), t("status"), t("amount"), t("paymentKind"), t("terminals")]}
      >
        {(o) => (
          <tr key={o.order_id} data-testid="order-row">
            <td class="mono">
              <a href={href(`orders/${encodeURIComponent(o.order_id)}`)}>{o.order_id}</a>
            </td>
            <td class="nowrap">{moment(o.created_at)}</td>
            <td>
              <Badge status={o.status} />
            </td>
            <td class="num">{money(o.amount_fen, undefined, o.currency)}</td>
            <td>{o.payment === "offline" ? t("pay_offline") : t("pay_online")}</td>
            <td class="mono">{o.lines.map((l) => l.sn).join(", ")}</td>
          </tr>
        )}
      </ItemsTable>
      <Pager of={paged} />
    </section>
  );
}

export function OrderPage({ orderId, admin }: { orderId: string; admin: boolean }) {
  const load = useLoad(() => api<OrderDetail>(`/v1/orders/${encodeURIComponent(orderId)}`), [orderId]);
  const o = load.data;
  const refundable = o && (o.status === "fulfilled" || o.status === "partially_refunded");
  const payable = o && ["pending_payment", "failed", "expired", "paid"].includes(o.status);
  return (
    <section class="stack" data-testid="view-order">
      <PageHead back="orders" backLabel={t("backToOrders")} title={t("order")} id={orderId} load={load} />
      {o && (
        <>
          <div class="card">
            <dl class="details">
              <dt>{t("status")}</dt>
              <dd data-testid="order-status">
                <Badge status={o.status} />
              </dd>
              <dt>{t("amount")}</dt>
              <dd data-testid="order-amount">{money(o.amount_fen, undefined, o.currency)}</dd>
              <dt>{t("serviceFee")}</dt>
              <dd>{money(o.fee_fen, undefined, o.currency)}</dd>
              {o.refunded_fen > 0 && (
                <>
                  <dt>{t("refunded")}</dt>
                  <dd data-testid="order-refunded">{money(o.refunded_fen, undefined, o.currency)}</dd>
                </>
              )}
              <dt>{t("paymentKind")}</dt>
              <dd>{o.payment === "offline" ? t("pay_offline") : t("pay_online")}</dd>
              <dt>{t("created")}</dt>
              <dd>{moment(o.created_at)}</dd>
              <dt>{t("paidAt")}</dt>
              <dd>{moment(o.paid_at)}</dd>
              <dt>{t("fulfilledAt")}</dt>
              <dd>{moment(o.fulfilled_at)}</dd>
              {o.payment_intent_id && (
                <>
                  <dt>Stripe</dt>
                  <dd class="mono break">{o.payment_intent_id}</dd>
                </>
              )}
            </dl>
          </div>
          <div class="card stack">
            <h2>{t("orderLines")}</h2>
            <Table caption={t("orderLines")} cols={["SN", t("plan"), t("price"), t("serviceFee"), t("total"), t("oldExpiry"), t("newExpiry")]}>
              {o.lines.map((l, i) => (
                <tr key={i}>
                  <td class="mono">
                    <SnLink sn={l.sn} />
                  </td>
                  <td>
                    {l.plan_name} <span class="hint">({tn("months", l.term_months)})</span>
                  </td>
                  <td class="num">{money(l.price_fen)}</td>
                  <td class="num">{money(l.fee_fen)}</td>
                  <td class="num">{money(l.total_fen)}</td>
                  <td>{day(l.expires_before)}</td>
                  <td>{day(l.expires_after)}</td>
                </tr>
              ))}
            </Table>
          </div>
          {payable && admin && <MarkPaid order={o} onDone={load.setData} />}
          {refundable && admin && <Refund order={o} onDone={load.setData} />}
          {(payable || refundable) && !admin && <p class="hint">{t("adminOnly")}</p>}
          {o.audit.length > 0 && (
            <div class="card stack">
              <h2>{t("auditTrail")}</h2>
              <Table caption={t("auditTrail")} cols={[t("when"), t("action"), t("amount"), t("note")]}>
                {o.audit.map((a, i) => (
                  <tr key={i}>
                    <td class="nowrap">{moment(a.at)}</td>
                    <td data-testid="audit-action">{label("audit_action", a.action)}</td>
                    <td class="num">{a.amount_fen !== undefined ? money(a.amount_fen) : ""}</td>
                    <td class="break">{a.note ?? a.reason ?? ""}</td>
                  </tr>
                ))}
              </Table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function MarkPaid({ order, onDone }: { order: Order; onDone: (o: OrderDetail) => void }) {
  const [note, setNote] = useState("");
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!note.trim()) return action.fail(localError("note", t("noteRequired")));
    if (!confirming) return setConfirming(true);
    setConfirming(false);
    const out = await action.run(
      () => api<OrderDetail>(`/v1/orders/${encodeURIComponent(order.order_id)}/mark-paid`, { method: "POST", body: { note: note.trim() } }),
      t("markedPaid"),
    );
    if (out) onDone(out);
  };
  return (
    <FormCard testid="mark-paid-form" title={t("markPaid")} hint={t("markPaidHint")} onSubmit={submit}>
      <Field id="mp-note" label={t("note")} error={action.fieldError("note")}>
        {(a) => <textarea {...a} rows={2} maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} data-testid="mark-paid-note" />}
      </Field>
      <FormEnd
        action={action}
        fields={["note"]}
        status="mark-paid"
        question={confirming && t("markPaidQuestion", { amount: money(order.amount_fen) })}
        onCancel={() => setConfirming(false)}
        label={confirming ? t("confirmMarkPaid") : t("markPaid")}
        testid="mark-paid-submit"
      />
    </FormCard>
  );
}

function Refund({ order, onDone }: { order: Order; onDone: (o: OrderDetail) => void }) {
  const [reason, setReason] = useState("");
  const [amount, setAmount] = useState("");
  const [confirming, setConfirming] = useState<number | null | false>(false);
  const action = useAction();
  const remaining = order.amount_fen - order.refunded_fen;
  const submit = async (e: Event) => {
    e.preventDefault();
    let fen: number | null = null;
    if (amount.trim()) {
      fen = parseYuan(amount);
      if (fen === null || fen < 1) return action.fail(localError("amount_fen", t("badYuan")));
      if (fen > remaining) return action.fail(localError("amount_fen", t("refundTooLarge", { max: money(remaining) })));
    }
    if (!reason.trim()) return action.fail(localError("reason", t("reasonRequired")));
    if (confirming === false) return setConfirming(fen);
    setConfirming(false);
    const body: Record<string, unknown> = { reason: reason.trim() };
    if (fen !== null) body.amount_fen = fen;
    const out = await action.run(
      () => api<OrderDetail>(`/v1/orders/${encodeURIComponent(order.order_id)}/refund`, { method: "POST", body }),
      t("refundDone"),
    );
    if (out) onDone(out);
  };
  return (
    <FormCard testid="refund-form" title={t("refund")} hint={t("refundHint", { max: money(remaining) })} onSubmit={submit}>
      <div class="grid">
        <Field id="rf-amount" label={t("refundAmountYuan")} hint={t("refundAmountHint")} error={action.fieldError("amount_fen")}>
          {(a) => (
            <input
              {...a}
              inputMode="decimal"
              placeholder={fenToYuanText(remaining)}
              value={amount}
              onInput={(e) => {
                setAmount(e.currentTarget.value);
                setConfirming(false);
              }}
              data-testid="refund-amount"
            />
          )}
        </Field>
        <Field id="rf-reason" label={t("reason")} error={action.fieldError("reason")}>
          {(a) => <input {...a} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="refund-reason" />}
        </Field>
      </div>
      <FormEnd
        action={action}
        fields={["amount_fen", "reason"]}
        status="refund"
        question={confirming !== false && (confirming === null ? t("refundQuestionAuto") : t("refundQuestion", { amount: money(confirming) }))}
        questionTestid="refund-question"
        onCancel={() => setConfirming(false)}
        submitClass="danger"
        label={confirming !== false ? t("confirmRefund") : t("refund")}
        testid="refund-submit"
      />
    </FormCard>
  );
}
