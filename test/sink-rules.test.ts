import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import { fieldsToObject } from '../src/core/redis.js';
import { recordResults, type ResultToRecord } from '../src/core/record-results.js';
import type { Reaction, Status } from '../src/core/types.js';
import { matchesRule, shouldRun } from '../src/sink/rules.js';
import { claimInZone } from '../src/sink/decisions.js';
import { useRedis } from './helpers/redis-server.js';
import { entryResults } from '../src/core/history-entry.js';

const fx = useRedis(test, true);
const k = keys('rules');

test.before.each(async () => {
  await fx.redis.set(k.monitor('m1'), JSON.stringify({ id: 'm1', name: 'site', ctype: 'tcp-check', interval: 10, data: {}, reactions: [] }));
});

let clock = 1_000;
/** Records one result of monitor m1 as the sink does. */
async function recordOne(r: Partial<ResultToRecord> & Pick<ResultToRecord, 'status' | 'checkedAt' | 'due'>) {
  return (await recordResults(fx.redis, 'rules', [{ monitorId: 'm1', message: '', latencyMs: 1, ...r }]))[0]!;
}

function record(status: Status, message = '') {
  clock += 10;
  return recordOne({ status, message, latencyMs: 12, checkedAt: clock, due: clock - 5 });
}

const reaction = (over: Partial<Reaction>): Reaction => ({
  id: 'r1', name: 'r', rtype: 'log', trigger: 1, frequency: 0, callOn: 'failed', once: false, data: {}, createdAt: 0, updatedAt: 0, ...over,
});

test('failcount counts consecutive failures and resets on healthy; unknown leaves it', async () => {
  const counts: number[] = [];
  for (const s of ['failed', 'failed', 'unknown', 'failed', 'healthy', 'failed'] as Status[]) counts.push((await record(s)).failcount);
  assert.equal(counts, [1, 2, 2, 3, 0, 1]);
  const state = await fx.redis.hgetall(k.state('m1'));
  assert.is(state.status, 'failed');
  assert.is(state.failcount, '1');
});

test('every result goes to history; only status changes go to events', async () => {
  for (const s of ['healthy', 'healthy', 'failed', 'failed', 'healthy'] as Status[]) await record(s, `was ${s}`);
  assert.is(await fx.redis.xlen(k.history), 5);
  const events = await fx.redis.xrange(k.events, '-', '+');
  const changes = events.map(([, f]) => fieldsToObject(f)).map((e) => `${e.previousStatus}->${e.status}`);
  assert.equal(changes, ['->healthy', 'healthy->failed', 'failed->healthy']);
});

test('episode increases when the status moves between healthy and failed, not through unknown', async () => {
  const episodes: number[] = [];
  for (const s of ['healthy', 'failed', 'unknown', 'failed', 'healthy'] as Status[]) episodes.push((await record(s)).episode);
  assert.equal(episodes, [1, 2, 2, 2, 3]);
});

test('a result for a removed monitor writes nothing', async () => {
  await fx.redis.del(k.monitor('m1'));
  assert.is((await record('failed')).outcome, 'monitor-gone');
  assert.is(await fx.redis.exists(k.state('m1'), k.history), 0);
});

test('the state says the latest of everything, whichever fields a result changed', async () => {
  const seen: Record<string, string>[] = [];
  for (const [status, message, cacheOnly] of [['healthy', 'HTTP 200', false], ['healthy', 'HTTP 200', true], ['failed', 'HTTP 503', true], ['failed', 'HTTP 503', false], ['healthy', 'HTTP 200', false]] as const) {
    clock += 10;
    await recordResults(fx.redis, 'rules', [{ monitorId: 'm1', status, message, latencyMs: clock % 97, checkedAt: clock, due: clock - 5 }], { cacheOnly });
    const st = await fx.redis.hgetall(k.state('m1'));
    seen.push({ status: st.status!, failcount: st.failcount!, zoneStatus: st.zoneStatus!, zoneFailcount: st.zoneFailcount!, message: st.message!, cacheOnly: st.cacheOnly!, episode: st.episode!, latencyMs: st.latencyMs!, lastDue: st.lastDue! });
  }
  const row = (status: string, failcount: number, message: string, cacheOnly: string, episode: number, i: number) =>
    ({ status, failcount: String(failcount), zoneStatus: status, zoneFailcount: String(failcount), message, cacheOnly, episode: String(episode), latencyMs: String((clock - 40 + 10 * i) % 97), lastDue: String(clock - 45 + 10 * i) });
  assert.equal(seen, [
    row('healthy', 0, 'HTTP 200', '', 1, 0), row('healthy', 0, 'HTTP 200', '1', 1, 1), row('failed', 1, 'HTTP 503', '1', 2, 2),
    row('failed', 2, 'HTTP 503', '', 2, 3), row('healthy', 0, 'HTTP 200', '', 3, 4),
  ]);
});

