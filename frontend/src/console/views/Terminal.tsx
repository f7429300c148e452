// One terminal: its details, edit and deactivate (staff+), a renewal order for it, its renewal
// ledger and the notifications sent about it.
import { useState } from "preact/hooks";
import { day, locale, megabytes, moment, money } from "../../common/i18n";
import { href } from "../router";
import { api, canWrite, session } from "../session";
import { label, t } from "../strings";
import { MerchantPicker } from "./MerchantPicker";
import { TransferCode } from "./Transfer";
import { TransferTime } from "./TransferTime";
import { CarrierStateBlock } from "./Carrier";
import { FormCard, FormEnd, SelectField, ToggleButton, useCreate, useFields, type Action } from "../forms";
import { Badge, ConfirmButton, Field, ListCard, PageHead, Status, localError, riskRecent, useAction, useLoad } from "../ui";
import { PlanSelect } from "./Plans";
import { carrierLabel, daysLeft } from "./Terminals";
import type { CreatedOrder as OrderOut, MerchantCard, NotificationPage, Plan, PlanPage, RenewalPage, Terminal } from "../../common/types";



export function TerminalPage({ sn, admin }: { sn: string; admin: boolean }) {
  const path = `/v1/terminals/${encodeURIComponent(sn)}`;
  const term = useLoad(() => api<Terminal>(path), [sn]);
  const plans = useLoad(() => api<PlanPage>("/v1/plans"), []);
  const renewals = useLoad(() => api<RenewalPage>(`${path}/renewals`), [sn]);
  const notes = useLoad(() => api<NotificationPage>(`/v1/notifications?sn=${encodeURIComponent(sn)}`), [sn]);
  const [editing, setEditing] = useState(false);
  const deactivate = useAction();
  const reactivate = useAction();
  const x = term.data;
  const merchantId = x?.merchant_id ?? null;
  const merchant = useLoad(
    () => (merchantId ? api<MerchantCard>(`/v1/merchants/${encodeURIComponent(merchantId)}`) : Promise.resolve(null)),
    [merchantId],
  );
  const l = locale();
  const write = canWrite(session());
  // Deactivate or reactivate: the answer is the terminal as it now is.
  const lifecycle = (action: Action, verb: "deactivate" | "reactivate", ok: string) => () =>
    void action.run(async () => term.setData(await api<Terminal>(`${path}/${verb}`, { method: "POST", body: {} })), ok);
  const planName = (id: string | null) => (id ? (plans.data?.items.find((p) => p.plan_id === id)?.name ?? id) : "—");
  return (
    <section class="stack" data-testid="view-terminal">
      <PageHead back="terminals" backLabel={t("backToFleet")} title={t("terminal")} id={sn} load={term} />
      {x && (
        <>
          <div class="card">
            <dl class="details" data-testid="terminal-details">
              <dt>{t("status")}</dt>
              <dd>
                <Badge status={x.status} /> {x.expiring && x.status === "active" && <Badge status="expiring" />}
                {riskRecent(x.risk_flagged_at) && <Badge status="risk" />}
              </dd>
              <dt>SN</dt>
              <dd class="mono">{x.sn}</dd>
              <dt>TID</dt>
              <dd class="mono" data-testid="terminal-tid">{x.tid}</dd>
              <dt>ICCID</dt>
              <dd class="mono">{x.iccid}</dd>
              <dt>{t("carrier")}</dt>
              <dd>{carrierLabel(x.carrier)}</dd>
              <dt>{t("model")}</dt>
              <dd>{x.model}</dd>
              <dt>{t("expiresOn")}</dt>
              <dd data-testid="terminal-expires">
                {day(x.expires_on)} <span class="hint">({daysLeft(x.days_left)})</span>
              </dd>
              <dt>{t("plan")}</dt>
              <dd>{planName(x.plan_id)}</dd>
              <dt>{t("merchant")}</dt>
              <dd data-testid="terminal-merchant">
                {merchant.data ? (
                  <>
                    {merchant.data.name} <span class="hint mono">{merchant.data.phone}</span>
                  </>
                ) : (
                  "—"
                )}
              </dd>
              <dt>{t("dataUsage")}</dt>
              <dd>
                {megabytes(x.data_used_mb ?? 0, l)} / {megabytes(x.data_quota_mb, l)}
                {x.usage_as_of && <span class="hint"> ({day(x.usage_as_of)})</span>}
              </dd>
              <dt>{t("payLink")}</dt>
              <dd class="break">
                <a href={x.pay_url} target="_blank" rel="noopener">
                  {x.pay_url}
                </a>
              </dd>
            </dl>
            {x.carrier_state && <CarrierStateBlock state={x.carrier_state} onRetried={term.reload} />}
            <div class="row">
              {write && x.status !== "deactivated" && (
                <ToggleButton open={editing} onClick={() => setEditing(!editing)} label={t("edit")} testid="terminal-edit" />
              )}
              <a class="button" href={href("stickers", { sns: x.sn })}>
                {t("printSticker")}
              </a>
              {write && x.status !== "deactivated" && (
                <ConfirmButton
                  label={t("deactivate")}
                  confirmLabel={t("deactivateConfirm")}
                  question={t("deactivateQuestion")}
                  danger
                  busy={deactivate.busy}
                  testid="terminal-deactivate"
                  onConfirm={lifecycle(deactivate, "deactivate", t("deactivated"))}
                />
              )}
            </div>
            {write && x.status === "deactivated" && (
              <div class="row">
                <ConfirmButton
                  label={t("reactivate")}
                  question={t("reactivateQuestion")}
                  busy={reactivate.busy}
                  testid="terminal-reactivate"
                  onConfirm={lifecycle(reactivate, "reactivate", t("reactivated"))}
                />
              </div>
            )}
            <Status action={deactivate} />
            <Status action={reactivate} testid="reactivate" />
          </div>
          {editing && write && (
            <EditTerminal
              terminal={x}
              admin={admin}
              plans={plans.data?.items ?? []}
              onSaved={(next) => {
                term.setData(next);
                renewals.reload();
                setEditing(false);
              }}
            />
          )}
          {write && x.status !== "deactivated" && <NewOrder sn={x.sn} plans={plans.data?.items ?? []} admin={admin} />}
          {x.status !== "deactivated" && admin && <TransferCode sn={x.sn} />}
          {x.status !== "deactivated" && admin && (
            <TransferTime
              sn={x.sn}
              onDone={() => {
                term.reload();
                renewals.reload();
              }}
            />
          )}
        </>
      )}
      <ListCard title={t("renewalHistory")} load={renewals} quiet testid="renewals-table" cols={[t("when"), t("kind"), t("source"), t("oldExpiry"), t("newExpiry"), t("termMonths"), t("amount")]}>
        {(r, i) => (
          <tr key={i}>
            <td class="nowrap">{moment(r.created_at)}</td>
            <td data-testid="renewal-kind">{label("ledger_kind", r.kind)}</td>
            <td class="mono">{r.source.startsWith("o_") ? <a href={href(`orders/${r.source}`)}>{r.source}</a> : r.source}</td>
            <td>{day(r.old_expires_on)}</td>
            <td>{day(r.new_expires_on)}</td>
            <td>{r.term_months}</td>
            <td class="num">{money(r.amount_fen)}</td>
          </tr>
        )}
      </ListCard>
      <ListCard title={t("notifications")} load={notes} quiet testid="notifications-table" cols={[t("when"), t("template"), t("channel"), t("recipient"), t("state")]}>
        {(n, i) => (
          <tr key={i}>
            <td class="nowrap">{moment(n.created_at)}</td>
            <td data-testid="notification-template">{label("notification_template", n.template)}</td>
            <td data-testid="notification-channel">{label("notification_channel", n.channel)}</td>
            <td class="mono">{n.recipient}</td>
            <td data-testid="notification-state">{label("notification_state", n.state)}</td>
          </tr>
        )}
      </ListCard>
    </section>
  );
}

