/** The Store contract as a uvu suite, so every store adapter (SQLite, RethinkDB) runs the same tests. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EventRecord, HistoryRecord, Monitor, Reaction, Target } from '../../src/core/types.js';
import type { ConfigChange, HistoryBucket, Store } from '../../src/store/store.js';

/** A monitor record for tests. */
export function monitor(id: string, over: Partial<Monitor> = {}): Monitor {
  return { id, name: `m ${id}`, ctype: 'http', interval: 10, data: { url: 'http://127.0.0.1/' }, reactions: [], createdAt: 1, updatedAt: 1, ...over };
}

/** A reaction record for tests. */
export function reaction(id: string, over: Partial<Reaction> = {}): Reaction {
  return { id, name: `r ${id}`, rtype: 'webhook', trigger: 1, frequency: 60, callOn: 'failed', once: false, data: { token: 'enc:v1:a:b:c' }, createdAt: 1, updatedAt: 1, ...over };
}

/** A target record for tests. */
export function target(name: string, over: Partial<Target> = {}): Target {
  return { name, maxRuns: 2, per: 3600, createdAt: 1, updatedAt: 1, ...over };
}

function hist(id: string, monitorId: string, checkedAt: number): HistoryRecord {
  return { id, monitorId, zone: 'z1', status: 'healthy', message: `ok ${id}`, latencyMs: 12.5, checkedAt, due: checkedAt - 3 };
}

/** Resolves `p`, or throws naming `what` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when `p` has not settled after `ms`. */
async function quiet(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => false), new Promise<boolean>((res) => (timer = setTimeout(() => res(true), ms)))]);
  clearTimeout(timer);
  return r;
}

