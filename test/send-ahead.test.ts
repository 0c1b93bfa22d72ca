/**
 * Jobs sent ahead of their due: the worker holds each and starts it on time (on its start grid, within half a tick of
 * its due), and holds none longer than a second whatever due a job says.
 */
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from 'zeromq';
import { startWorker } from '../src/worker/worker.js';
import { MAX_HOLD_MS } from '../src/core/limits.js';
import { MAX_TICK_MS } from '../src/worker/start-grid.js';
import { resultTap, silent, waitFor } from './helpers/cluster.js';
import { freePort, useRedis } from './helpers/redis-server.js';

const fx = useRedis(test);
const CONCURRENCY = 16;

test('a job sent ahead starts at its due, not when it arrives; one that says it is due in an hour starts within a second', async () => {
  const jobsPort = await freePort();
  const broker = new Router();
  await broker.bind(`tcp://127.0.0.1:${jobsPort}`);
  const accepted = new Map<number, number>();
  const target = createServer((s) => {
    accepted.set(s.remotePort!, Date.now());
    s.destroy();
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as { port: number }).port;
  const tap = resultTap(fx.redis, 'ahead');
  const worker = await startWorker({ jobs: `tcp://127.0.0.1:${jobsPort}`, redis: fx.redis, zone: 'ahead', logger: silent, concurrency: CONCURRENCY });
  const credits: number[] = [];
  let workerId: Buffer | undefined;
  const reading = (async () => {
    for await (const [id, msg] of broker) {
      workerId = id;
      credits.push((JSON.parse(msg!.toString()) as { free: number }).free);
    }
  })().catch(() => undefined);
  try {
    await waitFor(() => workerId, 3000, 'the worker to say it is there');

    const sentAt = Date.now();
    const job = (id: string, due: number) =>
      JSON.stringify({ v: 1, type: 'job', monitorId: id, name: id, ctype: 'tcp-check', data: { host: '127.0.0.1', port }, timeoutMs: 2000, zone: 'ahead', due, sent: sentAt, interval: 60 });
    const dues = [300, 320, 340, 400].map((d) => sentAt + d);
    for (const [i, due] of dues.entries()) await broker.send([workerId!, job(`m-${i}`, due)]);
    await broker.send([workerId!, job('forged', sentAt + 3600_000)]);

    const results = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 5; i++) {
      const r = await tap.next(3000);
      results.set(r.monitorId as string, r);
    }
    const starts = [...accepted.values()].sort((a, b) => a - b);
    console.log(`sent ahead by 300-400 ms: the target saw the checks ${starts.map((t) => t - sentAt).join(', ')} ms after they were sent (dues ${dues.map((d) => d - sentAt).join(', ')})`);
    for (const [i, due] of dues.entries()) {
      const r = results.get(`m-${i}`)!;
      assert.is(r.status, 'healthy');
      assert.is(r.due, due, 'the result is for the slot the job was for');
      assert.ok(Math.abs(starts[i]! - due) <= MAX_TICK_MS / 2 + 25, `m-${i} started ${starts[i]! - due} ms from its due`);
    }
    assert.ok(starts[4]! - sentAt <= MAX_HOLD_MS + 100, `the forged job was held ${starts[4]! - sentAt} ms`);
    assert.is(results.get('forged')!.due, sentAt + 3600_000);
    await waitFor(() => credits.at(-1) === CONCURRENCY, 2000, 'every slot free again');
  } finally {
    await worker.stop();
    broker.close();
    target.close();
    await reading;
  }
});

test.run();
