import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pull } from 'zeromq';
import { startControl } from '../src/control/control.js';
import { keys } from '../src/core/keys.js';
import { MAX_DATA_BYTES } from '../src/core/limits.js';
import { decode } from '../src/core/messages.js';
import { Cluster, putMonitor, waitFor } from './helpers/cluster.js';
import { memoryLog } from './helpers/memory-log.js';
import { freePort, RedisServer } from './helpers/redis-server.js';

const FIXTURE_CHECKS = fileURLToPath(new URL('../../test/fixtures/checks', import.meta.url));
const server = new RedisServer();
const zone = 'control-limits';
const k = keys(zone);
let redis: Redis;
let cluster: Cluster;

test.before(async () => {
  await server.start();
  redis = server.client();
  cluster = await new Cluster({ redisUrl: server.url, zone, checksPath: [FIXTURE_CHECKS] }).start();
});
test.after(async () => {
  await cluster.stop();
  redis.disconnect();
  await server.stop();
});

test('a monitor config in Redis with a time limit out of the limits still gives a job the worker takes, with a time limit inside them', async () => {
  // Written into Redis as no entry point would: the control must not pass these on as the job's own limit.
  const odd = { 'm-neg': -1, 'm-frac': 1.5, 'm-huge': 1e308, 'm-text': '5s', 'm-zero': 0 };
  for (const [id, timeoutMs] of Object.entries(odd)) await putMonitor(redis, zone, { id, ctype: 'free-form', interval: 2, data: { timeoutMs } });
  await putMonitor(redis, zone, { id: 'm-short', ctype: 'free-form', interval: 1, data: { timeoutMs: 600_000 } });
  for (const id of Object.keys(odd)) {
    const s = await waitFor(async () => {
      const state = await redis.hgetall(k.state(id));
      return state.status ? state : undefined;
    }, 5000, `${id} checked`);
    assert.is(s.status, 'healthy', `${id}: ${JSON.stringify(s)}`);
    assert.is(s.message, 'checked with a time limit of 2000 ms', `${id}: the default 10 s, cut to the 2 s interval`);
  }
  const short = await waitFor(async () => (await redis.hgetall(k.state('m-short'))).message, 5000, 'm-short checked');
  assert.is(short, 'checked with a time limit of 1000 ms', 'never longer than the interval');
  assert.equal([...cluster.worker!.counters.totals.keys()].filter((c) => c.startsWith('bad_messages')), [], 'the worker refused no job');
});

test('a monitor config in Redis whose data is over the limit is refused by the control, counted each round and logged once', async () => {
  const bigZone = 'control-limits-big';
  const port = await freePort();
  const broker = new Pull({ receiveTimeout: 5000 });
  await broker.bind(`tcp://127.0.0.1:${port}`);
  const log = memoryLog();
  const conn = server.client();
  const control = await startControl({ redis: conn, zone: bigZone, brokers: [`tcp://127.0.0.1:${port}`], logger: log.logger });
  try {
    // Written into Redis as no entry point would (the API and the bridge refuse such data): one byte over the limit.
    const blob = 'x'.repeat(MAX_DATA_BYTES - JSON.stringify({ blob: '' }).length + 1);
    await putMonitor(redis, bigZone, { id: 'm-big', ctype: 'free-form', interval: 1, data: { blob } });
    await putMonitor(redis, bigZone, { id: 'm-fits', ctype: 'free-form', interval: 1, data: { blob: blob.slice(1) } });
    const sent: string[] = [];
    while (sent.length < 3) {
      for (const raw of await broker.receive()) sent.push(decode(raw, ['job']).monitorId);
    }
    assert.equal([...new Set(sent)], ['m-fits'], 'the monitor one byte within the limit is sent; the one over it never');
    await waitFor(() => control.counters.get('bad_configs') >= 3, 5000, 'the big monitor refused in three rounds');
    const lines = log.lines.filter((l) => l.monitorId === 'm-big');
    assert.is(lines.length, 1, 'one line a minute for the monitor');
    assert.is(lines[0]!.field, 'data');
    assert.match(String(lines[0]!.err), `job field "data" must be at most ${MAX_DATA_BYTES} bytes of JSON`);
  } finally {
    await control.stop();
    conn.disconnect();
    broker.close();
  }
});


test('with no broker to take jobs, a full job queue is counted for every job and logged once per 5 s, not once per job', async () => {
  const fullZone = 'control-limits-full';
  const fk = keys(fullZone);
  const port = await freePort(); // nobody listens: every job stays in the control's queue
  const log = memoryLog();
  const conn = server.client();
  const n = 52_000;
  for (let from = 0; from < n; from += 2000) {
    const p = redis.pipeline();
    for (let i = from; i < from + 2000; i++) {
      const m = { id: `m-${i}`, name: `m-${i}`, ctype: 'free-form', interval: 60, data: {}, reactions: [], createdAt: 0, updatedAt: 0 };
      p.applyMonitor(fk.monitor(m.id), fk.intervals, fk.monitors, fk.schedule, fk.state(m.id), m.id, JSON.stringify(m), 60_000, Date.now(), 0);
    }
    await p.exec();
  }
  const control = await startControl({ redis: conn, zone: fullZone, brokers: [`tcp://127.0.0.1:${port}`], logger: log.logger });
  try {
    await waitFor(() => control.counters.get('jobs_dropped_queue_full') >= 1000, 20_000, 'jobs past the queue of 50,000 counted');
    const lines = log.lines.filter((l) => /job queue to the broker is full/.test(String(l.msg)));
    assert.is(lines.length, 1, `one line for ${control.counters.get('jobs_dropped_queue_full')} jobs`);
    assert.match(String(lines[0]!.msg), 'control.jobs_dropped_queue_full');
  } finally {
    await control.stop();
    conn.disconnect();
  }
});

test.run();
