// The console's form pieces: a form's values in one object, a create (POST with its
// Idempotency-Key) and a create-or-edit, the end of a form (its outcome and its buttons), a button
// whose action shows it is busy, an open/closed toggle, and a secret shown once.
import type { ComponentChildren, JSX } from "preact";
import { useState } from "preact/hooks";
import { api } from "./session";
import { t } from "./strings";
import { ConfirmButton, CopyButton, ErrorAlert, Field, Status, Submit, useAction, useIdempotencyKey } from "./ui";

export type Action = ReturnType<typeof useAction>;

type TextKeys<V> = { [K in keyof V]: V[K] extends string ? K : never }[keyof V];

/** A form's values in one object; `set(k)` is the input handler that writes text field `k`. */
export function useFields<V extends object>(start: V) {
  const [v, setV] = useState(start);
  const set = (k: TextKeys<V>) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  return { v, setV, set };
}

/** A create form's POST: the same body sent again keeps its Idempotency-Key (a retry never creates
 * twice), a success forgets it. Resolves to the created thing, or undefined (the error is in `action`). */
export function useCreate<T>(path: string) {
  const idem = useIdempotencyKey();
  const action = useAction();
  const create = async (body: unknown, okMessage?: string): Promise<T | undefined> => {
    const out = await action.run(() => api<T>(path, { method: "POST", body, idempotencyKey: idem.keyFor(body) }), okMessage);
    if (out) idem.done();
    return out;
  };
  return { action, create };
}

/** The form that creates a thing (POST to `createPath`) or, given `editPath`, edits one (PATCH of the
 * changed fields; none changed is refused here). A create starts the form over; `onSaved` hears of both. */
export function useSaveForm<V extends object>(start: V, paths: { create: string; edit?: string }, onSaved: () => void) {
  const fields = useFields(start);
  const { action, create } = useCreate<unknown>(paths.create);
  const save = async (body: Record<string, unknown>, createdMessage: string) => {
    const edit = paths.edit;
    if (edit && Object.keys(body).length === 0) return action.fail(new Error(t("nothingChanged")));
    const out = edit ? await action.run(() => api<unknown>(edit, { method: "PATCH", body }), t("saved")) : await create(body, createdMessage);
    if (out) {
      if (!edit) fields.setV(start);
      onSaved();
    }
  };
  return { ...fields, action, save };
}

/** The form of `useSaveForm`: to create, a card of its own (test id `${name}-form`); to edit (`editing`),
 * plain, in its row's editor (test id `${name}-edit-form`); its title, then its fields (`children`) in a grid
 * and whatever follows them (`end`: the `FormEnd`). */
export function SaveForm(props: { name: string; editing: boolean; title: string; onSubmit: (e: Event) => unknown; children: ComponentChildren; end: ComponentChildren }) {
  return (
    <form class={props.editing ? "stack" : "card stack"} onSubmit={props.onSubmit} noValidate data-testid={props.editing ? `${props.name}-edit-form` : `${props.name}-form`}>
      <h2>{props.title}</h2>
      <div class="grid">{props.children}</div>
      {props.end}
    </form>
  );
}

/** A form in a card: its title, any hint below it, then its fields and end (`children`); the browser's
 * own validation is off (ours and the API's speak next to the fields). */
export function FormCard(props: { testid: string; title: string; hint?: string; onSubmit: (e: Event) => unknown; children: ComponentChildren }) {
  return (
    <form class="card stack" onSubmit={props.onSubmit} noValidate data-testid={props.testid}>
      <h2>{props.title}</h2>
      {props.hint && <p class="hint">{props.hint}</p>}
      {props.children}
    </form>
  );
}

/** A create form in a card and, under the form, what its answer shows this once (`shown`: a
 * `<ShownOnce>` while there is one); the browser's own validation is off, as in `FormCard`. */
