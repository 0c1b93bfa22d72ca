/** `/`: the monitors a page at a time, with status, fail count, last check, latency and a latency chart of the last hour. */
import { runsIn, type HistoryRecord, type Monitor, type Status } from '../../core/types.js';
import { monitorsInRedis, readStates, storeOutageNote } from '../../manage/state.js';
import type { Store } from '../../store/store.js';
import type { WebDeps } from '../deps.js';
import { chartSlots, HOUR, pendingHistory, tryStore } from './data.js';
import { badge, iso, latency, monitorHref, when } from './format.js';
import { html, type Html } from './html.js';
import { REFRESH_MS } from './layout.js';
import { slotChart } from './sparkline.js';

/** The zone whose results a monitor's chart shows: this one when it checks the monitor, else the first that does. */
export function chartZone(m: Pick<Monitor, 'zones'>, zone: string): string {
  return runsIn(m, zone) ? zone : m.zones![0]!;
}

/** What a monitor's chart covers: the last hour, or since the monitor was created when that is later (at least 20 intervals);
 * results more than two and a half intervals apart are not joined. */
export function chartSpan(m: Pick<Monitor, 'createdAt' | 'interval'>, now: number): { from: number; to: number; gapMs: number; young: boolean } {
  const from = Math.min(now - m.interval * 20_000, Math.max(now - HOUR, m.createdAt));
  return { from, to: now, gapMs: m.interval * 2500, young: from > now - HOUR };
}

/** The monitors, and a note when they come from Redis because the store cannot answer. */
export async function monitorsToShow(deps: WebDeps): Promise<{ monitors: Monitor[]; store?: Store; notes: string[] }> {
  const { store, problem } = await tryStore(deps);
  if (store) {
    try {
      return { monitors: await store.listMonitors(), store, notes: [] };
    } catch (err) {
      return { monitors: await monitorsInRedis(deps.redis, deps.settings.zone), store, notes: [`${(err as Error).message}; showing the monitors this zone's Redis runs`] };
    }
  }
  return { monitors: await monitorsInRedis(deps.redis, deps.settings.zone), notes: [`${problem}; showing the monitors this zone's Redis runs`] };
}

/** Warnings above a page's content. */
export function notesHtml(notes: (string | undefined)[]): Html {
  return html`${notes.map((n) => n && html`<p class="warning" role="status">${n}</p>`)}`;
}

/** Results of one zone as chart points. */
export function points(history: HistoryRecord[], zone: string) {
  return history.filter((h) => h.zone === zone).map((h) => ({ at: h.checkedAt, latencyMs: h.latencyMs, status: h.status }));
}

/** Monitors on one page of the overview. */
export const PAGE_SIZE = 50;
/** Time slots of an overview chart. */
const SLOTS = 80;
const STATUSES: readonly Status[] = ['failed', 'unknown', 'healthy'];

/** What the overview shows: a page of the monitors, optionally of one status or matching a search. */
export interface OverviewQuery {
  page: number;
  status?: Status;
  /** Matched against name, id and check type, ignoring case; empty matches all. */
  q: string;
}

/** The overview's query from a request's query string; values it cannot use are ignored. */
export function overviewQuery(raw: { page?: unknown; status?: unknown; q?: unknown }): OverviewQuery {
  const page = Number(raw.page);
  return {
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    status: STATUSES.find((s) => s === raw.status),
    q: typeof raw.q === 'string' ? raw.q.trim().slice(0, 200) : '',
  };
}

/** The overview's URL for `q`, leaving out what is the default. */
export function overviewHref(q: OverviewQuery): string {
  const params = new URLSearchParams();
  if (q.status) params.set('status', q.status);
  if (q.q) params.set('q', q.q);
  if (q.page > 1) params.set('page', String(q.page));
  const search = params.toString();
  return search ? `/?${search}` : '/';
}

