// Moving a terminal between agents: the owner issues a single-use transfer code (on the terminal's
// page), the receiving agent claims the terminal with its SN and that code.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { href } from "../router";
import { api } from "../session";
import { t } from "../strings";
import { BusyButton, FormEnd } from "../forms";
import { AdminOnly, BackLink, CopyButton, Field, Status, useAction } from "../ui";
import type { Terminal, TransferCode } from "../../common/types";

export function TransferCode({ sn }: { sn: string }) {
  const action = useAction();
  const [code, setCode] = useState<{ code: string; expires_at: string } | null>(null);
  const issue = async () => {
    const out = await action.run(() =>
      api<TransferCode>(`/v1/terminals/${encodeURIComponent(sn)}/transfer-code`, { method: "POST", body: {} }),
    );
    if (out) setCode(out);
  };
  return (
    <div class="card stack" data-testid="transfer-code">
      <h2>{t("transferTitle")}</h2>
      <p class="hint">{t("transferIntro")}</p>
      <div class="row">
        <BusyButton busy={action.busy} label={t("transferIssue")} onClick={issue} testid="transfer-issue" />
      </div>
      {code && (
        <div class="alert ok" role="status">
          {t("transferCode")}: <strong class="mono" data-testid="transfer-code-value">{code.code}</strong>{" "}
          <CopyButton text={code.code} testid="transfer-copy" />
          <div class="hint">{t("transferExpires", { at: moment(code.expires_at) })}</div>
        </div>
      )}
      <Status action={action} testid="transfer" />
    </div>
  );
}

export function Claim({ admin }: { admin: boolean }) {
  const [sn, setSn] = useState("");
  const [code, setCode] = useState("");
  const [claimed, setClaimed] = useState<Terminal | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await action.run(() => api<Terminal>("/v1/terminals/claim", { method: "POST", body: { sn, code } }));
    if (out) {
      setClaimed(out);
      setCode("");
    }
  };
  return (
    <section class="stack" data-testid="view-claim">
      <BackLink to="terminals" label={t("backToFleet")} />
      <h1>{t("nav_claim")}</h1>
      <AdminOnly admin={admin}>
        <p class="hint">{t("claimIntro")}</p>
        {claimed && (
          <div class="alert ok" role="status" data-testid="claim-ok">
            {t("claimed", { sn: claimed.sn })} ·{" "}
            <a href={href(`terminals/${encodeURIComponent(claimed.sn)}`)}>{t("openTerminal")}</a>
          </div>
        )}
        <form class="card stack" onSubmit={submit} noValidate data-testid="claim-form">
          <div class="grid">
            <Field id="c-sn" label="SN" error={action.fieldError("sn")}>
              {(a) => <input {...a} class="mono" value={sn} onInput={(e) => setSn(e.currentTarget.value)} data-testid="claim-sn" />}
            </Field>
            <Field id="c-code" label={t("transferCode")} error={action.fieldError("code")}>
              {(a) => <input {...a} class="mono" autocomplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} data-testid="claim-code" />}
            </Field>
          </div>
          <FormEnd action={action} status="claim" fields={["sn", "code"]} label={t("claimSubmit")} testid="claim-submit" />
        </form>
      </AdminOnly>
    </section>
  );
}