test('a stale (older) result goes to history but does not change the state', async () => {
  await record('failed');
  const stale = await recordOne({ status: 'healthy', checkedAt: 5, due: 1 });
  assert.ok(stale.stale);
  assert.is((await fx.redis.hgetall(k.state('m1'))).status, 'failed');
  assert.is(await fx.redis.xlen(k.history), 2);
});

test("staleness is judged by the schedule's slots, not by the clocks that stamped checkedAt", async () => {
  const at = (status: Status, checkedAt: number, due: number) => recordOne({ status, checkedAt, due });
  // A worker whose clock runs 5 s fast checks slot 10,000; one 5 s slow checks the next slot, 20,000.
  assert.is((await at('failed', 15_000, 10_000)).stale, false);
  const next = await at('healthy', 15_000, 20_000);
  assert.is(next.stale, false, 'the later slot counts although its checkedAt is not later');
  assert.is((await fx.redis.hgetall(k.state('m1'))).status, 'healthy');
});

test('a result sent twice for one slot is recorded once, and its stream entry is acknowledged either way', async () => {
  await fx.redis.xgroup('CREATE', k.results, 'sinks', '0', 'MKSTREAM');
  const send = async (status: Status, due: number) => {
    const id = (await fx.redis.xadd(k.results, '*', 'r', 'x'))!;
    await fx.redis.xreadgroup('GROUP', 'sinks', 'me', 'COUNT', 10, 'STREAMS', k.results, '>');
    return recordOne({ status, checkedAt: due + 3, due, entryId: id });
  };
  const first = await send('failed', 50_000);
  assert.is(first.outcome, 'recorded');
  const again = await send('failed', 50_000);
  assert.is(again.outcome, 'duplicate', 'the second copy is a duplicate');
  assert.is((await fx.redis.hgetall(k.state('m1'))).failcount, '1', 'counted once');
  assert.is(await fx.redis.xlen(k.history), 1);
  // An earlier slot that was late is still recorded (in history): a duplicate is one of the same slot only.
  assert.is((await send('failed', 40_000)).outcome, 'recorded');
  assert.is(await fx.redis.xlen(k.history), 2);
  assert.is(((await fx.redis.xpending(k.results, 'sinks')) as unknown[])[0], 0, 'nothing left pending');
  assert.is(await fx.redis.xlen(k.results), 0, 'acknowledged entries are deleted');
});

test('one batch: results of several monitors and slots, a copy of one of them and a removed monitor, each answered in order', async () => {
  await fx.redis.set(k.monitor('m2'), JSON.stringify({ id: 'm2', name: 'api', ctype: 'tcp-check', interval: 10, data: {}, reactions: ['r1'] }));
  const r = (monitorId: string, status: Status, due: number) => ({ monitorId, status, message: '', latencyMs: 1, checkedAt: due + 1, due });
  const rows = await recordResults(fx.redis, 'rules', [r('m1', 'failed', 100), r('m2', 'healthy', 100), r('m1', 'failed', 110), r('m1', 'failed', 110), r('gone', 'failed', 100)]);
  assert.equal(rows.map((x) => x.outcome), ['recorded', 'recorded', 'recorded', 'duplicate', 'monitor-gone']);
  assert.equal(rows.map((x) => x.failcount), [1, 0, 2, 2, 0], 'the second slot of m1 in the batch sees the first');
  assert.is(rows[0]!.reactionsJson, '', 'a monitor without reactions sends back no config');
  assert.match(rows[1]!.reactionsJson, /"r1"/, "a monitor with reactions sends back its config for the sink's decisions");
  assert.is((await fx.redis.hgetall(k.state('m1'))).failcount, '2');
  const history = await fx.redis.xrange(k.history, '-', '+');
  assert.is(history.length, 1, "the batch's results in one history entry");
  assert.equal(entryResults(history[0]![1]).map((h) => `${h.monitorId} ${h.due}`), ['m1 100', 'm2 100', 'm1 110'], 'each recorded result once, in order');
});

