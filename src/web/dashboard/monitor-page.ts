/** `/monitors/:id`: a monitor's config (secrets masked), each zone's view, its results, events and reactions. */
import { budgetText } from '../../core/budget.js';
import { SECRET_MASK } from '../../core/crypto.js';
import { formatDuration } from '../../core/duration.js';
import { keys } from '../../core/keys.js';
import { secretsOf, shownData } from '../../core/shown-data.js';
import type { EventRecord, Monitor, Reaction } from '../../core/types.js';
import { readStates, readZoneViews, storeOutageNote } from '../../manage/state.js';
import type { Store } from '../../store/store.js';
import type { WebDeps } from '../deps.js';
import { CHART_LIMIT, pendingEvents, pendingHistory, recentEvents, recentHistory, tryStore } from './data.js';
import { ago, badge, iso, latency, when } from './format.js';
import { html, type Html } from './html.js';
import { chartSpan, chartZone, notesHtml, points } from './overview.js';
import { chart, sparkline } from './sparkline.js';

const RECENT = 50;

async function load(deps: WebDeps, id: string): Promise<{ monitor?: Monitor; reactions: Reaction[]; store?: Store; notes: string[] }> {
  const { store, problem } = await tryStore(deps);
  const k = keys(deps.settings.zone);
  try {
    if (!store) throw new Error(problem);
    const monitor = await store.getMonitor(id);
    const all = monitor?.reactions.length ? await store.listReactions() : [];
    return { monitor, reactions: all.filter((r) => monitor!.reactions.includes(r.id)), store, notes: [] };
  } catch (err) {
    // The store cannot answer: show what this zone's Redis runs.
    const json = await deps.redis.get(k.monitor(id));
    const monitor = json ? (JSON.parse(json) as Monitor) : undefined;
    const reactions = monitor?.reactions.length ? await deps.redis.mget(monitor.reactions.map((r) => k.reaction(r))) : [];
    return {
      monitor, store, notes: [`${(err as Error).message}; showing what this zone's Redis holds`],
      reactions: reactions.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Reaction),
    };
  }
}

function eventWhat(e: EventRecord, reactions: Map<string, Reaction>): Html {
  if (e.kind === 'status') return html`${e.previousStatus ?? 'new'} → ${badge(e.status)}`;
  return html`reaction ${reactions.get(e.reactionId ?? '')?.name ?? e.reactionId} ${e.outcome && badge(e.outcome)}`;
}