/** Registers and runs the Store contract suite; `open` must return a fresh, initialised, empty store. */
export function storeSuite(name: string, open: () => Promise<Store>): void {
  const s = suite<{ store: Store }>(`store contract: ${name}`, {} as { store: Store });
  s.before.each(async (ctx) => {
    ctx.store = await open();
  });
  s.after.each(async (ctx) => {
    await ctx.store.close();
  });

  s('put, get, list and delete monitors', async ({ store }) => {
    assert.is(await store.getMonitor('a'), undefined);
    await store.putMonitor(monitor('b', { name: 'beta' }));
    await store.putMonitor(monitor('a', { name: 'alpha', data: { url: 'x', nested: { n: 1 } } }));
    assert.equal(await store.getMonitor('a'), monitor('a', { name: 'alpha', data: { url: 'x', nested: { n: 1 } } }));
    assert.equal((await store.listMonitors()).map((m) => m.id), ['a', 'b']);
    await store.putMonitor(monitor('a', { name: 'zeta', interval: 30 }));
    const list = await store.listMonitors();
    assert.equal(list.map((m) => [m.id, m.interval]), [['b', 10], ['a', 30]]);
    assert.is(await store.deleteMonitor('a'), true);
    assert.is(await store.deleteMonitor('a'), false);
    assert.is(await store.getMonitor('a'), undefined);
    assert.equal((await store.listMonitors()).map((m) => m.id), ['b']);
  });

  s('monitorsAfter walks every monitor in id order, a page at a time', async ({ store }) => {
    // Names sort the other way round, so the order seen is the ids'.
    for (const [id, name] of [['c', 'x3'], ['a', 'x5'], ['e', 'x1'], ['b', 'x4'], ['d', 'x2']] as const) await store.putMonitor(monitor(id, { name }));
    const ids = (ms: { id: string }[]) => ms.map((m) => m.id);
    assert.equal(ids(await store.monitorsAfter('', 2)), ['a', 'b']);
    assert.equal(ids(await store.monitorsAfter('b', 2)), ['c', 'd']);
    assert.equal(await store.monitorsAfter('d', 2), [monitor('e', { name: 'x1' })], 'whole records');
    assert.equal(await store.monitorsAfter('e', 2), []);
    assert.equal(ids(await store.monitorsAfter('bb', 10)), ['c', 'd', 'e'], 'after an id no monitor has');
    await store.deleteMonitor('c');
    assert.equal(ids(await store.monitorsAfter('b', 2)), ['d', 'e']);
  });

  s('put, get, list and delete reactions', async ({ store }) => {
    await store.putReaction(reaction('r1'));
    await store.putReaction(reaction('r2', { callOn: 'both', once: true }));
    assert.equal(await store.getReaction('r2'), reaction('r2', { callOn: 'both', once: true }));
    assert.equal((await store.listReactions()).map((r) => r.id), ['r1', 'r2']);
    await store.putReaction(reaction('r1', { trigger: 3 }));
    assert.is((await store.getReaction('r1'))?.trigger, 3);
    assert.is(await store.deleteReaction('r1'), true);
    assert.is(await store.deleteReaction('nope'), false);
    assert.equal((await store.listReactions()).map((r) => r.id), ['r2']);
  });

  s('replaceMonitor and replaceReaction write only over the version they were read at, never bringing back a removed one', async ({ store }) => {
    await store.putMonitor(monitor('a', { updatedAt: 5 }));
    assert.is(await store.replaceMonitor(monitor('a', { name: 'stale', updatedAt: 9 }), 4), false);
    assert.equal(await store.getMonitor('a'), monitor('a', { updatedAt: 5 }), 'an edit made since stays');
    assert.is(await store.replaceMonitor(monitor('a', { name: 'fresh', updatedAt: 9 }), 5), true);
    assert.equal(await store.getMonitor('a'), monitor('a', { name: 'fresh', updatedAt: 9 }));
    assert.equal((await store.listMonitors()).map((m) => m.name), ['fresh']);
    assert.is(await store.replaceMonitor(monitor('gone', { updatedAt: 2 }), 1), false);
    assert.is(await store.getMonitor('gone'), undefined);
    await store.putReaction(reaction('r', { updatedAt: 5 }));
    assert.is(await store.replaceReaction(reaction('r', { trigger: 7, updatedAt: 9 }), 3), false);
    assert.is((await store.getReaction('r'))?.trigger, 1);
    assert.is(await store.replaceReaction(reaction('r', { trigger: 7, updatedAt: 9 }), 5), true);
    assert.is((await store.getReaction('r'))?.trigger, 7);
    assert.is(await store.replaceReaction(reaction('gone'), 1), false);
    assert.is(await store.getReaction('gone'), undefined);
  });

  s('follow delivers every create, edit and delete committed after it opened, in order', async ({ store }) => {
    await store.putMonitor(monitor('before'));
    const feed = await store.follow();
    const it = feed[Symbol.asyncIterator]();
    await store.putMonitor(monitor('m1'));
    await store.putReaction(reaction('r1'));
    await store.putMonitor(monitor('m1', { interval: 20 }));
    await store.deleteMonitor('m1');
    await store.deleteMonitor('m1');
    await store.deleteReaction('r1');
    const got: ConfigChange[] = [];
    while (got.length < 5) got.push(...(await within(it.next(), 3000, 'a change')).value!);
    assert.equal(got.filter((c) => c.kind === 'monitor').map((c) => c.id), ['m1', 'm1', 'm1'], 'create, edit, delete; deleting nothing is no change');
    assert.equal(got.filter((c) => c.kind === 'reaction').map((c) => c.id), ['r1', 'r1']);
    assert.is(await quiet(it.next(), 300), true, 'nothing more');
    await feed.close();
    assert.is((await within(it.next(), 3000, 'the end of the feed')).done, true, 'ends after close()');
  });

  s('put, get, list and delete targets, by name', async ({ store }) => {
    assert.is(await store.getTarget('web-1'), undefined);
    assert.equal(await store.listTargets(), []);
    await store.putTarget(target('web-2.example.com', { maxRuns: 5, per: 600 }));
    await store.putTarget(target('db/primary'));
    assert.equal(await store.getTarget('web-2.example.com'), target('web-2.example.com', { maxRuns: 5, per: 600 }), 'the whole record, no more');
    assert.equal((await store.listTargets()).map((t) => t.name), ['db/primary', 'web-2.example.com']);
    await store.putTarget(target('db/primary', { maxRuns: 1, per: 60, updatedAt: 7 }));
    assert.equal(await store.getTarget('db/primary'), target('db/primary', { maxRuns: 1, per: 60, updatedAt: 7 }), 'replaced, not added');
    assert.is((await store.listTargets()).length, 2);
    assert.is(await store.deleteTarget('db/primary'), true);
    assert.is(await store.deleteTarget('db/primary'), false);
    assert.is(await store.getTarget('db/primary'), undefined);
    assert.equal(await store.listTargets(), [target('web-2.example.com', { maxRuns: 5, per: 600 })]);
  });

  s('follow delivers a target set, changed and removed, named by the target', async ({ store }) => {
    const feed = await store.follow();
    const it = feed[Symbol.asyncIterator]();
    await store.putTarget(target('web-2'));
    await store.putTarget(target('web-2', { maxRuns: 3 }));
    await store.deleteTarget('web-2');
    await store.deleteTarget('web-2');
    const got: ConfigChange[] = [];
    while (got.length < 3) got.push(...(await within(it.next(), 3000, 'a target change')).value!);
    assert.equal(got, [{ kind: 'target', id: 'web-2' }, { kind: 'target', id: 'web-2' }, { kind: 'target', id: 'web-2' }], 'set, change, remove; removing nothing is no change');
    assert.is(await quiet(it.next(), 300), true, 'nothing more');
    await feed.close();
  });

  s('addHistory is idempotent and history is per monitor, newest first, within a time range', async ({ store }) => {
    const batch = [hist('z1:1-0', 'a', 1000), hist('z1:2-0', 'a', 3000), hist('z1:3-0', 'b', 2000), hist('z1:4-0', 'a', 2000)];
    batch[3] = { ...batch[3]!, status: 'failed', latencyMs: null, message: '' };
    await store.addHistory(batch);
    await store.addHistory(batch);
    await store.addHistory([{ ...batch[0]!, message: 'rewritten' }]);
    await store.addHistory([]);
    const a = await store.history({ monitorId: 'a' });
    assert.equal(a, [batch[1], batch[3], batch[0]]);
    assert.equal(await store.history({ monitorId: 'b' }), [batch[2]]);
    assert.equal(await store.history({ monitorId: 'a', from: 2000 }), [batch[1], batch[3]]);
    assert.equal(await store.history({ monitorId: 'a', to: 2000 }), [batch[3], batch[0]]);
    assert.equal(await store.history({ monitorId: 'a', from: 1500, to: 2500 }), [batch[3]]);
    assert.equal(await store.history({ monitorId: 'a', limit: 1 }), [batch[1]]);
    assert.equal(await store.history({ monitorId: 'nobody' }), []);
  });

  s('historyBuckets sums results per monitor, zone and bucket over each monitor\'s span, leaving out excluded ids', async ({ store }) => {
    const rec = (id: string, monitorId: string, zone: string, checkedAt: number, status: HistoryRecord['status'], latencyMs: number | null): HistoryRecord =>
      ({ id, monitorId, zone, status, message: '', latencyMs, checkedAt, due: checkedAt });
    await store.addHistory([
      rec('a1', 'a', 'z1', 1000, 'healthy', 10), rec('a2', 'a', 'z1', 1050, 'failed', null), rec('a3', 'a', 'z1', 1099, 'healthy', 30),
      rec('a4', 'a', 'z2', 1100, 'healthy', 5), rec('a5', 'a', 'z1', 2000, 'healthy', 7), rec('a6', 'a', 'z1', 999, 'failed', 1),
      rec('a7', 'a', 'z1', 2001, 'failed', 1), rec('a8', 'a', 'z1', 1150, 'failed', null),
      rec('b1', 'b', 'z1', 5500, 'failed', 50), rec('b2', 'b', 'z1', 5600, 'healthy', 40), rec('b3', 'b', 'z2', 5600, 'healthy', 40),
      rec('c1', 'c', 'z1', 1500, 'healthy', 1),
    ]);
    const key = (x: HistoryBucket) => `${x.monitorId}/${x.zone}/${String(x.bucket).padStart(3, '0')}`;
    const sorted = (xs: HistoryBucket[]) => [...xs].sort((x, y) => (key(x) < key(y) ? -1 : 1));
    const got = await store.historyBuckets({
      spans: [{ monitorId: 'a', from: 1000, to: 2000 }, { monitorId: 'b', from: 5000, to: 6000, zone: 'z1' }, { monitorId: 'nobody', from: 0, to: 9000 }],
      buckets: 10, exclude: ['b2', 'not-stored'],
    });
    assert.equal(sorted(got), [
      { monitorId: 'a', zone: 'z1', bucket: 0, checks: 3, failed: 1, minMs: 10, maxMs: 30 },
      { monitorId: 'a', zone: 'z1', bucket: 1, checks: 1, failed: 1, minMs: null, maxMs: null },
      { monitorId: 'a', zone: 'z1', bucket: 9, checks: 1, failed: 0, minMs: 7, maxMs: 7 },
      { monitorId: 'a', zone: 'z2', bucket: 1, checks: 1, failed: 0, minMs: 5, maxMs: 5 },
      { monitorId: 'b', zone: 'z1', bucket: 5, checks: 1, failed: 1, minMs: 50, maxMs: 50 },
    ]);
    assert.equal(await store.historyBuckets({ spans: [], buckets: 10 }), []);
    assert.equal(await store.historyBuckets({ spans: [{ monitorId: 'a', from: 2000, to: 2000 }], buckets: 10 }), [], 'an empty span has no buckets');
    const one = await store.historyBuckets({ spans: [{ monitorId: 'c', from: 0, to: 3000 }], buckets: 1 });
    assert.equal(one, [{ monitorId: 'c', zone: 'z1', bucket: 0, checks: 1, failed: 0, minMs: 1, maxMs: 1 }]);
  });

  s('addEvents is idempotent; events by monitor, newest first', async ({ store }) => {
    const status: EventRecord = { id: 'z1:5-0', kind: 'status', monitorId: 'a', zone: 'z1', at: 100, status: 'failed', previousStatus: null, failcount: 1, message: 'down' };
    const ran: EventRecord = { id: 'z1:6-0', kind: 'reaction', monitorId: 'a', zone: 'z1', at: 200, status: 'failed', previousStatus: 'healthy', failcount: 2, reactionId: 'r1', outcome: 'ran', message: 'paged' };
    const other: EventRecord = { ...status, id: 'z1:7-0', monitorId: 'b', at: 150, status: 'healthy', previousStatus: 'failed', failcount: 0 };
    await store.addEvents([status, ran, other]);
    await store.addEvents([status, ran, other]);
    assert.equal(await store.events({ monitorId: 'a' }), [ran, status]);
    assert.equal(await store.events({ monitorId: 'b' }), [other]);
    assert.equal(await store.events({}), [ran, other, status]);
    assert.equal(await store.events({ limit: 2 }), [ran, other]);
    await store.addEvents([]);
  });

  s('zone views: the newer view of a monitor in a zone wins; views since a time', async ({ store }) => {
    await store.putZoneViews([
      { monitorId: 'm1', zone: 'eu', status: 'failed', failcount: 2, at: 2000 },
      { monitorId: 'm1', zone: 'us', status: 'healthy', failcount: 0, at: 1000 },
      { monitorId: 'm2', zone: 'eu', status: 'healthy', failcount: 0, at: 1500 },
    ]);
    await store.putZoneViews([
      { monitorId: 'm1', zone: 'eu', status: 'healthy', failcount: 0, at: 1900 },
      { monitorId: 'm1', zone: 'us', status: 'failed', failcount: 1, at: 3000 },
    ]);
    const byKey = (vs: { monitorId: string; zone: string }[]) => [...vs].sort((a, b) => `${a.monitorId}${a.zone}`.localeCompare(`${b.monitorId}${b.zone}`));
    assert.equal(byKey(await store.zoneViews({ monitorId: 'm1' })), [
      { monitorId: 'm1', zone: 'eu', status: 'failed', failcount: 2, at: 2000 },
      { monitorId: 'm1', zone: 'us', status: 'failed', failcount: 1, at: 3000 },
    ]);
    assert.equal(byKey(await store.zoneViews({ since: 1600 })).map((v) => `${v.monitorId}/${v.zone}`), ['m1/eu', 'm1/us']);
    assert.equal(byKey(await store.zoneViews({ since: 0, otherThan: 'eu' })).map((v) => `${v.monitorId}/${v.zone}`), ['m1/us'], "a zone asks for the others' views only");
    assert.equal(byKey(await store.zoneViews({ monitorId: 'm1', otherThan: 'us' })).map((v) => `${v.monitorId}/${v.zone}`), ['m1/eu']);
    await store.putZoneViews([]);
  });

  s('zone views of some monitors', async ({ store }) => {
    await store.putZoneViews([
      { monitorId: 'm1', zone: 'eu', status: 'failed', failcount: 2, at: 2000 },
      { monitorId: 'm1', zone: 'us', status: 'healthy', failcount: 0, at: 1000 },
      { monitorId: 'm2', zone: 'eu', status: 'healthy', failcount: 0, at: 1500 },
      { monitorId: 'm3', zone: 'us', status: 'healthy', failcount: 0, at: 1500 },
    ]);
    const keys = (vs: { monitorId: string; zone: string }[]) => vs.map((v) => `${v.monitorId}/${v.zone}`).sort();
    assert.equal(await store.zoneViews({ monitorIds: ['m2', 'none'] }), [{ monitorId: 'm2', zone: 'eu', status: 'healthy', failcount: 0, at: 1500 }]);
    assert.equal(keys(await store.zoneViews({ monitorIds: ['m1', 'm2'] })), ['m1/eu', 'm1/us', 'm2/eu']);
    assert.equal(keys(await store.zoneViews({ monitorIds: ['m1', 'm2'], since: 1600 })), ['m1/eu']);
    assert.equal(keys(await store.zoneViews({ monitorIds: ['m1', 'm3'], otherThan: 'eu' })), ['m1/us', 'm3/us']);
    assert.equal(keys(await store.zoneViews({ monitorIds: ['m1'], monitorId: 'm1' })), ['m1/eu', 'm1/us']);
    assert.equal(await store.zoneViews({ monitorIds: ['m2'], monitorId: 'm1' }), []);
    assert.equal(await store.zoneViews({ monitorIds: [] }), []);
  });

  s('signals: the newer signal of a monitor wins (ties keep the stored one); signals stored since a time; gone with the monitor', async ({ store }) => {
    const t0 = Date.now();
    await store.putSignals([
      { monitorId: 'm1', zone: 'eu', at: 2000, status: 'failed', message: 'disk full' },
      { monitorId: 'm2', zone: 'us', at: 1500, status: 'healthy' },
    ]);
    await store.putSignals([
      { monitorId: 'm1', zone: 'us', at: 1900, status: 'healthy' },
      { monitorId: 'm2', zone: 'eu', at: 1500, status: 'failed', message: 'same at' },
    ]);
    const plain = (list: { storedAt: number }[]) => list.map(({ storedAt, ...s }) => {
      // A RethinkDB server stamps with its own clock, which may be a little apart from this one.
      assert.ok(storedAt >= t0 - 1000 && storedAt <= Date.now() + 1000, `storedAt ${storedAt} is the time of the write`);
      return s;
    }).sort((a, b) => (a as { monitorId: string }).monitorId.localeCompare((b as { monitorId: string }).monitorId));
    assert.equal(plain(await store.signals({})), [
      { monitorId: 'm1', zone: 'eu', at: 2000, status: 'failed', message: 'disk full' },
      { monitorId: 'm2', zone: 'us', at: 1500, status: 'healthy' },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await store.signals({ since: between }), [], 'nothing stored since');
    await store.putSignals([{ monitorId: 'm2', zone: 'eu', at: 2500, status: 'healthy' }]);
    assert.equal(plain(await store.signals({ since: between })), [{ monitorId: 'm2', zone: 'eu', at: 2500, status: 'healthy' }]);
    assert.equal(plain(await store.signals({ monitorId: 'm1' })), [{ monitorId: 'm1', zone: 'eu', at: 2000, status: 'failed', message: 'disk full' }]);
    assert.equal(await store.signals({ monitorId: 'm1', since: between }), []);
    await store.putMonitor(monitor('m1'));
    await store.deleteMonitor('m1');
    assert.equal(plain(await store.signals({})).map((s) => (s as { monitorId: string }).monitorId), ['m2']);
    await store.putSignals([]);
  });

  s('claimReaction: frequency and once-per-episode hold, and of simultaneous claims exactly one wins', async ({ store }) => {
    const claim = { monitorId: 'm1', reactionId: 'r1', frequencyMs: 60_000, once: false, status: 'failed' as const, episodeStart: 0 };
    assert.is(await store.claimReaction({ ...claim, now: 100_000 }), 'run');
    assert.is(await store.claimReaction({ ...claim, now: 130_000 }), 'frequency', 'within the frequency');
    assert.is(await store.claimReaction({ ...claim, now: 160_000 }), 'run');
    const once = { ...claim, reactionId: 'r2', frequencyMs: 0, once: true };
    assert.is(await store.claimReaction({ ...once, now: 200_000, episodeStart: 190_000 }), 'run');
    assert.is(await store.claimReaction({ ...once, now: 201_000, episodeStart: 190_500 }), 'once', 'same episode, another zone');
    assert.is(await store.claimReaction({ ...once, now: 300_000, episodeStart: 250_000 }), 'run', 'a new episode');
    const racing = await Promise.all(Array.from({ length: 10 }, () => store.claimReaction({ ...claim, reactionId: 'r3', now: 500_000 })));
    assert.is(racing.filter((v) => v === 'run').length, 1);
  });

  s("claimReaction: a budget holds in any window across zones; a target's budget is shared by every monitor and reaction naming it", async ({ store }) => {
    const claim = { monitorId: 'm1', reactionId: 'rb', frequencyMs: 0, once: false, status: 'failed' as const, episodeStart: 0, budget: { maxRuns: 2, perMs: 600_000 } };
    assert.is(await store.claimReaction({ ...claim, now: 1_000_000 }), 'run');
    assert.is(await store.claimReaction({ ...claim, now: 1_100_000 }), 'run', 'another zone, the second run of the budget');
    assert.is(await store.claimReaction({ ...claim, now: 1_500_000 }), 'budget', 'two runs within 10 minutes');
    assert.is(await store.claimReaction({ ...claim, now: 1_600_001 }), 'run', 'the first run is older than 10 minutes');
    const target = { name: 'web-1', maxRuns: 1, perMs: 3_600_000 };
    const fix = { ...claim, reactionId: 'rt', budget: undefined, target };
    const monitors = ['m1', 'm2', 'm3', 'm4', 'm5'];
    const verdicts = await Promise.all(monitors.map((monitorId) => store.claimReaction({ ...fix, monitorId, now: 2_000_000 })));
    assert.is(verdicts.filter((v) => v === 'run').length, 1, `one run of the target: ${verdicts.join(', ')}`);
    assert.is(verdicts.filter((v) => v === 'target-budget').length, 4);
    // A claim the reaction's own rules refuse gives its target run back: the target is still free for another.
    const freq = { ...claim, reactionId: 'rf', budget: undefined, frequencyMs: 60_000, target: { name: 'db-1', maxRuns: 1, perMs: 3_600_000 } };
    assert.is(await store.claimReaction({ ...freq, now: 3_000_000, target: undefined }), 'run');
    assert.is(await store.claimReaction({ ...freq, now: 3_000_001 }), 'frequency');
    assert.is(await store.claimReaction({ ...freq, reactionId: 'rg', now: 3_000_002 }), 'run', 'db-1 was not counted for the refused claim');
  });

  s('API keys: put, find by hash, list, delete', async ({ store }) => {
    const key = { id: 'k1', name: 'ci', hash: 'a'.repeat(64), readOnly: true, createdAt: 5 };
    await store.putApiKey(key);
    await store.putApiKey({ id: 'k2', name: 'admin', hash: 'b'.repeat(64), readOnly: false, createdAt: 6 });
    assert.equal(await store.apiKeyByHash('a'.repeat(64)), key);
    assert.is(await store.apiKeyByHash('c'.repeat(64)), undefined);
    assert.equal((await store.listApiKeys()).map((k) => k.id), ['k2', 'k1'], 'by name');
    assert.is(await store.deleteApiKey('k1'), true);
    assert.is(await store.deleteApiKey('k1'), false);
    assert.is(await store.apiKeyByHash('a'.repeat(64)), undefined);
  });

  s('history and config are separate: history writes add no config changes', async ({ store }) => {
    const feed = await store.follow();
    const next = feed[Symbol.asyncIterator]().next();
    await store.addHistory([hist('z1:9-0', 'a', 1)]);
    await store.addEvents([{ id: 'z1:9-1', kind: 'status', monitorId: 'a', zone: 'z1', at: 1, status: 'failed', previousStatus: 'healthy', failcount: 1, message: '' }]);
    assert.is(await quiet(next, 500), true);
    await feed.close();
  });

  s.run();
}
