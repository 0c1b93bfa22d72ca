/**
 * The figures of the closed loop read from a real SQLite store fed with events as the bridge writes them (stream
 * fields as the record script and the sink's decision log write them, turned into records by toEvent): a reaction's
 * success rate and time to healthy, a monitor's incidents with their timelines, time to detect and recover, MTTR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toEvent } from '../src/bridge/entries.js';
import { CloudRoutesError } from '../src/core/errors.js';
import type { EventRecord } from '../src/core/types.js';
import { EVENTS_PER_QUERY, findIncident, incidentList, monitorIncidents, monitorStats, reactionStats, statsWindow } from '../src/manage/incidents.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { monitor, reaction } from './helpers/store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-incidents-'));
const DAY = 86_400_000;
const now = Date.now();
const base = now - 2 * DAY;
let store: Store;
let seq = 0;

/** A status change as recordResults-n.lua appends it to the zone's events stream (no episode: as written before it carried one). */
function status(zone: string, monitorId: string, at: number, s: string, prev: string, episode?: number): EventRecord {
  return toEvent(zone, `${at}-${seq++}`, {
    kind: 'status', monitorId, zone, at: String(at), status: s, previousStatus: prev, failcount: s === 'failed' ? '1' : '0',
    ...(episode === undefined ? {} : { episode: String(episode) }), message: s === 'healthy' ? 'ok' : 'refused',
  });
}

/** A decision as writeDecision (src/sink/decisions.ts) appends it. */
function decision(zone: string, monitorId: string, at: number, outcome: string, episode: number, tookMs?: number, reason = ''): EventRecord {
  return toEvent(zone, `${at}-${seq++}`, {
    kind: 'reaction', monitorId, zone, at: String(at), status: outcome === 'fixed' ? 'healthy' : 'failed', previousStatus: '', failcount: '1',
    reactionId: 'r-fix', outcome, reason, episode: String(episode), due: String(at - 100), tookMs: tookMs === undefined ? '' : String(tookMs), message: outcome,
  });
}

test.before(async () => {
  store = await openStore(`sqlite:${join(dir, 'cr.db')}`);
  await store.putReaction(reaction('r-fix', { kind: 'fix' }));
  for (const id of ['m-a', 'm-b', 'm-flap']) await store.putMonitor(monitor(id, { reactions: ['r-fix'] }));
  const old = now - 20 * DAY;
  await store.addEvents([
    // 20 days ago: failed, fixed within a minute.
    status('default', 'm-a', old, 'failed', 'healthy', 1), decision('default', 'm-a', old + 1000, 'ran', 1, 500),
    status('default', 'm-a', old + 60_000, 'healthy', 'failed', 2), decision('default', 'm-a', old + 60_010, 'fixed', 2, 3000),
    // Two days ago: healthy, then an incident the fix fixed, then one it did not (through unknown and back).
    status('default', 'm-a', base, 'healthy', '', 3),
    status('default', 'm-a', base + 10_000, 'failed', 'healthy', 4), decision('default', 'm-a', base + 13_000, 'ran', 4, 1000),
    decision('default', 'm-a', base + 14_000, 'held', 4, undefined, 'verifying'),
    status('default', 'm-a', base + 20_000, 'healthy', 'failed', 5), decision('default', 'm-a', base + 20_050, 'fixed', 5, 7000),
    status('default', 'm-a', base + 100_000, 'failed', 'healthy', 6), status('default', 'm-a', base + 101_000, 'unknown', 'failed', 6),
    status('default', 'm-a', base + 102_000, 'failed', 'unknown', 6), decision('default', 'm-a', base + 105_000, 'ran', 6, 0),
    decision('default', 'm-a', base + 110_000, 'not-fixed', 6), status('default', 'm-a', base + 130_000, 'healthy', 'failed', 7),
    // Zone eu numbers its own episodes: its incident goes on.
    status('eu', 'm-a', base + 50_000, 'failed', 'healthy', 4), decision('eu', 'm-a', base + 51_000, 'ran', 4, 500),
    // Status changes stored before they carried an episode: decisions belong by time.
    status('default', 'm-b', base + 1000, 'failed', 'healthy'), decision('default', 'm-b', base + 2000, 'ran', 9, 200),
    status('default', 'm-b', base + 5000, 'healthy', 'failed'), decision('default', 'm-b', base + 5100, 'fixed', 10, 3000),
    decision('default', 'm-b', base + 9000, 'breaker-reset', 10),
  ]);
});

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a reaction's figures: decisions by outcome, success rate fixed / (fixed + not-fixed), median and p90 time to healthy, over the window", async () => {
  const month = await reactionStats(store, 'r-fix', statsWindow(undefined, now));
  assert.equal(month.decisions, { ran: 5, held: 1, fixed: 3, 'not-fixed': 1, 'breaker-reset': 1 });
  assert.is(month.successRate, 3 / 4);
  assert.equal(month.timeToHealthyMs, { median: 3000, p90: 7000 });
  assert.is(month.monitors, 3);
  assert.is(month.truncated, false);
  const week = await reactionStats(store, 'r-fix', statsWindow(now - 7 * DAY, now));
  assert.equal([week.fixed, week.notFixed, week.successRate, week.timeToHealthyMs.median], [2, 1, 2 / 3, 3000]);
  const none = await reactionStats(store, 'r-none', statsWindow(undefined, now));
  assert.equal([none.successRate, none.timeToHealthyMs.median, none.monitors], [null, null, 0]);
});