/** The search box in the top bar; outside the live region, so a refresh does not wipe what is being typed. */
export function searchForm(q: OverviewQuery): Html {
  return html`<form class="find" method="get" action="/" role="search"><input type="search" name="q" value="${q.q}" placeholder="Find monitors" aria-label="Find monitors">${
    q.status && html`<input type="hidden" name="status" value="${q.status}">`}</form>`;
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** Links to the other pages: first, last, and two either side of the current one. */
function pager(q: OverviewQuery, pages: number): Html | false {
  if (pages <= 1) return false;
  const shown = [...new Set([1, ...Array.from({ length: 5 }, (_, i) => q.page - 2 + i), pages])].filter((p) => p >= 1 && p <= pages);
  const link = (p: number, label: string, rel?: string) => html`<a href="${overviewHref({ ...q, page: p })}"${rel && html` rel="${rel}"`}>${label}</a>`;
  return html`<nav class="pager" aria-label="Pages">${q.page > 1 && link(q.page - 1, '‹ Previous', 'prev')}${shown.map((p, i) => html`${
    i > 0 && p - shown[i - 1]! > 1 && html`<span class="gap">…</span>`}${p === q.page ? html`<span aria-current="page">${p}</span>` : link(p, String(p))}`)}${
    q.page < pages && link(q.page + 1, 'Next ›', 'next')}</nav>`;
}

/** The live part of `/`: one page of the monitors, failed first, then unknown, then healthy, each group in name order. */
export async function overview(deps: WebDeps, now: number, query: OverviewQuery = { page: 1, q: '' }): Promise<Html> {
  const zone = deps.settings.zone;
  const { monitors, store, notes } = await monitorsToShow(deps);
  const [states, waiting, outage] = await Promise.all([
    readStates(deps.redis, zone, monitors.map((m) => m.id)), pendingHistory(deps.redis, zone), storeOutageNote(deps.redis, zone),
  ]);
  const statusOf = (m: Monitor) => states.get(m.id)!.status;
  const count = (s: Status) => monitors.filter((m) => statusOf(m) === s).length;
  const needle = query.q.toLowerCase();
  const matching = monitors
    .filter((m) => (!query.status || statusOf(m) === query.status) && (!needle || [m.name, m.id, m.ctype].some((t) => t.toLowerCase().includes(needle))))
    .sort((a, b) => STATUSES.indexOf(statusOf(a)) - STATUSES.indexOf(statusOf(b)));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const at = { ...query, page: Math.min(query.page, pages) };
  const first = (at.page - 1) * PAGE_SIZE;
  const shown = matching.slice(first, first + PAGE_SIZE);

  const spans = shown.map((m) => chartSpan(m, now));
  const slots = await chartSlots(store, waiting, shown.map((m, i) => ({ monitorId: m.id, zone: chartZone(m, zone), from: spans[i]!.from, to: now })), SLOTS);
  const rows = shown.map((m, i) => {
    const s = states.get(m.id)!;
    const chart = slotChart(slots.get(m.id)!, { ...spans[i]!, width: 160, height: 28, slots: SLOTS }).svg;
    return html`<tr data-monitor="${m.id}" class="status-${s.status}">
<td><a href="${monitorHref(m.id)}">${m.name}</a>${s.status !== 'healthy' && s.message && html`<div class="message">${s.message}</div>`}</td>
<td>${m.ctype}</td><td class="status">${badge(s.status)}</td><td class="num failcount">${s.failcount}</td>
<td>${when(s.lastCheck, now)}</td><td class="num">${latency(s.latencyMs)}</td><td class="chart">${chart}</td></tr>`;
  });
  const filtered = query.status !== undefined || query.q !== '';
  const countLink = (s: Status) => html`<a class="count count-${s}" href="${overviewHref({ page: 1, status: s, q: query.q })}"${
    query.status === s && html` aria-current="true"`}>${thousands(count(s))} ${s}</a>`;
  const range = matching.length === 0 ? html`No monitors` : html`Monitors ${thousands(first + 1)}–${thousands(first + shown.length)} of ${thousands(matching.length)}`;
  return html`${notesHtml([...notes, outage])}
<div class="heading"><h1>Monitors</h1><p class="counts">${thousands(monitors.length)} monitor${monitors.length === 1 ? '' : 's'}:
${countLink('healthy')} ${countLink('failed')} ${countLink('unknown')}</p></div>
${monitors.length === 0 ? html`<p class="empty">No monitors yet. Add one with <code>cloudroutes monitor add</code> (see the README).</p>` : html`
<p class="range">${range}${query.status && html` ${query.status}`}${query.q && html` matching “${query.q}”`}${
    filtered && html` · <a href="/">show all ${thousands(monitors.length)}</a>`}</p>
${shown.length > 0 && html`<table class="monitors"><thead><tr><th>Name</th><th>Check</th><th>Status</th><th class="num">Fail count</th><th>Last check</th><th class="num">Latency</th><th>Last hour</th></tr></thead>
<tbody>${rows}</tbody></table>`}
${pager(at, pages)}`}
<p class="updated muted">Zone ${zone}, as of <time datetime="${iso(now)}">${iso(now)}</time>; refreshes every ${REFRESH_MS / 1000} s.</p>`;
}
