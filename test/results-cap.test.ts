/**
 * The results stream is bounded: with no sink reading it, workers hold their results (their outbox is bounded and
 * counts what passes it) instead of filling Redis's memory, and hand them over once a sink reads again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import { encode } from '../src/core/messages.js';
import { defineScripts } from '../src/core/redis.js';
import { ResultOutbox } from '../src/core/result-outbox.js';
import { Cluster, putMonitor, waitFor } from './helpers/cluster.js';
import { Proc } from './helpers/procs.js';
import { freePortRange } from './helpers/redis-server.js';
import { describeLedger, scheduleOf, slotLedger } from './helpers/slot-ledger.js';
import { useZoneFixture } from './helpers/zone-fixture.js';

const fx = useZoneFixture(test, 'results-cap');

const result = (zone: string, i: number) =>
  encode({ v: 1, type: 'result', monitorId: `m-${i}`, zone, status: 'healthy', message: 'ok', latencyMs: 1, due: 1000 + i, checkedAt: 1001 + i });

test('an outbox stops adding once the stream holds its most, keeps the rest, refuses past its capacity, and sends what it kept once there is room', async () => {
  const { redis } = fx;
  defineScripts(redis);
  const stream = keys('cap-unit').results;
  // 1,024 results waiting at most: 64 entries of 16. Batches are 256 results (16 entries), and the batch that finds
  // the stream at its cap has gone with the question: one batch past it.
  const outbox = new ResultOutbox(redis, stream, 3000, pino({ level: 'silent' }), 1024);
  let refused = 0;
  for (let i = 0; i < 4000; i++) if (!outbox.push(result('cap-unit', i))) refused++;
  assert.is(refused, 1000, 'past its capacity of 3,000 the outbox refuses (the worker counts those)');
  await waitFor(async () => (await redis.xlen(stream)) === 80, 3000, 'the stream filled to its cap and one batch');
  await new Promise((r) => setTimeout(r, 1000));
  assert.is(await redis.xlen(stream), 80, 'and no further');
  assert.is(outbox.length, 3000 - 80 * 16, 'the rest is held');

  // A sink records what waits: the outbox hands over the rest, each result once.
  const seen: string[] = [];
  const drain = async () => {
    for (const [, fields] of await redis.xrange(stream, '-', '+')) seen.push(...fields[1]!.split('\n'));
    await redis.del(stream);
  };
  await waitFor(async () => {
    await drain();
    return outbox.length === 0 && (await redis.xlen(stream)) === 0;
  }, 15_000, 'every held result handed over');
  await drain();
  assert.is(seen.length, 3000);
  assert.is(new Set(seen).size, 3000, 'none twice');
  assert.equal(seen, Array.from({ length: 3000 }, (_, i) => result('cap-unit', i)), 'in order');
  outbox.close();
});

test('no sink for a while: the worker holds its results and says why; a sink started later records every slot', async () => {
  const { redis, dir, procs } = fx;
  const zone = 'cap';
  const checks = join(dir, 'checks');
  mkdirSync(join(checks, 'quick'), { recursive: true });
  writeFileSync(join(checks, 'quick', 'index.mjs'), "export const meta = { title: 'quick', fields: { type: 'object' } };\n" +
    'export async function check() { return { status: "healthy", message: "ok" }; }\n');
  const base = await freePortRange(2);
  const cluster = new Cluster({ redisUrl: fx.server.url, zone });
  cluster.ports = { jobsIn: base, workers: base + 1 };
  await cluster.startBroker();
  const worker = new Proc(['worker'], {
    REDIS_URL: fx.server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_CHECKS_PATH: checks, CLOUDROUTES_DATA_DIR: dir,
    CLOUDROUTES_BROKER: `127.0.0.1:${base}`, CLOUDROUTES_BACKLOG_MAX: '64',
  }, dir).start();
  procs.push(worker);
  await worker.waitFor('worker started');
  for (let i = 0; i < 40; i++) await putMonitor(redis, zone, { id: `q-${i}`, ctype: 'quick', interval: 1, data: {} }, 500 + i * 20);
  const first = await scheduleOf(redis, zone);
  await cluster.startControl();
  const k = keys(zone);
  try {
    await worker.waitFor('the results stream is full', 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    const waiting = await redis.xlen(k.results);
    assert.ok(waiting <= 5, `${waiting} entries wait: at most 64 results in entries of 16, and one batch`);

    await cluster.startSink();
    await worker.waitFor('the results stream takes results again', 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    await cluster.control!.stop();
    // Jobs sent ahead before the stop still run, and their results linger in the outbox for up to 50 ms.
    await new Promise((r) => setTimeout(r, 1500));
    await waitFor(async () => (await redis.xlen(k.results)) === 0, 10_000, 'every held result recorded');
    const ledger = await slotLedger(redis, zone, first);
    console.log(`no sink for ~4 s, then one: ${describeLedger(ledger)}`);
    assert.is(ledger.unaccounted, 0, describeLedger(ledger));
    assert.is(ledger.duplicates, 0, describeLedger(ledger));
    assert.is(ledger.recorded, ledger.slots, 'nothing passed the outbox, so every slot has its result');
    assert.ok(ledger.slots >= 40 * 5, describeLedger(ledger));
  } finally {
    await cluster.stop();
    await worker.kill();
  }
});

test.run();