test("a monitor's incidents per zone, newest first: timelines in order, time to detect (to the run's start) and to recover", async () => {
  const page = await monitorIncidents(store, 'm-a', statsWindow(undefined, now));
  assert.equal(page.incidents.map((i) => i.id), ['m-a:default:6', 'm-a:eu:4', 'm-a:default:4', 'm-a:default:1']);
  const [third, eu, fixed] = page.incidents;
  assert.equal([fixed!.startedAt, fixed!.recoveredAt, fixed!.detectMs, fixed!.recoverMs, fixed!.decisions], [base + 10_000, base + 20_000, 2000, 10_000, 3]);
  assert.equal(fixed!.timeline.map((s) => s.outcome ?? s.kind), ['failed', 'ran', 'held', 'recovered', 'fixed']);
  assert.is(fixed!.timeline.find((s) => s.outcome === 'fixed')!.tookMs, 7000);
  assert.equal(third!.timeline.map((s) => s.outcome ?? `${s.kind} ${s.status}`), ['failed failed', 'status unknown', 'status failed', 'ran', 'not-fixed', 'recovered healthy']);
  assert.equal([third!.detectMs, third!.recoverMs], [5000, 30_000]);
  assert.equal([eu!.zone, eu!.recoveredAt, eu!.recoverMs, eu!.detectMs, eu!.decisions], ['eu', null, null, 500, 1]);

  const b = (await monitorIncidents(store, 'm-b', statsWindow(undefined, now))).incidents;
  assert.equal(b.map((i) => [i.id, i.episode]), [[`m-b:default:${base + 1000}`, null]]);
  assert.equal(b[0]!.timeline.map((s) => s.outcome ?? s.kind), ['failed', 'ran', 'recovered', 'fixed'], 'by time: the breaker reset later is not the incident\'s');
});

test('monitor stats: incidents of 30 days, those going on, MTTR and MTTD over 7 and 30 days', async () => {
  const s = await monitorStats(store, 'm-a', now);
  assert.is(s.incidents.length, 4);
  assert.is(s.ongoing, 1);
  assert.not.ok('timeline' in s.incidents[0]!);
  assert.equal(s.mttrMs, { '7d': 20_000, '30d': Math.round((10_000 + 30_000 + 60_000) / 3) });
  assert.equal(s.mttdMs, { '7d': 2500, '30d': Math.round((2000 + 5000 + 500 + 500) / 4) });
});

test('incident list over monitors, and an incident found by id, episode and zone, start time or a time inside it', async () => {
  const all = await incidentList(store, { ...statsWindow(now - 7 * DAY, now), limit: 100 });
  assert.equal(all.incidents.map((i) => i.id), ['m-a:default:6', 'm-a:eu:4', 'm-a:default:4', `m-b:default:${base + 1000}`]);
  const one = await incidentList(store, { ...statsWindow(now - 7 * DAY, now), monitorId: 'm-a', limit: 1 });
  assert.equal(one.incidents.map((i) => i.id), ['m-a:default:6']);
  const w = statsWindow(undefined, now);
  assert.is((await findIncident(store, 'm-a:default:4', w)).recoverMs, 10_000);
  assert.is((await findIncident(store, '6', w, 'm-a')).id, 'm-a:default:6');
  assert.is((await findIncident(store, '4', w, 'm-a', 'eu')).id, 'm-a:eu:4');
  assert.is((await findIncident(store, new Date(base + 15_000).toISOString(), w, 'm-a')).id, 'm-a:default:4');
  assert.is((await findIncident(store, String(base + 100_000), w, 'm-a')).id, 'm-a:default:6');
  const refused = async (fn: () => Promise<unknown>, text: RegExp) => {
    try {
      await fn();
      assert.unreachable('refused');
    } catch (err) {
      assert.instance(err, CloudRoutesError);
      assert.match((err as Error).message, text);
    }
  };
  await refused(() => findIncident(store, '4', w, 'm-a'), /m-a:eu:4 and m-a:default:4: give the id, or --zone/);
  await refused(() => findIncident(store, 'm-a:default:99', w), /monitor "m-a" has no incident 99 in zone default/);
  await refused(() => findIncident(store, 'm-nope:default:1', w), /monitor "m-nope" does not exist/);
  await refused(() => incidentList(store, { ...w, monitorId: 'm-nope', limit: 1 }), /monitor "m-nope" does not exist/);
});

test(`each query reads at most ${EVENTS_PER_QUERY} events: a monitor flapping for longer is counted from its newest, and says so`, async () => {
  const flaps: EventRecord[] = [];
  for (let i = 0; i <= EVENTS_PER_QUERY; i++) flaps.push(status('default', 'm-flap', base + i * 1000, i % 2 ? 'healthy' : 'failed', i % 2 ? 'failed' : 'healthy', i + 1));
  await store.addEvents(flaps);
  const page = await monitorIncidents(store, 'm-flap', statsWindow(undefined, now));
  assert.is(page.truncated, true);
  assert.is(page.incidents.length, EVENTS_PER_QUERY / 2);
  assert.is(page.incidents.at(-1)!.startedAt, base + 2000, 'the oldest change left out');
  assert.is((await monitorStats(store, 'm-flap', now)).truncated, true);
});

test.run();
