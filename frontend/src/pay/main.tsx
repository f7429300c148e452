// The merchant pay page (/pay/{sn or TID}): look a terminal up, pick a plan, pay by card,
// Alipay or WeChat Pay (whatever the agent enables), or redeem a voucher; then wait for the
// signed payment confirmation and show the new expiry. Built for a phone on a weak connection:
// small, every request retryable, and a reload in the middle picks the order up again.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import "../common/base.css";
import "./pay.css";
import { ApiError, call, newIdempotencyKey } from "../common/api";
import { day, locale, megabytes, money, onLocale, setLocale } from "../common/i18n";
import { type CardElement, type StripeLike, stripeFor } from "./stripe";
import { explain } from "./errors";
import { phoneText, telHref } from "../common/phone";
import { t } from "./strings";
import type { PublicOrder as Order, PublicOrderStatus, PublicPaymentConfirmed, PublicPlan as Plan, PublicTerminal as Terminal, VoucherRedeemed } from "../common/types";

// Where a payment ends: the order's status as the API answers it, or "unknown" once the order cannot be seen.
type OrderState = Pick<PublicOrderStatus, "order_id" | "expires_on_before" | "expires_on_after"> & {
  status: PublicOrderStatus["status"] | "unknown";
};

interface Pending {
  sn: string;
  order_id: string;
  token: string;
}

const METHODS = ["card", "alipay", "wechat_pay"] as const;

// Where the payer is: inside WeChat's own browser (JSAPI), another phone browser (H5 / WAP), or a
// desktop (a QR to scan with the phone).
type Client = "wechat" | "mobile" | "desktop";
function payerClient(): Client {
  const ua = navigator.userAgent;
  if (/MicroMessenger/i.test(ua)) return "wechat";
  if (/Android|iPhone|iPad|iPod|Mobile|HarmonyOS/i.test(ua)) return "mobile";
  return "desktop";
}

// WeChat's in-app browser bridge (only there).
declare global {
  interface Window {
    WeixinJSBridge?: { invoke(name: string, params: object, done: (r: { err_msg?: string }) => void): void };
  }
}

function wechatBridgePay(params: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const go = () =>
      window.WeixinJSBridge!.invoke("getBrandWCPayRequest", params, (r) => resolve(r.err_msg === "get_brand_wcpay_request:ok"));
    if (window.WeixinJSBridge) go();
    else document.addEventListener("WeixinJSBridgeReady", go, { once: true });
  });
}
const PENDING = "simrenew.pay.pending";
const POLL_MS = 1500;
const POLL_GIVE_UP_MS = 120_000;
const FINAL = new Set(["fulfilled", "failed", "expired", "refunded", "partially_refunded", "needs_review"]);

function snFromPath(): string {
  const m = /^\/pay\/([^/?#]+)/.exec(location.pathname);
  return m ? decodeURIComponent(m[1]).trim() : "";
}

function savedPending(): Pending | null {
  try {
    const raw = sessionStorage.getItem(PENDING);
    return raw ? (JSON.parse(raw) as Pending) : null;
  } catch {
    return null;
  }
}

function keepPending(p: Pending | null): void {
  try {
    if (p) sessionStorage.setItem(PENDING, JSON.stringify(p));
    else sessionStorage.removeItem(PENDING);
  } catch {
    /* private mode: a reload just starts over */
  }
}

function carrierName(c: string): string {
  const key = `carrier.${c.toLowerCase()}` as Parameters<typeof t>[0];
  const name = t(key);
  return name === key ? c : name;
}

function Header() {
  return (
    <header class="pay-header">
      <div>
        <h1>{t("title")}</h1>
        <p class="hint">{t("subtitle")}</p>
      </div>
      <button
        type="button"
        class="lang"
        aria-label={t("langLabel")}
        data-testid="lang-switch"
        onClick={() => setLocale(locale() === "en" ? "zh-CN" : "en")}
      >
        {t("lang")}
      </button>
    </header>
  );
}

/** A code typed from a sticker or a card (the SN, a voucher code): capitals, no autocomplete, a hint below. */
function CodeField(props: {
  id: string;
  name?: string;
  hintId: string;
  label: string;
  hint: string;
  value: string;
  onInput: (value: string) => void;
  invalid?: boolean;
  testid: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        autoComplete="off"
        autoCapitalize="characters"
        spellcheck={false}
        required
        maxLength={40}
        aria-describedby={props.hintId}
        aria-invalid={props.invalid ? "true" : undefined}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        data-testid={props.testid}
      />
      <p id={props.hintId} class="hint">
        {props.hint}
      </p>
    </div>
  );
}

function Finder(props: { initial: string; busy: boolean; onFind: (sn: string) => void }) {
  const [value, setValue] = useState(props.initial);
  return (
    <form
      class="card stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) props.onFind(value.trim());
      }}
    >
      <h2>{t("findTitle")}</h2>
      <CodeField id="sn" name="sn" hintId="sn-hint" label={t("findLabel")} hint={t("findHint")} value={value} onInput={setValue} testid="sn-input" />
      <button type="submit" class="primary wide" disabled={props.busy} data-testid="find">
        {props.busy ? t("finding") : t("findButton")}
      </button>
    </form>
  );
}

