// The platform operator's view: sign in with the platform key (kept in this tab only), list the
// agents by status, approve an application (its first admin key shown once), suspend, reinstate.
import { useState } from "preact/hooks";
import { ApiError, call } from "../../common/api";
import { moment } from "../../common/i18n";
import { LanguageSwitch } from "../LanguageSwitch";
import { t, type Key } from "../strings";
import { ConfirmButton, CopyButton, Field, ItemsTable, LoadState, Pager, Status, Submit, useAction, usePaged } from "../ui";
import { SelectField } from "../forms";
import type { TenantApproved, TenantPage } from "../../common/types";

const STORE = "simrenew.console.platform";
const STATUSES = ["pending_review", "active", "suspended"] as const;


function stored(): string | null {
  try {
    return sessionStorage.getItem(STORE);
  } catch {
    return null;
  }
}

function keep(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORE, key);
    else sessionStorage.removeItem(STORE);
  } catch {
    /* memory only */
  }
}

export function Platform() {
  const [key, setKey] = useState<string | null>(stored());
  const signOut = () => {
    keep(null);
    setKey(null);
  };
  return (
    <div class="signin-page platform">
      <header class="signin-top row spread">
        <strong>{t("platformTitle")}</strong>
        <div class="row">
          <LanguageSwitch />
          {key && (
            <button type="button" onClick={signOut} data-testid="platform-sign-out">
              {t("platformSignOut")}
            </button>
          )}
        </div>
      </header>
      <main id="main" class="stack platform-main" data-testid="view-platform">
        {key ? <Tenants platformKey={key} onRefused={signOut} /> : <PlatformSignIn onIn={(k) => (keep(k), setKey(k))} />}
      </main>
    </div>
  );
}

function PlatformSignIn({ onIn }: { onIn: (key: string) => void }) {
  const [key, setKey] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    const ok = await action.run(() => call<TenantPage>("/v1/admin/tenants?limit=1", { key: k }));
    if (ok) onIn(k);
  };
  return (
    <form class="signin card stack" onSubmit={submit} noValidate data-testid="platform-signin">
      <h1>{t("platformTitle")}</h1>
      <p class="hint">{t("platformIntro")}</p>
      <Field id="p-key" label={t("platformKey")}>
        {(a) => <input {...a} type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} data-testid="platform-key" />}
      </Field>
      <Status action={action} testid="platform-signin" />
      <Submit busy={action.busy} label={t("platformSignIn")} testid="platform-sign-in" />
    </form>
  );
}

function Tenants({ platformKey, onRefused }: { platformKey: string; onRefused: () => void }) {
  const [status, setStatus] = useState<string>("pending_review");
  return (
    <div class="stack">
      <h1>{t("tenants")}</h1>
      <div class="card row">
        <SelectField
          id="p-status"
          label={t("status")}
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value)}
          blank={t("all")}
          options={STATUSES.map((s) => [s, t(`ts_${s}` as Key)])}
          testid="platform-status"
        />
      </div>
      <TenantTable key={status} status={status} platformKey={platformKey} onRefused={onRefused} />
    </div>
  );
}

function TenantTable({ status, platformKey, onRefused }: { status: string; platformKey: string; onRefused: () => void }) {
  const paged = usePaged(async (cursor) => {
    const qs = new URLSearchParams({ limit: "50" });
    if (status) qs.set("status", status);
    if (cursor) qs.set("cursor", cursor);
    try {
      return await call<TenantPage>(`/v1/admin/tenants?${qs}`, { key: platformKey });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) onRefused();
      throw e;
    }
  });
  const action = useAction();
  const [issued, setIssued] = useState<{ tenant_id: string; api_key: string } | null>(null);
  const act = (tenantId: string, verb: "approve" | "suspend" | "reinstate", ok: Key) =>
    void action.run(async () => {
      const out = await call<Partial<TenantApproved>>(`/v1/admin/tenants/${encodeURIComponent(tenantId)}/${verb}`, {
        method: "POST",
        body: {},
        key: platformKey,
      });
      if (verb === "approve" && out.api_key) setIssued({ tenant_id: tenantId, api_key: out.api_key });
      paged.reload();
    }, t(ok));
  return (
    <div class="stack">
      {issued && (
        <div class="alert ok" role="status" data-testid="approved-key">
          {t("approved")} <strong class="mono break">{issued.api_key}</strong> <CopyButton text={issued.api_key} />
        </div>
      )}
      <Status action={action} testid="platform-action" />
      <LoadState load={paged} />
      <ItemsTable items={paged.data?.items} caption={t("tenants")} testid="tenant-table" cols={[t("name"), t("contact"), t("status"), t("created"), t("actions")]}>
        {(x) => (
          <tr key={x.tenant_id} data-testid="tenant-row">
            <td>
              {x.name}
              <div class="hint mono">{x.tenant_id}</div>
            </td>
            <td>
              {x.contact_name}
              <div class="hint">
                {x.contact_phone} · {x.contact_email}
              </div>
            </td>
            <td data-testid="tenant-status">{t(`ts_${x.status}` as Key)}</td>
            <td class="nowrap">{moment(x.created_at)}</td>
            <td class="row">
              {x.status === "pending_review" && (
                <ConfirmButton label={t("approve")} question={t("approveQuestion")} busy={action.busy} testid={`approve-${x.tenant_id}`} onConfirm={() => act(x.tenant_id, "approve", "approvedDone")} />
              )}
              {x.status !== "suspended" && (
                <ConfirmButton label={t("suspend")} question={t("suspendQuestion")} danger busy={action.busy} testid={`suspend-${x.tenant_id}`} onConfirm={() => act(x.tenant_id, "suspend", "suspended")} />
              )}
              {x.status === "suspended" && (
                <ConfirmButton label={t("reinstate")} question={t("reinstateQuestion")} busy={action.busy} testid={`reinstate-${x.tenant_id}`} onConfirm={() => act(x.tenant_id, "reinstate", "reinstated")} />
              )}
            </td>
          </tr>
        )}
      </ItemsTable>
      <Pager of={paged} />
    </div>
  );
}
