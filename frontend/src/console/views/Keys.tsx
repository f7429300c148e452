// API keys (admin): list without secrets, create (the key is shown once), revoke.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { api, signOut } from "../session";
import { label as codeText, t } from "../strings";
import { CreateCard, DeleteButton, FormEnd, SelectField, ShownOnce, useCreate, useFields } from "../forms";
import { AdminOnly, Field, ListCard, useAction, usePaged } from "../ui";
import type { ApiKeyCreated, ApiKeyPage } from "../../common/types";


const ROLES = ["readonly", "finance", "staff", "admin"] as const;

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
  return (
    <ListCard title={t("keys")} load={paged} action={revoke} status="revoke" testid="keys-table" cols={[t("label"), t("role"), t("keyId"), t("created"), t("status"), t("actions")]}>
      {(k) => (
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
              <DeleteButton
                action={revoke}
                path={`/v1/api-keys/${encodeURIComponent(k.key_id)}`}
                label={t("revoke")}
                confirmLabel={t("revokeConfirm")}
                question={k.key_id === currentKeyId ? t("revokeOwnQuestion") : t("revokeQuestion", { label: k.label || k.key_id })}
                ok={t("keyRevokedOk")}
                testid={`revoke-${k.key_id}`}
                after={() => (k.key_id === currentKeyId ? signOut("revoked_api_key") : paged.reload())}
              />
            )}
          </td>
        </tr>
      )}
    </ListCard>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const { v, setV, set } = useFields({ role: "staff", label: "" });
  const [made, setMade] = useState<ApiKeyCreated | null>(null);
  const { action, create } = useCreate<ApiKeyCreated>("/v1/api-keys");
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await create({ role: v.role, label: v.label.trim() }, t("keyCreated"));
    if (out) {
      setMade(out);
      setV({ ...v, label: "" });
      onCreated();
    }
  };
  const shown = made && (
    <ShownOnce
      testid="new-key"
      warning={t("keyOnce")}
      id="new-key-text"
      label={t("newKeyOf", { role: codeText("role", made.role) })}
      value={made.api_key ?? ""}
      valueTestid="new-key-value"
      copyTestid="new-key-copy"
      hideLabel={t("hideKey")}
      onHide={() => setMade(null)}
    />
  );
  return (
    <CreateCard testid="key-form" title={t("newKey")} onSubmit={submit} shown={shown}>
      <div class="grid">
        <SelectField
          id="k-role"
          label={t("role")}
          hint={t("roleHint")}
          error={action.fieldError("role")}
          value={v.role}
          onChange={set("role")}
          options={ROLES.map((r) => [r, t(`role_${r}`)])}
          testid="key-role"
        />
        <Field id="k-label" label={t("label")} error={action.fieldError("label")}>
          {(a) => <input {...a} maxLength={60} value={v.label} onInput={set("label")} data-testid="key-label" />}
        </Field>
      </div>
      <FormEnd action={action} fields={["role", "label"]} status="key" label={t("createKey")} testid="key-submit" />
    </CreateCard>
  );
}
