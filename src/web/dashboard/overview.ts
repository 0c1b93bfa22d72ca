/** `/`: every monitor with its status, fail count, last check, latency and a latency chart of the last hour. */
import { runsIn, type HistoryRecord, type Monitor, type Status } from '../../core/types.js';
import { monitorsInRedis, readStates, storeOutageNote } from '../../manage/state.js';
import type { Store } from '../../store/store.js';
import type { WebDeps } from '../deps.js';
import { CHART_LIMIT, HOUR, pendingHistory, recentHistory, tryStore } from './data.js';
import { badge, iso, latency, monitorHref, when } from './format.js';
import { html, type Html } from './html.js';
import { REFRESH_MS } from './layout.js';
import { sparkline } from './sparkline.js';

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

/** The live part of `/`. */
export async function overview(deps: WebDeps, now: number): Promise<Html> {
  const zone = deps.settings.zone;
  const { monitors, store, notes } = await monitorsToShow(deps);
  const [states, waiting, outage] = await Promise.all([
    readStates(deps.redis, zone, monitors.map((m) => m.id)), pendingHistory(deps.redis, zone), storeOutageNote(deps.redis, zone),
  ]);
  const spans = monitors.map((m) => chartSpan(m, now));
  const recent = await Promise.all(monitors.map((m, i) => recentHistory(store, waiting, m.id, spans[i]!.from, CHART_LIMIT)));
  const count = (s: Status) => monitors.filter((m) => states.get(m.id)!.status === s).length;
  const rows = monitors.map((m, i) => {
    const s = states.get(m.id)!;
    const chart = sparkline(points(recent[i]!, chartZone(m, zone)), { ...spans[i]!, width: 160, height: 28, slots: 80 });
    return html`<tr data-monitor="${m.id}" class="status-${s.status}">
<td><a href="${monitorHref(m.id)}">${m.name}</a>${s.status !== 'healthy' && s.message && html`<div class="message">${s.message}</div>`}</td>
<td>${m.ctype}</td><td class="status">${badge(s.status)}</td><td class="num failcount">${s.failcount}</td>
<td>${when(s.lastCheck, now)}</td><td class="num">${latency(s.latencyMs)}</td><td class="chart">${chart}</td></tr>`;
  });
  return html`${notesHtml([...notes, outage])}
<div class="heading"><h1>Monitors</h1><p class="counts">${monitors.length} monitor${monitors.length === 1 ? '' : 's'}:
<span class="count count-healthy">${count('healthy')} healthy</span> <span class="count count-failed">${count('failed')} failed</span>
<span class="count count-unknown">${count('unknown')} unknown</span></p></div>
${monitors.length === 0 ? html`<p class="empty">No monitors yet. Add one with <code>cloudroutes monitor add</code> (see the README).</p>` : html`
<table class="monitors"><thead><tr><th>Name</th><th>Check</th><th>Status</th><th class="num">Fail count</th><th>Last check</th><th class="num">Latency</th><th>Last hour</th></tr></thead>
<tbody>${rows}</tbody></table>`}
<p class="updated muted">Zone ${zone}, as of <time datetime="${iso(now)}">${iso(now)}</time>; refreshes every ${REFRESH_MS / 1000} s.</p>`;
}