export function CreateCard(props: { testid: string; title: string; onSubmit: (e: Event) => unknown; shown: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="card stack">
      <form class="stack" onSubmit={props.onSubmit} noValidate data-testid={props.testid}>
        <h2>{props.title}</h2>
        {props.children}
      </form>
      {props.shown}
    </div>
  );
}

/** The end of a form: its outcome (`fields` show their own error), then any `notice`; while there is
 * a `question` (a form that asks once more before it sends) it stands above the buttons, with a cancel
 * (`onCancel`); then the row of the submit button (test id `testid`) and any other buttons (`children`). */
export function FormEnd(props: {
  action: Action;
  label: string;
  testid?: string;
  status?: string;
  fields?: string[];
  submitClass?: string;
  disabled?: boolean;
  notice?: ComponentChildren;
  question?: ComponentChildren;
  questionTestid?: string;
  onCancel?: () => void;
  children?: ComponentChildren;
}) {
  const asking = !!props.question;
  return (
    <>
      <Status action={props.action} fields={props.fields} testid={props.status} />
      {props.notice}
      {asking && (
        <div class="alert info" role="alert" data-testid={props.questionTestid}>
          {props.question}
        </div>
      )}
      <div class="row">
        <Submit busy={props.action.busy} class={props.submitClass} label={props.label} disabled={props.disabled} testid={props.testid} />
        {asking && props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t("cancel")}
          </button>
        )}
        {props.children}
      </div>
    </>
  );
}

/** The buttons of a filter form: search (test id `search`), reset, export (off while it runs), and the
 * export's error. */
export function FilterButtons(props: { search: string; onReset: () => void; exporting: Action; onExport: () => unknown; exportTestid: string }) {
  return (
    <>
      <div class="row">
        <button type="submit" class="primary" data-testid={props.search}>
          {t("search")}
        </button>
        <button type="button" onClick={props.onReset}>
          {t("reset")}
        </button>
        <BusyButton busy={props.exporting.busy} label={t("exportCsv")} onClick={props.onExport} testid={props.exportTestid} />
      </div>
      <ErrorAlert error={props.exporting.error} />
    </>
  );
}

/** A button that runs something: off, and saying so, while it runs. */
export function BusyButton(props: { busy: boolean; label: string; onClick: () => unknown; testid?: string; class?: string }) {
  return (
    <button type="button" class={props.class} onClick={props.onClick} disabled={props.busy} data-testid={props.testid}>
      {props.busy ? t("busy") : props.label}
    </button>
  );
}

/** Which one of many is open (a row's editor, an endpoint's deliveries): a second toggle closes it;
 * `closeAnd(f)` closes it and calls `f` (an editor saved: close it, reload the list). */
export function useOpen<K>() {
  const [open, setOpen] = useState<K | null>(null);
  const closeAnd = (f: () => void) => () => {
    setOpen(null);
    f();
  };
  return { open, is: (k: K) => open === k, toggle: (k: K) => setOpen(open === k ? null : k), closeAnd };
}

/** A button that opens and closes something below it (aria-expanded says which). */
export function ToggleButton(props: { open: boolean; onClick: () => void; label: string; ariaLabel?: string; testid?: string }) {
  return (
    <button type="button" onClick={props.onClick} aria-expanded={props.open ? "true" : "false"} aria-label={props.ariaLabel} data-testid={props.testid}>
      {props.label}
    </button>
  );
}

/** A secret the API shows this once (an API key, a signing secret, voucher codes): the warning, the
 * value to select or copy (`lines` makes it a text area), other buttons (`children`), and hide. */
export function ShownOnce(props: {
  testid: string;
  warning: string;
  id: string;
  label: string;
  value: string;
  lines?: number;
  valueTestid?: string;
  copyLabel?: string;
  copyTestid?: string;
  hideLabel: string;
  onHide: () => void;
  children?: ComponentChildren;
}) {
  return (
    <div class="stack" data-testid={props.testid}>
      <div class="alert error" role="alert">
        {props.warning}
      </div>
      <label for={props.id}>{props.label}</label>
      {props.lines ? (
        <textarea id={props.id} class="mono" readOnly rows={props.lines} value={props.value} />
      ) : (
        <input id={props.id} class="mono" readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} data-testid={props.valueTestid} />
      )}
      <div class="row">
        <CopyButton text={props.value} label={props.copyLabel} testid={props.copyTestid} />
        {props.children}
        <button type="button" onClick={props.onHide}>
          {props.hideLabel}
        </button>
      </div>
    </div>
  );
}

