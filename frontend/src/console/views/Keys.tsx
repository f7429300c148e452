// API keys (admin): list without secrets, create (the key is shown once), revoke.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { api, signOut } from "../session";
import { label as codeText, t } from "../strings";
import { AdminOnly, ConfirmButton, CopyButton, ErrorAlert, Field, Loading, Pager, Status, Submit, Table, useAction, usePaged, useIdempotencyKey } from "../ui";
import type { ApiKeyCreated, ApiKeyPage } from "../../common/types";


export function Keys({ admin, currentKeyId }: { admin: boolean; currentKeyId: string | null }) {
  return (
    <section class="stack" data-testid="view-keys">
      <h1>{t("nav_keys")}</h1>
      <AdminOnly admin={admin}>
        <KeysAdmin currentKeyId={currentKeyId} />
      </AdminOnly>
    </section>
  );
}

function KeysAdmin({ currentKeyId }: { currentKeyId: string | null }) {
  const [round, setRound] = useState(0);
  return (
    <>
      <CreateKey onCreated={() => setRound(round + 1)} />
      <KeyList key={round} currentKeyId={currentKeyId} />
    </>
  );
}

function KeyList({ currentKeyId }: { currentKeyId: string | null }) {
  const paged = usePaged((cursor) => api<ApiKeyPage>(`/v1/api-keys?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
  const revoke = useAction();
  const items = paged.data?.items ?? [];
  return (
    <div class="card stack">
      <h2>{t("keys")}</h2>
      <ErrorAlert error={paged.error} />
      <Loading show={paged.loading && !paged.data} />
      <Status action={revoke} testid="revoke" />
      {paged.data && (
        <Table
          caption={t("keys")}
          testid="keys-table"
          empty={items.length === 0}
          head={
            <tr>
              <th scope="col">{t("label")}</th>
              <th scope="col">{t("role")}</th>
              <th scope="col">{t("keyId")}</th>
              <th scope="col">{t("created")}</th>
              <th scope="col">{t("status")}</th>
              <th scope="col">{t("actions")}</th>
            </tr>
          }
        >
          {items.map((k) => (
            <tr key={k.key_id} data-testid="key-row">
              <td>
                {k.label || "—"} {k.key_id === currentKeyId && <span class="badge inventory">{t("thisKey")}</span>}
              </td>
              <td>{codeText("role", k.role)}</td>
              <td class="mono">{k.key_id}</td>
              <td class="nowrap">{moment(k.created_at)}</td>
              <td>
                {k.active ? (
                  <span class="badge active">{t("keyActive")}</span>
                ) : (
                  <span class="badge deactivated">
                    {t("keyRevoked")} {moment(k.revoked_at)}
                  </span>
                )}
              </td>
              <td>
                {k.active && (
                  <ConfirmButton
                    label={t("revoke")}
                    confirmLabel={t("revokeConfirm")}
                    question={k.key_id === currentKeyId ? t("revokeOwnQuestion") : t("revokeQuestion", { label: k.label || k.key_id })}
                    danger
                    busy={revoke.busy}
                    testid={`revoke-${k.key_id}`}
                    onConfirm={async () => {
                      const ok = await revoke.run(() => api(`/v1/api-keys/${encodeURIComponent(k.key_id)}`, { method: "DELETE" }).then(() => true), t("keyRevokedOk"));
                      if (ok) {
                        if (k.key_id === currentKeyId) signOut("revoked_api_key");
                        else paged.reload();
                      }
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager page={paged.page} hasPrev={paged.hasPrev} hasNext={paged.hasNext} onPrev={paged.prev} onNext={paged.next} busy={paged.loading} />
    </div>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [role, setRole] = useState("staff");
  const [label, setLabel] = useState("");
  const idem = useIdempotencyKey();
  const [made, setMade] = useState<ApiKeyCreated | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await action.run(
      () => api<ApiKeyCreated>("/v1/api-keys", { method: "POST", body: { role, label: label.trim() }, idempotencyKey: idem.keyFor({ role, label: label.trim() }) }),
      t("keyCreated"),
    );
    if (out) {
      setMade(out);
      setLabel("");
      idem.done();
      onCreated();
    }
  };
  return (
    <div class="card stack">
      <form class="stack" onSubmit={submit} noValidate data-testid="key-form">
        <h2>{t("newKey")}</h2>
        <div class="grid">
          <Field id="k-role" label={t("role")} hint={t("roleHint")} error={action.fieldError("role")}>
            {(a) => (
              <select {...a} value={role} onChange={(e) => setRole(e.currentTarget.value)} data-testid="key-role">
                <option value="readonly">{t("role_readonly")}</option>
                <option value="finance">{t("role_finance")}</option>
                <option value="staff">{t("role_staff")}</option>
                <option value="admin">{t("role_admin")}</option>
              </select>
            )}
          </Field>
          <Field id="k-label" label={t("label")} error={action.fieldError("label")}>
            {(a) => <input {...a} maxLength={60} value={label} onInput={(e) => setLabel(e.currentTarget.value)} data-testid="key-label" />}
          </Field>
        </div>
        <Status action={action} fields={["role", "label"]} testid="key" />
        <div class="row">
          <Submit busy={action.busy} label={t("createKey")} testid="key-submit" />
        </div>
      </form>
      {made && (
        <div class="stack" data-testid="new-key">
          <div class="alert error" role="alert">
            {t("keyOnce")}
          </div>
          <label for="new-key-text">{t("newKeyOf", { role: codeText("role", made.role) })}</label>
          <input id="new-key-text" class="mono" readOnly value={made.api_key!} onFocus={(e) => e.currentTarget.select()} data-testid="new-key-value" />
          <div class="row">
            <CopyButton text={made.api_key!} testid="new-key-copy" />
            <button type="button" onClick={() => setMade(null)}>
              {t("hideKey")}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
