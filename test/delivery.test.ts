/**
 * Every due slot ends in one recorded result or one counted reason: results survive a sink killed with kill -9 and
 * a Redis that goes away and comes back, and none is recorded twice. Slow reactions of one type hold up nobody else.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fieldsToObject } from '../src/core/redis.js';
import { entryResults } from '../src/core/history-entry.js';
import { keys } from '../src/core/keys.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import type { RedisServer } from './helpers/redis-server.js';
import { loseAProcess } from './helpers/losing-zone.js';
import { describeLedger, historyResults } from './helpers/slot-ledger.js';
import { useZoneFixture } from './helpers/zone-fixture.js';

const fx = useZoneFixture(test, 'delivery');

let redis: Redis;
let server: RedisServer;
let dir: string;
let targetPort = 0;
test.before(() => {
  ({ redis, server, dir, targetPort } = fx);
});

/** Each monitor's history entries by due slot: how many slots have a result, and how many were recorded more than once. */
async function slots(zone: string, from: number, to: number): Promise<{ recorded: Map<string, Set<number>>; duplicates: number }> {
  const recorded = new Map<string, Set<number>>();
  let duplicates = 0;
  for (const h of (await redis.xrange(keys(zone).history, '-', '+')).flatMap(([, f]) => entryResults(f))) {
    const due = Number(h.due);
    if (due < from || due >= to) continue;
    const set = recorded.get(h.monitorId!) ?? new Set<number>();
    if (set.has(due)) duplicates++;
    set.add(due);
    recorded.set(h.monitorId!, set);
  }
  return { recorded, duplicates };
}

const counter = async (zone: string, name: string) => Number((await redis.hget(keys(zone).counters, name)) ?? 0);


test('kill -9 of one of two sinks while 300 monitors run at 1 s: every slot has one result or one counted reason', async () => {
  const ledger = await loseAProcess(fx, 'sinkkill', async (z) => {
    await z.sinks[0]!.kill('SIGKILL');
  }, { sinks: 2, env: { CLOUDROUTES_SINK_CLAIM_IDLE: '2s' } });
  console.log(`one of two sinks killed: ${describeLedger(ledger)}`);
  assert.is(ledger.duplicates, 0, 'a slot recorded twice');
  assert.is(ledger.unaccounted, 0, describeLedger(ledger));
  assert.ok(ledger.recorded > ledger.slots * 0.95, describeLedger(ledger));
  assert.is(await counter('sinkkill', 'worker.results_dropped_outbox_full'), 0);
});

test('a Redis that goes away and comes back: the worker holds its results and every one is recorded once', async () => {
  const zone = 'redisgone';
  const cluster = new Cluster({ redisUrl: server.url, zone });
  await putMonitor(redis, zone, { id: 'm-1', ctype: 'tcp-check', interval: 1, data: { host: '127.0.0.1', port: targetPort } });
  await cluster.start();
  try {
    await waitFor(async () => (await historyResults(redis, zone)) >= 2, 10_000, 'results recorded');
    // While Redis is down no new job is popped, but the checks already running finish and their results wait.
    await server.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await server.start();
    const before = Date.now();
    await waitFor(async () => Number(await redis.hget(keys(zone).state('m-1'), 'lastCheck').catch(() => 0)) > before - 500, 15_000, 'results again after Redis came back');
    await new Promise((r) => setTimeout(r, 2000));
    const { recorded, duplicates } = await slots(zone, 0, Date.now() + 60_000);
    const dues = [...recorded.get('m-1')!].sort((x, y) => x - y);
    const expected = (dues.at(-1)! - dues[0]!) / 1000 + 1;
    const missed = await counter(zone, 'control.missed_checks');
    console.log(`Redis restarted: ${dues.length} slots recorded of ${expected}, ${missed} counted missed (the control could not pop them), ${duplicates} twice`);
    assert.is(duplicates, 0);
    assert.ok(dues.length + missed >= expected, `${expected - dues.length} slots without a result, ${missed} counted`);
  } finally {
    await cluster.stop();
  }
});

test('64 hung reactions of one type hold up neither the decisions nor a reaction of another type', async () => {
  const zone = 'slowreact';
  const actions = join(dir, 'actions');
  for (const [name, body] of [
    ['hangs', 'export async function react(event, ctx) { await new Promise((r) => ctx.signal.addEventListener("abort", r)); return "failed"; }'],
    ['quick', 'export async function react() { return "ran"; }'],
  ]) {
    mkdirSync(join(actions, name!), { recursive: true });
    writeFileSync(join(actions, name!, 'index.mjs'), `export const meta = { title: '${name}', fields: { type: 'object' } };\n${body}\n`);
  }
  const cluster = new Cluster({ redisUrl: server.url, zone, actionsPath: [actions], reactionTimeoutMs: 20_000 });
  await putReaction(redis, zone, { id: 'r-hang', rtype: 'hangs', data: {} });
  await putReaction(redis, zone, { id: 'r-quick', rtype: 'quick', data: {} });
  for (let i = 0; i < 64; i++) await putMonitor(redis, zone, { id: `h-${i}`, ctype: 'tcp-check', interval: 60, reactions: ['r-hang'], data: { host: '127.0.0.1', port: 1 } });
  await cluster.start();
  try {
    await waitFor(async () => (await historyResults(redis, zone)) >= 64, 10_000, 'the 64 failures recorded');
    const at = Date.now();
    await putMonitor(redis, zone, { id: 'q-1', ctype: 'tcp-check', interval: 60, reactions: ['r-quick'], data: { host: '127.0.0.1', port: 1 } });
    const ran = await waitFor(async () => {
      const events = (await redis.xrange(keys(zone).events, '-', '+')).map(([, f]) => fieldsToObject(f));
      return events.find((e) => e.reactionId === 'r-quick' && e.outcome === 'ran');
    }, 5000, 'the quick reaction to run while 64 others hang');
    console.log(`quick reaction ran ${Number(ran.at) - at} ms after its monitor was added, with 64 reactions of another type hung`);
    assert.ok(Number(ran.at) - at < 3000);
  } finally {
    await cluster.stop();
  }
});

test('a reaction module that cannot be loaded is recorded once per episode, counted at every result', async () => {
  const zone = 'noload';
  const cluster = new Cluster({ redisUrl: server.url, zone });
  await putReaction(redis, zone, { id: 'r-missing', rtype: 'no-such-module', data: {} });
  await putMonitor(redis, zone, { id: 'm-1', ctype: 'tcp-check', interval: 1, reactions: ['r-missing'], data: { host: '127.0.0.1', port: 1 } });
  await cluster.start();
  try {
    await waitFor(() => cluster.sink!.counters.get('reactions.load_failed') >= 4, 10_000, 'four results met the missing module');
    const runs = (await redis.xrange(keys(zone).events, '-', '+')).map(([, f]) => fieldsToObject(f)).filter((e) => e.reactionId === 'r-missing');
    assert.is(runs.length, 1, 'recorded once for the episode');
    assert.is(runs[0]!.outcome, 'failed');
    assert.match(runs[0]!.message!, /no-such-module/);
  } finally {
    await cluster.stop();
  }
});

test.run();