/** A table row (`children`) and, under it while `open`, the row that holds its `editor` across `span` columns. */
export function EditorRow({ open, span, editor, children }: { open: boolean; span: number; editor: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      {children}
      {open && (
        <tr>
          <td colSpan={span}>{editor}</td>
        </tr>
      )}
    </>
  );
}

/** A button that runs one request in `action` (off while the action is busy), its success said as
 * `ok`; then `after(ok)`, whether it went through or not. */
export function RunButton(props: { action: Action; label: string; run: () => Promise<unknown>; ok: string; after?: (ok: boolean) => unknown; testid?: string }) {
  const { action } = props;
  return (
    <button
      type="button"
      disabled={action.busy}
      data-testid={props.testid}
      onClick={async () => {
        const ok = await action.run(() => props.run().then(() => true), props.ok);
        props.after?.(!!ok);
      }}
    >
      {props.label}
    </button>
  );
}

/** A set of checkboxes (ids `idPrefix`-value) in a fieldset, the error below it (id `idPrefix`-err). */
export function CheckGroup<K extends string>(props: {
  legend: string;
  idPrefix: string;
  options: readonly K[];
  label: (k: K) => ComponentChildren;
  checked: string[];
  onChange: (next: string[]) => void;
  error?: string;
}) {
  const { checked } = props;
  const errorId = `${props.idPrefix}-err`;
  return (
    <fieldset aria-describedby={props.error ? errorId : undefined}>
      <legend>{props.legend}</legend>
      <div class="row">
        {props.options.map((k) => (
          <div class="check" key={k}>
            <input
              type="checkbox"
              id={`${props.idPrefix}-${k}`}
              checked={checked.includes(k)}
              onChange={(e) => props.onChange(e.currentTarget.checked ? [...checked, k] : checked.filter((x) => x !== k))}
            />
            <label for={`${props.idPrefix}-${k}`}>{props.label(k)}</label>
          </div>
        ))}
      </div>
      {props.error && (
        <div class="field-error" id={errorId} role="alert">
          {props.error}
        </div>
      )}
    </fieldset>
  );
}

/** Delete (or revoke) one thing, asked once more in place: DELETE `path` in `action`, its success
 * said as `ok`; then, if it went through, `after()`. */
export function DeleteButton(props: {
  action: Action;
  path: string;
  question: string;
  ok: string;
  after: () => void;
  label?: string;
  confirmLabel?: string;
  testid?: string;
}) {
  const { action } = props;
  return (
    <ConfirmButton
      label={props.label ?? t("delete")}
      confirmLabel={props.confirmLabel ?? t("deleteConfirm")}
      question={props.question}
      danger
      busy={action.busy}
      testid={props.testid}
      onConfirm={async () => {
        const ok = await action.run(() => api(props.path, { method: "DELETE" }).then(() => true), props.ok);
        if (ok) props.after();
      }}
    />
  );
}

/** One choice of a select: its value and what it shows. */
export type Choice = readonly [value: string, label: ComponentChildren];

/** A labelled select of `options`; `blank`, when given, is a first choice with the empty value. */
export function SelectField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (e: JSX.TargetedEvent<HTMLSelectElement, Event>) => void;
  options: readonly Choice[];
  blank?: ComponentChildren;
  hint?: string;
  error?: string;
  testid?: string;
}) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} error={props.error}>
      {(a) => (
        <select {...a} value={props.value} onChange={props.onChange} data-testid={props.testid}>
          {props.blank !== undefined && <option value="">{props.blank}</option>}
          {props.options.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
