/**
 * The backlog benchmark: how much Redis memory results waiting in the history stream for the store of record take,
 * and what trimming them at CLOUDROUTES_BACKLOG_MAX costs each recordResults call. Starts its own redis-server; writes
 * results through the sink's own script, 16 to a call as a busy sink's batches are (so 16 to a history entry), with
 * representative values (an http check's message, a latency, a uuid monitor id).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { recordResults } from '../src/core/record-results.js';
import { stopChild } from './lib/children.js';
import { positiveInt } from './lib/lifecycle.js';
import { startRedis } from './lib/redis.js';

const ZONE = 'bench';
const k = keys(ZONE);

const program = new Command('npm run bench:backlog --')
  .description('Measures the Redis memory of N results waiting in history (INFO memory, extrapolated to 5,000,000) and the time of one recordResults call of 16 with and without trimming')
  .option('--entries <n>', 'results written for the memory measurement', positiveInt('--entries'), 500_000)
  .option('--monitors <n>', 'monitors the results are spread over', positiveInt('--monitors'), 10_000)
  .option('--calls <n>', 'recordResults calls of 16 results timed per variant', positiveInt('--calls'), 20_000);

/** Results per recordResults call: a full history entry. */
const PER_CALL = 16;

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

/** Calls recordResults `calls` times with `perCall` results of `ids`, `depth` at once; returns Redis's own µs per call (INFO commandstats). */
async function record(redis: Redis, ids: string[], calls: number, backlogMax: number, perCall = PER_CALL, depth = 64): Promise<number> {
  await redis.config('RESETSTAT');
  let i = 0;
  const one = async (): Promise<void> => {
    while (i < calls) {
      const batch = Array.from({ length: perCall }, (_, j) => {
        // Each result a slot of its own (a later due), as a real result is: the same due twice is a duplicate.
        const n = i * perCall + j;
        return { monitorId: ids[n % ids.length]!, status: 'healthy', message: 'HTTP 200 OK in 43 ms', latencyMs: 43.2, checkedAt: Date.now(), due: Date.now() * 1000 + n };
      });
      i++;
      await recordResults(redis, ZONE, batch, { cacheOnly: true, backlogMax });
    }
  };
  await Promise.all(Array.from({ length: depth }, one));
  return Number(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(await redis.info('commandstats'))![1]);
}

async function main(): Promise<void> {
  const o = program.parse().opts<{ entries: number; monitors: number; calls: number }>();
  const dir = mkdtempSync(join(tmpdir(), 'cr-bench-backlog-'));
  const r = await startRedis(dir);
  try {
    const ids = Array.from({ length: o.monitors }, () => `m-${randomUUID()}`);
    const p = r.client.pipeline();
    for (const id of ids) p.set(k.monitor(id), JSON.stringify({ id, name: id, ctype: 'http-get-statuscode', interval: 60 }));
    await p.exec();
    // Every monitor's state hash first, so that only the entries count.
    await record(r.client, ids, Math.ceil(ids.length / PER_CALL), 0);
    await r.client.del(k.history);
    const before = await usedMemory(r.client);
    const calls = Math.ceil(o.entries / PER_CALL);
    await record(r.client, ids, calls, 0);
    const bytes = ((await usedMemory(r.client)) - before) / (calls * PER_CALL);
    console.log(`memory: ${bytes.toFixed(1)} bytes per result waiting in history (${calls * PER_CALL} results, ${PER_CALL} an entry, over ${o.monitors} monitors); ` +
      `5,000,000 results: ${((bytes * 5_000_000) / 2 ** 30).toFixed(2)} GiB`);

    await r.client.del(k.history);
    const none = await record(r.client, ids, o.calls, 0);
    await r.client.del(k.history);
    const under = await record(r.client, ids, o.calls, 5_000_000);
    await r.client.del(k.history);
    const at = await record(r.client, ids, o.calls, 10_000);
    const trimmed = await r.client.hget(k.counters, 'bridge.history_trimmed');
    console.log(`recordResults of ${PER_CALL}: ${none.toFixed(2)} µs in Redis without a cap, ${under.toFixed(2)} µs under the cap, ${at.toFixed(2)} µs at the cap (trimming; ${trimmed} results trimmed)`);
  } finally {
    r.client.disconnect();
    await stopChild(r.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
