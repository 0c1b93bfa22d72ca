/**
 * The backlog benchmark: how much Redis memory history entries waiting for the store of record take, and what
 * trimming them at CLOUDROUTES_BACKLOG_MAX costs each recordResult. Starts its own redis-server; writes entries
 * through the sink's own script with representative values (an http check's message, a latency, a uuid monitor id).
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
  .description('Measures the Redis memory of N history entries (INFO memory, extrapolated to 5,000,000) and the time of one recordResult with and without trimming')
  .option('--entries <n>', 'history entries written for the memory measurement', positiveInt('--entries'), 500_000)
  .option('--monitors <n>', 'monitors the entries are spread over', positiveInt('--monitors'), 10_000)
  .option('--calls <n>', 'recordResult calls timed per variant', positiveInt('--calls'), 100_000);

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

/** Calls recordResult `calls` times for `ids`, `depth` at once; returns Redis's own µs per call (INFO commandstats). */
async function record(redis: Redis, ids: string[], calls: number, backlogMax: number, depth = 256): Promise<number> {
  await redis.config('RESETSTAT');
  let i = 0;
  const one = async (): Promise<void> => {
    while (i < calls) {
      const id = ids[i % ids.length]!;
      // Each call a slot of its own (a later due), as a real result is: the same due twice is a duplicate.
      const due = Date.now() * 1000 + i++;
      await recordResults(redis, ZONE, [{ monitorId: id, status: 'healthy', message: 'HTTP 200 OK in 43 ms', latencyMs: 43.2, checkedAt: Date.now(), due }], { cacheOnly: true, backlogMax });
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
    await record(r.client, ids, ids.length, 0);
    await r.client.del(k.history);
    const before = await usedMemory(r.client);
    await record(r.client, ids, o.entries, 0);
    const bytes = ((await usedMemory(r.client)) - before) / o.entries;
    console.log(`memory: ${bytes.toFixed(1)} bytes per history entry (${o.entries} entries over ${o.monitors} monitors); ` +
      `5,000,000 entries: ${((bytes * 5_000_000) / 2 ** 30).toFixed(2)} GiB`);

    await r.client.del(k.history);
    const none = await record(r.client, ids, o.calls, 0);
    await r.client.del(k.history);
    const under = await record(r.client, ids, o.calls, 5_000_000);
    await r.client.del(k.history);
    const at = await record(r.client, ids, o.calls, 10_000);
    const trimmed = await r.client.hget(k.counters, 'bridge.history_trimmed');
    console.log(`recordResult: ${none.toFixed(2)} µs in Redis without a cap, ${under.toFixed(2)} µs under the cap, ${at.toFixed(2)} µs at the cap (trimming; ${trimmed} trimmed)`);
  } finally {
    r.client.disconnect();
    await stopChild(r.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
