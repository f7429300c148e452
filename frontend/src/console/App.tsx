// The console shell: sign-in gate, header (agent, language, sign out), navigation, views.
import { useEffect, useState } from "preact/hooks";
import { locale, onLocale, type Locale } from "../common/i18n";
import { LanguageSwitch } from "./LanguageSwitch";
import { href, useRoute } from "./router";
import { canWrite, onSession, session, signOut, type Session } from "./session";
import { t, type Key } from "./strings";
import { SignIn } from "./views/SignIn";
import { Dashboard } from "./views/Dashboard";
import { Terminals } from "./views/Terminals";
import { TerminalPage } from "./views/Terminal";
import { Imports } from "./views/Imports";
import { Plans } from "./views/Plans";
import { Merchants } from "./views/Merchants";
import { OrderPage, Orders } from "./views/Orders";
import { Vouchers } from "./views/Vouchers";
import { Settings } from "./views/Settings";
import { Keys } from "./views/Keys";
import { Webhooks } from "./views/Webhooks";
import { Reports } from "./views/Reports";
import { Stickers } from "./views/Stickers";
// --- screens (issue 16 parts 2, 3) ---
import { ImportHistory } from "./views/ImportHistory";
import { Platform } from "./views/Platform";
import { RegisterTerminal } from "./views/RegisterTerminal";
import { Signup } from "./views/Signup";
import { Claim } from "./views/Transfer";
import { UsageImport } from "./views/UsageImport";
import { CarrierPage } from "./views/Carrier";

const NAV: [string, Key][] = [
  ["dashboard", "nav_dashboard"],
  ["terminals", "nav_terminals"],
  ["merchants", "nav_merchants"],
  ["imports", "nav_imports"],
  ["orders", "nav_orders"],
  ["plans", "nav_plans"],
  ["vouchers", "nav_vouchers"],
  ["reports", "nav_reports"],
  ["settings", "nav_settings"],
  ["keys", "nav_keys"],
  ["webhooks", "nav_webhooks"],
  ["carrier", "nav_carrier"],
];
// Pages whose every read and write needs an admin key: not in the menu of any other role (a link
// to one still opens it and says it needs an admin).
const ADMIN_PAGES = new Set(["settings", "keys", "webhooks", "carrier"]);

export function App() {
  const [, setLang] = useState<Locale>(locale());
  const [s, setS] = useState<Session | null>(session());
  const [endedWhy, setEndedWhy] = useState<string | null>(null);
  useEffect(() => onLocale(setLang), []);
  useEffect(
    () =>
      onSession((next, why) => {
        setS(next);
        setEndedWhy(next ? null : (why ?? null));
      }),
    [],
  );
  useEffect(() => {
    document.title = `${t("appName")} · SimRenew`;
  });
  const route = useRoute();
  // Public pages: the agent application and the platform operator's own sign-in.
  if (route.parts[0] === "signup") return <Signup />;
  if (route.parts[0] === "platform") return <Platform />;
  if (!s) return <SignIn endedWhy={endedWhy} />;
  return <Shell s={s} />;
}

function View({ s }: { s: Session }) {
  const route = useRoute();
  const [first, second] = route.parts;
  const admin = s.admin;
  switch (first ?? "dashboard") {
    case "dashboard":
      return <Dashboard />;
    case "terminals":
      return second ? <TerminalPage key={second} sn={second} admin={admin} /> : <Terminals key={route.query.toString()} query={route.query} />;
    case "imports":
      return (
        <>
          <Imports importId={route.query.get("id")} />
          <ImportHistory />
        </>
      );
    case "register":
      return canWrite(s) ? (
        <RegisterTerminal />
      ) : (
        <section class="stack">
          <h1>{t("nav_register")}</h1>
          <p class="hint" data-testid="no-write">{t("readonlyNoWrite")}</p>
        </section>
      );
    case "claim":
      return <Claim admin={admin} />;
    case "usage":
      return <UsageImport canWrite={canWrite(s)} />;
    case "orders":
      return second ? <OrderPage key={second} orderId={second} admin={admin} /> : <Orders key={route.query.toString()} query={route.query} admin={admin} />;
    case "merchants":
      return <Merchants canWrite={canWrite(s)} />;
    case "plans":
      return <Plans admin={admin} />;
    case "vouchers":
      return <Vouchers admin={admin} />;
    case "reports":
      return <Reports admin={admin || s.role === "finance"} />;
    case "settings":
      return <Settings admin={admin} />;
    case "keys":
      return <Keys admin={admin} currentKeyId={s.keyId} />;
    case "webhooks":
      return <Webhooks admin={admin} />;
    case "carrier":
      return <CarrierPage admin={admin} />;
    case "stickers":
      return <Stickers sns={(route.query.get("sns") ?? "").split(",").filter(Boolean)} />;
    default:
      return (
        <section>
          <h1>{t("notFound")}</h1>
          <a href="#/dashboard">{t("nav_dashboard")}</a>
        </section>
      );
  }
}

function Shell({ s }: { s: Session }) {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const current = route.parts[0] ?? "dashboard";
  useEffect(() => {
    setMenuOpen(false);
    // Move focus to the new view's heading so screen readers hear the page change.
    const h = document.querySelector<HTMLElement>("main h1");
    if (h) {
      h.tabIndex = -1;
      h.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }, [route.parts.join("/")]);
  return (
    <div class={`shell ${current === "stickers" ? "printing" : ""}`}>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById("main")?.focus();
      }}>
        {t("skipToContent")}
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-name">{t("appName")}</span>
          <span class="hint brand-agent" data-testid="agent-name">
            {s.agentName}
          </span>
          <span class="hint" data-testid="session-role">
            {t(`role_${s.role}`)}
          </span>
        </div>
        <div class="topbar-actions">
          <button
            type="button"
            class="menu-toggle"
            aria-expanded={menuOpen ? "true" : "false"}
            aria-controls="nav"
            onClick={() => setMenuOpen(!menuOpen)}
            data-testid="menu-toggle"
          >
            ☰ {t("menu")}
          </button>
          <LanguageSwitch />
          <button type="button" onClick={() => signOut()} data-testid="sign-out">
            {t("signOut")}
          </button>
        </div>
      </header>
      <div class="layout">
        <nav id="nav" class={`sidenav ${menuOpen ? "open" : ""}`} aria-label={t("mainNav")}>
          <ul>
            {NAV.filter(([path]) => s.admin || !ADMIN_PAGES.has(path)).map(([path, label]) => (
              <li key={path}>
                <a
                  href={href(path)}
                  aria-current={current === path ? "page" : undefined}
                  data-testid={`nav-${path}`}
                >
                  {t(label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {s.role === "readonly" && (
            <p class="alert info" data-testid="readonly-banner">
              {t("readonlyBanner")}
            </p>
          )}
          {s.role === "finance" && (
            <p class="alert info" data-testid="finance-banner">
              {t("financeBanner")}
            </p>
          )}
          <View s={s} />
        </main>
      </div>
    </div>
  );
}
