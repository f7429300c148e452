// The public page where a company applies to become an agent (POST /v1/signup); the platform
// operator reviews it. No key needed.
import { useState } from "preact/hooks";
import { newIdempotencyKey } from "../../common/api";
import { call } from "../../common/api";
import { FrameLink, SignInFrame } from "./SignIn";
import { t } from "../strings";
import { Field, Status, Submit, useAction } from "../ui";

const FIELDS = [
  ["name", "signupAgentName", "text"],
  ["contact_name", "contactName", "text"],
  ["contact_email", "signupContactEmail", "email"],
  ["contact_phone", "contactPhone", "tel"],
] as const;

export function Signup() {
  const [v, setV] = useState({ name: "", contact_name: "", contact_email: "", contact_phone: "" });
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await action.run(() =>
      call<{ tenant_id: string }>("/v1/signup", { method: "POST", body: v, idempotencyKey: newIdempotencyKey() }),
    );
    if (out) setDone(out.tenant_id);
  };
  return (
    <SignInFrame testid="view-signup">
      <h1>{t("signupTitle")}</h1>
      <p class="hint">{t("signupIntro")}</p>
      {done ? (
        <div class="alert ok" role="status" data-testid="signup-ok">
          {t("signupDone", { id: done })}
        </div>
      ) : (
        <form class="stack" onSubmit={submit} noValidate data-testid="signup-form">
          {FIELDS.map(([k, label, type]) => (
            <Field key={k} id={`s-${k}`} label={t(label)} error={action.fieldError(k)}>
              {(a) => (
                <input {...a} type={type} value={v[k]} onInput={(e) => setV({ ...v, [k]: e.currentTarget.value })} data-testid={`signup-${k}`} />
              )}
            </Field>
          ))}
          <Status action={action} testid="signup" fields={FIELDS.map(([k]) => k)} />
          <Submit busy={action.busy} label={t("signupSubmit")} testid="signup-submit" />
        </form>
      )}
      <FrameLink to="#/" testid="back-to-signin" label={t("backToSignIn")} />
      <p class="hint">{t("appName")}</p>
    </SignInFrame>
  );
}
