// Fleet import: the file goes straight to its presigned upload URL (up to 200 MB) with an upload
// progress bar; its arrival starts the import, followed every second with a progress bar and
// counts; the row errors are listed and offered as a CSV report.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../../common/api";
import { locale, moment } from "../../common/i18n";
import { csvBlob, number, saveBlob } from "../format";
import { go, href } from "../router";
import { api, apiBlob, canWrite, session } from "../session";
import { errorText, t } from "../strings";
import { uploadImport } from "../transfer";
import { BusyButton, FormCard, FormEnd } from "../forms";
import { ErrorAlert, Field, Status, Table, useAction } from "../ui";
import type { Import as Job } from "../../common/types";

export const IMPORT_HEADER = "sn,tid,iccid,carrier,model,merchant_name,merchant_phone,plan_name,expires_on,data_quota_mb";
// The same columns under the Chinese names Excel sheets use (more aliases: docs/spreadsheets-and-roles.md).
const IMPORT_HEADER_ZH = "序列号,终端号,ICCID,运营商,型号,商户名称,商户电话,套餐,到期日,流量额度";
// Valid as is (the ICCID's Luhn digit is right; tests/unit/domain/test_domain_spreadsheets.py imports it).
const EXAMPLE_ROW = "SN-EXAMPLE-0001,12345678,89860012345678901238,CMCC,PAX A920,张三便利店,13812345678,,2027/12/31,1024";
// Columns Excel would turn into numbers (8.98601E+19, a TID without its leading 0): written as ="…",
// which Excel evaluates to the text itself; the import unwraps it (domain/csvfile.py, excel_text).
const TEXT_COLUMNS = new Set(["sn", "tid", "iccid", "merchant_phone"]);
const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

function templateBlob(): Blob {
  const names = IMPORT_HEADER.split(",");
  const cells = EXAMPLE_ROW.split(",").map((v, i) => (TEXT_COLUMNS.has(names[i]) && v ? `"=""${v}"""` : v));
  return new Blob(["\ufeff", `${IMPORT_HEADER}\r\n${cells.join(",")}\r\n`], { type: "text/csv;charset=utf-8" });
}

// The counts of a job, each with its label (test ids import-created, -updated, -unchanged, -failed).
const COUNTS = [
  ["impCreatedRows", "created"],
  ["updated", "updated"],
  ["unchanged", "unchanged"],
  ["failed", "failed"],
] as const;

const STALL_MS = 60_000;
const MAX_BYTES = 200 * 1024 * 1024;



export function Imports({ importId }: { importId: string | null }) {
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<{ sent: number; total: number } | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return action.fail(new ApiError(400, "client_invalid", t("chooseFile"), "file"));
    if (file.size > MAX_BYTES) return action.fail(new ApiError(400, "client_invalid", t("v_file_too_large"), "file"));
    setSent({ sent: 0, total: file.size });
    const id = await action.run(() => uploadImport(file, (s, total) => setSent({ sent: s, total })));
    setSent(null);
    if (id) go("imports", { id });
  };
  const xlsx = useAction();
  const saveXlsxTemplate = () =>
    xlsx.run(async () => saveBlob(await apiBlob("/v1/imports/template.xlsx", { accept: XLSX_TYPE }), "simrenew-import-template.xlsx"));
  const upPct = sent && sent.total > 0 ? Math.floor((sent.sent / sent.total) * 100) : 0;
  return (
    <section class="stack" data-testid="view-imports">
      <h1>{t("nav_imports")}</h1>
      <div class="card stack">
        <h2>{t("importFormat")}</h2>
        <p>{t("importIntro")}</p>
        <pre class="code" data-testid="import-header">
          {IMPORT_HEADER}
        </pre>
        <p>{t("impChineseHeader")}</p>
        <pre class="code" data-testid="import-header-zh">
          {IMPORT_HEADER_ZH}
        </pre>
        <p class="hint">{t("importRules")}</p>
        <div class="row">
          <button
            type="button"
            onClick={() => saveBlob(templateBlob(), "simrenew-import-template.csv")}
            data-testid="import-template"
          >
            {t("downloadTemplate")}
          </button>
          <BusyButton busy={xlsx.busy} label={t("downloadTemplateXlsx")} onClick={saveXlsxTemplate} testid="import-template-xlsx" />
        </div>
        <ErrorAlert error={xlsx.error} />
      </div>
      {!canWrite(session()) ? (
        <p class="card hint" data-testid="import-readonly">
          {t("readonlyNoWrite")}
        </p>
      ) : (
      <FormCard testid="import-form" title={t("newImport")} onSubmit={submit}>
        <Field id="import-file" label={t("csvFile")} hint={t("csvFileHint")} error={action.fieldError("file")}>
          {(a) => (
            <input
              {...a}
              type="file"
              accept={`.csv,text/csv,.txt,.xlsx,${XLSX_TYPE}`}
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              data-testid="import-file"
            />
          )}
        </Field>
        {sent && (
          <div class="stack" data-testid="upload-progress">
            <label for="upload-bar">{t("up_uploading")}</label>
            <progress id="upload-bar" value={sent.sent} max={Math.max(sent.total, 1)} data-testid="upload-bar">
              {upPct}%
            </progress>
            <p class="hint" aria-live="polite" data-testid="upload-percent">
              {upPct}%
            </p>
          </div>
        )}
        <FormEnd action={action} fields={["file"]} status="import-start" label={t("startImport")} testid="import-start" />
      </FormCard>
      )}
      {importId && <ImportProgress key={importId} importId={importId} />}
    </section>
  );
}

