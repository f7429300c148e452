// Prepaid voucher batches (刮刮卡): create a batch for a plan (codes shown once, with copy and
// CSV download) and list the batches.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { csvBlob, saveBlob } from "../format";
import { api } from "../session";
import { t } from "../strings";
import { VoidCode } from "./VoidCode";
import { CreateCard, FormEnd, ShownOnce, useCreate } from "../forms";
import { AdminOnly, Field, ListCard, localError, useLoad } from "../ui";
import { PlanSelect } from "./Plans";
import type { Plan, PlanPage, VoucherBatchCreated as NewBatch, VoucherBatchPage } from "../../common/types";



export function Vouchers({ admin }: { admin: boolean }) {
  const batches = useLoad(() => api<VoucherBatchPage>("/v1/vouchers/batches"), []);
  const plans = useLoad(() => api<PlanPage>("/v1/plans"), []);
  const planName = (id: string) => plans.data?.items.find((p) => p.plan_id === id)?.name ?? id;
  const items = batches.data?.items ?? [];
  return (
    <section class="stack" data-testid="view-vouchers">
      <h1>{t("nav_vouchers")}</h1>
      <AdminOnly admin={admin}>
        <CreateBatch plans={(plans.data?.items ?? []).filter((p) => p.active)} onCreated={batches.reload} />
      </AdminOnly>
      <ListCard title={t("batches")} load={batches} testid="batches-table" cols={[t("batchId"), t("plan"), t("count"), t("vRedeemed"), t("vVoided"), t("vAvailable"), t("created")]}>
        {(b) => (
          <tr key={b.batch_id} data-testid="batch-row">
            <td class="mono">{b.batch_id}</td>
            <td>{planName(b.plan_id)}</td>
            <td class="num">{b.count}</td>
            <td class="num" data-testid="batch-redeemed">{b.redeemed ?? 0}</td>
            <td class="num" data-testid="batch-voided">{b.voided ?? 0}</td>
            <td class="num" data-testid="batch-available">{b.available ?? b.count}</td>
            <td class="nowrap">{moment(b.created_at)}</td>
          </tr>
        )}
      </ListCard>
      {admin && items.length > 0 && (
        <VoidCode batches={items.map((b) => ({ batch_id: b.batch_id, label: `${planName(b.plan_id)} · ${b.batch_id}` }))} onVoided={batches.reload} />
      )}
    </section>
  );
}

function CreateBatch({ plans, onCreated }: { plans: Plan[]; onCreated: () => void }) {
  const [planId, setPlanId] = useState("");
  const [count, setCount] = useState("50");
  const [made, setMade] = useState<NewBatch | null>(null);
  const { action, create } = useCreate<NewBatch>("/v1/vouchers/batches");
  const chosen = planId || plans[0]?.plan_id || "";
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^\d+$/.test(count) || Number(count) < 1 || Number(count) > 1000) return action.fail(localError("count", t("countRange")));
    const out = await create({ plan_id: chosen, count: Number(count) }, t("batchCreated"));
    if (out) {
      setMade(out);
      onCreated();
    }
  };
  const plan = plans.find((p) => p.plan_id === (made?.plan_id ?? chosen));
  const shown = made && (
    <ShownOnce
      testid="voucher-codes"
      warning={t("codesOnce")}
      id="codes-text"
      label={t("codesOf", { n: (made.codes ?? []).length, batch: made.batch_id })}
      value={(made.codes ?? []).join("\n")}
      lines={Math.min(10, (made.codes ?? []).length + 1)}
      copyLabel={t("copyCodes")}
      copyTestid="voucher-copy"
      hideLabel={t("hideCodes")}
      onHide={() => setMade(null)}
    >
      <button
        type="button"
        data-testid="voucher-download"
        onClick={() =>
          saveBlob(
            csvBlob([["batch_id", "plan", "code"], ...(made.codes ?? []).map((c) => [made.batch_id, plan?.name ?? made.plan_id, c])]),
            `vouchers-${made.batch_id}.csv`,
          )
        }
      >
        {t("downloadCsv")}
      </button>
    </ShownOnce>
  );
  return (
    <CreateCard testid="voucher-form" title={t("newBatch")} onSubmit={submit} shown={shown}>
      <div class="grid">
        <PlanSelect id="v-plan" plans={plans} value={chosen} onChange={setPlanId} error={action.fieldError("plan_id")} testid="voucher-plan" />
        <Field id="v-count" label={t("count")} hint={t("countRange")} error={action.fieldError("count")}>
          {(a) => <input {...a} type="number" min={1} max={1000} step={1} value={count} onInput={(e) => setCount(e.currentTarget.value)} data-testid="voucher-count" />}
        </Field>
      </div>
      <FormEnd action={action} fields={["plan_id", "count"]} status="voucher" label={t("createBatch")} disabled={!chosen} testid="voucher-submit" />
    </CreateCard>
  );
}
