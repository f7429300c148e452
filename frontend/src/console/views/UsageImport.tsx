// Usage by CSV (POST /v1/usage-imports): pick a file, import, read the report (rows applied,
// unchanged, failed with their row and field, quota alerts raised).
import { useState } from "preact/hooks";
import { api } from "../session";
import { t, tn } from "../strings";
import { FormEnd } from "../forms";
import { BackLink, Field, Table, localError, useAction } from "../ui";
import type { UsageImport as UsageReport } from "../../common/types";


export function UsageImport({ canWrite }: { canWrite: boolean }) {
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<UsageReport | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return action.fail(localError("file", t("v_required", { field: t("usageFile") })));
    const body = await file.arrayBuffer();
    const out = await action.run(() => api<UsageReport>("/v1/usage-imports", { method: "POST", rawBody: body, contentType: "text/csv" }));
    if (out) setReport(out);
  };
  return (
    <section class="stack" data-testid="view-usage">
      <BackLink to="imports" label={t("nav_imports")} />
      <h1>{t("usageTitle")}</h1>
      <p class="hint">{t("usageIntro")}</p>
      <p class="hint mono">{t("usageTemplate")}</p>
      {canWrite ? (
        <form class="card stack" onSubmit={submit} noValidate data-testid="usage-form">
          <Field id="u-file" label={t("usageFile")} error={action.fieldError("file")}>
            {(a) => <input {...a} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} data-testid="usage-file" />}
          </Field>
          <FormEnd action={action} status="usage" fields={["file"]} label={t("usageSubmit")} testid="usage-submit" />
        </form>
      ) : (
        <p class="hint">{t("readonlyNoWrite")}</p>
      )}
      {report && (
        <div class="card stack" data-testid="usage-report">
          <p role="status" data-testid="usage-summary">
            {tn("usageDone", report.total, { total: report.total, applied: report.applied, unchanged: report.unchanged, failed: report.failed, alerts: report.alerts })}
          </p>
          {report.errors.length > 0 && (
            <Table caption={t("rowErrors")} testid="usage-errors" cols={[t("row"), t("field"), t("message")]}>
              {report.errors.map((e) => (
                <tr key={e.row}>
                  <td class="num">{e.row}</td>
                  <td class="mono">{e.field}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </Table>
          )}
        </div>
      )}
    </section>
  );
}