test('what recording needs of the config (reactions, a quorum) comes from the state applyMonitor keeps beside it; a state without it reads the config once', async () => {
  const apply = (m: Record<string, unknown>) =>
    fx.redis.applyMonitor(k.monitor('m1'), k.intervals, k.monitors, k.schedule, k.state('m1'), 'm1', JSON.stringify({ id: 'm1', name: 'site', ctype: 'tcp-check', interval: 10, data: {}, ...m }), 10_000, '', 0);
  await apply({ reactions: [] });
  assert.is(await fx.redis.hget(k.state('m1'), 'configFlags'), '');
  assert.is((await record('failed')).reactionsJson, '', 'no reactions: no config sent back');
  await apply({ reactions: ['r1'], quorum: 2 });
  assert.is(await fx.redis.hget(k.state('m1'), 'configFlags'), 'rq2:10');
  const alone = await record('failed');
  assert.match(alone.reactionsJson, /"r1"/, 'an edit that adds a reaction is seen by the next result');
  assert.is(alone.status, 'healthy', 'and its quorum: this zone alone does not make it failed');
  // A state restored from the store (seedState) has no flags: the config is read, and its flags kept.
  await fx.redis.hdel(k.state('m1'), 'configFlags');
  const seeded = await record('failed');
  assert.match(seeded.reactionsJson, /"r1"/);
  assert.is(seeded.status, 'healthy');
  assert.is(await fx.redis.hget(k.state('m1'), 'configFlags'), 'rq2:10');
  // Removed (removeMonitor deletes config and state together): a late result finds neither.
  await fx.redis.del(k.monitor('m1'), k.state('m1'));
  assert.is((await record('failed')).outcome, 'monitor-gone');
});

test('quorum 2: one zone failing alone leaves the status healthy; a fresh failure seen by another zone makes it failed', async () => {
  await fx.redis.set(k.monitor('m1'), JSON.stringify({ id: 'm1', name: 'site', ctype: 'tcp-check', interval: 10, quorum: 2, data: {}, reactions: [] }));
  assert.is((await record('healthy')).status, 'healthy');
  const alone = await record('failed');
  assert.is(alone.status, 'healthy', 'not failed: only this zone sees it');
  let state = await fx.redis.hgetall(k.state('m1'));
  assert.is(state.zoneStatus, 'failed', "this zone's own view is kept");
  assert.is(state.failcount, '0');

  await fx.redis.hset(k.views('m1'), 'eu', `failed|${clock - 60_000}|4`);
  assert.is((await record('failed')).status, 'healthy', 'a failure another zone saw a minute ago is too old for a 10 s interval');
  await fx.redis.hset(k.views('m1'), 'eu', `failed|${clock}|5`);
  const both = await record('failed');
  assert.is(both.status, 'failed');
  assert.is(both.failcount, 1, 'failcount counts failed statuses');
  assert.is(both.changed, true, 'a status change');
  state = await fx.redis.hgetall(k.state('m1'));
  assert.is(state.status, 'failed');
  await fx.redis.hset(k.views('m1'), 'eu', `healthy|${clock}|0`);
  assert.is((await record('failed')).status, 'healthy', 'once the other zone sees it healthy, fewer than 2 zones see it failed');
});

test('history records each zone result with its own consecutive fail count', async () => {
  for (const s of ['failed', 'failed', 'unknown', 'healthy'] as Status[]) await record(s);
  const counts = (await fx.redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f)).map((h) => h.failcount);
  assert.equal(counts, ['1', '2', '2', '0']);
});

test('rule: failed results need failcount >= trigger and call-on failed or both', () => {
  assert.ok(matchesRule({ reaction: reaction({ trigger: 3 }), status: 'failed', failcount: 3 }));
  assert.not.ok(matchesRule({ reaction: reaction({ trigger: 3 }), status: 'failed', failcount: 2 }));
  assert.ok(matchesRule({ reaction: reaction({ callOn: 'both' }), status: 'failed', failcount: 1 }));
  assert.not.ok(matchesRule({ reaction: reaction({ callOn: 'healthy' }), status: 'failed', failcount: 5 }));
});

