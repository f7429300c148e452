// Sign in with an API key: verified with GET /v1/tenant, kept in sessionStorage only.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { LanguageSwitch } from "../LanguageSwitch";
import { signIn } from "../session";
import { errorText, t } from "../strings";
import { Field, Submit, useAction } from "../ui";

export function SignIn({ endedWhy }: { endedWhy: string | null }) {
  const [key, setKey] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!key.trim()) {
      action.fail(new Error(t("keyRequired")));
      return;
    }
    const ok = await action.run(() => signIn(key));
    if (ok) {
      setKey("");
      if (!location.hash || location.hash === "#/" || location.hash === "#") location.hash = "#/dashboard";
    }
  };
  const err = action.error ? errorText(action.error) : undefined;
  return (
    <SignInFrame>
      <h1>{t("appName")}</h1>
      <p class="hint">{t("signInIntro")}</p>
      {endedWhy && (
        <div class="alert info" role="status" data-testid="session-ended">
          {t("sessionEnded")}
        </div>
      )}
      <form onSubmit={submit} noValidate data-testid="signin-form">
        <Field id="api-key" label={t("apiKey")} hint={t("apiKeyHint")} error={err}>
          {(a) => (
            <input
              {...a}
              type="password"
              autocomplete="off"
              spellcheck={false}
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
              data-testid="api-key-input"
            />
          )}
        </Field>
        <Submit busy={action.busy} label={t("signIn")} testid="sign-in" />
      </form>
      <FrameLink to="#/signup" testid="open-signup" label={t("signupLink")} />
    </SignInFrame>
  );
}

/** The page around the sign-in and the signup form: the language switch above a card. */
export function SignInFrame({ testid, children }: { testid?: string; children: ComponentChildren }) {
  return (
    <div class="signin-page">
      <header class="signin-top">
        <LanguageSwitch />
      </header>
      <main id="main" class="signin card" data-testid={testid}>
        {children}
      </main>
    </div>
  );
}

/** The way from the sign-in to the signup form and back, below the form. */
export function FrameLink({ to, testid, label }: { to: string; testid: string; label: string }) {
  return (
    <p>
      <a href={to} data-testid={testid}>
        {label}
      </a>
    </p>
  );
}