function TerminalCard(props: { term: Terminal }) {
  const { term } = props;
  const used = term.data_used_mb ?? 0;
  const quota = term.data_quota_mb ?? 0;
  return (
    <section class="card stack" aria-labelledby="term-title" data-testid="terminal">
      <h2 id="term-title" tabIndex={-1}>
        SN {term.sn} <span class="hint">TID {term.tid}</span>
      </h2>
      <dl class="facts">
        <div>
          <dt>{t("status")}</dt>
          <dd>
            <span class={`badge ${term.status}`} data-testid="status">
              {t(`status.${term.status}` as Parameters<typeof t>[0])}
            </span>
          </dd>
        </div>
        <div>
          <dt>{t("expires")}</dt>
          <dd data-testid="expires-on">
            {day(term.expires_on)}{" "}
            <span class="hint">
              {term.days_left === 1
                ? t("daysLeftOne")
                : term.days_left === -1
                  ? t("expiredDaysOne")
                  : term.days_left >= 0
                    ? t("daysLeft", { n: term.days_left })
                    : t("expiredDays", { n: -term.days_left })}
            </span>
          </dd>
        </div>
        <div>
          <dt>{t("carrier")}</dt>
          <dd>{carrierName(term.carrier)}</dd>
        </div>
        {quota > 0 && (
          <div class="wide-fact">
            <dt>{t("data")}</dt>
            <dd>
              <meter min={0} max={quota} value={Math.min(used, quota)} aria-label={t("data")} />
              <span class="hint">{t("dataUsed", { used: megabytes(used), quota: megabytes(quota) })}</span>
            </dd>
          </div>
        )}
        {term.merchant_name_masked && (
          <div>
            <dt>{t("merchant")}</dt>
            <dd>{term.merchant_name_masked}</dd>
          </div>
        )}
        <div>
          <dt>{t("agent")}</dt>
          <dd>
            {term.agent_name}
            {term.agent_phone && (
              <>
                {" "}
                <AgentPhone phone={term.agent_phone} />
              </>
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** The agent's service phone, dialable from the phone the merchant holds. */
function AgentPhone({ phone }: { phone: string }) {
  return (
    <a class="phone" href={telHref(phone)} data-testid="agent-phone">
      {phoneText(phone)}
    </a>
  );
}

/** "请联系服务商" with the number to call, where the agent has set one. */
function ContactAgent({ text, term }: { text: string; term: Terminal }) {
  return (
    <p class="alert info" data-testid="contact-agent">
      {text}
      {term.agent_phone && (
        <>
          {" "}
          {t("callAgent")} <AgentPhone phone={term.agent_phone} />
        </>
      )}
    </p>
  );
}

/** The expiry after a renewal of `months` from an expiry `days` away: the days left move by the gap. */
function movedDaysLeft(term: Terminal, newExpiry: string): number {
  const gap = (Date.parse(`${newExpiry}T00:00:00Z`) - Date.parse(`${term.expires_on}T00:00:00Z`)) / 86_400_000;
  return term.days_left + Math.round(gap);
}

function PlanPicker(props: {
  term: Terminal;
  busy: boolean;
  onPay: (plan: Plan, method: string) => void;
}) {
  const { term } = props;
  const methods = METHODS.filter((m) => term.payment_methods.includes(m));
  const [planId, setPlanId] = useState(term.plans[0]?.plan_id ?? "");
  const [method, setMethod] = useState<string>(methods[0] ?? "card");
  const plan = term.plans.find((p) => p.plan_id === planId);
  if (!term.plans.length) return <ContactAgent text={t("noPlans")} term={term} />;
  return (
    <form
      class="card stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (plan) props.onPay(plan, method);
      }}
    >
      <fieldset>
        <legend>
          <h2>{t("plansTitle")}</h2>
        </legend>
        {term.plans.map((p) => (
          <label class={`option ${p.plan_id === planId ? "chosen" : ""}`} key={p.plan_id} data-testid="plan">
            <input
              type="radio"
              name="plan"
              value={p.plan_id}
              checked={p.plan_id === planId}
              onChange={() => setPlanId(p.plan_id)}
            />
            <span class="option-body">
              <strong>{p.name}</strong> · {p.term_months === 1 ? t("monthsOne") : t("months", { n: p.term_months })}
              {p.data_quota_mb ? ` · ${t("quota", { q: megabytes(p.data_quota_mb) })}` : ""}
              <span class="hint block">
                {t("price", { p: money(p.price_fen) })}
                {p.fee_fen ? ` + ${t("fee", { f: money(p.fee_fen) })}` : ""}
              </span>
              <span class="total">{t("total", { t: money(p.total_fen) })}</span>
              {p.new_expires_on && (
                <span class="hint block" data-testid="plan-new-expiry">
                  {t("previewExpiry", { d: day(p.new_expires_on) })}
                </span>
              )}
            </span>
          </label>
        ))}
      </fieldset>
      {methods.length > 1 && (
        <fieldset>
          <legend>
            <h2>{t("methodTitle")}</h2>
          </legend>
          <div class="methods">
            {methods.map((m) => (
              <label class={`option compact ${m === method ? "chosen" : ""}`} key={m}>
                <input type="radio" name="method" value={m} checked={m === method} onChange={() => setMethod(m)} />
                <span>{t(`method.${m}` as Parameters<typeof t>[0])}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {plan?.new_expires_on && (
        <p class="preview" data-testid="preview-expiry">
          {t("previewChange", { from: day(term.expires_on), to: day(plan.new_expires_on) })}
        </p>
      )}
      <button type="submit" class="primary wide" disabled={props.busy || !plan} data-testid="continue">
        {props.busy ? t("creating") : t("continue", { t: plan ? money(plan.total_fen) : "" })}
      </button>
    </form>
  );
}

function CardForm(props: {
  order: Order;
  onPaid: (order: Order) => void;
  onBack: () => void;
  newOrder: () => Promise<Order>;
}) {
  const mountAt = useRef<HTMLDivElement>(null);
  // After a decline the merchant pays again on a fresh order: the declined one fails and its
  // PaymentIntent is left to expire (nothing was charged).
  const current = useRef<Order>(props.order);
  const declined = useRef(false);
  const stripe = useRef<StripeLike | null>(null);
  const card = useRef<CardElement | null>(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setError("");
    const { payment } = props.order;
    stripeFor(payment.stripe_js_url || "https://js.stripe.com/v3/", payment.publishable_key!)
      .then((s) => {
        if (!live || !mountAt.current) return;
        stripe.current = s;
        card.current = s.elements().create("card", { hidePostalCode: true });
        card.current.mount(mountAt.current);
        setReady(true);
      })
      .catch(() => live && setError(t("stripeFailed")));
    return () => {
      live = false;
      card.current?.destroy();
      card.current = null;
    };
  }, [props.order.order_id, attempt]);

  async function pay(e: Event) {
    e.preventDefault();
    if (!stripe.current || !card.current) return;
    setBusy(true);
    setError("");
    try {
      const made = await stripe.current.createPaymentMethod({ type: "card", card: card.current });
      if (made.error || !made.paymentMethod) {
        setError(made.error?.message || t("serverError"));
        return;
      }
      if (declined.current) {
        current.current = await props.newOrder();
        declined.current = false;
      }
      const order = current.current;
      const res = await call<PublicPaymentConfirmed>(`/v1/public/orders/${order.order_id}/confirm`, {
        method: "POST",
        body: { token: order.order_token, payment_method: made.paymentMethod.id },
      });
      if (res.payment_status === "requires_payment_method") {
        declined.current = true;
        setError(t("cardDeclined"));
        return;
      }
      if (res.payment_status === "requires_action" && stripe.current.handleNextAction) {
        const next = await stripe.current.handleNextAction({ clientSecret: order.payment.client_secret! });
        if (next.error) {
          declined.current = true;
          setError(t("cardDeclined"));
          return;
        }
      }
      props.onPaid(order);
    } catch (err) {
      if (err instanceof ApiError && (err.code === "card_declined" || err.code === "order_not_payable")) {
        declined.current = true;
        setError(t("cardDeclined"));
      } else setError(explain(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card stack" onSubmit={pay} data-testid="card-form">
      <h2>{t("cardTitle")}</h2>
      <p class="total big">{t("total", { t: money(current.current.amount_fen) })}</p>
      <div class="field">
        <span class="label" id="card-label">
          {t("cardLabel")}
        </span>
        <div ref={mountAt} class="card-element" role="group" aria-labelledby="card-label" data-testid="card-element" />
        {!ready && !error && <p class="hint">{t("loadingStripe")}</p>}
      </div>
      {error && (
        <p class="alert error" role="alert" data-testid="pay-error">
          {error}
        </p>
      )}
      {error === t("stripeFailed") ? (
        <button type="button" class="wide" onClick={() => setAttempt(attempt + 1)}>
          {t("retry")}
        </button>
      ) : (
        <button type="submit" class="primary wide" disabled={!ready || busy} data-testid="pay">
          {busy ? t("paying") : t("pay", { t: money(current.current.amount_fen) })}
        </button>
      )}
      <button type="button" class="link" onClick={props.onBack}>
        {t("cancel")}
      </button>
    </form>
  );
}

function QrPay(props: { order: Order; method: string; pending: Pending; onFinal: (s: OrderState) => void; onBack: () => void }) {
  const { payment } = props.order;
  const app = props.method === "alipay" ? t("method.alipay") : t("method.wechat_pay");
  return (
    <section class="card stack qr-pay" data-testid="qr-pay" aria-labelledby="qr-title">
      <h2 id="qr-title">{t("qrTitle", { m: app })}</h2>
      <p class="total big">{t("total", { t: money(props.order.amount_fen) })}</p>
      {payment.qr_svg && (
        <img class="qr" src={payment.qr_svg} width={220} height={220} alt={t("qrAlt", { m: app })} data-testid="qr" />
      )}
      <p class="hint">{t("qrHint", { m: app })}</p>
      <Waiting pending={props.pending} onFinal={props.onFinal} label={t("qrWaiting")} />
      <button type="button" class="link" onClick={props.onBack}>
        {t("cancel")}
      </button>
    </section>
  );
}

function Waiting(props: { pending: Pending; onFinal: (s: OrderState) => void; label?: string }) {
  const [slow, setSlow] = useState(false);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    let timer = 0;
    const started = Date.now();
    setSlow(false);
    // Back from WeChat Pay's / Alipay's own page (?paid=…): ask the rail once, and again every ~10 s.
    const back = new URLSearchParams(location.search).has("paid");
    let polls = 0;
    const tick = async () => {
      try {
        const check = back && polls++ % 7 === 0 ? "&check=1" : "";
        const s = await call<PublicOrderStatus>(
          `/v1/public/orders/${encodeURIComponent(props.pending.order_id)}?token=${encodeURIComponent(props.pending.token)}${check}`,
          { timeoutMs: 10_000 },
        );
        if (!live) return;
        if (FINAL.has(s.status)) {
          props.onFinal(s);
          return;
        }
      } catch (err) {
        // A weak connection: keep trying. A 404 means the order is not ours to see: stop.
        if (err instanceof ApiError && err.status === 404) {
          keepPending(null);
          if (live) props.onFinal({ order_id: props.pending.order_id, status: "unknown", expires_on_before: null, expires_on_after: null });
          return;
        }
      }
      if (!live) return;
      if (Date.now() - started > POLL_GIVE_UP_MS) {
        setSlow(true);
        return;
      }
      timer = window.setTimeout(tick, POLL_MS);
    };
    tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [props.pending.order_id, round]);
  return (
    <section class="card stack" aria-live="polite" data-testid="waiting">
      {slow ? (
        <>
          <p>{t("slow")}</p>
          <button type="button" class="wide" onClick={() => setRound(round + 1)}>
            {t("checkAgain")}
          </button>
        </>
      ) : (
        <>
          <p class="spinner-line">
            <span class="spinner" aria-hidden="true" /> {props.label ?? t("waiting")}
          </p>
          <p class="hint">{t("waitingHint")}</p>
        </>
      )}
    </section>
  );
}

function Voucher(props: { sn: string; onRedeemed: (expires: string, plan: string) => void }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  async function redeem(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await call<VoucherRedeemed>("/v1/public/vouchers/redeem", {
        method: "POST",
        body: { sn: props.sn, code: code.trim() },
      });
      setCode("");
      props.onRedeemed(r.expires_on, r.plan_name ?? "");
    } catch (err) {
      const invalid = err instanceof ApiError && (err.code === "invalid_voucher" || err.field === "code");
      setError(invalid ? t("voucherInvalid") : explain(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <details class="card voucher" data-testid="voucher">
      <summary>{t("voucherTitle")}</summary>
      <form class="stack" onSubmit={redeem}>
        <CodeField
          id="voucher-code"
          hintId="voucher-hint"
          label={t("voucherLabel")}
          hint={t("voucherHint")}
          value={code}
          onInput={setCode}
          invalid={!!error}
          testid="voucher-input"
        />
        {error && (
          <p class="alert error" role="alert" data-testid="voucher-error">
            {error}
          </p>
        )}
        <button type="submit" class="wide" disabled={busy || !code.trim()} data-testid="redeem">
          {busy ? t("redeeming") : t("redeem")}
        </button>
      </form>
    </details>
  );
}

type Phase = "find" | "terminal" | "card" | "qr" | "waiting" | "done";

function App() {
  const [, rerender] = useState(0);
  useEffect(() => onLocale(() => rerender((n) => n + 1)), []);
  const [phase, setPhase] = useState<Phase>("find");
  const [query, setQuery] = useState(snFromPath());
  const [term, setTerm] = useState<Terminal | null>(null);
  const [order, setOrder] = useState<Order | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState<{ kind: "ok" | "error" | "info"; text: string } | null>(null);
  const [result, setResult] = useState<OrderState | null>(null);
  const idem = useRef<{ key: string; for: string } | null>(null);
  const [planId, setPlanId] = useState("");
  const [qrMethod, setQrMethod] = useState("");

  function createOrder(sn: string, plan: string, key: string, method = "card", wxCode?: string): Promise<Order> {
    const body: Record<string, string> = { sn, plan_id: plan };
    if (method !== "card") {
      body.method = method;
      body.client = payerClient();
      if (wxCode) body.wx_code = wxCode;
    }
    return call<Order>("/v1/public/orders", { method: "POST", body, idempotencyKey: key });
  }

  // A WeChat Pay / Alipay order paid on the agent's own account: a QR on a desktop, the rail's page
  // in a phone browser (it sends the payer back here), WeChat's bridge inside WeChat.
  async function payDirect(made: Order, method: string, p: Pending): Promise<void> {
    const { payment } = made;
    if (payment.h5_url) {
      keepPending(p);
      location.assign(payment.h5_url);
      return;
    }
    if (payment.jsapi) {
      keepPending(p);
      setPending(p);
      const ok = await wechatBridgePay(payment.jsapi);
      if (!ok) {
        keepPending(null);
        setNotice({ kind: "error", text: t("failed") });
        return;
      }
      setPhase("waiting");
      return;
    }
    keepPending(p);
    setOrder(made);
    setPending(p);
    setQrMethod(method);
    setPhase("qr");
  }

  async function lookup(sn: string, quiet = false): Promise<Terminal | null> {
    if (!quiet) {
      setBusy(true);
      setError("");
    }
    try {
      const found = await call<Terminal>(`/v1/public/terminals/${encodeURIComponent(sn)}`);
      setTerm(found);
      setQuery(found.sn);
      if (location.pathname !== `/pay/${found.sn}`) history.replaceState(null, "", `/pay/${encodeURIComponent(found.sn)}${location.search}`);
      if (!quiet) {
        setPhase("terminal");
        requestAnimationFrame(() => document.getElementById("term-title")?.focus());
      }
      return found;
    } catch (err) {
      if (!quiet) {
        setTerm(null);
        setPhase("find");
        setError(explain(err));
      }
      return null;
    } finally {
      if (!quiet) setBusy(false);
    }
  }

  useEffect(() => {
    const saved = savedPending();
    const sn = snFromPath();
    if (saved && (!sn || saved.sn === sn)) {
      setPending(saved);
      setPhase("waiting");
      lookup(saved.sn, true);
    } else if (sn) {
      lookup(sn);
    }
  }, []);

  async function startPayment(plan: Plan, method: string) {
    if (!term) return;
    setBusy(true);
    setNotice(null);
    const purpose = `${term.sn}|${plan.plan_id}|${method}`;
    if (!idem.current || idem.current.for !== purpose) idem.current = { key: newIdempotencyKey(), for: purpose };
    const wxCode = new URLSearchParams(location.search).get("code") ?? undefined;
    if (method === "wechat_pay" && payerClient() === "wechat" && term.wechat_oauth_url && !wxCode) {
      // Inside WeChat: first the payer's openid (a silent OAuth round trip back to this page).
      const back = encodeURIComponent(location.href);
      location.assign(`${term.wechat_oauth_url}&redirect_uri=${back}#wechat_redirect`);
      return;
    }
    try {
      const made = await createOrder(term.sn, plan.plan_id, idem.current.key, method, wxCode);
      const p = { sn: term.sn, order_id: made.order_id, token: made.order_token! };
      if (made.payment.provider === "wechatpay" || made.payment.provider === "alipay") {
        await payDirect(made, method, p);
        return;
      }
      if (method === "card") {
        setPlanId(plan.plan_id);
        setOrder(made);
        setPending(p);
        setPhase("card");
        return;
      }
      const stripe = await stripeFor(made.payment.stripe_js_url || "https://js.stripe.com/v3/", made.payment.publishable_key!);
      keepPending(p);
      setPending(p);
      const confirm = method === "alipay" ? stripe.confirmAlipayPayment : stripe.confirmWechatPayPayment;
      if (!confirm) {
        // The local stack's fake Stripe.js knows cards only.
        keepPending(null);
        setNotice({ kind: "error", text: t("methodUnavailable") });
        return;
      }
      const outcome =
        method === "alipay"
          ? await confirm.call(stripe, made.payment.client_secret!, {
              return_url: `${location.origin}/pay/${encodeURIComponent(term.sn)}`,
            })
          : await confirm.call(stripe, made.payment.client_secret!, {
              payment_method_options: { wechat_pay: { client: "web" } },
            });
      if (outcome?.error) {
        keepPending(null);
        setNotice({ kind: "error", text: t("declined", { m: outcome.error.message || "" }) });
        return;
      }
      setPhase("waiting");
    } catch (err) {
      // An answer (4xx/5xx) ends this attempt: the next tap is a new request. Only a lost answer
      // (network) keeps the key, so a retry cannot create a second order.
      if (!(err instanceof ApiError && err.status === 0)) idem.current = null;
      setNotice({ kind: "error", text: err instanceof Error && err.message === "stripe.js" ? t("stripeFailed") : explain(err) });
    } finally {
      setBusy(false);
    }
  }

  function finished(s: OrderState) {
    keepPending(null);
    idem.current = null;
    setResult(s);
    if (s.status === "fulfilled") {
      // The card shows the new expiry at once (not the old one beside "renewed"), then the look-up
      // brings the rest (status, days left, quota) as the server has them now.
      const after = s.expires_on_after;
      if (after) setTerm((cur) => (cur ? { ...cur, expires_on: after, days_left: movedDaysLeft(cur, after), status: "active" } : cur));
      setPhase("done");
      if (pending) lookup(pending.sn, true);
      return;
    }
    const text =
      s.status === "expired"
        ? t("expired")
        : s.status === "needs_review"
          ? t("review")
          : s.status === "unknown"
            ? t("lost")
            : s.status.startsWith("refund") || s.status === "partially_refunded"
              ? t("refunded")
              : t("failed");
    setNotice({ kind: s.status === "needs_review" || s.status === "unknown" ? "info" : "error", text });
    setPhase(term ? "terminal" : "find");
  }

  return (
    <div class="pay">
      <Header />
      {error && (
        <p class="alert error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      {notice && (
        <p class={`alert ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} data-testid="notice">
          {notice.text}
        </p>
      )}
      {phase === "find" && <Finder initial={query} busy={busy} onFind={(sn) => lookup(sn)} />}
      {term && phase !== "find" && <TerminalCard term={term} />}
      {phase === "terminal" && term && (
        <>
          {term.renewable ? (
            <>
              {term.renewed_minutes_ago != null && (
                <p class="alert info" role="status" data-testid="recent-renewal">
                  {term.renewed_minutes_ago === 1 ? t("renewedRecentlyOne") : t("renewedRecently", { n: term.renewed_minutes_ago })}
                </p>
              )}
              <PlanPicker term={term} busy={busy} onPay={startPayment} />
              <Voucher
                sn={term.sn}
                onRedeemed={(expires, plan) => {
                  setNotice({ kind: "ok", text: t("voucherDone", { plan, d: day(expires) }) });
                  lookup(term.sn, true);
                }}
              />
            </>
          ) : (
            <ContactAgent text={t("notRenewable")} term={term} />
          )}
          <button
            type="button"
            class="link"
            onClick={() => {
              setTerm(null);
              setNotice(null);
              setPhase("find");
              history.pushState(null, "", `/pay${location.search}`);
            }}
          >
            {t("another")}
          </button>
        </>
      )}
      {phase === "card" && order && pending && (
        <CardForm
          order={order}
          newOrder={() => createOrder(pending.sn, planId, newIdempotencyKey())}
          onPaid={(paid) => {
            const p = { sn: pending.sn, order_id: paid.order_id, token: paid.order_token! };
            keepPending(p);
            setPending(p);
            setPhase("waiting");
          }}
          onBack={() => setPhase("terminal")}
        />
      )}
      {phase === "qr" && order && pending && (
        <QrPay
          order={order}
          method={qrMethod}
          pending={pending}
          onFinal={finished}
          onBack={() => {
            keepPending(null);
            setPhase("terminal");
          }}
        />
      )}
      {phase === "waiting" && pending && <Waiting pending={pending} onFinal={finished} />}
      {phase === "done" && result && (
        <section class="card stack done" role="status" data-testid="done">
          <h2>✓ {t("done")}</h2>
          <p class="big" data-testid="new-expiry">
            {t("newExpiry", { d: day(result.expires_on_after) })}
          </p>
          <p class="hint">{t("receipt", { id: result.order_id })}</p>
          <button
            type="button"
            class="wide"
            onClick={() => {
              setResult(null);
              setPhase(term ? "terminal" : "find");
            }}
          >
            {t("cancel")}
          </button>
        </section>
      )}
    </div>
  );
}

document.documentElement.lang = locale();
render(<App />, document.getElementById("app")!);
