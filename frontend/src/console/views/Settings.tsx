// The agent's profile and settings (admin): reminder days, grace days, renewal basis, service
// fee, time zone, payment methods and the language of messages to merchants.
import { useState } from "preact/hooks";
import { fenToYuanText, parseYuan } from "../format";
import { api } from "../session";
import { t } from "../strings";
import { CheckGroup, FormCard, FormEnd, SelectField, useFields } from "../forms";
import { AdminOnly, Field, LoadState, localError, useAction, useLoad } from "../ui";
import type { Tenant } from "../../common/types";
import { API_ENUMS } from "../../common/enums";

const METHODS = API_ENUMS.payment_method;
const ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau", "Asia/Urumqi", "Asia/Singapore", "UTC"];

export function Settings({ admin }: { admin: boolean }) {
  return (
    <section class="stack" data-testid="view-settings">
      <h1>{t("nav_settings")}</h1>
      <AdminOnly admin={admin}>
        <SettingsForms />
      </AdminOnly>
    </section>
  );
}

function SettingsForms() {
  const load = useLoad(() => api<Tenant>("/v1/tenant"), []);
  return (
    <>
      <LoadState load={load} />
      {load.data && (
        <>
          <ReminderForm key={`s-${load.data.tenant_id}`} tenant={load.data} onSaved={load.setData} />
          <RailsForm key={`r-${load.data.tenant_id}`} tenant={load.data} onSaved={load.setData} />
          <ProfileForm key={`p-${load.data.tenant_id}`} tenant={load.data} onSaved={load.setData} />
        </>
      )}
    </>
  );
}

/** The API's fields of the reminder form: an error naming one is shown at its input. */
const REMINDER_FIELDS = ["reminder_days", "grace_days", "renewal_basis", "timezone", "service_fee", "service_fee.kind", "service_fee.value", "payment_methods", "language"].map((k) => `settings.${k}`);