/** The live part of a monitor's page and its title, or undefined when there is no such monitor. */
export async function monitorPage(deps: WebDeps, id: string, now: number, readOnly: boolean): Promise<{ title: string; live: Html } | undefined> {
  const zone = deps.settings.zone;
  const { monitor: m, reactions, store, notes } = await load(deps, id);
  if (!m) return undefined;
  const [states, views, waitingHistory, waitingEvents, outage, secret] = await Promise.all([
    readStates(deps.redis, zone, [id]), readZoneViews(deps.redis, zone, id), pendingHistory(deps.redis, zone),
    pendingEvents(deps.redis, zone), storeOutageNote(deps.redis, zone), secretsOf(deps.checks, m.ctype),
  ]);
  const [hour, recent, events] = await Promise.all([
    recentHistory(store, waitingHistory, id, chartSpan(m, now).from, CHART_LIMIT),
    recentHistory(store, waitingHistory, id, 0, RECENT),
    recentEvents(store, waitingEvents, RECENT, id),
  ]);
  const s = states.get(id)!;
  const byId = new Map(reactions.map((r) => [r.id, r]));
  const zones = Object.keys(views).length ? Object.keys(views).sort() : [chartZone(m, zone)];
  const span = chartSpan(m, now);
  const small = (z: string) => sparkline(points(hour, z), { ...span, width: 160, height: 28, slots: 80 });
  const shownZone = chartZone(m, zone);
  const big = chart(points(hour, shownZone), { ...span, width: 1000, height: 90, slots: 240, fluid: true });
  const { checks, failures, minMs, maxMs } = big.summary;
  const caption = checks === 0 ? 'no results' : `${checks} results, ${failures} failed${maxMs === null ? '' : `, ${minMs}–${maxMs} ms`}`;
  const lastRun = (r: Reaction) => events.find((e) => e.kind === 'reaction' && e.reactionId === r.id);

  const live = html`${notesHtml([...notes, outage])}
<div class="heading"><h1>${m.name}</h1><p class="state" data-monitor="${m.id}">${badge(s.status)} fail count <span class="failcount">${s.failcount}</span>,
last check ${when(s.lastCheck, now)}, latency ${latency(s.latencyMs)}</p>${s.message && html`<p class="message message-${s.status}">${s.message}</p>`}</div>
<section class="latency"><h2>Latency, ${span.young ? 'since it was created' : 'last hour'} <span class="muted">zone ${shownZone}: ${caption}</span></h2>
<div class="chart-box">${maxMs !== null && html`<span class="axis-top">${maxMs} ms</span>`}${big.svg}<div class="axis"><span>${ago(span.from, now)}</span><span>now</span></div></div></section>
<div class="columns"><section><h2>Configuration</h2><dl class="config">
<dt>ID</dt><dd><code>${m.id}</code></dd><dt>Check</dt><dd>${m.ctype} every ${formatDuration(m.interval)}</dd>
<dt>Zones</dt><dd>${m.zones?.length ? m.zones.join(', ') : 'every zone'}${(m.quorum ?? 1) > 1 && ` (failed when ${m.quorum} zones see it failed)`}</dd>
<dt>Data</dt><dd>${dataList(shownData(m.data, secret, readOnly))}</dd>
<dt>Created</dt><dd>${iso(m.createdAt)}</dd><dt>Updated</dt><dd>${iso(m.updatedAt)}</dd></dl></section>
<div><section><h2>Zones</h2><table><thead><tr><th>Zone</th><th>Status</th><th class="num">Fail count</th><th>Last check</th><th>Latency</th></tr></thead><tbody>
${zones.map((z) => html`<tr><td>${z}</td><td>${views[z] ? badge(views[z].status) : html`<span class="muted">no result</span>`}</td>
<td class="num">${views[z]?.failcount ?? ''}</td><td>${when(views[z]?.lastCheck, now)}</td><td class="chart">${small(z)}</td></tr>`)}
</tbody></table></section>
<section><h2>Reactions</h2>${m.reactions.length === 0 ? html`<p class="empty">None.</p>` : html`<table><thead><tr><th>Name</th><th>Type</th><th>Runs</th><th>Last run</th></tr></thead><tbody>
${m.reactions.map((rid) => {
    const r = byId.get(rid);
    if (!r) return html`<tr><td><code>${rid}</code></td><td colspan="3" class="muted">not found</td></tr>`;
    const run = lastRun(r);
    return html`<tr><td><a href="/reactions#${r.id}">${r.name}</a></td><td>${r.rtype}</td><td>${runsWhen(r)}</td>
<td>${run ? html`${badge(run.outcome ?? 'failed')} ${when(run.at, now)}` : html`<span class="muted">not in the recent events</span>`}</td></tr>`;
  })}</tbody></table>`}</section></div></div>
<section><h2>Events</h2>${events.length === 0 ? html`<p class="empty">No status changes or reaction runs yet.</p>` : html`<table class="events"><thead><tr><th>At</th><th>Zone</th><th>What</th><th class="num">Fail count</th><th>Message</th></tr></thead><tbody>
${events.map((e) => html`<tr><td>${when(e.at, now)}</td><td>${e.zone}</td><td>${eventWhat(e, byId)}</td><td class="num">${e.failcount}</td><td>${e.message}</td></tr>`)}
</tbody></table>`}</section>
<section><h2>Recent results</h2>${recent.length === 0 ? html`<p class="empty">No results yet.</p>` : html`<table class="history"><thead><tr><th>Checked</th><th>Zone</th><th>Status</th><th class="num">Latency</th><th>Message</th></tr></thead><tbody>
${recent.map((h) => html`<tr><td>${when(h.checkedAt, now)}</td><td>${h.zone}</td><td>${badge(h.status)}</td><td class="num">${latency(h.latencyMs)}</td><td>${h.message}</td></tr>`)}
</tbody></table>`}</section>`;
  return { title: m.name, live };
}

/** Each field of a monitor's data on a line: strings as they are, other values as JSON, secrets masked. */
function dataList(data: Record<string, unknown>): Html {
  return html`<dl class="data">${Object.entries(data).map(([k, v]) =>
    html`<dt>${k}</dt><dd>${v === SECRET_MASK ? html`<span class="muted">${SECRET_MASK}</span>` : html`<code>${typeof v === 'string' ? v : JSON.stringify(v)}</code>`}</dd>`)}</dl>`;
}

/** When a reaction runs, in words: "fix on failed, from 3 failures, at most every 5m, once per episode, at most 3 per 1h, on web-1". */
export function runsWhen(r: Reaction): string {
  const on = r.callOn === 'both' ? 'on failed and healthy' : `on ${r.callOn}`;
  const budget = budgetText(r);
  return [`${r.kind ?? 'notify'} ${on}`, r.callOn !== 'healthy' && r.trigger > 1 && `from ${r.trigger} failures`, r.frequency > 0 && `at most every ${formatDuration(r.frequency)}`,
    r.once && 'once per episode', budget && `at most ${budget}`, r.target && `on ${r.target}`, r.escalatesFrom && `when ${r.escalatesFrom} escalates`,
    r.dryRun && 'dry run'].filter(Boolean).join(', ');
}
