// Register one terminal (POST /v1/terminals): identifiers, model, the merchant picked by name,
// plan and expiry; the API's error lands on the field it names.
import { useState } from "preact/hooks";
import { href } from "../router";
import { api } from "../session";
import { t } from "../strings";
import { FormEnd, SelectField, useCreate, useFields } from "../forms";
import { BackLink, Field, useLoad } from "../ui";
import { MerchantPicker } from "./MerchantPicker";
import type { PlanPage, Terminal } from "../../common/types";

const TEXT = ["sn", "tid", "iccid", "model"] as const;

export function RegisterTerminal() {
  const plans = useLoad(() => api<PlanPage>("/v1/plans"), []);
  const { v, setV, set } = useFields({ sn: "", tid: "", iccid: "", model: "", carrier: "", merchant_id: "", plan_id: "", expires_on: "", data_quota_mb: "" });
  const [made, setMade] = useState<Terminal | null>(null);
  const { action, create } = useCreate<Terminal>("/v1/terminals");
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { sn: v.sn, tid: v.tid, iccid: v.iccid, model: v.model, expires_on: v.expires_on };
    if (v.carrier) body.carrier = v.carrier;
    if (v.merchant_id) body.merchant_id = v.merchant_id;
    if (v.plan_id) body.plan_id = v.plan_id;
    if (v.data_quota_mb) body.data_quota_mb = Number(v.data_quota_mb);
    const out = await create(body);
    if (out) {
      setMade(out);
      action.clear();
    }
  };
  const fe = action.fieldError;
  const labels: Record<(typeof TEXT)[number], string> = { sn: "SN", tid: "TID", iccid: "ICCID", model: t("model") };
  return (
    <section class="stack" data-testid="view-register">
      <BackLink to="terminals" label={t("backToFleet")} />
      <h1>{t("nav_register")}</h1>
      <p class="hint">{t("registerIntro")}</p>
      {made && (
        <div class="alert ok" role="status" data-testid="register-ok">
          {t("registered", { sn: made.sn })} ·{" "}
          <a href={href(`terminals/${encodeURIComponent(made.sn)}`)} data-testid="register-open">
            {t("openTerminal")}
          </a>
        </div>
      )}
      <form class="card stack" onSubmit={submit} noValidate data-testid="register-form">
        <div class="grid">
          {TEXT.map((k) => (
            <Field key={k} id={`r-${k}`} label={labels[k]} error={fe(k)}>
              {(a) => <input {...a} value={v[k]} onInput={set(k)} class={k === "model" ? "" : "mono"} data-testid={`register-${k}`} />}
            </Field>
          ))}
          <SelectField id="r-carrier" label={t("carrier")} error={fe("carrier")} value={v.carrier} onChange={set("carrier")} blank={t("carrierAuto")} options={["CMCC", "CUCC", "CTCC"].map((c) => [c, t(`carrier_${c}` as "carrier_CMCC")])} />
          <Field id="r-expires" label={t("expiresOn")} error={fe("expires_on")}>
            {(a) => <input {...a} type="date" value={v.expires_on} onInput={set("expires_on")} data-testid="register-expires_on" />}
          </Field>
          <SelectField id="r-plan" label={t("plan")} error={fe("plan_id")} value={v.plan_id} onChange={set("plan_id")} blank="—" options={(plans.data?.items ?? []).map((p) => [p.plan_id, p.name])} />
          <Field id="r-quota" label={t("quotaMb")} error={fe("data_quota_mb")}>
            {(a) => <input {...a} inputMode="numeric" value={v.data_quota_mb} onInput={set("data_quota_mb")} />}
          </Field>
        </div>
        <MerchantPicker id="r-merchant" label={t("merchant")} value={v.merchant_id} onChange={(id) => setV({ ...v, merchant_id: id })} error={fe("merchant_id")} testid="register-merchant" />
        <FormEnd action={action} status="register" fields={Object.keys(v)} label={t("nav_register")} testid="register-submit" />
      </form>
    </section>
  );
}