function ReminderForm({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const s = tenant.settings;
  const { v, setV, set } = useFields({
    reminder_days: s.reminder_days.join(", "),
    grace_days: String(s.grace_days),
    renewal_basis: s.renewal_basis,
    fee_kind: s.service_fee.kind,
    fee_value: s.service_fee.kind === "flat" ? fenToYuanText(s.service_fee.value) : String(s.service_fee.value),
    timezone: s.timezone,
    payment_methods: [...s.payment_methods],
    language: s.language ?? "zh-CN",
  });
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const parts = v.reminder_days.split(/[,，\s]+/).filter(Boolean);
    if (parts.some((p) => !/^\d+$/.test(p))) return action.fail(localError("settings.reminder_days", t("reminderDaysBad")));
    if (!/^\d+$/.test(v.grace_days)) return action.fail(localError("settings.grace_days", t("wholeNumber")));
    let feeValue: number;
    if (v.fee_kind === "flat") {
      const fen = parseYuan(v.fee_value || "0");
      if (fen === null) return action.fail(localError("settings.service_fee.value", t("badYuan")));
      feeValue = fen;
    } else {
      if (!/^\d{1,2}(\.\d{1,2})?$/.test(v.fee_value.trim())) return action.fail(localError("settings.service_fee.value", t("percentBad")));
      feeValue = Number(v.fee_value.trim());
    }
    if (v.payment_methods.length === 0) return action.fail(localError("settings.payment_methods", t("pickOneMethod")));
    const settings = {
      reminder_days: parts.map(Number),
      grace_days: Number(v.grace_days),
      renewal_basis: v.renewal_basis,
      service_fee: { kind: v.fee_kind, value: feeValue },
      timezone: v.timezone.trim(),
      payment_methods: METHODS.filter((m) => v.payment_methods.includes(m)),
      language: v.language,
    };
    const out = await action.run(() => api<Tenant>("/v1/tenant", { method: "PATCH", body: { settings } }), t("saved"));
    if (out) {
      onSaved(out);
      setV({ ...v, reminder_days: out.settings.reminder_days.join(", ") });
    }
  };
  const fe = action.fieldError;
  return (
    <FormCard testid="settings-form" title={t("reminderSettings")} onSubmit={submit}>
      <div class="grid">
        <Field id="s-days" label={t("reminderDays")} hint={t("reminderDaysHint")} error={fe("settings.reminder_days")}>
          {(a) => <input {...a} value={v.reminder_days} onInput={set("reminder_days")} data-testid="settings-reminder-days" />}
        </Field>
        <Field id="s-grace" label={t("graceDays")} hint={t("graceDaysHint")} error={fe("settings.grace_days")}>
          {(a) => <input {...a} type="number" min={0} max={90} step={1} value={v.grace_days} onInput={set("grace_days")} data-testid="settings-grace-days" />}
        </Field>
        <SelectField id="s-basis" label={t("renewalBasis")} error={fe("settings.renewal_basis")} value={v.renewal_basis} onChange={set("renewal_basis")} options={[["stack", t("basis_stack")], ["from_payment", t("basis_from_payment")]]} />
        <Field id="s-tz" label={t("timezone")} error={fe("settings.timezone")}>
          {(a) => (
            <>
              <input {...a} list="tz-list" value={v.timezone} onInput={set("timezone")} />
              <datalist id="tz-list">
                {ZONES.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <SelectField id="s-fee-kind" label={t("feeKind")} error={fe("settings.service_fee.kind")} value={v.fee_kind} onChange={set("fee_kind")} options={[["flat", t("fee_flat")], ["percent", t("fee_percent")]]} />
        <Field
          id="s-fee-value"
          label={v.fee_kind === "flat" ? t("feeFlatYuan") : t("feePercent")}
          hint={v.fee_kind === "flat" ? t("feeFlatHint") : t("feePercentHint")}
          error={fe("settings.service_fee.value") ?? fe("settings.service_fee")}
        >
          {(a) => <input {...a} inputMode="decimal" value={v.fee_value} onInput={set("fee_value")} />}
        </Field>
        <SelectField id="s-lang" label={t("messageLanguage")} error={fe("settings.language")} value={v.language} onChange={set("language")} options={[["zh-CN", "中文"], ["en", "English"]]} />
      </div>
      <CheckGroup
        legend={t("paymentMethods")}
        idPrefix="s-pm"
        options={METHODS}
        label={(m) => t(`pm_${m}`)}
        checked={v.payment_methods}
        onChange={(next) => setV({ ...v, payment_methods: next as typeof v.payment_methods })}
        error={fe("settings.payment_methods")}
      />
      <FormEnd action={action} status="settings" fields={REMINDER_FIELDS} label={t("save")} testid="settings-save" />
    </FormCard>
  );
}

// The agent as a sub-merchant of the platform (服务商 / ISV): WeChat Pay sub_mchid, Alipay token.
function RailsForm({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const s = tenant.settings;
  const [subMchid, setSubMchid] = useState(s.wechatpay_sub_mchid ?? "");
  const [token, setToken] = useState("");
  const action = useAction();
  const save = async (settings: Record<string, string | null>) => {
    const out = await action.run(() => api<Tenant>("/v1/tenant", { method: "PATCH", body: { settings } }), t("saved"));
    if (out) {
      onSaved(out);
      setToken("");
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const settings: Record<string, string | null> = { wechatpay_sub_mchid: subMchid.trim() || null };
    if (token.trim()) settings.alipay_app_auth_token = token.trim();
    return save(settings);
  };
  const fe = action.fieldError;
  return (
    <FormCard testid="rails-form" title={t("railsTitle")} hint={t("railsHint")} onSubmit={submit}>
      <div class="grid">
        <Field id="r-sub" label={t("wechatSubMchid")} hint={t("wechatSubMchidHint")} error={fe("settings.wechatpay_sub_mchid")}>
          {(a) => (
            <input {...a} inputMode="numeric" value={subMchid} onInput={(e) => setSubMchid(e.currentTarget.value)} data-testid="rails-sub-mchid" />
          )}
        </Field>
        <Field id="r-token" label={t("alipayToken")} hint={t("alipayTokenHint")} error={fe("settings.alipay_app_auth_token")}>
          {(a) => (
            <input {...a} type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} data-testid="rails-alipay-token" />
          )}
        </Field>
      </div>
      <p data-testid="rails-alipay-state">
        {s.alipay_app_auth_token_set ? t("alipayTokenSet", { app: s.alipay_auth_app_id ?? "" }) : t("alipayTokenUnset")}
      </p>
      <FormEnd action={action} label={t("railsSave")}>
        {s.alipay_app_auth_token_set && (
          <button type="button" onClick={() => save({ alipay_app_auth_token: null })} data-testid="rails-alipay-remove">
            {t("alipayTokenRemove")}
          </button>
        )}
      </FormEnd>
    </FormCard>
  );
}

function ProfileForm({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const { v, set } = useFields({
    name: tenant.name,
    contact_name: tenant.contact_name,
    contact_email: tenant.contact_email,
    contact_phone: tenant.contact_phone,
    service_phone: tenant.service_phone ?? "",
  });
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string | null> = {};
    for (const k of Object.keys(v) as (keyof typeof v)[]) if (v[k].trim() !== (tenant[k] ?? "")) body[k] = v[k].trim();
    // An emptied service phone removes it (the pay page then shows none).
    if (body.service_phone === "") body.service_phone = null;
    if (Object.keys(body).length === 0) return action.fail(new Error(t("nothingChanged")));
    const out = await action.run(() => api<Tenant>("/v1/tenant", { method: "PATCH", body }), t("saved"));
    if (out) onSaved(out);
  };
  const fe = action.fieldError;
  return (
    <FormCard testid="profile-form" title={t("profile")} onSubmit={submit}>
      <div class="grid">
        <Field id="p-name" label={t("agentName")} error={fe("name")}>
          {(a) => <input {...a} value={v.name} onInput={set("name")} />}
        </Field>
        <Field id="p-contact" label={t("contactName")} error={fe("contact_name")}>
          {(a) => <input {...a} value={v.contact_name} onInput={set("contact_name")} />}
        </Field>
        <Field id="p-email" label={t("contactEmail")} error={fe("contact_email")}>
          {(a) => <input {...a} type="email" value={v.contact_email} onInput={set("contact_email")} />}
        </Field>
        <Field id="p-phone" label={t("contactPhone")} error={fe("contact_phone")}>
          {(a) => <input {...a} type="tel" value={v.contact_phone} onInput={set("contact_phone")} />}
        </Field>
        <Field id="p-service-phone" label={t("servicePhone")} hint={t("servicePhoneHint")} error={fe("service_phone")}>
          {(a) => <input {...a} type="tel" value={v.service_phone} onInput={set("service_phone")} data-testid="service-phone" />}
        </Field>
      </div>
      <p class="hint">{tenant.stripe_connected ? t("stripeConnected") : t("stripeNotConnected")}</p>
      <FormEnd action={action} fields={["name", "contact_name", "contact_email", "contact_phone", "service_phone"]} label={t("save")} />
    </FormCard>
  );
}
