// The first screen: counts that matter, this month's revenue, expiries per week for 12 weeks.
import { day, locale, money } from "../../common/i18n";
import { addDaysIso, number } from "../format";
import { href } from "../router";
import { api } from "../session";
import { t, type Key } from "../strings";
import { LoadState, useLoad } from "../ui";
import type { Dashboard as Dash } from "../../common/types";


// "Expiring in N days" = active with expires_on from today up to today + N (the list's
// expires_before is exclusive, hence N + 1).
const CARDS: { key: keyof Dash["counts"]; label: Key; link: (today: string) => Record<string, string>; tone: string }[] = [
  { key: "active", label: "dash_active", link: () => ({ status: "active" }), tone: "ok" },
  { key: "expiring_7", label: "dash_expiring7", link: (d) => ({ status: "active", expires_before: addDaysIso(d, 8) }), tone: "warn" },
  { key: "expiring_30", label: "dash_expiring30", link: (d) => ({ status: "active", expires_before: addDaysIso(d, 31) }), tone: "warn" },
  { key: "grace", label: "dash_grace", link: () => ({ status: "grace" }), tone: "warn" },
  { key: "suspended", label: "dash_suspended", link: () => ({ status: "suspended" }), tone: "bad" },
  { key: "inventory", label: "dash_inventory", link: () => ({ status: "inventory" }), tone: "muted" },
];

export function Dashboard() {
  const load = useLoad(() => api<Dash>("/v1/reports/dashboard"), []);
  const d = load.data;
  const l = locale();
  return (
    <section class="stack" data-testid="view-dashboard">
      <div class="row spread">
        <h1 data-testid="dashboard-title">{t("nav_dashboard")}</h1>
        <button type="button" onClick={load.reload} disabled={load.loading} data-testid="dashboard-refresh">
          {t("refresh")}
        </button>
      </div>
      <LoadState load={load} />
      {d && (
        <>
          <p class="hint">{t("dash_asOf", { day: day(d.today) })}</p>
          <ul class="cards" aria-label={t("dash_counts")}>
            {CARDS.map((c) => (
              <li class={`card stat ${c.tone}`} key={c.key}>
                <a href={href("terminals", c.link(d.today))} class="stat-link">
                  <span class="stat-label" data-testid={`label-${c.key}`}>
                    {t(c.label)}
                  </span>
                  <span class="stat-value" data-testid={`count-${c.key}`}>
                    {number(d.counts[c.key], l)}
                  </span>
                </a>
              </li>
            ))}
            <li class="card stat revenue">
              <a href={href("reports")} class="stat-link">
                <span class="stat-label" data-testid="label-revenue">
                  {t("dash_revenue")}
                </span>
                <span class="stat-value" data-testid="revenue-month">
                  {money(d.revenue_month.net_fen, l, d.currency)}
                </span>
                <span class="hint">
                  {t("dash_revenueDetail", {
                    orders: number(d.revenue_month.orders, l),
                    gross: money(d.revenue_month.gross_fen, l, d.currency),
                    refunds: money(d.revenue_month.refunds_fen, l, d.currency),
                  })}
                </span>
              </a>
            </li>
          </ul>
          <div class="card">
            <h2 id="chart-title">{t("dash_chartTitle")}</h2>
            <WeekChart weeks={d.per_week} labelledBy="chart-title" />
          </div>
        </>
      )}
    </section>
  );
}

function shortDay(iso: string): string {
  const [, m, dd] = iso.split("-").map(Number);
  return `${m}/${dd}`;
}

/** Accessible SVG bars: role=img with a spoken summary, and the numbers in a hidden table. */
export function WeekChart({ weeks, labelledBy }: { weeks: { week_start: string; count: number }[]; labelledBy: string }) {
  const l = locale();
  const max = Math.max(1, ...weeks.map((w) => w.count));
  const total = weeks.reduce((a, w) => a + w.count, 0);
  const peak = weeks.reduce((a, w) => (w.count > a.count ? w : a), weeks[0] ?? { week_start: "", count: 0 });
  const W = 720;
  const H = 240;
  const left = 36;
  const bottom = 36;
  const top = 16;
  const plotH = H - top - bottom;
  const slot = (W - left - 8) / Math.max(1, weeks.length);
  const bar = slot * 0.62;
  const ticks = [0, Math.ceil(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  const summary = t("dash_chartSummary", {
    weeks: weeks.length,
    total: number(total, l),
    peak: number(peak.count, l),
    week: peak.week_start ? day(peak.week_start) : "—",
  });
  return (
    <figure class="chart" data-testid="dashboard-chart">
      <div class="chart-frame">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        {ticks.map((v) => {
          const y = top + plotH - (v / max) * plotH;
          return (
            <g key={v} aria-hidden="true">
              <line x1={left} x2={W - 4} y1={y} y2={y} class="grid" />
              <text x={left - 6} y={y + 4} text-anchor="end" class="axis">
                {v}
              </text>
            </g>
          );
        })}
        {weeks.map((w, i) => {
          const h = (w.count / max) * plotH;
          const x = left + i * slot + (slot - bar) / 2;
          return (
            <g key={w.week_start} aria-hidden="true">
              <rect x={x} y={top + plotH - h} width={bar} height={Math.max(h, w.count ? 2 : 0)} class="bar" rx="2">
                <title>{`${day(w.week_start)}: ${w.count}`}</title>
              </rect>
              {w.count > 0 && (
                <text x={x + bar / 2} y={top + plotH - h - 4} text-anchor="middle" class="value">
                  {w.count}
                </text>
              )}
              <text x={x + bar / 2} y={H - bottom + 18} text-anchor="middle" class="axis">
                {shortDay(w.week_start)}
              </text>
            </g>
          );
        })}
      </svg>
      </div>
      <figcaption class="hint">{summary}</figcaption>
      <table class="sr-only" aria-labelledby={labelledBy} data-testid="chart-table">
        <thead>
          <tr>
            <th scope="col">{t("weekOf")}</th>
            <th scope="col">{t("terminalsExpiring")}</th>
          </tr>
        </thead>
        <tbody>
          {weeks.map((w) => (
            <tr key={w.week_start}>
              <td>{day(w.week_start)}</td>
              <td>{w.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
