// Carrier connection (issue 15): the agent's carrier platform accounts (connect, check, remove),
// the sync (run now, last run), failed carrier operations with a retry, the drift report (CSV);
// and the carrier state block of a terminal's page.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { saveBlob } from "../format";
import { href } from "../router";
import { api, apiBlob, canWrite, session } from "../session";
import { t } from "../strings";
import { BusyButton, DeleteButton, FormCard, FormEnd, RunButton, SelectField, useCreate, useFields, type Action } from "../forms";
import { AdminOnly, Field, ListCard, SnLink, Status, localError, useAction, useLoad } from "../ui";
import type { CarrierAccount as Account, CarrierAccountPage, CarrierDriftReport, CarrierOperation, CarrierOperationPage, CarrierState } from "../../common/types";
import { API_ENUMS } from "../../common/enums";

const CARRIERS = API_ENUMS.account_carrier;
const PLATFORMS = API_ENUMS.carrier_platform;

export function driftLabel(reason: string | null | undefined): string {
  if (!reason) return "";
  const k = `carrierDrift_${reason}`;
  return t(k as "carrierDrift_unknown_at_carrier");
}

export function CarrierPage({ admin }: { admin: boolean }) {
  const [round, setRound] = useState(0);
  return (
    <section class="stack" data-testid="view-carrier">
      <h1>{t("nav_carrier")}</h1>
      <p class="hint">{t("carrierIntro")}</p>
      <AdminOnly admin={admin}>
        <Accounts key={`a${round}`} onChange={() => setRound(round + 1)} />
        <Connect onCreated={() => setRound(round + 1)} />
      </AdminOnly>
      <FailedOps key={`f${round}`} />
      <DriftReport key={`d${round}`} />
    </section>
  );
}

function Accounts({ onChange }: { onChange: () => void }) {
  const list = useLoad(() => api<CarrierAccountPage>("/v1/carrier-accounts"), []);
  const action = useAction();
  const items = list.data?.items ?? [];
  const sync = async () => {
    const ok = await action.run(() => api("/v1/carrier-sync", { method: "POST", body: {} }).then(() => true), t("carrierSyncQueued"));
    if (ok) setTimeout(() => list.reload(), 1500);
  };
  const syncRow = items.length > 0 && (
    <div class="row">
      <button type="button" class="primary" onClick={sync} disabled={action.busy} data-testid="carrier-sync">
        {t("carrierSyncNow")}
      </button>
    </div>
  );
  return (
    <ListCard title={t("carrierAccounts")} load={list} action={action} status="carrier-action" testid="carrier-accounts" cols={[t("carrier"), t("carrierPlatform"), t("carrierUsername"), t("state"), t("carrierLastSync"), t("actions")]} foot={syncRow}>
      {(a) => (
        <tr key={a.account_id} data-testid="carrier-account-row">
          <td>{a.carrier}</td>
          <td>
            {t(`carrierPlatform_${a.platform}` as "carrierPlatform_onelink")}
            <div class="hint mono break">{a.base_url}</div>
          </td>
          <td class="mono break">{a.username}</td>
          <td>{t(`carrierAccount_${a.status}` as "carrierAccount_ok")}</td>
          <td class="nowrap">
            {a.last_sync?.finished_at ? moment(a.last_sync.finished_at) : "—"}
            {a.last_sync?.sims != null && <div class="hint">{t("carrierSyncSims", { n: a.last_sync.sims, d: a.last_sync.drift ?? 0 })}</div>}
            {a.last_sync?.error && <div class="hint">{a.last_sync.error}</div>}
          </td>
          <td>
            <div class="row">
              <RunButton
                action={action}
                label={t("carrierCheck")}
                testid="carrier-check"
                run={() => api(`/v1/carrier-accounts/${encodeURIComponent(a.account_id)}/check`, { method: "POST", body: {} })}
                ok={t("carrierCheckOk")}
                after={() => list.reload()}
              />
              <DeleteButton
                action={action}
                path={`/v1/carrier-accounts/${encodeURIComponent(a.account_id)}`}
                question={t("carrierRemoveQuestion")}
                ok={t("carrierRemoved")}
                after={onChange}
              />
            </div>
          </td>
        </tr>
      )}
    </ListCard>
  );
}

