// Void one voucher code of a batch (POST /v1/vouchers/batches/{id}/void, the code in the body).
import { useState } from "preact/hooks";
import { api } from "../session";
import { t } from "../strings";
import { ConfirmButton, Field, Status, useAction } from "../ui";
import { SelectField } from "../forms";

export function VoidCode({ batches, onVoided }: { batches: { batch_id: string; label: string }[]; onVoided: () => void }) {
  const [batchId, setBatchId] = useState("");
  const [code, setCode] = useState("");
  const action = useAction();
  const chosen = batchId || batches[0]?.batch_id || "";
  const [last, setLast] = useState<number | null>(null);
  return (
    <div class="card stack" data-testid="void-code">
      <h2>{t("voidTitle")}</h2>
      <p class="hint">{t("voidIntro")}</p>
      <div class="grid">
        <SelectField id="v-batch" label={t("batch")} value={chosen} onChange={(e) => setBatchId(e.currentTarget.value)} options={batches.map((b) => [b.batch_id, b.label])} testid="void-batch" />
        <Field id="v-code" label={t("voidCode")} error={action.fieldError("code")}>
          {(a) => <input {...a} class="mono" autocomplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} data-testid="void-input" />}
        </Field>
      </div>
      <div class="row">
        <ConfirmButton
          label={t("voidSubmit")}
          question={t("voidQuestion")}
          danger
          busy={action.busy}
          disabled={!chosen || !code.trim()}
          testid="void-submit"
          onConfirm={() =>
            void action.run(async () => {
              setLast(null);
              const out = await api<{ batch: { available: number } }>(`/v1/vouchers/batches/${encodeURIComponent(chosen)}/void`, {
                method: "POST",
                body: { code },
              });
              setCode("");
              setLast(out.batch.available);
              onVoided();
            })
          }
        />
      </div>
      {last !== null && !action.error && (
        <div class="alert ok" role="status" data-testid="void-ok">
          {t("voided", { n: last })}
        </div>
      )}
      <Status action={action} testid="void" fields={["code"]} />
    </div>
  );
}