function ImportProgress({ importId }: { importId: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stalled, setStalled] = useState(false);
  const [tick, setTick] = useState(0);
  const resume = useAction();
  const report = useAction();
  const last = useRef({ processed: -1, at: Date.now() });
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const j = await api<Job>(`/v1/imports/${encodeURIComponent(importId)}`);
        if (stop) return;
        setJob(j);
        setError(null);
        if (j.processed !== last.current.processed) last.current = { processed: j.processed, at: Date.now() };
        setStalled(j.status === "running" && Date.now() - last.current.at > STALL_MS);
        if (j.status === "running" || j.status === "awaiting_upload") timer = setTimeout(poll, 1000);
      } catch (e) {
        if (stop) return;
        setError(e);
        // A passing network problem: keep following; a 4xx (not found, no access): stop.
        if (e instanceof ApiError && (e.status === 0 || e.status === 429 || e.status >= 500)) timer = setTimeout(poll, 3000);
      }
    };
    poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [importId, tick]);
  const l = locale();
  const pct = job && job.total > 0 ? Math.floor((job.processed / job.total) * 100) : 0;
  const canResume = !!job && (job.status === "failed" || stalled);
  const downloadErrors = () =>
    report.run(async () => {
      if (!job) return;
      const name = `import-errors-${job.import_id}.csv`;
      if (job.errors_truncated) {
        saveBlob(await apiBlob(`/v1/imports/${encodeURIComponent(job.import_id)}`, { accept: "text/csv" }), name);
      } else {
        const rows = job.errors.map((e) => [e.row, e.field, e.code, errorText(new ApiError(400, e.code, e.message, e.field))]);
        saveBlob(csvBlob([["row", "field", "code", "message"], ...rows]), name);
      }
    });
  return (
    <div class="card stack" data-testid="import-progress" aria-busy={job?.status === "running" ? "true" : "false"}>
      <h2>
        {t("importJob")} <span class="mono">{importId}</span>
      </h2>
      <ErrorAlert error={error} />
      {job && (
        <>
          <div class="row spread">
            <span data-testid="import-status" class={`badge ${job.status === "done" ? "active" : job.status === "failed" ? "suspended" : "grace"}`}>
              {t(`imp_${job.status}`)}
            </span>
            {job.created_at && <span class="hint">{moment(job.created_at)}</span>}
          </div>
          <label for="import-bar">{t("progress")}</label>
          <progress id="import-bar" value={job.processed} max={Math.max(job.total, 1)} data-testid="import-bar">
            {pct}%
          </progress>
          <p aria-live="polite">
            <span data-testid="import-progress-text">
              {number(job.processed, l)} / {number(job.total, l)}
            </span>{" "}
            <span class="hint" data-testid="import-percent">
              ({pct}%)
            </span>
          </p>
          <ul class="counts" data-testid="import-counts">
            {COUNTS.map(([key, count]) => (
              <li key={count}>
                {t(key)}: <strong data-testid={`import-${count}`}>{number(job[count], l)}</strong>
              </li>
            ))}
          </ul>
          {job.status === "failed" && job.message && (
            <div class="alert error" role="alert">
              {t("importFailed")} {job.message}
            </div>
          )}
          {stalled && (
            <div class="alert info" role="status">
              {t("importStalled")}
            </div>
          )}
          {canResume && canWrite(session()) && (
            <div class="row">
              <BusyButton
                busy={resume.busy}
                label={t("resumeImport")}
                testid="import-resume"
                onClick={async () => {
                  const ok = await resume.run(
                    () => api(`/v1/imports/${encodeURIComponent(importId)}/resume`, { method: "POST", body: {} }),
                    t("importResumed"),
                  );
                  if (ok !== undefined) {
                    last.current = { processed: -1, at: Date.now() };
                    setTick(tick + 1);
                  }
                }}
              />
            </div>
          )}
          <Status action={resume} />
          {job.errors.length > 0 && (
            <div class="stack">
              <h3>{t("rowErrors")}</h3>
              {job.errors_truncated && <p class="hint">{t("errorsTruncated", { n: job.errors.length, total: job.failed })}</p>}
              <Table caption={t("rowErrors")} testid="import-errors" cols={[t("rowNo"), t("field"), t("code"), t("message")]}>
                {job.errors.map((e) => (
                  <tr key={`${e.row}-${e.field}-${e.code}`} data-testid="import-error-row">
                    <td data-testid="import-error-rowno">{e.row}</td>
                    <td class="mono" data-testid="import-error-field">
                      {e.field}
                    </td>
                    <td class="mono">{e.code}</td>
                    <td>{errorText(new ApiError(400, e.code, e.message, e.field))}</td>
                  </tr>
                ))}
              </Table>
              <div class="row">
                <BusyButton busy={report.busy} label={t("downloadErrorReport")} onClick={downloadErrors} testid="import-error-report" />
              </div>
              <ErrorAlert error={report.error} />
            </div>
          )}
          {job.status === "done" && (
            <p>
              <a href={href("terminals")}>{t("viewFleet")}</a>
            </p>
          )}
        </>
      )}
    </div>
  );
}
