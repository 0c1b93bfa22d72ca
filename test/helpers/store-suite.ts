/** The Store contract as a uvu suite, so every store adapter (SQLite, RethinkDB) runs the same tests. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EventRecord, HistoryRecord, Monitor, Reaction } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';

/** A monitor record for tests. */
export function monitor(id: string, over: Partial<Monitor> = {}): Monitor {
  return { id, name: `m ${id}`, ctype: 'http', interval: 10, data: { url: 'http://127.0.0.1/' }, reactions: [], createdAt: 1, updatedAt: 1, ...over };
}

/** A reaction record for tests. */
export function reaction(id: string, over: Partial<Reaction> = {}): Reaction {
  return { id, name: `r ${id}`, rtype: 'webhook', trigger: 1, frequency: 60, callOn: 'failed', once: false, data: { token: 'enc:v1:a:b:c' }, createdAt: 1, updatedAt: 1, ...over };
}

function hist(id: string, monitorId: string, checkedAt: number): HistoryRecord {
  return { id, monitorId, zone: 'z1', status: 'healthy', message: `ok ${id}`, latencyMs: 12.5, checkedAt, due: checkedAt - 3 };
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

  s('change log lists every put and delete in commit order', async ({ store }) => {
    assert.is(await store.lastChange(), 0);
    assert.equal(await store.changesSince(0), []);
    await store.putMonitor(monitor('m1'));
    await store.putReaction(reaction('r1'));
    await store.putMonitor(monitor('m1', { interval: 20 }));
    await store.deleteMonitor('m1');
    await store.deleteMonitor('m1');
    await store.deleteReaction('r1');
    const all = await store.changesSince(0);
    assert.equal(all.map(({ kind, id, op }) => [kind, id, op]), [
      ['monitor', 'm1', 'upsert'], ['reaction', 'r1', 'upsert'], ['monitor', 'm1', 'upsert'],
      ['monitor', 'm1', 'delete'], ['reaction', 'r1', 'delete'],
    ]);
    for (let i = 1; i < all.length; i++) assert.ok(all[i]!.seq > all[i - 1]!.seq, 'seq increases');
    assert.is(await store.lastChange(), all[4]!.seq);
    assert.equal(await store.changesSince(all[2]!.seq), all.slice(3));
    assert.equal(await store.changesSince(0, 2), all.slice(0, 2));
    assert.equal(await store.changesSince(all[4]!.seq), []);
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

  s('history and config are separate: history writes add no config changes', async ({ store }) => {
    await store.addHistory([hist('z1:9-0', 'a', 1)]);
    assert.is(await store.lastChange(), 0);
  });

  s.run();
}
