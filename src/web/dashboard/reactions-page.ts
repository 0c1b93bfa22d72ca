/** `/reactions`: each reaction, the monitors that use it, and its recent runs with their outcomes. */
import { secretsOf, shownData } from '../../core/shown-data.js';
import type { EventRecord, Monitor, Reaction } from '../../core/types.js';
import { storeOutageNote } from '../../manage/state.js';
import type { WebDeps } from '../deps.js';
import { pendingEvents, recentEvents, tryStore } from './data.js';
import { badge, monitorHref, when } from './format.js';
import { html, type Html } from './html.js';
import { notesHtml } from './overview.js';
import { runsWhen } from './monitor-page.js';
import { ladderOf } from '../../core/ladder.js';

/** Events read to find reaction runs among status changes. */
const EVENTS_READ = 1000;
const RUNS_SHOWN = 100;
const OUTCOMES_PER_REACTION = 10;

/** The live part of `/reactions`. */
export async function reactionsPage(deps: WebDeps, now: number, readOnly: boolean): Promise<Html> {
  const zone = deps.settings.zone;
  const notes: string[] = [];
  const { store, problem } = await tryStore(deps);
  let reactions: Reaction[] = [];
  let monitors: Monitor[] = [];
  try {
    if (!store) throw new Error(problem);
    [reactions, monitors] = await Promise.all([store.listReactions(), store.listMonitors()]);
  } catch (err) {
    notes.push(`${(err as Error).message}; only the runs still in this zone's Redis are shown`);
  }
  const [waiting, outage] = await Promise.all([pendingEvents(deps.redis, zone), storeOutageNote(deps.redis, zone)]);
  const runs = (await recentEvents(store, waiting, EVENTS_READ)).filter((e) => e.kind === 'reaction').slice(0, RUNS_SHOWN);
  const secrets = await Promise.all(reactions.map((r) => secretsOf(deps.actions, r.rtype)));
  const monitorName = new Map(monitors.map((m) => [m.id, m.name]));
  const reactionName = new Map(reactions.map((r) => [r.id, r.name]));
  const monitorLink = (id: string) => html`<a href="${monitorHref(id)}">${monitorName.get(id) ?? id}</a>`;

  const row = (r: Reaction, i: number) => {
    const mine = runs.filter((e) => e.reactionId === r.id);
    const users = monitors.filter((m) => m.reactions.includes(r.id));
    const ladder = ladderOf(reactions, r);
    const chain = ladder.length > 1 && html`<br><span class="muted">ladder: ${ladder.map((x, j) => html`${j > 0 && ' → '}${x.id === r.id ? html`<strong>${x.name}</strong>` : html`<a href="#${x.id}">${x.name}</a>`}`)}</span>`;
    return html`<tr id="${r.id}"><td>${r.name}</td><td>${r.rtype}</td><td>${runsWhen(r)}${chain}</td>
<td>${users.length ? users.map((m, j) => html`${j > 0 && ', '}${monitorLink(m.id)}`) : html`<span class="muted">none</span>`}</td>
<td><code class="data">${JSON.stringify(shownData(r.data, secrets[i]!, readOnly))}</code></td>
<td class="outcomes">${mine.length ? mine.slice(0, OUTCOMES_PER_REACTION).map((e) => html`${badge(e.outcome ?? 'failed')} `) : html`<span class="muted">no recent runs</span>`}</td>
<td>${when(mine[0]?.at, now)}</td></tr>`;
  };
  const runRow = (e: EventRecord) => html`<tr><td>${when(e.at, now)}</td><td>${reactionName.get(e.reactionId ?? '') ?? e.reactionId}</td>
<td>${monitorLink(e.monitorId)}</td><td>${badge(e.status)}</td><td>${e.outcome && badge(e.outcome)}</td><td>${e.zone}</td><td>${e.message}</td></tr>`;

  return html`${notesHtml([...notes, outage])}
<div class="heading"><h1>Reactions</h1></div>
${reactions.length === 0 ? html`<p class="empty">No reactions. Add one with <code>cloudroutes reaction add</code>.</p>` : html`
<table class="reactions"><thead><tr><th>Name</th><th>Type</th><th>Runs</th><th>Used by</th><th>Data</th><th>Recent outcomes (newest first)</th><th>Last run</th></tr></thead>
<tbody>${reactions.map(row)}</tbody></table>`}
<section><h2>Recent runs</h2>${runs.length === 0 ? html`<p class="empty">No reaction has run recently.</p>` : html`
<table class="runs"><thead><tr><th>At</th><th>Reaction</th><th>Monitor</th><th>Monitor status</th><th>Outcome</th><th>Zone</th><th>Message</th></tr></thead>
<tbody>${runs.map(runRow)}</tbody></table>`}</section>`;
}