test('rule: healthy results run healthy and both reactions; unknown runs nothing', () => {
  assert.ok(matchesRule({ reaction: reaction({ callOn: 'healthy', trigger: 3 }), status: 'healthy', failcount: 0 }));
  assert.ok(matchesRule({ reaction: reaction({ callOn: 'both' }), status: 'healthy', failcount: 0 }));
  assert.not.ok(matchesRule({ reaction: reaction({ callOn: 'failed' }), status: 'healthy', failcount: 0 }));
  const mod = { meta: { title: 't', fields: {} }, react: async () => 'ran' as const, shouldRun: () => true };
  assert.not.ok(shouldRun(mod, { reaction: reaction({ callOn: 'both' }), status: 'unknown', failcount: 1 }));
  assert.ok(shouldRun(mod, { reaction: reaction({ callOn: 'healthy' }), status: 'failed', failcount: 1 }), 'a module shouldRun overrides the rule');
});

/** A claim of reaction `r` for monitor m1 in episode `episode`, judged at `at` (or Redis's clock): the time of the run, or why not. */
async function claim(r: Reaction, at: number | '', episode = 1, monitorId = 'm1'): Promise<number | string> {
  const c = await claimInZone(fx.redis, k, r, monitorId, episode, at);
  return c.run ? c.now : c.reason;
}

test('claim: frequency holds between runs for the same monitor', async () => {
  const r = reaction({ frequency: 5 });
  assert.is(await claim(r, 10_000), 10_000, 'claimed: the time of the run');
  assert.is(await claim(r, 12_000), 'frequency');
  assert.is(await claim(r, 15_000), 15_000);
});

test('claim: once runs at most once per episode', async () => {
  const r = reaction({ once: true });
  assert.is(await claim(r, 1, 4), 1);
  assert.is(await claim(r, 2, 4), 'once');
  assert.is(await claim(r, 3, 5), 3);
});

test('claim: a budget of 2 per 10 s holds in any window of 10 s, and frees as runs age out of it', async () => {
  const r = reaction({ id: 'r-budget', maxRuns: 2, per: 10 });
  assert.is(await claim(r, 100_000), 100_000);
  assert.is(await claim(r, 104_000, 2), 104_000);
  assert.is(await claim(r, 109_999, 3), 'budget', 'two runs within the last 10 s');
  assert.is(await claim(r, 110_001, 4), 110_001, 'the first run is out of the window');
  assert.is(await claim(r, 113_000, 5), 'budget', 'the runs at 104 and 110 s are within 10 s');
  assert.is(await claim(r, 114_001, 6), 114_001);
});

test("claim: fixes naming one target share its budget (1 per hour until it is set), whatever monitor they are for", async () => {
  const fix = reaction({ id: 'r-reboot', kind: 'fix', maxRuns: 3, per: 3600, target: 'web-1' });
  const results = [];
  for (const m of ['m1', 'm2', 'm3', 'm4', 'm5']) results.push(await claim(fix, 1_000_000, 1, m));
  assert.equal(results, [1_000_000, 'target-budget', 'target-budget', 'target-budget', 'target-budget'], 'five monitors of one server reboot it once');
  const other = reaction({ id: 'r-other', kind: 'fix', target: 'web-2' });
  assert.is(await claim(other, 1_000_000, 1, 'm1'), 1_000_000, 'another target has its own budget');
  // A budget set for the target (the bridge writes it): 3 per minute.
  await fx.redis.hset(k.targets, 'web-1', '3 60000');
  assert.is(await claim(fix, 1_000_001, 2, 'm2'), 1_000_001);
  assert.is(await claim(fix, 1_000_002, 3, 'm3'), 1_000_002);
  assert.is(await claim(fix, 1_000_003, 4, 'm4'), 'target-budget', 'three runs of web-1 within the minute');
  assert.is(await claim(fix, 1_060_001, 5, 'm4'), 1_060_001, 'the first three are older than a minute');
});

test("claim: without a time given it runs on Redis's clock, so the sinks' own clocks do not bend the frequency", async () => {
  const r = reaction({ frequency: 60 });
  const [s] = await fx.redis.time();
  const first = await claim(r, '');
  assert.ok(typeof first === 'number' && Math.abs(first - Number(s) * 1000) < 2000, `claimed at ${first}, Redis says ${s} s`);
  // The next claim, from whichever sink, is judged against the time Redis stored: refused within the frequency.
  assert.is(await claim(r, ''), 'frequency');
});

test('claim: two sinks racing for the same run get it once', async () => {
  const r = reaction({ frequency: 60 });
  const results = await Promise.all(Array.from({ length: 20 }, () => claim(r, 50_000)));
  assert.is(results.filter((x) => typeof x === 'number').length, 1);
});

test.run();
