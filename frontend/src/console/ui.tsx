// Shared pieces of the console: labelled fields with their API error, action state (busy,
// error, success), loading hooks, a cursor pager, status badges, copy and confirm buttons.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, newIdempotencyKey, type Page } from "../common/api";
import { locale } from "../common/i18n";
import { copyText } from "./format";
import { href } from "./router";
import { errorText, t, type Key } from "./strings";

export interface A11y {
  id: string;
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
}

export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  class?: string;
  children: (a: A11y) => ComponentChildren;
}) {
  const described = [props.hint ? `${props.id}-hint` : "", props.error ? `${props.id}-err` : ""].filter(Boolean).join(" ");
  const a: A11y = { id: props.id };
  if (props.error) a["aria-invalid"] = "true";
  if (described) a["aria-describedby"] = described;
  return (
    <div class={`field ${props.class ?? ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.children(a)}
      {props.hint && (
        <div class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </div>
      )}
      {props.error && (
        <div class="field-error" id={`${props.id}-err`} role="alert" data-testid={`error-${props.id}`}>
          {props.error}
        </div>
      )}
    </div>
  );
}

function fieldMatches(errField: string, name: string): boolean {
  return errField === name || errField.endsWith(`.${name}`) || errField.endsWith(`]${name}`);
}

/** After a refused submit, put the keyboard on the first field the answer named. */
function focusInvalid(e: unknown): void {
  if (!(e instanceof ApiError) || !e.field) return;
  requestAnimationFrame(() => document.querySelector<HTMLElement>('main [aria-invalid="true"], form [aria-invalid="true"]')?.focus());
}

export function localError(field: string | undefined, message: string): ApiError {
  return new ApiError(400, "client_invalid", message, field);
}

/** One user action: busy while it runs, its error (with field) or its success message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const run = useCallback(async <T,>(fn: () => Promise<T>, okMessage?: string): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const out = await fn();
      if (alive.current && okMessage) setDone(okMessage);
      return out;
    } catch (e) {
      if (alive.current) {
        setError(e);
        focusInvalid(e);
      }
      return undefined;
    } finally {
      if (alive.current) setBusy(false);
    }
  }, []);
  const fieldError = (name: string): string | undefined =>
    error instanceof ApiError && error.field && fieldMatches(error.field, name) ? errorText(error) : undefined;
  const fail = (e: unknown) => {
    setDone(null);
    setError(e);
    focusInvalid(e);
  };
  const clear = () => {
    setError(null);
    setDone(null);
  };
  return { busy, error, done, run, fieldError, fail, clear };
}

export function ErrorAlert({ error, testid }: { error: unknown; testid?: string }) {
  if (!error) return null;
  const detail = error instanceof ApiError && error.status === 403 && locale() !== "en" ? error.message : null;
  return (
    <div class="alert error" role="alert" data-testid={testid ?? "error"}>
      {errorText(error)}
      {detail && <div class="hint">{detail}</div>}
    </div>
  );
}

/** The action's outcome; an error already shown next to one of `fields` is not repeated. */
export function Status(props: { action: ReturnType<typeof useAction>; testid?: string; fields?: string[] }) {
  const { action, testid } = props;
  const e = action.error;
  const shownAtField = e instanceof ApiError && !!e.field && (props.fields ?? []).some((f) => fieldMatches(e.field!, f));
  return (
    <>
      {!shownAtField && <ErrorAlert error={e} testid={testid ? `${testid}-error` : undefined} />}
      {action.done && (
        <div class="alert ok" role="status" data-testid={testid ? `${testid}-ok` : "ok"}>
          {action.done}
        </div>
      )}
    </>
  );
}

export function Submit(props: { busy: boolean; label: string; class?: string; testid?: string; disabled?: boolean }) {
  return (
    <button
      type="submit"
      class={props.class ?? "primary"}
      disabled={props.busy || props.disabled}
      aria-busy={props.busy ? "true" : undefined}
      data-testid={props.testid}
    >
      {props.busy ? t("busy") : props.label}
    </button>
  );
}

/** Load something when deps change; stale answers are dropped. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    setError(null);
    fn().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setLoading(false);
      },
      (e) => {
        if (mine !== seq.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [...deps, tick]);
  useEffect(() => () => void (seq.current = -1), []);
  return { data, error, loading, reload: () => setTick((n) => n + 1), setData };
}

/** Server paging: a stack of cursors; remount (key=) to start over with other filters. */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const cursor = stack[stack.length - 1];
  const load = useLoad(() => fetchPage(cursor), [cursor]);
  return {
    ...load,
    page: stack.length,
    hasPrev: stack.length > 1,
    hasNext: !!load.data?.next_cursor,
    next: () => load.data?.next_cursor && setStack([...stack, load.data.next_cursor]),
    prev: () => stack.length > 1 && setStack(stack.slice(0, -1)),
  };
}

/** What a pager needs of a paged load (`usePaged`). */
export interface Paging {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  prev: () => unknown;
  next: () => unknown;
  loading: boolean;
}

/** The pager of a paged load: hidden while there is one page only, its buttons off while a page loads. */
export function Pager({ of: p }: { of: Paging }) {
  if (!p.hasPrev && !p.hasNext) return null;
  return (
    <nav class="pager row" aria-label={t("pager")}>
      <button type="button" onClick={p.prev} disabled={!p.hasPrev || p.loading} data-testid="page-prev">
        ‹ {t("prevPage")}
      </button>
      <span aria-live="polite">{t("pageN", { n: p.page })}</span>
      <button type="button" onClick={p.next} disabled={!p.hasNext || p.loading} data-testid="page-next">
        {t("nextPage")} ›
      </button>
    </nav>
  );
}

export function Loading({ show }: { show: boolean }) {
  return show ? (
    <p class="hint" role="status" data-testid="loading">
      {t("loading")}
    </p>
  ) : null;
}

/** A load's error and its loading line: until its first answer, or on every load with `always`. */
export function LoadState({ load, always }: { load: { error: unknown; loading: boolean; data: unknown }; always?: boolean }) {
  return (
    <>
      <ErrorAlert error={load.error} />
      <Loading show={load.loading && (!!always || !load.data)} />
    </>
  );
}

const STATUS_KEYS: Record<string, Key> = {
  active: "st_active",
  grace: "st_grace",
  suspended: "st_suspended",
  inventory: "st_inventory",
  deactivated: "st_deactivated",
  expiring: "st_expiring",
  risk: "st_risk",
  pending_payment: "os_pending_payment",
  paid: "os_paid",
  fulfilled: "os_fulfilled",
  failed: "os_failed",
  expired: "os_expired",
  refunded: "os_refunded",
  partially_refunded: "os_partially_refunded",
  needs_review: "os_needs_review",
  running: "imp_running",
  done: "imp_done",
};

export function statusLabel(status: string): string {
  const k = STATUS_KEYS[status];
  return k ? t(k) : status;
}

/** 风控: a terminal renewed more than twice within 24 hours is flagged for a day. */
export function riskRecent(flaggedAt: string | null | undefined, now: number = Date.now()): boolean {
  return !!flaggedAt && now - Date.parse(flaggedAt) < 24 * 3600 * 1000;
}

export function Badge({ status }: { status: string }) {
  const tone =
    {
      fulfilled: "active",
      paid: "active",
      done: "active",
      pending_payment: "grace",
      running: "grace",
      needs_review: "suspended",
      failed: "suspended",
      expired: "inventory",
      refunded: "inventory",
      partially_refunded: "grace",
      risk: "suspended",
    }[status] ?? status;
  return <span class={`badge ${tone}`}>{statusLabel(status)}</span>;
}

export function CopyButton({ text, label, testid }: { text: string; label?: string; testid?: string }) {
  const [state, setState] = useState<"" | "ok" | "no">("");
  return (
    <button
      type="button"
      data-testid={testid}
      onClick={async () => setState((await copyText(text)) ? "ok" : "no")}
    >
      {state === "ok" ? t("copied") : state === "no" ? t("copyFailed") : (label ?? t("copy"))}
    </button>
  );
}

/** A button that asks once more, in place: first click arms it, the second acts (its label is
 * `confirmLabel`, else the first one's). */
export function ConfirmButton(props: {
  label: string;
  confirmLabel?: string;
  question: string;
  onConfirm: () => void;
  busy?: boolean;
  danger?: boolean;
  testid?: string;
  disabled?: boolean;
}) {
  const [armed, setArmed] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (armed) confirmRef.current?.focus();
  }, [armed]);
  if (!armed)
    return (
      <button
        type="button"
        class={props.danger ? "danger" : ""}
        onClick={() => setArmed(true)}
        disabled={props.busy || props.disabled}
        data-testid={props.testid}
      >
        {props.label}
      </button>
    );
  return (
    <span class="confirm row" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button
        type="button"
        class={props.danger ? "danger" : "primary"}
        disabled={props.busy}
        onClick={() => {
          setArmed(false);
          props.onConfirm();
        }}
        data-testid={props.testid ? `${props.testid}-confirm` : undefined}
        ref={confirmRef}
      >
        {props.busy ? t("busy") : (props.confirmLabel ?? props.label)}
      </button>
      <button type="button" onClick={() => setArmed(false)}>
        {t("cancel")}
      </button>
    </span>
  );
}

/** A column title of a table head; `false` leaves the column out (e.g. `admin && t("actions")`). */
export type Column = ComponentChildren;

/** A head row of column titles, each a `<th scope="col">`. */
export function HeadRow({ cols }: { cols: Column[] }) {
  return (
    <tr>
      {cols
        .filter((c) => c !== false && c !== null && c !== undefined)
        .map((c, i) => (
          <th scope="col" key={i}>
            {c}
          </th>
        ))}
    </tr>
  );
}

/** A table in a scrollable region; its head is `cols` (or any `head`), `empty` says so in a row. */
export function Table(props: {
  caption?: string;
  head?: ComponentChildren;
  cols?: Column[];
  children: ComponentChildren;
  testid?: string;
  empty?: boolean;
}) {
  return (
    <div class="scroll-x" tabIndex={0} role="region" aria-label={props.caption}>
      <table data-testid={props.testid}>
        {props.caption && <caption class="sr-only">{props.caption}</caption>}
        <thead>{props.cols ? <HeadRow cols={props.cols} /> : props.head}</thead>
        <tbody>
          {props.children}
          {props.empty && (
            <tr>
              <td colSpan={99} class="hint">
                {t("empty")}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The rows of a list (nothing before it has loaded), or the empty row when it has none. */
export function ItemsTable<T>(props: {
  items: T[] | null | undefined;
  caption: string;
  testid?: string;
  cols: Column[];
  children: (item: T, index: number) => ComponentChildren;
}) {
  const items = props.items;
  if (!items) return null;
  return (
    <Table caption={props.caption} testid={props.testid} cols={props.cols} empty={items.length === 0}>
      {items.map((item, i) => props.children(item, i))}
    </Table>
  );
}

/** What a list's load gives: its items (once it has answered), its error, whether it is loading. */
type ListLoad<T> = { error: unknown; loading: boolean; data: { items: T[] } | null };

/** A list in a card: its title (the table's caption too) and any `hint`; its load's state (`quiet`: no
 * loading line, only the error: `error`, else the load's); an `action`'s outcome (test id `status`); the
 * table (test id `testid`) of its rows (`children`, as in `ItemsTable`); the pager of a paged load
 * (`usePaged`); then anything under it (`foot`). */
export function ListCard<T>(props: {
  title: string;
  load: ListLoad<T> | (ListLoad<T> & Paging);
  cols: Column[];
  children: (item: T, index: number) => ComponentChildren;
  testid?: string;
  cardTestid?: string;
  hint?: string;
  quiet?: boolean;
  error?: unknown;
  action?: ReturnType<typeof useAction>;
  status?: string;
  foot?: ComponentChildren;
}) {
  const { load } = props;
  return (
    <div class="card stack" data-testid={props.cardTestid}>
      <h2>{props.title}</h2>
      {props.hint && <p class="hint">{props.hint}</p>}
      {props.quiet ? <ErrorAlert error={props.error ?? load.error} /> : <LoadState load={load} />}
      {props.action && <Status action={props.action} testid={props.status} />}
      <ItemsTable items={load.data?.items} caption={props.title} testid={props.testid} cols={props.cols}>
        {props.children}
      </ItemsTable>
      {"page" in load && <Pager of={load} />}
      {props.foot}
    </div>
  );
}

/** The way back from a page to its list: "‹ label" above the page's title. */
export function BackLink({ to, label }: { to: string; label: string }) {
  return (
    <p>
      <a href={href(to)}>‹ {label}</a>
    </p>
  );
}

/** The head of one thing's page: the way back to its list, its title (what it is, then its id) and
 * its load's state. */
export function PageHead(props: { back: string; backLabel: string; title: string; id: string; load: { error: unknown; loading: boolean; data: unknown } }) {
  return (
    <>
      <BackLink to={props.back} label={props.backLabel} />
      <h1>
        {props.title} <span class="mono">{props.id}</span>
      </h1>
      <LoadState load={props.load} />
    </>
  );
}

/** A terminal's SN, linked to its page. */
export function SnLink({ sn, testid }: { sn: string; testid?: string }) {
  return (
    <a href={href(`terminals/${encodeURIComponent(sn)}`)} data-testid={testid}>
      {sn}
    </a>
  );
}

export function AdminOnly({ admin, children }: { admin: boolean; children: ComponentChildren }): JSX.Element {
  return admin ? <>{children}</> : <p class="hint" data-testid="admin-only">{t("adminOnly")}</p>;
}

/** The Idempotency-Key of a create form: kept while the same body is sent again (a retry after a
 * lost answer never creates twice), new for any other body (the API answers a reused key with
 * another body 409) and after a success (the same form sent again is a new thing). */
export function useIdempotencyKey() {
  const last = useRef<{ body: string; key: string } | null>(null);
  return {
    keyFor(body: unknown): string {
      const text = JSON.stringify(body);
      if (!last.current || last.current.body !== text) last.current = { body: text, key: newIdempotencyKey() };
      return last.current.key;
    },
    done(): void {
      last.current = null;
    },
  };
}