const EDITABLE = ["tid", "iccid", "carrier", "model", "merchant_id", "plan_id", "expires_on", "data_quota_mb"] as const;

/** Staff and admin edit; only an admin moves the expiry by hand, and says why (the ledger keeps it). */
function EditTerminal(props: { terminal: Terminal; plans: Plan[]; admin: boolean; onSaved: (t: Terminal) => void }) {
  const x = props.terminal;
  const initial: Record<(typeof EDITABLE)[number], string> = {
    tid: x.tid,
    iccid: x.iccid,
    carrier: x.carrier ?? "",
    model: x.model,
    merchant_id: x.merchant_id ?? "",
    plan_id: x.plan_id ?? "",
    expires_on: x.expires_on,
    data_quota_mb: x.data_quota_mb === null ? "" : String(x.data_quota_mb),
  };
  const { v, setV, set } = useFields(initial);
  const [reason, setReason] = useState("");
  const action = useAction();
  const movesExpiry = v.expires_on !== initial.expires_on;
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    for (const k of EDITABLE) {
      if (v[k] === initial[k]) continue;
      if (k === "data_quota_mb") {
        if (!/^\d+$/.test(v[k])) return action.fail(localError(k, t("wholeNumber")));
        body[k] = Number(v[k]);
      } else body[k] = v[k].trim();
    }
    if (Object.keys(body).length === 0) return action.fail(new Error(t("nothingChanged")));
    if (movesExpiry) {
      if (!reason.trim()) return action.fail(localError("reason", t("expiryReasonRequired")));
      body.reason = reason.trim();
    }
    const next = await action.run(
      () => api<Terminal>(`/v1/terminals/${encodeURIComponent(x.sn)}`, { method: "PATCH", body }),
      t("saved"),
    );
    if (next) props.onSaved(next);
  };
  const fe = action.fieldError;
  return (
    <FormCard testid="terminal-edit-form" title={t("editTerminal")} onSubmit={submit}>
      <div class="grid">
        <Field id="e-tid" label="TID" error={fe("tid")} hint={t("tidHint")}>
          {(a) => <input {...a} inputMode="numeric" value={v.tid} onInput={set("tid")} />}
        </Field>
        <Field id="e-iccid" label="ICCID" error={fe("iccid")}>
          {(a) => <input {...a} inputMode="numeric" value={v.iccid} onInput={set("iccid")} />}
        </Field>
        <SelectField id="e-carrier" label={t("carrier")} error={fe("carrier")} value={v.carrier} onChange={set("carrier")} blank="—" options={["CMCC", "CUCC", "CTCC", "OTHER"].map((c) => [c, carrierLabel(c)])} />
        <Field id="e-model" label={t("model")} error={fe("model")}>
          {(a) => <input {...a} value={v.model} onInput={set("model")} />}
        </Field>
        <MerchantPicker id="e-merchant" label={t("merchant")} value={v.merchant_id} onChange={(id) => setV({ ...v, merchant_id: id })} error={fe("merchant_id")} testid="edit-merchant" />
        <SelectField id="e-plan" label={t("plan")} error={fe("plan_id")} value={v.plan_id} onChange={set("plan_id")} blank="—" options={props.plans.map((p) => [p.plan_id, p.name])} />
        {props.admin && (
          <Field id="e-expires" label={t("expiresOn")} hint={t("expiryAdminHint")} error={fe("expires_on")}>
            {(a) => <input {...a} type="date" value={v.expires_on} onInput={set("expires_on")} data-testid="edit-expires" />}
          </Field>
        )}
        {props.admin && movesExpiry && (
          <Field id="e-reason" label={t("reason")} error={fe("reason")}>
            {(a) => <input {...a} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="edit-reason" />}
          </Field>
        )}
        <Field id="e-quota" label={t("quotaMb")} error={fe("data_quota_mb")}>
          {(a) => <input {...a} inputMode="numeric" value={v.data_quota_mb} onInput={set("data_quota_mb")} />}
        </Field>
      </div>
      <FormEnd action={action} fields={[...EDITABLE, "reason"]} label={t("save")} testid="terminal-save" />
    </FormCard>
  );
}


