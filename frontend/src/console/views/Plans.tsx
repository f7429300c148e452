// Renewal plans: list, create and edit (admin). Prices are typed in yuan and sent as fen.
import { locale, megabytes, money } from "../../common/i18n";
import { fenToYuanText, parseYuan } from "../format";
import { api } from "../session";
import { t, tn } from "../strings";
import { EditorRow, FormEnd, SaveForm, SelectField, ToggleButton, useOpen, useSaveForm } from "../forms";
import { AdminOnly, Field, ItemsTable, LoadState, localError, useLoad } from "../ui";
import type { Plan, PlanPage } from "../../common/types";


export function Plans({ admin }: { admin: boolean }) {
  const load = useLoad(() => api<PlanPage>("/v1/plans"), []);
  const editing = useOpen<string>();
  const l = locale();
  return (
    <section class="stack" data-testid="view-plans">
      <h1>{t("nav_plans")}</h1>
      <LoadState load={load} />
      <ItemsTable
        items={load.data?.items}
        caption={t("nav_plans")}
        testid="plans-table"
        cols={[t("name"), t("termMonths"), t("quota"), t("price"), t("status"), admin && t("actions")]}
      >
        {(p) => (
          <EditorRow key={p.plan_id} open={editing.is(p.plan_id)} span={6} editor={<PlanForm plan={p} onSaved={editing.closeAnd(load.reload)} />}>
            <tr data-testid="plan-row">
              <td>{p.name}</td>
              <td>{tn("months", p.term_months)}</td>
              <td>{megabytes(p.data_quota_mb, l)}</td>
              <td class="num">{money(p.price_fen)}</td>
              <td>
                <span class={`badge ${p.active ? "active" : "inventory"}`}>{p.active ? t("planActive") : t("planInactive")}</span>
              </td>
              {admin && (
                <td>
                  <ToggleButton open={editing.is(p.plan_id)} onClick={() => editing.toggle(p.plan_id)} label={t("edit")} ariaLabel={`${t("edit")} ${p.name}`} />
                </td>
              )}
            </tr>
          </EditorRow>
        )}
      </ItemsTable>
      <AdminOnly admin={admin}>
        <PlanForm onSaved={load.reload} />
      </AdminOnly>
    </section>
  );
}

function PlanForm({ plan, onSaved }: { plan?: Plan; onSaved: () => void }) {
  const start = {
    name: plan?.name ?? "",
    term_months: String(plan?.term_months ?? 12),
    data_quota_mb: String(plan?.data_quota_mb ?? 1024),
    price: plan ? fenToYuanText(plan.price_fen) : "",
    active: plan?.active ?? true,
  };
  const { v, setV, set, action, save } = useSaveForm(start, { create: "/v1/plans", edit: plan && `/v1/plans/${encodeURIComponent(plan.plan_id)}` }, onSaved);
  const p = plan ? `pe-${plan.plan_id}` : "pn";
  const submit = async (e: Event) => {
    e.preventDefault();
    const price = parseYuan(v.price);
    if (price === null || price < 1) return action.fail(localError("price_fen", t("badYuan")));
    if (!/^\d+$/.test(v.term_months)) return action.fail(localError("term_months", t("wholeNumber")));
    if (!/^\d+$/.test(v.data_quota_mb)) return action.fail(localError("data_quota_mb", t("wholeNumber")));
    const body: Record<string, unknown> = {
      name: v.name.trim(),
      term_months: Number(v.term_months),
      data_quota_mb: Number(v.data_quota_mb),
      price_fen: price,
      active: v.active,
    };
    if (plan) {
      const orig: Record<string, unknown> = { name: plan.name, term_months: plan.term_months, data_quota_mb: plan.data_quota_mb, price_fen: plan.price_fen, active: plan.active };
      for (const k of Object.keys(body)) if (body[k] === orig[k]) delete body[k];
    }
    await save(body, t("planCreated"));
  };
  const fe = action.fieldError;
  const end = (
    <>
      <div class="check">
        <input type="checkbox" id={`${p}-active`} checked={v.active} onChange={(e) => setV({ ...v, active: e.currentTarget.checked })} />
        <label for={`${p}-active`}>{t("planActiveLabel")}</label>
      </div>
      <FormEnd action={action} fields={["name", "term_months", "data_quota_mb", "price_fen"]} status="plan" label={plan ? t("save") : t("createPlan")} testid="plan-submit" />
    </>
  );
  return (
    <SaveForm name="plan" editing={!!plan} title={plan ? t("editPlan", { name: plan.name }) : t("newPlan")} onSubmit={submit} end={end}>
      <Field id={`${p}-name`} label={t("name")} error={fe("name")}>
        {(a) => <input {...a} maxLength={60} value={v.name} onInput={set("name")} data-testid="plan-name" />}
      </Field>
      <Field id={`${p}-term`} label={t("termMonths")} hint={t("termHint")} error={fe("term_months")}>
        {(a) => <input {...a} type="number" min={1} max={36} step={1} value={v.term_months} onInput={set("term_months")} data-testid="plan-term" />}
      </Field>
      <Field id={`${p}-quota`} label={t("quotaMb")} error={fe("data_quota_mb")}>
        {(a) => <input {...a} type="number" min={0} step={1} value={v.data_quota_mb} onInput={set("data_quota_mb")} data-testid="plan-quota" />}
      </Field>
      <Field id={`${p}-price`} label={t("priceYuan")} hint={t("yuanHint")} error={fe("price_fen")}>
        {(a) => <input {...a} inputMode="decimal" value={v.price} onInput={set("price")} data-testid="plan-price" />}
      </Field>
    </SaveForm>
  );
}

/** The plan of a sale (a renewal order, a voucher batch), by name and price; "no plans" when there is none. */
export function PlanSelect(props: { id: string; plans: Plan[]; value: string; onChange: (planId: string) => void; error?: string; testid?: string }) {
  return (
    <SelectField
      id={props.id}
      label={t("plan")}
      error={props.error}
      value={props.value}
      onChange={(e) => props.onChange(e.currentTarget.value)}
      blank={props.plans.length === 0 ? t("noPlans") : undefined}
      options={props.plans.map((p) => [p.plan_id, `${p.name} · ${money(p.price_fen)}`])}
      testid={props.testid}
    />
  );
}