function Connect({ onCreated }: { onCreated: () => void }) {
  const { v, setV, set } = useFields({ carrier: "CUCC", platform: "control_center", base_url: "", username: "", api_key: "" });
  const { action, create } = useCreate<Account>("/v1/carrier-accounts");
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^https?:\/\/\S+$/i.test(v.base_url.trim())) return action.fail(localError("base_url", t("urlBad")));
    if (!v.username.trim()) return action.fail(localError("username", t("v_required", { field: t("carrierUsername") })));
    if (!v.api_key) return action.fail(localError("api_key", t("v_required", { field: t("carrierApiKey") })));
    const out = await create({ ...v, base_url: v.base_url.trim(), username: v.username.trim() }, t("carrierConnected"));
    if (out) {
      setV({ ...v, api_key: "" });
      onCreated();
    }
  };
  return (
    <FormCard testid="carrier-form" title={t("carrierConnect")} onSubmit={submit}>
      <div class="grid">
        <SelectField id="c-carrier" label={t("carrier")} error={action.fieldError("carrier")} value={v.carrier} onChange={set("carrier")} options={CARRIERS.map((c) => [c, c])} />
        <Field id="c-platform" label={t("carrierPlatform")} error={action.fieldError("platform")}>
          {(a) => (
            <select {...a} value={v.platform} onChange={set("platform")}>
              {PLATFORMS.map((p) => (
                <option key={p} value={p}>
                  {t(`carrierPlatform_${p}` as "carrierPlatform_onelink")}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="c-url" label={t("carrierBaseUrl")} hint={t("carrierBaseUrlHint")} error={action.fieldError("base_url")}>
          {(a) => <input {...a} type="url" maxLength={300} value={v.base_url} onInput={set("base_url")} data-testid="carrier-url" />}
        </Field>
        <Field id="c-user" label={t("carrierUsername")} error={action.fieldError("username")}>
          {(a) => <input {...a} maxLength={100} autoComplete="off" value={v.username} onInput={set("username")} data-testid="carrier-username" />}
        </Field>
        <Field id="c-key" label={t("carrierApiKey")} hint={t("carrierApiKeyHint")} error={action.fieldError("api_key")}>
          {(a) => <input {...a} type="password" maxLength={256} autoComplete="new-password" value={v.api_key} onInput={set("api_key")} data-testid="carrier-key" />}
        </Field>
      </div>
      <FormEnd action={action} fields={["carrier", "platform", "base_url", "username", "api_key"]} status="carrier-connect" label={t("carrierConnect")} testid="carrier-submit" />
    </FormCard>
  );
}

function FailedOps() {
  const write = canWrite(session());
  const list = useLoad(() => api<CarrierOperationPage>("/v1/carrier-operations"), []);
  const action = useAction();
  return (
    <ListCard title={t("carrierFailedOps")} load={list} quiet action={action} status="carrier-retry" testid="carrier-failed" cols={["SN", t("carrierAction"), t("attempts"), t("carrierLastError"), t("actions")]}>
      {(op) => (
        <tr key={op.op_id} data-testid="carrier-failed-row">
          <td class="mono">
            <SnLink sn={op.sn} />
          </td>
          <td>{t(`carrierAction_${op.action}` as "carrierAction_suspend")}</td>
          <td class="num">{op.attempts}</td>
          <td class="break">{op.last_error}</td>
          <td>
            {write && <RetryButton action={action} op={op} testid="carrier-retry-button" after={() => list.reload()} />}
          </td>
        </tr>
      )}
    </ListCard>
  );
}

/** Retry one failed carrier operation. */
function RetryButton(props: { action: Action; op: CarrierOperation; testid?: string; after: (ok: boolean) => void }) {
  return (
    <RunButton
      action={props.action}
      label={t("carrierRetry")}
      testid={props.testid}
      run={() => api(`/v1/carrier-operations/${encodeURIComponent(props.op.op_id)}/retry`, { method: "POST", body: {} })}
      ok={t("carrierRetried")}
      after={props.after}
    />
  );
}

function DriftReport() {
  const report = useLoad(() => api<CarrierDriftReport>("/v1/reports/carrier-drift"), []);
  const exporting = useAction();
  const links = (
    <div class="row">
      <a class="button" href={href("terminals", { carrier: "disagrees" })}>
        {t("carrierDisagrees")}
      </a>
      <BusyButton
        busy={exporting.busy}
        label={t("exportCsv")}
        onClick={() =>
          exporting.run(async () => {
            saveBlob(await apiBlob("/v1/reports/carrier-drift", { accept: "text/csv" }), "carrier-drift.csv");
          })
        }
      />
    </div>
  );
  return (
    <ListCard title={t("carrierDriftReport")} hint={t("carrierDriftIntro")} load={report} quiet error={report.error ?? exporting.error} testid="carrier-drift" cols={["SN", t("status"), t("carrierStatus"), t("carrierWhy"), t("carrierSyncedAt")]} foot={links}>
      {(d) => (
        <tr key={d.sn}>
          <td class="mono">
            <SnLink sn={d.sn} />
          </td>
          <td>{d.status}</td>
          <td class="mono">{d.carrier_status ?? "—"}</td>
          <td>{driftLabel(d.reason)}</td>
          <td class="nowrap">{moment(d.synced_at)}</td>
        </tr>
      )}
    </ListCard>
  );
}
/** A terminal's carrier state (its page): status there, measured usage, pending or failed changes. */
export function CarrierStateBlock({ state, onRetried }: { state: CarrierState; onRetried?: () => void }) {
  const action = useAction();
  const op = state.last_operation;
  return (
    <div class="stack" data-testid="carrier-state">
      <h2>{t("carrierState")}</h2>
      <dl class="details">
        <dt>{t("carrierStatus")}</dt>
        <dd class="mono" data-testid="carrier-status">
          {state.status ?? t("carrierNotRead")}
          {state.drift && <span class="badge suspended"> {driftLabel(state.drift)}</span>}
        </dd>
        <dt>{t("carrierMeasured")}</dt>
        <dd>{state.data_used_mb != null ? `${state.data_used_mb} MB` : "—"} {state.usage_as_of && <span class="hint">({moment(state.usage_as_of)})</span>}</dd>
        <dt>{t("carrierSyncedAt")}</dt>
        <dd>{moment(state.synced_at)}</dd>
        {state.pending && (
          <>
            <dt>{t("carrierPending")}</dt>
            <dd data-testid="carrier-pending">{t(`carrierAction_${state.pending}` as "carrierAction_suspend")}</dd>
          </>
        )}
        {state.last_error && (
          <>
            <dt>{t("carrierLastError")}</dt>
            <dd class="break" data-testid="carrier-error">{state.last_error}</dd>
          </>
        )}
      </dl>
      <Status action={action} />
      {op && canWrite(session()) && (op.state === "failed" || op.state === "manual") && (
        <div class="row">
          <RetryButton action={action} op={op} after={(ok) => ok && onRetried?.()} />
        </div>
      )}
    </div>
  );
}