export function NewOrder({ sn, plans, admin }: { sn?: string; plans: Plan[]; admin: boolean }) {
  const active = plans.filter((p) => p.active);
  const [snValue, setSn] = useState(sn ?? "");
  const [planId, setPlanId] = useState("");
  const [payment, setPayment] = useState<"offline" | "online" | "wechat_pay" | "alipay">("offline");
  const [created, setCreated] = useState<OrderOut | null>(null);
  const { action, create } = useCreate<OrderOut>("/v1/orders");
  const chosen = planId || active[0]?.plan_id || "";
  const submit = async (e: Event) => {
    e.preventDefault();
    // WeChat Pay / Alipay: a QR the merchant scans at the counter, paid to the agent's own account.
    const direct = payment === "wechat_pay" || payment === "alipay";
    const body = direct
      ? { lines: [{ sn: snValue.trim(), plan_id: chosen }], payment: "online", method: payment }
      : { lines: [{ sn: snValue.trim(), plan_id: chosen }], payment };
    const out = await create(body, t("orderCreated"));
    if (out) setCreated(out);
  };
  const fe = action.fieldError;
  return (
    <FormCard testid="new-order-form" title={t("newOrder")} hint={t("newOrderHint")} onSubmit={submit}>
      <div class="grid">
        {sn === undefined && (
          <Field id="o-sn" label="SN" error={fe("sn")}>
            {(a) => <input {...a} value={snValue} onInput={(e) => setSn(e.currentTarget.value)} data-testid="order-sn" />}
          </Field>
        )}
        <PlanSelect id="o-plan" plans={active} value={chosen} onChange={setPlanId} error={fe("plan_id")} testid="order-plan" />
        <Field id="o-payment" label={t("paymentKind")} error={fe("payment")}>
          {(a) => (
            <select {...a} value={payment} onChange={(e) => setPayment(e.currentTarget.value as "offline")} data-testid="order-payment">
              <option value="offline">{t("pay_offline")}</option>
              <option value="online">{t("pay_online")}</option>
              <option value="wechat_pay">{t("pay_wechat_qr")}</option>
              <option value="alipay">{t("pay_alipay_qr")}</option>
            </select>
          )}
        </Field>
      </div>
      <FormEnd
        action={action}
        fields={["sn", "plan_id", "payment", "method"]}
        label={t("createOrder")}
        disabled={!chosen}
        testid="order-create"
        notice={created && <OrderCreated created={created} offline={payment === "offline"} admin={admin} />}
      />
    </FormCard>
  );
}

/** The order just created: its counter QR (WeChat Pay / Alipay), its link, status and amount. */
function OrderCreated({ created, offline, admin }: { created: OrderOut; offline: boolean; admin: boolean }) {
  return (
    <>
      {typeof created.payment === "object" && created.payment.qr_svg && (
        <figure class="counter-qr" data-testid="counter-qr">
          <img src={created.payment.qr_svg} width={200} height={200} alt={t("counterQrAlt")} />
          <figcaption class="hint">{t("counterQrHint", { amount: money(created.amount_fen) })}</figcaption>
        </figure>
      )}
      <p data-testid="order-created">
        <a href={href(`orders/${created.order_id}`)} class="mono">
          {created.order_id}
        </a>{" "}
        · <Badge status={created.status} /> · {money(created.amount_fen)}
        {created.status === "pending_payment" && offline && admin && <> · {t("markPaidNext")}</>}
      </p>
    </>
  );
}
